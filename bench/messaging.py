"""Messaging, measured where replaying one request cannot: SQS round trips, long-poll wake-ups,
EventBridge rule fan-in.

    python -m bench.messaging roundtrip   # 8 clients: SendMessage -> ReceiveMessage -> DeleteMessage
    python -m bench.messaging wake        # send -> a long-polling receiver returns, N=50
    python -m bench.messaging rules       # PutEvents per event with 1, 100, 1,000 rules on the bus
    python -m bench.messaging all

One JSON object per line on stdout (progress on stderr), like the rest of bench/. cloudlet is
`cloudlet serve --ephemeral`; moto's server is measured in the same run when `moto[server]` is
installed (`--moto off` skips it). Loopback only, every run bounded in time or count.

Why not `python -m bench run`: a round trip is three calls whose third depends on the second's
answer (the receipt handle), so it cannot be one pre-signed request replayed. Each client here
is its own process (no GIL shared between clients) holding a keep-alive connection; Send and
Receive are pre-signed once, DeleteMessage is signed per message with botocore's SigV4 signer,
the same code boto3 runs. The clients' own CPU is reported so one can tell whether they were
the bottleneck.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import threading
import time
from typing import Any, Callable, Iterator

import httptools

from . import procs
from .report import emit, pct
from .report import note as _note
from .workloads import ACCESS_KEY, REGION, SECRET_KEY, Endpoint, RawRequest


def note(message: str) -> None:
    _note("bench.messaging", message)


SQS_TARGET = "AmazonSQS"





# --- a lean SQS client: raw keep-alive socket, pre-signed requests, per-message signing ----


class _Reply:
    def __init__(self) -> None:
        self.body = bytearray()
        self.complete = False
        self.close = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"connection" and value.strip().lower() == b"close":
            self.close = True

    def on_body(self, data: bytes) -> None:
        self.body.extend(data)

    def on_message_complete(self) -> None:
        self.complete = True


def exchange(sock: socket.socket, raw: bytes) -> procs.Reply:
    """One request, one response. Keep-alive is read from the headers: httptools'
    `should_keep_alive()` answers False once a response is complete (so `procs.exchange`
    reports every reply as closing, and a client using it reconnects for every request)."""
    sock.sendall(raw)
    state = _Reply()
    parser = httptools.HttpResponseParser(state)
    while not state.complete:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection mid-response")
        parser.feed_data(data)
    keep = parser.get_http_version() == "1.1" and not state.close
    return procs.Reply(parser.get_status_code(), bytes(state.body), keep)


class Conn:
    """One keep-alive connection that reconnects when the server closes (moto does, always)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def call(self, raw: bytes) -> procs.Reply:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reply = exchange(self.sock, raw)
        if not reply.keep_alive:
            self.close()
        return reply

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class Signer:
    """Re-signs a captured request with a new body: what boto3 does for each DeleteMessage,
    without the rest of botocore's call path (which would make the client the bottleneck)."""

    def __init__(self, template: RawRequest, url: str) -> None:
        from botocore.auth import SigV4Auth
        from botocore.credentials import Credentials

        self.url = url.rstrip("/") + template.path
        self.auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "sqs", REGION)
        drop = {"authorization", "x-amz-date", "x-amz-content-sha256", "content-length"}
        self.headers = {k: v for k, v in template.headers if k.lower() not in drop}
        self.method = template.method
        self.path = template.path

    def sign(self, body: bytes) -> bytes:
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=self.method, url=self.url, data=body, headers=dict(self.headers))
        self.auth.add_auth(request)
        headers = tuple((k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items())
        return RawRequest(self.method, self.path, headers, body).to_bytes()


def json_body(reply: procs.Reply) -> dict[str, Any]:
    if not 200 <= reply.status < 300:
        raise RuntimeError(f"HTTP {reply.status}: {reply.body[:300]!r}")
    return json.loads(reply.body) if reply.body else {}


# --- roundtrip ------------------------------------------------------------------------------


def _roundtrip_worker(url: str, port: int, queue_url: str, go: Any, stop_at: Any, out: Any,
                      cpus: set[int] | None) -> None:
    """One client: reports {"ready"} once set up, then exactly one result (or error) line."""
    lat: list[float] = []
    empty = 0
    cpu0 = time.process_time()
    conn = Conn(port)
    try:
        if cpus:
            os.sched_setaffinity(0, cpus)
        ep = Endpoint(url)
        send = ep.capture("sqs", "send_message", QueueUrl=queue_url, MessageBody="x" * 100).to_bytes()
        receive = ep.capture("sqs", "receive_message", QueueUrl=queue_url, MaxNumberOfMessages=1,
                             WaitTimeSeconds=0).to_bytes()
        signer = Signer(ep.capture("sqs", "delete_message", QueueUrl=queue_url, ReceiptHandle="x"), url)

        def delete(handle: str) -> None:
            json_body(conn.call(signer.sign(json.dumps({"QueueUrl": queue_url, "ReceiptHandle": handle}).encode())))

        json_body(conn.call(send))  # one untimed cycle: connection, first-use work
        for m in json_body(conn.call(receive)).get("Messages", []):
            delete(m["ReceiptHandle"])
        out.put({"ready": True})
        go.wait()
        deadline = stop_at.value
        clock = time.perf_counter
        cpu0 = time.process_time()
        while True:
            t0 = clock()
            if t0 > deadline:
                break
            json_body(conn.call(send))
            msgs = json_body(conn.call(receive)).get("Messages", [])
            if not msgs:
                empty += 1
                continue
            delete(msgs[0]["ReceiptHandle"])
            lat.append(clock() - t0)
    except Exception as err:  # reported, not hidden: a fast error is not a fast round trip
        out.put({"ready": True, "error": repr(err)[:300]})  # never leave the parent waiting
    finally:
        conn.close()
    out.put({"lat": lat, "empty": empty, "cpu_s": time.process_time() - cpu0})


def roundtrip(server: procs.Server, clients: int, duration: float, client_cpus: set[int] | None) -> dict[str, Any]:
    """`clients` processes, each its own queue, doing Send -> Receive -> Delete for `duration` s."""
    ep = Endpoint(f"http://127.0.0.1:{server.port}")
    sqs = ep.client("sqs")
    urls = [sqs.create_queue(QueueName=f"bench-rt-{i}")["QueueUrl"] for i in range(clients)]
    ctx = mp.get_context("fork")
    go, stop_at, out = ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
    workers = [ctx.Process(target=_roundtrip_worker, args=(ep.url, server.port, u, go, stop_at, out, client_cpus))
               for u in urls]
    for w in workers:
        w.start()
    results: list[dict[str, Any]] = []
    ready = 0
    while ready < clients:  # every client set up (botocore loaded, requests signed) before the clock
        r = out.get(timeout=120)
        ready += "ready" in r
        results.append(r)
    busy0 = procs.machine_busy_seconds()
    cpu0 = server.cpu_seconds()
    start = time.perf_counter()
    stop_at.value = start + duration
    go.set()
    while len([r for r in results if "lat" in r]) < clients:
        r = out.get(timeout=duration + 60)
        results.append(r)
    elapsed = time.perf_counter() - start
    cpu = server.cpu_seconds() - cpu0
    busy = procs.machine_busy_seconds() - busy0
    for w in workers:
        w.join(timeout=10)
    lat = [x for r in results for x in r.get("lat", [])]
    client_cpu = sum(r.get("cpu_s", 0.0) for r in results)
    errs = [r["error"] for r in results if "error" in r]
    n = len(lat)
    line: dict[str, Any] = {
        "round_trips": n, "elapsed_s": round(elapsed, 3),
        "round_trips_per_s": round(n / elapsed, 1),
        "requests_per_s": round(3 * n / elapsed, 1),
        "p50_ms": round(1000 * pct(lat, 0.5), 3) if lat else None,
        "p99_ms": round(1000 * pct(lat, 0.99), 3) if lat else None,
        "server_cpu_s": round(cpu, 3),
        "server_cpu_ms_per_round_trip": round(1000 * cpu / n, 4) if n else None,
        "server_cpu_pct": round(100 * cpu / elapsed, 1),
        "client_cpu_pct": round(100 * client_cpu / elapsed, 1),  # all clients, % of one core
        "client_cpu_ms_per_round_trip": round(1000 * client_cpu / n, 4) if n else None,
        "other_cpu_pct": round(max(0.0, 100 * (busy - cpu - client_cpu) / elapsed), 1),
        "empty_receives": sum(r.get("empty", 0) for r in results),
    }
    if errs:
        line["errors"] = errs[:3]
    return line


# --- wake -----------------------------------------------------------------------------------


def wake(server: procs.Server, n: int, park_s: float, budget_s: float) -> dict[str, Any]:
    """A receiver long-polls (WaitTimeSeconds=20); once its request is in, a sender sends.

    Latency = from just before the sender writes SendMessage to the receiver having the reply
    with the message. The receiver parks `park_s` before each send so the server has it
    waiting (a receive that arrives after the message is not a wake-up).
    """
    ep = Endpoint(f"http://127.0.0.1:{server.port}")
    url = ep.client("sqs").create_queue(QueueName="bench-wake")["QueueUrl"]
    receive = ep.capture("sqs", "receive_message", QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=20).to_bytes()
    send = ep.capture("sqs", "send_message", QueueUrl=url, MessageBody="wake").to_bytes()
    signer = Signer(ep.capture("sqs", "delete_message", QueueUrl=url, ReceiptHandle="x"), ep.url)
    rconn, sconn = Conn(server.port, timeout=25), Conn(server.port, timeout=25)
    # warm both paths once (untimed)
    json_body(sconn.call(send))
    for m in json_body(rconn.call(receive)).get("Messages", []):
        json_body(sconn.call(signer.sign(json.dumps({"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]}).encode())))
    wakes: list[float] = []
    sends: list[float] = []
    after: list[float] = []
    empty = 0
    deadline = time.perf_counter() + budget_s
    for _ in range(n):
        if time.perf_counter() > deadline:
            break
        got: dict[str, Any] = {}

        def receiver() -> None:
            try:
                got["reply"] = rconn.call(receive)
            except Exception as err:  # noqa: BLE001 - reported below
                got["error"] = repr(err)
            got["t"] = time.perf_counter()

        thread = threading.Thread(target=receiver)
        thread.start()
        time.sleep(park_s)
        t0 = time.perf_counter()
        json_body(sconn.call(send))
        t_sent = time.perf_counter()
        sends.append(t_sent - t0)
        thread.join(timeout=25)
        if "error" in got:
            raise RuntimeError(got["error"])
        msgs = json_body(got["reply"]).get("Messages", [])
        if not msgs:
            empty += 1
            continue
        wakes.append(got["t"] - t0)
        after.append(got["t"] - t_sent)  # < 0: the receiver had it before the sender's reply
        json_body(sconn.call(signer.sign(json.dumps({"QueueUrl": url, "ReceiptHandle": msgs[0]["ReceiptHandle"]}).encode())))
    rconn.close()
    sconn.close()
    line: dict[str, Any] = {"samples": len(wakes), "empty_returns": empty, "park_ms": round(1000 * park_s, 1)}
    if wakes:
        line.update({
            "wake_p50_ms": round(1000 * pct(wakes, 0.5), 3), "wake_p99_ms": round(1000 * pct(wakes, 0.99), 3),
            "wake_max_ms": round(1000 * max(wakes), 3),
            "send_p50_ms": round(1000 * pct(sends, 0.5), 3),
            "after_send_reply_p50_ms": round(1000 * pct(after, 0.5), 3),
        })
    return line


# --- rules ----------------------------------------------------------------------------------


def rules_bench(counts: list[int], events: int, batch: int) -> Iterator[dict[str, Any]]:
    """PutEvents through `Gateway.dispatch` in process (validation, handler, store, delivery;
    no HTTP) on a bus with N rules: N-1 whose patterns do not match, one that matches and
    delivers into an SQS queue. Also times the pattern engine alone over the same rules."""
    from cloudlet.core.context import Context
    from cloudlet.core.ids import request_id
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway
    from cloudlet.services.events import matching, model

    # AWS's default quota is 300 rules per bus (adjustable on request); cloudlet enforces it.
    # The issue asks about 1,000, so the bench lifts it in this process only.
    model.MAX_RULES_PER_BUS = max(model.MAX_RULES_PER_BUS, max(counts))
    account = "123456789012"
    for count in counts:
        gw = Gateway(Config(ephemeral=True))

        def call(service: str, operation: str, params: dict[str, Any]) -> Any:
            ctx = Context(account=account, region=REGION, principal_arn=f"arn:aws:iam::{account}:root",
                          access_key="test", request_id=request_id(), service=service, operation=operation,
                          gateway=gw)
            return gw.dispatch(ctx, params)

        url = call("sqs", "CreateQueue", {"QueueName": "bench-events"})["QueueUrl"]
        queue_arn = f"arn:aws:sqs:{REGION}:{account}:bench-events"
        call("sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                    "Action": "sqs:SendMessage", "Resource": queue_arn}]})}})
        for i in range(count - 1):  # varied shapes, none matching the event below
            pattern = [
                {"source": [f"app.service-{i}"]},
                {"source": ["bench.app"], "detail-type": [f"Other {i}"]},
                {"source": ["bench.app"], "detail": {"status": [f"state-{i}"]}},
                {"source": [{"prefix": f"svc{i}."}], "detail": {"amount": [{"numeric": [">", 1000 + i]}]}},
            ][i % 4]
            call("events", "PutRule", {"Name": f"r{i:04d}", "EventPattern": json.dumps(pattern)})
            call("events", "PutTargets", {"Rule": f"r{i:04d}", "Targets": [{"Id": "t", "Arn": queue_arn}]})
        call("events", "PutRule", {"Name": "match", "EventPattern": json.dumps(
            {"source": ["bench.app"], "detail-type": ["Order Placed"], "detail": {"status": ["placed"]}})})
        call("events", "PutTargets", {"Rule": "match", "Targets": [{"Id": "q", "Arn": queue_arn}]})
        entry = {"Source": "bench.app", "DetailType": "Order Placed",
                 "Detail": json.dumps({"status": "placed", "amount": 12, "items": [1, 2, 3]})}
        params = {"Entries": [entry] * batch}
        for _ in range(20):  # first-use work (pattern compile, caches) out of the measurement
            call("events", "PutEvents", params)
        samples = []
        calls = max(1, events // batch)
        cpu0, t_all = time.process_time(), time.perf_counter()
        for _ in range(calls):
            t0 = time.perf_counter()
            result = call("events", "PutEvents", params)
            samples.append(time.perf_counter() - t0)
            if result["FailedEntryCount"]:
                raise RuntimeError(f"PutEvents failed: {result}")
        wall = time.perf_counter() - t_all
        cpu = time.process_time() - cpu0
        delivered = call("sqs", "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages"]})
        # the pattern engine alone, over the same stored rules (as PutEvents reads them)
        from cloudlet.services.events import storage

        ctx = Context(account=account, region=REGION, principal_arn=f"arn:aws:iam::{account}:root",
                      access_key="test", request_id=request_id(), service="events", operation="PutEvents", gateway=gw)
        reads = []
        with ctx.tx() as tx:
            for _ in range(21):  # the median: one read of 1,000 records may meet a GC pass
                t0 = time.perf_counter()
                stored = storage.rules(tx, "default")
                reads.append(time.perf_counter() - t0)
        read_us = 1e6 * pct(reads, 0.5)
        event = {"version": "0", "id": "x", "detail-type": "Order Placed", "source": "bench.app", "account": account,
                 "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": [],
                 "detail": {"status": "placed", "amount": 12, "items": [1, 2, 3]}}
        reps = max(20, 20000 // count)
        t0 = time.perf_counter()
        for _ in range(reps):
            hit = matching.rules_for(stored, event)
        match_us = 1e6 * (time.perf_counter() - t0) / reps
        assert [r["name"] for r in hit] == ["match"], [r["name"] for r in hit]
        per_event = [s / batch for s in samples]
        yield {
            "bench": "events.PutEvents.rules", "rules": count, "entries_per_call": batch, "events": calls * batch,
            "us_per_event_p50": round(1e6 * pct(per_event, 0.5), 1),
            "us_per_event_p99": round(1e6 * pct(per_event, 0.99), 1),
            "us_per_event_mean": round(1e6 * wall / (calls * batch), 1),
            "cpu_us_per_event": round(1e6 * cpu / (calls * batch), 1),
            "rules_read_us": round(read_us, 1),
            "match_all_rules_us": round(match_us, 2),
            "match_us_per_rule": round(match_us / count, 3),
            "queue_messages_after": int(delivered["Attributes"]["ApproximateNumberOfMessages"]),
        }
        gw.store.close()


# --- CLI ------------------------------------------------------------------------------------


def _servers(args: argparse.Namespace, server_cpus: set[int] | None) -> Iterator[procs.Server]:
    targets: list[Callable[[int], procs.Server]] = [procs.cloudlet_cli]
    if args.moto == "on" or (args.moto == "auto" and procs.moto_available()):
        targets.append(procs.moto)
    for make in targets:
        server = make(procs.free_port())
        server.cpus = server_cpus
        with server:
            server.wait_ready()
            yield server


def _environment() -> dict[str, Any]:
    import platform

    return {"python": platform.python_version(), "cpus": len(os.sched_getaffinity(0)),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S")}


def cmd_roundtrip(args: argparse.Namespace) -> None:
    server_cpus, client_cpus = procs.cpu_plan(args.pin)
    lines: dict[str, dict[str, Any]] = {}
    for server in _servers(args, server_cpus):
        if args.settle:
            procs.wait_quiet(args.settle)
        note(f"roundtrip: {server.name}, {args.clients} clients, {args.duration}s")
        line = {"bench": "sqs.roundtrip", "target": server.name, "clients": args.clients, "pin": args.pin,
                **roundtrip(server, args.clients, args.duration, client_cpus), **_environment()}
        lines[server.name] = line
        emit(line, args.output)
    c, m = lines.get("cloudlet"), lines.get("moto")
    if c and m and m["round_trips"] and c["round_trips"]:
        emit({"bench": "sqs.roundtrip.ratio",
              "rps_ratio": round(c["round_trips_per_s"] / m["round_trips_per_s"], 1),
              "cpu_per_round_trip_ratio": round(c["server_cpu_ms_per_round_trip"] / m["server_cpu_ms_per_round_trip"], 4),
              "targets": {"rps_ratio": ">= 10", "cpu_per_round_trip_ratio": "<= 0.1"}}, args.output)


def cmd_wake(args: argparse.Namespace) -> None:
    for server in _servers(args, None):
        note(f"wake: {server.name}, N={args.n}")
        n = args.n if server.name == "cloudlet" else min(args.n, args.moto_n)
        line = {"bench": "sqs.long_poll_wake", "target": server.name,
                **wake(server, n, args.park_ms / 1000, args.budget), **_environment()}
        if server.name == "cloudlet":
            line["target_p50_ms"] = 5
        emit(line, args.output)


def cmd_rules(args: argparse.Namespace) -> None:
    for line in rules_bench([int(x) for x in args.rules.split(",")], args.events, args.batch):
        emit({**line, **_environment()}, args.output)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.messaging", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("roundtrip", "wake", "rules", "all"))
    parser.add_argument("--output", help="append the JSON lines to this file too")
    parser.add_argument("--moto", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--clients", type=int, default=8, help="roundtrip: client processes (one queue each)")
    parser.add_argument("--duration", type=float, default=5.0, help="roundtrip: seconds per server")
    parser.add_argument("--pin", choices=("both", "loadgen", "none"), default="both",
                        help="roundtrip: server on CPU 0, clients on CPU 1 (both); see bench/README.md")
    parser.add_argument("--settle", type=float, default=0.0, help="roundtrip: wait up to S s for a quiet machine")
    parser.add_argument("--n", type=int, default=50, help="wake: samples")
    parser.add_argument("--moto-n", type=int, default=20, help="wake: samples against moto (it is slow)")
    parser.add_argument("--park-ms", type=float, default=20.0, help="wake: receiver's head start before each send")
    parser.add_argument("--budget", type=float, default=30.0, help="wake: seconds at most per server")
    parser.add_argument("--rules", default="1,100,1000", help="rules: rule counts on the bus")
    parser.add_argument("--events", type=int, default=2000, help="rules: events per rule count")
    parser.add_argument("--batch", type=int, default=1, help="rules: entries per PutEvents call")
    args = parser.parse_args(argv)
    commands = {"roundtrip": [cmd_roundtrip], "wake": [cmd_wake], "rules": [cmd_rules],
                "all": [cmd_roundtrip, cmd_wake, cmd_rules]}[args.command]
    for command in commands:
        command(args)


if __name__ == "__main__":
    main()
