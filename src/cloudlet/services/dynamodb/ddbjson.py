"""The file formats of exports and imports: DynamoDB JSON lines, Amazon Ion text lines
(written only) and CSV rows.

DynamoDB JSON is the wire's AttributeValue map as JSON text, one ``{"Item": {...}}`` per
line, with binary values base64-encoded (the stored item holds bytes). Reading checks each
line as a request's item is checked, so a bad line is an error the import counts.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from decimal import Decimal
from typing import Any, Iterator

import orjson

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import itemkeys, values
from cloudlet.services.dynamodb.storage import Item, Table


class BadLine(ValueError):
    """A line an import cannot turn into an item."""


# writing --------------------------------------------------------------------------------
def _out(value: dict[str, Any]) -> dict[str, Any]:
    (kind, v), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(v)).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(b)).decode() for b in v]}
    if kind == "M":
        return {"M": {k: _out(x) for k, x in v.items()}}
    if kind == "L":
        return {"L": [_out(x) for x in v]}
    return value


def item_line(item: Item) -> bytes:
    """One line of a DynamoDB JSON export (newline included)."""
    return orjson.dumps({"Item": {k: _out(v) for k, v in item.items()}}) + b"\n"


def json_text(value: Any) -> bytes:
    return orjson.dumps(value)


# Amazon Ion text, as an ION export writes it: sets are lists annotated with their type,
# numbers are decimals, binaries blobs.
_ION_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_ION_KEYWORDS = {"null", "true", "false", "nan"}


def _ion_string(text: str, quote: str) -> str:
    out = []
    for ch in text:
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def _ion_name(name: str) -> str:
    if _ION_SYMBOL.fullmatch(name) and name not in _ION_KEYWORDS:
        return name
    return _ion_string(name, "'")


def _ion_decimal(text: str) -> str:
    sign, digits, exponent = Decimal(text).normalize().as_tuple()
    coefficient = ("-" if sign else "") + "".join(map(str, digits))
    return coefficient + "." if exponent == 0 else f"{coefficient}d{exponent}"


def _ion(value: dict[str, Any]) -> str:
    (kind, v), = value.items()
    if kind == "S":
        return _ion_string(v, '"')
    if kind == "N":
        return _ion_decimal(v)
    if kind == "B":
        return "{{" + base64.b64encode(bytes(v)).decode() + "}}"
    if kind == "BOOL":
        return "true" if v else "false"
    if kind == "NULL":
        return "null"
    if kind == "SS":
        return "$dynamodb_SS::[" + ",".join(_ion_string(x, '"') for x in v) + "]"
    if kind == "NS":
        return "$dynamodb_NS::[" + ",".join(_ion_decimal(x) for x in v) + "]"
    if kind == "BS":
        return "$dynamodb_BS::[" + ",".join("{{" + base64.b64encode(bytes(x)).decode() + "}}" for x in v) + "]"
    if kind == "L":
        return "[" + ",".join(_ion(x) for x in v) + "]"
    return _ion_struct(v)


def _ion_struct(attrs: dict[str, Any]) -> str:
    return "{" + ",".join(f"{_ion_name(k)}:{_ion(v)}" for k, v in attrs.items()) + "}"


def ion_line(item: Item) -> bytes:
    """One line of an ION export (newline included)."""
    return ("$ion_1_0 {Item:" + _ion_struct(item) + "}\n").encode()


# reading --------------------------------------------------------------------------------
_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}


def _in(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise BadLine("an attribute value must name exactly one type")
    (kind, v), = value.items()
    try:
        if kind in _SCALARS:
            if not isinstance(v, _SCALARS[kind]):
                raise BadLine(f"a {kind} value of the wrong JSON type")
            return {kind: v}
        if kind == "B":
            return {"B": base64.b64decode(v, validate=True)}
        if kind == "BS":
            return {"BS": [base64.b64decode(b, validate=True) for b in v]}
        if kind in ("SS", "NS"):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise BadLine(f"a {kind} value must be a list of strings")
            return {kind: list(v)}
        if kind == "M":
            if not isinstance(v, dict):
                raise BadLine("an M value must be an object")
            return {"M": {k: _in(x) for k, x in v.items()}}
        if kind == "L":
            if not isinstance(v, list):
                raise BadLine("an L value must be a list")
            return {"L": [_in(x) for x in v]}
    except (binascii.Error, TypeError, ValueError) as err:
        if isinstance(err, BadLine):
            raise
        raise BadLine(f"a {kind} value that is not base64") from None
    raise BadLine(f"unknown attribute type {kind}")


def check(table: Table, item: Item) -> Item:
    """An item to import, checked as PutItem checks one (sizes, sets, key types)."""
    if any(name == "" for name in item):
        raise BadLine("an empty attribute name")
    try:
        values.check_item(item)
        itemkeys.check_item_keys(table, item)
    except ServiceError as err:
        raise BadLine(err.message) from None
    return item


def parse_json_line(table: Table, line: bytes) -> Item:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise BadLine("not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Item"), dict):
        raise BadLine("no Item member")
    return check(table, {k: _in(v) for k, v in doc["Item"].items()})


def csv_rows(text: str, delimiter: str, header: list[str] | None) -> Iterator[tuple[list[str], list[str]]]:
    """(header, row) for each data row of one CSV object; without a header list the first
    row is the header. Blank rows are skipped."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise BadLine(f"not CSV: {err}") from None
        if not row or all(not cell.strip() for cell in row):
            continue
        if header is None:
            header = row
            continue
        yield header, row


def csv_item(table: Table, header: list[str], row: list[str]) -> Item:
    """A CSV row as an item: key attributes of the table and its indexes take their
    declared types, every other column is a String (as DynamoDB imports CSV)."""
    if len(row) != len(header):
        raise BadLine("the row's column count differs from the header's")
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    item: Item = {}
    for name, cell in zip(header, row):
        kind = types.get(name)
        if kind is None:
            item[name] = {"S": cell}
        elif cell == "":
            continue  # an empty key cell: the item lacks the key, which `check` reports
        elif kind == "B":
            try:
                item[name] = {"B": base64.b64decode(cell, validate=True)}
            except binascii.Error:
                raise BadLine(f"the {name} column is not base64") from None
        else:
            item[name] = {kind: cell}
    return check(table, item)
