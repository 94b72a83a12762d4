"""rest-json: REST locations plus a JSON body (the members with no location), or a
``payload`` member that is the whole body (raw bytes or text for blobs and strings,
JSON for a structure)."""

from __future__ import annotations

from cloudlet.protocol.decode.awsjson import JSON_LEAVES, load_json
from cloudlet.protocol.decode.rest import RestDecoder
from cloudlet.protocol.decode.structured import StructuredReaders
from cloudlet.protocol.model import ServiceModel


class RestJsonDecoder(RestDecoder):
    protocol = "rest-json"
    BAD_CODE = "SerializationException"
    NOT_ALLOWED_CODE = "MethodNotAllowedException"

    def __init__(self, service: ServiceModel) -> None:
        super().__init__(service, StructuredReaders(JSON_LEAVES), load_json)
