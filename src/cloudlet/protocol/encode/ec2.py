"""The ``ec2`` protocol's responses: query's XML without the Result wrapper.

EC2 puts ``<requestId>`` first inside ``<{Op}Response>``, names list items ``<item>``,
and answers errors as ``<Response><Errors><Error>`` with ``<RequestID>`` (capital ID).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.query import XML_DECL, QueryEncoder
from cloudlet.protocol.encode.scalars import xml_text
from cloudlet.protocol.encode.xmlbody import write_members
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
            write_members(table, output, out)
            out.append(tail)
            return "".join(out).encode("utf-8")

        return encode

    def _error_document(self, err: ServiceError, request_id: str, fields: str) -> str:
        return (
            f"{XML_DECL}<Response><Errors><Error><Code>{xml_text(err.code)}</Code>"
            f"<Message>{xml_text(err.message)}</Message>{fields}"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
