"""aws-chunked request bodies: S3 uploads sent as signed or unsigned chunks plus trailers.

The body is a run of ``hex-size[;chunk-signature=sig]\\r\\n data \\r\\n`` chunks ending
with a zero-size chunk, then (for the ``-TRAILER`` variants) trailer lines such as
``x-amz-checksum-crc32:AAAAAA==`` and, when signed, ``x-amz-trailer-signature:sig``,
then a blank line. Current boto3 sends ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` with a
CRC32 trailer for every PutObject/UploadPart, so this path is hot: it slices one
memoryview and joins once.

Signed chunks chain: chunk n is signed over the signature of chunk n-1, starting from
the request's own (seed) signature, so a dropped, reordered or altered chunk fails.
Every malformation is S3's ``IncompleteBody`` (400), as S3 answers it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cloudlet.auth.sigv4 import ALGORITHM, EMPTY_SHA256, S3, Verified, hmac_hex, same, signature_mismatch
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
ECDSA = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
ECDSA_TRAILER = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
_TRAILER_MODES = (SIGNED_TRAILER, UNSIGNED_TRAILER, ECDSA_TRAILER)
_MAX_LINE = 4096  # a size line is ~90 bytes (SigV4a's ~230); beyond this it is not one
_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")


@dataclass(frozen=True, slots=True)
class Decoded:
    body: bytes
    trailers: dict[str, str]


def is_aws_chunked(req: Request) -> bool:
    """Some SDKs (Java v2) send aws-chunked under ``UNSIGNED-PAYLOAD``: trust either sign."""
    sha = req.headers.get("x-amz-content-sha256", "")
    if sha.startswith("STREAMING-"):
        return True
    return "aws-chunked" in req.headers.get("content-encoding", "")


def incomplete_body() -> ServiceError:
    return ServiceError("IncompleteBody", "The request body terminated unexpectedly", 400)


def decode(req: Request, verified: Verified | None = None) -> Decoded:
    """The payload and trailer headers of an aws-chunked body.

    With `verified` (the request's checked seed signature) chunk and trailer signatures
    of ``STREAMING-AWS4-HMAC-SHA256-*`` bodies are checked too; without it they are read
    and ignored, as when signatures are not enforced.
    """
    mode = req.headers.get("x-amz-content-sha256", "")
    check = verified is not None and mode in (SIGNED, SIGNED_TRAILER) and verified.signed.algorithm == ALGORITHM
    body = req.body
    n = len(body)
    view = memoryview(body)
    parts: list[memoryview] = []
    prev = verified.signed.signature if verified is not None else ""
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos, pos + _MAX_LINE)
        if eol < 0:
            raise incomplete_body()
        size_field, _, ext = body[pos:eol].partition(b";")
        size_field = size_field.strip()
        if not _SIZE.fullmatch(size_field):
            raise incomplete_body()
        size = int(size_field, 16)
        start = eol + 2
        end = start + size
        if size:
            if body[end : end + 2] != b"\r\n":  # short (truncated) or overlong chunk
                raise incomplete_body()
        if check:
            assert verified is not None
            prev = _check_chunk(verified, prev, ext, view[start:end])
        if not size:
            pos = start
            break
        parts.append(view[start:end])
        pos = end + 2
    trailers: dict[str, str] = {}
    trailer_sig: str | None = None
    if mode in _TRAILER_MODES or (mode not in (SIGNED, ECDSA) and body[pos : pos + 2] != b"\r\n"):
        while True:
            eol = body.find(b"\r\n", pos, pos + _MAX_LINE)
            if eol < 0:
                raise incomplete_body()
            line = body[pos:eol]
            pos = eol + 2
            if not line:
                break
            name, colon, value = line.partition(b":")
            if not colon:
                raise incomplete_body()
            key = name.strip().decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            if key == "x-amz-trailer-signature":
                trailer_sig = text
            else:
                trailers[key] = text
    else:
        if body[pos : pos + 2] != b"\r\n":
            raise incomplete_body()
        pos += 2
    if pos != n:
        raise incomplete_body()
    if check and mode == SIGNED_TRAILER:
        assert verified is not None
        _check_trailer(verified, prev, trailers, trailer_sig)
    data = b"".join(parts)
    declared = req.headers.get("x-amz-decoded-content-length")
    if declared is not None and declared.strip() != str(len(data)):
        raise incomplete_body()
    return Decoded(data, trailers)


def unwrap(req: Request, verified: Verified | None = None) -> Request:
    """The request as if it had been sent plain: decoded body, trailers as headers,
    ``aws-chunked`` gone from Content-Encoding. Returns `req` itself if not aws-chunked."""
    if not is_aws_chunked(req):
        return req
    decoded = decode(req, verified)
    headers = dict(req.headers)
    # only declared trailers (and checksums) become headers: an unsigned trailer must not
    # be able to smuggle in, say, an ACL header the signature never covered
    declared = {t.strip().lower() for t in headers.get("x-amz-trailer", "").split(",")}
    headers.update(
        (k, v) for k, v in decoded.trailers.items() if k in declared or k.startswith("x-amz-checksum-")
    )
    encoding = strip_aws_chunked(headers.pop("content-encoding", None))
    if encoding:
        headers["content-encoding"] = encoding
    headers["content-length"] = str(len(decoded.body))
    headers.pop("transfer-encoding", None)
    return Request(req.method, req.path, req.query, headers, decoded.body)


def strip_aws_chunked(content_encoding: str | None) -> str | None:
    """What Content-Encoding the object keeps once aws-chunked is removed (S3 stores the rest)."""
    if not content_encoding:
        return None
    rest = [e.strip() for e in content_encoding.split(",") if e.strip() and e.strip().lower() != "aws-chunked"]
    return ",".join(rest) or None


def _check_chunk(verified: Verified, prev: str, ext: bytes, data: memoryview) -> str:
    """Verify one chunk's signature; it becomes `prev` for the next."""
    name, _, sig = ext.partition(b"=")
    if name.strip() != b"chunk-signature":
        raise incomplete_body()
    provided = sig.strip().decode("latin-1")
    signed = verified.signed
    sts = (
        f"AWS4-HMAC-SHA256-PAYLOAD\n{signed.amz_date}\n{signed.scope}\n{prev}\n"
        f"{EMPTY_SHA256}\n{hashlib.sha256(data).hexdigest()}"
    )
    if not same(hmac_hex(verified.key, sts), provided):
        raise signature_mismatch(S3, signed)
    return provided


def _check_trailer(verified: Verified, prev: str, trailers: dict[str, str], provided: str | None) -> None:
    signed = verified.signed
    canonical = "".join(f"{k}:{trailers[k]}\n" for k in sorted(trailers))
    sts = (
        f"AWS4-HMAC-SHA256-TRAILER\n{signed.amz_date}\n{signed.scope}\n{prev}\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    if provided is None or not same(hmac_hex(verified.key, sts), provided):
        raise signature_mismatch(S3, signed)
