"""Condition operators: compiled once per policy, evaluated against a request's context.

AWS rules implemented here (IAM UG, "Condition operators" and "Conditions with multiple context
keys or values"): operators in a block AND; keys under one operator AND; values of one key OR,
for negated operators NOR; a key missing from the request makes the condition false, except for
negated operators (true), ``...IfExists`` (true) and ``Null``; ``ForAllValues:`` is true for a
missing or empty key, ``ForAnyValue:`` false.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable

from cloudlet.auth.policy import patterns

# base operator (lower case) -> (canonical name, family, negated, comparison)
_OPS: dict[str, tuple[str, str, bool, str]] = {}


def _op(name: str, family: str, negated: bool = False, cmp: str = "eq") -> None:
    _OPS[name.lower()] = (name, family, negated, cmp)


_op("StringEquals", "str")
_op("StringNotEquals", "str", True)
_op("StringEqualsIgnoreCase", "stri")
_op("StringNotEqualsIgnoreCase", "stri", True)
_op("StringLike", "like")
_op("StringNotLike", "like", True)
_op("NumericEquals", "num")
_op("NumericNotEquals", "num", True)
_op("NumericLessThan", "num", cmp="lt")
_op("NumericLessThanEquals", "num", cmp="le")
_op("NumericGreaterThan", "num", cmp="gt")
_op("NumericGreaterThanEquals", "num", cmp="ge")
_op("DateEquals", "date")
_op("DateNotEquals", "date", True)
_op("DateLessThan", "date", cmp="lt")
_op("DateLessThanEquals", "date", cmp="le")
_op("DateGreaterThan", "date", cmp="gt")
_op("DateGreaterThanEquals", "date", cmp="ge")
_op("Bool", "bool")
_op("BinaryEquals", "bin")
_op("IpAddress", "ip")
_op("NotIpAddress", "ip", True)
_op("ArnEquals", "arn")
_op("ArnLike", "arn")
_op("ArnNotEquals", "arn", True)
_op("ArnNotLike", "arn", True)
_op("Null", "null")

# Families whose policy values may hold policy variables (IAM UG, "Policy variables": string
# and ARN operators; we also resolve them elsewhere, harmlessly, when a value holds ``${``).
_GLOB_FAMILIES = ("like", "arn")


def split_operator(name: str) -> tuple[str | None, str, bool] | None:
    """``ForAnyValue:StringLikeIfExists`` -> ("any", "stringlike", True); None if unknown."""
    qualifier = None
    rest = name
    low = name.lower()
    if low.startswith("forallvalues:"):
        qualifier, rest = "all", name[len("ForAllValues:") :]
    elif low.startswith("foranyvalue:"):
        qualifier, rest = "any", name[len("ForAnyValue:") :]
    base = rest.lower()
    if_exists = False
    if base.endswith("ifexists") and base not in _OPS:
        base, if_exists = base[: -len("ifexists")], True
    if base not in _OPS:
        return None
    if base == "null" and (if_exists or qualifier):
        return None  # "NullIfExists" is not an operator
    return qualifier, base, if_exists


# ---- value conversion ----------------------------------------------------------------------

def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return str(v)


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    try:
        d = Decimal(str(v).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None  # NaN would raise on comparison


_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")


def _epoch(v: Any) -> float | None:
    """ISO 8601 text (with or without time/zone) or epoch seconds → epoch seconds."""
    if isinstance(v, bool):
        return None
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(v, (int, float, Decimal)):
        return float(v)
    s = str(v).strip()
    if _EPOCH.match(s):
        return float(s)
    try:
        d = datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp()


def _binary(v: Any) -> bytes | None:
    if isinstance(v, bytes):
        return v
    try:
        return base64.b64decode(str(v), validate=True)
    except (binascii.Error, ValueError):
        return None


def _network(v: Any) -> Any:
    try:
        return ipaddress.ip_network(str(v).strip(), strict=False)
    except ValueError:
        return None


def _address(v: Any) -> Any:
    s = str(v).strip()
    try:
        return ipaddress.ip_address(s)
    except ValueError:
        # a request value may carry a prefix length ("10.0.0.1/32")
        try:
            return ipaddress.ip_network(s, strict=False).network_address
        except ValueError:
            return None


@lru_cache(maxsize=4096)
def prepare(family: str, value: str) -> Any:
    """A policy value in the form its operator compares with (None: never matches)."""
    if family == "str":
        return value
    if family == "stri":
        return value.casefold()
    if family == "like":
        return patterns.glob_regex(value)
    if family == "arn":
        return patterns.arn_regex(value)
    if family == "num":
        return _number(value)
    if family == "date":
        return _epoch(value)
    if family == "bool":
        return value.lower()
    if family == "bin":
        return _binary(value)
    if family == "ip":
        return _network(value)
    return value


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _matcher(family: str, cmp: str) -> Callable[[Any, Any], bool]:
    """(request value, prepared policy value) -> does it match (the positive sense)."""
    if family == "str":
        return lambda rv, pv: _text(rv) == pv
    if family == "stri":
        return lambda rv, pv: _text(rv).casefold() == pv
    if family in ("like", "arn"):
        return lambda rv, pv: pv.fullmatch(_text(rv)) is not None
    if family == "num":
        c = _CMP[cmp]

        def num(rv: Any, pv: Any) -> bool:
            n = _number(rv)
            return n is not None and c(n, pv)

        return num
    if family == "date":
        c = _CMP[cmp]

        def date(rv: Any, pv: Any) -> bool:
            n = _epoch(rv)
            return n is not None and c(n, pv)

        return date
    if family == "bool":
        return lambda rv, pv: _text(rv).lower() == pv
    if family == "bin":
        return lambda rv, pv: _binary(rv) == pv
    if family == "ip":

        def ip(rv: Any, pv: Any) -> bool:
            a = _address(rv)
            return a is not None and a.version == pv.version and a in pv

        return ip
    raise ValueError(family)


class Condition:
    """One (operator, key) pair of a statement's Condition block."""

    __slots__ = ("qualifier", "family", "negated", "if_exists", "key", "static", "templates", "match")

    def __init__(self, qualifier: str | None, base: str, if_exists: bool, key: str,
                 values: list[str], variables: bool) -> None:
        _, family, negated, cmp = _OPS[base]
        self.qualifier = qualifier
        self.family = family
        self.negated = negated
        self.if_exists = if_exists
        self.key = key.lower()
        static: list[Any] = []
        templates = []
        for v in values:
            parts = patterns.parse_template(v) if variables else None
            if parts is None:
                if family == "null":
                    static.append(v.lower())
                else:
                    p = prepare(family, v)
                    if p is not None:
                        static.append(p)
            else:
                templates.append(patterns.Template(parts, self._builder()))
        self.static = tuple(static)
        self.templates = tuple(templates)
        # Null never compares values; it tests presence in test()
        self.match: Callable[[Any, Any], bool] = (
            (lambda rv, pv: False) if family == "null" else _matcher(family, cmp))

    def _builder(self) -> Callable[[tuple, Callable[[str], Any]], Any]:
        family = self.family
        if family == "like":
            return patterns.resolve_glob
        if family == "arn":
            return patterns.resolve_arn

        def build(parts: tuple, lookup: Callable[[str], Any]) -> Any:
            s = patterns.resolve_string(parts, lookup)
            if s is None:
                return None  # the variable is missing and has no default: this value never matches
            return s.lower() if family == "null" else prepare(family, s)

        return build

    def _values(self, lookup: Callable[[str], Any]) -> tuple:
        if not self.templates:
            return self.static
        out: list[Any] = list(self.static)
        for t in self.templates:
            p = t.resolve(lookup)
            if p is not None:
                out.append(p)
        return tuple(out)

    def _any(self, rv: Any, pvs: tuple) -> bool:
        m = self.match
        for pv in pvs:
            if m(rv, pv):
                return True
        return False

    def _one(self, rv: Any, pvs: tuple) -> bool:
        hit = self._any(rv, pvs)
        return not hit if self.negated else hit

    def test(self, lookup: Callable[[str], Any]) -> bool:
        rv = lookup(self.key)
        multi = isinstance(rv, (list, tuple, set, frozenset))
        absent = rv is None or (multi and len(rv) == 0)
        if self.family == "null":
            # Null: "true" → the key must be absent, "false" → present; several values OR.
            return any((v == "true") == absent for v in self._values(lookup))
        if self.qualifier == "all":
            if absent or rv == "":
                return True
            pvs = self._values(lookup)
            return all(self._one(v, pvs) for v in (rv if multi else (rv,)))
        if self.qualifier == "any":
            if absent:
                return False
            pvs = self._values(lookup)
            return any(self._one(v, pvs) for v in (rv if multi else (rv,)))
        if absent:
            return self.if_exists or self.negated
        pvs = self._values(lookup)
        if multi:
            # a multivalued key under a single-valued operator: positive → some value matches;
            # negated → no value matches any policy value
            if self.negated:
                return all(self._one(v, pvs) for v in rv)
            return any(self._one(v, pvs) for v in rv)
        return self._one(rv, pvs)
