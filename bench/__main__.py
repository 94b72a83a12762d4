"""cloudlet benchmarks. `python -m bench --help`; what each measures: bench/README.md.

    python -m bench run       # each workload against cloudlet, the bare-ASGI ceiling and moto
    python -m bench stacks    # the bare app under uvicorn vs granian: rps, CPU/req, start-up
    python -m bench startup   # process start -> first health 200 / first GetCallerIdentity

Every command prints one JSON object per line on stdout (progress goes to stderr) and, with
--output, appends the same lines to a file. Loopback only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import importlib.util
import json
import platform
import signal
import sys
import time
from typing import Any, Callable, Iterator

from . import loadgen, procs
from .harness import LoadOptions, measure, median
from .workloads import WORKLOADS, Endpoint

TARGETS: dict[str, Callable[[int], procs.Server]] = {
    # name -> how to start it on a port
    "cloudlet": procs.cloudlet_cli,
    "cloudlet-uvicorn": lambda port: procs.cloudlet_on("uvicorn", port),
    "cloudlet-granian": lambda port: procs.cloudlet_on("granian", port),
    "bare": lambda port: procs.bare("uvicorn", port),  # harness self-test: the ceiling vs itself
}
STACKS = ("uvicorn", "granian")


def _emit(record: dict[str, Any], output: str | None) -> None:
    line = json.dumps(record)
    print(line, flush=True)
    if output:
        with open(output, "a") as f:
            f.write(line + "\n")


def _note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _environment() -> dict[str, Any]:
    """Enough context to compare a recorded line with a later one."""
    return {"python": platform.python_version(), "cpus": _cpu_count(),
            "machine": platform.machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%S")}


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0))


@contextlib.contextmanager
def _running(server: procs.Server, cpus: set[int] | None = None) -> Iterator[procs.Server]:
    server.cpus = cpus
    with server:
        server.wait_ready()
        yield server


def _target(args: argparse.Namespace, port: int | None = None) -> procs.Server:
    port = port or procs.free_port()
    if args.serve_arg:
        if args.target != "cloudlet":
            raise SystemExit("--serve-arg only applies to --target cloudlet")
        return procs.cloudlet_cli(port, args.serve_arg)
    return TARGETS[args.target](port)


def _stack_available(stack: str) -> bool:
    return importlib.util.find_spec(stack) is not None


def _load_options(args: argparse.Namespace) -> tuple[LoadOptions, set[int] | None]:
    """The load options, and the CPUs to pin servers to."""
    server_cpus, loadgen_cpus = procs.cpu_plan(args.pin)
    return LoadOptions(duration=args.duration, connections=args.connections,
                       requests=args.requests, warmup=args.warmup, loadgen=args.loadgen,
                       loadgen_cpus=loadgen_cpus, repeat=args.runs,
                       settle=args.settle), server_cpus


def _pick_workloads(patterns: list[str] | None) -> list[str]:
    if not patterns:
        return list(WORKLOADS)
    names = [n for n in WORKLOADS if any(fnmatch.fnmatch(n, p) for p in patterns)]
    if not names:
        raise SystemExit(f"no workload matches {patterns}; known: {sorted(WORKLOADS)}")
    return names


def _prefixed(prefix: str, result: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {f"{prefix}_{k}": result.get(k) for k in keys}


# --- run -------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    """Each workload against the target, then the same bytes against the ceiling, then moto."""
    opts, server_cpus = _load_options(args)
    names = _pick_workloads(args.workload)
    lg = loadgen.resolve(opts.loadgen, opts.requests)
    if lg == "wrk":
        loadgen.ensure_wrk()
    use_moto = args.moto == "on" or (args.moto == "auto" and procs.moto_available())
    failures = 0
    with contextlib.ExitStack() as stack:
        def start(server: procs.Server) -> procs.Server:
            return stack.enter_context(_running(server, server_cpus))

        target = start(_target(args))
        ceiling = None if args.no_ceiling else start(procs.bare(args.ceiling_stack, procs.free_port()))
        moto = None
        if use_moto:
            try:
                moto = start(procs.moto(procs.free_port()))
            except (RuntimeError, TimeoutError) as exc:
                if args.moto == "on":
                    raise
                _note(f"moto did not start, going on without it: {exc}")
        for name in names:
            workload = WORKLOADS[name]
            _note(f"{name}: {args.target}")
            request = workload.prepare(Endpoint(f"http://127.0.0.1:{target.port}"))
            ours = measure(target, request, opts)
            target_name = " ".join([args.target, *(args.serve_arg or [])])
            record: dict[str, Any] = {"bench": name, "target": target_name, **ours,
                                      "connections": opts.connections, "pin": args.pin}
            if "error" in ours:
                failures += 1
            if ceiling is not None:
                _note(f"{name}: ceiling (bare ASGI on {args.ceiling_stack})")
                ceil = measure(ceiling, request, opts)  # the very same bytes
                record.update(ceiling_stack=args.ceiling_stack, ceiling_rps=ceil.get("rps"),
                              ceiling_p50_ms=ceil.get("p50_ms"), ceiling_p99_ms=ceil.get("p99_ms"),
                              ceiling_cpu_ms_per_req=ceil.get("server_cpu_ms_per_req"))
                if ours.get("rps") and ceil.get("rps"):
                    record["ratio"] = round(ours["rps"] / ceil["rps"], 3)
                else:
                    record["ratio"] = None
            if moto is not None:
                _note(f"{name}: moto")
                try:
                    moto_request = workload.prepare(Endpoint(f"http://127.0.0.1:{moto.port}"))
                    m = measure(moto, moto_request, opts)
                except Exception as exc:  # moto lacking an operation must not stop our numbers
                    m = {"error": f"{type(exc).__name__}: {exc}"}
                record.update(_prefixed("moto", m, ("rps", "p50_ms", "p99_ms",
                                                    "server_cpu_ms_per_req", "error")))
                if record.get("moto_error") is None:
                    record.pop("moto_error")
            record["env"] = _environment()
            _emit(record, args.output)
    return 1 if failures else 0


# --- stacks ----------------------------------------------------------------------------------


def _startup_runs(make: Callable[[int], procs.Server], repeat: int,
                  probe: Callable[[int], tuple[bytes, int | None]] | None = None,
                  settle: float = 0.0) -> list[float]:
    """Seconds from process start to the first answer, once per fresh process.

    `probe(port)` gives the request to poll with and the status that counts (None: any);
    without it the server's own readiness probe is used.
    """
    times = []
    for _ in range(repeat):
        port = procs.free_port()
        if settle:
            procs.wait_quiet(settle)
        with make(port) as server:
            if probe is None:
                times.append(server.wait_ready())
            else:
                raw, status = probe(port)
                times.append(server.poll_until(raw, status))
    return times


def cmd_stacks(args: argparse.Namespace) -> int:
    """The bare app under each stack: throughput and CPU/req at each concurrency, and start-up."""
    opts, server_cpus = _load_options(args)
    for stack_name in args.stack or STACKS:
        if not _stack_available(stack_name):
            _note(f"{stack_name} is not installed; skipped (pip install {stack_name})")
            continue
        starts = _startup_runs(lambda port: procs.bare(stack_name, port), args.repeat,
                               settle=args.settle)
        _emit({"bench": "startup", "target": f"bare-{stack_name}",
               "ready_ms": round(1000 * median(starts), 1),
               "ready_ms_all": [round(1000 * s, 1) for s in starts], "env": _environment()},
              args.output)
        with _running(procs.bare(stack_name, procs.free_port()), server_cpus) as server:
            request = WORKLOADS["sts.GetCallerIdentity"].prepare(
                Endpoint(f"http://127.0.0.1:{server.port}"))
            for conns in args.connections_list:
                _note(f"bare app on {stack_name}, {conns} connection(s)")
                result = measure(server, request, LoadOptions(**{**opts.__dict__,
                                                                 "connections": conns}))
                _emit({"bench": "stack", "stack": stack_name, "connections": conns, **result,
                       "pin": args.pin, "env": _environment()}, args.output)
    return 0


# --- startup ---------------------------------------------------------------------------------


def _gci_probe(expect: int | None) -> Callable[[int], tuple[bytes, int | None]]:
    def probe(port: int) -> tuple[bytes, int | None]:
        request = WORKLOADS["sts.GetCallerIdentity"].prepare(Endpoint(f"http://127.0.0.1:{port}"))
        return request.to_bytes(), expect

    return probe


def cmd_startup(args: argparse.Namespace) -> int:
    """Process start to first health 200, and (fresh process) to first GetCallerIdentity 200."""
    targets: list[tuple[str, Callable[[int], procs.Server]]] = [
        (args.target, lambda port: _target(args, port))]
    if args.moto != "off" and procs.moto_available():
        targets.append(("moto", procs.moto))
    for name, make in targets:
        _note(f"start-up: {name} x{args.repeat}")
        ready = _startup_runs(make, args.repeat, settle=args.settle)
        first = _startup_runs(make, args.repeat, _gci_probe(200), settle=args.settle)
        _emit({"bench": "startup", "target": name,
               "ready_ms": round(1000 * median(ready), 1),
               "first_call_ms": round(1000 * median(first), 1),
               "ready_ms_all": [round(1000 * s, 1) for s in ready],
               "first_call_ms_all": [round(1000 * s, 1) for s in first],
               "first_call": "sts.GetCallerIdentity", "env": _environment()}, args.output)
    return 0


# --- CLI -------------------------------------------------------------------------------------


def _add_load_flags(p: argparse.ArgumentParser, connections: int = 8) -> None:
    p.add_argument("--duration", type=float, default=5.0,
                   help="seconds per measured run (default 5)")
    p.add_argument("--connections", type=int, default=connections,
                   help="keep-alive connections (default %(default)s)")
    p.add_argument("--requests", type=int, default=0,
                   help="stop each run after this many requests (python load generator)")
    p.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    p.add_argument("--runs", type=int, default=1,
                   help="measured runs per server and workload; the fastest is kept (default 1)")
    p.add_argument("--loadgen", choices=loadgen.LOADGENS, default="auto",
                   help="auto: wrk when installed, else the python generator")
    p.add_argument("--settle", type=float, default=0.0, metavar="S",
                   help="before each run wait up to S s for the machine to be quiet (default 0)")
    p.add_argument("--pin", choices=("both", "loadgen", "none"), default="both",
                   help="CPU pinning: both = server on CPU 0, generator on CPU 1 (default); "
                        "loadgen = generator only; none")
    p.add_argument("--output", help="also append the JSON lines to this file")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="workloads vs the bare-ASGI ceiling and moto")
    _add_load_flags(run)
    run.add_argument("--target", choices=sorted(TARGETS), default="cloudlet",
                     help="cloudlet: `python -m cloudlet serve`; cloudlet-STACK: its ASGI factory "
                          "under that stack; bare: the ceiling itself (harness self-test)")
    run.add_argument("--serve-arg", action="append", metavar="FLAG",
                     help="extra `cloudlet serve` flag, e.g. --serve-arg=--verify-signatures")
    run.add_argument("--workload", action="append", help="name or glob; repeatable (default all)")
    run.add_argument("--ceiling-stack", choices=STACKS, default="uvicorn")
    run.add_argument("--no-ceiling", action="store_true")
    run.add_argument("--moto", choices=("auto", "on", "off"), default="auto")
    run.add_argument("--list", action="store_true", help="list the workloads and exit")
    run.set_defaults(func=cmd_run)

    stacks = sub.add_parser("stacks", help="bare ASGI app under uvicorn vs granian")
    _add_load_flags(stacks)
    stacks.add_argument("--stack", action="append", choices=STACKS)
    stacks.add_argument("--connections-list", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 8], help="comma-separated (default 1,8)")
    stacks.add_argument("--repeat", type=int, default=3, help="start-up runs per stack")
    stacks.set_defaults(func=cmd_stacks)

    startup = sub.add_parser("startup", help="process start -> first answers")
    startup.add_argument("--target", choices=sorted(TARGETS), default="cloudlet")
    startup.add_argument("--serve-arg", action="append", metavar="FLAG")
    startup.add_argument("--repeat", type=int, default=3)
    startup.add_argument("--settle", type=float, default=0.0, metavar="S",
                         help="before each start wait up to S s for the machine to be quiet")
    startup.add_argument("--moto", choices=("auto", "off"), default="auto")
    startup.add_argument("--output")
    startup.set_defaults(func=cmd_startup)
    return top


def main(argv: list[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C, so every server we started is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parser().parse_args(argv)
    if getattr(args, "list", False):
        for name, workload in WORKLOADS.items():
            print(f"{name}\t{workload.doc.splitlines()[0] if workload.doc else ''}")
        return 0
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
