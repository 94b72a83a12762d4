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
from typing import Iterator

from cloudlet.protocol.http import PIECE, BodyStream, Request

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


class ChunkParser:
    """aws-chunked decoding fed piece by piece, so a 5 GiB upload streams through it.

    ``feed`` returns the payload bytes found so far (views into the fed data: no copy for
    a body fed whole); ``finish`` checks the body ended where it should and the trailer
    signature. With `verified` (the request's checked seed signature) the chunk and
    trailer signatures of ``STREAMING-AWS4-HMAC-SHA256-*`` bodies are checked; without
    it they are read and ignored, as when signatures are not enforced.
    """

    _SIZE, _DATA, _DATA_END, _TRAILERS, _END, _DONE = range(6)

    def __init__(self, mode: str, verified: Verified | None = None) -> None:
        self.mode = mode
        self.verified = verified
        self.check = verified is not None and mode in (SIGNED, SIGNED_TRAILER) and verified.signed.algorithm == ALGORITHM
        self.prev = verified.signed.signature if verified is not None else ""
        self.trailers: dict[str, str] = {}
        self.length = 0  # payload bytes so far
        self._trailer_sig: str | None = None
        self._state = self._SIZE
        self._left = 0  # bytes of the current chunk still to come
        self._ext = b""
        self._hash = hashlib.sha256() if self.check else None
        self._carry = b""  # an unfinished line (or chunk terminator) from the last piece

    def feed(self, data: bytes) -> list[memoryview]:
        out: list[memoryview] = []
        buf = self._carry + data if self._carry else data
        self._carry = b""
        view = memoryview(buf)
        n = len(buf)
        pos = 0
        while pos < n:
            state = self._state
            if state == self._DATA:
                take = min(self._left, n - pos)
                piece = view[pos : pos + take]
                out.append(piece)
                if self._hash is not None:
                    self._hash.update(piece)
                self._left -= take
                self.length += take
                pos += take
                if not self._left:
                    self._state = self._DATA_END
            elif state == self._DATA_END:
                if n - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":  # an overlong chunk
                    raise incomplete_body()
                pos += 2
                self._chunk_done()
                self._state = self._SIZE
            elif state == self._DONE:
                raise incomplete_body()  # bytes after the end
            else:
                eol = buf.find(b"\r\n", pos, pos + _MAX_LINE)
                if eol < 0:
                    if n - pos >= _MAX_LINE:
                        raise incomplete_body()
                    break
                line = buf[pos:eol]
                pos = eol + 2
                self._line(line)
        if pos < n:
            self._carry = bytes(buf[pos:])
        return out

    def _line(self, line: bytes) -> None:
        state = self._state
        if state == self._SIZE:
            size_field, _, ext = line.partition(b";")
            size_field = size_field.strip()
            if not _SIZE.fullmatch(size_field):
                raise incomplete_body()
            self._left = int(size_field, 16)
            self._ext = ext
            if self._left:
                self._state = self._DATA
                return
            self._chunk_done()  # the final, empty chunk
            trailing = self.mode in _TRAILER_MODES
            self._state = self._TRAILERS if trailing or self.mode not in (SIGNED, ECDSA) else self._END
        elif state == self._TRAILERS:
            if not line:
                self._state = self._DONE
                return
            name, colon, value = line.partition(b":")
            if not colon:
                raise incomplete_body()
            key = name.strip().decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            if key == "x-amz-trailer-signature":
                self._trailer_sig = text
            else:
                self.trailers[key] = text
        elif state == self._END:
            if line:
                raise incomplete_body()
            self._state = self._DONE

    def _chunk_done(self) -> None:
        if self._hash is not None:
            assert self.verified is not None
            self.prev = _check_chunk(self.verified, self.prev, self._ext, self._hash.hexdigest())
            self._hash = hashlib.sha256()

    def finish(self, declared_length: str | None = None) -> None:
        if self._state != self._DONE or self._carry:
            raise incomplete_body()
        if self.check and self.mode == SIGNED_TRAILER:
            assert self.verified is not None
            _check_trailer(self.verified, self.prev, self.trailers, self._trailer_sig)
        if declared_length is not None and declared_length.strip() != str(self.length):
            raise incomplete_body()


def decode(req: Request, verified: Verified | None = None) -> Decoded:
    """The payload and trailer headers of an aws-chunked body held in memory."""
    parser = ChunkParser(req.headers.get("x-amz-content-sha256", ""), verified)
    parts = parser.feed(req.body)
    parser.finish(req.headers.get("x-amz-decoded-content-length"))
    return Decoded(b"".join(parts), parser.trailers)


class DechunkedBody(BodyStream):
    """A spooled aws-chunked body, decoded as it is read: trailers (the checksum) and
    chunk signatures are known and checked only once the last piece has been read."""

    def __init__(self, raw: BodyStream, parser: ChunkParser, declared: str | None) -> None:
        super().__init__()
        self.raw = raw
        self.parser = parser
        self.declared = declared
        self.size = int(declared) if declared and declared.strip().isdigit() else None

    def pieces(self, size: int = PIECE) -> Iterator[bytes]:
        parser = ChunkParser(self.parser.mode, self.parser.verified)  # each read starts afresh
        for raw in self.raw.pieces(size):
            for part in parser.feed(raw):
                yield bytes(part)
        parser.finish(self.declared)
        self.trailers = parser.trailers

    def close(self) -> None:
        self.raw.close()


def unwrap(req: Request, verified: Verified | None = None) -> Request:
    """The request as if it had been sent plain: decoded body, trailers as headers,
    ``aws-chunked`` gone from Content-Encoding. Returns `req` itself if not aws-chunked.

    A spooled body is decoded lazily (`DechunkedBody`): its trailers reach the handler
    through the stream, not the headers."""
    if not is_aws_chunked(req):
        return req
    headers = dict(req.headers)
    encoding = strip_aws_chunked(headers.pop("content-encoding", None))
    if encoding:
        headers["content-encoding"] = encoding
    headers.pop("transfer-encoding", None)
    if req.stream is not None:
        mode = headers.get("x-amz-content-sha256", "")
        declared = headers.get("x-amz-decoded-content-length")
        stream = DechunkedBody(req.stream, ChunkParser(mode, verified), declared)
        if declared is not None:
            headers["content-length"] = declared
        return Request(req.method, req.path, req.query, headers, b"", stream)
    decoded = decode(req, verified)
    # only declared trailers (and checksums) become headers: an unsigned trailer must not
    # be able to smuggle in, say, an ACL header the signature never covered
    declared_names = {t.strip().lower() for t in headers.get("x-amz-trailer", "").split(",")}
    headers.update(
        (k, v) for k, v in decoded.trailers.items() if k in declared_names or k.startswith("x-amz-checksum-")
    )
    headers["content-length"] = str(len(decoded.body))
    return Request(req.method, req.path, req.query, headers, decoded.body)


def strip_aws_chunked(content_encoding: str | None) -> str | None:
    """What Content-Encoding the object keeps once aws-chunked is removed (S3 stores the rest)."""
    if not content_encoding:
        return None
    rest = [e.strip() for e in content_encoding.split(",") if e.strip() and e.strip().lower() != "aws-chunked"]
    return ",".join(rest) or None


def _check_chunk(verified: Verified, prev: str, ext: bytes, data_sha256: str) -> str:
    """Verify one chunk's signature; it becomes `prev` for the next."""
    name, _, sig = ext.partition(b"=")
    if name.strip() != b"chunk-signature":
        raise incomplete_body()
    provided = sig.strip().decode("latin-1")
    signed = verified.signed
    sts = (
        f"AWS4-HMAC-SHA256-PAYLOAD\n{signed.amz_date}\n{signed.scope}\n{prev}\n"
        f"{EMPTY_SHA256}\n{data_sha256}"
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
