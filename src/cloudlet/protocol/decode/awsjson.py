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
from cloudlet.protocol.decode.operations import OperationReaders
from cloudlet.protocol.decode.scalars import Malformed, bad_input, blob_from_base64, epoch_to_datetime, timestamp_from_text
from cloudlet.protocol.decode.structured import StructuredReaders, leaf_table
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


JSON_LEAVES = leaf_table(timestamp=_timestamp, blob=_blob)


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
        self._readers = StructuredReaders(JSON_LEAVES)
        self._ops = OperationReaders(service, self._readers.reader)

    def decode(self, req: Request) -> tuple[OperationModel, dict[str, Any]]:
        target = req.headers.get("x-amz-target", "")
        prefix, _, name = target.rpartition(".")
        entry = self._ops.get(name) if prefix == self._prefix else None
        if entry is None:
            if prefix != self._prefix or name not in self._ops.names:
                raise unknown_operation(target or "(no X-Amz-Target header)")
            entry = self._ops.compile(name)
        op, reader = entry
        body = req.body
        if reader is None or not body or body.isspace():
            return op, {}
        data = load_json(body)
        try:
            return op, reader(data)
        except (Malformed, RecursionError) as err:
            raise bad_input(SERIALIZATION_ERROR, err, "JSON") from None
