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


def _page(t: Tx, bucket: str, prefix: str, delimiter: str | None, after: str | None, limit: int, enc: Any,
          fetch_owner: bool) -> tuple[list[dict[str, Any]], list[str], str | None, bool]:
    """Contents, common prefixes, the last key or prefix returned, and whether more follow."""
    contents: list[dict[str, Any]] = []
    prefixes: list[str] = []
    last: str | None = None
    truncated = False
    if limit == 0:
        return contents, prefixes, None, False
    for kind, item in scan.walk(t, "o", bucket, prefix, delimiter, after):
        if len(contents) + len(prefixes) == limit:
            truncated = True
            break
        if kind == "prefix":
            prefixes.append(item)
            last = item
        else:
            contents.append(_entry(item.value, enc, fetch_owner))
            last = item.value["key"]
    return contents, prefixes, last, truncated


def _after_marker(bucket: str, marker: str | None, delimiter: str | None) -> str | None:
    if not marker:
        return None
    if delimiter and marker.endswith(delimiter):
        return f"{bucket}/{marker}{scan.AFTER_ALL}"  # a common prefix: skip everything under it
    return f"{bucket}/{marker}"


def list_objects_v2(ctx: Context, req: Input) -> Output:
    bucket = req["Bucket"]
    prefix = req.get("Prefix") or ""
    delimiter = req.get("Delimiter") or None
    limit = _max_keys(req)
    enc = scan.encoder(req)
    token = req.get("ContinuationToken")
    start_after = req.get("StartAfter")
    if token is not None:
        marker = _decode_token(token)
    else:
        marker = start_after if start_after and start_after > prefix else None
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        contents, prefixes, last, truncated = _page(
            t, bucket, prefix, delimiter, _after_marker(bucket, marker, delimiter), limit, enc, bool(req.get("FetchOwner"))
        )
    _drop_unasked(contents, req)
    out: Output = {
        "Name": bucket,
        "Prefix": enc(prefix),
        "MaxKeys": limit if req.get("MaxKeys") is None else req["MaxKeys"],
        "KeyCount": len(contents) + len(prefixes),
        "IsTruncated": truncated,
    }
    if contents:
        out["Contents"] = contents
    if prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(p)} for p in prefixes]
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    if req.get("EncodingType"):
        out["EncodingType"] = req["EncodingType"]
    if token is not None:
        out["ContinuationToken"] = token
    if start_after:
        out["StartAfter"] = enc(start_after)
    if truncated and last is not None:
        out["NextContinuationToken"] = base64.urlsafe_b64encode(last.encode("utf-8")).decode()
    return out


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("The continuation token provided is incorrect", "continuation-token", token) from None


def list_objects(ctx: Context, req: Input) -> Output:
    bucket = req["Bucket"]
    prefix = req.get("Prefix") or ""
    delimiter = req.get("Delimiter") or None
    limit = _max_keys(req)
    enc = scan.encoder(req)
    marker = req.get("Marker") or None
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        contents, prefixes, last, truncated = _page(
            t, bucket, prefix, delimiter, _after_marker(bucket, marker, delimiter), limit, enc, True
        )
    _drop_unasked(contents, req)
    out: Output = {
        "Name": bucket,
        "Prefix": enc(prefix),
        "Marker": enc(marker or ""),
        "MaxKeys": limit if req.get("MaxKeys") is None else req["MaxKeys"],
        "IsTruncated": truncated,
    }
    if contents:
        out["Contents"] = contents
    if prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(p)} for p in prefixes]
    if delimiter:
        out["Delimiter"] = enc(delimiter)
        if truncated and last is not None:
            out["NextMarker"] = enc(last)  # S3 gives NextMarker only with a delimiter
    if req.get("EncodingType"):
        out["EncodingType"] = req["EncodingType"]
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
    prefixes: list[str] = []
    truncated = False
    next_key = next_vid = None
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        after = _version_start(t, bucket, key_marker, vid_marker, delimiter)
        current_key = None
        for kind, item in scan.walk(t, "v", bucket, prefix, delimiter, after):
            if len(versions) + len(markers) + len(prefixes) == limit:
                truncated = True
                break
            if kind == "prefix":
                prefixes.append(item)
                next_key, next_vid = item, None
                continue
            v = item.value
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
            next_key, next_vid = v["key"], v["vid"]
    out: Output = {
        "Name": bucket,
        "Prefix": enc(prefix),
        "KeyMarker": enc(key_marker or ""),
        "VersionIdMarker": vid_marker or "",
        "MaxKeys": limit if req.get("MaxKeys") is None else req["MaxKeys"],
        "IsTruncated": truncated,
    }
    if versions:
        out["Versions"] = versions
    if markers:
        out["DeleteMarkers"] = markers
    if prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(p)} for p in prefixes]
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    if req.get("EncodingType"):
        out["EncodingType"] = req["EncodingType"]
    if truncated and next_key is not None:
        out["NextKeyMarker"] = enc(next_key)
        if next_vid is not None:
            out["NextVersionIdMarker"] = next_vid
    return out


def _is_newest(t: Tx, bucket: str, v: dict[str, Any]) -> bool:
    top = storage.newest(t, bucket, v["key"])
    return top is not None and top["seq"] == v["seq"]


def _version_start(t: Tx, bucket: str, key_marker: str | None, vid_marker: str | None, delimiter: str | None) -> str | None:
    if not key_marker:
        return None
    if delimiter and key_marker.endswith(delimiter):
        return f"{bucket}/{key_marker}{scan.AFTER_ALL}"
    if vid_marker:
        v = storage.find_version(t, bucket, key_marker, vid_marker)
        if v is None:
            raise errors.invalid_argument("Invalid version id specified", "version-id-marker", vid_marker)
        return storage.version_key(bucket, key_marker, v["seq"])
    return f"{bucket}/{key_marker}\0{scan.AFTER_ALL}"  # after every version of the marker key
