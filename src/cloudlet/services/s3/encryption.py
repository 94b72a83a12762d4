"""Which key seals a new body and which opens a stored one (SSE-S3, SSE-C, SSE-KMS).

Every object is encrypted at rest, as on S3 since 2023: SSE-S3 unless the request (or
the bucket's default encryption) asks for SSE-KMS, or the client brings its own key
(SSE-C). SSE-KMS asks KMS for a data key through the in-process client; until cloudlet
has KMS, a KMS key cannot be found and S3 answers as it does for an unknown key.

The one place S3 calls another service inside its own transaction: KMS never calls S3,
so holding S3's lock while KMS takes its own cannot deadlock, and the data key must be
settled in the same transaction that records the object.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.s3 import crypto, storage

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def customer_key(params: dict[str, Any], prefix: str = "") -> bytes | None:
    """The SSE-C key of a request (``CopySource`` prefix for a copy's source), validated."""
    return crypto.customer_key(
        params.get(f"{prefix}SSECustomerAlgorithm"),
        params.get(f"{prefix}SSECustomerKey"),
        params.get(f"{prefix}SSECustomerKeyMD5"),
    )


def for_write(ctx: Context, t: Tx, bucket: str, params: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """(data key, the version's "sse" record) for a new body."""
    customer = customer_key(params)
    requested = params.get("ServerSideEncryption")
    if customer is not None:
        if requested is not None:
            raise crypto.incompatible_encryption(requested)
        return crypto.new_sse_c(customer)
    key_id = params.get("SSEKMSKeyId")
    bucket_key = params.get("BucketKeyEnabled")
    if requested is None:
        default = storage.get_config(t, bucket, "encryption")
        if default:
            rule = (default.get("Rules") or [{}])[0]
            by_default = rule.get("ApplyServerSideEncryptionByDefault") or {}
            requested = by_default.get("SSEAlgorithm")
            key_id = key_id or by_default.get("KMSMasterKeyID")
            if bucket_key is None:
                bucket_key = rule.get("BucketKeyEnabled")
    if key_id is not None and requested not in KMS_ALGORITHMS:
        raise ServiceError(
            "InvalidArgument",
            "Server Side Encryption with AWS Key Management Service managed key requires HTTP header "
            "x-amz-server-side-encryption : aws:kms",
            400,
        )
    if requested in KMS_ALGORITHMS:
        return _kms_key(ctx, requested, key_id, bool(bucket_key), bucket)
    if requested not in (None, crypto.AES256):
        raise ServiceError("InvalidArgument", "The encryption method specified is not supported", 400)
    return crypto.new_sse_s3(t, ctx.account)


def _kms_key(ctx: Context, algorithm: str, key_id: str | None, bucket_key: bool, bucket: str) -> tuple[bytes, dict[str, Any]]:
    key = key_id or "alias/aws/s3"
    arn = f"arn:{ctx.partition}:s3:::{bucket}"
    try:
        out = ctx.aws("kms", principal="s3.amazonaws.com").generate_data_key(
            KeyId=key, KeySpec="AES_256", EncryptionContext={"aws:s3:arn": arn}
        )
    except ServiceError as err:
        if err.code in ("NotFoundException", "NotImplemented"):
            raise ServiceError("KMS.NotFoundException", f"Invalid keyId {key}", 400) from None
        raise ServiceError(f"KMS.{err.code}", err.message, 400) from None
    sse = {"alg": algorithm, "kms": out.get("KeyId", key), "wrapped": out["CiphertextBlob"], "bk": bucket_key, "arn": arn}
    return bytes(out["Plaintext"]), sse


def for_read(ctx: Context, t: Tx, v: dict[str, Any], params: dict[str, Any], prefix: str = "") -> bytes | None:
    """The data key that opens a stored body, or the error its reader gets."""
    sse = v.get("sse")
    customer = customer_key(params, prefix)
    if sse and sse.get("kms"):
        if customer is not None:
            raise crypto.customer_key_not_applicable()
        try:
            out = ctx.aws("kms", principal="s3.amazonaws.com").decrypt(
                CiphertextBlob=sse["wrapped"], KeyId=sse["kms"],
                EncryptionContext={"aws:s3:arn": sse["arn"]},
            )
        except ServiceError as err:
            raise ServiceError(f"KMS.{err.code}", err.message, 400) from None
        return bytes(out["Plaintext"])
    return crypto.data_key(t, sse, customer)


def output(v: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The encryption members of an object operation's answer."""
    sse = v.get("sse")
    if not sse:
        return {}
    if sse.get("kms"):
        out: dict[str, Any] = {"ServerSideEncryption": sse["alg"], "SSEKMSKeyId": sse["kms"]}
        if sse.get("bk"):
            out["BucketKeyEnabled"] = True
        return out
    customer = customer_key(params or {}) if crypto.is_customer(sse) else None
    return crypto.response_fields(sse, customer)
