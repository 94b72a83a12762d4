"""What the service benchmarks share: the servers they start, raw keep-alive connections,
client processes driving one phase, and the numbers every phase reports."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable, Generator

import httptools

from . import procs
from .report import pct


def run_phase(server: procs.Server, worker: Callable[..., None], args_for: Callable[[int], tuple[Any, ...]],
              clients: int, duration: float, after: tuple[Any, ...] = ()) -> dict[str, Any]:
    """Start `clients` processes of `worker` (each called with ``args_for(i) + (go, stop_at,
    out) + after``), wait until every one has signed its requests, run them for `duration` seconds,
    and return the phase's line (rate, latencies, CPU of server, clients and the rest)."""
    ctx = mp.get_context("fork")
    go, stop_at, out = ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
    workers = [ctx.Process(target=worker, args=(*args_for(i), go, stop_at, out, *after)) for i in range(clients)]
    for w in workers:
        w.start()
    results: list[dict[str, Any]] = []
    ready = 0
    try:
        while ready < clients:  # every client has signed its requests before the clock starts
            r = out.get(timeout=120)
            ready += "ready" in r
            results.append(r)
        busy0, cpu0 = procs.machine_busy_seconds(), server.cpu_seconds()
        start = time.perf_counter()
        stop_at.value = start + duration
        go.set()
        while len([r for r in results if "lat" in r]) < clients:
            results.append(out.get(timeout=duration + 60))
        elapsed = time.perf_counter() - start
        cpu = server.cpu_seconds() - cpu0
        busy = procs.machine_busy_seconds() - busy0
    finally:
        go.set()
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.kill()
    lat = [x for r in results for x in r.get("lat", [])]
    client_cpu = sum(r.get("cpu_s", 0.0) for r in results)
    bad: dict[str, int] = {}
    for r in results:
        for status, count in r.get("bad", {}).items():
            bad[status] = bad.get(status, 0) + count
    n = len(lat)
    line: dict[str, Any] = {
        "requests": n, "elapsed_s": round(elapsed, 3),
        "rps": round(n / elapsed, 1),
        "p50_ms": round(1000 * pct(lat, 0.5), 3) if lat else None,
        "p99_ms": round(1000 * pct(lat, 0.99), 3) if lat else None,
        "server_cpu_s": round(cpu, 3),
        "server_cpu_ms_per_req": round(1000 * cpu / n, 4) if n else None,
        "server_cpu_pct": round(100 * cpu / elapsed, 1),
        "client_cpu_pct": round(100 * client_cpu / elapsed, 1),  # all clients, % of one core
        "other_cpu_pct": round(max(0.0, 100 * (busy - cpu - client_cpu) / elapsed), 1),
        "non_2xx": sum(bad.values()),
    }
    if bad:
        line["bad_statuses"] = bad
    errs = [r["error"] for r in results if "error" in r]
    if errs:
        line["error"] = errs[0]
        line["errors"] = len(errs)
    line["_results"] = results
    return line


def keys_written(line: dict[str, Any], keys: int) -> None:
    """PUT phases: keys written (a client that got through all of its keys started overwriting)."""
    results = line["_results"]
    line["distinct_keys"] = sum(min(keys, r["done"]) for r in results if "done" in r)
    line["keys_per_client_min"] = min((min(keys, r["done"]) for r in results if "done" in r), default=0)


def environment() -> dict[str, Any]:
    import platform

    return {"python": platform.python_version(), "cpus": len(os.sched_getaffinity(0)),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S")}

def cloudlet_on_disk(port: int, data_dir: str, extra: list[str] | None = None) -> procs.Server:
    """`cloudlet serve` on a data directory, so object bodies are written to and read from disk."""
    return procs.Server("cloudlet", [sys.executable, "-m", "cloudlet", "serve", "--host", "127.0.0.1",
                                     "--port", str(port), "--data-dir", data_dir, *(extra or [])], port)

def running(args: argparse.Namespace, server_cpus: set[int] | None,
            data_dir: Path) -> Generator[procs.Server, None, None]:
    """Starts each server in turn (cloudlet on a fresh `data_dir`), and stops it (and removes
    the directory) before the next one starts."""
    makers: list[Callable[[int], procs.Server]] = [
        lambda port: cloudlet_on_disk(port, str(data_dir), args.serve_arg)]
    if args.moto == "on" or (args.moto == "auto" and procs.moto_available()):
        makers.append(procs.moto)
    for make in makers:
        server = make(procs.free_port())
        server.cpus = server_cpus
        try:
            with server:
                server.wait_ready()
                yield server
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

class _Reply:
    """httptools callbacks; an interim `100 Continue` (the answer to boto3's Expect header) is
    skipped, the final response is kept."""

    def __init__(self) -> None:
        self.parser: Any = None
        self.body_len = 0
        self.status = 0
        self.complete = False
        self.close = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"connection" and value.strip().lower() == b"close":
            self.close = True

    def on_body(self, data: bytes) -> None:
        self.body_len += len(data)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            self.close, self.body_len = False, 0
            return
        self.status = status
        self.complete = True

Prepare = Callable[["Conn"], tuple[list[bytes], Callable[[int, int], bool]]]


def replay(port: int, cpus: set[int] | None, prepare: Prepare, go: Any, stop_at: Any, out: Any) -> None:
    """One client process's timed loop, the same for every service bench: `prepare(conn)`
    signs the requests and sends the first, untimed (the connection, first-use work), and
    returns them with `ok(status, length)` judging each answer; then {"ready"}, the go
    signal, the requests in turn until the deadline, and exactly one result."""
    lat: list[float] = []
    bad: dict[str, int] = {}
    done = 0
    cpu0 = time.process_time()
    conn = Conn(port)
    try:
        if cpus:
            os.sched_setaffinity(0, cpus)
        requests, ok = prepare(conn)
        out.put({"ready": True})
        go.wait()
        deadline = stop_at.value
        clock = time.perf_counter
        cpu0 = time.process_time()
        n, count = 0, len(requests)
        while True:
            t0 = clock()
            if t0 > deadline:
                break
            status, length = conn.call(requests[n])
            lat.append(clock() - t0)
            done += 1
            n = n + 1 if n + 1 < count else 0
            if not ok(status, length):
                bad[str(status)] = bad.get(str(status), 0) + 1
    except Exception as err:  # reported, not hidden: a fast error is not a fast request
        out.put({"ready": True, "error": repr(err)[:300]})  # never leave the parent waiting
    finally:
        conn.close()
    out.put({"lat": lat, "bad": bad, "done": done, "cpu_s": time.process_time() - cpu0})


class Conn:
    """One keep-alive connection (raw HTTP/1.1) that reconnects when the server closes it."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def call(self, raw: bytes) -> tuple[int, int]:
        """(status, body length) of one request."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(raw)
        state = _Reply()
        state.parser = parser = httptools.HttpResponseParser(state)
        while not state.complete:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection mid-response")
            parser.feed_data(data)
        if state.close or parser.get_http_version() != "1.1":
            self.close()
        return state.status, state.body_len

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

def tree_rss_bytes(root: int, pids: list[int] | None = None) -> int:
    """VmRSS of `root` and its live descendants (or of `pids`, when the caller knows them)."""
    return sum(status_kib(pid, "VmRSS") * 1024 for pid in pids or procs.process_tree(root))

def status_kib(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def signal_exit() -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers and temp files are cleaned up."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
