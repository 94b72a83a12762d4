"""Amazon S3: buckets and objects on disk, bodies streamed in flat memory (5 GiB PUTs and
GETs, ranges, multipart uploads whose parts are never copied) and sealed at rest with
AES-256-GCM (SSE-S3 by default, SSE-C, bucket default encryption; SSE-KMS once KMS
lands); MD5 and multipart ETags, the flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1,
SHA256) verified and returned; conditional reads and writes; versioning with delete
markers and the null version; presigned URLs and browser form POSTs with policies, both
expiring on the cloudlet clock; lifecycle rules (expiration, noncurrent versions, delete
markers, transitions, aborting uploads) and restores from GLACIER/DEEP_ARCHIVE run on the
cloudlet clock; replication (same/cross region and account, delete markers, status);
Object Lock (governance, compliance, legal holds); event notifications to SQS, SNS,
Lambda and EventBridge as ``s3.amazonaws.com``; bucket policies (stored and validated),
ACLs and ownership controls, public access blocks, CORS with preflights, static website
hosting on ``<bucket>.s3-website.localhost``, tagging and the stored configurations.

Module map (DESIGN.md has the why): handlers in ``MODULES``; ``storage`` (the record
layout: one global namespace), ``payload`` (bodies in and out), ``crypto`` and
``encryption`` (sealing and which key), ``writes``/``reads`` (what writes and reads
share), ``scan`` (ordered key walks), ``conditions``, ``locking``, ``effects`` (what
follows a write), ``notify`` (event messages), ``lifecycle``/``lifecyclejob``,
``replication``, ``postform``/``postobject`` (form uploads), ``cors``, ``website``,
``grants``, ``policydoc``, ``names``, ``errors``.
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["buckets", "objects", "listing", "lifecycleops", "multipart", "lockops", "restore", "attributes", "replicationops",
           "bucketconfig", "idconfigs", "policies", "acls", "tagging", "notifications"]


def register_jobs(scheduler: Any) -> None:
    from cloudlet.services.s3 import effects

    effects.register(scheduler)


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The bucket or object ARN a call acts on, for IAM."""
    bucket = params.get("Bucket")
    if not bucket:
        return ["*"]
    key = params.get("Key")
    if key is not None:
        return [f"arn:{ctx.partition}:s3:::{bucket}/{key}"]
    return [f"arn:{ctx.partition}:s3:::{bucket}"]


_policies: dict[tuple[int, str], tuple[tuple[int, ...], tuple[str, str | None] | None]] = {}


def resource_policy(gateway: Any, region: str, arn: str) -> tuple[str, str | None] | None:
    """The bucket's owner and policy, for IAM (None when the bucket does not exist).
    Asked on every enforced S3 call: cached until a bucket or a configuration is written."""
    from cloudlet.services.s3 import storage

    if not arn.startswith("arn:") or ":::" not in arn:
        return None
    bucket = arn.split(":::", 1)[1].split("/", 1)[0]
    db = gateway.db(storage.SERVICE)
    cached = _policies.get((id(db), bucket))
    if cached is not None and cached[0] == db.generation("b", "cfg"):
        return cached[1]
    with db.tx("", "") as t:
        gen = db.generation("b", "cfg")
        b = storage.find_bucket(t, bucket)
        found = None if b is None else (b["account"], (storage.get_config(t, bucket, "policy") or {}).get("Policy"))
    if len(_policies) > 10_000:
        _policies.clear()
    _policies[(id(db), bucket)] = (gen, found)
    return found


def condition_keys(ctx: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """S3's own condition keys that come from the request."""
    keys: dict[str, Any] = {}
    for param, key in (("Prefix", "s3:prefix"), ("Delimiter", "s3:delimiter"), ("MaxKeys", "s3:max-keys"),
                       ("ACL", "s3:x-amz-acl"), ("ServerSideEncryption", "s3:x-amz-server-side-encryption"),
                       ("SSEKMSKeyId", "s3:x-amz-server-side-encryption-aws-kms-key-id"),
                       ("StorageClass", "s3:x-amz-storage-class"), ("VersionId", "s3:VersionId"),
                       ("MetadataDirective", "s3:x-amz-metadata-directive"),
                       ("CopySource", "s3:x-amz-copy-source"), ("ObjectLockMode", "s3:object-lock-mode")):
        value = params.get(param)
        if value is not None:
            keys[key] = str(value)
    return keys
