"""cloudlet's own HTTP/1.1 server (`server/http1.py`), at the edges clients reach: raw bytes
on a socket where the edge is the wire itself, boto3 where it is a behaviour."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
from typing import Any, Iterator

import httptools
import pytest

from cloudlet.server import http1
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from tests.cloud import Cloud

HTTP1 = {"CLOUDLET_HTTP": "cloudlet"}  # the default; named so these tests keep meaning it
SCOPE = "Credential=test/20260101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    data = tmp_path_factory.mktemp("http1-data")
    c = Cloud("--data-dir", str(data), env=HTTP1)
    c.data_dir = str(data)  # type: ignore[attr-defined]
    yield c
    c.stop()


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class _Collect:
    """httptools response callbacks: (status, headers, body) per response."""

    def __init__(self) -> None:
        self.done: list[tuple[int, dict[str, str], bytes]] = []
        self.headers: dict[str, str] = {}
        self.body = b""
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.headers, self.body = {}, b""

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done.append((self.parser.get_status_code(), self.headers, self.body))


def responses(s: socket.socket, n: int) -> list[tuple[int, dict[str, str], bytes]]:
    """Read `n` complete responses (not HEAD: the parser would wait for a body)."""
    c = _Collect()
    while len(c.done) < n:
        data = s.recv(65536)
        if not data:
            break
        c.parser.feed_data(data)
    return c.done


def read_until_closed(s: socket.socket) -> bytes:
    out = b""
    while True:
        data = s.recv(65536)
        if not data:
            return out
        out += data


def json_request(service_target: str, body: dict[str, Any], signing: str, *, chunked: bool = False,
                 extra: str = "") -> bytes:
    data = json.dumps(body).encode()
    head = (f"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: {service_target}\r\n"
            f"Content-Type: application/x-amz-json-1.0\r\nAuthorization: AWS4-HMAC-SHA256 {SCOPE.format(signing)}\r\n"
            f"{extra}")
    if not chunked:
        return f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data
    third = len(data) // 3
    parts = [data[:third], data[third : 2 * third], data[2 * third :]]
    return (f"{head}Transfer-Encoding: chunked\r\n\r\n".encode()
            + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n")


HEALTH = b"GET /_cloudlet/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
LIST_TABLES = json_request("DynamoDB_20120810.ListTables", {}, "dynamodb")


def test_pipelined_requests_are_answered_in_order(server: Cloud) -> None:
    with connect(server.port) as s:
        s.sendall(HEALTH + LIST_TABLES + HEALTH + LIST_TABLES)  # one write: four requests
        got = responses(s, 4)
    assert [status for status, _, _ in got] == [200, 200, 200, 200]
    assert [("status" in json.loads(body)) for _, _, body in got] == [True, False, True, False]
    assert "TableNames" in json.loads(got[1][2])


def test_keep_alive_connection_serves_requests_one_after_another(server: Cloud) -> None:
    with connect(server.port) as s:
        for _ in range(5):
            s.sendall(LIST_TABLES)
            [(status, headers, _)] = responses(s, 1)
            assert status == 200 and "connection" not in headers


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: Cloud) -> None:
    whole = json_request("DynamoDB_20120810.ListTables", {}, "dynamodb", extra="Expect: 100-continue\r\n")
    head, body = whole.split(b"\r\n\r\n", 1)
    with connect(server.port) as s:
        s.sendall(head + b"\r\n\r\n")
        interim = s.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        [(status, _, answer)] = responses(s, 1)
    assert status == 200 and "TableNames" in json.loads(answer)


def test_chunked_request_body_is_decoded(server: Cloud) -> None:
    ddb = server.client("dynamodb")
    ddb.create_table(TableName="chunky", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    item = {"pk": {"S": "a"}, "text": {"S": "x" * 3000}}
    with connect(server.port) as s:
        s.sendall(json_request("DynamoDB_20120810.PutItem", {"TableName": "chunky", "Item": item}, "dynamodb",
                               chunked=True))
        [(status, _, body)] = responses(s, 1)
    assert status == 200, body
    assert ddb.get_item(TableName="chunky", Key={"pk": {"S": "a"}})["Item"] == item


def test_large_body_is_spooled_and_streamed_back(server: Cloud) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="spool")
    payload = os.urandom(3 * 1024 * 1024 + 17)  # over SPOOL_AT: written to a file as it arrives
    s3.put_object(Bucket="spool", Key="big", Body=payload)
    assert s3.get_object(Bucket="spool", Key="big")["Body"].read() == payload
    head = s3.head_object(Bucket="spool", Key="big")
    assert head["ContentLength"] == len(payload)
    spool = os.path.join(server.data_dir, "tmp")  # type: ignore[attr-defined]
    leftovers = [n for n in os.listdir(spool) if n.startswith("body-")] if os.path.isdir(spool) else []
    assert leftovers == []


def test_slow_reader_gets_a_streamed_body_whole(server: Cloud) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="slow")
    payload = os.urandom(6 * 1024 * 1024)
    s3.put_object(Bucket="slow", Key="k", Body=payload)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "slow", "Key": "k"})
    path = url.split(str(server.port), 1)[1]
    with connect(server.port) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        time.sleep(0.5)  # the server fills the socket and waits (pause_writing) meanwhile
        [(status, _, body)] = responses(s, 1)
    assert status == 200 and body == payload


def test_head_has_headers_and_no_body(server: Cloud) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="heads")
    s3.put_object(Bucket="heads", Key="k", Body=b"hello world")
    with connect(server.port) as s:
        # a HEAD then a GET on the same connection: no body bytes may sit between them
        s.sendall(b"HEAD /heads/k HTTP/1.1\r\nHost: localhost\r\n\r\nGET /heads/k HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"hello world"):
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: 11" in head.lower()
    assert rest.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("garbage", [
    b"NOT HTTP AT ALL\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_malformed_request_gets_400_and_the_connection_closes(server: Cloud, garbage: bytes) -> None:
    with connect(server.port) as s:
        s.sendall(garbage)
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"connection: close" in answer.lower()
    assert server.admin("GET", "health")["status"] == "running"


def test_bad_request_behind_a_good_one_is_answered_after_it(server: Cloud) -> None:
    with connect(server.port) as s:
        s.sendall(HEALTH + b"BROKEN\r\n\r\n")
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.count(b"HTTP/1.1 400 ") == 1


def test_upgrade_request_is_answered_as_plain_http_then_closed(server: Cloud) -> None:
    with connect(server.port) as s:
        s.sendall(b"GET /_cloudlet/health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                  b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1 ") == 1, answer[:200]


def test_request_head_too_large_is_refused(server: Cloud) -> None:
    with connect(server.port) as s:
        try:
            s.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (2 * http1.MAX_HEAD) + b"\r\n\r\n")
            answer = read_until_closed(s)
        except OSError:
            answer = b""  # closed with our bytes unread: the kernel resets, the 431 may be lost
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    assert server.admin("GET", "health")["status"] == "running"


def test_client_gone_during_a_long_poll_is_survived(server: Cloud) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="long-poll-gone", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    s = connect(server.port)
    s.sendall(json_request("AmazonSQS.ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 20}, "sqs"))
    time.sleep(0.3)  # the poll is waiting in the server
    s.close()
    time.sleep(0.3)
    sqs.send_message(QueueUrl=url, MessageBody="taken by a poll whose client left")
    # the poll runs to its end (it takes the message, as in AWS); its answer goes nowhere
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
        if attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1":
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the abandoned poll did not finish")
    assert server.admin("GET", "health")["status"] == "running"
    with connect(server.port) as again:  # and the server goes on serving
        again.sendall(LIST_TABLES)
        assert responses(again, 1)[0][0] == 200


def test_long_poll_answers_when_a_message_arrives(server: Cloud) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="long-poll-wakes")["QueueUrl"]
    with connect(server.port) as s:
        s.sendall(json_request("AmazonSQS.ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 10}, "sqs"))
        time.sleep(0.2)
        sqs.send_message(QueueUrl=url, MessageBody="wake")
        s.sendall(LIST_TABLES)  # pipelined behind the waiting poll: answered after it
        [(status, _, body), (status2, _, body2)] = responses(s, 2)
    assert status == 200 and [m["Body"] for m in json.loads(body)["Messages"]] == ["wake"]
    assert status2 == 200 and "TableNames" in json.loads(body2)


def test_sigterm_stops_the_server_with_a_long_poll_in_progress() -> None:
    c = Cloud(env=HTTP1)
    try:
        sqs = c.client("sqs")
        url = sqs.create_queue(QueueName="stopping")["QueueUrl"]
        s = connect(c.port)
        s.sendall(json_request("AmazonSQS.ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 20}, "sqs"))
        time.sleep(0.2)
        idle = connect(c.port)
        start = time.monotonic()
        c.proc.send_signal(signal.SIGTERM)
        assert c.proc.wait(http1.SHUTDOWN_GRACE + 5) == 0
        assert time.monotonic() - start < http1.SHUTDOWN_GRACE + 3
        assert read_until_closed(idle) == b""  # an idle connection is closed, not answered
        s.close()
        idle.close()
    finally:
        c.stop()


@pytest.mark.parametrize("stack", ["cloudlet", "uvicorn"])
def test_spooled_document_body_leaves_no_file(stack: str, tmp_path) -> None:
    """A chunked body is spooled (its length is unknown); a DynamoDB call then reads it whole,
    and the spool file goes either way (under uvicorn too: the ASGI app kept it until 2026-11-28)."""
    c = Cloud("--data-dir", str(tmp_path), env={"CLOUDLET_HTTP": stack})
    try:
        with connect(c.port) as s:
            s.sendall(json_request("DynamoDB_20120810.ListTables", {"Limit": 5}, "dynamodb", chunked=True))
            [(status, _, body)] = responses(s, 1)
        assert status == 200 and "TableNames" in json.loads(body)
        assert [n for n in os.listdir(tmp_path / "tmp") if n.startswith("body-")] == []
        assert c.client("dynamodb").list_tables()["TableNames"] == []
    finally:
        c.stop()


# in process: timings shortened ------------------------------------------------------------------
@pytest.fixture()
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(http1, "IDLE_TIMEOUT", 0.4)
    monkeypatch.setattr(http1, "SWEEP_EVERY", 0.1)
    import uvloop

    loop = uvloop.new_event_loop()
    gw = Gateway(Config(ephemeral=True))
    server = http1.Server(gw, loop)
    loop.run_until_complete(server.start("127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_idle_connection_is_closed_after_the_keep_alive_timeout(in_process: int) -> None:
    with connect(in_process) as s:
        s.sendall(HEALTH)
        assert responses(s, 1)[0][0] == 200
        start = time.monotonic()
        assert read_until_closed(s) == b""
        assert 0.3 < time.monotonic() - start < 3


def test_stalled_body_is_dropped_after_the_timeout(in_process: int) -> None:
    with connect(in_process) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
        assert read_until_closed(s) == b""


def test_http10_without_keep_alive_is_closed_after_the_answer(in_process: int) -> None:
    with connect(in_process) as s:
        s.sendall(b"GET /_cloudlet/health HTTP/1.0\r\n\r\n")
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"connection: close" in answer
