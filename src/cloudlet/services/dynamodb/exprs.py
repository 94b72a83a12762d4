"""The expression parts of a request, compiled once by ``expressions.compile_request``.

Each function names the operation whose parameters it reads, so the right legacy and
expression parameters are checked (and refused when mixed) in DynamoDB's order. The result
has ``condition`` / ``update`` / ``projection`` / ``filter`` / ``key_condition``, each None
when the request has none.
"""

from __future__ import annotations

from typing import Any

from cloudlet.services.dynamodb.expressions import Compiled, compile_request

Input = dict[str, Any]


def for_write(req: Input, op: str = "PutItem") -> Compiled:
    """PutItem / DeleteItem / ConditionCheck: a condition."""
    return compile_request(op, req)


def for_read(req: Input, op: str = "GetItem") -> Compiled:
    """GetItem / BatchGetItem (per table) / TransactGetItem: a projection."""
    return compile_request(op, req)


def for_update(req: Input) -> Compiled:
    return compile_request("UpdateItem", req)


def for_query(req: Input, hash_key: str, range_key: str | None, key_types: dict[str, str] | None = None) -> Compiled:
    return compile_request("Query", req, hash_key=hash_key, range_key=range_key, key_types=key_types)


def for_scan(req: Input) -> Compiled:
    return compile_request("Scan", req)
