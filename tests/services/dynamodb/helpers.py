"""What the DynamoDB tests over HTTP share: unique names, error parts, and the usual
on-demand table keyed by ``pk`` (S), optionally with a range key ``sk``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


def unique(prefix: str = "ddb") -> str:
    """A table (or bucket) name no other test uses: every test shares one server."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def message(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Message"]


def key_schema(sk: str | None = None, **others: str) -> dict[str, list[dict[str, str]]]:
    """KeySchema and AttributeDefinitions for ``pk`` (S) and, given its type, ``sk``;
    `others` adds definitions (name=type) for index keys."""
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    types = {"pk": "S"}
    if sk is not None:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        types["sk"] = sk
    types.update(others)
    return {"KeySchema": keys,
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]}


def create_table(ddb: Any, name: str, sk: str | None = None, stream: str | None = None,
                 attributes: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """Create an on-demand table (see `key_schema`), with a stream of view type `stream`
    if given; returns its TableDescription."""
    if stream is not None:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    return ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **key_schema(sk, **(attributes or {})),
                            **extra)["TableDescription"]
