"""Requests signed by botocore itself, captured before they leave the process.

`capture()` runs a real client call and intercepts the prepared request on the
``before-send`` event, so what we verify is byte for byte what boto3 would put on the
wire (chunked bodies with trailers included), and no request reaches the network.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import hmac
import os
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials

from cloudlet.auth import sigv4
from cloudlet.auth.credentials import Identity
from cloudlet.protocol.http import Request

UTC = dt.timezone.utc
ENDPOINT = "https://localhost:4566"
ACCOUNT = "123456789012"
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
IDENTITY = Identity(KEY, SECRET, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", user_name="alice")


class _Raw:
    """Just enough of urllib3's response for botocore to read an empty body."""

    def stream(self, *a: Any, **kw: Any):
        yield b""

    def read(self, *a: Any, **kw: Any) -> bytes:
        return b""


def to_request(prepared: Any) -> Request:
    """A botocore (prepared) request as the server hands it to us: raw path and query,
    lower-case header names (repeats joined with ','), body bytes, Host as the client sends it."""
    if isinstance(prepared, AWSRequest):
        prepared = prepared.prepare()
    parts = urlsplit(prepared.url)
    headers: dict[str, str] = {}
    for name, value in prepared.headers.items():
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        name = name.lower()
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    headers.setdefault("host", parts.netloc)
    body = prepared.body
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, str):
        body = body.encode()
    return Request(prepared.method, parts.path, parts.query, headers, bytes(body))


@functools.lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    """One session, so each service model is loaded once for the whole test run."""
    session = botocore.session.Session()
    session.set_config_variable("config_file", os.devnull)
    session.set_config_variable("credentials_file", os.devnull)
    return session


def client(service: str, *, key: str = KEY, secret: str = SECRET, token: str | None = None,
           endpoint: str = ENDPOINT, region: str = "us-east-1", **config: Any) -> Any:
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, **config)
    return _session().create_client(
        service, region_name=region, endpoint_url=endpoint, aws_access_key_id=key,
        aws_secret_access_key=secret, aws_session_token=token, config=cfg,
    )


_SEEN: list[Request] = []


def _before_send(request: Any, **_: Any) -> AWSResponse:
    _SEEN.append(to_request(request))
    return AWSResponse(request.url, 200, {}, _Raw())


@functools.lru_cache(maxsize=64)
def _capturing_client(service: str, frozen: str) -> Any:
    c = client(service, **json.loads(frozen))
    c.meta.events.register("before-send", _before_send)
    return c


def capture(service: str, operation: str, params: dict[str, Any] | None = None, **kw: Any) -> Request:
    """The request boto3 sends for one call, signed, as the server would receive it."""
    c = _capturing_client(service, json.dumps(kw, sort_keys=True))
    _SEEN.clear()
    try:
        getattr(c, operation)(**(params or {}))
    except Exception:  # an empty 200 may not parse for every protocol: only the request matters
        pass
    assert len(_SEEN) == 1, _SEEN
    return _SEEN.pop()


def presigned(url: str, method: str = "GET", body: bytes = b"", headers: dict[str, str] | None = None) -> Request:
    parts = urlsplit(url)
    return Request(method, parts.path, parts.query, {"host": parts.netloc, **(headers or {})}, body)


def sign(request: AWSRequest, service: str, *, s3: bool = False, secret: str = SECRET,
         key: str = KEY, token: str | None = None, region: str = "us-east-1") -> Request:
    """Sign a hand-built request with botocore's header signer."""
    signer = (S3SigV4Auth if s3 else SigV4Auth)(Credentials(key, secret, token), service, region)
    signer.add_auth(request)
    return to_request(request)


def presign(request: AWSRequest, service: str, *, s3: bool = False, expires: int = 3600,
            secret: str = SECRET, key: str = KEY, token: str | None = None) -> Request:
    signer = (S3SigV4QueryAuth if s3 else SigV4QueryAuth)(Credentials(key, secret, token), service, "us-east-1", expires=expires)
    signer.add_auth(request)
    return to_request(request)


def signed_at(req: Request) -> dt.datetime:
    """When the client signed: the clock a test verifies at."""
    amz = req.headers.get("x-amz-date")
    if amz is None:
        from urllib.parse import parse_qs

        amz = parse_qs(req.query)["X-Amz-Date"][0]
    return dt.datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def verify(req: Request, dialect: sigv4.Dialect, identity: Identity = IDENTITY,
           at: dt.timedelta = dt.timedelta(seconds=1)) -> sigv4.Verified:
    return sigv4.verify(req, identity, signed_at(req) + at, dialect)


# -- an independent chunk signer (the S3 streaming spec, written out for the tests) --


def chunk_signature(key: bytes, amz_date: str, scope: str, prev: str, data: bytes) -> str:
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev,
                     hashlib.sha256(b"").hexdigest(), hashlib.sha256(data).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def trailer_signature(key: bytes, amz_date: str, scope: str, prev: str, trailers: dict[str, str]) -> str:
    canonical = "".join(f"{k}:{v}\n" for k, v in sorted(trailers.items()))
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def signed_chunks(key: bytes, amz_date: str, scope: str, seed: str, chunks: list[bytes],
                  trailers: dict[str, str] | None = None) -> bytes:
    out, prev = [], seed
    for data in [*chunks, b""]:
        prev = chunk_signature(key, amz_date, scope, prev, data)
        out.append(b"%x;chunk-signature=%s\r\n" % (len(data), prev.encode()))
        if data:
            out.append(data + b"\r\n")
    if trailers is None:
        out.append(b"\r\n")
    else:
        for k, v in trailers.items():
            out.append(f"{k}:{v}\r\n".encode())
        sig = trailer_signature(key, amz_date, scope, prev, trailers)
        out.append(f"x-amz-trailer-signature:{sig}\r\n\r\n".encode())
    return b"".join(out)
