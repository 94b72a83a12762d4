"""What rest-json and rest-xml share: members bound to the status code, headers and payload.

`RestLayout.of(shape)` sorts a structure's members by where they travel once; encoding
then only looks up the members the handler actually returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape

from cloudlet.protocol.encode.scalars import (
    b64,
    bool_text,
    float_text,
    header_text,
    json_text,
    text_timestamp,
)

HeaderFn = Callable[[Any], str]
NO_BODY = frozenset({204, 304})  # HTTP forbids a body with these statuses


@dataclass(slots=True)
class RestLayout:
    """Where each member of a rest output (or error) structure goes on the wire."""

    status: str | None
    headers: dict[str, tuple[str, HeaderFn]]  # member -> (header name, value -> text)
    header_maps: dict[str, str]  # member -> header prefix
    payload: str | None  # the member that is the whole body, if the model names one
    payload_shape: Shape | None
    body: list[str]  # members serialized into the body when there is no payload member
    sets_content_type: str | None  # the member bound to Content-Type, if any

    @classmethod
    def of(cls, shape: Shape | None) -> RestLayout:
        layout = cls(None, {}, {}, None, None, [], None)
        if shape is None:
            return layout
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            ser = member.serialization
            loc = ser.get("location")
            if loc == "statusCode":
                layout.status = name
            elif loc == "header":
                header = ser.get("name") or name
                layout.headers[name] = (header, header_fn(member))
                if header.lower() == "content-type":
                    layout.sets_content_type = name
            elif loc == "headers":
                layout.header_maps[name] = ser.get("name") or ""
            elif loc is None and name == payload:
                layout.payload = name
                layout.payload_shape = member
            elif loc is None and payload is None:
                layout.body.append(name)
        return layout

    def has_body(self, output: dict[str, Any]) -> bool:
        """Whether `output` holds anything that travels in the body."""
        if self.payload is not None:
            return output.get(self.payload) is not None
        return any(output.get(name) is not None for name in self.body)

    def write_headers(self, output: dict[str, Any], headers: list[tuple[str, str]]) -> int | None:
        """Append the header members present in `output`; return a statusCode member's value."""
        for name, (header, fn) in self.headers.items():
            v = output.get(name)
            if v is not None:
                if isinstance(v, list) and not v:
                    continue  # an empty list has no header form
                headers.append((header, fn(v)))
        for name, prefix in self.header_maps.items():
            m = output.get(name)
            if m:
                headers.extend((prefix + k, header_text(str(v))) for k, v in m.items() if v is not None)
        if self.status is not None:
            status = output.get(self.status)
            if isinstance(status, int) and 100 <= status <= 599:
                return status
        return None


def header_fn(shape: Shape) -> HeaderFn:
    """value -> header text for a member bound to one header."""
    kind = shape.type_name
    if kind == "list":
        item = header_fn(shape.member)
        quote = shape.member.type_name == "string"

        def join(value: Any) -> str:
            parts = [item(v) for v in value]
            if quote:
                # list items holding the separator are quoted (RFC 7230 lists)
                parts = [_quote(p) if ("," in p or '"' in p) else p for p in parts]
            return ", ".join(parts)

        return join
    if kind == "timestamp":
        fmt = text_timestamp(shape.serialization.get("timestampFormat"), "rfc822")
        return fmt
    if kind == "boolean":
        return bool_text
    if kind in ("integer", "long", "short", "byte"):
        return lambda v: str(int(v))
    if kind in ("float", "double"):
        return float_text
    if kind == "blob":
        return b64
    if kind == "string" and shape.serialization.get("jsonvalue"):
        # a JSON value in a header travels as base64 of its JSON text
        return lambda v: b64(json_text(v))
    return lambda v: header_text(v if isinstance(v, str) else str(v))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_head(op: Any) -> bool:
    """HEAD responses carry headers only, errors included."""
    return op is not None and op.http.get("method") == "HEAD"


def default_status(op: Any) -> int:
    code = op.http.get("responseCode") if op is not None else None
    return int(code) if code else 200
