"""S3 Lifecycle carried out: the configuration API over HTTP, and what the daily run does to
objects when the clock moves (expiry, delete markers, noncurrent versions, transitions,
incomplete multipart uploads), also across a restart.

The server's clock is shared with every other test and only moves forward, so each test has
its own buckets and reckons from the clock as it finds it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import uuid
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from tests.cloud import Cloud

DAY = 86_400.0
KIB = 1024


def now(cloud: Cloud) -> float:
    return dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00")).timestamp()


def midnight(t: float) -> dt.datetime:
    """00:00 UTC of the day `t` falls in."""
    return dt.datetime.fromtimestamp(t - t % DAY, dt.timezone.utc)


_made: list[tuple[Any, str]] = []


@pytest.fixture(autouse=True)
def _stop_rules() -> Iterator[None]:
    """Later clock jumps in the session need not keep running a finished test's rules."""
    yield
    while _made:
        s3, name = _made.pop()
        try:
            s3.delete_bucket_lifecycle(Bucket=name)
        except Exception:  # a server already stopped (the restart test)
            pass


def bucket(s3: Any, versioning: str | None = None) -> str:
    name = f"lc-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    _made.append((s3, name))
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    return name


def rules(s3: Any, name: str, *rule_list: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": list(rule_list)},
                                                 **extra)


def rule(rule_id: str, **members: Any) -> dict[str, Any]:
    return {"ID": rule_id, "Status": "Enabled", "Filter": members.pop("Filter", {}), **members}


def exists(s3: Any, name: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=name, Key=key)
        return True
    except ClientError as err:
        assert err.response["Error"]["Code"] == "404", err.response
        return False


def versions(s3: Any, name: str, key: str) -> list[tuple[str, str, bool]]:
    """(kind, version id, is latest): the latest first, then each list in S3's order."""
    out = s3.list_object_versions(Bucket=name, Prefix=key)
    found = [("dm", d["VersionId"], d["IsLatest"]) for d in out.get("DeleteMarkers", [])]
    found += [("v", v["VersionId"], v["IsLatest"]) for v in out.get("Versions", [])]
    return sorted(found, key=lambda f: not f[2])


def expiry_of(header: str) -> tuple[float, str]:
    m = re.fullmatch(r'expiry-date="([^"]+)", rule-id="([^"]*)"', header)
    assert m, header
    return email.utils.parsedate_to_datetime(m.group(1)).timestamp(), m.group(2)


# -- the configuration ---------------------------------------------------------------------


def test_put_get_delete_configuration(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=name)
    assert err.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err.value.response["Error"]["Message"] == "The lifecycle configuration does not exist"

    when = dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc)
    put = rules(s3, name, {"Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 7}},
                rule("dated", Expiration={"Date": when}, Filter={"Prefix": "tmp/"}))
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=name)
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    first, second = got["Rules"]
    assert len(first["ID"]) == 48 and first["Expiration"] == {"Days": 7} and first["Filter"] == {"Prefix": "logs/"}
    assert second == {"ID": "dated", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Date": when}}

    put = rules(s3, name, rule("r", Expiration={"Days": 1}), TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket=name)
    assert [r["ID"] for r in got["Rules"]] == ["r"]
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"

    assert s3.delete_bucket_lifecycle(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=name)
    assert err.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    assert s3.delete_bucket_lifecycle(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bad_configurations_get_s3s_errors(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    cases = [
        ([rule("r", Expiration={"Days": 0})], "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
        ([rule("r", Expiration={"Days": 1}), rule("r", Expiration={"Days": 2})], "InvalidArgument",
         "Rule ID must be unique. Found same ID for more than one rule"),
        ([rule("r")], "InvalidRequest", "At least one action needs to be specified in a rule"),
    ]
    for rule_list, code, message in cases:
        with pytest.raises(ClientError) as err:
            rules(s3, name, *rule_list)
        assert (err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]) == (code, message)
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        rules(s3, name, rule("r", Expiration={"Days": 1}), TransitionDefaultMinimumObjectSize="tiny")
    assert err.value.response["Error"]["Code"] == "InvalidRequest"
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=name)  # nothing was stored
    assert err.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    with pytest.raises(ClientError) as err:
        rules(s3, f"lc-missing-{uuid.uuid4().hex[:12]}", rule("r", Expiration={"Days": 1}))
    assert err.value.response["Error"]["Code"] == "NoSuchBucket"


# -- expiration ------------------------------------------------------------------------------


def test_a_30_day_rule_expires_after_31_days_not_29(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    rules(s3, name, rule("month", Expiration={"Days": 30}, Filter={"Prefix": "logs/"}))
    put = s3.put_object(Bucket=name, Key="logs/a", Body=b"x")
    s3.put_object(Bucket=name, Key="keep/a", Body=b"x")
    mtime = now(cloud)
    at, rule_id = expiry_of(put["Expiration"])
    assert rule_id == "month"
    assert at % DAY == 0 and mtime + 30 * DAY - 5 < at <= mtime + 31 * DAY
    assert expiry_of(s3.head_object(Bucket=name, Key="logs/a")["Expiration"]) == (at, "month")
    assert expiry_of(s3.get_object(Bucket=name, Key="logs/a")["Expiration"]) == (at, "month")
    assert "Expiration" not in s3.head_object(Bucket=name, Key="keep/a")
    copied = s3.copy_object(Bucket=name, Key="logs/copy", CopySource={"Bucket": name, "Key": "keep/a"})
    assert expiry_of(copied["Expiration"])[1] == "month"

    cloud.advance(days=29)
    assert exists(s3, name, "logs/a")
    cloud.advance(days=2)
    assert not exists(s3, name, "logs/a") and not exists(s3, name, "logs/copy")
    assert exists(s3, name, "keep/a")
    assert s3.list_object_versions(Bucket=name).get("DeleteMarkers") is None  # unversioned: gone for good


def test_a_date_in_the_past_expires_at_the_next_run(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    s3.put_object(Bucket=name, Key="old", Body=b"x")
    today = midnight(now(cloud))
    rules(s3, name, rule("past", Expiration={"Date": today}))
    assert expiry_of(s3.head_object(Bucket=name, Key="old")["Expiration"]) == (today.timestamp(), "past")
    cloud.advance(days=1)
    assert not exists(s3, name, "old")


def test_filters_by_prefix_tags_and_size(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    rules(
        s3, name,
        rule("tagged-logs", Expiration={"Days": 1},
             Filter={"And": {"Prefix": "logs/", "Tags": [{"Key": "tier", "Value": "tmp"}]}}),
        rule("big", Expiration={"Days": 1}, Filter={"ObjectSizeGreaterThan": 100}),
    )
    s3.put_object(Bucket=name, Key="logs/tagged", Body=b"x", Tagging="tier=tmp&other=1")
    s3.put_object(Bucket=name, Key="logs/wrong-value", Body=b"x", Tagging="tier=keep")
    s3.put_object(Bucket=name, Key="logs/untagged", Body=b"x")
    s3.put_object(Bucket=name, Key="other/tagged", Body=b"x", Tagging="tier=tmp")
    s3.put_object(Bucket=name, Key="big", Body=b"x" * 101)
    s3.put_object(Bucket=name, Key="exactly-100", Body=b"x" * 100)
    cloud.advance(days=2)
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", []))
    assert left == ["exactly-100", "logs/untagged", "logs/wrong-value", "other/tagged"]


def test_disabled_rules_do_nothing(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    rules(s3, name, {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}})
    assert "Expiration" not in s3.put_object(Bucket=name, Key="k", Body=b"x")
    cloud.advance(days=3)
    assert exists(s3, name, "k")


# -- versioned buckets ---------------------------------------------------------------------


def _marker_rules() -> list[dict[str, Any]]:
    return [
        rule("expire", Expiration={"Days": 1}, NoncurrentVersionExpiration={"NoncurrentDays": 1}),
        rule("markers", Expiration={"ExpiredObjectDeleteMarker": True}),
    ]


def test_current_expiry_adds_a_marker_then_the_version_and_the_marker_go(cloud: Cloud) -> None:
    """Day by day: a delete marker dated midnight, the noncurrent version a day later, and
    the marker, now alone, at the run after that."""
    s3 = cloud.client("s3")
    name = bucket(s3, "Enabled")
    rules(s3, name, *_marker_rules())
    vid = s3.put_object(Bucket=name, Key="k", Body=b"x")["VersionId"]
    expected_marker_time = midnight(now(cloud) + DAY) + dt.timedelta(days=1)
    assert s3.head_object(Bucket=name, Key="k")["Expiration"]  # current versions say when

    cloud.advance(days=2)
    out = s3.list_object_versions(Bucket=name, Prefix="k")
    [marker] = out["DeleteMarkers"]
    assert marker["IsLatest"] and marker["LastModified"] == expected_marker_time
    assert [v["VersionId"] for v in out["Versions"]] == [vid]
    assert "Expiration" not in s3.head_object(Bucket=name, Key="k", VersionId=vid)  # not for a version by id

    cloud.advance(days=1)
    assert versions(s3, name, "k") == [("dm", marker["VersionId"], True)]
    cloud.advance(days=1)
    assert versions(s3, name, "k") == []


def test_a_jump_replays_each_day_as_daily_runs_would(cloud: Cloud) -> None:
    """The same rules in one 4-day jump: marker, then the version, then the marker."""
    s3 = cloud.client("s3")
    name = bucket(s3, "Enabled")
    rules(s3, name, *_marker_rules())
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    s3.put_object(Bucket=name, Key="k2", Body=b"x")
    cloud.advance(days=4)
    assert versions(s3, name, "k") == []


def test_a_long_jump_takes_each_step_on_its_own_day(cloud: Cloud) -> None:
    """Expiry at 10 days and the noncurrent version 3 days after, in one 15-day jump: the
    marker bears its 10th day's date and the version went 3 days later; the marker itself,
    as old as the rule's 10 days only at day 20, goes in the next jump. Meanwhile another
    key moved to GLACIER at 2 days."""
    s3 = cloud.client("s3")
    name = bucket(s3, "Enabled")
    rules(s3, name,
          rule("life", Expiration={"Days": 10}, NoncurrentVersionExpiration={"NoncurrentDays": 3},
               Filter={"Prefix": "k"}),
          rule("cold", Transitions=[{"Days": 2, "StorageClass": "GLACIER"}], Filter={"Prefix": "cold/"}))
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    s3.put_object(Bucket=name, Key="cold/k", Body=b"x" * (128 * KIB))
    created = now(cloud)
    cloud.advance(days=15)
    out = s3.list_object_versions(Bucket=name, Prefix="k")
    assert "Versions" not in out
    [marker] = out["DeleteMarkers"]
    assert marker["LastModified"] == midnight(created + 10 * DAY) + dt.timedelta(days=1)
    assert s3.head_object(Bucket=name, Key="cold/k")["StorageClass"] == "GLACIER"
    cloud.advance(days=10)
    assert versions(s3, name, "k") == []


def test_noncurrent_versions_beyond_the_newest_kept_expire(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3, "Enabled")
    rules(s3, name, rule("trim", NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}))
    vids = [s3.put_object(Bucket=name, Key="k", Body=str(i).encode())["VersionId"] for i in range(4)]
    assert "Expiration" not in s3.head_object(Bucket=name, Key="k")  # no rule expires the current one
    cloud.advance(days=2)
    assert versions(s3, name, "k") == [("v", vids[3], True), ("v", vids[2], False)]


def test_suspended_versioning_expiry_puts_a_null_marker_over_the_null_version(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3, "Enabled")
    kept = s3.put_object(Bucket=name, Key="k", Body=b"old")["VersionId"]
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=name, Key="k", Body=b"new")
    rules(s3, name, rule("expire", Expiration={"Days": 1}))
    cloud.advance(days=2)
    assert versions(s3, name, "k") == [("dm", "null", True), ("v", kept, False)]


# -- transitions -----------------------------------------------------------------------------


def test_transition_to_glacier_makes_the_object_unreadable(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    rules(s3, name, rule("cold", Transitions=[{"Days": 1, "StorageClass": "GLACIER"}]))
    s3.put_object(Bucket=name, Key="big", Body=b"x" * (128 * KIB))
    s3.put_object(Bucket=name, Key="small", Body=b"x" * (128 * KIB - 1))  # S3 leaves these by default
    cloud.advance(days=2)
    assert s3.head_object(Bucket=name, Key="big")["StorageClass"] == "GLACIER"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=name, Key="big")
    assert err.value.response["Error"]["Code"] == "InvalidObjectState"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    classes = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert classes == {"big": "GLACIER", "small": "STANDARD"}
    assert s3.get_object(Bucket=name, Key="small")["Body"].read() == b"x" * (128 * KIB - 1)


def test_small_objects_go_to_glacier_when_the_bucket_allows(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    rules(s3, name, rule("cold", Transitions=[{"Days": 1, "StorageClass": "GLACIER"}]),
          TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    s3.put_object(Bucket=name, Key="small", Body=b"x")
    cloud.advance(days=2)
    assert s3.head_object(Bucket=name, Key="small")["StorageClass"] == "GLACIER"


# -- incomplete multipart uploads ------------------------------------------------------------


def test_incomplete_multipart_uploads_are_aborted(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    name = bucket(s3)
    rules(s3, name, rule("abort", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2},
                         Filter={"Prefix": "up/"}))
    created = s3.create_multipart_upload(Bucket=name, Key="up/a")
    doomed = created["UploadId"]
    assert created["AbortRuleId"] == "abort" and created["AbortDate"].timestamp() % DAY == 0
    s3.upload_part(Bucket=name, Key="up/a", UploadId=doomed, PartNumber=1, Body=b"part")
    other = s3.create_multipart_upload(Bucket=name, Key="other/a")
    kept = other["UploadId"]
    assert "AbortRuleId" not in other
    cloud.advance(days=1)
    assert {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=name).get("Uploads", [])} == {doomed, kept}
    cloud.advance(days=2)
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=name).get("Uploads", [])] == [kept]
    with pytest.raises(ClientError) as err:
        s3.list_parts(Bucket=name, Key="up/a", UploadId=doomed)
    assert err.value.response["Error"]["Code"] == "NoSuchUpload"


# -- notifications ---------------------------------------------------------------------------


def test_lifecycle_events_reach_a_queue(cloud: Cloud) -> None:
    s3, sqs = cloud.client("s3"), cloud.client("sqs")
    name = bucket(s3, "Enabled")
    url = sqs.create_queue(QueueName=f"lc-{uuid.uuid4().hex[:12]}",
                           Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:LifecycleExpiration:*", "s3:LifecycleTransition"]}]})
    except ClientError as err:
        if err.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("PutBucketNotificationConfiguration is not there yet")
        raise
    rules(s3, name, rule("life", Transitions=[{"Days": 1, "StorageClass": "GLACIER"}], Expiration={"Days": 3}))
    s3.put_object(Bucket=name, Key="k", Body=b"x" * (128 * KIB))
    cloud.advance(days=5)
    names: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        for m in got:
            for rec in json.loads(m["Body"]).get("Records", []):
                names.append(rec["eventName"])
                assert rec["userIdentity"]["principalId"] == "s3.amazonaws.com"
    assert sorted(names) == ["LifecycleExpiration:DeleteMarkerCreated", "LifecycleTransition"]


# -- durability ------------------------------------------------------------------------------


def test_the_rule_keeps_running_after_a_restart(tmp_path: Any) -> None:
    c = Cloud("--data-dir", str(tmp_path))
    try:
        s3 = c.client("s3")
        name = bucket(s3)
        rules(s3, name, rule("day", Expiration={"Days": 1}))
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    finally:
        c.stop()
    c = Cloud("--data-dir", str(tmp_path))
    try:
        s3 = c.client("s3")
        assert exists(s3, name, "k")
        c.advance(days=2)
        assert not exists(s3, name, "k")
    finally:
        c.stop()
