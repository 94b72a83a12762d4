"""Drive a load generator in its own process and collect one result shape from either.

Two generators, chosen by name: `wrk` (Debian's wrk 4.1, C, one thread, the request built
once from a generated Lua script) and `python` (bench/pyload.py, asyncio + uvloop +
httptools). Both replay one pre-signed request over N keep-alive connections with one
request in flight each; both report requests, non-2xx answers, p50/p99 latency and their
own CPU time (from wait4, so start-up and teardown are included: an upper bound).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .procs import REPO, pinned
from .workloads import RawRequest

LOADGENS = ("auto", "wrk", "python")


def ensure_wrk() -> str:
    """Path to wrk, installing Debian's package when it is missing and we may (root + apt)."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("wrk is not installed; `apt-get install -y wrk` or use --loadgen python")
    print("bench: installing wrk (apt-get)", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    path = shutil.which("wrk")
    if not path:
        raise RuntimeError("apt-get install wrk did not provide wrk")
    return path


def resolve(loadgen: str, max_requests: int = 0) -> str:
    """`auto` is wrk when installed and no request cap is asked for (wrk runs by time only)."""
    if loadgen == "auto":
        return "wrk" if shutil.which("wrk") and not max_requests else "python"
    if loadgen == "wrk" and max_requests:
        raise ValueError("wrk runs for a duration; use --loadgen python with --requests")
    return loadgen


def _lua_string(data: bytes) -> str:
    """A Lua string literal holding exactly `data`."""
    out = []
    for byte in data:
        ch = chr(byte)
        if ch.isalnum() or ch in " -_.,:;/=&+*()[]{}<>!?#@$%^~|'":
            out.append(ch)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def wrk_script(request: RawRequest) -> str:
    """A static wrk script: no `request()` function, so wrk formats the request once per thread."""
    lines = [
        f"wrk.method = {_lua_string(request.method.encode())}",
        f"wrk.path = {_lua_string(request.path.encode())}",
        "wrk.headers = {}",
    ]
    for name, value in request.headers:
        if name.lower() != "content-length":  # wrk.format adds it from the body
            lines.append(f"wrk.headers[{_lua_string(name.encode())}] = {_lua_string(value.encode())}")
    if request.body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"wrk.body = {_lua_string(request.body)}")
    lines.append("""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"non_2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
""")
    return "\n".join(lines)


def _run_child(argv: list[str], cpus: set[int] | None) -> tuple[str, float, int]:
    """Run a generator; return its stdout, its CPU seconds (user+sys, from wait4), its exit code."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            preexec_fn=pinned(cpus))
    assert proc.stdout is not None
    try:
        out = proc.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # SIGTERM / Ctrl-C of the harness: the generator goes with it
        proc.kill()
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}):\n{out}")
    return out, usage.ru_utime + usage.ru_stime, proc.returncode


def run_load(port: int, request: RawRequest, *, connections: int = 8, duration: float = 5.0,
             max_requests: int = 0, loadgen: str = "auto",
             cpus: set[int] | None = None) -> dict[str, Any]:
    """Replay `request` against 127.0.0.1:`port`; return rps, latency, errors, generator CPU."""
    loadgen = resolve(loadgen, max_requests)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if loadgen == "wrk":
            script = Path(tmp, "request.lua")
            script.write_text(wrk_script(request))
            seconds = max(1, round(duration))
            out, cpu, _ = _run_child([ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s",
                                      "--timeout", "10s", "-s", str(script),
                                      f"http://127.0.0.1:{port}{request.path}"], cpus)
            line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
            if line is None:
                raise RuntimeError(f"wrk printed no result:\n{out}")
            raw = json.loads(line.removeprefix("BENCHJSON "))
            elapsed = raw["duration_us"] / 1e6
            result = {
                "requests": raw["requests"], "non_2xx": raw["non_2xx"], "errors": raw["errors"],
                "elapsed_s": round(elapsed, 4), "rps": round(raw["requests"] / elapsed, 1),
                "p50_ms": round(raw["p50_us"] / 1000, 3), "p99_ms": round(raw["p99_us"] / 1000, 3),
            }
        elif loadgen == "python":
            req_file = Path(tmp, "request.bin")
            req_file.write_bytes(request.to_bytes())
            out, cpu, _ = _run_child([sys.executable, "-m", "bench.pyload", "--port", str(port),
                                      "--request-file", str(req_file),
                                      "--connections", str(connections),
                                      "--duration", str(duration), "--requests", str(max_requests)], cpus)
            result = json.loads(out.strip().splitlines()[-1])
            result.pop("loadgen_cpu_s", None)  # its own view; wait4's covers the whole process
        else:
            raise ValueError(f"unknown load generator {loadgen!r}; one of {LOADGENS}")
    result["loadgen"] = loadgen
    result["loadgen_cpu_s"] = round(cpu, 3)
    result["loadgen_cpu_pct"] = round(100 * cpu / max(result["elapsed_s"], 1e-9), 1)
    return result
