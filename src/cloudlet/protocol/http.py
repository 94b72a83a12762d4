"""Plain data between the transport and the protocol layer: no ASGI, no sockets."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Iterator

PIECE = 1 << 20  # how much of a large body is read, hashed or sent at a time

#: Output keys (not model members) a rest handler may set: the HTTP status where the
#: model has no member for it (S3's 206 for a range), and extra headers (CORS).
STATUS = "__status__"
HEADERS = "__headers__"


class BodyStream(ABC):
    """A request body too large to hold in memory (S3 uploads), read in pieces.

    ``size`` is the payload's length when known. ``trailers`` holds trailer headers
    (aws-chunked checksums) once ``pieces()`` has been read to the end.
    """

    size: int | None = None

    def __init__(self) -> None:
        self.trailers: dict[str, str] = {}

    @abstractmethod
    def pieces(self, size: int = PIECE) -> Iterator[bytes]:
        """The body from its start, in pieces of about `size` bytes (each call reads afresh)."""

    def read_all(self) -> bytes:
        return b"".join(self.pieces())

    def close(self) -> None:
        """Release what backs the body (the spool file)."""


class SpooledBody(BodyStream):
    """A body the transport wrote to a temporary file as it arrived."""

    def __init__(self, path: str, size: int) -> None:
        super().__init__()
        self.path = path
        self.size = size

    def pieces(self, size: int = PIECE) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            while True:
                data = f.read(size)
                if not data:
                    return
                yield data

    def close(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def joined_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Raw header pairs as `Request.headers`: lower-case names, repeated headers joined
    with ``,`` as HTTP allows (both transports, http1 and the ASGI app, build it so)."""
    headers: dict[str, str] = {}
    for k, v in raw:
        key = k.decode("latin-1").lower()
        val = v.decode("latin-1")
        headers[key] = headers[key] + "," + val if key in headers else val
    return headers


def read_all(body: "bytes | bytearray | OutStream") -> bytes:
    """A body handed back by an in-process call (S3 GetObject's), whole: bytes as they
    are, an `OutStream` drained and closed."""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    try:
        return b"".join(body.pieces)
    finally:
        body.close()


class OutStream:
    """A response body sent in pieces (an S3 GET of a large object): `length` bytes in
    all, produced by `pieces`; `close` runs once the body is sent or abandoned."""

    __slots__ = ("length", "pieces", "close")

    def __init__(self, length: int, pieces: Iterator[bytes], close: Callable[[], None] = lambda: None) -> None:
        self.length = length
        self.pieces = pieces
        self.close = close


@dataclass(slots=True)
class Request:
    """One HTTP request as the protocol layer sees it.

    `path` is the raw (still percent-encoded) path and `query` the raw query string,
    because S3 keys and SigV4 both need the exact bytes the client sent. Header names
    are lower-case; repeated headers are joined with ``,`` as HTTP allows. A large body
    arrives as `stream` (with `body` empty); everything else has it in `body`.
    """

    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: BodyStream | None = None

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    def body_bytes(self) -> bytes:
        """The whole body, for decoders of documents (never an object's payload)."""
        return self.stream.read_all() if self.stream is not None else self.body


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: OutStream | None = None
