"""Smithy RPC v2 CBOR: ``POST /service/<Service>/operation/<Operation>`` with a CBOR body.

CBOR carries types JSON cannot: blobs are byte strings and timestamps epoch seconds
under tag 1 (cbor2 hands those back as aware datetimes). We also take untagged numbers
for timestamps, as the spec's clients may send them. cbor2 enforces a nesting limit; any
decoding failure at all (truncation, bad UTF-8, odd tags) becomes a 400.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import cbor2

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.decode.awsjson import SERIALIZATION_ERROR
from cloudlet.protocol.decode.operations import OperationReaders
from cloudlet.protocol.decode.scalars import UTC, Malformed, bad_input, epoch_to_datetime
from cloudlet.protocol.decode.structured import StructuredReaders, leaf_table
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import OperationModel, ServiceModel


def _timestamp(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return epoch_to_datetime(v)
    raise Malformed("expected a timestamp")


def _blob(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, bytearray):
        return bytes(v)
    raise Malformed("expected a byte string")


CBOR_LEAVES = leaf_table(timestamp=_timestamp, blob=_blob)


def unknown_operation(name: str) -> ServiceError:
    return ServiceError("UnknownOperationException", f"Unknown operation {name}", 404)


class CborDecoder:
    """The operation comes from the path; the service segment was already used by routing."""

    protocol = "smithy-rpc-v2-cbor"

    def __init__(self, service: ServiceModel) -> None:
        self.service = service
        self._readers = StructuredReaders(CBOR_LEAVES)
        self._ops = OperationReaders(service, self._readers.reader)

    def decode(self, req: Request) -> tuple[OperationModel, dict[str, Any]]:
        head, sep, name = req.path.rpartition("/operation/")
        entry = self._ops.get(name) if sep else None
        if entry is None:
            if not sep or "/service/" not in head or name not in self._ops.names:
                raise unknown_operation(name or req.path)
            entry = self._ops.compile(name)
        op, reader = entry
        body = req.body
        if reader is None or not body:
            return op, {}
        try:
            data = cbor2.loads(body)
        except Exception as err:  # cbor2 raises several types; all mean a bad body
            raise bad_input(SERIALIZATION_ERROR, f"Malformed CBOR body: {err}") from None
        try:
            return op, reader(data)
        except (Malformed, RecursionError) as err:
            raise bad_input(SERIALIZATION_ERROR, err, "CBOR") from None
