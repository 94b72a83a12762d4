"""cloudlet's HTTP/1.1 server: an asyncio Protocol on httptools, run under uvloop.

It does what uvicorn did for cloudlet, without ASGI in between: httptools parses, the
protocol builds a ``Request`` straight from the parsed bytes, ``Gateway.handle`` (or the admin
API) answers, and the response goes out in one ``transport.write``. No scope or message
dicts, no per-request task when the handler does not wait (every sync handler: the
coroutine is run to its end in place, and becomes a task only if it suspends, e.g. an SQS
long poll). Measured against uvicorn + httptools + uvloop (bench/README.md, "HTTP server").

What it keeps from the ASGI path (``server/app.py``, still there for uvicorn and tests):
bodies over ``SPOOL_AT`` (and every chunked body, length unknown) are written to a file in
``gateway.spool_dir`` as they arrive; an ``OutStream`` response is written piece by piece,
waiting while the transport's buffer is full. HTTP/1.1 as clients use it: keep-alive,
pipelining (answers in request order; reading pauses while answers are owed), chunked
request bodies (httptools decodes them), ``Expect: 100-continue``, HEAD (no body written).
A malformed request gets 400 and the connection closes; when a client disconnects, the
request it was waiting for (an SQS long poll) still runs to its end and its answer is dropped.
A connection with no request in progress for ``IDLE_TIMEOUT`` seconds is closed, mid-body
stalls included. SIGINT/SIGTERM: stop accepting, close idle connections, give requests in
progress ``SHUTDOWN_GRACE`` seconds, then close the rest.
"""

from __future__ import annotations

import asyncio
import contextvars
import http
import logging
import os
import signal
import sys
import tempfile
import types
from collections import deque
from typing import Any, Coroutine, Generator

import httptools

from cloudlet.protocol.http import Request, Response, SpooledBody, joined_headers
from cloudlet.server import admin
from cloudlet.server.app import SPOOL_AT
from cloudlet.server.gateway import Gateway

log = logging.getLogger("cloudlet.http")

IDLE_TIMEOUT = 30.0  # seconds a connection may sit with no request in progress
SWEEP_EVERY = 5.0  # how often idle connections are looked for (one timer per server, not per request)
SHUTDOWN_GRACE = 3.0  # seconds requests in progress get to finish once a signal asks to stop
MAX_HEAD = 1 << 20  # request line + headers; more is refused with 431
MAX_PIPELINED = 16  # complete requests waiting behind the current one before reading pauses

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n" for s in http.HTTPStatus}
_EAGER_TASKS = sys.version_info >= (3, 12)  # asyncio.Task(eager_start=True)


def _status_line(status: int) -> str:
    return _STATUS.get(status) or f"HTTP/1.1 {status} \r\n"


class _Incoming:
    """One request as it is parsed: its head, then its body (in memory or in a spool file)."""

    __slots__ = ("method", "url", "raw", "headers", "chunks", "spool", "spool_path", "size",
                 "keep_alive", "expect", "error")

    def __init__(self) -> None:
        self.method = "GET"
        self.url = b""
        self.raw: list[tuple[bytes, bytes]] = []
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.spool: Any = None
        self.spool_path = ""
        self.size = 0
        self.keep_alive = True
        self.expect = False  # a `100 Continue` is owed once this request is next to be answered
        self.error = 0  # a status to answer instead of handling (a malformed request)

    def discard(self) -> None:
        """Drop a spool file that will not be handed on."""
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        if self.spool_path:
            try:
                os.unlink(self.spool_path)
            except OSError:
                pass
            self.spool_path = ""


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """The rest of a coroutine whose first step already ran: hands the Task what that step
    waits on (a future, or None for a bare yield), then drives the coroutine on."""
    while True:
        try:
            value = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # cancellation and the like go into the coroutine
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(value)
            except StopIteration as stop:
                return stop.value


class Http1(asyncio.Protocol):
    """One connection. Requests are answered in order; at most one is being handled."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.gateway = server.gateway
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.client_ip = "127.0.0.1"
        self.cur: _Incoming | None = None  # being parsed
        self.queue: deque[_Incoming] = deque()  # parsed, waiting for the one being answered
        self.busy = False  # a request is being handled or its answer written
        self.task: asyncio.Task[Any] | None = None
        self.head_size = 0  # bytes received while a request's head is incomplete
        self.in_head = False
        self.broken = False  # the parser failed: the rest of the connection is not HTTP
        self.closed = False
        self.closing = False  # close once the answer in progress is written (shutdown)
        self.reading_paused = False
        self.write_ready: asyncio.Future[None] | None = None  # set while the transport's buffer is full
        self.seen = True  # bytes arrived since the last idle sweep
        self.idle_sweeps = 0
        self.in_next = False

    # -- transport events ------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.client_ip = peer[0]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        # A request still being handled runs to its end and its answer is dropped, as under
        # uvicorn: cancelling it could stop an S3 upload's worker thread halfway or a Lambda
        # invocation inside its engine. A streamed body stops at its next piece.
        if self.cur is not None:
            self.cur.discard()
            self.cur = None
        while self.queue:
            self.queue.popleft().discard()
        if self.write_ready is not None and not self.write_ready.done():
            self.write_ready.set_result(None)

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself; a half-closed client gets no answer

    def pause_writing(self) -> None:
        if self.write_ready is None or self.write_ready.done():
            self.write_ready = self.loop.create_future()

    def resume_writing(self) -> None:
        if self.write_ready is not None and not self.write_ready.done():
            self.write_ready.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.seen = True
        if self.broken:
            return  # a refusal is queued: nothing after it is read
        if self.in_head:  # a request's head still arriving: bounded (counted here, not per header)
            self.head_size += len(data)
            if self.head_size > MAX_HEAD:
                self._refuse(431)
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # An Upgrade (h2c, websocket) is not taken: the request asking for it is answered
            # as plain HTTP, then the connection closes (what follows it is another protocol).
            if self.cur is not None:  # CONNECT, or an upgrade whose request did not complete
                self._refuse(400)
                return
            self.broken = True
            self._stop_reading()
            if self.queue:
                self.queue[-1].keep_alive = False
            elif self.busy:
                self.closing = True  # its answer says `connection: close`
            elif not self.closed:
                self.transport.close()  # already answered
        except httptools.HttpParserError:
            self._refuse(431 if self.head_size > MAX_HEAD else 400)

    # -- parser callbacks --------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.cur = _Incoming()
        self.in_head = True
        self.head_size = 0

    def on_url(self, url: bytes) -> None:
        self.cur.url += url  # type: ignore[union-attr]

    def on_header(self, name: bytes, value: bytes) -> None:
        self.cur.raw.append((name, value))  # type: ignore[union-attr]

    def on_headers_complete(self) -> None:
        r = self.cur
        assert r is not None
        self.in_head = False
        r.method = self.parser.get_method().decode("ascii")
        raw = r.raw
        headers = r.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
        if len(headers) != len(raw):
            headers = r.headers = joined_headers(raw)
        length = headers.get("content-length")
        if length is None:
            large = "chunked" in headers.get("transfer-encoding", "")
        else:
            large = length.isdigit() and int(length) > SPOOL_AT  # httptools refuses a malformed length
        if large:
            fd, r.spool_path = tempfile.mkstemp(prefix="body-", dir=self.gateway.spool_dir)
            r.spool = os.fdopen(fd, "wb", buffering=0)
        if "expect" in headers and headers["expect"].lower() == "100-continue":
            r.expect = True
            if not self.busy and not self.queue:
                self._continue(r)

    def on_body(self, body: bytes) -> None:
        r = self.cur
        if r.spool is not None:  # type: ignore[union-attr]
            r.spool.write(body)  # type: ignore[union-attr]  # page cache: cheap on the loop
            r.size += len(body)  # type: ignore[union-attr]
        else:
            r.chunks.append(body)  # type: ignore[union-attr]

    def on_message_complete(self) -> None:
        r = self.cur
        assert r is not None
        self.cur = None
        r.expect = False  # the body is here: no interim answer any more
        r.keep_alive = self.parser.should_keep_alive()
        if r.spool is not None:
            r.spool.close()
            r.spool = None
        if self.closing:  # pipelined behind an answer that closes the connection
            r.discard()
            return
        self.queue.append(r)
        if not self.busy:
            self._next()
        elif len(self.queue) >= MAX_PIPELINED:
            self._stop_reading()

    # -- answering -----------------------------------------------------------------------------
    def _continue(self, r: _Incoming) -> None:
        r.expect = False
        if not self.transport.is_closing():
            self.transport.write(_CONTINUE)

    def _stop_reading(self) -> None:
        if not self.reading_paused and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def _refuse(self, status: int) -> None:
        """A request that cannot be parsed: answered (in turn) with `status`, then close."""
        self.broken = True
        self.in_head = False
        if self.cur is not None:
            self.cur.discard()
        r = self.cur or _Incoming()
        self.cur = None
        r.error = status
        r.keep_alive = False
        self.queue.append(r)
        self._stop_reading()
        if not self.busy:
            self._next()

    def _next(self) -> None:
        """Answer queued requests, in order, until one has to wait (it then runs as a task)."""
        if self.in_next:
            return  # an answer written synchronously inside the loop below: it goes on from there
        self.in_next = True
        try:
            while not self.busy and self.queue and not self.closing and not self.closed:
                r = self.queue.popleft()
                if r.error:
                    self._write_simple(r.error, keep_alive=False)
                    return
                self.busy = True
                self._start(r)
        finally:
            self.in_next = False
        if self.busy or self.closing or self.closed:
            return
        if self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()
        if self.cur is not None and self.cur.expect:
            self._continue(self.cur)

    def _start(self, r: _Incoming) -> None:
        url = r.url
        if url[:1] == b"/":
            path, _, query = url.partition(b"?")
        else:  # absolute form (a proxy-style request line) or `*`
            try:
                parsed = httptools.parse_url(url)
                path, query = parsed.path or b"/", parsed.query or b""
            except httptools.HttpParserInvalidURLError:
                self.busy = False
                self._write_simple(400, keep_alive=False)
                return
        if r.spool_path:
            stream: SpooledBody | None = SpooledBody(r.spool_path, r.size)
            body = b""
            r.spool_path = ""
        else:
            stream = None
            chunks = r.chunks
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        spath = path.decode("latin-1")
        req = Request(r.method, spath, query.decode("latin-1"), r.headers, body, stream)
        if spath.startswith(admin.PREFIX):
            coro: Coroutine[Any, Any, Response] = self._admin(req)
        else:
            coro = self.gateway.handle(req, self.client_ip)
        if _EAGER_TASKS:
            task = asyncio.Task(self._finish(r, req, stream, coro), loop=self.loop, eager_start=True)  # type: ignore[call-arg]
            if not task.done():
                self.task = task
            return
        # Python 3.11: run the first step here; only a coroutine that waits becomes a task
        context = contextvars.copy_context()
        try:
            yielded = context.run(coro.send, None)
        except StopIteration as done:
            if stream is not None:
                stream.close()
            self._answer(r, done.value)
            return
        except BaseException:
            if stream is not None:
                stream.close()
            log.exception("internal error answering %s %s", r.method, spath)
            self._fail()
            return
        self.task = self.loop.create_task(self._finish(r, req, stream, _resume(coro, yielded)), context=context)

    async def _admin(self, req: Request) -> Response:
        return await asyncio.to_thread(admin.handle, self.gateway, req)  # a clock jump waits for its jobs

    async def _finish(self, r: _Incoming, req: Request, stream: SpooledBody | None, aw: Any) -> None:
        """The rest of a request that waited: its answer, written if the client is still there.
        `stream` is the spooled body as handed in (the gateway may have detached it from `req`)."""
        try:
            try:
                resp = await aw
            finally:
                if stream is not None:
                    stream.close()
        except asyncio.CancelledError:
            self.task = None
            return  # the client went away (or the server is stopping): nobody to answer
        except Exception:
            self.task = None
            log.exception("internal error answering %s %s", req.method, req.path)
            self._fail()
            return
        self.task = None
        self._answer(r, resp)

    def _answer(self, r: _Incoming, resp: Response) -> None:
        """Write `resp`; a streamed body continues in a task. Then the next request."""
        if self.closed:
            if resp.stream is not None:
                resp.stream.close()
            return
        keep_alive = r.keep_alive and not self.closing
        stream = resp.stream
        try:
            head = _head(resp, stream.length if stream is not None else len(resp.body), keep_alive)
        except ValueError:
            if stream is not None:
                stream.close()
            log.error("refused to send a response header holding a line break (%s %s)", r.method, r.url[:200])
            self._fail()
            return
        if r.method == "HEAD":
            if stream is not None:
                stream.close()
            self.transport.write(head)
        elif stream is None:
            body = resp.body
            if len(body) < 65536:
                self.transport.write(head + body)  # one write, one send
            else:
                self.transport.write(head)  # no copy of a large body
                self.transport.write(body)
        else:
            self.transport.write(head)
            self.task = self.loop.create_task(self._stream(stream, keep_alive))
            return
        self._done(keep_alive)

    async def _stream(self, stream: Any, keep_alive: bool) -> None:
        sent = 0
        try:
            for piece in stream.pieces:
                if self.closed:
                    return
                self.transport.write(piece)
                sent += len(piece)
                if self.write_ready is not None and not self.write_ready.done():
                    await self.write_ready
        except asyncio.CancelledError:
            return
        except Exception:
            log.exception("streaming a response body failed after %d bytes", sent)
            keep_alive = False  # the client has a short body: it must see the connection end
        finally:
            stream.close()
            self.task = None
        if sent != stream.length:
            keep_alive = False
        self._done(keep_alive)

    def _done(self, keep_alive: bool) -> None:
        self.busy = False
        if not keep_alive:
            self._close()
        else:
            self._next()

    def _close(self) -> None:
        self.closing = True
        while self.queue:
            self.queue.popleft().discard()
        if not self.closed:
            self.transport.close()

    def _fail(self) -> None:
        """A bug on our side before anything was written: 500, then close."""
        self._write_simple(500, keep_alive=False)

    def _write_simple(self, status: int, keep_alive: bool) -> None:
        body = http.HTTPStatus(status).phrase.encode()
        if not self.closed:
            self.transport.write(
                f"{_status_line(status)}content-type: text/plain; charset=utf-8\r\n"
                f"content-length: {len(body)}\r\n{'' if keep_alive else 'connection: close'}\r\n\r\n".encode()
                + body
            )
        self._done(keep_alive)

    # -- server-wide -----------------------------------------------------------------------------
    def idle(self) -> bool:
        return not self.busy and not self.queue

    def shutdown(self) -> None:
        """Stop after the answer in progress (or now, if there is none)."""
        self.closing = True
        if self.idle() and not self.closed:
            self.transport.close()


def _head(resp: Response, length: int, keep_alive: bool) -> bytes:
    """Status line and headers, lower-cased names (as under uvicorn), `content-length` added
    when the response has none. A value holding a line break raises ValueError."""
    lines = [_status_line(resp.status)]
    has_length = False
    for k, v in resp.headers:
        k = k.lower()
        if k == "content-length":
            has_length = True
        lines.append(f"{k}: {v}\r\n")
    if not has_length:
        lines.append(f"content-length: {length}\r\n")
    if not keep_alive:
        lines.append("connection: close\r\n")
    lines.append("\r\n")
    text = "".join(lines)
    if text.count("\n") != len(lines) or text.count("\r") != len(lines):
        raise ValueError("line break in a header")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # other text goes as UTF-8 bytes, which is what S3 sends
        return text.encode("utf-8")


class Server:
    """The listening socket, its connections, the idle sweep and the shutdown on a signal."""

    def __init__(self, gateway: Gateway, loop: asyncio.AbstractEventLoop) -> None:
        self.gateway = gateway
        self.loop = loop
        self.connections: set[Http1] = set()
        self.stopping = loop.create_future()
        self._sweeper: asyncio.TimerHandle | None = None
        self._listener: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self._listener = await self.loop.create_server(lambda: Http1(self), host, port, backlog=2048)
        self._sweeper = self.loop.call_later(SWEEP_EVERY, self._sweep)

    @property
    def port(self) -> int:
        assert self._listener is not None
        return self._listener.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if not self.stopping.done():
            self.stopping.set_result(None)

    def _sweep(self) -> None:
        limit = IDLE_TIMEOUT / SWEEP_EVERY
        for conn in list(self.connections):
            if conn.busy or conn.seen:
                conn.seen = False
                conn.idle_sweeps = 0
            else:
                conn.idle_sweeps += 1
                if conn.idle_sweeps >= limit:
                    conn.transport.close()  # idle, or a body that stopped arriving
        self._sweeper = self.loop.call_later(SWEEP_EVERY, self._sweep)

    async def serve_until_stopped(self) -> None:
        await self.stopping
        await self.close()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._listener is not None:
            self._listener.close()
        for conn in list(self.connections):
            conn.shutdown()
        deadline = self.loop.time() + SHUTDOWN_GRACE
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.connections):
            if conn.task is not None:
                conn.task.cancel()
            conn.transport.abort()
        await asyncio.sleep(0)  # let connection_lost and the cancellations run


def serve(gateway: Gateway, host: str, port: int) -> int:
    """Serve until SIGINT or SIGTERM (a second one exits at once). Returns the exit status."""
    try:
        import uvloop

        new_loop = uvloop.new_event_loop
    except ImportError:  # Windows (no uvloop): asyncio's own loop
        new_loop = asyncio.new_event_loop

    async def main() -> int:
        loop = asyncio.get_running_loop()
        server = Server(gateway, loop)
        try:
            await server.start(host, port)
        except OSError as err:
            print(f"cloudlet: cannot listen on {host}:{port}: {err.strerror or err}", file=sys.stderr)
            return 1
        hits = 0

        def on_signal() -> None:
            nonlocal hits
            hits += 1
            if hits > 1:
                os._exit(1)
            server.stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, on_signal)
            except NotImplementedError:  # Windows: Ctrl+C ends the process as KeyboardInterrupt
                pass
        await server.serve_until_stopped()
        return 0

    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(main())
