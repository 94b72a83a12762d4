"""Finding the version a read names, and what a GET or HEAD says about it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote

from cloudlet.core import checksums
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import conditions, encryption, errors, storage
from cloudlet.services.s3.storage import Version

Input = dict[str, Any]
Output = dict[str, Any]
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})

def find_target(t: Any, b: dict[str, Any], key: str, version_id: str | None, method: str) -> Version:
    """The version a read names: the current one, or `version_id`. Delete markers answer
    as S3 answers them (404 current, 405 by id, with ``x-amz-delete-marker``)."""
    bucket = b["name"]
    if version_id is None:
        v = storage.current(t, bucket, key)
        if v is None:
            top = storage.newest(t, bucket, key)
            if top is not None and top.get("dm"):
                raise ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key},
                                   headers={"x-amz-delete-marker": "true", "x-amz-version-id": top["vid"]})
            raise errors.no_such_key(key)
        return storage.with_body(t, bucket, v)
    check_version_id(version_id)
    v = storage.find_version(t, bucket, key, version_id)
    if v is None:
        raise errors.no_such_version(key, version_id)
    if v.get("dm"):
        raise ServiceError(
            "MethodNotAllowed", "The specified method is not allowed against this resource.", 405,
            fields={"Method": method, "ResourceType": "DeleteMarker"},
            headers={"x-amz-delete-marker": "true", "x-amz-version-id": v["vid"], "Last-Modified": http_date(v["mtime"])},
        )
    return v


def check_version_id(version_id: str) -> None:
    if version_id != storage.NULL and (len(version_id) < 8 or len(version_id) > 1024):
        raise errors.invalid_argument("Invalid version id specified", "versionId", version_id)


def http_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


def object_headers(b: dict[str, Any], v: Version, req: Input) -> Output:
    """What GET and HEAD say about an object besides its body."""
    out: Output = {
        "ETag": v["etag"],
        "LastModified": datetime.fromtimestamp(int(v["mtime"]), timezone.utc),
        "ContentType": v["ct"],
        "AcceptRanges": "bytes",
        **encryption.output(v, req),
    }
    hdrs = v.get("hdrs") or {}
    for k, val in hdrs.items():
        out[k] = datetime.fromtimestamp(val, timezone.utc) if k == "Expires" and isinstance(val, (int, float)) else val
    if v.get("meta"):
        out["Metadata"] = v["meta"]
    if b.get("versioning"):
        out["VersionId"] = v["vid"]
    if v["sc"] != "STANDARD":
        out["StorageClass"] = v["sc"]
    if v.get("tags"):
        out["TagCount"] = len(v["tags"])
    if v.get("repl"):
        out["ReplicationStatus"] = v["repl"]
    restore = v.get("restore")
    if restore:
        if restore.get("done"):
            expiry = http_date(restore["expiry"]) if restore.get("expiry") else ""
            out["Restore"] = f'ongoing-request="false", expiry-date="{expiry}"'
        else:
            out["Restore"] = 'ongoing-request="true"'
    lock = v.get("lock") or {}
    if lock.get("mode"):
        out["ObjectLockMode"] = lock["mode"]
        out["ObjectLockRetainUntilDate"] = datetime.fromtimestamp(lock["until"], timezone.utc)
    if lock.get("hold") is not None:
        out["ObjectLockLegalHoldStatus"] = "ON" if lock["hold"] else "OFF"
    if v.get("cks") and req.get("ChecksumMode") == "ENABLED":
        out.update(checksums.output_params(v["cks"]))
    return out


def parse_copy_source(source: str) -> tuple[str, str, str | None]:
    """``bucket/key?versionId=v`` (URL-encoded, optionally with a leading slash)."""
    path, _, query = source.partition("?")
    path = unquote(path.lstrip("/"))
    bucket, _, key = path.partition("/")
    version = None
    for k, v in parse_qsl(query, keep_blank_values=True):
        if k == "versionId":
            version = v
    if not bucket or not key:
        raise errors.invalid_argument("Invalid copy source object key", "x-amz-copy-source", source)
    return bucket, key, version


def read_source(ctx: Context, t: Any, req: Input) -> tuple[dict[str, Any], Version, bytes | None]:
    """The bucket, version and data key a copy (or part copy) reads from, preconditions checked."""
    src_bucket, src_key, src_vid = parse_copy_source(req["CopySource"])
    sb = storage.get_bucket(t, src_bucket)
    v = find_target(t, sb, src_key, src_vid, "GET")
    conditions.check_read(req, v["etag"], v["mtime"], prefix="CopySourceIf")
    if v["sc"] in ARCHIVED and not (v.get("restore") or {}).get("done"):
        raise ServiceError("InvalidObjectState", "The operation is not valid for the object's storage class", 403,
                           fields={"StorageClass": v["sc"]})
    return sb, v, encryption.for_read(ctx, t, v, req, prefix="CopySource")

