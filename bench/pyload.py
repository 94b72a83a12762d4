"""A lean load generator in its own process: pre-built request bytes over keep-alive sockets.

`python -m bench.pyload --port P --request-file F --connections 8 --duration 5`

Used when wrk is missing (CI, the smoke test) and to be compared with wrk (bench/README.md).
Each connection keeps one request in flight and replays the same bytes: nothing is built or
signed during the run, responses are parsed by httptools (C), and latencies are kept as
integers until the end. Prints one JSON object with the counts, latency percentiles and its
own CPU time, so the harness can check that the generator was not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from array import array

import httptools


class _Run:
    """Shared state of one run: when to stop and what was seen."""

    def __init__(self, host: str, port: int, raw: bytes, max_requests: int,
                 deadline_ns: int) -> None:
        self.host, self.port, self.raw = host, port, raw
        self.max_requests = max_requests  # 0 = until the deadline
        self.deadline_ns = deadline_ns
        self.started = 0
        self.completed = 0
        self.non_2xx = 0
        self.errors = 0
        self.latencies_ns: array[int] = array("q")
        self.last_done_ns = 0
        self.open = 0
        self.finished: asyncio.Future[None] | None = None

    def may_start(self) -> bool:
        if self.max_requests and self.started >= self.max_requests:
            return False
        return time.perf_counter_ns() < self.deadline_ns

    async def connect(self) -> None:
        """Open one connection (a slot that keeps one request in flight until the end)."""
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: _Conn(self.raw, self), self.host, self.port)
        except OSError:
            self.errors += 1
            self.closed()

    def closed(self) -> None:
        self.open -= 1
        if self.open == 0 and self.finished is not None and not self.finished.done():
            self.finished.set_result(None)


class _Conn(asyncio.Protocol):
    """One keep-alive connection with one request in flight."""

    def __init__(self, raw: bytes, run: _Run) -> None:
        self.raw = raw
        self.run = run
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.sent_ns = 0
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        run = self.run
        if not run.may_start():
            self._finish()
            return
        run.started += 1
        self.sent_ns = time.perf_counter_ns()
        assert self.transport is not None
        self.transport.write(self.raw)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.run.errors += 1
            self._finish()

    def on_message_complete(self) -> None:
        now = time.perf_counter_ns()
        run = self.run
        run.completed += 1
        run.last_done_ns = now
        run.latencies_ns.append(now - self.sent_ns)
        status = self.parser.get_status_code()
        if status < 200 or status >= 300:
            run.non_2xx += 1
        if self.parser.should_keep_alive():
            self._send()
        elif run.may_start():  # Connection: close (moto): go on over a new connection
            self.done = True
            assert self.transport is not None
            self.transport.close()
            asyncio.get_running_loop().create_task(run.connect())
        else:
            self._finish()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done:
            self.run.errors += 1  # the server closed a connection we still wanted
            self._finish()

    def _finish(self) -> None:
        if self.done:
            return
        self.done = True
        if self.transport is not None:
            self.transport.close()
        self.run.closed()


def percentile_ms(sorted_ns: array[int], pct: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not sorted_ns:
        return None
    index = min(len(sorted_ns), max(1, math.ceil(pct / 100 * len(sorted_ns)))) - 1
    return round(int(sorted_ns[index]) / 1e6, 3)


async def run_load(host: str, port: int, raw: bytes, connections: int, duration: float,
                   max_requests: int) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    start_ns = time.perf_counter_ns()
    run = _Run(host, port, raw, max_requests, start_ns + int(duration * 1e9))
    run.finished = loop.create_future()
    run.open = connections
    cpu0 = time.process_time()
    for _ in range(connections):
        await run.connect()
    await asyncio.wait_for(run.finished, timeout=duration + 30)
    cpu = time.process_time() - cpu0
    elapsed = max(run.last_done_ns - start_ns, 1) / 1e9
    lat = array("q", sorted(run.latencies_ns))
    return {
        "requests": run.completed,
        "non_2xx": run.non_2xx,
        "errors": run.errors,
        "elapsed_s": round(elapsed, 4),
        "rps": round(run.completed / elapsed, 1),
        "p50_ms": percentile_ms(lat, 50),
        "p99_ms": percentile_ms(lat, 99),
        "loadgen_cpu_s": round(cpu, 4),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--request-file", required=True, help="raw HTTP request bytes to replay")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (upper bound)")
    parser.add_argument("--requests", type=int, default=0, help="stop after this many (0: no cap)")
    args = parser.parse_args(argv)
    with open(args.request_file, "rb") as f:
        raw = f.read()
    coro = run_load(args.host, args.port, raw, args.connections, args.duration, args.requests)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a cloudlet dependency on Linux
        result = asyncio.run(coro)
    else:
        result = uvloop.run(coro)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: it is not part of the run


if __name__ == "__main__":
    main()
