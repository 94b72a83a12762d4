"""Plain data between the transport and the protocol layer: no ASGI, no sockets."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Request:
    """One HTTP request as the protocol layer sees it.

    `path` is the raw (still percent-encoded) path and `query` the raw query string,
    because S3 keys and SigV4 both need the exact bytes the client sent. Header names
    are lower-case; repeated headers are joined with ``,`` as HTTP allows.
    """

    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
