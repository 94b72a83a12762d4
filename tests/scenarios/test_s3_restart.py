"""S3 state survives the server: a restart on the same data directory serves everything
it served before, and a kill -9 right after acknowledged writes loses none of them.

One server fills a data directory with every kind of thing S3 keeps (bodies inline, in
files and streamed; versions, null versions and delete markers; SSE-C; checksums; bucket
configurations; multipart uploads in progress), answers questions about it, and stops; a
second server on that directory must answer them the same way. Bucket configurations
that a handler does not implement yet are set with `landed()`: a NotImplemented answer
makes that test xfail (and only that answer; any other error fails it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloud import Cloud
from tests.s3util import payload

KiB, MiB = 2**10, 2**20
SSE_C_KEY = hashlib.sha256(b"restart customer key").digest()
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSE_C_KEY}


def bucket_name(tag: str) -> str:
    return f"restart-{tag}-{uuid.uuid4().hex[:10]}"


OBJECTS = {  # key -> body, in the plain bucket
    "inline/small.txt": b"small and inline",
    "inline/empty": b"",
    "file/medium.bin": payload(100 * KiB, seed=1),  # past the 64 KiB inline limit: a file
    "stream/large.bin": payload(9 * MiB, seed=2),  # past the 8 MiB spool limit: streamed to disk
    "caf\u00e9/\u65e5\u672c/../key with spaces": b"odd key",
}


@dataclass
class Before:
    """What the first server said, to hold the second to."""

    plain: str = ""
    versioned: str = ""
    suspended: str = ""
    locked: str = ""
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    buckets: dict[str, Any] = field(default_factory=dict)
    configs: dict[str, Any] = field(default_factory=dict)  # name -> what Get said, or the ClientError of Put
    world: dict[str, str] = field(default_factory=dict)
    upload: dict[str, Any] = field(default_factory=dict)


HEAD_FIELDS = ("ContentLength", "ContentType", "ETag", "LastModified", "Metadata", "CacheControl", "ContentDisposition",
               "ServerSideEncryption", "VersionId", "StorageClass", "TagCount")


def head_view(resp: dict[str, Any]) -> dict[str, Any]:
    return {k: resp[k] for k in HEAD_FIELDS if k in resp}


def versions_view(s3: Any, bucket: str) -> list[tuple[Any, ...]]:
    resp = s3.list_object_versions(Bucket=bucket)
    vs = [("v", v["Key"], v["VersionId"], v["IsLatest"], v["ETag"], v["Size"], v["LastModified"]) for v in resp.get("Versions", [])]
    dms = [("dm", m["Key"], m["VersionId"], m["IsLatest"], m["LastModified"]) for m in resp.get("DeleteMarkers", [])]
    return sorted(vs + dms, key=lambda t: (t[1], t[2]))


# bucket configurations: name -> (put(s3, world), get(s3, world) -> what to compare); the
# world names the buckets (w["cfg"] holds most) and the queue notifications go to
def _policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


LIFECYCLE = {"Rules": [
    {"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
     "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 365}},
    {"ID": "old-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 7}},
]}
CORS = {"CORSRules": [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://example.com"],
                       "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]}
WEBSITE = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
TAGS = {"TagSet": [{"Key": "team", "Value": "data"}, {"Key": "cost-centre", "Value": "42"}]}
PAB = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
LOCK = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}


def _strip(resp: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def _config(op: str, member: str, value: Any, bucket: str = "cfg") -> tuple[Callable[..., Any], Callable[..., Any]]:
    """put_<op>(<member>=value) and get_<op>() on the world's `bucket`; a callable value is
    given the world."""
    def put(s3: Any, w: dict[str, str]) -> Any:
        return getattr(s3, "put_" + op)(Bucket=w[bucket], **{member: value(w) if callable(value) else value})

    def get(s3: Any, w: dict[str, str]) -> Any:
        return _strip(getattr(s3, "get_" + op)(Bucket=w[bucket]))

    return put, get


CONFIGS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "versioning": _config("bucket_versioning", "VersioningConfiguration", {"Status": "Enabled"}),
    "tagging": _config("bucket_tagging", "Tagging", TAGS),
    "policy": (
        lambda s3, w: s3.put_bucket_policy(Bucket=w["cfg"], Policy=_policy(w["cfg"])),
        lambda s3, w: json.loads(s3.get_bucket_policy(Bucket=w["cfg"])["Policy"]),
    ),
    "lifecycle": _config("bucket_lifecycle_configuration", "LifecycleConfiguration", LIFECYCLE),
    "cors": _config("bucket_cors", "CORSConfiguration", CORS),
    "website": _config("bucket_website", "WebsiteConfiguration", WEBSITE),
    "encryption": _config("bucket_encryption", "ServerSideEncryptionConfiguration", ENCRYPTION),
    "public-access-block": _config("public_access_block", "PublicAccessBlockConfiguration", PAB),
    "notification": _config("bucket_notification_configuration", "NotificationConfiguration", lambda w: {
        "QueueConfigurations": [{"Id": "new-uploads", "QueueArn": w["queue_arn"], "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}]}),
    "ownership": _config("bucket_ownership_controls", "OwnershipControls",
                         {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}),
    "object-lock": _config("object_lock_configuration", "ObjectLockConfiguration", LOCK, bucket="locked"),
    "replication": _config("bucket_replication", "ReplicationConfiguration", lambda w: {
        "Role": "arn:aws:iam::000000000000:role/replication",
        "Rules": [{"ID": "to-dr", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "dr/"},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{w['replica']}", "StorageClass": "STANDARD_IA"}}]},
        bucket="versioned"),
}


# what the first server's Get must have said (the stored configuration, not a default)
EXPECTED: dict[str, Callable[[Any, dict[str, str]], bool]] = {
    "versioning": lambda got, w: got.get("Status") == "Enabled",
    "tagging": lambda got, w: sorted(got["TagSet"], key=str) == sorted(TAGS["TagSet"], key=str),
    "policy": lambda got, w: got == json.loads(_policy(w["cfg"])),
    "lifecycle": lambda got, w: [r["ID"] for r in got["Rules"]] == ["archive-logs", "old-versions"]
    and got["Rules"][0]["Transitions"] == LIFECYCLE["Rules"][0]["Transitions"],
    "cors": lambda got, w: got == CORS,
    "website": lambda got, w: got == WEBSITE,
    "encryption": lambda got, w: got["ServerSideEncryptionConfiguration"] == ENCRYPTION,
    "public-access-block": lambda got, w: got["PublicAccessBlockConfiguration"] == PAB,
    "notification": lambda got, w: [(q["Id"], q["QueueArn"], q["Events"]) for q in got["QueueConfigurations"]]
    == [("new-uploads", w["queue_arn"], ["s3:ObjectCreated:*"])],
    "ownership": lambda got, w: got["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}],
    "object-lock": lambda got, w: got["ObjectLockConfiguration"] == LOCK,
    "replication": lambda got, w: [r["ID"] for r in got["ReplicationConfiguration"]["Rules"]] == ["to-dr"],
}


def populate(cloud: Cloud, before: Before) -> None:
    s3 = cloud.client("s3")
    suffix = uuid.uuid4().hex[:10]
    before.plain, before.versioned = f"restart-plain-{suffix}", f"restart-ver-{suffix}"
    before.suspended, before.locked = f"restart-susp-{suffix}", f"restart-lock-{suffix}"
    cfg_bucket, replica = f"restart-cfg-{suffix}", f"restart-replica-{suffix}"
    for b in (before.plain, before.versioned, before.suspended, cfg_bucket, replica):
        s3.create_bucket(Bucket=b)
    s3.create_bucket(Bucket=before.locked, ObjectLockEnabledForBucket=True)

    p = before.plain
    for key, body in OBJECTS.items():
        s3.put_object(Bucket=p, Key=key, Body=body, Metadata={"k": str(len(body))},
                      ContentType="application/x-test", CacheControl="no-cache", Tagging="tier=hot&owner=ops")
    s3.put_object(Bucket=p, Key="sse-c/secret.bin", Body=payload(80 * KiB, seed=3), **SSE_C)
    s3.put_object(Bucket=p, Key="checksummed", Body=b"sum me", ChecksumAlgorithm="SHA256")

    # versions: a null version from before versioning, two real ones, a delete marker, and
    # a key whose newest version is a marker over an older one
    v = before.versioned
    s3.put_object(Bucket=v, Key="doc", Body=b"null version")
    s3.put_bucket_versioning(Bucket=v, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=v, Key="doc", Body=b"version 1")
    s3.put_object(Bucket=v, Key="doc", Body=payload(70 * KiB, seed=4))
    s3.put_object(Bucket=v, Key="gone", Body=b"before the marker")
    s3.delete_object(Bucket=v, Key="gone")
    s3.put_object(Bucket=v, Key="back", Body=b"undeleted")
    marker = s3.delete_object(Bucket=v, Key="back")["VersionId"]
    s3.delete_object(Bucket=v, Key="back", VersionId=marker)
    s3.put_bucket_versioning(Bucket=replica, VersioningConfiguration={"Status": "Enabled"})

    su = before.suspended
    s3.put_bucket_versioning(Bucket=su, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=su, Key="k", Body=b"kept version")
    s3.put_bucket_versioning(Bucket=su, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=su, Key="k", Body=b"null after suspend")

    for b in (before.plain, before.versioned, before.suspended):
        for o in s3.list_objects_v2(Bucket=b).get("Contents", []):
            extra = SSE_C if o["Key"].startswith("sse-c/") else {}
            before.heads[f"{b}/{o['Key']}"] = head_view(s3.head_object(Bucket=b, Key=o["Key"], **extra))
        before.versions[b] = versions_view(s3, b)
    before.buckets = {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]}

    # configurations, each on its own terms
    sqs = cloud.client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName=f"restart-{suffix}")["QueueUrl"],
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    before.world = {"cfg": cfg_bucket, "queue_arn": queue_arn, "locked": before.locked, "versioned": before.versioned,
                    "replica": replica}
    for cfg, (put, get) in CONFIGS.items():
        try:
            put(s3, before.world)
            before.configs[cfg] = get(s3, before.world)
        except ClientError as e:
            before.configs[cfg] = e

    # a multipart upload in progress: two parts sent, not completed
    try:
        up = s3.create_multipart_upload(Bucket=p, Key="mpu/in-progress.bin", ContentType="video/mp4", Metadata={"m": "1"})
        parts = [payload(5 * MiB, seed=5), payload(5 * MiB, seed=6)]  # all but the last part: 5 MiB at least
        etags = [s3.upload_part(Bucket=p, Key="mpu/in-progress.bin", UploadId=up["UploadId"], PartNumber=i + 1,
                                Body=body)["ETag"] for i, body in enumerate(parts)]
        before.upload = {"id": up["UploadId"], "parts": parts, "etags": etags}
    except ClientError as e:
        before.upload = {"error": e}


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Before]]:
    data_dir = str(tmp_path_factory.mktemp("s3-restart"))
    before = Before()
    first = Cloud("--data-dir", data_dir)
    try:
        populate(first, before)
    finally:
        first.stop()
    second = Cloud("--data-dir", data_dir)
    yield second, before
    second.stop()


def landed(outcome: Any, feature: str) -> Any:
    """What the first server answered, or xfail when the operation was not implemented."""
    if isinstance(outcome, ClientError):
        if outcome.response["Error"]["Code"] == "NotImplemented":
            pytest.xfail(f"{feature} not landed yet")
        raise outcome
    return outcome


def test_every_object_reads_back(restarted: tuple[Cloud, Before]) -> None:
    cloud, before = restarted
    s3 = cloud.client("s3")
    p = before.plain
    for key, body in OBJECTS.items():
        got = s3.get_object(Bucket=p, Key=key)
        assert got["Body"].read() == body, key
        assert got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    big = OBJECTS["stream/large.bin"]
    part = s3.get_object(Bucket=p, Key="stream/large.bin", Range=f"bytes={5 * MiB - 10}-{5 * MiB + 9}")
    assert part["Body"].read() == big[5 * MiB - 10:5 * MiB + 10]
    assert s3.get_object(Bucket=p, Key="sse-c/secret.bin", **SSE_C)["Body"].read() == payload(80 * KiB, seed=3)
    assert refused_status(lambda: s3.get_object(Bucket=p, Key="sse-c/secret.bin")) == 400
    head = s3.head_object(Bucket=p, Key="checksummed", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"sum me").digest()).decode()

    for path, want in before.heads.items():
        b, key = path.split("/", 1)
        extra = SSE_C if key.startswith("sse-c/") else {}
        assert head_view(s3.head_object(Bucket=b, Key=key, **extra)) == want, path
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=p)["Contents"] if not o["Key"].startswith("mpu/")]
    assert listed == sorted(list(OBJECTS) + ["sse-c/secret.bin", "checksummed"], key=lambda k: k.encode())
    assert {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]} == before.buckets


def refused_status(call: Callable[[], Any]) -> int:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_every_version_and_delete_marker(restarted: tuple[Cloud, Before]) -> None:
    cloud, before = restarted
    s3 = cloud.client("s3")
    for b in (before.plain, before.versioned, before.suspended):
        assert versions_view(s3, b) == before.versions[b], b
    v = before.versioned
    assert s3.get_bucket_versioning(Bucket=v)["Status"] == "Enabled"
    assert s3.get_bucket_versioning(Bucket=before.suspended)["Status"] == "Suspended"
    assert "Status" not in s3.get_bucket_versioning(Bucket=before.plain)

    bodies = {}
    for entry in before.versions[v]:
        if entry[0] == "v":
            bodies[(entry[1], entry[2])] = s3.get_object(Bucket=v, Key=entry[1], VersionId=entry[2])["Body"].read()
    assert bodies[("doc", "null")] == b"null version"
    assert sorted(bodies.values()) == sorted([b"null version", b"version 1", payload(70 * KiB, seed=4),
                                              b"before the marker", b"undeleted"])
    assert s3.get_object(Bucket=v, Key="doc")["Body"].read() == payload(70 * KiB, seed=4)
    assert s3.get_object(Bucket=v, Key="back")["Body"].read() == b"undeleted"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=v, Key="gone")
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert s3.get_object(Bucket=before.suspended, Key="k")["Body"].read() == b"null after suspend"
    # and the version sequence goes on where it stopped: a new version is the newest
    new = s3.put_object(Bucket=v, Key="doc", Body=b"after restart")["VersionId"]
    top = s3.list_object_versions(Bucket=v, Prefix="doc")["Versions"][0]
    assert (top["VersionId"], top["IsLatest"]) == (new, True)
    assert len(s3.list_object_versions(Bucket=v, Prefix="doc")["Versions"]) == 4


def test_object_tags(restarted: tuple[Cloud, Before]) -> None:
    cloud, before = restarted
    s3 = cloud.client("s3")
    assert before.heads[f"{before.plain}/inline/small.txt"]["TagCount"] == 2
    try:
        tags = s3.get_object_tagging(Bucket=before.plain, Key="file/medium.bin")["TagSet"]
    except ClientError as e:
        landed(e, "GetObjectTagging")
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("owner", "ops"), ("tier", "hot")]


@pytest.mark.parametrize("cfg", list(CONFIGS))
def test_bucket_configuration(restarted: tuple[Cloud, Before], cfg: str) -> None:
    cloud, before = restarted
    s3 = cloud.client("s3")
    want = landed(before.configs[cfg], f"bucket {cfg} configuration")
    assert EXPECTED[cfg](want, before.world), want
    _, get = CONFIGS[cfg]
    assert get(s3, before.world) == want


def test_multipart_upload_in_progress(restarted: tuple[Cloud, Before]) -> None:
    cloud, before = restarted
    s3 = cloud.client("s3")
    if "error" in before.upload:
        landed(before.upload["error"], "multipart upload")
    p, key, uid = before.plain, "mpu/in-progress.bin", before.upload["id"]
    uploads = s3.list_multipart_uploads(Bucket=p).get("Uploads", [])
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [(key, uid)]
    parts = s3.list_parts(Bucket=p, Key=key, UploadId=uid)["Parts"]
    assert [(q["PartNumber"], q["ETag"], q["Size"]) for q in parts] == [
        (i + 1, etag, len(body)) for i, (etag, body) in enumerate(zip(before.upload["etags"], before.upload["parts"]))
    ]
    third = payload(1000, seed=7)
    etag3 = s3.upload_part(Bucket=p, Key=key, UploadId=uid, PartNumber=3, Body=third)["ETag"]
    etags = [*before.upload["etags"], etag3]
    s3.complete_multipart_upload(Bucket=p, Key=key, UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    got = s3.get_object(Bucket=p, Key=key)
    data = b"".join(before.upload["parts"]) + third
    assert got["ContentType"] == "video/mp4" and got["Metadata"] == {"m": "1"}
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(data).digest()
    md5s = b"".join(hashlib.md5(x).digest() for x in [*before.upload["parts"], third])
    assert got["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'


# --- kill -9 ---------------------------------------------------------------------------------


def test_kill_9_right_after_acknowledged_puts_loses_none(tmp_path: Any) -> None:
    data_dir = str(tmp_path / "data")
    cloud = Cloud("--data-dir", data_dir)
    acked: dict[tuple[str, str], bytes] = {}
    versions: dict[str, list[tuple[str, bytes]]] = {}
    try:
        s3 = cloud.client("s3")
        plain, ver = bucket_name("kill"), bucket_name("killv")
        s3.create_bucket(Bucket=plain)
        s3.create_bucket(Bucket=ver)
        s3.put_bucket_versioning(Bucket=ver, VersioningConfiguration={"Status": "Enabled"})
        sizes = [0, 10, 1000, 64 * KiB, 64 * KiB + 1, 300 * KiB, 9 * MiB]
        for i in range(40):
            body = payload(sizes[i % len(sizes)] if i < len(sizes) else 100 + i, seed=100 + i)
            s3.put_object(Bucket=plain, Key=f"obj/{i:02d}", Body=body)
            acked[(plain, f"obj/{i:02d}")] = body
        for i in range(6):  # overwrites: every version acknowledged stays
            body = payload(50 * KiB * (i % 2) + 7 + i, seed=200 + i)
            vid = s3.put_object(Bucket=ver, Key="log", Body=body)["VersionId"]
            versions.setdefault("log", []).append((vid, body))
        s3.copy_object(Bucket=plain, Key="copied", CopySource={"Bucket": plain, "Key": "obj/05"})
        acked[(plain, "copied")] = acked[(plain, "obj/05")]
        s3.delete_object(Bucket=plain, Key="obj/01")
        del acked[(plain, "obj/01")]
        marker = s3.delete_object(Bucket=ver, Key="log")["VersionId"]
        last = payload(2 * MiB, seed=300)
        s3.put_object(Bucket=plain, Key="last-word", Body=last)  # the kill follows this answer at once
        acked[(plain, "last-word")] = last
    finally:
        cloud.kill()

    again = Cloud("--data-dir", data_dir)
    try:
        s3 = again.client("s3")
        for (b, key), body in acked.items():
            got = s3.get_object(Bucket=b, Key=key)["Body"].read()
            assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest(), key
        assert refused_status(lambda: s3.head_object(Bucket=plain, Key="obj/01")) == 404
        listed = {o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=plain) for o in p.get("Contents", [])}
        assert listed == {k for (_, k) in acked}
        vs = s3.list_object_versions(Bucket=ver)
        assert [v["VersionId"] for v in vs["Versions"]] == [vid for vid, _ in reversed(versions["log"])]
        assert [(m["VersionId"], m["IsLatest"]) for m in vs["DeleteMarkers"]] == [(marker, True)]
        for vid, body in versions["log"]:
            assert s3.get_object(Bucket=ver, Key="log", VersionId=vid)["Body"].read() == body
        # no leftovers from the kill get in the way of new writes
        s3.put_object(Bucket=plain, Key="after", Body=b"fine")
        assert s3.get_object(Bucket=plain, Key="after")["Body"].read() == b"fine"
    finally:
        again.stop()
