"""What every write of a body shares (PutObject, UploadPart, CopyObject, Complete):
checking what the client says it sent, the storage class, the content headers kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cloudlet.core import checksums
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import payload

Input = dict[str, Any]

STORAGE_CLASSES = frozenset({
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
    "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS", "FSX_ONTAP",
})
HEADER_FIELDS = ("ContentEncoding", "ContentLanguage", "ContentDisposition", "CacheControl", "WebsiteRedirectLocation")

def verify(req: Input, stored: payload.Stored, wanted: tuple[str, str | None] | None) -> dict[str, Any]:
    """Check Content-MD5 and the flexible checksum; the checksum record to keep."""
    md5 = req.get("ContentMD5")
    if md5:
        checksums.check_content_md5(md5, stored.md5)
    if wanted is None:
        for name, value in stored.trailers.items():  # a trailer checksum the request did not name
            if name.startswith("x-amz-checksum-"):
                alg = checksums.parse_algorithm(name[len("x-amz-checksum-"):])
                raise ServiceError("InvalidRequest", f"Unexpected trailer checksum {alg}", 400)
        alg = "CRC64NVME"
        return {"alg": alg, "value": checksums.b64(stored.digests[alg]), "type": checksums.FULL_OBJECT}
    alg, value = wanted
    if value is None:
        value = stored.trailers.get(checksums.header_name(alg))
        if value is None:
            raise checksums.missing_value()
    actual = checksums.b64(stored.digests[alg])
    checksums.check(alg, value, actual)
    return {"alg": alg, "value": actual, "type": checksums.FULL_OBJECT}


def storage_class(req: Input) -> str:
    sc = req.get("StorageClass") or "STANDARD"
    if sc not in STORAGE_CLASSES:
        raise ServiceError("InvalidStorageClass", "The storage class you specified is not valid", 400,
                           fields={"StorageClassRequested": sc})
    return sc


def content_headers(req: Input) -> dict[str, Any]:
    hdrs = {k: req[k] for k in HEADER_FIELDS if req.get(k) is not None}
    if req.get("Expires") is not None:
        exp = req["Expires"]
        hdrs["Expires"] = exp.timestamp() if isinstance(exp, datetime) else exp
    return hdrs


# get / head -----------------------------------------------------------------------------

def check_acl(t: Any, bucket: str, req: Input) -> None:
    """An object write's ACL (canned or ``x-amz-grant-*``), refused as the bucket's
    ownership setting refuses it; free when the request names none (the usual case)."""
    if req.get("ACL") is not None or any(k.startswith("Grant") for k in req):
        from cloudlet.services.s3 import grants

        grants.check_acl_allowed(t, bucket, req.get("ACL"), req)
