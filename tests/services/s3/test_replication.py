"""S3 replication over HTTP with boto3: configurations checked as S3 checks them, and new
versions copied to their destinations by the scheduler (``cloud.advance(0)`` returns once
every due job has run, so nothing sleeps); one in-process test sees PENDING before the
copy runs. Every bucket name is unique: the server is shared by the whole session."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid

import pytest
from botocore.exceptions import ClientError

from cloudlet.services.s3 import replication, storage
from tests.s3util import in_process

ROLE = "arn:aws:iam::000000000000:role/replication"
OTHER = "111111111111"  # a 12-digit access key is that account's root


def _name() -> str:
    return f"repl-{uuid.uuid4().hex[:16]}"


def _bucket(client, region: str = "us-east-1", versioned: bool = True, **extra) -> str:
    name = _name()
    if region != "us-east-1":
        extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(Bucket=name, **extra)
    if versioned:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def _rule(dest: str, priority: int = 1, prefix: str = "", dm: str = "Disabled", flt: dict | None = None,
          **destination) -> dict:
    return {
        "ID": f"to-{dest}-{priority}", "Priority": priority, "Status": "Enabled",
        "Filter": flt if flt is not None else {"Prefix": prefix},
        "DeleteMarkerReplication": {"Status": dm},
        "Destination": {"Bucket": f"arn:aws:s3:::{dest}", **destination},
    }


def _configure(client, source: str, *rules: dict) -> None:
    client.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": list(rules)})


def _error(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def _versions(client, bucket: str, key: str) -> list[str]:
    out = client.list_object_versions(Bucket=bucket, Prefix=key)
    return [v["VersionId"] for v in out.get("Versions", []) if v["Key"] == key]


# copies -----------------------------------------------------------------------------------
def test_a_new_version_appears_in_the_destination_with_its_id_metadata_and_tags(cloud, s3):
    src, dst = _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(dst))
    put = s3.put_object(Bucket=src, Key="docs/a.txt", Body=b"replicate me", ContentType="text/plain",
                        CacheControl="max-age=60", Metadata={"team": "blue"}, Tagging="env=prod&tier=1",
                        ChecksumAlgorithm="SHA256")
    cloud.advance(0)
    source = s3.head_object(Bucket=src, Key="docs/a.txt", ChecksumMode="ENABLED")
    assert source["ReplicationStatus"] == "COMPLETED"
    copy = s3.get_object(Bucket=dst, Key="docs/a.txt", VersionId=put["VersionId"], ChecksumMode="ENABLED")
    assert copy["Body"].read() == b"replicate me"
    assert copy["ReplicationStatus"] == "REPLICA"
    assert copy["VersionId"] == put["VersionId"]
    for field in ("ETag", "LastModified", "ContentType", "CacheControl", "Metadata", "ChecksumSHA256"):
        assert copy[field] == source[field], field
    assert copy["TagCount"] == 2


def test_cross_region_copies_land_in_the_destination_region(cloud, s3):
    eu = cloud.client("s3", region="eu-west-1")
    src, dst = _bucket(s3), _bucket(eu, region="eu-west-1")
    _configure(s3, src, _rule(dst))
    vid = s3.put_object(Bucket=src, Key="k", Body=b"across the sea")["VersionId"]
    cloud.advance(0)
    assert eu.head_bucket(Bucket=dst)["BucketRegion"] == "eu-west-1"
    got = eu.get_object(Bucket=dst, Key="k")
    assert got["Body"].read() == b"across the sea" and got["VersionId"] == vid
    assert s3.head_object(Bucket=src, Key="k")["ReplicationStatus"] == "COMPLETED"


def test_prefix_tag_and_and_filters_choose_what_replicates(cloud, s3):
    src, logs, prod, both = _bucket(s3), _bucket(s3), _bucket(s3), _bucket(s3)
    _configure(
        s3, src,
        _rule(logs, priority=1, prefix="logs/"),
        _rule(prod, priority=2, flt={"Tag": {"Key": "env", "Value": "prod"}}),
        _rule(both, priority=3, flt={"And": {"Prefix": "docs/", "Tags": [{"Key": "keep", "Value": "yes"}]}}),
    )
    s3.put_object(Bucket=src, Key="logs/1", Body=b"l")
    s3.put_object(Bucket=src, Key="x", Body=b"p", Tagging="env=prod")
    s3.put_object(Bucket=src, Key="docs/kept", Body=b"d", Tagging="keep=yes")
    s3.put_object(Bucket=src, Key="docs/not", Body=b"d")
    s3.put_object(Bucket=src, Key="other", Body=b"o", Tagging="env=dev")
    cloud.advance(0)
    assert [k["Key"] for k in s3.list_objects_v2(Bucket=logs)["Contents"]] == ["logs/1"]
    assert [k["Key"] for k in s3.list_objects_v2(Bucket=prod)["Contents"]] == ["x"]
    assert [k["Key"] for k in s3.list_objects_v2(Bucket=both)["Contents"]] == ["docs/kept"]
    # an object no rule selects is not eligible: S3 sends no replication status for it
    assert "ReplicationStatus" not in s3.head_object(Bucket=src, Key="other")
    assert "ReplicationStatus" not in s3.head_object(Bucket=src, Key="docs/not")


def test_the_rule_of_highest_priority_decides_the_storage_class_of_the_replica(cloud, s3):
    src, dst = _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(dst, priority=1, StorageClass="STANDARD_IA"),
               _rule(dst, priority=5, prefix="hot/", StorageClass="ONEZONE_IA"))
    s3.put_object(Bucket=src, Key="hot/a", Body=b"h")
    s3.put_object(Bucket=src, Key="cold/a", Body=b"c")
    cloud.advance(0)
    assert s3.head_object(Bucket=dst, Key="hot/a")["StorageClass"] == "ONEZONE_IA"
    assert s3.head_object(Bucket=dst, Key="cold/a")["StorageClass"] == "STANDARD_IA"
    assert "StorageClass" not in s3.head_object(Bucket=src, Key="hot/a")  # the source keeps STANDARD


def test_delete_markers_replicate_only_when_the_rule_says_so(cloud, s3):
    src, on, off = _bucket(s3), _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(on, priority=1, dm="Enabled"), _rule(off, priority=2))
    s3.put_object(Bucket=src, Key="k", Body=b"v1")
    cloud.advance(0)
    marker = s3.delete_object(Bucket=src, Key="k")["VersionId"]
    cloud.advance(0)
    dms = s3.list_object_versions(Bucket=on, Prefix="k").get("DeleteMarkers", [])
    assert [d["VersionId"] for d in dms] == [marker] and dms[0]["IsLatest"]
    assert _error(s3.get_object, Bucket=on, Key="k")[0] == "NoSuchKey"
    assert s3.get_object(Bucket=off, Key="k")["Body"].read() == b"v1"
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=off, Prefix="k")


def test_deleting_a_version_by_id_never_replicates(cloud, s3):
    src, dst = _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(dst, dm="Enabled"))
    vid = s3.put_object(Bucket=src, Key="k", Body=b"keep")["VersionId"]
    cloud.advance(0)
    s3.delete_object(Bucket=src, Key="k", VersionId=vid)
    cloud.advance(0)
    assert _versions(s3, dst, "k") == [vid]
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=dst, Prefix="k")


def test_v1_rules_replicate_delete_markers(cloud, s3):
    src, dst = _bucket(s3), _bucket(s3)
    s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": [
        {"Prefix": "", "Status": "Enabled", "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}}]})
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    s3.delete_object(Bucket=src, Key="k")
    cloud.advance(0)
    assert len(s3.list_object_versions(Bucket=dst, Prefix="k").get("DeleteMarkers", [])) == 1
    rule = s3.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]["Rules"][0]
    assert rule["ID"] and rule["Prefix"] == "" and "Filter" not in rule  # S3 names a rule sent without an ID


def test_cross_account_replicas_belong_to_the_destination_only_with_the_owner_override(cloud, s3):
    other = cloud.client("s3", key=OTHER)
    mine, theirs = s3.list_buckets()["Owner"]["ID"], other.list_buckets()["Owner"]["ID"]
    src = _bucket(s3)
    override, plain = (_bucket(other, ObjectOwnership="ObjectWriter") for _ in range(2))
    enforced = _bucket(other)  # BucketOwnerEnforced (the default): the bucket owner owns every object
    _configure(s3, src,
               _rule(override, priority=1, Account=OTHER, AccessControlTranslation={"Owner": "Destination"}),
               _rule(plain, priority=2, Account=OTHER),
               _rule(enforced, priority=3, Account=OTHER))
    vid = s3.put_object(Bucket=src, Key="k", Body=b"shared")["VersionId"]
    cloud.advance(0)
    owners = {}
    for bucket in (override, plain, enforced):
        versions = other.list_object_versions(Bucket=bucket)["Versions"]
        assert [v["VersionId"] for v in versions] == [vid]
        owners[bucket] = versions[0]["Owner"]["ID"]
        assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"shared"
    assert owners == {override: theirs, plain: mine, enforced: theirs}
    assert mine != theirs


def test_a_12_mib_multipart_object_replicates_intact(cloud, s3):
    src, dst = _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(dst))
    parts = [os.urandom(6 * 1024 * 1024), os.urandom(6 * 1024 * 1024)]
    upload = s3.create_multipart_upload(Bucket=src, Key="big")["UploadId"]
    etags = [s3.upload_part(Bucket=src, Key="big", UploadId=upload, PartNumber=n, Body=body)["ETag"]
             for n, body in enumerate(parts, 1)]
    done = s3.complete_multipart_upload(Bucket=src, Key="big", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    cloud.advance(0)
    got = s3.get_object(Bucket=dst, Key="big")
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(b"".join(parts)).digest()
    assert got["ETag"] == done["ETag"] and got["ETag"].endswith('-2"')
    assert s3.head_object(Bucket=dst, Key="big", PartNumber=2)["ContentLength"] == len(parts[1])
    assert s3.head_object(Bucket=src, Key="big")["ReplicationStatus"] == "COMPLETED"


def test_an_sse_c_object_opens_in_the_destination_with_the_same_customer_key(cloud, s3):
    src, dst = _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(dst))
    key = os.urandom(32)
    s3.put_object(Bucket=src, Key="secret", Body=b"only with the key", SSECustomerAlgorithm="AES256",
                  SSECustomerKey=key)
    cloud.advance(0)
    got = s3.get_object(Bucket=dst, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == b"only with the key"
    assert _error(s3.get_object, Bucket=dst, Key="secret")[0] == "InvalidRequest"


def test_object_lock_retention_travels_with_the_replica(cloud, s3):
    src, locked = (_bucket(s3, ObjectLockEnabledForBucket=True) for _ in range(2))
    unlocked = _bucket(s3)
    _configure(s3, src, _rule(locked, priority=1), _rule(unlocked, priority=2))
    now = dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00"))
    until = now.replace(microsecond=0) + dt.timedelta(days=400)  # the server's clock may be far ahead
    s3.put_object(Bucket=src, Key="k", Body=b"kept", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    cloud.advance(0)
    copy = s3.head_object(Bucket=locked, Key="k")
    assert (copy["ObjectLockMode"], copy["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", until)
    # a protected version needs Object Lock on the destination too
    assert "Contents" not in s3.list_objects_v2(Bucket=unlocked)
    assert s3.head_object(Bucket=src, Key="k")["ReplicationStatus"] == "FAILED"


def test_a_replica_is_not_replicated_again(cloud, s3):
    a, b, c = _bucket(s3), _bucket(s3), _bucket(s3)
    _configure(s3, a, _rule(b))
    _configure(s3, b, _rule(c))
    s3.put_object(Bucket=a, Key="from-a", Body=b"1")
    s3.put_object(Bucket=b, Key="from-b", Body=b"2")
    cloud.advance(0)
    assert s3.head_object(Bucket=b, Key="from-a")["ReplicationStatus"] == "REPLICA"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=c)["Contents"]] == ["from-b"]


def test_a_destination_that_cannot_take_the_copy_fails_the_source(cloud, s3):
    src, ok, suspended = _bucket(s3), _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(ok, priority=1), _rule(suspended, priority=2))
    s3.put_bucket_versioning(Bucket=suspended, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    cloud.advance(0)
    # COMPLETED only when every destination has it; the other destination still got its copy
    assert s3.head_object(Bucket=src, Key="k")["ReplicationStatus"] == "FAILED"
    assert s3.get_object(Bucket=ok, Key="k")["Body"].read() == b"x"
    assert "Contents" not in s3.list_objects_v2(Bucket=suspended)

    gone_src, gone = _bucket(s3), _bucket(s3)
    _configure(s3, gone_src, _rule(gone))
    s3.delete_bucket(Bucket=gone)
    s3.put_object(Bucket=gone_src, Key="k", Body=b"x")
    cloud.advance(0)
    assert s3.head_object(Bucket=gone_src, Key="k")["ReplicationStatus"] == "FAILED"


def test_replication_is_pending_until_the_copy_has_run():
    """In process, with no scheduler thread: the write leaves its job queued."""
    ctx = in_process(account="123456789012", access_key="AKID", request_id="r-1")
    client = ctx.aws("s3")
    for bucket in ("src", "dst"):
        client.create_bucket(Bucket=bucket)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _configure(client, "src", _rule("dst"))
    vid = client.put_object(Bucket="src", Key="k", Body=b"x")["VersionId"]
    assert client.head_object(Bucket="src", Key="k")["ReplicationStatus"] == "PENDING"
    with storage.tx(ctx) as t:
        jobs = [r.value["payload"] for r in t.scan("_cloudlet.job") if r.key.startswith(replication.JOB + "/")]
    assert [(j["vid"], [x["bucket"] for x in j["targets"]]) for j in jobs] == [(vid, ["dst"])]


# configuration ----------------------------------------------------------------------------
def test_the_configuration_reads_back_and_deletes(s3):
    src, dst = _bucket(s3), _bucket(s3)
    assert _error(s3.get_bucket_replication, Bucket=src) == (
        "ReplicationConfigurationNotFoundError", "The replication configuration was not found")
    rule = _rule(dst, StorageClass="GLACIER_IR", Metrics={"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                 ReplicationTime={"Status": "Enabled", "Time": {"Minutes": 15}})
    rule["ExistingObjectReplication"] = {"Status": "Disabled"}
    _configure(s3, src, rule)
    got = s3.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
    assert got == {"Role": ROLE, "Rules": [rule]}
    assert s3.delete_bucket_replication(Bucket=src)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _error(s3.get_bucket_replication, Bucket=src)[0] == "ReplicationConfigurationNotFoundError"


def test_versioning_is_required_on_both_sides_and_the_destination_must_exist(s3):
    unversioned, src, dst = _bucket(s3, versioned=False), _bucket(s3), _bucket(s3, versioned=False)
    with pytest.raises(ClientError) as exc:
        _configure(s3, unversioned, _rule(src))
    err = exc.value.response["Error"]
    assert (err["Code"], err["Message"], err["BucketName"]) == (
        "InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
        unversioned)
    cases = {
        dst: "Destination bucket must have versioning enabled.",
        _name(): "Destination bucket must exist.",
        src: "Destination bucket cannot be the same as the source bucket.",
    }
    for dest, message in cases.items():
        with pytest.raises(ClientError) as exc:
            _configure(s3, src, _rule(dest))
        err = exc.value.response["Error"]
        assert (err["Code"], err["Message"]) == ("InvalidRequest", message)


def test_schema_rules_are_enforced(s3):
    src, dst = _bucket(s3), _bucket(s3)
    no_marker = _rule(dst)
    del no_marker["DeleteMarkerReplication"]
    v1_with_priority = {"Prefix": "", "Priority": 1, "Status": "Enabled",
                        "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}}
    schema = (" for this version of Cross Region Replication configuration schema. "
              "Please refer to S3 Developer Guide for more information.")
    cases = [
        ([no_marker], "DeleteMarkerReplication must be specified" + schema),
        ([v1_with_priority], "Priority cannot be used" + schema),
        ([_rule(dst, dm="Enabled", flt={"Tag": {"Key": "a", "Value": "b"}})],
         "Delete marker replication is not supported if any Tag filter is specified."),
        ([_rule(dst, priority=1), {**_rule(dst, priority=1, prefix="x"), "ID": "other"}], None),
        ([{**_rule(dst), "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}}}],
         "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present."),
    ]
    for rules, message in cases:
        with pytest.raises(ClientError) as exc:
            _configure(s3, src, *rules)
        assert exc.value.response["Error"]["Code"] == "InvalidRequest", exc.value.response["Error"]
        if message is not None:
            assert exc.value.response["Error"]["Message"] == message
    assert _error(s3.get_bucket_replication, Bucket=src)[0] == "ReplicationConfigurationNotFoundError"


def test_a_source_with_replication_cannot_suspend_versioning(s3):
    src, dst = _bucket(s3), _bucket(s3)
    _configure(s3, src, _rule(dst))
    code, _ = _error(s3.put_bucket_versioning, Bucket=src, VersioningConfiguration={"Status": "Suspended"})
    assert code == "InvalidRequest"


# the rule logic, directly -------------------------------------------------------------------
def test_plan_picks_one_rule_per_destination_and_skips_what_s3_does_not_replicate():
    cfg = {"Rules": [
        _rule("a", priority=1, StorageClass="STANDARD_IA"),
        _rule("a", priority=2, prefix="p/", StorageClass="GLACIER"),
        {**_rule("b", priority=3, prefix="p/"), "Status": "Disabled"},
        _rule("c", priority=4, dm="Enabled"),
    ]}
    v = {"key": "p/x", "tags": {}, "sc": "STANDARD", "sse": {"alg": "AES256"}}
    assert [(t["bucket"], t["sc"]) for t in replication.plan(cfg, v)] == [("a", "GLACIER"), ("c", None)]
    assert replication.plan(cfg, {**v, "repl": "REPLICA"}) == []
    assert replication.plan(cfg, {**v, "sc": "DEEP_ARCHIVE"}) == []
    assert replication.plan(cfg, {**v, "sse": {"alg": "aws:kms", "kms": "k"}}) == []
    assert [t["bucket"] for t in replication.plan(cfg, {**v, "dm": True})] == ["c"]
