"""The ``ec2`` protocol's responses: query's XML without the Result wrapper.

EC2 puts ``<requestId>`` first inside ``<{Op}Response>``, names list items ``<item>``,
and answers errors as ``<Response><Errors><Error>`` with ``<RequestID>`` (capital ID).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.query import XML_DECL, QueryEncoder
from cloudlet.protocol.encode.scalars import header_text, xml_text
from cloudlet.protocol.http import Response
from cloudlet.protocol.model import OperationModel


class Ec2Encoder(QueryEncoder):
    """Encoder for the ``ec2`` protocol (see ``protocol/codec.py`` for the contract)."""

    list_member = "item"

    def _compile(self, op: OperationModel) -> Callable[[dict[str, Any], str], bytes]:
        shape = op.output_shape
        head = f"{XML_DECL}<{op.name}Response{self._xmlns}><requestId>"
        tail = f"</{op.name}Response>"
        table = self._xml.members(shape)[0] if shape is not None else {}

        def encode(output: dict[str, Any], request_id: str) -> bytes:
            out = [head, xml_text(request_id), "</requestId>"]
            for k, v in output.items():
                m = table.get(k)
                if m is not None and v is not None:
                    m[2](v, out, m[0], m[1])
            out.append(tail)
            return "".join(out).encode("utf-8")

        return encode

    def encode_error(self, op: OperationModel | None, err: ServiceError, request_id: str) -> Response:
        out = [
            f"{XML_DECL}<Response><Errors><Error><Code>{xml_text(err.code)}</Code>"
            f"<Message>{xml_text(err.message)}</Message>"
        ]
        if err.fields:
            self._write_fields(err, out)
        out.append(f"</Error></Errors><RequestID>{xml_text(request_id)}</RequestID></Response>")
        headers = [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id)]
        headers.extend((k, header_text(str(v))) for k, v in err.headers.items())
        return Response(err.status, headers, "".join(out).encode("utf-8"))
