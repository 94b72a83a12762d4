"""The ``json`` protocol (awsJson 1.0/1.1): the output structure as one JSON object.

Errors are ``{"__type": code, "message": ...}`` plus the modeled error's members. For
services marked ``awsQueryCompatible`` (SQS, CloudWatch) the ``x-amzn-query-error``
header carries the legacy query code, which botocore then reports as ``Error.Code``
(keeping ``__type`` as ``Error.QueryErrorCode``), as the real services do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.errors import ErrorShapes, fault, message_member
from cloudlet.protocol.encode.eventstream import EventStreamWriter, event_frame
from cloudlet.protocol.encode.jsonbody import JsonBodies
from cloudlet.protocol.encode.scalars import header_text
from cloudlet.protocol.http import Response
from cloudlet.protocol.model import OperationModel, ServiceModel

EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"


class JsonEncoder:
    """Encoder for the ``json`` protocol (see ``protocol/codec.py`` for the contract)."""

    def __init__(self, service: ServiceModel) -> None:
        self._service = service
        self.content_type = f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.0')}"
        self._query_compatible = "awsQueryCompatible" in service.metadata
        self._bodies = JsonBodies()
        self._ops: dict[str, Callable[[dict[str, Any]], tuple[bytes, str]]] = {}
        self._errors = ErrorShapes(service)
        self._error_writers: dict[str, tuple[str, str, Callable[[Any], dict[str, Any]] | None, Any]] = {}

    def encode(self, op: OperationModel, output: dict[str, Any], request_id: str) -> Response:
        fn = self._ops.get(op.name)
        if fn is None:
            fn = self._ops[op.name] = self._compile(op)
        body, ctype = fn(output or {})
        return Response(200, [("Content-Type", ctype), ("x-amzn-RequestId", request_id)], body)

    def _compile(self, op: OperationModel) -> Callable[[dict[str, Any]], tuple[bytes, str]]:
        shape = op.output_shape
        ctype = self.content_type
        if shape is None:
            return lambda output: (b"{}", ctype)
        stream_name = shape.event_stream_name if op.has_event_stream_output else None
        if stream_name:
            # the non-stream members travel first, as the "initial-response" event
            names = [n for n in shape.members if n != stream_name]
            initial = self._bodies.writer(shape, names)
            events = EventStreamWriter(shape.members[stream_name], self._bodies.event_body, ctype)

            def encode_stream(output: dict[str, Any]) -> tuple[bytes, str]:
                head = event_frame("initial-response", initial(output), ctype)
                return head + events.encode(output.get(stream_name) or ()), EVENT_STREAM_TYPE

            return encode_stream
        write = self._bodies.writer(shape)
        return lambda output: (write(output), ctype)

    def encode_error(self, op: OperationModel | None, err: ServiceError, request_id: str) -> Response:
        type_name, msg_key, fields, query_code = self._error_info(err.code)
        body: dict[str, Any] = {"__type": type_name, msg_key: err.message}
        if err.fields and fields is not None:
            for k, v in fields(err.fields).items():
                body.setdefault(k, v)
        headers = [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id)]
        if self._query_compatible:
            headers.append(("x-amzn-query-error", f"{err.query_code or query_code};{fault(err.sender_fault)}"))
        headers.extend((k, header_text(str(v))) for k, v in err.headers.items())
        return Response(err.status, headers, orjson.dumps(body))

    def _error_info(self, code: str) -> tuple[str, str, Callable[[Any], dict[str, Any]] | None, str]:
        """(__type, message key, fields converter, query code) for an error code, cached."""
        info = self._error_writers.get(code)
        if info is None:
            info = self._error_writers[code] = self._compile_error(code)
        return info

    def _compile_error(self, code: str) -> tuple[str, str, Callable[[Any], dict[str, Any]] | None, str]:
        shape = self._errors.shape_for(code)
        if shape is None:
            return code, "message", None, code
        msg = message_member(shape)
        msg_key = shape.members[msg].serialization.get("name", msg) if msg else "message"
        names = [n for n in shape.members if n != msg]
        table = self._bodies.values.members(shape, names)

        def fields(values: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for k, v in values.items():
                m = table.get(k)
                if m is not None and v is not None:
                    out[m[0]] = v if m[1] is None else m[1](v)
            return out

        # query-compatible services name the shape in __type and the code in the header
        type_name = shape.name if self._query_compatible else code
        return type_name, msg_key, fields, shape.error_code
