"""The ASGI app: one port for every service and the admin API.

Plain ASGI, no framework: the transport reads the request into a ``Request``, the
gateway answers a ``Response``. A body larger than ``SPOOL_AT`` (an S3 upload) is written
to a temporary file as it arrives and handed on as a ``SpooledBody``, and a response with
an ``OutStream`` is sent piece by piece, so a 5 GiB object never sits in memory.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any, Awaitable, Callable

from cloudlet.protocol.http import Request, Response, SpooledBody, joined_headers
from cloudlet.server import admin
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Bodies above this go to a file. 1 MiB, not boto3's 8 MiB part size: ten parallel 8 MiB
# parts held (plus their decoded copies) took the server to 308 MB during a 1 GiB upload;
# spooled, it peaks at 105 MB at the same throughput (bench/README.md, S3).
SPOOL_AT = 1024 * 1024


class App:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope["headers"]
        # the server hands names lower-cased (ASGI requires it); repeated headers are rare
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}
        if len(headers) != len(raw):
            headers = joined_headers(raw)
        path = scope.get("raw_path")
        path = path.decode("latin-1").split("?", 1)[0] if path else scope["path"]
        req = Request(scope["method"], path, scope["query_string"].decode("latin-1"), headers)
        if _large(headers):
            req.stream = await _spool(receive, self.gateway.spool_dir)
        else:
            req.body = await _read_body(receive)
        stream = req.stream  # the gateway may detach it from `req` (a document body read whole)
        try:
            if path.startswith(admin.PREFIX):
                resp = await asyncio.to_thread(admin.handle, self.gateway, req)  # a clock jump waits for its jobs
            else:
                client = scope.get("client")
                resp = await self.gateway.handle(req, client[0] if client else "127.0.0.1")
        finally:
            if stream is not None:
                stream.close()
        await _send(send, resp)


def _large(headers: dict[str, str]) -> bool:
    length = headers.get("content-length")
    if length is None:
        return "chunked" in headers.get("transfer-encoding", "")
    try:
        return int(length) > SPOOL_AT
    except ValueError:
        return False  # the protocol layer answers a malformed length


async def _spool(receive: Receive, directory: str | None) -> SpooledBody:
    """Write the body to a temporary file as it arrives (page cache: cheap on the loop)."""
    fd, path = tempfile.mkstemp(prefix="body-", dir=directory)
    size = 0
    try:
        with os.fdopen(fd, "wb", buffering=0) as f:
            while True:
                message = await receive()
                data = message.get("body", b"")
                if data:
                    f.write(data)
                    size += len(data)
                if not message.get("more_body"):
                    break
    except BaseException:
        os.unlink(path)
        raise
    return SpooledBody(path, size)


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks = [body]
    while message.get("more_body"):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


def _header_bytes(value: str) -> bytes:
    """HTTP carries Latin-1; other text goes as UTF-8 bytes, which is what S3 sends."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


async def _send(send: Send, resp: Response) -> None:
    headers = [(k.lower().encode("latin-1"), _header_bytes(v)) for k, v in resp.headers]
    has_length = False
    for k, _ in headers:
        if k == b"content-length":
            has_length = True
            break
    stream = resp.stream
    if not has_length:
        length = stream.length if stream is not None else len(resp.body)
        headers.append((b"content-length", str(length).encode()))
    if stream is None:
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": resp.body})
        return
    try:
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        for piece in stream.pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        stream.close()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(config: Config | None = None) -> App:
    """The ASGI callable for `config` (defaults: ephemeral, signatures unchecked)."""
    gateway = Gateway(config or Config(ephemeral=True))
    gateway.scheduler.start()  # resumes the persisted clock and runs timed work from here on
    from cloudlet.services.lambda_ import esm

    esm.resume(gateway)  # event source mappings kept in the data directory poll again
    return App(gateway)
