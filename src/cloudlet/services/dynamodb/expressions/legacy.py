"""The legacy parameters (Expected, QueryFilter, ScanFilter, KeyConditions, AttributesToGet;
AttributeUpdates is in ``update``) turned into the same compiled forms expressions give,
with the checks and wording DynamoDB has for them.

Each legacy operator means what its expression counterpart means: NE is ``<>`` and
NOT_CONTAINS is ``NOT contains(...)`` (both true for a missing attribute), NULL and
NOT_NULL are attribute_not_exists and attribute_exists.
"""

from __future__ import annotations

from typing import Any

from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.expressions import errors
from cloudlet.services.dynamodb.expressions.evaluate import (
    Condition,
    Test,
    begins_with_test,
    between_test,
    contains_test,
    eq_test,
    in_test,
    order_test,
)
from cloudlet.services.dynamodb.expressions.paths import getter
from cloudlet.services.dynamodb.expressions.projection import Projection

AV = dict[str, Any]
PREFIX = "One or more parameter values were invalid: "

_ARITY = {
    "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1, "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "BETWEEN": 2, "IN": None,
}  # fmt: skip
_TYPES = {
    "LE": ("S", "N", "B"), "LT": ("S", "N", "B"), "GE": ("S", "N", "B"), "GT": ("S", "N", "B"),
    "IN": ("S", "N", "B"), "BETWEEN": ("S", "N", "B"), "BEGINS_WITH": ("S", "B"),
    "CONTAINS": ("S", "N", "B", "BOOL", "NULL"), "NOT_CONTAINS": ("S", "N", "B", "BOOL", "NULL"),
}  # fmt: skip
_ORDER_OPS = {"LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


def checked_condition(attr: str, cond: dict[str, Any], *, key: bool = False) -> tuple[str, list[AV]]:
    """One ``{ComparisonOperator, AttributeValueList}`` checked: argument count, value
    validity and the types each operator accepts. KeyConditions (`key`) words the count
    error its own way."""
    op = str(cond.get("ComparisonOperator"))
    vals = list(cond.get("AttributeValueList") or [])
    return op, _check(attr, op, vals, key=key)


def _check(attr: str, op: str, vals: list[AV], *, key: bool = False) -> list[AV]:
    arity = _ARITY[op]
    if (arity is None and not vals) or (arity is not None and len(vals) != arity):
        if key:
            raise errors.invalid("The attempted filter operation is not supported for the provided filter argument count")
        raise errors.invalid(PREFIX + f"Invalid number of argument(s) for the {op} ComparisonOperator")
    for v in vals:
        V.check_value(v)
    allowed = _TYPES.get(op)
    if allowed is not None:
        for v in vals:
            if V.type_of(v) not in allowed:
                raise errors.invalid(PREFIX + f"ComparisonOperator {op} is not valid for {V.type_of(v)} AttributeValue type")
    if op in ("BETWEEN", "IN") and len({V.type_of(v) for v in vals}) > 1:
        raise errors.invalid(PREFIX + "AttributeValues inside AttributeValueList must be of same type")
    if op == "BETWEEN":
        order = V.compare(vals[0], vals[1])
        if order is not None and order > 0:
            raise errors.invalid("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
    return vals


def _test(attr: str, op: str, vals: list[AV]) -> Test:
    get = getter((attr,))
    if op == "EQ":
        return eq_test(get, vals[0])
    if op == "NE":
        eq = eq_test(get, vals[0])
        return lambda item: not eq(item)
    if op in _ORDER_OPS:
        return order_test(get, _ORDER_OPS[op], vals[0])
    if op == "NULL":
        return lambda item: get(item) is None
    if op == "NOT_NULL":
        return lambda item: get(item) is not None
    if op in ("CONTAINS", "NOT_CONTAINS"):
        const = vals[0]
        test = contains_test(get, lambda item: const)
        return test if op == "CONTAINS" else (lambda item: not test(item))
    if op == "BEGINS_WITH":
        const = vals[0]
        return begins_with_test(get, lambda item: const)
    if op == "IN":
        return in_test(get, [(lambda v: lambda item: v)(v) for v in vals])
    lo, hi = vals
    return between_test(get, lambda item: lo, lambda item: hi)


def _combine(tests: list[Test], operator: str | None, attrs: list[str]) -> Condition:
    if operator == "OR":
        return Condition(lambda item: any(t(item) for t in tests), [(a,) for a in attrs])
    return Condition(lambda item: all(t(item) for t in tests), [(a,) for a in attrs])


def filter_condition(spec: dict[str, dict[str, Any]], conditional_operator: str | None = None) -> Condition:
    """QueryFilter / ScanFilter."""
    tests = []
    for attr, cond in spec.items():
        op, vals = checked_condition(attr, cond)
        tests.append(_test(attr, op, vals))
    return _combine(tests, conditional_operator, list(spec))


def expected_condition(spec: dict[str, dict[str, Any]], conditional_operator: str | None = None) -> Condition:
    """Expected: ``Value``/``Exists``, or ``ComparisonOperator`` with ``AttributeValueList``
    (or a single ``Value``)."""
    tests = []
    for attr, cond in spec.items():
        op = cond.get("ComparisonOperator")
        value = cond.get("Value")
        exists = cond.get("Exists")
        avl = cond.get("AttributeValueList")
        if op is not None:
            if exists is not None:
                raise errors.invalid(PREFIX + f"Exists and ComparisonOperator cannot be used together for Attribute: {attr}")
            if value is not None and avl is not None:
                raise errors.invalid(PREFIX + f"Value and AttributeValueList cannot be used together for Attribute: {attr}")
            if value is None and avl is None and _ARITY[op] != 0:
                raise errors.invalid(
                    PREFIX + f"Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {attr}"
                )
            vals = [value] if value is not None else list(avl or [])
            tests.append(_test(attr, op, _check(attr, op, vals)))
            continue
        if avl is not None:
            raise errors.invalid(PREFIX + f"AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}")
        if exists is False:
            if value is not None:
                raise errors.invalid(PREFIX + f"Value cannot be used when Exists is false for Attribute: {attr}")
            tests.append(_test(attr, "NULL", []))
            continue
        if value is None:
            state = "true" if exists else "null"
            raise errors.invalid(PREFIX + f"Value must be provided when Exists is {state} for Attribute: {attr}")
        V.check_value(value)
        tests.append(_test(attr, "EQ", [value]))
    return _combine(tests, conditional_operator, list(spec))


def attributes_to_get(names: list[str]) -> Projection:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise errors.invalid(PREFIX + f"Duplicate value in attribute name: {name}")
        seen.add(name)
    return Projection([(n,) for n in names])
