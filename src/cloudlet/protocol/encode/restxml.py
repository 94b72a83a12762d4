"""The ``rest-xml`` protocol (S3, S3 Control, Route 53, CloudFront).

Status code and headers as in rest-json; the body is one XML element, either the payload
member or the output's body members under a root element. S3 errors are a bare
``<Error>`` with ``x-amz-request-id``/``x-amz-id-2`` headers; the other rest-xml services
wrap theirs in ``<ErrorResponse>``. HEAD answers, errors included, have no body.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from botocore.model import Shape

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.errors import fault, message_member
from cloudlet.protocol.encode.eventstream import EventStreamWriter
from cloudlet.protocol.encode.rest import BodyWriter, RestEncoder, RestLayout, is_head
from cloudlet.protocol.encode.scalars import as_bytes, header_text, xml_attr, xml_text
from cloudlet.protocol.encode.xmlbody import MemberTable, XmlWriters, ns_attr, write_members
from cloudlet.protocol.http import OutStream, Response
from cloudlet.protocol.model import OperationModel, ServiceModel

XML = "application/xml"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"
_RESERVED = frozenset({"Type", "Code", "Message", "RequestId", "HostId"})

# S3's response root elements, where the model does not name them (S3 API reference).
S3_ROOTS = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CreateSession": "CreateSessionResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
}

ErrorParts = tuple[RestLayout, MemberTable]  # layout, the body members' writers


def _raw(value: Any) -> bytes | OutStream:
    """A blob payload: bytes, or a large object's ``OutStream`` passed through to the transport."""
    if value is None:
        return b""
    return value if isinstance(value, OutStream) else as_bytes(value)


class RestXmlEncoder(RestEncoder[ErrorParts]):
    """Encoder for the ``rest-xml`` protocol (see ``protocol/codec.py`` for the contract)."""

    def __init__(self, service: ServiceModel) -> None:
        super().__init__(service)
        self._s3 = service.metadata.get("serviceId") == "S3"
        # S3 and S3 Control identify requests the S3 way
        if service.metadata.get("signingName") == "s3" or self._s3:
            self.request_ids = s3_request_ids
        self._xml = XmlWriters(list_member="member")
        self._ns: str | None = None

    # namespace ---------------------------------------------------------------------------
    def _namespace(self) -> str:
        """The service's XML namespace: the one its request documents declare."""
        if self._ns is None:
            self._ns = ""
            for name in self._service.operation_names:
                shape = self._service.operation_model(name).input_shape
                if shape is None:
                    continue
                found = _uri(shape.serialization.get("xmlNamespace"))
                payload = shape.serialization.get("payload")
                if not found and payload:
                    found = _uri(shape.members[payload].serialization.get("xmlNamespace"))
                if found:
                    self._ns = found
                    break
        return self._ns

    # success -------------------------------------------------------------------------------
    def _body(self, op: OperationModel, layout: RestLayout, shape: Shape | None) -> tuple[BodyWriter, str | None]:
        empty: BodyWriter = lambda output: b""  # noqa: E731
        if shape is None:
            return empty, None
        name = layout.payload
        if name is not None:
            pshape = layout.payload_shape
            assert pshape is not None
            if pshape.serialization.get("eventstream"):
                events = EventStreamWriter(pshape, self._event_body, "text/xml")
                return (lambda output: events.encode(output.get(name) or ())), EVENT_STREAM_TYPE
            if pshape.type_name in ("blob", "string"):
                ctype = "application/octet-stream" if pshape.type_name == "blob" else "text/plain"
                return (lambda output: _raw(output.get(name))), ctype
            tag = pshape.serialization.get("name") or name
            start = "<" + tag + (ns_attr(pshape.serialization.get("xmlNamespace")) or self._xmlns())
            write = self._xml.writer(pshape)
            end = f"</{tag}>"

            def payload(output: dict[str, Any]) -> bytes:
                v = output.get(name)
                if v is None:
                    return b""
                out = [XML_DECL]
                write(v, out, start, end)
                return "".join(out).encode("utf-8")

            return payload, XML
        if not layout.body:
            return empty, None
        if self._s3 and op.name == "GetBucketLocation":
            return self._bucket_location(), XML
        root = shape.serialization.get("name") or self._root_name(op, shape)
        table = self._xml.members(shape, lambda n, m: n not in layout.body)[0]
        head = f"{XML_DECL}<{root}{self._xmlns()}>"
        tail = f"</{root}>"

        def body(output: dict[str, Any]) -> bytes:
            out = [head]
            write_members(table, output, out)
            out.append(tail)
            return "".join(out).encode("utf-8")

        return body, XML

    def _root_name(self, op: OperationModel, shape: Shape) -> str:
        if self._s3 and op.name in S3_ROOTS:
            return S3_ROOTS[op.name]
        name = str(shape.name)
        return name[: -len("Output")] + "Result" if name.endswith("Output") else name

    def _xmlns(self) -> str:
        ns = self._namespace()
        return f' xmlns="{xml_attr(ns)}"' if ns else ""

    def _bucket_location(self) -> BodyWriter:
        # S3 answers GetBucketLocation with the value as the root's text; SDKs read it there
        head = f"{XML_DECL}<LocationConstraint{self._xmlns()}>"

        def body(output: dict[str, Any]) -> bytes:
            value = output.get("LocationConstraint") or ""
            return f"{head}{xml_text(value)}</LocationConstraint>".encode("utf-8")

        return body

    def _event_body(self, shape: Shape, value: Any) -> bytes:
        table = self._xml.members(shape, lambda n, m: bool(m.serialization.get("eventheader")))[0]
        out = [f"<{shape.name}>"]
        write_members(table, value, out)
        out.append(f"</{shape.name}>")
        return "".join(out).encode("utf-8")

    # errors ----------------------------------------------------------------------------
    def encode_error(self, op: OperationModel | None, err: ServiceError, request_id: str) -> Response:
        headers = self.request_headers(request_id)
        layout, table = self._error_layout(err.code)
        if err.fields:
            layout.write_headers(err.fields, headers)
        headers.extend((k, header_text(str(v))) for k, v in err.headers.items())
        if is_head(op):
            return Response(err.status, headers, b"")
        fields: list[str] = []
        if err.fields:
            write_members(table, err.fields, fields)
            if self._s3:  # S3's errors carry elements its model does not list (BucketName, Key...)
                fields.extend(
                    f"<{k}>{xml_text(str(v))}</{k}>"
                    for k, v in err.fields.items()
                    if v is not None and k not in table and k not in _RESERVED
                )
        code, message, rid = xml_text(err.code), xml_text(err.message), xml_text(request_id)
        if self._s3:
            body = (
                f"{XML_DECL}<Error><Code>{code}</Code><Message>{message}</Message>{''.join(fields)}"
                f"<RequestId>{rid}</RequestId><HostId>{host_id(request_id)}</HostId></Error>"
            )
        else:
            body = (
                f"{XML_DECL}<ErrorResponse{self._xmlns()}><Error><Type>{fault(err.sender_fault)}</Type>"
                f"<Code>{code}</Code><Message>{message}</Message>{''.join(fields)}</Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>"
            )
        headers.append(("Content-Type", XML))
        return Response(err.status, headers, body.encode("utf-8"))

    def _compile_error(self, code: str) -> ErrorParts:
        shape = self._errors.shape_for(code)
        if shape is None:
            return RestLayout.of(None), {}
        layout = RestLayout.of(shape)
        msg = message_member(shape)
        xml = self._xml

        def skip(name: str, member: Shape) -> bool:
            # the error's own Code/Message/... elements are written once; a member
            # with one of those names reads them back
            return name == msg or name not in layout.body or xml.member_tag(shape, name, member) in _RESERVED

        return layout, xml.members(shape, skip)[0]


def s3_request_ids(request_id: str) -> list[tuple[str, str]]:
    """S3 and S3 Control name a request with two headers."""
    return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id))]


def host_id(request_id: str) -> str:
    """S3's ``x-amz-id-2``: an opaque token; derived from the request id so it is stable."""
    return base64.b64encode(hashlib.sha256(request_id.encode("utf-8")).digest()).decode("ascii")


def _uri(ns: Any) -> str:
    if isinstance(ns, str):
        return ns
    if isinstance(ns, dict) and not ns.get("prefix"):
        return str(ns.get("uri", ""))
    return ""
