"""`python -m bench.lambda_` runs end to end against the real `cloudlet serve`.

Shape only, never speed: 2 cold starts, 30 warm invokes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest.importorskip("httptools")


def test_lambda_bench_cold_and_warm() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.lambda_", "--cold", "2", "--invokes", "30", "--warmup", "5"],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = {json.loads(t)["bench"]: json.loads(t) for t in done.stdout.splitlines()}
    assert set(lines) == {"lambda.cold", "lambda.warm"}
    cold, warm = lines["lambda.cold"], lines["lambda.warm"]
    assert cold["rounds"] == 2 and 0 < cold["min_ms"] <= cold["p50_ms"] <= cold["max_ms"]
    assert cold["init_durations_reported"] == 2 and cold["init_duration_p50_ms"] > 0
    assert warm["requests"] == 30 and warm["non_2xx"] == 0 and warm["baseline_non_2xx"] == 0
    assert 0 < warm["p50_ms"] <= warm["p99_ms"] and 0 < warm["baseline_p50_ms"]
    assert warm["server_cpu_ms_per_req"] >= 0 and warm["tree_cpu_ms_per_req"] >= warm["server_cpu_ms_per_req"]
