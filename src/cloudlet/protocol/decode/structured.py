"""Readers for already-parsed documents (JSON objects, CBOR maps), compiled per shape.

JSON and CBOR bodies arrive as Python dicts and lists from orjson / cbor2; what is left is
to rename wire keys to member names, drop nulls, and coerce the leaves (base64 text vs
byte strings, epoch numbers vs tagged datetimes). The container walk is the same for both,
so it lives here and each protocol supplies its leaf table. Each structure is compiled
once and cached by name, which also ties the knot for recursive shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import Shape

from cloudlet.protocol.decode.scalars import Malformed, Reader

__all__ = ["LeafFactory", "Reader", "StructuredReaders", "leaf_table", "read_boolean", "read_float", "read_integer", "read_string"]

LeafFactory = Callable[[Shape], Reader]


def _identity(value: Any) -> Any:
    return value


# -- leaves both JSON and CBOR read the same way ------------------------------------

def read_string(v: Any) -> str:
    if isinstance(v, str):
        return v
    raise Malformed("expected a string")


def read_integer(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise Malformed("expected an integer")


SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def read_float(v: Any) -> float:
    if isinstance(v, float):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str) and v in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[v]
    raise Malformed("expected a number")


def read_boolean(v: Any) -> bool:
    if type(v) is bool:
        return v
    raise Malformed("expected true or false")


_SHARED_LEAVES: dict[str, Reader] = {
    "string": read_string,
    "character": read_string,
    "integer": read_integer,
    "long": read_integer,
    "short": read_integer,
    "byte": read_integer,
    "bigInteger": read_integer,
    "float": read_float,
    "double": read_float,
    "bigDecimal": read_float,
    "boolean": read_boolean,
}


def leaf_table(*, timestamp: Reader, blob: Reader) -> dict[str, LeafFactory]:
    """A protocol's leaf table: the readers above plus its own timestamp and blob forms,
    the only leaves JSON (epoch numbers, base64 text) and CBOR (tagged datetimes, byte
    strings) carry differently."""
    readers = {**_SHARED_LEAVES, "timestamp": timestamp, "blob": blob}
    return {kind: _always(fn) for kind, fn in readers.items()}


def _always(fn: Reader) -> LeafFactory:
    return lambda shape: fn


class StructuredReaders:
    """One per decoder: `reader(shape)` returns a cached closure for parsed values."""

    def __init__(self, leaves: Mapping[str, LeafFactory]) -> None:
        self._leaves = leaves
        self._structs: dict[str, Reader] = {}

    def reader(self, shape: Shape) -> Reader:
        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return _identity
            cached = self._structs.get(shape.name)
            if cached is None:
                cached = self.structure(shape.members, self._structs, shape.name)
            return cached
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        factory = self._leaves.get(kind)
        if factory is None:
            raise TypeError(f"no reader for shape type {kind}")
        return factory(shape)

    def structure(self, members: Mapping[str, Shape], cache: dict[str, Reader] | None = None, key: str = "") -> Reader:
        """A reader for an object holding `members` (a whole shape, or a REST body's part)."""
        table: dict[str, tuple[str, Reader]] = {}
        documents: set[str] = set()

        def read(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise Malformed("expected an object")
            out: dict[str, Any] = {}
            for wire, item in value.items():
                entry = table.get(wire)
                if entry is None:
                    continue  # unknown keys are ignored, as AWS does
                name, rd = entry
                if item is None:
                    if name in documents:
                        out[name] = None  # a null document is a value
                    continue  # elsewhere null means absent
                try:
                    out[name] = rd(item)
                except Malformed as err:
                    raise err.at(name) from None
            return out

        if cache is not None:
            cache[key] = read  # before the members: recursive shapes find it
        for name, member in members.items():
            table[member.serialization.get("name", name)] = (name, self.reader(member))
            if member.type_name == "structure" and member.is_document_type:
                documents.add(name)
        return read

    def _list(self, shape: Shape) -> Reader:
        item = self.reader(shape.member)

        def read(value: Any) -> list[Any]:
            if type(value) is not list:
                raise Malformed("expected a list")
            return [None if x is None else item(x) for x in value]

        return read

    def _map(self, shape: Shape) -> Reader:
        val = self.reader(shape.value)

        def read(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise Malformed("expected a map")
            out: dict[str, Any] = {}
            for k, v in value.items():
                if type(k) is not str:
                    raise Malformed("map keys must be strings")
                out[k] = None if v is None else val(v)
            return out

        return read
