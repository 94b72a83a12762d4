"""`python -m bench.dynamodb` runs end to end against the real `cloudlet serve --data-dir`.

Shape only, never speed: 2 clients x 10 keys for half a second per phase, without moto.
cloudlet runs with --verify-signatures, so the bench's re-signed requests are proved to be
valid SigV4 (a bench that measured 403s would be measuring nothing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest.importorskip("httptools")


def test_dynamodb_bench_put_get_query_on_cloudlet(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.dynamodb", "all", "--moto", "off", "--clients", "2", "--keys", "10",
         "--duration", "0.5", "--dir", str(tmp_path), "--serve-arg=--verify-signatures"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines: dict[str, dict[str, Any]] = {}
    for text in done.stdout.splitlines():
        record = json.loads(text)
        lines[record["bench"]] = record
    # no moto, so no summary line
    assert set(lines) == {"dynamodb.put", "dynamodb.get", "dynamodb.query"}, lines.keys()
    for line in lines.values():
        assert line["target"] == "cloudlet" and "error" not in line, line
        assert line["requests"] > 0 and line["non_2xx"] == 0, line
        assert 0 < line["p50_ms"] <= line["p99_ms"]
        assert line["server_cpu_ms_per_req"] is not None and line["server_cpu_ms_per_req"] >= 0
    assert lines["dynamodb.put"]["distinct_keys"] == 20  # every client got through its 10 keys
    assert lines["dynamodb.query"]["query_items"] == 100
    # the bench removes what it made: the data directory
    assert list(tmp_path.iterdir()) == []
