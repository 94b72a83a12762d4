"""Multipart uploads: create, upload parts (or copy them), list, complete, abort.

An upload is one ``mpu`` record (``<bucket>/<key>\\0<upload id>``) holding everything
CreateMultipartUpload fixed: metadata, headers, tags, storage class, Object Lock, the
checksum algorithm and type, and the ``sse`` record with the upload's one data key,
wrapped. Every part is sealed with that key as its own stream and written to its own
blob, outside any transaction, like a PutObject body; its ``part`` record
(``<upload id>/<part:05d>``) holds its size, MD5 ETag, blob and checksum.

Completing copies nothing: the new version lists the chosen parts' blobs in order
(``chunks``) and their sizes (``parts``, for GetObject ``PartNumber``), and ``payload``
reads across them; ``part_cks`` keeps each part's checksum (of the object's algorithm).
Parts left out, and every part of an aborted upload, are dropped.

Upload ids start with the creation sequence in hex, so ids sort by initiation time and
a listing of one key's uploads in record order is S3's order (key, then initiated).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import quote

from cloudlet.core import checksums, clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.protocol.http import BodyStream
from cloudlet.server.config import public_url
from cloudlet.services.s3 import (
    conditions, crypto, effects, encryption, errors, lifecycle, locking, names, payload, reads,
    scan, storage, tags, writes,
)  # fmt: skip

Input = dict[str, Any]
Output = dict[str, Any]
Upload = dict[str, Any]
Part = dict[str, Any]

MIN_PART = 5 * 1024**2
MAX_PART = 5 * 1024**3
MAX_PARTS = 10_000
_LOCK_PARAMS = ("ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus")
_COPY_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


# errors, in S3's words --------------------------------------------------------------------
def _no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or "
        "completed.",
        404,
        fields={"UploadId": upload_id},
    )


def _invalid_part(upload_id: str, number: int, etag: str) -> ServiceError:
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the "
        "specified entity tag may not have matched the part's entity tag.",
        400,
        fields={"UploadId": upload_id, "PartNumber": str(number), "ETag": etag},
    )


def _invalid_part_order(upload_id: str) -> ServiceError:
    return ServiceError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
        400,
        fields={"UploadId": upload_id},
    )


def _entity_too_small(size: int, number: int, etag: str) -> ServiceError:
    return ServiceError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        400,
        fields={"ProposedSize": str(size), "MinSizeAllowed": str(MIN_PART), "PartNumber": str(number),
                "ETag": etag.strip('"')},
    )


def _entity_too_large(size: int) -> ServiceError:
    return ServiceError(
        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
        fields={"ProposedSize": str(size), "MaxSizeAllowed": str(MAX_PART)},
    )


def _checksum_mismatch(expected: str | None, actual: str | None) -> ServiceError:
    exp = expected.lower() if expected else "null"
    act = actual.lower() if actual else "null"
    return errors.invalid_request(
        f"Checksum Type mismatch occurred, expected checksum Type: {exp}, actual checksum Type: {act}"
    )


def _check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise errors.invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", str(number)
        )


# records ---------------------------------------------------------------------------------
def _upload_key(bucket: str, key: str, upload_id: str) -> str:
    return f"{bucket}/{key}\0{upload_id}"


def _part_key(upload_id: str, number: int) -> str:
    return f"{upload_id}/{number:05d}"


def _get_upload(t: Tx, bucket: str, key: str, upload_id: str) -> Upload:
    rec = t.get("mpu", _upload_key(bucket, key, upload_id))
    if rec is None:
        raise _no_such_upload(upload_id)
    return rec.value


def _parts(t: Tx, upload_id: str, after: int = 0, limit: int | None = None) -> list[Part]:
    start = _part_key(upload_id, after) if after else None
    return [r.value for r in t.scan("part", f"{upload_id}/", after=start, limit=limit)]


def _uploads(t: Tx, bucket: str, prefix: str = "") -> Iterator[Upload]:
    """Every upload in a bucket under a key prefix, in listing order (for lifecycle)."""
    last = None
    while True:
        recs = t.scan("mpu", f"{bucket}/{prefix}", after=last, limit=500)
        yield from (r.value for r in recs)
        if len(recs) < 500:
            return
        last = recs[-1].key


def _abort_upload(t: Tx, bucket: str, upload: Upload) -> None:
    """Drop an upload and every part's body (AbortMultipartUpload, and lifecycle's
    AbortIncompleteMultipartUpload)."""
    for part in _parts(t, upload["uid"]):
        t.drop_blob(part["blob"])
        t.delete("part", _part_key(upload["uid"], part["n"]))
    t.delete("mpu", _upload_key(bucket, upload["key"], upload["uid"]))


def _effective_algorithm(upload: Upload) -> str:
    """The algorithm of the completed object's checksum: the upload's, else S3's default."""
    return upload.get("alg") or "CRC64NVME"


def _abort_headers(t: Tx, bucket: str, key: str, initiated: float) -> Output:
    rules = storage.get_config(t, bucket, "lifecycle")
    found = lifecycle.abort_date(rules.get("Rules") or [], key, initiated) if rules else None
    if found is None:
        return {}
    at, rule_id = found
    return {"AbortDate": datetime.fromtimestamp(at, timezone.utc), "AbortRuleId": rule_id}


def _initiator(ctx: Context) -> dict[str, str]:
    arn = ctx.principal_arn or ""
    if not arn or arn.endswith(":root"):
        return storage.owner(ctx.account)
    return {"ID": arn, "DisplayName": arn.rsplit("/", 1)[-1]}


# create ----------------------------------------------------------------------------------
def create_multipart_upload(ctx: Context, req: Input) -> Output:
    bucket, key = req["Bucket"], req["Key"]
    names.check_key(key)
    alg = req.get("ChecksumAlgorithm")
    if alg is not None:
        alg = checksums.parse_algorithm(alg)
    ctype = checksums.multipart_type(alg, req.get("ChecksumType"))
    sc = writes.storage_class(req)
    tag_set = tags.parse_tagging(req.get("Tagging"))
    now = storage.now()
    upload_id = f"{clock.sequence():016x}" + secrets.token_urlsafe(36)
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, bucket)
        writes.check_acl(t, bucket, req)
        lock = locking.for_new_version(t, b, req)
        _data_key, sse = encryption.for_write(ctx, t, bucket, req)  # kept wrapped in `sse`: every part uses it
        upload: Upload = {
            "key": key, "uid": upload_id, "initiated": now, "owner": ctx.account, "initiator": _initiator(ctx),
            "ct": req.get("ContentType") or "binary/octet-stream", "hdrs": writes.content_headers(req),
            "meta": dict(req.get("Metadata") or {}), "tags": tag_set, "sc": sc, "acl": req.get("ACL"),
            "sse": sse, "lock": lock, "lock_req": {k: req[k] for k in _LOCK_PARAMS if req.get(k) is not None},
            "alg": alg, "ctype": ctype,
        }
        t.put("mpu", _upload_key(bucket, key, upload_id), upload)
        out: Output = {"Bucket": bucket, "Key": key, "UploadId": upload_id, **_abort_headers(t, bucket, key, now)}
    out.update(encryption.output(upload, req))
    if alg is not None:
        out["ChecksumAlgorithm"] = alg
        out["ChecksumType"] = ctype
    return out


def _part_data_key(ctx: Context, t: Tx, upload: Upload, req: Input) -> bytes:
    """The upload's data key; an SSE-C upload needs its customer key on every part."""
    sse = upload.get("sse")
    customer = encryption.customer_key(req)
    if crypto.is_customer(sse):
        if customer is None:
            raise crypto.part_encryption_mismatch()
        if not crypto.check_customer_key(sse, customer):
            raise crypto.part_key_mismatch()
    elif customer is not None:
        raise crypto.part_encryption_mismatch()
    key = encryption.for_read(ctx, t, upload, req)
    assert key is not None  # every upload is sealed (encryption.for_write)
    return key


# parts -----------------------------------------------------------------------------------
def upload_part(ctx: Context, req: Input) -> Any:
    _check_part_number(req["PartNumber"])
    if payload.worth_a_thread(req.get("Body")) and not ctx.internal:
        return asyncio.to_thread(_upload_part, ctx, req)  # hashing and sealing a large body off the loop
    return _upload_part(ctx, req)


def _upload_part(ctx: Context, req: Input) -> Output:
    bucket, key, upload_id, number = req["Bucket"], req["Key"], req["UploadId"], req["PartNumber"]
    body = req.get("Body")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, BodyStream) and body.size is not None and body.size > MAX_PART:
        raise _entity_too_large(body.size)
    wanted = checksums.from_params(req)
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        upload = _get_upload(t, bucket, key, upload_id)
        data_key = _part_data_key(ctx, t, upload, req)
    if upload.get("alg") and (wanted is None or wanted[0] != upload["alg"]):
        raise _checksum_mismatch(upload["alg"], wanted[0] if wanted else None)
    algorithms = {_effective_algorithm(upload)} | ({wanted[0]} if wanted else set())
    db = ctx.gateway.db(storage.SERVICE)
    stored = payload.store(db, body, data_key, sorted(algorithms), inline=False)
    try:
        client_cks = writes.verify(req, stored, wanted)  # Content-MD5 and the part's own checksum
        part = _part_record(number, stored, client_cks["alg"], _effective_algorithm(upload))
        _commit_part(ctx, bucket, key, upload_id, part, stored)
    except BaseException:
        stored.discard(db)
        raise
    cks = part["cks"]
    return {"ETag": part["etag"], checksums.param_name(cks["alg"]): cks["value"], **encryption.output(upload, req)}


def _part_record(number: int, stored: payload.Stored, shown: str, effective: str) -> Part:
    return {
        "n": number, "size": stored.size, "etag": f'"{stored.md5.hex()}"', "blob": stored.blob,
        "mtime": storage.now(), "md5": stored.md5, "d": stored.digests[effective],
        "cks": {"alg": shown, "value": checksums.b64(stored.digests[shown])},
    }


def _commit_part(ctx: Context, bucket: str, key: str, upload_id: str, part: Part, stored: payload.Stored) -> None:
    """Adopt the part's blob and replace any earlier part with its number (its blob dropped)."""
    with storage.tx(ctx) as t:
        _get_upload(t, bucket, key, upload_id)  # still there: not completed or aborted meanwhile
        stored.adopt(t)
        pkey = _part_key(upload_id, part["n"])
        old = t.get("part", pkey)
        if old is not None:
            t.drop_blob(old.value["blob"])
        t.put("part", pkey, part)


def upload_part_copy(ctx: Context, req: Input) -> Any:
    _check_part_number(req["PartNumber"])
    if not ctx.internal:
        return asyncio.to_thread(_upload_part_copy, ctx, req)
    return _upload_part_copy(ctx, req)


def _copy_range(header: str | None, size: int) -> tuple[int, int]:
    if header is None:
        return 0, size - 1
    m = _COPY_RANGE.fullmatch(header.strip())
    if m is None:
        raise errors.invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the "
            "zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range", header,
        )
    start, end = int(m.group(1)), int(m.group(2))
    if start > end or end >= size:
        raise conditions.invalid_range(header, size)
    return start, end


def _upload_part_copy(ctx: Context, req: Input) -> Output:
    bucket, key, upload_id, number = req["Bucket"], req["Key"], req["UploadId"], req["PartNumber"]
    db = ctx.gateway.db(storage.SERVICE)
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        upload = _get_upload(t, bucket, key, upload_id)
        sb, src, src_key = reads.read_source(ctx, t, req)
        data_key = _part_data_key(ctx, t, upload, req)
    rng = req.get("CopySourceRange")
    if rng is None and src["size"] > MAX_PART:
        raise errors.invalid_request(
            f"The specified copy source is larger than the maximum allowable size for a copy source: {MAX_PART}"
        )
    start, end = _copy_range(rng, src["size"])
    length = end - start + 1
    if length > MAX_PART:
        raise _entity_too_large(length)
    effective = _effective_algorithm(upload)
    source = payload.Plain(payload.copy_source(db, src, src_key, start, end), length)
    stored = payload.store(db, source, data_key, [effective], inline=False)
    try:
        part = _part_record(number, stored, effective, effective)
        _commit_part(ctx, bucket, key, upload_id, part, stored)
    except BaseException:
        stored.discard(db)
        raise
    result: Output = {"ETag": part["etag"], "LastModified": datetime.fromtimestamp(int(part["mtime"]), timezone.utc)}
    if upload.get("alg"):
        result[checksums.param_name(effective)] = part["cks"]["value"]
    out: Output = {"CopyPartResult": result, **encryption.output(upload, req)}
    if sb.get("versioning"):
        out["CopySourceVersionId"] = src["vid"]
    return out


# listing ---------------------------------------------------------------------------------
def _limit(req: Input, member: str, wire: str) -> int:
    n = req.get(member)
    if n is None:
        return 1000
    if n < 0:
        raise errors.invalid_argument(f"Argument {wire} must be an integer between 0 and 2147483647", wire, str(n))
    return min(n, 1000)


def list_parts(ctx: Context, req: Input) -> Output:
    bucket, key, upload_id = req["Bucket"], req["Key"], req["UploadId"]
    marker = req.get("PartNumberMarker") or 0
    limit = _limit(req, "MaxParts", "max-parts")
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        upload = _get_upload(t, bucket, key, upload_id)
        page = _parts(t, upload_id, after=marker, limit=limit + 1) if limit else []
        abort = _abort_headers(t, bucket, key, upload["initiated"])
    truncated = len(page) > limit
    page = page[:limit]
    entries = []
    for p in page:
        e: Output = {"PartNumber": p["n"], "LastModified": datetime.fromtimestamp(int(p["mtime"]), timezone.utc),
                     "ETag": p["etag"], "Size": p["size"]}
        if upload.get("alg"):
            e[checksums.param_name(upload["alg"])] = p["cks"]["value"]
        entries.append(e)
    out: Output = {
        "Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumberMarker": marker,
        "NextPartNumberMarker": page[-1]["n"] if page else 0, "MaxParts": limit, "IsTruncated": truncated,
        "Initiator": upload["initiator"], "Owner": storage.owner(upload["owner"]), "StorageClass": upload["sc"],
        **abort,
    }
    if entries:
        out["Parts"] = entries
    if upload.get("alg"):
        out["ChecksumAlgorithm"] = upload["alg"]
        out["ChecksumType"] = upload["ctype"]
    return out


def list_multipart_uploads(ctx: Context, req: Input) -> Output:
    bucket = req["Bucket"]
    prefix = req.get("Prefix") or ""
    delimiter = req.get("Delimiter") or None
    key_marker = req.get("KeyMarker") or None
    uid_marker = req.get("UploadIdMarker") or None
    limit = _limit(req, "MaxUploads", "max-uploads")
    enc = scan.encoder(req)
    after = scan.resume_after(bucket, key_marker, delimiter,
                              (lambda key: _upload_key(bucket, key, uid_marker)) if uid_marker else None)
    uploads: list[Output] = []
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        pg = scan.page(t, "mpu", bucket, prefix, delimiter, after, limit)
    for u in pg.records:
        entry: Output = {
            "UploadId": u["uid"], "Key": enc(u["key"]),
            "Initiated": datetime.fromtimestamp(int(u["initiated"]), timezone.utc),
            "StorageClass": u["sc"], "Owner": storage.owner(u["owner"]), "Initiator": u["initiator"],
        }
        if u.get("alg"):
            entry["ChecksumAlgorithm"] = u["alg"]
            entry["ChecksumType"] = u["ctype"]
        uploads.append(entry)
    out: Output = {
        "Bucket": bucket, "KeyMarker": enc(key_marker or ""), "UploadIdMarker": uid_marker or "",
        "Prefix": enc(prefix), "MaxUploads": limit, "IsTruncated": pg.truncated,
    }
    next_key, next_uid = pg.next_markers("uid")
    if next_key is not None:
        out["NextKeyMarker"] = enc(next_key)
        out["NextUploadIdMarker"] = next_uid or ""
    if uploads:
        out["Uploads"] = uploads
    return scan.shared_output(out, req, enc, pg.prefixes, delimiter)


# complete / abort ------------------------------------------------------------------------
def _whole_checksum(req: Input) -> tuple[str, str] | None:
    """The whole-object checksum a CompleteMultipartUpload states, if any."""
    found = None
    for alg in checksums.ALGORITHMS:
        value = req.get(checksums.param_name(alg))
        if value is not None:
            if found is not None:
                raise checksums.multiple_values()
            found = (alg, value)
    return found


def _choose_parts(upload: Upload, stored: dict[int, Part], listed: list[Input]) -> list[Part]:
    """The parts a CompleteMultipartUpload names, checked in order as S3 checks them."""
    uid, alg = upload["uid"], upload.get("alg")
    chosen: list[Part] = []
    for item in listed:
        number, etag = item.get("PartNumber"), item.get("ETag") or ""
        if number is None:
            raise errors.malformed_xml()
        part = stored.get(number)
        if part is None or etag.strip().strip('"') != part["etag"].strip('"'):
            raise _invalid_part(uid, number, etag)
        if alg is not None:
            value = item.get(checksums.param_name(alg))
            if value is None:
                if upload["ctype"] == checksums.COMPOSITE:
                    raise checksums.missing_part_checksum(alg, number)
            elif checksums.decode(alg, value) != part["d"]:
                raise _invalid_part(uid, number, etag)
        chosen.append(part)
    for part in chosen[:-1]:  # sizes only once every part is known to be there
        if part["size"] < MIN_PART:
            raise _entity_too_small(part["size"], part["n"], part["etag"])
    return chosen


def _object_checksum(upload: Upload, chosen: list[Part], req: Input) -> dict[str, Any]:
    alg = _effective_algorithm(upload)
    ctype = upload.get("ctype") or checksums.FULL_OBJECT
    asked_type = req.get("ChecksumType")
    if asked_type is not None and asked_type != ctype:
        raise errors.invalid_request(
            f"The upload was created using the {ctype} checksum mode. The complete request must use the same "
            "checksum mode."
        )
    if ctype == checksums.COMPOSITE:
        value = checksums.composite(alg, [p["d"] for p in chosen])
    else:
        value = checksums.combine_full(alg, [(p["d"], p["size"]) for p in chosen])
    whole = _whole_checksum(req)
    if whole is not None:
        if whole[0] != alg:
            raise _checksum_mismatch(alg, whole[0])
        checksums.check(alg, whole[1], value, complete=True)
    return {"alg": alg, "value": value, "type": ctype}


def complete_multipart_upload(ctx: Context, req: Input) -> Output:
    bucket, key, upload_id = req["Bucket"], req["Key"], req["UploadId"]
    listed = (req.get("MultipartUpload") or {}).get("Parts") or []
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, bucket)
        upload = _get_upload(t, bucket, key, upload_id)
        if not listed:
            raise errors.malformed_xml()
        numbers = [p.get("PartNumber") or 0 for p in listed]
        if any(lo >= hi for lo, hi in zip(numbers, numbers[1:])):
            raise _invalid_part_order(upload_id)
        if crypto.is_customer(upload.get("sse")) and encryption.customer_key(req) is not None:
            _part_data_key(ctx, t, upload, req)  # a key sent must be the upload's
        conditions.check_write(req, storage.current(t, bucket, key))
        all_parts = {p["n"]: p for p in _parts(t, upload_id)}
        chosen = _choose_parts(upload, all_parts, listed)
        cks = _object_checksum(upload, chosen, req)
        size = sum(p["size"] for p in chosen)
        expected_size = req.get("MpuObjectSize")
        if expected_size is not None and expected_size != size:
            raise errors.invalid_request(
                f"The provided 'x-amz-mp-object-size' header value {expected_size} does not match what was computed: "
                f"{size}"
            )
        lock_req = upload.get("lock_req") or {}
        lock = upload.get("lock") if lock_req.get("ObjectLockMode") else locking.for_new_version(t, b, lock_req)
        md5s = b"".join(p["md5"] for p in chosen)
        v: storage.Version = {
            "key": key, "dm": False, "mtime": storage.now(), "size": size,
            "etag": f'"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"',
            "data": None, "blob": None,
            "chunks": [{"blob": p["blob"], "size": p["size"]} for p in chosen],
            "parts": [p["size"] for p in chosen],
            "part_cks": [checksums.b64(p["d"]) for p in chosen],  # of cks["alg"], for GetObjectAttributes
            "ct": upload["ct"], "hdrs": upload["hdrs"], "meta": upload["meta"], "tags": upload["tags"],
            "sc": upload["sc"], "cks": cks, "sse": upload["sse"], "lock": lock, "owner": upload["owner"],
            "acl": upload.get("acl"),
        }
        kept = {p["n"] for p in chosen}
        for number, part in all_parts.items():
            if number not in kept:
                t.drop_blob(part["blob"])
            t.delete("part", _part_key(upload_id, number))
        t.delete("mpu", _upload_key(bucket, key, upload_id))
        storage.add_version(t, b, v)
        effects.object_created(ctx, t, b, v, "CompleteMultipartUpload")
        expiry = effects.expiration(t, b, v)
    out: Output = {
        "Location": f"{public_url(ctx.gateway.config)}/{bucket}/{quote(key)}",
        "Bucket": bucket, "Key": key, "ETag": v["etag"], **checksums.output_params(cks), **expiry,
    }
    sse_out = encryption.output(v, req)  # Complete's answer has no SSE-C members
    out.update({k: val for k, val in sse_out.items() if k in ("ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled")})
    if b.get("versioning"):
        out["VersionId"] = v["vid"]
    return out


def abort_multipart_upload(ctx: Context, req: Input) -> Output:
    bucket, key, upload_id = req["Bucket"], req["Key"], req["UploadId"]
    with storage.tx(ctx) as t:
        storage.get_bucket(t, bucket)
        upload = _get_upload(t, bucket, key, upload_id)
        initiated = req.get("IfMatchInitiatedTime")
        if initiated is not None and int(initiated.timestamp()) != int(upload["initiated"]):
            raise errors.precondition_failed("x-amz-if-match-initiated-time")
        _abort_upload(t, bucket, upload)
    return {}
