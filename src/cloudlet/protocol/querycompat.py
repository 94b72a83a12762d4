"""The query protocol for services whose botocore model moved to JSON (SQS).

SQS's model is ``json`` now (metadata ``awsQueryCompatible``), yet SDKs released before
the switch (old boto3 and CLIs, Java v1, PHP v2, .NET v3...) still POST it forms
(``Action=SendMessage&MessageAttribute.1.Name=a...``) and read XML answers. The current
model kept the ``flattened`` traits but lost the element names those clients use
(``Attribute``/``Name``/``Value``, ``MessageAttribute``, ``QueueUrl``...), so one table per
service gives them back. Both directions are derived from that one table, with
botocore's own naming rule (:func:`member_tag`): the decoder's ``"Shape.Member"`` ->
``Wire`` overrides and the encoder's :class:`QueryWire`. A name is written once.

Java v1 also moves ``QueueUrl`` out of the form and into the request URL (it POSTs to
``/<account>/<queue>``), so a table may name the member the URL stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape

from cloudlet.protocol.decode.query import QueryDecoder
from cloudlet.protocol.encode.query import QueryEncoder, QueryWire
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import OperationModel, ServiceModel

__all__ = ["QueryCompat", "TABLES", "compat_for", "member_tag", "wire_names", "query_wire", "CompatQueryDecoder", "compat_encoder"]


@dataclass(frozen=True)
class QueryCompat:
    """The query-protocol facts a JSON model no longer states, for one service.

    `names` is keyed as :class:`~cloudlet.protocol.encode.xmlbody.XmlWriters` keys its
    overrides: ``"Structure.Member"`` (the member's own element name), ``"List.member"``
    (the item's name; a flattened list repeats it in place of the member's name) and
    ``"Map.key"`` / ``"Map.value"``. Every operation with output wraps it in
    ``<{Op}{result_suffix}>``. `url_member` is filled from the request URL when a client
    posted to it and left the member out of the form.
    """

    namespace: str
    names: Mapping[str, str]
    result_suffix: str = "Result"
    url_member: str | None = None


# The names of SQS's 2012-11-05 query API, as the SDKs built on it send and read them.
SQS = QueryCompat(
    namespace="http://queue.amazonaws.com/doc/2012-11-05/",
    url_member="QueueUrl",
    names={
        # structure members
        "CreateQueueRequest.Attributes": "Attribute",
        "CreateQueueRequest.tags": "Tag",
        "SetQueueAttributesRequest.Attributes": "Attribute",
        "GetQueueAttributesResult.Attributes": "Attribute",
        "TagQueueRequest.Tags": "Tag",
        "ListQueueTagsResult.Tags": "Tag",
        "SendMessageRequest.MessageAttributes": "MessageAttribute",
        "SendMessageRequest.MessageSystemAttributes": "MessageSystemAttribute",
        "SendMessageBatchRequestEntry.MessageAttributes": "MessageAttribute",
        "SendMessageBatchRequestEntry.MessageSystemAttributes": "MessageSystemAttribute",
        "Message.Attributes": "Attribute",
        "Message.MessageAttributes": "MessageAttribute",
        "MessageAttributeValue.StringListValues": "StringListValue",
        "MessageAttributeValue.BinaryListValues": "BinaryListValue",
        "MessageSystemAttributeValue.StringListValues": "StringListValue",
        "MessageSystemAttributeValue.BinaryListValues": "BinaryListValue",
        # list items
        "AWSAccountIdList.member": "AWSAccountId",
        "ActionNameList.member": "ActionName",
        "AttributeNameList.member": "AttributeName",
        "MessageAttributeNameList.member": "MessageAttributeName",
        "TagKeyList.member": "TagKey",
        "QueueUrlList.member": "QueueUrl",
        "MessageList.member": "Message",
        "StringList.member": "StringListValue",
        "BinaryList.member": "BinaryListValue",
        "BatchResultErrorEntryList.member": "BatchResultErrorEntry",
        "SendMessageBatchRequestEntryList.member": "SendMessageBatchRequestEntry",
        "SendMessageBatchResultEntryList.member": "SendMessageBatchResultEntry",
        "DeleteMessageBatchRequestEntryList.member": "DeleteMessageBatchRequestEntry",
        "DeleteMessageBatchResultEntryList.member": "DeleteMessageBatchResultEntry",
        "ChangeMessageVisibilityBatchRequestEntryList.member": "ChangeMessageVisibilityBatchRequestEntry",
        "ChangeMessageVisibilityBatchResultEntryList.member": "ChangeMessageVisibilityBatchResultEntry",
        "ListMessageMoveTasksResultEntryList.member": "ListMessageMoveTasksResultEntry",
        # map entries
        "QueueAttributeMap.key": "Name",
        "QueueAttributeMap.value": "Value",
        "MessageSystemAttributeMap.key": "Name",
        "MessageSystemAttributeMap.value": "Value",
        "MessageBodyAttributeMap.key": "Name",
        "MessageBodyAttributeMap.value": "Value",
        "MessageBodySystemAttributeMap.key": "Name",
        "MessageBodySystemAttributeMap.value": "Value",
        "TagMap.key": "Key",
        "TagMap.value": "Value",
    },
)

#: botocore service name -> its table. Only JSON-model services spoken over query need one.
TABLES: dict[str, QueryCompat] = {"sqs": SQS}


def compat_for(service: ServiceModel, protocol: str) -> QueryCompat | None:
    """The table for `service` spoken over `protocol`, if it needs one.

    Only ``query`` to a service whose model does not itself speak query: there the
    model's own names are the truth.
    """
    if protocol != "query":
        return None
    table = TABLES.get(service.service_name)
    if table is None:
        return None
    meta = service.metadata
    if "query" in (meta.get("protocols") or (meta.get("protocol"),)):
        return None
    return table


# -- naming -----------------------------------------------------------------------------


def _item_name(names: Mapping[str, str], shape: Shape) -> str | None:
    return names.get(f"{shape.name}.member") or shape.member.serialization.get("name")


def member_tag(names: Mapping[str, str], parent: Shape, name: str, member: Shape) -> str:
    """The wire name of `parent.name`: botocore's rule (a flattened list is spelled with
    its item's name, else the member's name), reading the table before the model."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        item = _item_name(names, member)
        if item:
            return str(item)
    return str(names.get(f"{parent.name}.{name}") or member.serialization.get("name") or name)


def _model_tag(parent: Shape, name: str, member: Shape) -> str:
    return member_tag({}, parent, name, member)


def _container_fields(names: Mapping[str, str], shape: Shape) -> dict[str, Any]:
    """The decoder's item / key / value spelling of a list or map shape, from the table."""
    fields: dict[str, Any] = {}
    if shape.type_name == "list":
        item = names.get(f"{shape.name}.member")
        if item and not shape.serialization.get("flattened"):
            fields["member"] = item
    elif shape.type_name == "map":
        for part in ("key", "value"):
            found = names.get(f"{shape.name}.{part}")
            if found:
                fields[part] = found
    return fields


def _shapes(service: ServiceModel) -> list[Shape]:
    return [service.shape_for(n) for n in service.shape_names]


def _renamed_members(service: ServiceModel, names: Mapping[str, str]) -> dict[str, str]:
    """``"Structure.Member" -> tag`` for every member whose wire name the table changes."""
    out: dict[str, str] = {}
    for shape in _shapes(service):
        if shape.type_name != "structure":
            continue
        for name, member in shape.members.items():
            tag = member_tag(names, shape, name, member)
            if tag != _model_tag(shape, name, member):
                out[f"{shape.name}.{name}"] = tag
    return out


def wire_names(service: ServiceModel, compat: QueryCompat) -> dict[str, dict[str, Any]]:
    """:class:`QueryDecoder` ``wire_names`` overrides: ``"Shape.Member"`` for members,
    ``"Shape."`` for lists and maps reached through another list or map."""
    names = compat.names
    renamed = _renamed_members(service, names)
    out: dict[str, dict[str, Any]] = {}
    for shape in _shapes(service):
        if shape.type_name in ("list", "map"):
            fields = _container_fields(names, shape)
            if fields:
                out[f"{shape.name}."] = fields
        elif shape.type_name == "structure":
            for name, member in shape.members.items():
                key = f"{shape.name}.{name}"
                fields = _container_fields(names, member)
                if key in renamed:
                    fields["name"] = renamed[key]
                if fields:
                    out[key] = fields
    return out


def query_wire(service: ServiceModel, compat: QueryCompat) -> QueryWire:
    """The encoder's :class:`QueryWire`: member tags resolved by :func:`member_tag`,
    item and entry names as the table states them, a result wrapper per operation."""
    names = compat.names
    resolved = {k: v for k, v in names.items() if k.endswith((".member", ".key", ".value"))}
    resolved.update(_renamed_members(service, names))
    wrappers = {}
    for op_name in service.operation_names:
        if service.operation_model(op_name).output_shape is not None:
            wrappers[op_name] = op_name + compat.result_suffix
    return QueryWire(namespace=compat.namespace, result_wrappers=wrappers, names=resolved)


# -- codecs -----------------------------------------------------------------------------


def request_url(req: Request) -> str:
    """The URL a client posted to (the queue URL, for Java v1's SQS client)."""
    scheme = req.headers.get("x-forwarded-proto") or "http"
    host = req.host or "localhost"
    return f"{scheme}://{host}{req.path.rstrip('/')}"


class CompatQueryDecoder(QueryDecoder):
    """:class:`QueryDecoder` with the table's names, the URL member read from the
    request URL when the form leaves it out, and a flattened list given one value
    without an index (``AttributeName=All``, as SQS's own query examples write it)."""

    def __init__(self, service: ServiceModel, compat: QueryCompat) -> None:
        super().__init__(service, wire_names=wire_names(service, compat), bare_items=True)
        self._url_member = compat.url_member
        self._takes_url: dict[str, bool] = {}

    def decode(self, req: Request) -> tuple[OperationModel, dict[str, Any]]:
        op, params = super().decode(req)
        member = self._url_member
        if member is None or member in params or len(req.path) <= 1:
            return op, params
        takes = self._takes_url.get(op.name)
        if takes is None:
            shape = op.input_shape
            takes = self._takes_url[op.name] = shape is not None and member in shape.members
        if takes:
            params[member] = request_url(req)
        return op, params


def compat_encoder(service: ServiceModel, compat: QueryCompat) -> QueryEncoder:
    return QueryEncoder(service, wire=query_wire(service, compat))
