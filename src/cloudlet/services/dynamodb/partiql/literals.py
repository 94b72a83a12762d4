"""Values in a statement and in the request's ``Parameters``, as AttributeValues.

A number is read the way DynamoDB's PartiQL reads it (Java BigDecimal: an exponent must
fit 32 bits, and so must the scale it leaves), then held to DynamoDB's number rules: 38
significant digits, magnitudes from 1E-130 to below 1E+126. The magnitude is computed in
32-bit arithmetic as DynamoDB does, so ``1e2147483647`` wraps round to an underflow.
A literal's error names where in the value it sits (``under root.x``); a parameter's
does not.
"""

from __future__ import annotations

import re
from typing import Any

from cloudlet.services.dynamodb.partiql import ast
from cloudlet.services.dynamodb.partiql.lexer import malformed
from cloudlet.services.dynamodb.errors import invalid

AttributeValue = dict[str, Any]

_NUMBER = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_INT32 = 2**31
NEST = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
_MAX_DEPTH = 32
DIGITS = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
UNCONVERTIBLE = "The parameter cannot be converted to a numeric value"


def _wrap32(n: int) -> int:
    return (n + _INT32) % (2 * _INT32) - _INT32


class _Unreadable(Exception):
    """Text that is no number at all (or one whose exponent or scale overflows 32 bits)."""


def _parse(text: str) -> tuple[int, str, int]:
    """(sign, significant digits without leading or trailing zeros, scale): the value is
    ``sign * int(digits) * 10**-scale``; digits is "" for zero."""
    m = _NUMBER.fullmatch(text)
    if m is None or not (m.group(2) or m.group(3)):
        raise _Unreadable
    sign = -1 if m.group(1) == "-" else 1
    whole, frac, exp = m.group(2) or "", m.group(3) or "", m.group(4)
    exponent = int(exp) if exp is not None else 0
    if not -_INT32 <= exponent < _INT32:
        raise _Unreadable
    scale = len(frac) - exponent
    if not -_INT32 <= scale < _INT32:
        raise _Unreadable
    digits = (whole + frac).lstrip("0")
    stripped = digits.rstrip("0")
    scale -= len(digits) - len(stripped)
    return sign, stripped, scale


def _canonical(sign: int, digits: str, scale: int, suffix: str) -> str:
    """DynamoDB's text for a number: no exponent, no redundant zeros."""
    if not digits:
        return "0"
    precision = len(digits)
    if precision > 38:
        raise invalid(DIGITS + suffix)
    magnitude = _wrap32(precision - scale)
    if magnitude > 126:
        raise invalid(OVERFLOW + suffix)
    if magnitude < -129:
        raise invalid(UNDERFLOW + suffix)
    if scale <= 0:
        text = digits + "0" * -scale
    elif precision > scale:
        text = digits[: precision - scale] + "." + digits[precision - scale:]
    else:
        text = "0." + "0" * (scale - precision) + digits
    return ("-" if sign < 0 else "") + text


def literal_number(text: str, where: str) -> str:
    """A number written in the statement; `where` is its place in the value (``root``)."""
    try:
        return _canonical(*_parse(text), f" under {where}")
    except _Unreadable:
        raise malformed() from None


def check_number_token(text: str) -> None:
    """The parser's check: an exponent or scale that overflows 32 bits cannot be read."""
    try:
        _parse(text)
    except _Unreadable:
        raise malformed() from None


def check_parameters(params: list[AttributeValue]) -> None:
    """Every number a parameter holds must be readable, in document order, and no value
    may nest deeper than DynamoDB's 32 levels; the first problem met is the one reported."""
    for p in params:
        _check_param(p, 1)


def _check_param(value: AttributeValue, depth: int) -> None:
    kind, v = next(iter(value.items()))
    if kind in ("M", "L"):
        if depth >= _MAX_DEPTH:
            raise invalid(NEST)
        for child in (v.values() if kind == "M" else v):
            _check_param(child, depth + 1)
    elif kind == "N":
        _parameter_number(v)
    elif kind == "NS":
        for n in v:
            _parameter_number(n)


def _parameter_number(text: str) -> None:
    try:
        parsed = _parse(text)
    except _Unreadable:
        raise invalid(f"{UNCONVERTIBLE}: {text}" if text else UNCONVERTIBLE) from None
    _canonical(*parsed, "")


def bind(expr: ast.Expr, params: list[AttributeValue], where: str = "root") -> AttributeValue:
    """The AttributeValue a value expression denotes (a literal, ``?``, list, map or set)."""
    if isinstance(expr, ast.Literal):
        if "N" in expr.value:
            return {"N": literal_number(expr.value["N"], where)}
        return expr.value
    if isinstance(expr, ast.Param):
        return params[expr.index]
    if isinstance(expr, ast.ListValue):
        return {"L": [bind(x, params, f"{where}[{i}]") for i, x in enumerate(expr.items)]}
    if isinstance(expr, ast.MapValue):
        return {"M": {k: bind(x, params, f"{where}.{k}") for k, x in expr.items}}
    if isinstance(expr, ast.SetValue):
        return _bag(expr, params, where)
    if isinstance(expr, ast.Call):
        raise invalid(f"Unsupported data type: {expr.name} under key {where} at {expr.token.at()}")
    raise invalid(f"Unsupported data type under key {where}")


def is_value(expr: ast.Expr) -> bool:
    return isinstance(expr, (ast.Literal, ast.Param, ast.ListValue, ast.MapValue, ast.SetValue))


def _bag(expr: ast.SetValue, params: list[AttributeValue], where: str) -> AttributeValue:
    if not expr.items:
        raise invalid("Empty bags are not supported")
    members: list[AttributeValue] = []
    for x in expr.items:
        if not isinstance(x, ast.Literal) or not ({"S", "N"} & set(x.value)):
            raise invalid("Unsupported data type in Bag")
        members.append(bind(x, params, where))
    kinds = {next(iter(m)) for m in members}
    if len(kinds) > 1:
        raise invalid("DynamoDB only supports either numbers or strings in bags")
    kind = kinds.pop()
    texts = [m[kind] for m in members]
    if len(set(texts)) < len(texts):
        raise invalid(f"One or more parameter values were invalid: Input collection [{', '.join(texts)}] contains "
                      "duplicates.")
    return {kind + "S": texts}
