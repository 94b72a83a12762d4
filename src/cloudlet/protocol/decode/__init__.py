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

_PROTOCOLS: dict[str, tuple[str, ...]] = {}


def _protocols(service: ServiceModel) -> tuple[str, ...]:
    found = _PROTOCOLS.get(service.service_name)
    if found is None:
        meta = service.metadata
        found = tuple(meta.get("protocols") or (meta["protocol"],))
        _PROTOCOLS[service.service_name] = found
    return found


def _is_form(req: Request) -> bool:
    if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return True
    return "Action=" in req.query and not req.body


def protocol_for(service: ServiceModel, req: Request) -> str:
    """The protocol of one request to `service`.

    ``smithy-protocol: rpc-v2-cbor`` means CBOR and ``X-Amz-Target`` means JSON when the
    model lists them; a form (or ``Action=`` in the query string) means query, also for
    JSON-model services that old SDKs still call with query (SQS); otherwise the model's
    first protocol. REST services are never re-guessed: their query strings are their own.
    """
    protocols = _protocols(service)
    first = protocols[0]
    if first in ("rest-json", "rest-xml"):
        return first
    headers = req.headers
    if len(protocols) > 1:
        if CBOR in protocols and headers.get("smithy-protocol") == "rpc-v2-cbor":
            return CBOR
        if "json" in protocols and "x-amz-target" in headers:
            return "json"
    elif first == "query" or first == "ec2":
        return first
    if "x-amz-target" not in headers and _is_form(req):
        return "ec2" if first == "ec2" else "query"
    return first
