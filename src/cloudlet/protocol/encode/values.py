"""Handler values -> the plain data a JSON or CBOR body is serialized from, per shape.

A converter is compiled once per shape. Shapes whose values already are their wire form
(strings, integers, booleans, documents, and containers of them under unchanged names)
compile to ``None``, meaning "pass the value through untouched", so a typical output
dict goes to orjson/cbor2 without being copied. Only timestamps, blobs, floats (JSON has
no NaN) and renamed members cost a walk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from cloudlet.protocol.encode.scalars import json_text

Convert = Callable[[Any], Any]


class ValueConverters:
    """Compiles converters for one service and protocol.

    `timestamp(fmt)` returns the converter for a ``timestampFormat`` (None: the body's
    default); `blob` and `float_` convert those scalars (None: pass through);
    `wire_names` says whether members travel under their ``locationName`` (JSON) or
    their member name (CBOR).
    """

    def __init__(
        self,
        *,
        timestamp: Callable[[str | None], Convert],
        blob: Convert | None,
        float_: Convert | None,
        wire_names: bool,
    ) -> None:
        self._timestamp = timestamp
        self._blob = blob
        self._float = float_
        self._wire_names = wire_names
        self._cache: dict[tuple[str, str | None, bool], Convert | None] = {}

    def converter(self, shape: Shape) -> Convert | None:
        ser = shape.serialization
        key = (shape.name, ser.get("timestampFormat"), bool(ser.get("jsonvalue")))
        if key in self._cache:
            return self._cache[key]
        if shape.type_name in ("structure", "list", "map"):
            cache = self._cache
            self._cache[key] = lambda v: (cache[key] or _same)(v)
        fn = self._compile(shape)
        self._cache[key] = fn
        return fn

    def members(self, shape: Shape, names: list[str] | None = None) -> dict[str, tuple[str, Convert | None]]:
        """``{member: (wire_name, converter)}`` for the given (default: all) members."""
        table = {}
        all_members = shape.members
        for name in all_members if names is None else names:
            member = all_members[name]
            wire = member.serialization.get("name", name) if self._wire_names else name
            table[name] = (wire, self.converter(member))
        return table

    def _compile(self, shape: Shape) -> Convert | None:
        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return None
            return structure_converter(self.members(shape))
        if kind == "list":
            item = self.converter(shape.member)
            if item is None:
                return None
            return lambda value: [None if v is None else item(v) for v in value]
        if kind == "map":
            val = self.converter(shape.value)
            if val is None:
                return None
            return lambda value: {k: None if v is None else val(v) for k, v in value.items()}
        if kind == "timestamp":
            return self._timestamp(shape.serialization.get("timestampFormat"))
        if kind == "blob":
            return self._blob
        if kind in ("float", "double"):
            return self._float
        if kind == "string" and shape.serialization.get("jsonvalue"):
            return json_text
        return None


def structure_converter(table: dict[str, tuple[str, Convert | None]]) -> Convert | None:
    """The converter for a structure's members; None when every member passes through."""
    if all(conv is None and wire == name for name, (wire, conv) in table.items()):
        return None

    def convert(value: Any) -> dict[str, Any]:
        out = {}
        for k, v in value.items():
            m = table.get(k)
            if m is None or v is None:
                continue
            conv = m[1]
            out[m[0]] = v if conv is None else conv(v)
        return out

    return convert


def _same(value: Any) -> Any:
    return value
