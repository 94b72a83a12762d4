"""Listings: ListObjects (v1), ListObjectsV2 and ListObjectVersions, over ``scan.walk``."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.s3 import errors, scan, storage

Input = dict[str, Any]
Output = dict[str, Any]


def _max_keys(req: Input) -> int:
    n = req.get("MaxKeys")
    if n is None:
        return 1000
    if n < 0:
        raise errors.invalid_argument("Provided max-keys not an integer or within integer range", "max-keys", str(n))
    return min(n, 1000)


def _owner(v: dict[str, Any]) -> dict[str, str]:
    return storage.owner(v.get("owner", ""))


def _entry(v: dict[str, Any], enc: Any, fetch_owner: bool) -> dict[str, Any]:
    e: dict[str, Any] = {
        "Key": enc(v["key"]),
        "LastModified": datetime.fromtimestamp(int(v["mtime"]), timezone.utc),
        "ETag": v["etag"],
        "Size": v["size"],
        "StorageClass": v["sc"],
    }
    cks = v.get("cks")
    if cks:
        e["ChecksumAlgorithm"] = [cks["alg"]]
        e["ChecksumType"] = cks["type"]
    if fetch_owner:
        e["Owner"] = _owner(v)
    restore = v.get("restore")
    if restore:
        e["RestoreStatus"] = {"IsRestoreInProgress": not restore.get("done")}
        if restore.get("done") and restore.get("expiry"):
            e["RestoreStatus"]["RestoreExpiryDate"] = datetime.fromtimestamp(restore["expiry"], timezone.utc)
    return e


def _drop_unasked(contents: list[dict[str, Any]], req: Input) -> None:
    """RestoreStatus is listed only when ``x-amz-optional-object-attributes`` asks for it."""
    if "RestoreStatus" not in (req.get("OptionalObjectAttributes") or ()):
        for e in contents:
            e.pop("RestoreStatus", None)


def _objects(ctx: Context, req: Input, limit: int, enc: Any, marker: str | None,
             fetch_owner: bool) -> tuple[Output, list[str], str | None]:
    """What ListObjects and ListObjectsV2 answer alike (Contents after `marker`), the common
    prefixes and the last key or prefix of a truncated page."""
    bucket = req["Bucket"]
    prefix = req.get("Prefix") or ""
    delimiter = req.get("Delimiter") or None
    after = scan.resume_after(bucket, marker, delimiter, lambda key: f"{bucket}/{key}")
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        # MaxKeys=0 answers an empty page, never a truncated one
        pg = scan.page(t, "o", bucket, prefix, delimiter, after, limit) if limit else scan.Page([], [], None, False)
    contents = [_entry(v, enc, fetch_owner) for v in pg.records]
    _drop_unasked(contents, req)
    out: Output = {"Name": bucket, "Prefix": enc(prefix), "MaxKeys": _echo_max_keys(req, limit), "IsTruncated": pg.truncated}
    if contents:
        out["Contents"] = contents
    scan.shared_output(out, req, enc, pg.prefixes, delimiter)
    return out, pg.prefixes, pg.next_markers()[0]


def _echo_max_keys(req: Input, limit: int) -> int:
    """MaxKeys as asked (even above 1,000), 1,000 when not asked."""
    return limit if req.get("MaxKeys") is None else req["MaxKeys"]


def list_objects_v2(ctx: Context, req: Input) -> Output:
    limit, enc = _max_keys(req), scan.encoder(req)
    token = req.get("ContinuationToken")
    start_after = req.get("StartAfter")
    if token is not None:
        marker = _decode_token(token)
    else:
        marker = start_after if start_after and start_after > (req.get("Prefix") or "") else None
    out, prefixes, last = _objects(ctx, req, limit, enc, marker, bool(req.get("FetchOwner")))
    out["KeyCount"] = len(out.get("Contents", ())) + len(prefixes)
    if token is not None:
        out["ContinuationToken"] = token
    if start_after:
        out["StartAfter"] = enc(start_after)
    if last is not None:
        out["NextContinuationToken"] = base64.urlsafe_b64encode(last.encode("utf-8")).decode()
    return out


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("The continuation token provided is incorrect", "continuation-token", token) from None


def list_objects(ctx: Context, req: Input) -> Output:
    limit, enc = _max_keys(req), scan.encoder(req)
    marker = req.get("Marker") or None
    out, _prefixes, last = _objects(ctx, req, limit, enc, marker, True)
    out["Marker"] = enc(marker or "")
    if req.get("Delimiter") and last is not None:
        out["NextMarker"] = enc(last)  # S3 gives NextMarker only with a delimiter
    return out


def list_object_versions(ctx: Context, req: Input) -> Output:
    bucket = req["Bucket"]
    prefix = req.get("Prefix") or ""
    delimiter = req.get("Delimiter") or None
    limit = _max_keys(req)
    enc = scan.encoder(req)
    key_marker = req.get("KeyMarker") or None
    vid_marker = req.get("VersionIdMarker") or None
    if vid_marker and not key_marker:
        raise errors.invalid_argument("A version-id marker cannot be specified without a key marker.",
                                      "version-id-marker", vid_marker)
    versions: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        after = scan.resume_after(bucket, key_marker, delimiter,
                                  (lambda key: _version_record(t, bucket, key, vid_marker)) if vid_marker else None)
        pg = scan.page(t, "v", bucket, prefix, delimiter, after, limit)
        current_key = None
        for v in pg.records:
            latest = v["key"] != current_key and _is_newest(t, bucket, v)
            current_key = v["key"]
            entry: dict[str, Any] = {
                "Key": enc(v["key"]),
                "VersionId": v["vid"],
                "IsLatest": latest,
                "LastModified": datetime.fromtimestamp(int(v["mtime"]), timezone.utc),
                "Owner": _owner(v),
            }
            if v.get("dm"):
                markers.append(entry)
            else:
                entry.update({"ETag": v["etag"], "Size": v["size"], "StorageClass": v["sc"]})
                if v.get("cks"):
                    entry["ChecksumAlgorithm"] = [v["cks"]["alg"]]
                    entry["ChecksumType"] = v["cks"]["type"]
                versions.append(entry)
    out: Output = {
        "Name": bucket,
        "Prefix": enc(prefix),
        "KeyMarker": enc(key_marker or ""),
        "VersionIdMarker": vid_marker or "",
        "MaxKeys": _echo_max_keys(req, limit),
        "IsTruncated": pg.truncated,
    }
    if versions:
        out["Versions"] = versions
    if markers:
        out["DeleteMarkers"] = markers
    scan.shared_output(out, req, enc, pg.prefixes, delimiter)
    next_key, next_vid = pg.next_markers("vid")
    if next_key is not None:
        out["NextKeyMarker"] = enc(next_key)
        if next_vid is not None:
            out["NextVersionIdMarker"] = next_vid
    return out


def _is_newest(t: Tx, bucket: str, v: dict[str, Any]) -> bool:
    top = storage.newest(t, bucket, v["key"])
    return top is not None and top["seq"] == v["seq"]


def _version_record(t: Tx, bucket: str, key: str, vid_marker: str) -> str:
    v = storage.find_version(t, bucket, key, vid_marker)
    if v is None:
        raise errors.invalid_argument("Invalid version id specified", "version-id-marker", vid_marker)
    return storage.version_key(bucket, key, v["seq"])
