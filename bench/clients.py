"""Client processes driving one phase of a benchmark, and the numbers every phase reports."""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any, Callable

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
