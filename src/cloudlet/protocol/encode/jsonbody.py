"""JSON bodies for the json and rest-json encoders: orjson over compiled converters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import Shape

from cloudlet.protocol.encode.scalars import b64, epoch_seconds, iso8601, json_float, rfc822
from cloudlet.protocol.encode.values import Convert, ValueConverters, structure_converter


def _timestamp(fmt: str | None) -> Convert:
    # JSON bodies carry epoch seconds unless the model asks for text
    if fmt == "iso8601":
        return iso8601
    if fmt == "rfc822":
        return rfc822
    return epoch_seconds


def json_converters() -> ValueConverters:
    return ValueConverters(timestamp=_timestamp, blob=b64, float_=json_float, wire_names=True)


class JsonBodies:
    """Per-shape JSON writers for a service, including structures minus some members."""

    def __init__(self) -> None:
        self.values = json_converters()
        self._partial: dict[tuple[str, tuple[str, ...] | None], Callable[[Any], bytes]] = {}

    def writer(self, shape: Shape, names: list[str] | None = None) -> Callable[[Any], bytes]:
        """value -> JSON bytes for the structure `shape`, limited to `names` if given."""
        key = (shape.name, None if names is None else tuple(names))
        fn = self._partial.get(key)
        if fn is None:
            if names is None and shape.type_name != "structure":
                conv = self.values.converter(shape)
            else:
                conv = structure_converter(self.values.members(shape, names))
                if conv is None and names is not None:
                    # pass-through would leak the members bound elsewhere (headers...)
                    keep = frozenset(names)
                    conv = lambda v: {k: x for k, x in v.items() if k in keep and x is not None}  # noqa: E731
            fn = _dumper(conv)
            self._partial[key] = fn
        return fn

    def event_body(self, shape: Shape, value: Any) -> bytes:
        """An event's body: its members that are not event headers."""
        names = [n for n, m in shape.members.items() if not m.serialization.get("eventheader")]
        if shape.type_name != "structure" or len(names) == len(shape.members):
            return self.writer(shape)(value)
        return self.writer(shape, names)(value)


def _dumper(conv: Convert | None) -> Callable[[Any], bytes]:
    if conv is None:
        return orjson.dumps
    return lambda v: orjson.dumps(conv(v))
