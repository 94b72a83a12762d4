"""What the S3 tests share: unique bucket names (the server and its one global bucket
namespace are shared by the session), deterministic bodies, refusals as a user sees them,
and an S3 called in process on a gateway of its own."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Callable, NamedTuple

import pytest
from botocore.exceptions import ClientError

from cloudlet.core.context import Context
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway

ACCOUNT = "000000000000"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_bucket(s3: Any, prefix: str, versioning: str | None = None, **create: Any) -> str:
    """A bucket of its own, with versioning "Enabled" or "Suspended" when asked."""
    name = unique(prefix)
    s3.create_bucket(Bucket=name, **create)
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    return name


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes that differ block to block (a repeated block would hide a part
    stored twice or a segment read from the wrong place)."""
    out = bytearray()
    n = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{n}".encode()).digest() * 128
        n += 1
    return bytes(out[:size])


class Refusal(NamedTuple):
    code: str
    status: int
    message: str


def refusal(call: Callable[..., Any], **kwargs: Any) -> Refusal:
    """The error a call that must fail answers (compare with a tuple, or a slice of one)."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    resp = info.value.response
    return Refusal(resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"].get("Message", ""))


def in_process(operation: str = "PutObject", account: str = ACCOUNT, **context: Any) -> Context:
    """A context on a new in-memory gateway: ``ctx.aws("s3")`` calls S3 without HTTP,
    ``ctx.gateway`` is what the pre-routing hooks (CORS, website) take."""
    fields: dict[str, Any] = {"region": "us-east-1", "principal_arn": f"arn:aws:iam::{account}:root",
                              "access_key": "test", "request_id": "r", **context}
    return Context(account=account, service="s3", operation=operation, gateway=Gateway(Config(ephemeral=True)),
                   **fields)
