"""Response and error encoders, one class per protocol, chosen by name (see ``codec.py``)."""

from __future__ import annotations

from cloudlet.protocol.encode.awsjson import JsonEncoder
from cloudlet.protocol.encode.cbor import CborEncoder
from cloudlet.protocol.encode.ec2 import Ec2Encoder
from cloudlet.protocol.encode.query import QueryEncoder, QueryWire
from cloudlet.protocol.encode.restjson import RestJsonEncoder
from cloudlet.protocol.encode.restxml import RestXmlEncoder

ENCODERS: dict[str, type] = {
    "query": QueryEncoder,
    "ec2": Ec2Encoder,
    "json": JsonEncoder,
    "rest-json": RestJsonEncoder,
    "rest-xml": RestXmlEncoder,
    "smithy-rpc-v2-cbor": CborEncoder,
}

__all__ = ["ENCODERS", "QueryWire"]
