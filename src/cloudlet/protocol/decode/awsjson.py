"""The ``json`` protocol (awsJson1_0 / 1_1): ``X-Amz-Target`` names the operation, the
body is the input structure as JSON.

Blobs are base64 text; timestamps are epoch seconds by default, ISO or HTTP-date text
when a ``timestampFormat`` trait says so (we accept any of them, as AWS does). The leaf
table here is shared with rest-json bodies.
"""

from __future__ import annotations

from typing import Any

import orjson

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.decode.scalars import Malformed, bad_input, blob_from_base64, epoch_to_datetime, timestamp_from_text
from cloudlet.protocol.decode.structured import Reader, StructuredReaders, read_boolean, read_float, read_integer, read_string
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import OperationModel, ServiceModel

SERIALIZATION_ERROR = "SerializationException"


def _timestamp(v: Any) -> Any:
    t = type(v)
    if t is int or t is float:
        return epoch_to_datetime(v)
    if t is str:
        return timestamp_from_text(v)
    raise Malformed("expected a timestamp")


def _blob(v: Any) -> bytes:
    if type(v) is str:
        return blob_from_base64(v)
    raise Malformed("expected base64 text")


def _leaf(fn: Reader) -> Any:
    return lambda shape: fn


JSON_LEAVES = {
    "string": _leaf(read_string),
    "character": _leaf(read_string),
    "integer": _leaf(read_integer),
    "long": _leaf(read_integer),
    "short": _leaf(read_integer),
    "byte": _leaf(read_integer),
    "bigInteger": _leaf(read_integer),
    "float": _leaf(read_float),
    "double": _leaf(read_float),
    "bigDecimal": _leaf(read_float),
    "boolean": _leaf(read_boolean),
    "timestamp": _leaf(_timestamp),
    "blob": _leaf(_blob),
}


def load_json(body: bytes) -> Any:
    """orjson with every failure (syntax, depth > 1024, bad UTF-8) as a 400."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise bad_input(SERIALIZATION_ERROR, f"Malformed JSON body: {err}") from None


def unknown_operation(name: str) -> ServiceError:
    return ServiceError("UnknownOperationException", f"Unknown operation {name}", 400)


class JsonDecoder:
    """``X-Amz-Target: <targetPrefix>.<Operation>`` plus a JSON body."""

    protocol = "json"

    def __init__(self, service: ServiceModel) -> None:
        self.service = service
        self._prefix = service.metadata.get("targetPrefix", "")
        self._names = frozenset(service.operation_names)
        self._readers = StructuredReaders(JSON_LEAVES)
        self._ops: dict[str, tuple[OperationModel, Reader | None]] = {}

    def _compile(self, name: str) -> tuple[OperationModel, Reader | None]:
        op = self.service.operation_model(name)
        shape = op.input_shape
        entry = (op, None if shape is None else self._readers.reader(shape))
        self._ops[name] = entry
        return entry

    def decode(self, req: Request) -> tuple[OperationModel, dict[str, Any]]:
        target = req.headers.get("x-amz-target", "")
        prefix, _, name = target.rpartition(".")
        entry = self._ops.get(name) if prefix == self._prefix else None
        if entry is None:
            if prefix != self._prefix or name not in self._names:
                raise unknown_operation(target or "(no X-Amz-Target header)")
            entry = self._compile(name)
        op, reader = entry
        body = req.body
        if reader is None or not body or body.isspace():
            return op, {}
        data = load_json(body)
        try:
            return op, reader(data)
        except Malformed as err:
            raise bad_input(SERIALIZATION_ERROR, err) from None
        except RecursionError:
            raise bad_input(SERIALIZATION_ERROR, "JSON nested too deeply") from None
