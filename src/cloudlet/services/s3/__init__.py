"""Amazon S3: buckets and objects on disk, streamed in flat memory and sealed at rest
(AES-256-GCM), with versions, checksums, conditional requests, multipart uploads,
lifecycle rules and replication run on the cloudlet clock, Object Lock, and event
notifications delivered to SQS, SNS, Lambda and EventBridge.

Module map: ``buckets``, ``objects``, ``listing`` (handlers); ``storage`` (the record
layout: one global namespace), ``payload`` (bodies in and out), ``crypto`` and
``encryption`` (sealing and which key), ``conditions`` (preconditions and ranges),
``locking`` (Object Lock), ``effects`` (what follows a write), ``notify`` (event
messages), ``names``, ``errors``.
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
