"""S3: small-object PUT/GET rate and CPU, and 1 GiB transfers with the server's memory.

    python -m bench.s3 small    # 8 clients PUT, then GET, 1 KiB objects: rps, p50/p99, CPU/request
    python -m bench.s3 large    # boto3 upload_file / download_file of 1 GiB: MB/s, server peak RSS
    python -m bench.s3 all

One JSON object per line on stdout (progress on stderr), like the rest of bench/. cloudlet runs
as `cloudlet serve --data-dir <fresh temp dir>` (not --ephemeral: bodies go to disk as they do
for a user); moto's server runs in the same invocation when `moto[server]` is installed
(`--moto off` skips it). Each phase starts fresh servers (a fresh data directory too). Loopback
only; every phase is bounded in time or size, and every server and file the bench makes is
removed on the way out.

small: each client is its own process (no GIL shared with other clients or the harness) with
one keep-alive connection (moto closes after every answer; the client reconnects). Its requests
are the ones boto3 sends (headers captured from botocore once: CRC32 checksum, Expect:
100-continue, a signed payload hash), re-signed per key with botocore's S3 SigV4 signer before
the clock starts, so nothing is built during the run. Each client writes its own keys; once it
has been through them all, later PUTs overwrite. The GET phase reads back the keys the PUT phase
wrote. The client processes share the machine's 2 cores with the server (server on CPU 0,
clients on CPU 1 by default): server CPU per request is the figure that carries to another
machine; requests/s depends on the generator too (its CPU is reported).

large: `boto3.client("s3").upload_file` and `download_file` with the default TransferConfig
(multipart above 8 MiB, 8 MiB parts, 10 threads), from and to a temp file. The server's memory
is sampled (VmRSS of its process tree, every 10 ms) during each transfer; VmHWM is its lifetime
peak. The downloaded file is compared with the uploaded one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator


from . import procs
from .clients import (Conn, environment, keys_written, replay, run_phase, running, signal_exit, status_kib,
                      tree_rss_bytes)
from .report import emit
from .report import note as _note
from .workloads import ACCESS_KEY, REGION, SECRET_KEY, Endpoint, RawRequest


def note(message: str) -> None:
    _note("bench.s3", message)


MiB = 2**20
MB = 10**6  # throughput and memory are reported in decimal megabytes, as the targets are stated
TARGETS = {"small_rps_ratio": ">= 5", "small_cpu_per_req_ratio": "<= 0.2",
           "large_mb_per_s": ">= 300", "large_server_rss_peak_mb": "< 200"}


class Signer:
    """Re-signs the request boto3 sends for one key (captured once) for any other key:
    S3SigV4Auth is the signer boto3 runs, without the rest of its call path."""

    DROP = {"authorization", "x-amz-date", "x-amz-content-sha256", "content-length", "host",
            "amz-sdk-invocation-id"}

    def __init__(self, template: RawRequest, url: str, bucket: str) -> None:
        from botocore.auth import S3SigV4Auth
        from botocore.credentials import Credentials

        self.auth = S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
        self.url = url.rstrip("/")
        self.host = template.header("Host") or ""
        self.bucket = bucket
        self.method = template.method
        self.body = template.body
        self.headers = {k: v for k, v in template.headers if k.lower() not in self.DROP}

    def sign(self, key: str) -> bytes:
        """`key` must need no URL quoting (the bench's keys are [a-z0-9/-])."""
        from botocore.awsrequest import AWSRequest

        path = f"/{self.bucket}/{key}"
        request = AWSRequest(method=self.method, url=self.url + path, data=self.body,
                             headers=dict(self.headers))
        self.auth.add_auth(request)
        headers = [("Host", self.host)]
        headers += [(k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()]
        return RawRequest(self.method, path, tuple(headers), self.body).to_bytes()


# --- small objects --------------------------------------------------------------------------


def small_key(worker: int, n: int) -> str:
    return f"small/w{worker:02d}/{n:06d}"


def _small_worker(op: str, url: str, port: int, bucket: str, worker: int, keys: int, size: int,
                  go: Any, stop_at: Any, out: Any, cpus: set[int] | None) -> None:
    """One client replaying its pre-signed requests (``clients.replay``)."""

    def prepare(conn: Conn) -> tuple[list[bytes], Callable[[int, int], bool]]:
        ep = Endpoint(url)
        body = bytes((i * 7 + worker) % 251 for i in range(size))
        if op == "put":
            template = ep.capture("s3", "put_object", Bucket=bucket, Key=small_key(worker, 0), Body=body)
        else:
            template = ep.capture("s3", "get_object", Bucket=bucket, Key=small_key(worker, 0))
        signer = Signer(template, url, bucket)
        requests = [signer.sign(small_key(worker, n)) for n in range(keys)]
        status, _ = conn.call(requests[0])
        if not 200 <= status < 300:
            raise RuntimeError(f"{op} {small_key(worker, 0)}: HTTP {status}")
        return requests, lambda status, length: 200 <= status < 300 and not (op == "get" and length != size)

    replay(port, cpus, prepare, go, stop_at, out)


def small_phase(server: procs.Server, op: str, bucket: str, clients: int, keys: int, size: int,
                duration: float, client_cpus: set[int] | None) -> dict[str, Any]:
    """`clients` processes doing `op` ("put" or "get") on their own keys for `duration` s."""
    url = f"http://127.0.0.1:{server.port}"
    line = run_phase(server, _small_worker, lambda i: (op, url, server.port, bucket, i, keys, size), clients,
                     duration, (client_cpus,))
    keys_written(line, keys)
    line.pop("_results")
    line["server_rss_after_mb"] = round(tree_rss_bytes(server.proc.pid) / MB, 1) if server.proc else None
    return line


def small(server: procs.Server, args: argparse.Namespace, client_cpus: set[int] | None,
          work: Path) -> list[dict[str, Any]]:
    """PUT, then GET of the keys written. (`work` is unused: every phase takes the same arguments.)"""
    bucket = f"bench-small-{os.getpid()}"
    Endpoint(f"http://127.0.0.1:{server.port}").client("s3").create_bucket(Bucket=bucket)
    lines: list[dict[str, Any]] = []
    for op in ("put", "get"):
        if args.settle:
            procs.wait_quiet(args.settle)
        note(f"small {op}: {server.name}, {args.clients} clients, {args.size} B objects, {args.duration}s")
        # GET reads only keys the PUT phase wrote (all `keys` of each client, unless a short run
        # left some client with fewer)
        keys = args.keys if op == "put" else max(1, lines[0]["keys_per_client_min"])
        result = small_phase(server, op, bucket, args.clients, keys, args.size, args.duration, client_cpus)
        lines.append({"bench": f"s3.small.{op}", "target": server.name, "clients": args.clients,
                      "object_bytes": args.size, "pin": args.pin, **result, **environment()})
    return lines


# --- large objects --------------------------------------------------------------------------


@dataclass
class RssSampler:
    """Polls the server tree's VmRSS from a thread; `peak` is the largest sample seen."""

    root: int
    interval: float = 0.01
    peak: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "RssSampler":
        self.peak = tree_rss_bytes(self.root)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        # walking /proc for the tree costs ~1 ms; reading a status file ~20 us: the tree is
        # looked up again only every half second
        pids, found_at = procs.process_tree(self.root), time.monotonic()
        while not self._stop.wait(self.interval):
            if time.monotonic() - found_at > 0.5:
                pids, found_at = procs.process_tree(self.root), time.monotonic()
            self.peak = max(self.peak, tree_rss_bytes(self.root, pids))
            self.samples += 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, tree_rss_bytes(self.root))


def make_file(path: Path, size: int) -> None:
    """`size` bytes of random-looking data, each MiB different (8 MiB of urandom, reused with
    the MiB's index stamped in front)."""
    pool = os.urandom(8 * MiB)
    with open(path, "wb") as f:
        written, i = 0, 0
        while written < size:
            start = (i * 1_048_573) % (len(pool) - MiB)
            chunk = (i.to_bytes(8, "big") + pool[start:start + MiB - 8])[: size - written]
            f.write(chunk)
            written += len(chunk)
            i += 1


def same_content(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(8 * MiB), fb.read(8 * MiB)
            if x != y:
                return False
            if not x:
                return True


def _transfer(server: procs.Server, run: Any, size: int, client_cpus: set[int] | None) -> dict[str, Any]:
    """Time `run()` with the harness pinned to the client CPUs; server CPU, memory, client CPU."""
    before_affinity = os.sched_getaffinity(0)
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)  # the transfer's threads inherit it
    try:
        rss_before = tree_rss_bytes(server.proc.pid) if server.proc else 0
        busy0, cpu0 = procs.machine_busy_seconds(), server.cpu_seconds()
        client0 = time.process_time()
        with RssSampler(server.proc.pid if server.proc else 0) as rss:
            start = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
        client = time.process_time() - client0
        cpu = server.cpu_seconds() - cpu0
        busy = procs.machine_busy_seconds() - busy0
    finally:
        os.sched_setaffinity(0, before_affinity)
    hwm = status_kib(server.proc.pid, "VmHWM") * 1024 if server.proc else 0
    return {
        "bytes": size, "seconds": round(elapsed, 3), "mb_per_s": round(size / elapsed / MB, 1),
        "server_cpu_s": round(cpu, 3), "server_cpu_pct": round(100 * cpu / elapsed, 1),
        "client_cpu_pct": round(100 * client / elapsed, 1),
        "other_cpu_pct": round(max(0.0, 100 * (busy - cpu - client) / elapsed), 1),
        "server_rss_before_mb": round(rss_before / MB, 1),
        "server_rss_peak_mb": round(rss.peak / MB, 1),
        "server_vmhwm_mb": round(hwm / MB, 1), "rss_samples": rss.samples,
    }


def large(server: procs.Server, args: argparse.Namespace, client_cpus: set[int] | None,
          work: Path) -> list[dict[str, Any]]:
    import boto3
    from botocore.config import Config

    mib = args.large_mib if server.name == "cloudlet" else min(args.large_mib, args.moto_large_mib)
    size = mib * MiB
    src, dst = work / f"large-{mib}.bin", work / "large.out"
    if not src.exists() or src.stat().st_size != size:
        note(f"writing a {mib} MiB source file")
        make_file(src, size)
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{server.port}", region_name=REGION,
                      aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                      config=Config(retries={"total_max_attempts": 1}, read_timeout=300,
                                    max_pool_connections=16))
    bucket = f"bench-large-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    key = "large/object.bin"
    lines = []
    for op in ("upload", "download"):
        if args.settle:
            procs.wait_quiet(args.settle)
        note(f"large {op}: {server.name}, {mib} MiB")
        dst.unlink(missing_ok=True)
        if op == "upload":
            result = _transfer(server, lambda: s3.upload_file(str(src), bucket, key), size, client_cpus)
            head = s3.head_object(Bucket=bucket, Key=key)
            result["etag"] = head["ETag"].strip('"')
            ok = head["ContentLength"] == size
        else:
            result = _transfer(server, lambda: s3.download_file(bucket, key, str(dst)), size, client_cpus)
            ok = same_content(src, dst)
        line = {"bench": f"s3.large.{op}", "target": server.name, "mib": mib, "pin": args.pin,
                **result, "verified": ok, **environment()}
        if not ok:
            line["error"] = f"{op}: the object's content differs from the file"
        lines.append(line)
    dst.unlink(missing_ok=True)
    s3.delete_object(Bucket=bucket, Key=key)  # frees the server's disk before the next server
    return lines


# --- CLI ------------------------------------------------------------------------------------

Phase = Callable[[procs.Server, argparse.Namespace, "set[int] | None", Path], list[dict[str, Any]]]


def _ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a and b else None


def ratios(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """cloudlet / moto for each line both servers have, and which targets cloudlet met."""
    by = {(ln["bench"], ln["target"]): ln for ln in lines}
    record: dict[str, Any] = {"bench": "s3.summary"}
    for op in ("put", "get"):
        c, m = by.get((f"s3.small.{op}", "cloudlet")), by.get((f"s3.small.{op}", "moto"))
        if c and m:
            record[f"small_{op}_rps_ratio"] = _ratio(c["rps"], m["rps"], 1)
            record[f"small_{op}_cpu_per_req_ratio"] = _ratio(c["server_cpu_ms_per_req"],
                                                             m["server_cpu_ms_per_req"], 4)
    for op in ("upload", "download"):
        c, m = by.get((f"s3.large.{op}", "cloudlet")), by.get((f"s3.large.{op}", "moto"))
        if c and m:
            record[f"large_{op}_mb_per_s_ratio"] = _ratio(c["mb_per_s"], m["mb_per_s"], 1)
            record[f"large_{op}_rss_peak_ratio"] = _ratio(c["server_rss_peak_mb"], m["server_rss_peak_mb"], 3)
            if c["mib"] != m["mib"]:
                record[f"large_{op}_note"] = f"moto moved {m['mib']} MiB, cloudlet {c['mib']} MiB"
    met: dict[str, bool] = {}
    for op in ("put", "get"):
        if f"small_{op}_rps_ratio" in record and record[f"small_{op}_rps_ratio"] is not None:
            met[f"small_{op}_rps"] = record[f"small_{op}_rps_ratio"] >= 5
            cpu = record[f"small_{op}_cpu_per_req_ratio"]
            met[f"small_{op}_cpu_per_req"] = cpu is not None and cpu <= 0.2
    for op in ("upload", "download"):
        c = by.get((f"s3.large.{op}", "cloudlet"))
        if c:
            met[f"large_{op}_mb_per_s"] = c["mb_per_s"] >= 300
            met[f"large_{op}_server_rss"] = c["server_rss_peak_mb"] < 200
    if len(record) == 1 and not met:
        return None
    record["targets"] = TARGETS
    record["met"] = met
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.s3", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("small", "large", "all"))
    parser.add_argument("--output", help="append the JSON lines to this file too")
    parser.add_argument("--moto", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--serve-arg", action="append", metavar="FLAG",
                        help="extra `cloudlet serve` flag, e.g. --serve-arg=--verify-signatures")
    parser.add_argument("--dir", default=None,
                        help="where the data directory and the large files go (default: $TMPDIR)")
    parser.add_argument("--pin", choices=("both", "loadgen", "none"), default="both",
                        help="server on CPU 0, clients on CPU 1 (both); see bench/README.md")
    parser.add_argument("--settle", type=float, default=0.0, help="wait up to S s for a quiet machine before each phase")
    parser.add_argument("--clients", type=int, default=8, help="small: client processes")
    parser.add_argument("--duration", type=float, default=5.0, help="small: seconds per phase and server")
    parser.add_argument("--keys", type=int, default=2000, help="small: distinct keys per client")
    parser.add_argument("--size", type=int, default=1024, help="small: object size in bytes")
    parser.add_argument("--large-mib", type=int, default=1024, help="large: object size in MiB")
    parser.add_argument("--moto-large-mib", type=int, default=1024,
                        help="large: at most this many MiB for moto (it holds bodies in memory)")
    args = parser.parse_args(argv)
    server_cpus, client_cpus = procs.cpu_plan(args.pin)
    signal_exit()
    lines: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-s3-", dir=args.dir))
    phases = {"small": [small], "large": [large], "all": [small, large]}[args.command]
    try:
        for phase in phases:
            # a fresh server per phase: the large transfer's memory is not the small objects' too
            with contextlib.closing(running(args, server_cpus, tmp / "cloudlet-data")) as servers:
                for server in servers:
                    for line in measure(phase, server, args, client_cpus, tmp):
                        emit(line, args.output)
                        warn_if_shared(line)
                        lines.append(line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = ratios(lines)
    if summary:
        emit(summary, args.output)
    return 1 if any("error" in ln and ln["target"] == "cloudlet" for ln in lines) else 0


def warn_if_shared(line: dict[str, Any]) -> None:
    if line.get("other_cpu_pct", 0) > 20:
        note(f"warning: {line['bench']} on {line['target']}: other work used {line['other_cpu_pct']}% "
             "of a core: rates are unreliable, CPU per request less so (try --settle 120)")
    if line.get("client_cpu_pct", 0) > 80:
        note(f"warning: {line['bench']} on {line['target']}: the clients used {line['client_cpu_pct']}% "
             "of their core: they may be the bottleneck")


def measure(phase: Phase, server: procs.Server, args: argparse.Namespace,
            client_cpus: set[int] | None, work: Path) -> Iterator[dict[str, Any]]:
    """One phase's lines. moto failing it gives an error line; cloudlet failing it stops the bench."""
    try:
        yield from phase(server, args, client_cpus, work)
    except Exception as exc:
        if server.name == "cloudlet":
            raise
        yield {"bench": f"s3.{phase.__name__}", "target": server.name,
               "error": f"{type(exc).__name__}: {exc}"[:300]}


if __name__ == "__main__":
    sys.exit(main())
