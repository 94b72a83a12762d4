"""The ``smithy-rpc-v2-cbor`` protocol: the output structure as one CBOR map.

Members travel under their member names; timestamps are tag 1 (epoch seconds), blobs
byte strings, floats native (CBOR has NaN and the infinities). Errors carry ``__type``;
query-compatible services (CloudWatch) add ``x-amzn-query-error`` as in awsJson.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cbor2

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.errors import ErrorShapes, fault, message_member
from cloudlet.protocol.encode.scalars import as_bytes, epoch_seconds, header_text
from cloudlet.protocol.encode.values import Convert, ValueConverters, structure_converter
from cloudlet.protocol.http import Response
from cloudlet.protocol.model import OperationModel, ServiceModel

CBOR = "application/cbor"


def _timestamp(fmt: str | None) -> Convert:
    return lambda v: cbor2.CBORTag(1, epoch_seconds(v))


class CborEncoder:
    """Encoder for ``smithy-rpc-v2-cbor`` (see ``protocol/codec.py`` for the contract)."""

    def __init__(self, service: ServiceModel) -> None:
        self._service = service
        self._query_compatible = "awsQueryCompatible" in service.metadata
        self._values = ValueConverters(timestamp=_timestamp, blob=as_bytes, float_=None, wire_names=False)
        self._ops: dict[str, Callable[[dict[str, Any]], bytes]] = {}
        self._errors = ErrorShapes(service)
        self._error_info: dict[str, tuple[str, str, Convert | None, str]] = {}

    def _headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", CBOR), ("x-amzn-RequestId", request_id)]

    def encode(self, op: OperationModel, output: dict[str, Any], request_id: str) -> Response:
        fn = self._ops.get(op.name)
        if fn is None:
            fn = self._ops[op.name] = self._compile(op)
        body = fn(output or {})
        if not body:  # an operation without output: no body, so no content type either
            return Response(200, [("smithy-protocol", "rpc-v2-cbor"), ("x-amzn-RequestId", request_id)], body)
        return Response(200, self._headers(request_id), body)

    def _compile(self, op: OperationModel) -> Callable[[dict[str, Any]], bytes]:
        shape = op.output_shape
        if shape is None:
            return lambda output: b""  # no output: no body
        conv = self._values.converter(shape)
        if conv is None:
            return cbor2.dumps
        return lambda output: cbor2.dumps(conv(output))

    def encode_error(self, op: OperationModel | None, err: ServiceError, request_id: str) -> Response:
        info = self._error_info.get(err.code)
        if info is None:
            info = self._error_info[err.code] = self._compile_error(err.code)
        type_name, msg_key, fields, query_code = info
        body: dict[str, Any] = {"__type": type_name, msg_key: err.message}
        if err.fields and fields is not None:
            for k, v in fields(err.fields).items():
                body.setdefault(k, v)
        headers = self._headers(request_id)
        if self._query_compatible:
            headers.append(("x-amzn-query-error", f"{err.query_code or query_code};{fault(err.sender_fault)}"))
        headers.extend((k, header_text(str(v))) for k, v in err.headers.items())
        return Response(err.status, headers, cbor2.dumps(body))

    def _compile_error(self, code: str) -> tuple[str, str, Convert | None, str]:
        shape = self._errors.shape_for(code)
        if shape is None:
            return code, "message", None, code
        msg = message_member(shape) or "message"
        names = [n for n in shape.members if n != msg]
        table = self._values.members(shape, names)
        conv = structure_converter(table)
        if conv is None:
            keep = frozenset(names)
            conv = lambda v: {k: x for k, x in v.items() if k in keep and x is not None}  # noqa: E731
        type_name = shape.name if self._query_compatible else code
        return type_name, msg, conv, shape.error_code
