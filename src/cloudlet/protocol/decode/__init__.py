"""Request decoders, one class per protocol, chosen by name (see ``protocol/codec.py``).

A service may speak several protocols with one model (CloudWatch: CBOR, JSON and query;
others CBOR and JSON), so the protocol is a property of each request, not of the service:
:func:`protocol_for` reads it from the request's cheap signals.
"""

from __future__ import annotations

from cloudlet.protocol.decode.awsjson import JsonDecoder
from cloudlet.protocol.decode.query import Ec2Decoder, QueryDecoder
from cloudlet.protocol.decode.restjson import RestJsonDecoder
from cloudlet.protocol.decode.restxml import RestXmlDecoder
from cloudlet.protocol.decode.rpcv2cbor import CborDecoder
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import ServiceModel

__all__ = ["DECODERS", "protocol_for"]

CBOR = "smithy-rpc-v2-cbor"

DECODERS: dict[str, type] = {
    "query": QueryDecoder,
    "ec2": Ec2Decoder,
    "json": JsonDecoder,
    "rest-json": RestJsonDecoder,
    "rest-xml": RestXmlDecoder,
    CBOR: CborDecoder,
}

_PROTOCOLS: dict[str, tuple[tuple[str, ...], bool]] = {}


def _protocols(service: ServiceModel) -> tuple[tuple[str, ...], bool]:
    found = _PROTOCOLS.get(service.service_name)
    if found is None:
        meta = service.metadata
        protocols = tuple(meta.get("protocols") or (meta["protocol"],))
        compatible = any(p in ("query", "ec2") for p in protocols) or "awsQueryCompatible" in meta
        found = _PROTOCOLS[service.service_name] = (protocols, compatible)
    return found


def protocol_for(service: ServiceModel, req: Request) -> str:
    """The protocol of one request to `service` (see `wire_protocol`)."""
    protocols, compatible = _protocols(service)
    return wire_protocol(protocols, compatible, req)


def wire_protocol(protocols: tuple[str, ...], query_compatible: bool, req: Request) -> str:
    """The protocol one request speaks, from its cheap signals; the routing uses this too.

    ``smithy-protocol: rpc-v2-cbor`` means CBOR and ``X-Amz-Target`` means JSON when the
    model lists them; otherwise a service that accepts query (its model lists query/ec2,
    or it is ``awsQueryCompatible`` like SQS, which old SDKs still call with forms) is
    spoken to in query when it sends a form; else the model's first protocol. REST services are never
    re-guessed: their query strings are their own.
    """
    first = protocols[0]
    if first == "rest-json" or first == "rest-xml":
        return first
    headers = req.headers
    if CBOR in protocols and headers.get("smithy-protocol") == "rpc-v2-cbor":
        return CBOR
    if "x-amz-target" in headers:
        return "json" if "json" in protocols else first
    if first == "query" or first == "ec2":
        return first
    if query_compatible and _is_form(req):
        return "ec2" if "ec2" in protocols else "query"
    return first


def _is_form(req: Request) -> bool:
    if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return True
    return "Action=" in req.query