"""Object Lock over HTTP: the bucket configuration, retention and legal holds on versions,
and which deletes S3 refuses because of them (codes and wording as S3 answers)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

UTC = dt.timezone.utc
PROTECTED = "Access Denied because object protected by object lock."


def server_now(cloud: Any) -> dt.datetime:
    """The cloudlet clock (other tests move it forward), to the second."""
    now = dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00"))
    return now.replace(microsecond=0)


def lock_bucket(s3: Any, **default: Any) -> str:
    name = f"lock-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    if default:
        s3.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": default}}
        )
    return name


def error(excinfo: Any) -> tuple[int, str, str]:
    resp = excinfo.value.response
    return resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"], resp["Error"]["Message"]


# the bucket's configuration ---------------------------------------------------------------------


def test_a_lock_bucket_is_versioned_and_reports_its_configuration(s3: Any) -> None:
    b = lock_bucket(s3)
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}})
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    assert error(exc)[:2] == (409, "InvalidBucketState")


def test_a_bucket_without_lock_has_no_configuration(s3: Any) -> None:
    b = f"plain-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=b)
    with pytest.raises(ClientError) as exc:
        s3.get_object_lock_configuration(Bucket=b)
    assert error(exc) == (404, "ObjectLockConfigurationNotFoundError",
                          "Object Lock configuration does not exist for this bucket")
    assert exc.value.response["Error"]["BucketName"] == b


def test_lock_on_an_existing_bucket_needs_versioning_enabled(s3: Any) -> None:
    b = f"later-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=b)
    config = {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=config)
    assert error(exc) == (409, "InvalidBucketState",
                          "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    with pytest.raises(ClientError):
        s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=config)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=config)  # allowed since 2023
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == config
    s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert s3.head_object(Bucket=b, Key="k")["ObjectLockLegalHoldStatus"] == "ON"


@pytest.mark.parametrize("config", [
    {},
    {"Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Days": 1}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "governance", "Days": 1}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1, "Years": 1}}},
])
def test_malformed_configurations(s3: Any, config: dict[str, Any]) -> None:
    b = lock_bucket(s3)
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=config)
    assert error(exc)[:2] == (400, "MalformedXML")


@pytest.mark.parametrize("period, message", [
    ({"Days": 0}, "Default retention period must be a positive integer value."),
    ({"Years": -1}, "Default retention period must be a positive integer value."),
    ({"Days": 36501}, "Default retention period too large."),
    ({"Years": 101}, "Default retention period too large."),
])
def test_retention_period_range(s3: Any, period: dict[str, int], message: str) -> None:
    b = lock_bucket(s3)
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", **period}}})
    assert error(exc) == (400, "InvalidArgument", message)
    assert exc.value.response["Error"]["ArgumentName"] == next(iter(period))


def test_default_retention_applies_to_new_versions_only(cloud: Any, s3: Any) -> None:
    b = lock_bucket(s3)
    before = s3.put_object(Bucket=b, Key="k", Body=b"old")["VersionId"]
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}})
    now = server_now(cloud)
    after = s3.put_object(Bucket=b, Key="k", Body=b"new")["VersionId"]
    head = s3.head_object(Bucket=b, Key="k", VersionId=after)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert abs(head["ObjectLockRetainUntilDate"] - (now + dt.timedelta(days=365))) < dt.timedelta(minutes=2)
    assert "ObjectLockMode" not in s3.head_object(Bucket=b, Key="k", VersionId=before)
    s3.delete_object(Bucket=b, Key="k", VersionId=before)  # unprotected: goes
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=b, Key="k", VersionId=after, BypassGovernanceRetention=True)
    assert error(exc) == (403, "AccessDenied", PROTECTED)


# headers on PutObject -----------------------------------------------------------------------------


def test_put_with_lock_headers_and_copy_without_them(cloud: Any, s3: Any) -> None:
    b = lock_bucket(s3)
    until = server_now(cloud) + dt.timedelta(days=2)
    vid = s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until,
                        ObjectLockLegalHoldStatus="OFF")["VersionId"]
    head = s3.head_object(Bucket=b, Key="k")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"], head["ObjectLockLegalHoldStatus"]) == (
        "GOVERNANCE", until, "OFF")
    assert s3.get_object_retention(Bucket=b, Key="k", VersionId=vid)["Retention"] == {
        "Mode": "GOVERNANCE", "RetainUntilDate": until}
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k"})
    copied = s3.head_object(Bucket=b, Key="copy")
    assert "ObjectLockMode" not in copied and "ObjectLockLegalHoldStatus" not in copied


@pytest.mark.parametrize("headers, message, argument", [
    ({"ObjectLockMode": "GOVERNANCE"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
     "x-amz-object-lock-retain-until-date"),
    ({"ObjectLockRetainUntilDate": "future"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied", "x-amz-object-lock-mode"),
    ({"ObjectLockMode": "FOREVER", "ObjectLockRetainUntilDate": "future"}, "Unknown wormMode directive.",
     "x-amz-object-lock-mode"),
    ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": "past"},
     "The retain until date must be in the future!", "x-amz-object-lock-retain-until-date"),
])
def test_bad_lock_headers(cloud: Any, s3: Any, headers: dict[str, str], message: str, argument: str) -> None:
    b = lock_bucket(s3)
    now = server_now(cloud)
    dates = {"future": now + dt.timedelta(days=1), "past": now - dt.timedelta(days=1)}
    params = {k: dates.get(v, v) for k, v in headers.items()}
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=b, Key="k", Body=b"x", **params)
    assert error(exc) == (400, "InvalidArgument", message)
    assert exc.value.response["Error"]["ArgumentName"] == argument


def test_lock_headers_need_a_lock_bucket(cloud: Any, s3: Any) -> None:
    b = f"plain-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=b)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert error(exc) == (400, "InvalidRequest", "Bucket is missing Object Lock Configuration")


def test_put_with_lock_needs_content_md5_or_a_checksum(cloud: Any, s3: Any) -> None:
    bare = cloud.client("s3", request_checksum_calculation="when_required")  # sends neither
    b = lock_bucket(s3)
    with pytest.raises(ClientError) as exc:
        bare.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert error(exc) == (
        400, "InvalidRequest",
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
    bare.put_object(Bucket=b, Key="plain", Body=b"x")  # no lock applies: no need
    bare.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON", ContentMD5="ndTkYSaMgDT1yFZOFVxnpg==")
    s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")  # boto3's default CRC32 counts
    defaulted = lock_bucket(s3, Mode="GOVERNANCE", Days=1)
    with pytest.raises(ClientError) as exc:  # the bucket's default retention is a lock parameter too
        bare.put_object(Bucket=defaulted, Key="k", Body=b"x")
    assert error(exc)[:2] == (400, "InvalidRequest")


# retention ------------------------------------------------------------------------------------------


def test_governance_retention_extends_freely_and_weakens_only_with_bypass(cloud: Any, s3: Any) -> None:
    b = lock_bucket(s3)
    now = server_now(cloud)
    vid = s3.put_object(Bucket=b, Key="k", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.get_object_retention(Bucket=b, Key="k")
    assert error(exc) == (404, "NoSuchObjectLockConfiguration",
                          "The specified object does not have a ObjectLock configuration")
    for days in (2, 5):
        s3.put_object_retention(Bucket=b, Key="k",
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + dt.timedelta(days=days)})
    weaker = [
        {"Mode": "GOVERNANCE", "RetainUntilDate": now + dt.timedelta(days=1)},  # shorter
        {"Mode": "COMPLIANCE", "RetainUntilDate": now + dt.timedelta(days=9)},  # another mode
        {},  # removed
    ]
    for retention in weaker:
        with pytest.raises(ClientError) as exc:
            s3.put_object_retention(Bucket=b, Key="k", Retention=retention)
        assert error(exc) == (403, "AccessDenied", PROTECTED)
    assert s3.get_object_retention(Bucket=b, Key="k")["Retention"]["RetainUntilDate"] == now + dt.timedelta(days=5)
    s3.put_object_retention(Bucket=b, Key="k", VersionId=vid, BypassGovernanceRetention=True,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + dt.timedelta(days=1)})
    assert s3.get_object_retention(Bucket=b, Key="k")["Retention"]["RetainUntilDate"] == now + dt.timedelta(days=1)
    s3.put_object_retention(Bucket=b, Key="k", Retention={}, BypassGovernanceRetention=True)
    s3.delete_object(Bucket=b, Key="k", VersionId=vid)  # unprotected now, no bypass needed


def test_compliance_retention_only_extends(cloud: Any, s3: Any) -> None:
    b = lock_bucket(s3)
    now = server_now(cloud)
    s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=now + dt.timedelta(days=2))
    for retention in ({"Mode": "COMPLIANCE", "RetainUntilDate": now + dt.timedelta(days=1)},
                      {"Mode": "GOVERNANCE", "RetainUntilDate": now + dt.timedelta(days=9)}, {}):
        with pytest.raises(ClientError) as exc:
            s3.put_object_retention(Bucket=b, Key="k", Retention=retention, BypassGovernanceRetention=True)
        assert error(exc) == (403, "AccessDenied", PROTECTED)
    s3.put_object_retention(Bucket=b, Key="k",
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": now + dt.timedelta(days=3)})
    assert s3.get_object_retention(Bucket=b, Key="k")["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": now + dt.timedelta(days=3)}


def test_retention_request_faults(cloud: Any, s3: Any) -> None:
    b = lock_bucket(s3)
    now = server_now(cloud)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=b, Key="k", Retention={"Mode": "GOVERNANCE"})
    assert error(exc)[:2] == (400, "MalformedXML")
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=b, Key="k", Retention={"Mode": "GOVERNANCE",
                                                              "RetainUntilDate": now - dt.timedelta(days=1)})
    assert error(exc) == (400, "InvalidArgument", "The retain until date must be in the future!")
    assert exc.value.response["Error"]["ArgumentName"] == "RetainUntilDate"
    marker = s3.delete_object(Bucket=b, Key="k")["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=b, Key="k", VersionId=marker,
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + dt.timedelta(days=1)})
    assert error(exc)[:2] == (405, "MethodNotAllowed")
    assert exc.value.response["Error"]["ResourceType"] == "DeleteMarker"


def test_lock_operations_need_a_lock_bucket(cloud: Any, s3: Any) -> None:
    b = f"plain-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    until = server_now(cloud) + dt.timedelta(days=1)
    calls = [
        lambda: s3.put_object_retention(Bucket=b, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until}),
        lambda: s3.get_object_retention(Bucket=b, Key="k"),
        lambda: s3.put_object_legal_hold(Bucket=b, Key="k", LegalHold={"Status": "ON"}),
        lambda: s3.get_object_legal_hold(Bucket=b, Key="k"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == (400, "InvalidRequest", "Bucket is missing Object Lock Configuration")


def test_retention_lapses_on_the_clock(cloud: Any, s3: Any) -> None:
    b = lock_bucket(s3)
    until = server_now(cloud) + dt.timedelta(hours=1)
    vid = s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)[
        "VersionId"]
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=b, Key="k", VersionId=vid)
    cloud.advance(3601)
    assert s3.get_object_retention(Bucket=b, Key="k")["Retention"]["Mode"] == "COMPLIANCE"  # kept, but spent
    s3.delete_object(Bucket=b, Key="k", VersionId=vid)
    assert "Versions" not in s3.list_object_versions(Bucket=b)


# legal holds -------------------------------------------------------------------------------------------


def test_legal_hold_blocks_deletes_even_with_bypass_until_released(s3: Any) -> None:
    b = lock_bucket(s3)
    vid = s3.put_object(Bucket=b, Key="k", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.get_object_legal_hold(Bucket=b, Key="k")
    assert error(exc)[:2] == (404, "NoSuchObjectLockConfiguration")
    s3.put_object_legal_hold(Bucket=b, Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=b, Key="k", VersionId=vid)["LegalHold"] == {"Status": "ON"}
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=b, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    assert error(exc) == (403, "AccessDenied", PROTECTED)
    marker = s3.delete_object(Bucket=b, Key="k")  # a delete marker on top is allowed
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=b, Key="k", VersionId=marker["VersionId"])  # markers are never protected
    s3.put_object_legal_hold(Bucket=b, Key="k", VersionId=vid, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=b, Key="k")["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=b, Key="k", VersionId=vid)


# deletes ----------------------------------------------------------------------------------------------


def test_delete_objects_reports_protected_versions_per_key(cloud: Any, s3: Any) -> None:
    b = lock_bucket(s3)
    until = server_now(cloud) + dt.timedelta(days=1)
    gov = s3.put_object(Bucket=b, Key="gov", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    comp = s3.put_object(Bucket=b, Key="comp", Body=b"x", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    free = s3.put_object(Bucket=b, Key="free", Body=b"x")
    objects = [{"Key": "gov", "VersionId": gov["VersionId"]}, {"Key": "comp", "VersionId": comp["VersionId"]},
               {"Key": "free", "VersionId": free["VersionId"]}, {"Key": "gov"}]
    out = s3.delete_objects(Bucket=b, Delete={"Objects": objects})
    assert sorted((e["Key"], e["Code"], e["Message"]) for e in out["Errors"]) == [
        ("comp", "AccessDenied", PROTECTED), ("gov", "AccessDenied", PROTECTED)]
    deleted = {(d["Key"], d.get("VersionId"), d.get("DeleteMarker", False)) for d in out["Deleted"]}
    assert deleted == {("free", free["VersionId"], False), ("gov", None, True)}
    out = s3.delete_objects(Bucket=b, BypassGovernanceRetention=True, Delete={"Objects": objects[:2]})
    assert [(d["Key"], d["VersionId"]) for d in out["Deleted"]] == [("gov", gov["VersionId"])]
    assert [e["Key"] for e in out["Errors"]] == ["comp"]


def test_bypass_header_is_refused_without_object_lock(s3: Any) -> None:
    b = f"plain-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    for call in (lambda: s3.delete_object(Bucket=b, Key="k", BypassGovernanceRetention=False),
                 lambda: s3.delete_objects(Bucket=b, BypassGovernanceRetention=True,
                                           Delete={"Objects": [{"Key": "k"}]})):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == (400, "InvalidArgument",
                              "x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.")
    s3.head_object(Bucket=b, Key="k")  # nothing was deleted
