"""The Lambda Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html),
served to one sandbox on its own loopback port, so the port says which sandbox is asking.

A small HTTP/1.1 server on the engine's event loop (asyncio Protocol + httptools): the
runtimes are the only clients, one request at a time each, and a parked ``/next`` is just
a connection whose answer is written later. What the requests mean is the sandbox's
business (``Handler``); this module parses, routes and writes.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import httptools
import orjson

PREFIX = "/2018-06-01/runtime/"
#: the largest response a synchronous invocation may return (AWS: 6 MB, counted this way)
MAX_RESPONSE_BYTES = 6291556
#: what a request body may hold before the connection is dropped rather than read
_HARD_LIMIT = 4 * MAX_RESPONSE_BYTES

_REASONS = {100: "Continue", 200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error"}


class Handler(Protocol):
    """What a sandbox answers. Each returns (status, body), or None for a parked /next."""

    def next(self, conn: "Connection") -> None: ...
    def response(self, request_id: str, body: bytes, too_large: bool) -> tuple[int, bytes]: ...
    def error(self, request_id: str, body: bytes, error_type: str | None) -> tuple[int, bytes]: ...
    def init_error(self, body: bytes, error_type: str | None) -> tuple[int, bytes]: ...
    def gone(self, conn: "Connection") -> None: ...


def error_body(error_type: str, message: str) -> bytes:
    return orjson.dumps({"errorMessage": message, "errorType": error_type})


ACCEPTED = (202, b'{"status":"OK"}')


class Connection(asyncio.Protocol):
    __slots__ = ("handler", "transport", "parser", "url", "headers", "body", "size", "_name", "closed")

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.size = 0
        self._name = b""
        self.closed = False

    # asyncio -----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply(400, error_body("InvalidRequest", "upgrades are not supported"), close=True)
        except httptools.HttpParserError:
            self._reply(400, error_body("InvalidRequest", "malformed HTTP request"), close=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.handler.gone(self)

    # httptools callbacks -------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        # curl asks before sending a body over 1 KiB; without this it waits a second
        if self.headers.get(b"expect", b"").lower() == b"100-continue" and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > _HARD_LIMIT:
            self._reply(413, error_body("RequestEntityTooLarge", "request body too large"), close=True)
            return
        if self.size <= MAX_RESPONSE_BYTES:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.closed:
            return
        method = self.parser.get_method()
        path = self.url.split(b"?", 1)[0].decode("latin-1")
        body = b"".join(self.body)
        too_large = self.size > MAX_RESPONSE_BYTES
        answer = self._route(method, path, body, too_large)
        if answer is not None:
            self._reply(*answer)

    # routing -----------------------------------------------------------------------
    def _route(self, method: bytes, path: str, body: bytes, too_large: bool) -> tuple[int, bytes] | None:
        if not path.startswith(PREFIX):
            return 404, error_body("UnknownPath", f"no such path: {path}")
        rest = path[len(PREFIX):]
        if rest == "invocation/next":
            if method != b"GET":
                return 405, error_body("MethodNotAllowed", "use GET")
            self.handler.next(self)
            return None
        if method != b"POST":
            return 405 if rest == "init/error" or rest.startswith("invocation/") else 404, error_body(
                "MethodNotAllowed", "use POST")
        error_type = self.headers.get(b"lambda-runtime-function-error-type")
        etype = error_type.decode("latin-1") if error_type else None
        if rest == "init/error":
            return self.handler.init_error(body, etype)
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "invocation":
            if parts[2] == "response":
                return self.handler.response(parts[1], body, too_large)
            if parts[2] == "error":
                return self.handler.error(parts[1], body, etype)
        return 404, error_body("UnknownPath", f"no such path: {path}")

    # writing -----------------------------------------------------------------------
    def reply_next(self, headers: list[tuple[str, str]], body: bytes) -> None:
        self._reply(200, body, headers)

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None, close: bool = False) -> None:
        transport = self.transport
        if transport is None or self.closed:
            return
        close = close or not self.parser.should_keep_alive()
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n",
                "Content-Type: application/json\r\n", f"Content-Length: {len(body)}\r\n"]
        if headers:
            head += [f"{k}: {v}\r\n" for k, v in headers]
        if close:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        transport.write("".join(head).encode("latin-1") + body)
        if close:
            self.closed = True
            transport.close()


async def serve(loop: asyncio.AbstractEventLoop, handler: Handler) -> tuple[asyncio.AbstractServer, int]:
    """Listen on an ephemeral loopback port for one sandbox; returns the server and its port."""
    server = await loop.create_server(lambda: Connection(handler), "127.0.0.1", 0, backlog=16)
    port = server.sockets[0].getsockname()[1]
    return server, port
