"""A service's codec for one protocol: decode requests, encode results and errors.

Decoders live in ``protocol/decode/<protocol>.py`` and encoders in
``protocol/encode/<protocol>.py``, one class per protocol, chosen by name from the
tables below. Each is built once per (service, protocol) and compiles what it needs
per shape on first use, never re-reading the model per request.

Contract (values are what boto3 users pass and get back):

* ``Decoder(service_model).decode(req) -> (OperationModel, params)``: params is a dict
  keyed by the model's member names; timestamps are aware UTC datetimes, blobs bytes,
  documents plain Python. Unparseable input raises a 400 ``ServiceError``; an unknown
  operation raises the protocol's error for it.
* ``Encoder(service_model).encode(op, output, request_id) -> Response`` and
  ``.encode_error(op_or_None, ServiceError, request_id) -> Response``: output is the
  dict a handler returned; botocore's parser for the protocol must read it back equal.

A JSON-model service spoken over ``query`` by old SDKs (SQS) gets its wire names from
its table in ``protocol/querycompat.py``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request, Response
from cloudlet.protocol.model import OperationModel, ServiceModel, load_service

PROTOCOLS = ("query", "ec2", "json", "rest-json", "rest-xml", "smithy-rpc-v2-cbor")


class Decoder(Protocol):
    def __init__(self, service: ServiceModel) -> None: ...

    def decode(self, req: Request) -> tuple[OperationModel, dict[str, Any]]: ...


class Encoder(Protocol):
    def __init__(self, service: ServiceModel) -> None: ...

    def encode(self, op: OperationModel, output: dict[str, Any], request_id: str) -> Response: ...

    def encode_error(self, op: OperationModel | None, err: ServiceError, request_id: str) -> Response: ...


def _decoders() -> dict[str, type]:
    from cloudlet.protocol.decode import DECODERS

    return DECODERS


def _encoders() -> dict[str, type]:
    from cloudlet.protocol.encode import ENCODERS

    return ENCODERS


@lru_cache(maxsize=None)
def decoder(service: str, protocol: str) -> Decoder:
    model = load_service(service)
    from cloudlet.protocol import querycompat

    compat = querycompat.compat_for(model, protocol)
    if compat is not None:
        return querycompat.CompatQueryDecoder(model, compat)
    return _decoders()[protocol](model)


@lru_cache(maxsize=None)
def encoder(service: str, protocol: str) -> Encoder:
    model = load_service(service)
    from cloudlet.protocol import querycompat

    compat = querycompat.compat_for(model, protocol)
    if compat is not None:
        return querycompat.compat_encoder(model, compat)
    return _encoders()[protocol](model)
