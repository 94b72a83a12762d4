"""Object bodies in and out: hashed, sealed and written in one pass, read back in pieces.

A body is never held whole unless it is small: an upload arrives as bytes (up to the
transport's spool threshold) or a ``BodyStream`` read in 1 MiB pieces; each piece is
MD5'd (the ETag), checksummed when asked, sealed (``crypto``) and written to a blob file
outside any transaction, which the caller then adopts in its ``tx()``. Bodies up to
``INLINE_MAX`` are kept sealed inside the version record instead: a file per 1 KiB
object would cost more than the object. Reads decrypt only the segments a range covers.

A completed multipart upload is not copied into one body: its version lists the parts'
blobs in order (``chunks``: ``[{"blob", "size"}]``), each its own sealed stream under the
upload's one data key, and a read walks the chunks its range covers.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Iterator

from cloudlet.core import checksums
from cloudlet.core.store import ServiceDB, Tx
from cloudlet.protocol.http import PIECE, BodyStream, OutStream
from cloudlet.services.s3 import crypto

INLINE_MAX = 64 * 1024

Source = bytes | BodyStream


@dataclass(slots=True)
class Stored:
    """What writing a body produced: its size and digests, and where it lives."""

    size: int
    md5: bytes
    digests: dict[str, bytes] = field(default_factory=dict)  # algorithm -> raw digest
    data: bytes | None = None  # sealed, inline
    blob: str | None = None
    trailers: dict[str, str] = field(default_factory=dict)

    def adopt(self, t: Tx) -> None:
        if self.blob is not None:
            t.adopt_blob(self.blob, self.size)

    def discard(self, db: ServiceDB) -> None:
        """Remove a written file whose record will not be committed."""
        if self.blob is not None:
            db.discard_blob(self.blob)
            self.blob = None


class Plain(BodyStream):
    """A stored version's plaintext pieces, as a body to seal again (copies, replicas)."""

    def __init__(self, pieces: Iterator[bytes], size: int) -> None:
        super().__init__()
        self._pieces = pieces
        self.size = size

    def pieces(self, size: int = PIECE) -> Iterator[bytes]:
        return self._pieces


THREAD_AT = 1 << 20  # hashing/sealing more than this goes to a worker thread


def worth_a_thread(source: Any) -> bool:
    """Whether a body is large enough to hash and seal off the event loop: hashlib, zlib
    and file writes release the GIL, so parts uploaded in parallel use both cores while
    the loop keeps receiving (a thread hop costs ~50 µs: not for small objects)."""
    if isinstance(source, BodyStream):
        return True
    return isinstance(source, (bytes, bytearray)) and len(source) > THREAD_AT


def is_inline(source: Source | None) -> bool:
    """Whether a body is small enough to be kept inside its version record."""
    return source is None or (isinstance(source, (bytes, bytearray)) and len(source) <= INLINE_MAX)


def source_pieces(source: Source | None) -> Iterable[bytes]:
    if source is None:
        return ()
    if isinstance(source, (bytes, bytearray, memoryview)):
        return (bytes(source),) if source else ()
    return source.pieces(PIECE)


def store(db: ServiceDB, source: Source | None, data_key: bytes | None, algorithms: Iterable[str] = (),
          *, inline: bool = True) -> Stored:
    """Hash, seal and write a body; small ones come back inline (``data``) unless `inline`
    is False (multipart parts: a completed upload references every part's blob)."""
    md5 = hashlib.md5()
    hashers = {alg: checksums.Hasher(alg) for alg in algorithms}
    sealer = crypto.Sealer(data_key) if data_key is not None else None
    size = 0

    def sealed() -> Iterator[bytes]:
        nonlocal size
        for piece in source_pieces(source):
            size += len(piece)
            md5.update(piece)
            for h in hashers.values():
                h.update(piece)
            out = sealer.update(piece) if sealer is not None else piece
            if out:
                yield out
        if sealer is not None:
            yield sealer.finish()

    if inline and is_inline(source):
        data = b"".join(sealed())
        result = Stored(size, md5.digest(), data=data)
    else:
        blob_id, _ = db.write_blob(sealed())
        result = Stored(size, md5.digest(), blob=blob_id)
    result.digests = {alg: h.digest() for alg, h in hashers.items()}
    if isinstance(source, BodyStream):
        result.trailers = dict(source.trailers)
    return result


def copy_source(db: ServiceDB, v: dict[str, Any], data_key: bytes | None, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The plaintext of a stored version (or a range of it), in pieces: for copies."""
    size = v["size"]
    if end is None:
        end = size - 1
    if size == 0 or end < start:
        return iter(())
    return _plain(db, v, data_key, start, end)


def _plain(db: ServiceDB, v: dict[str, Any], data_key: bytes | None, start: int, end: int) -> Generator[bytes, None, None]:
    chunks = v.get("chunks")
    if not chunks:
        yield from _plain_stream(lambda: _open(db, v), v["size"], data_key, start, end)
        return
    base = 0
    for chunk in chunks:  # a multipart object: each part is its own sealed stream
        size = chunk["size"]
        lo, hi = max(start, base), min(end, base + size - 1)
        if lo <= hi:
            opener = lambda blob=chunk["blob"]: db.blobs.open(blob)  # noqa: E731
            yield from _plain_stream(opener, size, data_key, lo - base, hi - base)
        base += size
        if base > end:
            return


def _plain_stream(opener: Callable[[], Any], size: int, data_key: bytes | None, start: int, end: int
                  ) -> Iterator[bytes]:
    f = opener()
    try:
        if data_key is None:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                piece = f.read(min(PIECE, left))
                if not piece:
                    raise crypto.IntegrityError("stored body is truncated")
                left -= len(piece)
                yield piece
        else:
            yield from crypto.open_range(f, data_key, size, start, end)
    finally:
        f.close()


def _open(db: ServiceDB, v: dict[str, Any]) -> Any:
    if v.get("data") is not None:
        return io.BytesIO(v["data"])
    return db.blobs.open(v["blob"])


def read(db: ServiceDB, v: dict[str, Any], data_key: bytes | None, start: int, end: int) -> bytes | OutStream:
    """The body (or the range ``start..end``) to answer a GET with: bytes when small,
    else an ``OutStream`` reading the file piece by piece as the client takes it."""
    length = end - start + 1 if v["size"] else 0
    if length <= 0:
        if data_key is not None and v["size"] == 0:  # still authenticate the empty body
            b"".join(_plain_empty(db, v, data_key))
        return b""
    if v.get("data") is not None or length <= INLINE_MAX:
        return b"".join(_plain(db, v, data_key, start, end))
    pieces = _plain(db, v, data_key, start, end)
    return OutStream(length, pieces, pieces.close)


def _plain_empty(db: ServiceDB, v: dict[str, Any], data_key: bytes) -> Iterator[bytes]:
    chunks = v.get("chunks")
    openers = [lambda c=c: db.blobs.open(c["blob"]) for c in chunks] if chunks else [lambda: _open(db, v)]
    for opener in openers:
        yield from _plain_stream(opener, 0, data_key, 0, -1)  # authenticates the empty stream
