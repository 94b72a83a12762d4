"""`python -m bench.iam` runs end to end: both gateways answer 200 and every number is there.

Shape only, never speed (a few hundred calls)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_iam_bench_measures_enforcement_on_and_off() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.iam", "--calls", "200"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [json.loads(t) for t in done.stdout.splitlines()]
    assert [line["bench"] for line in lines] == ["iam.dynamodb.GetItem", "iam.s3.GetObject"]
    for line in lines:
        assert line["policies_attached"] == 10
        assert line["check_us"] > 0 and line["handle_on_us"] > 0 and line["handle_off_us"] > 0
        assert abs(line["added_us"] - (line["handle_on_us"] - line["handle_off_us"])) <= 0.11
