"""What rest-json and rest-xml share: members bound to the status code, headers and payload.

`RestLayout.of(shape)` sorts a structure's members by where they travel once; encoding
then only looks up the members the handler actually returned. :class:`RestEncoder` is
the response both protocols build around their body.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.model import Shape

from cloudlet.protocol.encode.errors import ErrorShapes
from cloudlet.protocol.encode.scalars import (
    b64,
    bool_text,
    float_text,
    header_text,
    json_text,
    text_timestamp,
)
from cloudlet.protocol.http import HEADERS, STATUS, OutStream, Response
from cloudlet.protocol.model import OperationModel, ServiceModel

HeaderFn = Callable[[Any], str]
BodyWriter = Callable[[dict[str, Any]], "bytes | OutStream"]
Compiled = Callable[[dict[str, Any], str], Response]
RequestIds = Callable[[str], list[tuple[str, str]]]
E = TypeVar("E")  # what an encoder compiles per error code
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


class RestEncoder(ABC, Generic[E]):
    """A rest-json or rest-xml response around the body its subclass writes.

    Shared: header and status members, HEAD answers without a body, 204/304 without one
    unless members need it, the body's content type unless a member sets it, and
    compiling once per operation and per error code. A subclass supplies `_body` and
    `_compile_error`, and `request_ids` when it names requests other than with
    ``x-amzn-RequestId``.
    """

    #: ``request id -> headers``, or None for ``x-amzn-RequestId`` alone
    request_ids: RequestIds | None = None

    def __init__(self, service: ServiceModel) -> None:
        self._service = service
        self._ops: dict[str, Compiled] = {}
        self._errors = ErrorShapes(service)
        self._error_parts: dict[str, E] = {}

    def encode(self, op: OperationModel, output: dict[str, Any], request_id: str) -> Response:
        fn = self._ops.get(op.name)
        if fn is None:
            fn = self._ops[op.name] = self._compile(op)
        return fn(output or {}, request_id)

    def request_headers(self, request_id: str) -> list[tuple[str, str]]:
        ids = self.request_ids
        return [("x-amzn-RequestId", request_id)] if ids is None else ids(request_id)

    def _compile(self, op: OperationModel) -> Compiled:
        shape = op.output_shape
        layout = RestLayout.of(shape)
        status0 = default_status(op)
        head = is_head(op)
        body_fn, ctype = self._body(op, layout, shape)
        ct_member = layout.sets_content_type
        ids = self.request_ids

        def encode(output: dict[str, Any], request_id: str) -> Response:
            headers = [("x-amzn-RequestId", request_id)] if ids is None else ids(request_id)
            status = layout.write_headers(output, headers) or output.get(STATUS) or status0
            extra = output.get(HEADERS)
            if extra:
                headers.extend(extra)
            if status in NO_BODY and not head:
                if not layout.has_body(output):
                    return Response(status, headers, b"")
                # some models give a 204 operation body members: HTTP allows 204 no
                # body, and the members matter more than the status
                status = 200
            body = b"" if head else body_fn(output)
            if body and ctype and (ct_member is None or output.get(ct_member) is None):
                headers.append(("Content-Type", ctype))
            if type(body) is not bytes and isinstance(body, OutStream):
                return Response(status, headers, b"", body)
            return Response(status, headers, body)

        return encode

    @abstractmethod
    def _body(self, op: OperationModel, layout: RestLayout, shape: Shape | None) -> tuple[BodyWriter, str | None]:
        """The body writer for `op`'s output and its default content type."""

    def _error_layout(self, code: str) -> E:
        parts = self._error_parts.get(code)
        if parts is None:
            parts = self._error_parts[code] = self._compile_error(code)
        return parts

    @abstractmethod
    def _compile_error(self, code: str) -> E:
        """What encoding an error with `code` needs, built on its first use."""
