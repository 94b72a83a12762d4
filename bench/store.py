"""The store, measured: what a committed write costs, and which database layout to use.

    python -m bench.store                 # everything (about a minute)
    python -m bench.store --quick         # fewer operations: shape, not precision
    python -m bench.store --only layout   # one section: ops, request, dispatch, layout
    python -m bench.store --dir /mnt/ssd  # measure on another filesystem (default: a temp dir)

One JSON object per line on stdout, like the rest of bench/. Sections:

- ``ops``: single-record put (each in its own committed transaction) and get (in its own
  transaction, as a handler reads) per second, with median and p99, in memory and on disk
  with ``commit`` and ``fsync`` durability.
- ``request``: what a committed write adds to a request, timed around the same work with
  no transaction, an empty transaction, and a transaction with one ``put``. The target is
  an acknowledged-write path under 100 µs at the median (``commit`` durability).
- ``dispatch``: ``Gateway.dispatch`` in process (validation, authorization, handler, store;
  no HTTP, no codec) for SSM PutParameter and GetParameter, on an ephemeral store and on
  disk: the disk-minus-memory difference is what durability costs a real handler.
- ``layout``: one mixed workload (4 services x 3 accounts x 2 regions, seeded) against
  four ways to split the databases: one per service (what cloudlet does), one per account
  and region, one per service+account+region, one for everything. Reports commit cost,
  time to open every database, files on disk and file descriptors held.

Each line carries its baseline from the same run (``memory`` / ``none``), so differences,
not absolute numbers, are what carries across machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

try:
    from cloudlet.core.store import BlobFiles, ServiceDB
except ImportError:  # run as a file without the package installed: src/ beside bench/
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
    from cloudlet.core.store import BlobFiles, ServiceDB

ACCOUNT, REGION = "123456789012", "us-east-1"
SERVICES = ("ssm", "sqs", "dynamodb", "s3")
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
SSM_TARGET_US = 100.0


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def note(message: str) -> None:
    print(f"bench.store: {message}", file=sys.stderr, flush=True)


def value(i: int) -> dict[str, Any]:
    """A record the size of a typical resource (~300 bytes encoded): an SSM parameter."""
    return {
        "name": f"/app/service-{i % 97}/config/key-{i}",
        "versions": [{
            "version": 1 + i % 7, "type": "String", "value": "x" * 120, "key_id": None,
            "description": "a parameter", "tier": "Standard", "data_type": "text",
            "modified": dt.datetime(2024, 5, 1, 12, 0, i % 60, tzinfo=dt.timezone.utc),
            "user": f"arn:aws:iam::{ACCOUNT}:root", "labels": [],
        }],
        "tags": {"team": "core"},
    }


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(samples_ns)
    n = len(s)
    return {
        "p50_us": round(s[n // 2] / 1000, 2),
        "p99_us": round(s[min(n - 1, int(n * 0.99))] / 1000, 2),
        "mean_us": round(sum(s) / n / 1000, 2),
    }


def timed(n: int, budget_s: float, op: Callable[[int], None]) -> tuple[list[int], float]:
    """Run `op(i)` up to `n` times or `budget_s` seconds; per-call nanoseconds and ops/s."""
    samples = []
    clock = time.perf_counter_ns
    start = clock()
    deadline = start + int(budget_s * 1e9)
    for i in range(n):
        t0 = clock()
        op(i)
        t1 = clock()
        samples.append(t1 - t0)
        if t1 > deadline:
            break
    elapsed = (clock() - start) / 1e9
    return samples, len(samples) / elapsed


@contextmanager
def service_db(mode: str, root: str, name: str = "svc") -> Iterator[ServiceDB]:
    """`mode`: memory, commit or fsync: the three ways cloudlet keeps a service's state."""
    if mode == "memory":
        db = ServiceDB(name, None, BlobFiles(None, False), False)
    else:
        fsync = mode == "fsync"
        os.makedirs(os.path.join(root, "state"), exist_ok=True)
        db = ServiceDB(name, os.path.join(root, "state", f"{name}.db"), BlobFiles(os.path.join(root, "blobs", name), fsync), fsync)
    try:
        yield db
    finally:
        db.close()


def ops_budget(mode: str, quick: bool) -> tuple[int, float]:
    n = 20_000 if mode != "fsync" else 2_000
    return (n // 10, 1.0) if quick else (n, 5.0)


# ops -----------------------------------------------------------------------------------


def bench_ops(root: str, quick: bool) -> None:
    for mode in ("memory", "commit", "fsync"):
        n, budget = ops_budget(mode, quick)
        with service_db(mode, os.path.join(root, f"ops-{mode}")) as db:
            vals = [value(i) for i in range(1000)]

            def put(i: int) -> None:
                with db.tx(ACCOUNT, REGION) as tx:
                    tx.put("parameter", f"k{i % 1000}", vals[i % 1000])

            def get(i: int) -> None:
                with db.tx(ACCOUNT, REGION) as tx:
                    tx.get("parameter", f"k{i % 1000}")

            for name, op in (("store.put", put), ("store.get", get)):
                samples, rate = timed(n, budget, op)
                emit({"bench": name, "durability": mode, "ops_per_s": round(rate), **percentiles(samples),
                      "n": len(samples)})


# request -------------------------------------------------------------------------------


def bench_request(root: str, quick: bool) -> None:
    """The same request three ways: no store, an empty transaction, one committed put.
    The request's own work is what every handler does before storing: build the record."""
    for mode in ("memory", "commit", "fsync"):
        n, budget = ops_budget(mode, quick)
        with service_db(mode, os.path.join(root, f"request-{mode}")) as db:

            def none(i: int) -> None:
                value(i)

            def empty(i: int) -> None:
                v = value(i)
                with db.tx(ACCOUNT, REGION):
                    pass
                del v

            def put(i: int) -> None:
                v = value(i)
                with db.tx(ACCOUNT, REGION) as tx:
                    tx.put("parameter", f"k{i % 1000}", v)

            results = {}
            for name, op in (("none", none), ("empty_tx", empty), ("put", put)):
                timed(min(n, 500), 0.5, op)  # warm: pages cached, WAL in place
                samples, _ = timed(n, budget, op)
                results[name] = percentiles(samples)
            added = round(results["put"]["p50_us"] - results["none"]["p50_us"], 2)
            emit({
                "bench": "store.request_overhead", "durability": mode,
                "none_p50_us": results["none"]["p50_us"], "none_p99_us": results["none"]["p99_us"],
                "empty_tx_p50_us": results["empty_tx"]["p50_us"], "empty_tx_p99_us": results["empty_tx"]["p99_us"],
                "put_p50_us": results["put"]["p50_us"], "put_p99_us": results["put"]["p99_us"],
                "added_p50_us": added,
                "added_p99_us": round(results["put"]["p99_us"] - results["none"]["p99_us"], 2),
                "target_p50_us": SSM_TARGET_US, "target_met": added < SSM_TARGET_US,
            })


# dispatch ------------------------------------------------------------------------------


def bench_dispatch(root: str, quick: bool) -> None:
    from cloudlet.core.context import Context
    from cloudlet.core.ids import request_id
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway

    names = 200  # overwritten in turn: each parameter keeps a few dozen versions at most
    base: dict[str, dict[str, float]] = {}
    for mode in ("memory", "commit", "fsync"):
        n, budget = ops_budget(mode, quick)
        n = min(n, names * 25)
        config = Config(ephemeral=mode == "memory", data_dir=os.path.join(root, f"dispatch-{mode}"),
                        durability="fsync" if mode == "fsync" else "commit")
        gw = Gateway(config)

        def ctx(operation: str) -> Context:
            return Context(account=ACCOUNT, region=REGION, principal_arn=f"arn:aws:iam::{ACCOUNT}:root",
                           access_key="test", request_id=request_id(), service="ssm", operation=operation,
                           gateway=gw)

        def put(i: int) -> None:
            gw.dispatch(ctx("PutParameter"),
                        {"Name": f"/bench/p{i % names}", "Value": f"value-{i}", "Type": "String", "Overwrite": True})

        def get(i: int) -> None:
            gw.dispatch(ctx("GetParameter"), {"Name": f"/bench/p{i % names}"})

        for i in range(names):  # every name exists before timing; first-use work stays out
            put(i)
        line: dict[str, Any] = {"bench": "gateway.dispatch.ssm", "durability": mode}
        for name, op in (("put", put), ("get", get)):
            samples, rate = timed(n, budget, op)
            p = percentiles(samples)
            if mode == "memory":
                base[name] = p
            line.update({f"{name}_p50_us": p["p50_us"], f"{name}_p99_us": p["p99_us"], f"{name}_per_s": round(rate)})
        line["put_minus_get_p50_us"] = round(line["put_p50_us"] - line["get_p50_us"], 2)
        if mode != "memory":
            line["put_minus_memory_p50_us"] = round(line["put_p50_us"] - base["put"]["p50_us"], 2)
            line["put_minus_memory_p99_us"] = round(line["put_p99_us"] - base["put"]["p99_us"], 2)
        emit(line)
        gw.store.close()


# layout --------------------------------------------------------------------------------

LAYOUTS: dict[str, Callable[[str, str, str], tuple[str, str]]] = {
    # (service, account, region) -> (database name, kind prefix)
    "per-service": lambda s, a, r: (s, ""),
    "per-account-region": lambda s, a, r: (f"{a}-{r}", f"{s}:"),
    "per-service-account-region": lambda s, a, r: (f"{s}-{a}-{r}", ""),
    "single": lambda s, a, r: ("all", f"{s}:"),
}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1


def open_layout(where: str, layout: str, combos: list[tuple[str, str, str]], fsync: bool) -> dict[str, ServiceDB]:
    place = LAYOUTS[layout]
    os.makedirs(os.path.join(where, "state"), exist_ok=True)
    dbs: dict[str, ServiceDB] = {}
    for combo in combos:
        name, _ = place(*combo)
        if name not in dbs:
            dbs[name] = ServiceDB(name, os.path.join(where, "state", f"{name}.db"),
                                  BlobFiles(os.path.join(where, "blobs", name), fsync), fsync)
    return dbs


def two_writers(dbs: dict[str, ServiceDB], place: Callable[..., tuple[str, str]], n: int) -> float:
    """Puts per second with two threads, each writing its own two services (a request
    thread and the scheduler's, say): separate databases can commit side by side."""
    import threading

    vals = [value(i) for i in range(100)]
    halves = (SERVICES[:2], SERVICES[2:])

    def run(services: tuple[str, ...]) -> None:
        for i in range(n):
            svc = services[i % 2]
            name, prefix = place(svc, ACCOUNTS[0], REGIONS[0])
            with dbs[name].tx(ACCOUNTS[0], REGIONS[0]) as tx:
                tx.put(f"{prefix}item", f"t{i % 500}", vals[i % 100])

    threads = [threading.Thread(target=run, args=(h,)) for h in halves]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 2 * n / (time.perf_counter() - t0)


def bench_layout(root: str, quick: bool) -> None:
    combos = [(s, a, r) for s in SERVICES for a in ACCOUNTS for r in REGIONS]
    prefill = 200 if quick else 2_000  # records per (service, account, region) before timing
    for mode in ("commit", "fsync"):
        n, budget = ops_budget(mode, quick)
        fsync = mode == "fsync"
        for layout, place in LAYOUTS.items():
            where = os.path.join(root, f"layout-{mode}-{layout}")
            t0 = time.perf_counter()
            dbs = open_layout(where, layout, combos, fsync)
            create_ms = (time.perf_counter() - t0) * 1000
            for combo in combos:  # a lived-in store: every database holds records
                name, prefix = place(*combo)
                with dbs[name].tx(combo[1], combo[2]) as tx:
                    for i in range(prefill):
                        tx.put(f"{prefix}item", f"k{i}", value(i))
            for db in dbs.values():
                db.close()
            fds_before = open_fds()
            t0 = time.perf_counter()
            dbs = open_layout(where, layout, combos, fsync)  # what a restart pays
            reopen_ms = (time.perf_counter() - t0) * 1000
            rng = random.Random(7)
            order = [rng.choice(combos) for _ in range(n)]
            vals = [value(i) for i in range(1000)]

            def put(i: int) -> None:
                svc, acct, region = order[i]
                name, prefix = place(svc, acct, region)
                with dbs[name].tx(acct, region) as tx:
                    tx.put(f"{prefix}item", f"k{i % prefill}", vals[i % 1000])

            def get(i: int) -> None:
                svc, acct, region = order[i]
                name, prefix = place(svc, acct, region)
                with dbs[name].tx(acct, region) as tx:
                    tx.get(f"{prefix}item", f"k{i % prefill}")

            timed(min(n, 200), 0.5, get)  # warm the page caches of every database
            put_samples, put_rate = timed(n, budget, put)
            get_samples, get_rate = timed(n, budget, get)
            threaded = two_writers(dbs, place, max(100, n // 10))
            fds_held = open_fds() - fds_before
            state = os.path.join(where, "state")
            files = os.listdir(state)
            wal = sum(os.path.getsize(os.path.join(state, f)) for f in files if f.endswith("-wal"))
            db_bytes = sum(os.path.getsize(os.path.join(state, f)) for f in files if f.endswith(".db"))
            t0 = time.perf_counter()
            for db in dbs.values():
                db.close()
            close_ms = (time.perf_counter() - t0) * 1000
            p, g = percentiles(put_samples), percentiles(get_samples)
            emit({
                "bench": "store.layout", "layout": layout, "durability": mode, "databases": len(dbs),
                "put_p50_us": p["p50_us"], "put_p99_us": p["p99_us"], "put_mean_us": p["mean_us"],
                "puts_per_s": round(put_rate), "two_threads_puts_per_s": round(threaded),
                "get_p50_us": g["p50_us"], "get_p99_us": g["p99_us"], "gets_per_s": round(get_rate),
                "create_all_ms": round(create_ms, 2), "reopen_all_ms": round(reopen_ms, 2),
                "close_all_ms": round(close_ms, 2), "files": len(files), "fds_held": fds_held,
                "db_bytes": db_bytes, "wal_bytes": wal, "records": prefill * len(combos), "n": len(put_samples),
            })


SECTIONS = {"ops": bench_ops, "request": bench_request, "dispatch": bench_dispatch, "layout": bench_layout}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only this section (repeatable)")
    p.add_argument("--quick", action="store_true", help="a tenth of the operations, 1 s per measurement")
    p.add_argument("--dir", default=None, help="where the on-disk databases go (default: a new temp dir)")
    args = p.parse_args(argv)
    root = tempfile.mkdtemp(prefix="cloudlet-bench-store-", dir=args.dir)
    emit({"bench": "store.environment", "python": platform.python_version(), "sqlite": _sqlite_version(),
          "cpus": len(os.sched_getaffinity(0)), "dir": root, "quick": args.quick,
          "when": time.strftime("%Y-%m-%dT%H:%M:%S")})
    try:
        for name in args.only or list(SECTIONS):
            note(name)
            SECTIONS[name](root, args.quick)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    sys.exit(main())
