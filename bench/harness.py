"""One measurement: check the answer, warm up, replay a request, charge the server's CPU to it.

Kept apart from the CLI so a later benchmark (or a test) can measure any server it starts.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from typing import Any

from . import loadgen, procs
from .workloads import RawRequest


@dataclass(frozen=True)
class LoadOptions:
    duration: float = 5.0  # seconds per measured run (an upper bound when `requests` is set)
    connections: int = 8  # keep-alive connections, one request in flight on each
    requests: int = 0  # stop after this many (0: run for `duration`)
    warmup: int = 200  # sequential requests before measuring: caches, lazy loads, JIT-free paths
    loadgen: str = "auto"
    loadgen_cpus: set[int] | None = None  # see procs.cpu_plan
    repeat: int = 1  # measured runs; the fastest is kept (others' load only ever slows a run)
    settle: float = 0.0  # before each run, wait up to this long for the machine to be quiet


def check_and_warm(port: int, raw: bytes, count: int) -> procs.Reply:
    """Send the request `count` (>= 1) times on one keep-alive connection; return the first reply.

    The first reply tells us whether the server understood the request at all; the rest
    make sure first-use work (model loading, compiled codecs) is not in the measurement.
    """
    first: procs.Reply | None = None
    sock: socket.socket | None = None
    try:
        for _ in range(count):
            if sock is None:  # moto's server closes after every reply
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            reply = procs.exchange(sock, raw)
            first = first or reply
            if not reply.keep_alive:
                sock.close()
                sock = None
    finally:
        if sock is not None:
            sock.close()
    assert first is not None
    return first


def measure(server: procs.Server, request: RawRequest, opts: LoadOptions) -> dict[str, Any]:
    """rps, p50/p99 and server CPU per request for `request` against a running `server`.

    A request the server does not answer with 2xx is not measured: fast errors would look
    like fast service. The result then holds `status` and `error` instead. With
    `opts.repeat` > 1 the fastest run is returned, with every run's rps in `rps_all`.
    """
    raw = request.to_bytes()
    first = check_and_warm(server.port, raw, max(1, opts.warmup))
    if not 200 <= first.status < 300:
        snippet = first.body[:300].decode("utf-8", errors="replace")
        return {"status": first.status, "error": f"HTTP {first.status}: {snippet}"}
    runs = [_measure_once(server, request, opts) for _ in range(max(1, opts.repeat))]
    best = max(runs, key=lambda r: r["rps"])
    if len(runs) > 1:
        best["rps_all"] = [r["rps"] for r in runs]
    best["status"] = first.status
    return best


def _measure_once(server: procs.Server, request: RawRequest, opts: LoadOptions) -> dict[str, Any]:
    waited = procs.wait_quiet(opts.settle) if opts.settle else 0.0
    busy_before = procs.machine_busy_seconds()
    cpu_before = server.cpu_seconds()
    result = loadgen.run_load(server.port, request, connections=opts.connections,
                              duration=opts.duration, max_requests=opts.requests,
                              loadgen=opts.loadgen, cpus=opts.loadgen_cpus)
    cpu = server.cpu_seconds() - cpu_before
    others = procs.machine_busy_seconds() - busy_before - cpu - result["loadgen_cpu_s"]
    result["server_cpu_s"] = round(cpu, 3)
    result["server_cpu_ms_per_req"] = (round(1000 * cpu / result["requests"], 4)
                                       if result["requests"] else None)
    # CPU that neither the server nor the generator used during the run, in % of one core:
    # other work on this 2-core machine. Above ~20% the rps is not to be trusted.
    result["other_cpu_pct"] = round(max(0.0, 100 * others / result["elapsed_s"]), 1)
    if opts.settle:
        result["settle_wait_s"] = round(waited, 1)
    if result["loadgen_cpu_pct"] > 80:
        _warn(f"{server.name}: the load generator used {result['loadgen_cpu_pct']}% of a core: "
              "it may be the bottleneck")
    if result["other_cpu_pct"] > 20:
        _warn(f"{server.name}: other work used {result['other_cpu_pct']}% of a core during the "
              "run: rps is unreliable (try --runs 3 --settle 60)")
    return result


def _warn(message: str) -> None:
    print(f"bench: warning: {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
