"""The ``query`` protocol's responses: XML wrapped in ``<{Op}Response><{Op}Result>``.

Used by IAM, STS, SNS, RDS, CloudFormation and the other form-encoded services. Wire
names come from the model, but a service whose model no longer states them (SQS's model
is JSON now, yet old SDKs still speak query to it) can pass a :class:`QueryWire` table
of overrides instead of a subclass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import Shape

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.errors import ErrorShapes, fault, message_member
from cloudlet.protocol.encode.scalars import header_text, xml_attr, xml_text
from cloudlet.protocol.encode.xmlbody import MemberTable, XmlWriters, write_members
from cloudlet.protocol.http import Response
from cloudlet.protocol.model import OperationModel, ServiceModel

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
_RESERVED = frozenset({"Type", "Code", "Message"})  # the <Error> element's own children


@dataclass(frozen=True)
class QueryWire:
    """Wire names the model does not state, for one service spoken over query.

    `names` uses :class:`XmlWriters`' keys (``"Shape.Member"``, ``"List.member"``,
    ``"Map.key"``, ``"Map.value"``); `result_wrappers` maps an operation to its
    ``<{Op}Result>`` element when the output shape has no ``resultWrapper``.
    """

    namespace: str | None = None
    result_wrappers: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)


class QueryEncoder:
    """Encoder for the ``query`` protocol (see ``protocol/codec.py`` for the contract)."""

    content_type = "text/xml"
    list_member = "member"

    def __init__(self, service: ServiceModel, wire: QueryWire | None = None) -> None:
        self._service = service
        self._wire = wire or QueryWire()
        self._xml = XmlWriters(list_member=self.list_member, names=self._wire.names)
        self._ns = self._wire.namespace or service.metadata.get("xmlNamespace") or ""
        self._xmlns = f' xmlns="{xml_attr(self._ns)}"' if self._ns else ""
        self._ops: dict[str, Callable[[dict[str, Any], str], bytes]] = {}
        self._errors = ErrorShapes(service)
        self._error_fields: dict[str, tuple[MemberTable, str | None]] = {}

    # success -------------------------------------------------------------------------
    def encode(self, op: OperationModel, output: dict[str, Any], request_id: str) -> Response:
        fn = self._ops.get(op.name)
        if fn is None:
            fn = self._ops[op.name] = self._compile(op)
        headers = [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id)]
        return Response(200, headers, fn(output or {}, request_id))

    def _result_wrapper(self, op: OperationModel, shape: Shape | None) -> str | None:
        wrapper = self._wire.result_wrappers.get(op.name)
        if wrapper is None and shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
        return wrapper

    def _compile(self, op: OperationModel) -> Callable[[dict[str, Any], str], bytes]:
        shape = op.output_shape
        name = op.name
        head = f"{XML_DECL}<{name}Response{self._xmlns}>"
        tail = f"</{name}Response>"
        wrapper = self._result_wrapper(op, shape)
        table = self._xml.members(shape)[0] if shape is not None else {}
        open_w = f"<{wrapper}>" if wrapper else ""
        close_w = f"</{wrapper}>" if wrapper else ""

        def encode(output: dict[str, Any], request_id: str) -> bytes:
            out = [head, open_w]
            write_members(table, output, out)
            out.append(f"{close_w}<ResponseMetadata><RequestId>{xml_text(request_id)}</RequestId></ResponseMetadata>{tail}")
            return "".join(out).encode("utf-8")

        return encode

    # errors ----------------------------------------------------------------------------
    def encode_error(self, op: OperationModel | None, err: ServiceError, request_id: str) -> Response:
        fields: list[str] = []
        if err.fields:
            table = self._fields_table(err.code) or self._fields_table(err.query_code)
            if table is not None:
                write_members(table, err.fields, fields)
        body = self._error_document(err, xml_text(request_id), "".join(fields))
        headers = [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id)]
        headers.extend((k, header_text(str(v))) for k, v in err.headers.items())
        return Response(err.status, headers, body.encode("utf-8"))

    def _error_document(self, err: ServiceError, request_id: str, fields: str) -> str:
        """The error body around `fields` (the modeled error's members, as XML);
        `request_id` is already escaped. Old SDKs read the legacy query code here."""
        return (
            f"{XML_DECL}<ErrorResponse{self._xmlns}><Error><Type>{fault(err.sender_fault)}</Type>"
            f"<Code>{xml_text(err.query_code or err.code)}</Code><Message>{xml_text(err.message)}</Message>"
            f"{fields}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )

    def _fields_table(self, code: str | None) -> MemberTable | None:
        if code is None:
            return None
        cached = self._error_fields.get(code)
        if cached is not None:
            return cached[0]
        shape = self._errors.shape_for(code)
        if shape is None:
            return None
        msg = message_member(shape)
        xml = self._xml

        def skip(name: str, member: Shape) -> bool:
            # Type, Code and Message are written once by the error itself; a member with
            # one of those wire names reads them back (botocore parses by element name).
            return name == msg or xml.member_tag(shape, name, member) in _RESERVED

        table = xml.members(shape, skip)[0]
        self._error_fields[code] = (table, msg)
        return table
