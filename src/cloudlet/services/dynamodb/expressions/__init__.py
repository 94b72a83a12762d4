"""DynamoDB's expression language on wire-shaped items (``{"a": {"S": "x"}}``), with the
checks and error wording DynamoDB has.

Compiling an expression is two steps: parsing its text (cached by text, so a request
repeated with new values parses once) and binding the parse to one request's
ExpressionAttributeNames/Values (a ``Usage``, shared by all of a request's expressions so
they decide together which names and values went unused). What comes out is closures:

- ``Condition.matches(item) -> bool`` (ConditionExpression, FilterExpression, Expected, filters)
- ``Update.apply(item) -> new item``, ``Update.updated(item)`` for ReturnValues UPDATED_*
- ``Projection.apply(item) -> item``
- ``KeySpec.bind(hash_key, range_key) -> KeyCondition(hash_value, range_op, range_values)``

``compile_request(op, req)`` does a whole request in DynamoDB's order of checks, legacy
parameters included; the ``compile_*`` functions do one expression.
"""

from __future__ import annotations

from typing import Any

from cloudlet.services.dynamodb.expressions.evaluate import Condition, bind_condition
from cloudlet.services.dynamodb.expressions.keycond import KeyCondition, KeySpec, bind_key_condition
from cloudlet.services.dynamodb.expressions.parser import parse_condition, parse_projection, parse_update
from cloudlet.services.dynamodb.expressions.projection import Projection, bind_projection
from cloudlet.services.dynamodb.expressions.request import Compiled, compile_request
from cloudlet.services.dynamodb.expressions.update import Update, bind_update
from cloudlet.services.dynamodb.expressions.usage import Usage

__all__ = [
    "Compiled",
    "Condition",
    "KeyCondition",
    "KeySpec",
    "Projection",
    "Update",
    "Usage",
    "compile_condition",
    "compile_key_condition",
    "compile_projection",
    "compile_request",
    "compile_update",
]

Names = dict[str, str] | None
Values = dict[str, Any] | None


def _finish(usage: Usage | None, own: Usage) -> None:
    if usage is None:
        own.check_unused()


def compile_condition(
    expr: str, names: Names = None, values: Values = None, *, kind: str = "ConditionExpression", usage: Usage | None = None
) -> Condition:
    """A ConditionExpression (or ``kind="FilterExpression"``). Without a shared `usage`, the
    names and values given must all be used by this expression."""
    own = usage or Usage(names, values)
    cond = bind_condition(parse_condition(expr, kind), own)
    _finish(usage, own)
    return cond


def compile_update(expr: str, names: Names = None, values: Values = None, *, usage: Usage | None = None) -> Update:
    own = usage or Usage(names, values)
    update = bind_update(parse_update(expr), own)
    _finish(usage, own)
    return update


def compile_projection(expr: str, names: Names = None, *, usage: Usage | None = None) -> Projection:
    own = usage or Usage(names, None)
    projection = bind_projection(parse_projection(expr), own)
    _finish(usage, own)
    return projection


def compile_key_condition(
    expr: str,
    names: Names,
    values: Values,
    hash_key: str,
    range_key: str | None,
    *,
    key_types: dict[str, str] | None = None,
    usage: Usage | None = None,
) -> KeyCondition:
    own = usage or Usage(names, values)
    spec = bind_key_condition(parse_condition(expr, "KeyConditionExpression", False), own)
    _finish(usage, own)
    return spec.bind(hash_key, range_key, key_types)
