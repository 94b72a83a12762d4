"""The benchmark harness runs end to end: servers start, load runs, one JSON line per workload.

Shape only, never speed: a tiny request count and the python load generator (wrk when it is
installed, in its own test) keep this to a few seconds. The numbers are bench/README.md's job.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(REPO))
from bench import procs  # noqa: E402
from bench.workloads import WORKLOADS  # noqa: E402

LOAD_KEYS = ("rps", "p50_ms", "p99_ms", "server_cpu_ms_per_req", "requests", "non_2xx", "errors",
             "loadgen", "loadgen_cpu_pct", "other_cpu_pct")
RUN_KEYS = ("bench", "target", *LOAD_KEYS, "ceiling_rps", "ceiling_cpu_ms_per_req", "ratio")
TINY = ("--loadgen", "python", "--requests", "150", "--warmup", "3", "--connections", "2",
        "--duration", "10")


def bench(*args: str, ok_codes: tuple[int, ...] = (0,)) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "bench", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode in ok_codes, done.stdout + done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert records, f"no JSON line printed:\n{done.stderr}"
    return records


def assert_numbers(record: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        assert key in record, f"{key} missing from {record}"
    for key in ("rps", "p50_ms", "p99_ms", "server_cpu_ms_per_req"):
        assert isinstance(record[key], (int, float)) and record[key] >= 0, (key, record)


def test_run_prints_one_line_per_workload_with_ceiling_and_moto() -> None:
    records = bench("run", "--target", "bare", *TINY, "--moto", "auto")
    assert [r["bench"] for r in records] == list(WORKLOADS)
    for record in records:
        assert_numbers(record, RUN_KEYS)
        assert record["requests"] == 150 and record["non_2xx"] == 0 and record["errors"] == 0
        assert record["p50_ms"] <= record["p99_ms"]
        if procs.moto_available():
            assert "moto_rps" in record and "moto_server_cpu_ms_per_req" in record


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (apt-get install wrk)")
def test_run_with_wrk() -> None:
    (record,) = bench("run", "--target", "bare", "--loadgen", "wrk", "--duration", "1",
                      "--warmup", "3", "--connections", "2", "--moto", "off", "--no-ceiling",
                      "--workload", "sts.GetCallerIdentity")
    assert_numbers(record, ("bench", *LOAD_KEYS))
    assert record["loadgen"] == "wrk" and record["requests"] > 0 and record["non_2xx"] == 0


@pytest.mark.skipif(importlib.util.find_spec("cloudlet.server.app") is None,
                    reason="cloudlet's server is not there yet")
def test_run_against_cloudlet() -> None:
    """The real `cloudlet serve`: a line comes out, with numbers or with the server's error."""
    (record,) = bench("run", "--target", "cloudlet", *TINY, "--moto", "off",
                      "--workload", "sts.GetCallerIdentity", ok_codes=(0, 1))
    assert record["bench"] == "sts.GetCallerIdentity"
    if "error" not in record:
        assert_numbers(record, RUN_KEYS)


def test_startup_and_stacks() -> None:
    (start,) = bench("startup", "--target", "bare", "--repeat", "1", "--moto", "off")
    assert start["ready_ms"] > 0 and start["first_call_ms"] > 0
    records = bench("stacks", "--stack", "uvicorn", "--connections-list", "1", "--repeat", "1",
                    *TINY)
    assert [r["bench"] for r in records] == ["startup", "stack"]
    assert_numbers(records[1], LOAD_KEYS)


def test_messaging_bench_runs_end_to_end() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.messaging", "all", "--duration", "1", "--n", "5", "--moto", "off",
         "--events", "20", "--rules", "1,10"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip().startswith("{")]
    names = {r.get("bench") for r in records}
    assert any(n and n.startswith("sqs.") for n in names), names
    assert "events.PutEvents.rules" in names, names
