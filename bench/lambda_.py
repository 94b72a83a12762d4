"""Lambda: cold start and warm Invoke of a trivial Python function, beside a baseline.

    python -m bench.lambda_                                  # 10 cold starts, 2000 warm invokes
    python -m bench.lambda_ --cold 20 --invokes 5000 --output bench/results/lambda-DATE.jsonl

One JSON object per line on stdout (progress on stderr), like the rest of bench/. cloudlet
runs as `cloudlet serve --ephemeral` on loopback; the bench stops it (and so every sandbox)
on the way out.

- **cold** (`lambda.cold`): each round changes the function's configuration (an environment
  variable), so the next Invoke needs a new sandbox (a new interpreter process), and times
  that Invoke's round trip through botocore (LogType Tail, to read the REPORT line's
  `Init Duration`, the sandbox's own start as the runtime measured it).
- **warm** (`lambda.warm`): one keep-alive connection replays the signed Invoke request boto3
  sends (captured once; cloudlet does not verify signatures by default), sequentially, and
  reports round-trip p50/p99 and CPU per call: the server process alone
  (`server_cpu_ms_per_req`) and its whole tree, sandboxes included (`tree_cpu_ms_per_req`).
- **baseline**: GetFunctionConfiguration on the same connection in the same run: an API
  call that runs no function, so `overhead_p50_ms` = Invoke p50 - baseline p50 is what
  running the function adds to a call. (moto cannot be the baseline: its Lambda needs
  Docker.)

Targets (reported, never asserted): cold < 150 ms, warm server-side overhead < 5 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
import zipfile
from typing import Any

from . import procs
from .clients import Conn, environment
from .report import emit, note as _note, pct
from .workloads import Endpoint

FUNCTION = "bench-echo"
ROLE = "arn:aws:iam::000000000000:role/bench"
SOURCE = "def handler(event, context):\n    return event\n"
TARGETS = {"cold_ms": "< 150", "warm_overhead_ms": "< 5"}
_INIT = re.compile(r"Init Duration: ([0-9.]+) ms")


def note(message: str) -> None:
    _note("bench.lambda_", message)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", SOURCE)
    return buf.getvalue()


def own_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` alone (not its children: the sandboxes)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read().decode()
    fields = data[data.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / procs.CLK_TCK


def cold(client: Any, rounds: int, runtime: str) -> dict[str, Any]:
    import base64

    trips, inits = [], []
    for i in range(rounds):
        client.update_function_configuration(FunctionName=FUNCTION, Environment={"Variables": {"ROUND": str(i)}})
        t0 = time.perf_counter()
        out = client.invoke(FunctionName=FUNCTION, Payload=b'{"cold": true}', LogType="Tail")
        trips.append((time.perf_counter() - t0) * 1000)
        if out.get("FunctionError"):
            raise RuntimeError(f"the function failed: {out['Payload'].read()!r}")
        m = _INIT.search(base64.b64decode(out.get("LogResult", "")).decode(errors="replace"))
        if m:
            inits.append(float(m.group(1)))
    p50 = round(pct(trips, 0.5), 2)
    line: dict[str, Any] = {"bench": "lambda.cold", "runtime": runtime, "rounds": rounds, "p50_ms": p50, "max_ms": round(max(trips), 2), "min_ms": round(min(trips), 2),
            "init_duration_p50_ms": round(pct(inits, 0.5), 2) if inits else None,
            "init_durations_reported": len(inits), "target_ms": TARGETS["cold_ms"]}
    line["meets_target"] = p50 < 150
    return line


def replay(server: procs.Server, raw: bytes, n: int, warmup: int) -> dict[str, Any]:
    """`n` sequential calls on one keep-alive connection, after `warmup` unmeasured ones."""
    assert server.proc is not None
    conn = Conn(server.port)
    try:
        for _ in range(warmup):
            status, _ = conn.call(raw)
            if status != 200:
                raise RuntimeError(f"warm-up answered {status}")
        own0, tree0 = own_cpu_seconds(server.proc.pid), server.cpu_seconds()
        lat, bad = [], 0
        t_start = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            status, _ = conn.call(raw)
            lat.append((time.perf_counter() - t0) * 1000)
            bad += status != 200
        elapsed = time.perf_counter() - t_start
        own1, tree1 = own_cpu_seconds(server.proc.pid), server.cpu_seconds()
    finally:
        conn.close()
    return {"requests": n, "non_2xx": bad, "rps": round(n / elapsed, 1),
            "p50_ms": round(pct(lat, 0.5), 3), "p99_ms": round(pct(lat, 0.99), 3),
            "server_cpu_ms_per_req": round((own1 - own0) * 1000 / n, 3),
            "tree_cpu_ms_per_req": round((tree1 - tree0) * 1000 / n, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lambda_", description=__doc__.split("\n")[0])
    parser.add_argument("--cold", type=int, default=10, help="cold starts to time")
    parser.add_argument("--invokes", type=int, default=2000, help="warm invokes (and baseline calls) to time")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--runtime", default="python3.12")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra `cloudlet serve` flag")
    parser.add_argument("--output", help="also append the JSON lines to this file")
    args = parser.parse_args(argv)

    env = environment()
    with open("/proc/loadavg") as f:  # a busy machine makes every number here slower: say so
        env["loadavg_1m"] = float(f.read().split()[0])
    server = procs.cloudlet_cli(procs.free_port(), args.serve_arg)
    with server:
        server.wait_ready()
        ep = Endpoint(f"http://127.0.0.1:{server.port}")
        client = ep.client("lambda")
        client.create_function(FunctionName=FUNCTION, Runtime=args.runtime, Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": _zip()})
        note(f"{args.cold} cold starts")
        line = cold(client, args.cold, args.runtime)
        emit({**line, **env}, args.output)

        note(f"{args.invokes} warm invokes, then as many GetFunctionConfiguration calls")
        invoke_raw = ep.capture("lambda", "invoke", FunctionName=FUNCTION, Payload=b'{"warm": true}').to_bytes()
        baseline_raw = ep.capture("lambda", "get_function_configuration", FunctionName=FUNCTION).to_bytes()
        warm = replay(server, invoke_raw, args.invokes, args.warmup)
        base = replay(server, baseline_raw, args.invokes, args.warmup)
        overhead = round(warm["p50_ms"] - base["p50_ms"], 3)
        emit({"bench": "lambda.warm", "runtime": args.runtime, **warm,
              "baseline": "GetFunctionConfiguration", **{f"baseline_{k}": v for k, v in base.items()},
              "overhead_p50_ms": overhead,
              "overhead_server_cpu_ms_per_req": round(warm["server_cpu_ms_per_req"] - base["server_cpu_ms_per_req"], 3),
              "target_overhead_ms": TARGETS["warm_overhead_ms"], "meets_target": overhead < 5, **env}, args.output)
        if warm["non_2xx"] or base["non_2xx"]:
            note(f"non-2xx answers: invoke {warm['non_2xx']}, baseline {base['non_2xx']}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
