"""`python -m bench.http_inproc` runs end to end: both stacks answer the same PutItem and GetItem
bytes in process. Shape only, never speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_http_inproc_bench_measures_both_stacks() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.http_inproc", "--rounds", "1", "--requests", "20"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = {r["bench"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(lines) == {"http_inproc.put", "http_inproc.get"}
    for line in lines.values():
        assert line["uvicorn_cpu_us_per_req"] > 0 and line["cloudlet_cpu_us_per_req"] > 0, line
