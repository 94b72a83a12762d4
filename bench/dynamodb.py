"""DynamoDB: PutItem, GetItem and a 100-item Query, requests/s and server CPU per request.

    python -m bench.dynamodb put      # 8 clients PutItem, each to its own keys
    python -m bench.dynamodb all      # put, then get (the keys put wrote), then query
    python -m bench.dynamodb all --settle 90 --output bench/results/dynamodb-DATE.jsonl

One JSON object per line on stdout (progress on stderr), like the rest of bench/. cloudlet runs
as `cloudlet serve --data-dir <fresh temp dir>` (items go to disk, as they do for a user);
moto's server runs in the same invocation when `moto[server]` is installed (`--moto off` skips
it). Loopback only; every phase is bounded in time, and every server and directory the bench
makes is removed on the way out.

Each client is a process of its own (no GIL shared with other clients or the harness) pinned
to CPU 1 with the server on CPU 0, holding one keep-alive connection (moto closes after every
answer; the client reconnects). Requests are the ones boto3 sends (headers captured from
botocore once), each body signed with botocore's SigV4 signer before the clock starts, so a
client only writes bytes and reads answers. PutItem: each client writes its own `--keys` items
(~200 bytes: a string key, a number sort key, four attributes), overwriting once it has been
through them. GetItem: the keys the put phase wrote, each answer checked to hold an item.
Query: one partition of 100 such items, `pk = :p`, every answer checked to be as long as the
first (100 items). The server's CPU comes from /proc (process tree), sampled before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from . import procs
from .clients import Conn, environment, keys_written, replay, run_phase, running, signal_exit, tree_rss_bytes
from .report import emit
from .report import note as _note
from .workloads import ACCESS_KEY, REGION, SECRET_KEY, Endpoint, RawRequest

TABLE = "bench"
QUERY_ITEMS = 100
QUERY_PARTITION = "query"
PHASES = ("put", "get", "query")
TARGETS = {"rps_ratio": ">= 10", "cpu_per_req_ratio": "<= 0.1"}  # for put and get


def note(message: str) -> None:
    _note("bench.dynamodb", message)


def item(partition: str, n: int) -> dict[str, Any]:
    """~200 bytes, a typical small item."""
    return {"pk": {"S": partition}, "sk": {"N": str(n)}, "name": {"S": f"item {n:06d} of {partition}"},
            "count": {"N": str(n * 7 + 1)}, "tags": {"SS": ["blue", "small", f"t{n % 10}"]},
            "payload": {"S": "p" * 120}}


def key(partition: str, n: int) -> dict[str, Any]:
    return {"pk": {"S": partition}, "sk": {"N": str(n)}}


def warn_if_shared(line: dict[str, Any]) -> None:
    if line.get("other_cpu_pct", 0) > 20:
        note(f"warning: {line['bench']} on {line['target']}: other work used {line['other_cpu_pct']}% "
             "of a core: rates are unreliable, CPU per request less so (try --settle 120)")
    if line.get("client_cpu_pct", 0) > 80:
        note(f"warning: {line['bench']} on {line['target']}: the clients used {line['client_cpu_pct']}% "
             "of their core: they may be the bottleneck")


def worker_partition(worker: int) -> str:
    return f"w{worker:02d}"


class Signer:
    """Signs a DynamoDB JSON body with the headers boto3 sends: SigV4Auth is the signer
    boto3 runs, without the rest of its call path (which would make the client the bottleneck)."""

    DROP = {"authorization", "x-amz-date", "x-amz-security-token", "content-length", "amz-sdk-invocation-id"}

    def __init__(self, template: RawRequest, url: str) -> None:
        from botocore.auth import SigV4Auth
        from botocore.credentials import Credentials

        self.auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", REGION)
        self.url = url.rstrip("/") + template.path
        self.method, self.path = template.method, template.path
        self.headers = {k: v for k, v in template.headers if k.lower() not in self.DROP}

    def sign(self, body: dict[str, Any]) -> bytes:
        from botocore.awsrequest import AWSRequest

        data = json.dumps(body).encode()
        request = AWSRequest(method=self.method, url=self.url, data=data, headers=dict(self.headers))
        self.auth.add_auth(request)
        headers = tuple((k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items())
        return RawRequest(self.method, self.path, headers, data).to_bytes()


def requests_for(op: str, url: str, worker: int, keys: int) -> list[bytes]:
    """The signed requests one client replays, in order."""
    ep = Endpoint(url)
    part = worker_partition(worker)
    if op == "put":
        signer = Signer(ep.capture("dynamodb", "put_item", TableName=TABLE, Item=item(part, 0)), url)
        return [signer.sign({"TableName": TABLE, "Item": item(part, n)}) for n in range(keys)]
    if op == "get":
        signer = Signer(ep.capture("dynamodb", "get_item", TableName=TABLE, Key=key(part, 0)), url)
        return [signer.sign({"TableName": TABLE, "Key": key(part, n)}) for n in range(keys)]
    query = {"TableName": TABLE, "KeyConditionExpression": "pk = :p",
             "ExpressionAttributeValues": {":p": {"S": QUERY_PARTITION}}}
    return [ep.capture("dynamodb", "query", **query).to_bytes()]


def _worker(op: str, url: str, port: int, worker: int, keys: int, go: Any, stop_at: Any, out: Any,
            cpus: set[int] | None) -> None:
    """One client replaying its signed requests (``clients.replay``)."""

    def prepare(conn: Conn) -> tuple[list[bytes], Callable[[int, int], bool]]:
        requests = requests_for(op, url, worker, keys)
        status, expect_len = conn.call(requests[0])
        if not 200 <= status < 300:
            raise RuntimeError(f"{op}: HTTP {status}")
        if op == "get" and expect_len < 100:
            raise RuntimeError(f"get: no item in the first answer ({expect_len} bytes)")

        def ok(status: int, length: int) -> bool:
            # GetItem of a missing key answers "{}"; a Query answer of another length is not the 100 items
            return 200 <= status < 300 and not (op == "get" and length < 100) and not (
                op == "query" and length != expect_len)

        return requests, ok

    replay(port, cpus, prepare, go, stop_at, out)


def phase(server: procs.Server, op: str, clients: int, keys: int, duration: float,
          client_cpus: set[int] | None) -> dict[str, Any]:
    """`clients` processes doing `op` for `duration` seconds."""
    url = f"http://127.0.0.1:{server.port}"
    line = run_phase(server, _worker, lambda i: (op, url, server.port, i, keys), clients, duration, (client_cpus,))
    if op != "query":
        keys_written(line, keys)
    line.pop("_results")
    line["server_rss_after_mb"] = round(tree_rss_bytes(server.proc.pid) / 1e6, 1) if server.proc else None
    return line


def setup(server: procs.Server) -> None:
    """The table, and the partition the query phase reads (100 items, by BatchWriteItem)."""
    ddb = Endpoint(f"http://127.0.0.1:{server.port}").client("dynamodb")
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    for start in range(0, QUERY_ITEMS, 25):
        batch = [{"PutRequest": {"Item": item(QUERY_PARTITION, n)}} for n in range(start, min(start + 25, QUERY_ITEMS))]
        left = ddb.batch_write_item(RequestItems={TABLE: batch}).get("UnprocessedItems")
        if left:
            raise RuntimeError(f"BatchWriteItem left items unprocessed on {server.name}")
    count = ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p", Select="COUNT",
                      ExpressionAttributeValues={":p": {"S": QUERY_PARTITION}})["Count"]
    if count != QUERY_ITEMS:
        raise RuntimeError(f"{server.name}: the query partition holds {count} items, not {QUERY_ITEMS}")


def run_server(server: procs.Server, args: argparse.Namespace, client_cpus: set[int] | None) -> list[dict[str, Any]]:
    setup(server)
    lines: list[dict[str, Any]] = []
    ops = PHASES if args.command == "all" else ("put", "get") if args.command == "get" else (args.command,)
    for op in ops:
        if args.settle:
            procs.wait_quiet(args.settle)
        # GET reads only keys the PUT phase wrote (all `keys` of each client, unless a short run
        # left some client with fewer)
        keys = args.keys if op != "get" else max(1, lines[-1]["keys_per_client_min"])
        note(f"{op}: {server.name}, {args.clients} clients, {args.duration}s")
        result = phase(server, op, args.clients, keys, args.duration, client_cpus)
        line = {"bench": f"dynamodb.{op}", "target": server.name, "clients": args.clients, "pin": args.pin,
                **({"http": args.http} if server.name == "cloudlet" else {}),
                **({"query_items": QUERY_ITEMS} if op == "query" else {}), **result, **environment()}
        lines.append(line)
    return lines


def _ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a and b else None


def summary(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """cloudlet / moto for each phase both servers ran, and which targets cloudlet met."""
    by = {(ln["bench"], ln["target"]): ln for ln in lines}
    record: dict[str, Any] = {"bench": "dynamodb.summary"}
    met: dict[str, bool] = {}
    for op in PHASES:
        c, m = by.get((f"dynamodb.{op}", "cloudlet")), by.get((f"dynamodb.{op}", "moto"))
        if not (c and m) or "error" in c or "error" in m:
            continue
        rps = record[f"{op}_rps_ratio"] = _ratio(c["rps"], m["rps"], 1)
        cpu = record[f"{op}_cpu_per_req_ratio"] = _ratio(c["server_cpu_ms_per_req"], m["server_cpu_ms_per_req"], 4)
        if op in ("put", "get"):
            met[f"{op}_rps"] = rps is not None and rps >= 10
            met[f"{op}_cpu_per_req"] = cpu is not None and cpu <= 0.1
    if len(record) == 1:
        return None
    record["targets"] = TARGETS
    record["met"] = met
    return record


def measure(server: procs.Server, args: argparse.Namespace, client_cpus: set[int] | None) -> list[dict[str, Any]]:
    """moto failing gives an error line; cloudlet failing stops the bench."""
    try:
        return run_server(server, args, client_cpus)
    except Exception as exc:
        if server.name == "cloudlet":
            raise
        return [{"bench": "dynamodb", "target": server.name, "error": f"{type(exc).__name__}: {exc}"[:300]}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dynamodb", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("put", "get", "query", "all"),
                        help="get runs put first (it reads what put wrote)")
    parser.add_argument("--output", help="append the JSON lines to this file too")
    parser.add_argument("--moto", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--serve-arg", action="append", metavar="FLAG",
                        help="extra `cloudlet serve` flag, e.g. --serve-arg=--verify-signatures")
    parser.add_argument("--dir", default=None, help="where cloudlet's data directory goes (default: $TMPDIR)")
    parser.add_argument("--pin", choices=("both", "loadgen", "none"), default="both",
                        help="server on CPU 0, clients on CPU 1 (both); see bench/README.md")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="wait up to S s for a quiet machine before each phase")
    parser.add_argument("--clients", type=int, default=8, help="client processes")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase and server")
    parser.add_argument("--keys", type=int, default=2000, help="distinct items per client (put, get)")
    parser.add_argument("--http", choices=("cloudlet", "uvicorn"), default=os.environ.get("CLOUDLET_HTTP") or "cloudlet",
                        help="cloudlet's HTTP server: its own protocol (default) or uvicorn (CLOUDLET_HTTP)")
    args = parser.parse_args(argv)
    os.environ["CLOUDLET_HTTP"] = args.http  # the server inherits it
    server_cpus, client_cpus = procs.cpu_plan(args.pin)
    signal_exit()
    lines: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-dynamodb-", dir=args.dir))
    try:
        with contextlib.closing(running(args, server_cpus, tmp / "cloudlet-data")) as servers:
            for server in servers:
                for line in measure(server, args, client_cpus):
                    emit(line, args.output)
                    warn_if_shared(line)
                    lines.append(line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    record = summary(lines)
    if record:
        emit(record, args.output)
    return 1 if any(("error" in ln or ln.get("non_2xx")) and ln["target"] == "cloudlet" for ln in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
