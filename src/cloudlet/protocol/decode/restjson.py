"""rest-json: REST locations plus a JSON body (the members with no location), or a
``payload`` member that is the whole body (raw bytes or text for blobs and strings,
JSON for a structure)."""

from __future__ import annotations

from typing import Any

from botocore.model import Shape

from cloudlet.protocol.decode.awsjson import JSON_LEAVES, load_json
from cloudlet.protocol.decode.rest import BodyReader, RestDecoder, raw_payload_reader
from cloudlet.protocol.decode.scalars import Malformed
from cloudlet.protocol.decode.structured import StructuredReaders
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import OperationModel, ServiceModel


class RestJsonDecoder(RestDecoder):
    protocol = "rest-json"
    BAD_CODE = "SerializationException"
    NOT_ALLOWED_CODE = "MethodNotAllowedException"

    def __init__(self, service: ServiceModel) -> None:
        super().__init__(service)
        self._readers = StructuredReaders(JSON_LEAVES)

    def body_reader(self, op: OperationModel, shape: Shape) -> BodyReader | None:
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = shape.members[payload]
            if member.type_name in ("blob", "string"):
                return raw_payload_reader(payload, member)
            structure = self._readers.reader(member)

            def read_payload(req: Request, params: dict[str, Any]) -> None:
                body = req.body
                if body and not body.isspace():
                    try:
                        params[payload] = structure(load_json(body))
                    except Malformed as err:
                        raise err.at(payload) from None

            return read_payload
        members = {n: m for n, m in shape.members.items() if "location" not in m.serialization}
        if not members:
            return None
        read = self._readers.structure(members)

        def read_body(req: Request, params: dict[str, Any]) -> None:
            body = req.body
            if body and not body.isspace():
                params.update(read(load_json(body)))

        return read_body
