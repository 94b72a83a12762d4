"""Workloads: a name plus one pre-built, pre-signed raw HTTP request to replay.

A workload is a function decorated with `@workload("service.Operation")`. It gets the
`Endpoint` of the server under test, may do setup there (create a queue, a bucket...) and
returns the `RawRequest` to replay. Signing happens once, here, never during the load.

Adding one for a new service is a few lines:

    @workload("sqs.SendMessage")
    def sqs_send_message(ep: Endpoint) -> RawRequest:
        url = ep.client("sqs").create_queue(QueueName="bench")["QueueUrl"]
        return ep.capture("sqs", "send_message", QueueUrl=url, MessageBody="x" * 100)

`capture` lets botocore build and sign the request exactly as boto3 would send it, then stops
it before it leaves, so any operation of any protocol becomes a workload without hand-made
bytes. Requests are signed with access key `test`/`test` in us-east-1; a run lasts seconds,
well inside SigV4's 15-minute clock-skew window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"


@dataclass(frozen=True)
class RawRequest:
    """One HTTP/1.1 request as bytes on the wire will carry it."""

    method: str
    path: str  # with the query string, as sent
    headers: tuple[tuple[str, str], ...]  # without Content-Length: it is derived from body
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def to_bytes(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


@dataclass(frozen=True)
class Endpoint:
    """Where the server under test listens, with boto3-compatible helpers bound to it."""

    url: str  # http://127.0.0.1:PORT

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def client(self, service: str) -> Any:
        """A botocore client for setup steps (plain botocore: boto3 is only a test dependency)."""
        import botocore.session
        from botocore.config import Config

        session = botocore.session.get_session()
        return session.create_client(
            service, region_name=REGION, endpoint_url=self.url, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10),
        )

    def capture(self, service: str, operation: str, **params: Any) -> RawRequest:
        """The signed request botocore would send for `operation(**params)`, not sent."""
        client = self.client(service)

        def stop(request: Any, **_: Any) -> None:
            raise _Captured(request)

        client.meta.events.register_first("before-send", stop)
        try:
            getattr(client, operation)(**params)
        except _Captured as captured:
            prepared = captured.request
        else:  # pragma: no cover - botocore always reaches before-send
            raise RuntimeError(f"{service}.{operation} was never sent")
        split = urlsplit(prepared.url)
        path = (split.path or "/") + (f"?{split.query}" if split.query else "")
        headers = [("Host", split.netloc)]
        for name, value in prepared.headers.items():
            if name.lower() in ("host", "content-length"):
                continue
            headers.append((name, value.decode() if isinstance(value, bytes) else str(value)))
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()  # a stream body, e.g. S3 PutObject
        return RawRequest(prepared.method, path, tuple(headers), body)


Prepare = Callable[[Endpoint], RawRequest]


@dataclass(frozen=True)
class Workload:
    name: str
    prepare: Prepare
    doc: str = ""


WORKLOADS: dict[str, Workload] = {}


def workload(name: str) -> Callable[[Prepare], Prepare]:
    """Register a workload under `name` (service.Operation by convention)."""

    def register(prepare: Prepare) -> Prepare:
        if name in WORKLOADS:
            raise ValueError(f"workload {name!r} registered twice")
        WORKLOADS[name] = Workload(name, prepare, (prepare.__doc__ or "").strip())
        return prepare

    return register


# --- the workloads -------------------------------------------------------------------------


@workload("sts.GetCallerIdentity")
def sts_get_caller_identity(ep: Endpoint) -> RawRequest:
    """The cheapest signed AWS call: query protocol in, small XML out, no state.

    POST / with `Action=GetCallerIdentity&Version=2011-06-15`, form content type, SigV4
    signed for service sts in us-east-1.
    """
    return ep.capture("sts", "get_caller_identity")


def _queue_url(ep: Endpoint, name: str) -> str:
    """Create queue `name`; against the bare ceiling (which answers anything with hello-world)
    there is no QueueUrl in the answer, and a well-formed made-up one does for its bytes."""
    url = ep.client("sqs").create_queue(QueueName=name).get("QueueUrl")
    return url if isinstance(url, str) else f"{ep.url}/000000000000/{name}"


@workload("sqs.SendMessage")
def sqs_send_message(ep: Endpoint) -> RawRequest:
    """A 100-byte message into a standard queue (AWS JSON 1.0, as botocore 1.43 sends SQS).

    The queue grows by one message per request (a 5 s run leaves tens of thousands), so this
    also shows whether enqueueing slows as the queue grows. `python -m bench.messaging
    roundtrip` measures the send/receive/delete cycle.
    """
    url = _queue_url(ep, "bench-send")
    return ep.capture("sqs", "send_message", QueueUrl=url, MessageBody="x" * 100)


@workload("sqs.ReceiveMessage.empty")
def sqs_receive_message_empty(ep: Endpoint) -> RawRequest:
    """A short poll (WaitTimeSeconds=0) of an empty queue: the cost of looking, with nothing found."""
    url = _queue_url(ep, "bench-empty")
    return ep.capture("sqs", "receive_message", QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)


@workload("events.PutEvents")
def events_put_events(ep: Endpoint) -> RawRequest:
    """One event onto the default bus with no rules: envelope, validation, the bus read.
    `python -m bench.messaging rules` measures the same with 1-1,000 rules."""
    detail = '{"status": "placed", "amount": 12}'
    return ep.capture("events", "put_events", Entries=[
        {"Source": "bench.app", "DetailType": "Order Placed", "Detail": detail}])
