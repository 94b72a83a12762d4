"""Objects: put, get, head, delete (one and many), copy.

A write hashes, seals and stores the body outside any transaction (a large one on a
worker thread, so the event loop keeps serving), then commits the version in one short
``tx()``: the answer is sent only after that commit. Side effects (notifications,
replication) are queued by ``effects`` in the same transaction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from cloudlet.core import checksums
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import STATUS, BodyStream
from cloudlet.services.s3 import conditions, effects, encryption, errors, locking, names, payload, reads, storage, tags, writes
from cloudlet.services.s3.storage import Version

Input = dict[str, Any]
Output = dict[str, Any]

ARCHIVED = reads.ARCHIVED
MAX_SINGLE_PUT = 5 * 1024**3


# put ------------------------------------------------------------------------------------
def put_object(ctx: Context, req: Input) -> Any:
    names.check_key(req["Key"])
    if payload.worth_a_thread(req.get("Body")) and not ctx.internal:
        return asyncio.to_thread(_put, ctx, req)  # hashing and sealing a large body off the loop
    return _put(ctx, req)


def _put(ctx: Context, req: Input) -> Output:
    bucket, key = req["Bucket"], req["Key"]
    body = req.get("Body")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, BodyStream) and body.size is not None and body.size > MAX_SINGLE_PUT:
        raise ServiceError(
            "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
            fields={"ProposedSize": str(body.size), "MaxSizeAllowed": str(MAX_SINGLE_PUT)},
        )
    wanted = checksums.from_params(req)
    sc = writes.storage_class(req)
    tag_set = tags.parse_tagging(req.get("Tagging"))
    db = ctx.gateway.db(storage.SERVICE)
    algorithms = [wanted[0]] if wanted else ["CRC64NVME"]  # S3 computes CRC64NVME when none is asked

    def version(stored: payload.Stored, sse: dict[str, Any], lock: Any) -> Version:
        return {
            "key": key,
            "dm": False,
            "mtime": storage.now(),
            "size": stored.size,
            "etag": f'"{stored.md5.hex()}"',
            "data": stored.data,
            "blob": stored.blob,
            "ct": req.get("ContentType") or "binary/octet-stream",
            "hdrs": writes.content_headers(req),
            "meta": dict(req.get("Metadata") or {}),
            "tags": tag_set,
            "sc": sc,
            "cks": writes.verify(req, stored, wanted),
            "sse": sse,
            "lock": lock,
            "owner": ctx.account,
            "acl": req.get("ACL"),
        }

    if payload.is_inline(body):  # small: sealed in memory, so one short transaction does it all
        with storage.tx(ctx) as t:
            b = storage.get_bucket(t, bucket)
            conditions.check_write(req, storage.current(t, bucket, key))
            writes.check_acl(t, bucket, req)
            lock = locking.for_new_version(t, b, req, upload=not ctx.internal)
            data_key, sse = encryption.for_write(ctx, t, bucket, req)
            v = version(payload.store(db, body, data_key, algorithms), sse, lock)
            expiry = _commit(ctx, t, b, v)
        return _put_output(b, v, req, expiry)
    with storage.tx(ctx) as t:  # large: settle the key first, write the file with no lock held
        b = storage.get_bucket(t, bucket)
        conditions.check_write(req, storage.current(t, bucket, key))
        writes.check_acl(t, bucket, req)
        lock = locking.for_new_version(t, b, req, upload=not ctx.internal)
        data_key, sse = encryption.for_write(ctx, t, bucket, req)
    stored = payload.store(db, body, data_key, algorithms)
    try:
        v = version(stored, sse, lock)
        with storage.tx(ctx) as t:
            b = storage.get_bucket(t, bucket)
            conditions.check_write(req, storage.current(t, bucket, key))
            stored.adopt(t)
            expiry = _commit(ctx, t, b, v)
    except BaseException:
        stored.discard(db)
        raise
    return _put_output(b, v, req, expiry)


def _commit(ctx: Context, t: Any, b: dict[str, Any], v: Version) -> Output:
    storage.add_version(t, b, v)
    effects.object_created(ctx, t, b, v, "Put")
    return effects.expiration(t, b, v)


def _put_output(b: dict[str, Any], v: Version, req: Input, expiry: Output) -> Output:
    out: Output = {"ETag": v["etag"], **encryption.output(v, req), **_checksum_out(v["cks"], req, always=True), **expiry}
    if b.get("versioning"):
        out["VersionId"] = v["vid"]
    return out


def _checksum_out(cks: dict[str, Any] | None, req: Input, always: bool = False) -> Output:
    if not cks or not (always or req.get("ChecksumMode") == "ENABLED"):
        return {}
    return checksums.output_params(cks)


def get_object(ctx: Context, req: Input) -> Output:
    return _read(ctx, req, head=False)


def head_object(ctx: Context, req: Input) -> Output:
    return _read(ctx, req, head=True)


def _read(ctx: Context, req: Input, head: bool) -> Output:
    bucket, key = req["Bucket"], req["Key"]
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, bucket)
        v = reads.find_target(t, b, key, req.get("VersionId"), "HEAD" if head else "GET")
        conditions.check_read(req, v["etag"], v["mtime"])
        if not head and v["sc"] in ARCHIVED and not (v.get("restore") or {}).get("done"):
            raise ServiceError("InvalidObjectState", "The operation is not valid for the object's storage class", 403,
                               fields={"StorageClass": v["sc"]})
        data_key = encryption.for_read(ctx, t, v, req)
        # the header tells when the current object expires: none for a version asked by id
        expiry = effects.expiration(t, b, v) if req.get("VersionId") is None else {}
    out = reads.object_headers(b, v, req)
    out.update(expiry)
    size = v["size"]
    part = req.get("PartNumber")
    rng = None
    if part is not None:
        rng = _part_range(v, part)
        out["PartsCount"] = len(v["parts"]) if v.get("parts") else 1
    elif req.get("Range"):
        rng = conditions.parse_range(req["Range"], size)
    if rng is not None:
        start, end = rng
        for k in [k for k in out if k.startswith("Checksum")]:
            del out[k]  # a range has no stored checksum: S3 sends none
        out["ContentRange"] = f"bytes {start}-{end}/{size}"
        out[STATUS] = 206
    else:
        start, end = 0, size - 1
    out["ContentLength"] = max(end - start + 1, 0)
    if not head:
        out["Body"] = payload.read(ctx.gateway.db(storage.SERVICE), v, data_key, start, end)
    _response_overrides(req, out)
    return out


def _part_range(v: Version, part: int) -> tuple[int, int] | None:
    parts = v.get("parts")
    if not parts:
        if part != 1:
            raise errors.invalid_part_number(part, 1)
        return None
    if not 1 <= part <= len(parts):
        raise errors.invalid_part_number(part, len(parts))
    start = sum(parts[: part - 1])
    return start, start + parts[part - 1] - 1


_OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
    "ResponseExpires": "Expires",
}


def _response_overrides(req: Input, out: Output) -> None:
    for param, member in _OVERRIDES.items():
        if req.get(param) is not None:
            out[member] = req[param]


# delete ---------------------------------------------------------------------------------
def delete_object(ctx: Context, req: Input) -> Output:
    bucket, key = req["Bucket"], req["Key"]
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, bucket)
        if req.get("IfMatch") is not None:
            cur = storage.current(t, bucket, key)
            if cur is None:
                raise errors.no_such_key(key)
            if not conditions.etag_matches(req["IfMatch"], cur["etag"]):
                raise errors.precondition_failed("If-Match")
        return _delete_one(ctx, t, b, key, req.get("VersionId"), locking.check_bypass_header(b, req))


def _delete_one(ctx: Context, t: Any, b: dict[str, Any], key: str, version_id: str | None, bypass: bool) -> Output:
    """Delete a key (a delete marker when versioned) or one version of it, for good."""
    bucket = b["name"]
    if version_id is not None:
        reads.check_version_id(version_id)
        v = storage.find_version(t, bucket, key, version_id)
        if v is None:
            return {"VersionId": version_id}  # deleting what is not there succeeds
        if not v.get("dm"):
            locking.check_delete(ctx, t, b, v, bypass)
        storage.delete_version(t, bucket, v)
        effects.object_removed(ctx, t, b, v, "Delete")
        out: Output = {"VersionId": version_id}
        if v.get("dm"):
            out["DeleteMarker"] = True
        return out
    if not b.get("versioning"):
        v = storage.find_version(t, bucket, key, storage.NULL)
        if v is not None:
            storage.delete_version(t, bucket, v)
            effects.object_removed(ctx, t, b, v, "Delete")
        return {}
    marker: Version = {"key": key, "dm": True, "mtime": storage.now(), "size": 0, "etag": "", "sc": "STANDARD",
                       "owner": ctx.account}
    storage.add_version(t, b, marker)
    effects.object_removed(ctx, t, b, marker, "DeleteMarkerCreated")
    return {"DeleteMarker": True, "VersionId": marker["vid"]}


def delete_objects(ctx: Context, req: Input) -> Output:
    delete = req.get("Delete") or {}
    items = delete.get("Objects") or []
    if len(items) > 1000:
        raise errors.malformed_xml()
    quiet = bool(delete.get("Quiet"))
    deleted, failed = [], []
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        bypass = locking.check_bypass_header(b, req)
        for item in items:
            key, vid = item["Key"], item.get("VersionId")
            try:
                with t.db.tx("", "") as inner:  # a savepoint: one failure leaves the others done
                    out = _delete_one(ctx, inner, b, key, vid, bypass)
            except ServiceError as err:
                failed.append({"Key": key, **({"VersionId": vid} if vid else {}), "Code": err.code, "Message": err.message})
                continue
            if quiet:
                continue
            entry: dict[str, Any] = {"Key": key}
            if vid:
                entry["VersionId"] = vid
            if out.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                if vid is None:
                    entry["DeleteMarkerVersionId"] = out["VersionId"]
                else:
                    entry["DeleteMarkerVersionId"] = vid
            deleted.append(entry)
    out: Output = {}
    if deleted:
        out["Deleted"] = deleted
    if failed:
        out["Errors"] = failed
    return out


# copy -----------------------------------------------------------------------------------
def copy_object(ctx: Context, req: Input) -> Any:
    names.check_key(req["Key"])
    if not ctx.internal:
        return asyncio.to_thread(_copy, ctx, req)
    return _copy(ctx, req)


def _copy(ctx: Context, req: Input) -> Output:
    bucket, key = req["Bucket"], req["Key"]
    db = ctx.gateway.db(storage.SERVICE)
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, bucket)
        sb, src, src_key = reads.read_source(ctx, t, req)
        if src["size"] > MAX_SINGLE_PUT:
            raise errors.invalid_request("The specified copy source is larger than the maximum allowable size for a copy source: 5368709120")
        replace_meta = req.get("MetadataDirective") == "REPLACE"
        replace_tags = req.get("TaggingDirective") == "REPLACE"
        same = sb["name"] == bucket and src["key"] == key and (req.get("CopySourceVersionId") is None)
        changes = (replace_meta or req.get("StorageClass") or req.get("WebsiteRedirectLocation")
                   or req.get("ServerSideEncryption") or req.get("SSECustomerKey") or req.get("SSEKMSKeyId"))
        if same and not changes and src["vid"] == (storage.current(t, bucket, key) or {}).get("vid"):
            raise errors.invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself without changing the "
                "object's metadata, storage class, website redirect location or encryption attributes."
            )
        conditions.check_write(req, storage.current(t, bucket, key))
        writes.check_acl(t, bucket, req)
        lock = locking.for_new_version(t, b, req)
        data_key, sse = encryption.for_write(ctx, t, bucket, req)
    wanted = req.get("ChecksumAlgorithm") or (src.get("cks") or {}).get("alg") or "CRC64NVME"
    stored = payload.store(db, payload.Plain(payload.copy_source(db, src, src_key), src["size"]), data_key, [wanted])
    try:
        cks = {"alg": wanted, "value": checksums.b64(stored.digests[wanted]), "type": checksums.FULL_OBJECT}
        etag = f'"{stored.md5.hex()}"'
        if src.get("parts") and not req.get("ChecksumAlgorithm"):
            etag = src["etag"]  # a copy keeps a multipart object's ETag
        v: Version = {
            "key": key, "dm": False, "mtime": storage.now(), "size": stored.size, "etag": etag,
            "data": stored.data, "blob": stored.blob,
            "ct": req.get("ContentType") or "binary/octet-stream" if replace_meta else src["ct"],
            "hdrs": writes.content_headers(req) if replace_meta else dict(src.get("hdrs") or {}),
            "meta": dict(req.get("Metadata") or {}) if replace_meta else dict(src.get("meta") or {}),
            "tags": tags.parse_tagging(req.get("Tagging")) if replace_tags else dict(src.get("tags") or {}),
            "sc": writes.storage_class(req) if req.get("StorageClass") else "STANDARD",
            "cks": cks, "sse": sse, "lock": lock, "owner": ctx.account, "acl": req.get("ACL"),
        }
        if src.get("parts") and not req.get("ChecksumAlgorithm"):
            v["parts"] = list(src["parts"])
        with storage.tx(ctx) as t:
            b = storage.get_bucket(t, bucket)
            stored.adopt(t)
            storage.add_version(t, b, v)
            effects.object_created(ctx, t, b, v, "Copy")
            expiry = effects.expiration(t, b, v)
    except BaseException:
        stored.discard(db)
        raise
    result: Output = {"ETag": v["etag"], "LastModified": datetime.fromtimestamp(int(v["mtime"]), timezone.utc)}
    result.update(checksums.output_params(cks))
    out: Output = {"CopyObjectResult": result, **encryption.output(v, req)}
    if sb.get("versioning"):
        out["CopySourceVersionId"] = src["vid"]
    if b.get("versioning"):
        out["VersionId"] = v["vid"]
    out.update(expiry)
    return out
