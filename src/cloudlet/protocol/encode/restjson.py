"""The ``rest-json`` protocol: status code, headers and a JSON (or raw payload) body.

Errors name their code in ``x-amzn-ErrorType`` and carry ``{"message": ...}`` plus the
modeled error's body members; its header members become headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import Shape

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.errors import message_member
from cloudlet.protocol.encode.eventstream import EventStreamWriter
from cloudlet.protocol.encode.jsonbody import JsonBodies
from cloudlet.protocol.encode.rest import BodyWriter, RestEncoder, RestLayout, is_head
from cloudlet.protocol.encode.scalars import as_bytes, header_text
from cloudlet.protocol.http import Response
from cloudlet.protocol.model import OperationModel, ServiceModel

JSON = "application/json"
EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"
_ERROR_TYPE = "x-amzn-errortype"

FieldsBody = Callable[[dict[str, Any], str], bytes]
ErrorParts = tuple[RestLayout, str, FieldsBody | None]  # layout, message key, body with fields


class RestJsonEncoder(RestEncoder[ErrorParts]):
    """Encoder for the ``rest-json`` protocol (see ``protocol/codec.py`` for the contract)."""

    def __init__(self, service: ServiceModel) -> None:
        super().__init__(service)
        self._bodies = JsonBodies()

    def _body(self, op: OperationModel, layout: RestLayout, shape: Shape | None) -> tuple[BodyWriter, str | None]:
        if shape is None:
            return (lambda output: b"{}"), JSON
        name = layout.payload
        if name is None:
            write = self._bodies.writer(shape, layout.body)
            return write, JSON
        pshape = layout.payload_shape
        assert pshape is not None
        if pshape.serialization.get("eventstream"):
            events = EventStreamWriter(pshape, self._bodies.event_body, JSON)
            return (lambda output: events.encode(output.get(name) or ())), EVENT_STREAM_TYPE
        if pshape.type_name == "blob":
            return (lambda output: _raw(output.get(name))), "application/octet-stream"
        if pshape.type_name == "string":
            return (lambda output: _raw(output.get(name))), "text/plain"
        write = self._bodies.writer(pshape)

        def payload(output: dict[str, Any]) -> bytes:
            v = output.get(name)
            return b"{}" if v is None else write(v)

        return payload, JSON

    # errors --------------------------------------------------------------------------
    def encode_error(self, op: OperationModel | None, err: ServiceError, request_id: str) -> Response:
        layout, msg_key, fields_body = self._error_layout(err.code)
        headers = [("x-amzn-RequestId", request_id), (_ERROR_TYPE, err.code), ("Content-Type", JSON)]
        if err.fields:
            layout.write_headers(err.fields, headers)
        headers.extend((k, header_text(str(v))) for k, v in err.headers.items())
        if is_head(op):
            body = b""
        elif err.fields and fields_body is not None:
            body = fields_body(err.fields, err.message)
        else:
            body = _message_body(msg_key, err.message)
        return Response(err.status, headers, body)

    def _compile_error(self, code: str) -> ErrorParts:
        shape = self._errors.shape_for(code)
        if shape is None:
            return RestLayout.of(None), "message", None
        layout = RestLayout.of(shape)
        # our x-amzn-ErrorType header carries the code; a member bound to it reads that back
        layout.headers = {n: h for n, h in layout.headers.items() if h[0].lower() != _ERROR_TYPE}
        msg = message_member(shape)
        msg_key = shape.members[msg].serialization.get("name", msg) if msg else "message"
        names = [n for n in layout.body if n != msg]
        table = self._bodies.values.members(shape, names)

        def body(values: dict[str, Any], message: str) -> bytes:
            out: dict[str, Any] = {msg_key: message}
            for k, v in values.items():
                m = table.get(k)
                if m is not None and v is not None:
                    out.setdefault(m[0], v if m[1] is None else m[1](v))
            return orjson.dumps(out)

        return layout, msg_key, body


def _raw(value: Any) -> bytes:
    return b"" if value is None else as_bytes(value)


def _message_body(key: str, message: str) -> bytes:
    return orjson.dumps({key: message})
