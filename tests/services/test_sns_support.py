"""Helpers for the SNS tests (no tests here): a local HTTP endpoint, signature checks, queue reads."""

from __future__ import annotations

import base64
import json
import queue
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def verify_signature(doc: dict[str, Any], pem: bytes | None = None) -> None:
    """Checks `doc`'s signature the way AWS documents it, with the certificate fetched
    from its SigningCertURL (or `pem`); raises InvalidSignature when it does not verify."""
    if pem is None:
        with urllib.request.urlopen(doc["SigningCertURL"], timeout=5) as resp:
            pem = resp.read()
    cert = x509.load_pem_x509_certificate(pem)
    fields = NOTIFICATION if doc["Type"] == "Notification" else CONFIRMATION
    text = "".join(f"{k}\n{doc[k]}\n" for k in fields if k in doc).encode()
    digest = hashes.SHA256() if doc["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(doc["Signature"]), text, padding.PKCS1v15(), digest)  # type: ignore[union-attr]


def queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(sqs: Any, url: str, **kw: Any) -> list[dict[str, Any]]:
    """Every message the queue has now (short polls until one comes back empty)."""
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kw).get("Messages", [])
        if not got:
            return out
        out.extend(got)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )


class Endpoint:
    """A tiny HTTP server on 127.0.0.1 that records each POST and answers with the
    statuses it is told to (then 200)."""

    def __init__(self) -> None:
        self.requests: "queue.Queue[tuple[dict[str, str], str]]" = queue.Queue()
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                outer.requests.put(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def next(self, timeout: float = 10.0) -> tuple[dict[str, str], str]:
        """The next POST received (waits for the scheduler thread to send it)."""
        return self.requests.get(timeout=timeout)

    def next_json(self, timeout: float = 10.0) -> tuple[dict[str, str], dict[str, Any]]:
        headers, body = self.next(timeout)
        return headers, json.loads(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
