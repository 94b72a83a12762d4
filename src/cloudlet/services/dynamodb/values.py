"""DynamoDB's value semantics on wire-shaped AttributeValues (``{"S": ...}``, ``{"N": "1.5"}``,
``{"B": b"..."}``, sets, ``M``, ``L``, ``NULL``, ``BOOL``).

- Numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99..9E+125, kept in the
  canonical form DynamoDB answers with ("1.0" -> "1", "1e2" -> "100", "-0" -> "0"), so
  equal numbers are equal strings once an item is checked.
- Sets: never empty, no duplicates (numbers compare by value), DynamoDB's wording.
- Sizes: the documented "item sizes" arithmetic (names + values; a number is one byte per
  two significant digits plus one; lists and maps 3 bytes plus 1 per element).
- Order and equality: N numerically, S and B by bytes (a str compares by code point, which
  is UTF-8 byte order), sets unordered, values of different types never equal or ordered.
"""

from __future__ import annotations

import base64
import functools
import re
from decimal import Decimal
from typing import Any

from cloudlet.services.dynamodb.errors import invalid

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

MAX_ITEM_SIZE = 400 * 1024
MAX_HASH_KEY_SIZE = 2048
MAX_RANGE_KEY_SIZE = 1024
MAX_DEPTH = 32

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_SCALAR_SETS = {"SS": "S", "NS": "N", "BS": "B"}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
INVALID = "One or more parameter values were invalid: "


# numbers --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8192)
def canonical_number(text: str) -> str:
    """`text` checked against DynamoDB's number limits and written as DynamoDB answers it."""
    if not isinstance(text, str) or not _NUMBER.match(text):
        if text == "" or not isinstance(text, str):
            raise invalid("The parameter cannot be converted to a numeric value")
        raise invalid(f"The parameter cannot be converted to a numeric value: {text}")
    sign, digits, exp = Decimal(text).as_tuple()
    assert isinstance(exp, int)
    ds = "".join(map(str, digits)).lstrip("0")
    if not ds:
        return "0"
    stripped = ds.rstrip("0")
    exp += len(ds) - len(stripped)
    ds = stripped
    adjusted = exp + len(ds) - 1
    if adjusted > 125:
        raise invalid("Number overflow. Attempting to store a number with magnitude larger than supported range")
    if adjusted < -130:
        raise invalid("Number underflow. Attempting to store a number with magnitude smaller than supported range")
    if len(ds) > 38:
        raise invalid("Attempting to store more than 38 significant digits in a Number")
    if exp >= 0:
        body = ds + "0" * exp
    elif -exp >= len(ds):
        body = "0." + "0" * (-exp - len(ds)) + ds
    else:
        body = ds[:exp] + "." + ds[exp:]
    return "-" + body if sign else body


def to_decimal(text: str) -> Decimal:
    return Decimal(text)


def number_result(value: Decimal) -> AttributeValue:
    """The result of arithmetic as a stored number, held to the same limits as input."""
    return {"N": canonical_number(format(value, "f") if value.is_finite() else "x")}


def _significant_digits(text: str) -> int:
    return len(text.lstrip("-").replace(".", "").strip("0"))


# validation -----------------------------------------------------------------------------
def check_value(value: Any, depth: int = 0) -> AttributeValue:
    """One AttributeValue checked as DynamoDB checks request values; numbers (also inside
    sets, maps and lists) are rewritten in place to their canonical form. Returns it."""
    if not isinstance(value, dict) or not value:
        raise invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    if len(value) != 1:
        raise invalid(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
            "supported datatypes"
        )
    (kind, v), = value.items()
    if kind == "S" or kind == "BOOL":
        return value
    if kind == "N":
        value["N"] = canonical_number(v)
        return value
    if kind == "B":
        return value
    if kind == "M":
        if depth >= MAX_DEPTH:
            raise invalid("Nesting Levels have exceeded supported limits")
        for child in v.values():
            check_value(child, depth + 1)
        return value
    if kind == "L":
        if depth >= MAX_DEPTH:
            raise invalid("Nesting Levels have exceeded supported limits")
        for child in v:
            check_value(child, depth + 1)
        return value
    if kind == "NULL":
        # DynamoDB used to refuse NULL: false; it now stores it as NULL: true.
        value["NULL"] = True
        return value
    if kind == "SS":
        if not v:
            raise invalid(INVALID + "An string set  may not be empty")
        if "" in v:
            raise invalid(INVALID + "An string set may not have a empty string as a member")
        if len(set(v)) != len(v):
            raise invalid(INVALID + f"Input collection [{', '.join(v)}] contains duplicates.")
        return value
    if kind == "NS":
        if not v:
            raise invalid(INVALID + "An number set  may not be empty")
        canon = [canonical_number(n) for n in v]
        if len(set(canon)) != len(canon):
            raise invalid("Input collection contains duplicates")
        value["NS"] = canon
        return value
    if kind == "BS":
        if not v:
            raise invalid(INVALID + "Binary sets should not be empty")
        if any(len(b) == 0 for b in v):
            raise invalid(INVALID + "Binary sets may not contain null or empty values")
        if len(set(map(bytes, v))) != len(v):
            shown = ", ".join(base64.b64encode(bytes(b)).decode() for b in v)
            raise invalid(INVALID + f"Input collection [{shown}]of type BS contains duplicates.")
        return value
    raise invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")


def check_item(item: Item, *, update: bool = False) -> int:
    """Every value of an item to store checked (numbers canonicalised in place), then its size
    against the 400 KB limit; returns the size (a write's capacity needs it too). `update`
    picks UpdateItem's wording for the size error."""
    size = 0
    for name, value in item.items():  # checked and sized in one pass: this runs on every write
        size += len(name) if name.isascii() else len(name.encode("utf-8"))
        if type(value) is dict and len(value) == 1:
            if "S" in value:
                text = value["S"]
                size += len(text) if text.isascii() else len(text.encode("utf-8"))
                continue
            if "N" in value:
                number = value["N"] = canonical_number(value["N"])
                size += number_size(number)
                continue
        size += value_size(check_value(value))
    if size > MAX_ITEM_SIZE:
        raise invalid(
            "Item size to update has exceeded the maximum allowed size"
            if update
            else "Item size has exceeded the maximum allowed size"
        )
    return size


def check_key_value(
    name: str,
    value: AttributeValue,
    *,
    index: str | None = None,
    range_key: bool = False,
    update: bool = False,
) -> None:
    """A key attribute's value may not be empty and has DynamoDB's key size limits. `index`
    names the secondary index the attribute keys; `update` picks UpdateItem's wording."""
    kind, v = next(iter(value.items()))
    if kind in ("S", "B") and len(v) == 0:
        what = "string" if kind == "S" else "binary"
        if index is None:
            raise invalid(
                "One or more parameter values are not valid. The AttributeValue for a key attribute "
                f"cannot contain an empty {what} value. Key: {name}"
            )
        origin = (
            "The update expression attempted to update a secondary index key to a value that is not supported."
            if update
            else "A value specified for a secondary index key is not supported."
        )
        raise invalid(
            f"One or more parameter values are not valid. {origin} The AttributeValue for a key attribute "
            f"cannot contain an empty {what} value. IndexName: {index}, IndexKey: {name}"
        )
    size = value_size(value)
    limit = MAX_RANGE_KEY_SIZE if range_key else MAX_HASH_KEY_SIZE
    if size > limit:
        if index is not None:
            raise invalid(
                INVALID + f"Size limit exceeded for Index Key {name} Actual Size: {size} bytes "
                f"Max Size: {limit} bytes IndexName: {index}"
            )
        if range_key:
            raise invalid(INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
        # sic: AWS's message has no space before the number
        raise invalid(INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes")


# sizes ----------------------------------------------------------------------------------
def number_size(text: str) -> int:
    return (_significant_digits(text) + 1) // 2 + 1


def value_size(value: AttributeValue) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8")) if not v.isascii() else len(v)
    if kind == "N":
        return number_size(v)
    if kind == "B":
        return len(v)
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "M":
        return 3 + sum(_name_size(k) + value_size(c) + 1 for k, c in v.items())
    if kind == "L":
        return 3 + sum(value_size(c) + 1 for c in v)
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if kind == "NS":
        return sum(number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    raise ValueError(f"not an AttributeValue: {value!r}")


def _name_size(name: str) -> int:
    return len(name) if name.isascii() else len(name.encode("utf-8"))


def item_size(item: Item) -> int:
    """An item's size as DynamoDB counts it for the 400 KB limit and capacity units.

    Sized on every write (the limit, capacity, metrics): the common scalar types are
    counted inline rather than through ``value_size``."""
    total = 0
    for k, v in item.items():
        total += len(k) if k.isascii() else len(k.encode("utf-8"))
        if len(v) == 1:
            if "S" in v:
                x = v["S"]
                total += len(x) if x.isascii() else len(x.encode("utf-8"))
                continue
            if "N" in v:
                total += number_size(v["N"])
                continue
        total += value_size(v)
    return total


# comparison -----------------------------------------------------------------------------
def type_of(value: AttributeValue) -> str:
    return next(iter(value))


def equal(a: AttributeValue, b: AttributeValue) -> bool:
    """DynamoDB equality: same type and value; sets ignore order, numbers compare by value."""
    if a == b:
        return True
    (ka, va), = a.items()
    (kb, vb), = b.items()
    if ka != kb:
        return False
    if ka == "N":
        return Decimal(va) == Decimal(vb)
    if ka == "SS":
        return len(va) == len(vb) and set(va) == set(vb)
    if ka == "NS":
        return len(va) == len(vb) and set(map(Decimal, va)) == set(map(Decimal, vb))
    if ka == "BS":
        return len(va) == len(vb) and set(map(bytes, va)) == set(map(bytes, vb))
    if ka == "B":
        return bytes(va) == bytes(vb)
    if ka == "M":
        return va.keys() == vb.keys() and all(equal(va[k], vb[k]) for k in va)
    if ka == "L":
        return len(va) == len(vb) and all(equal(x, y) for x, y in zip(va, vb))
    return False


def compare(a: AttributeValue, b: AttributeValue) -> int | None:
    """-1, 0 or 1 for two values of one orderable type (S, N, B); None otherwise."""
    (ka, va), = a.items()
    (kb, vb), = b.items()
    if ka != kb:
        return None
    x: Any
    y: Any
    if ka == "N":
        x, y = Decimal(va), Decimal(vb)
    elif ka == "S":
        x, y = va, vb
    elif ka == "B":
        x, y = bytes(va), bytes(vb)
    else:
        return None
    return -1 if x < y else (1 if x > y else 0)


def show(value: AttributeValue) -> str:
    """A value as DynamoDB prints it inside messages (``{S:a}``, ``{N:1}``)."""
    kind, v = next(iter(value.items()))
    if kind == "B":
        v = base64.b64encode(bytes(v)).decode()
    return "{" + f"{kind}:{v}" + "}"


def copy_value(value: AttributeValue) -> AttributeValue:
    """A copy deep enough to change any nested map or list without touching the original."""
    (kind, v), = value.items()
    if kind == "M":
        return {"M": {k: copy_value(c) for k, c in v.items()}}
    if kind == "L":
        return {"L": [copy_value(c) for c in v]}
    return value
