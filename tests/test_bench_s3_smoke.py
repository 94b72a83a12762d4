"""`python -m bench.s3` runs end to end against the real `cloudlet serve --data-dir`.

Shape only, never speed: 2 clients x 10 keys for half a second per phase, and a 4 MiB "large"
object, without moto. cloudlet runs with --verify-signatures, so the bench's re-signed requests
are proved to be valid SigV4 (a bench that measured 403s would be measuring nothing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest.importorskip("boto3")  # the large phase drives boto3's upload_file / download_file
pytest.importorskip("httptools")


def test_s3_bench_small_and_large_on_cloudlet(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.s3", "all", "--moto", "off", "--clients", "2", "--keys", "10",
         "--duration", "0.5", "--large-mib", "4", "--dir", str(tmp_path),
         "--serve-arg=--verify-signatures"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines: dict[str, dict[str, Any]] = {}
    for text in done.stdout.splitlines():
        record = json.loads(text)
        lines[record["bench"]] = record
    assert set(lines) == {"s3.small.put", "s3.small.get", "s3.large.upload", "s3.large.download",
                          "s3.summary"}, lines.keys()

    put, get = lines["s3.small.put"], lines["s3.small.get"]
    for line in (put, get):
        assert line["target"] == "cloudlet" and "error" not in line, line
        assert line["requests"] > 0 and line["non_2xx"] == 0, line
        assert 0 < line["p50_ms"] <= line["p99_ms"]
        assert line["server_cpu_ms_per_req"] is not None and line["server_cpu_ms_per_req"] >= 0
    assert put["distinct_keys"] == 20  # every client got through its 10 keys
    assert get["requests"] > 0

    for op in ("upload", "download"):
        line = lines[f"s3.large.{op}"]
        assert line["verified"] is True and line["bytes"] == 4 * 2**20, line
        assert line["mb_per_s"] > 0 and line["server_rss_peak_mb"] > 0, line
    assert lines["s3.summary"]["met"].keys() >= {"large_upload_mb_per_s", "large_download_server_rss"}
    # the bench removes what it made: the data directory and the transfer files
    assert list(tmp_path.iterdir()) == []
