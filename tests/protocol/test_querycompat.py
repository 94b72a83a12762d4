"""SQS over the query protocol: what SDKs from before its JSON switch send and read.

The always-on tests pin the wire of AWS's documented query examples (request forms and
XML answers, written the way SQS's API reference shows them) against our codec on the
current JSON model plus ``querycompat.SQS``. The reference test runs botocore itself on
the OLD query model, when ``CLOUDLET_OLD_SQS_MODEL`` points at its ``service-2.json``
(any botocore before 1.32, e.g. 1.31.0): for every operation botocore serializes seeded
input and we must decode it; we encode seeded output and every modeled error and
botocore's query parser must read them back. ``CLOUDLET_DEEP=N`` runs N samples.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import zlib
from typing import Any

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.protocol import codec
from cloudlet.protocol.decode.query import QueryDecoder
from cloudlet.protocol.encode.query import QueryEncoder
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import load_service
from cloudlet.protocol.querycompat import SQS, TABLES, CompatQueryDecoder, compat_for, wire_names
from cloudlet.server.routing import route

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
QUEUE = "https://sqs.us-east-2.amazonaws.com/123456789012/MyQueue"
RID = "b6633655-283d-45b4-aee4-4e84e0ae6afa"
FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8", "host": "sqs.us-east-2.amazonaws.com"}
OLD_MODEL = os.environ.get("CLOUDLET_OLD_SQS_MODEL")
SAMPLES = max(1, int(os.environ.get("CLOUDLET_DEEP", "0") or 0))


def decode(body: str, path: str = "/", method: str = "POST") -> tuple[str, dict[str, Any]]:
    """Decode a form the way the gateway does: the codec chosen for (sqs, query)."""
    body = re.sub(r"\s+", "", body)  # written one field a line, like the AWS examples
    if method == "GET":
        req = Request("GET", path, body, dict(FORM))
    else:
        req = Request("POST", path, "", dict(FORM), body.encode())
    op, params = codec.decoder("sqs", "query").decode(req)
    return op.name, params


def encode(op: str, output: dict[str, Any]) -> str:
    model = load_service("sqs")
    resp = codec.encoder("sqs", "query").encode(model.operation_model(op), output, RID)
    assert resp.status == 200 and ("Content-Type", "text/xml") in resp.headers
    return resp.body.decode()


def xml(text: str) -> str:
    """An AWS example as one line: no whitespace between elements, our XML declaration."""
    return '<?xml version="1.0" encoding="UTF-8"?>' + re.sub(r">\s+<", "><", text.strip())


def response(op: str, result: str) -> str:
    return xml(
        f'<{op}Response xmlns="{NS}"><{op}Result>{result}</{op}Result>'
        f"<ResponseMetadata><RequestId>{RID}</RequestId></ResponseMetadata></{op}Response>"
    )


# the table and its wiring ----------------------------------------------------------------


def test_every_name_in_the_table_names_something_in_the_current_model() -> None:
    """A renamed shape or member in a newer botocore must fail here, not on the wire."""
    for service, table in TABLES.items():
        model = load_service(service)
        shapes = set(model.shape_names)
        for key in table.names:
            owner, _, part = key.rpartition(".")
            assert owner in shapes, key
            shape = model.shape_for(owner)
            if part == "member":
                assert shape.type_name == "list", key
            elif part in ("key", "value"):
                assert shape.type_name == "map", key
            else:
                assert shape.type_name == "structure" and part in shape.members, key


def test_codec_uses_the_table_only_for_query_to_a_json_model() -> None:
    sqs = load_service("sqs")
    assert compat_for(sqs, "query") is SQS
    assert compat_for(sqs, "json") is None
    assert compat_for(load_service("sns"), "query") is None  # a query model names itself
    assert isinstance(codec.decoder("sqs", "query"), CompatQueryDecoder)
    assert type(codec.decoder("sns", "query")) is QueryDecoder
    assert type(codec.decoder("sqs", "json")).__name__ == "JsonDecoder"
    assert isinstance(codec.encoder("sqs", "query"), QueryEncoder)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {"host": "localhost:4566", "authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"}),
        ("/000000000000/q", {"host": "localhost:4566", "authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=0"}),
        ("/000000000000/q", {"host": "sqs.us-east-1.localhost"}),
        ("/000000000000/q", {"host": "sqs.us-east-1.localhost:4566"}),
        ("/", {"host": "localhost:4566"}),
    ],
    ids=["signed-root", "signed-queue-url", "unsigned-queue-host", "unsigned-queue-host-port", "unsigned-root"],
)
def test_form_posts_route_to_sqs_over_query(path: str, headers: dict[str, str]) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8", **headers}
    for action in load_service("sqs").operation_names:
        got = route(Request("POST", path, "", headers, f"Action={action}&Version=2012-11-05".encode()))
        assert got is not None and (got.service, got.protocol) == ("sqs", "query"), action


# requests ----------------------------------------------------------------------------------


def test_send_message_with_string_binary_and_list_attributes() -> None:
    op, params = decode(f"""
        Action=SendMessage&Version=2012-11-05&QueueUrl={QUEUE}
        &MessageBody=This+is+a+test+message&DelaySeconds=45
        &MessageAttribute.1.Name=my_attribute_name_1
        &MessageAttribute.1.Value.StringValue=my_attribute_value_1
        &MessageAttribute.1.Value.DataType=String
        &MessageAttribute.2.Name=my_binary
        &MessageAttribute.2.Value.BinaryValue=AAEC%2Fw%3D%3D
        &MessageAttribute.2.Value.DataType=Binary
        &MessageAttribute.3.Name=colours
        &MessageAttribute.3.Value.DataType=String
        &MessageAttribute.3.Value.StringListValue.1=red
        &MessageAttribute.3.Value.StringListValue.2=green
        &MessageAttribute.3.Value.BinaryListValue.1=AQ%3D%3D
        &MessageSystemAttribute.1.Name=AWSTraceHeader
        &MessageSystemAttribute.1.Value.DataType=String
        &MessageSystemAttribute.1.Value.StringValue=Root%3D1-5759e988-bd862e3fe1be46a994272793
        &MessageDeduplicationId=d&MessageGroupId=g""")
    assert op == "SendMessage"
    assert params == {
        "QueueUrl": QUEUE,
        "MessageBody": "This is a test message",
        "DelaySeconds": 45,
        "MessageAttributes": {
            "my_attribute_name_1": {"StringValue": "my_attribute_value_1", "DataType": "String"},
            "my_binary": {"BinaryValue": b"\x00\x01\x02\xff", "DataType": "Binary"},
            "colours": {"DataType": "String", "StringListValues": ["red", "green"], "BinaryListValues": [b"\x01"]},
        },
        "MessageSystemAttributes": {
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}
        },
        "MessageDeduplicationId": "d",
        "MessageGroupId": "g",
    }


def test_queue_url_comes_from_the_url_when_the_form_leaves_it_out() -> None:
    """Java v1 moves QueueUrl into the request URL; SQS's own examples post there too."""
    assert decode("Action=ListQueueTags", path="/177715257436/MyQueue") == (
        "ListQueueTags", {"QueueUrl": "http://sqs.us-east-2.amazonaws.com/177715257436/MyQueue"})
    # a GET with the action in the query string, trailing slash as in the old examples
    op, params = decode("Action=SendMessage&MessageBody=Your%20message%20text&Version=2012-11-05",
                        path="/123456789012/MyQueue/", method="GET")
    assert (op, params) == ("SendMessage", {
        "MessageBody": "Your message text", "QueueUrl": "http://sqs.us-east-2.amazonaws.com/123456789012/MyQueue"})
    # a QueueUrl in the form wins; an operation without one gets none; "/" is no queue
    assert decode(f"Action=PurgeQueue&QueueUrl={QUEUE}", path="/1/other")[1] == {"QueueUrl": QUEUE}
    assert decode("Action=ListQueues", path="/123456789012/MyQueue")[1] == {}
    assert decode("Action=PurgeQueue")[1] == {}


def test_send_message_batch() -> None:
    op, params = decode(f"""
        Action=SendMessageBatch&QueueUrl={QUEUE}
        &SendMessageBatchRequestEntry.1.Id=test_msg_001
        &SendMessageBatchRequestEntry.1.MessageBody=test%20message%20body%201
        &SendMessageBatchRequestEntry.2.Id=test_msg_002
        &SendMessageBatchRequestEntry.2.MessageBody=test%20message%20body%202
        &SendMessageBatchRequestEntry.2.DelaySeconds=60
        &SendMessageBatchRequestEntry.2.MessageAttribute.1.Name=test_attribute_name_1
        &SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue=test_attribute_value_1
        &SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType=String""")
    assert op == "SendMessageBatch"
    assert params == {"QueueUrl": QUEUE, "Entries": [
        {"Id": "test_msg_001", "MessageBody": "test message body 1"},
        {"Id": "test_msg_002", "MessageBody": "test message body 2", "DelaySeconds": 60, "MessageAttributes": {
            "test_attribute_name_1": {"StringValue": "test_attribute_value_1", "DataType": "String"}}},
    ]}


def test_receive_message_request() -> None:
    op, params = decode(f"""
        Action=ReceiveMessage&QueueUrl={QUEUE}&MaxNumberOfMessages=5&VisibilityTimeout=15
        &WaitTimeSeconds=20&AttributeName.1=SenderId&AttributeName.2=SentTimestamp
        &MessageAttributeName.1=colour&MessageAttributeName.2=size&ReceiveRequestAttemptId=a1""")
    assert op == "ReceiveMessage"
    assert params == {"QueueUrl": QUEUE, "MaxNumberOfMessages": 5, "VisibilityTimeout": 15, "WaitTimeSeconds": 20,
                      "AttributeNames": ["SenderId", "SentTimestamp"], "MessageAttributeNames": ["colour", "size"],
                      "ReceiveRequestAttemptId": "a1"}
    # SQS's API reference writes one unindexed name: AttributeName=All
    assert decode(f"Action=ReceiveMessage&QueueUrl={QUEUE}&AttributeName=All")[1]["AttributeNames"] == ["All"]
    # botocore sends an empty list under the member's own name
    assert decode(f"Action=ReceiveMessage&QueueUrl={QUEUE}&AttributeNames=")[1]["AttributeNames"] == []


def test_a_bare_unindexed_item_is_a_decoder_option_not_an_override() -> None:
    """``bare_items`` is the query decoder's own switch: off, ``Name=value`` for a
    flattened list is a 400 as before; the compat decoder only turns it on."""
    sqs = load_service("sqs")
    req = Request("POST", "/", "", dict(FORM), f"Action=ReceiveMessage&QueueUrl={QUEUE}&AttributeName=All".encode())
    names = wire_names(sqs, SQS)
    assert QueryDecoder(sqs, names, bare_items=True).decode(req)[1]["AttributeNames"] == ["All"]
    with pytest.raises(ServiceError) as info:
        QueryDecoder(sqs, names).decode(req)
    assert info.value.status == 400


def test_get_queue_attributes_request() -> None:
    assert decode(f"Action=GetQueueAttributes&QueueUrl={QUEUE}&AttributeName.1=All") == (
        "GetQueueAttributes", {"QueueUrl": QUEUE, "AttributeNames": ["All"]})


def test_create_queue_with_attributes_and_tags() -> None:
    op, params = decode("""
        Action=CreateQueue&QueueName=MyQueue
        &Attribute.1.Name=DelaySeconds&Attribute.1.Value=45
        &Attribute.2.Name=Policy&Attribute.2.Value=%7B%22Version%22%3A%222012-10-17%22%7D
        &Tag.1.Key=QueueType&Tag.1.Value=Production&Tag.2.Key=Owner&Tag.2.Value=""")
    assert op == "CreateQueue"
    assert params == {"QueueName": "MyQueue", "Attributes": {"DelaySeconds": "45", "Policy": '{"Version":"2012-10-17"}'},
                      "tags": {"QueueType": "Production", "Owner": ""}}


def test_list_delete_tag_and_permission_requests() -> None:
    assert decode("Action=ListQueues&QueueNamePrefix=t&MaxResults=10&NextToken=n") == (
        "ListQueues", {"QueueNamePrefix": "t", "MaxResults": 10, "NextToken": "n"})
    assert decode(f"""Action=DeleteMessageBatch&QueueUrl={QUEUE}
        &DeleteMessageBatchRequestEntry.1.Id=msg1&DeleteMessageBatchRequestEntry.1.ReceiptHandle=gfk0T0R0w%2Bb
        &DeleteMessageBatchRequestEntry.2.Id=msg2&DeleteMessageBatchRequestEntry.2.ReceiptHandle=gfk0T0R0x""") == (
        "DeleteMessageBatch", {"QueueUrl": QUEUE, "Entries": [
            {"Id": "msg1", "ReceiptHandle": "gfk0T0R0w+b"}, {"Id": "msg2", "ReceiptHandle": "gfk0T0R0x"}]})
    assert decode(f"Action=ChangeMessageVisibilityBatch&QueueUrl={QUEUE}"
                  "&ChangeMessageVisibilityBatchRequestEntry.1.Id=a"
                  "&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=r"
                  "&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=45")[1]["Entries"] == [
        {"Id": "a", "ReceiptHandle": "r", "VisibilityTimeout": 45}]
    assert decode(f"Action=TagQueue&QueueUrl={QUEUE}&Tag.1.Key=QueueType&Tag.1.Value=Production")[1] == {
        "QueueUrl": QUEUE, "Tags": {"QueueType": "Production"}}
    assert decode(f"Action=UntagQueue&QueueUrl={QUEUE}&TagKey.1=QueueType&TagKey.2=Owner")[1] == {
        "QueueUrl": QUEUE, "TagKeys": ["QueueType", "Owner"]}
    assert decode(f"""Action=AddPermission&QueueUrl={QUEUE}&Label=MyLabel
        &AWSAccountId.1=177715257436&AWSAccountId.2=111111111111
        &ActionName.1=SendMessage&ActionName.2=ReceiveMessage""")[1] == {
        "QueueUrl": QUEUE, "Label": "MyLabel", "AWSAccountIds": ["177715257436", "111111111111"],
        "Actions": ["SendMessage", "ReceiveMessage"]}
    assert decode(f"Action=SetQueueAttributes&QueueUrl={QUEUE}&Attribute.1.Name=VisibilityTimeout"
                  "&Attribute.1.Value=35")[1] == {
        "QueueUrl": QUEUE, "Attributes": {"VisibilityTimeout": "35"}}


@pytest.mark.parametrize("body", [
    "Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.1.Name=a&MessageAttribute.1.Value.BinaryValue=%%%",
    "Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.x.Name=a",
    "Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.1.Value.DataType=String",
    "Action=SendMessage&QueueUrl=q&MessageBody=b&DelaySeconds=soon",
    "Action=SendMessageBatch&QueueUrl=q&SendMessageBatchRequestEntry=x",
    "Action=ReceiveMessage&QueueUrl=q&AttributeName.1.x=All",
    "Action=SendMessage&QueueUrl=q&QueueUrl.1=q",
])
def test_bad_forms_are_400s(body: str) -> None:
    with pytest.raises(ServiceError) as info:
        codec.decoder("sqs", "query").decode(Request("POST", "/", "", dict(FORM), body.encode()))
    assert info.value.status == 400


# responses ------------------------------------------------------------------------------------


def test_send_message_response() -> None:
    out = {"MD5OfMessageBody": "fafb00f5732ab283681e124bf8747ed1",
           "MD5OfMessageAttributes": "3ae8f24a165a8cedc005670c81a27295",
           "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274"}
    assert encode("SendMessage", out) == response("SendMessage", """
        <MD5OfMessageBody>fafb00f5732ab283681e124bf8747ed1</MD5OfMessageBody>
        <MD5OfMessageAttributes>3ae8f24a165a8cedc005670c81a27295</MD5OfMessageAttributes>
        <MessageId>5fea7756-0ea4-451a-a703-a558b933e274</MessageId>""")


def test_send_message_batch_response() -> None:
    out = {"Successful": [
        {"Id": "test_msg_001", "MessageId": "0a5231c7-8bff-4955-be2e-8dc7c50a25fa",
         "MD5OfMessageBody": "0e024d309850c78cba5eabbeff7cae71"},
        {"Id": "test_msg_002", "MessageId": "15ee1ed3-87e7-40c1-bdaa-2e49968ea7e9",
         "MD5OfMessageBody": "7fb8146a82f95e0af155278f406862c2",
         "MD5OfMessageAttributes": "295c5fa15a51aae6884d1d7c1d99ca50"}],
        "Failed": [{"Id": "test_msg_003", "SenderFault": True, "Code": "InvalidParameterValue",
                    "Message": "Message must be shorter than 262144 bytes."}]}
    assert encode("SendMessageBatch", out) == response("SendMessageBatch", """
        <SendMessageBatchResultEntry>
            <Id>test_msg_001</Id>
            <MessageId>0a5231c7-8bff-4955-be2e-8dc7c50a25fa</MessageId>
            <MD5OfMessageBody>0e024d309850c78cba5eabbeff7cae71</MD5OfMessageBody>
        </SendMessageBatchResultEntry>
        <SendMessageBatchResultEntry>
            <Id>test_msg_002</Id>
            <MessageId>15ee1ed3-87e7-40c1-bdaa-2e49968ea7e9</MessageId>
            <MD5OfMessageBody>7fb8146a82f95e0af155278f406862c2</MD5OfMessageBody>
            <MD5OfMessageAttributes>295c5fa15a51aae6884d1d7c1d99ca50</MD5OfMessageAttributes>
        </SendMessageBatchResultEntry>
        <BatchResultErrorEntry>
            <Id>test_msg_003</Id>
            <SenderFault>true</SenderFault>
            <Code>InvalidParameterValue</Code>
            <Message>Message must be shorter than 262144 bytes.</Message>
        </BatchResultErrorEntry>""")


def test_receive_message_response() -> None:
    out = {"Messages": [{
        "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
        "ReceiptHandle": "MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw==",
        "MD5OfBody": "fafb00f5732ab283681e124bf8747ed1",
        "Body": "This is a test message",
        "Attributes": {"SenderId": "195004372649", "SentTimestamp": "1238099229000",
                       "ApproximateReceiveCount": "5", "ApproximateFirstReceiveTimestamp": "1250700979248"},
        "MessageAttributes": {
            "attr": {"StringValue": "v<&>", "DataType": "String"},
            "bin": {"BinaryValue": b"\x00\x01\x02\xff", "DataType": "Binary"},
            "list": {"StringListValues": ["a", "b"], "DataType": "String"}},
    }]}
    assert encode("ReceiveMessage", out) == response("ReceiveMessage", """
        <Message>
          <MessageId>5fea7756-0ea4-451a-a703-a558b933e274</MessageId>
          <ReceiptHandle>MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw==</ReceiptHandle>
          <MD5OfBody>fafb00f5732ab283681e124bf8747ed1</MD5OfBody>
          <Body>This is a test message</Body>
          <Attribute><Name>SenderId</Name><Value>195004372649</Value></Attribute>
          <Attribute><Name>SentTimestamp</Name><Value>1238099229000</Value></Attribute>
          <Attribute><Name>ApproximateReceiveCount</Name><Value>5</Value></Attribute>
          <Attribute><Name>ApproximateFirstReceiveTimestamp</Name><Value>1250700979248</Value></Attribute>
          <MessageAttribute>
            <Name>attr</Name><Value><StringValue>v&lt;&amp;&gt;</StringValue><DataType>String</DataType></Value>
          </MessageAttribute>
          <MessageAttribute>
            <Name>bin</Name><Value><BinaryValue>AAEC/w==</BinaryValue><DataType>Binary</DataType></Value>
          </MessageAttribute>
          <MessageAttribute>
            <Name>list</Name>
            <Value><StringListValue>a</StringListValue><StringListValue>b</StringListValue><DataType>String</DataType></Value>
          </MessageAttribute>
        </Message>""")
    assert encode("ReceiveMessage", {"Messages": []}) == response("ReceiveMessage", "")


def test_get_queue_attributes_response() -> None:
    out = {"Attributes": {"ReceiveMessageWaitTimeSeconds": "2", "VisibilityTimeout": "30",
                          "QueueArn": "arn:aws:sqs:us-east-2:123456789012:MyQueue"}}
    assert encode("GetQueueAttributes", out) == response("GetQueueAttributes", """
        <Attribute><Name>ReceiveMessageWaitTimeSeconds</Name><Value>2</Value></Attribute>
        <Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>
        <Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-2:123456789012:MyQueue</Value></Attribute>""")


def test_list_queues_and_list_queue_tags_responses() -> None:
    assert encode("ListQueues", {"QueueUrls": [QUEUE, QUEUE + "2"], "NextToken": "t"}) == response("ListQueues", f"""
        <QueueUrl>{QUEUE}</QueueUrl><QueueUrl>{QUEUE}2</QueueUrl><NextToken>t</NextToken>""")
    assert encode("ListQueueTags", {"Tags": {"QueueType": "Production"}}) == response("ListQueueTags", """
        <Tag><Key>QueueType</Key><Value>Production</Value></Tag>""")
    assert encode("ListDeadLetterSourceQueues", {"queueUrls": [QUEUE]}) == response(
        "ListDeadLetterSourceQueues", f"<QueueUrl>{QUEUE}</QueueUrl>")


def test_delete_message_batch_response_with_a_failed_entry() -> None:
    out = {"Successful": [{"Id": "msg1"}],
           "Failed": [{"Id": "msg2", "Code": "ReceiptHandleIsInvalid", "Message": "The input receipt handle is invalid.",
                       "SenderFault": True}]}
    assert encode("DeleteMessageBatch", out) == response("DeleteMessageBatch", """
        <DeleteMessageBatchResultEntry><Id>msg1</Id></DeleteMessageBatchResultEntry>
        <BatchResultErrorEntry>
            <Id>msg2</Id>
            <Code>ReceiptHandleIsInvalid</Code>
            <Message>The input receipt handle is invalid.</Message>
            <SenderFault>true</SenderFault>
        </BatchResultErrorEntry>""")


def test_create_queue_response_and_an_operation_without_output() -> None:
    assert encode("CreateQueue", {"QueueUrl": QUEUE}) == response("CreateQueue", f"<QueueUrl>{QUEUE}</QueueUrl>")
    assert encode("DeleteQueue", {}) == xml(
        f'<DeleteQueueResponse xmlns="{NS}"><ResponseMetadata><RequestId>{RID}</RequestId>'
        "</ResponseMetadata></DeleteQueueResponse>")


def test_error_carries_the_legacy_code() -> None:
    model = load_service("sqs")
    enc = codec.encoder("sqs", "query")
    err = ServiceError("QueueDoesNotExist", "The specified queue does not exist.", 400,
                       query_code="AWS.SimpleQueueService.NonExistentQueue")
    resp = enc.encode_error(model.operation_model("GetQueueUrl"), err, RID)
    assert resp.status == 400
    assert resp.body.decode() == xml(f"""
        <ErrorResponse xmlns="{NS}">
          <Error>
            <Type>Sender</Type>
            <Code>AWS.SimpleQueueService.NonExistentQueue</Code>
            <Message>The specified queue does not exist.</Message>
          </Error>
          <RequestId>{RID}</RequestId>
        </ErrorResponse>""")
    # without a legacy code the model's code goes out; a server fault is the Receiver's
    resp = enc.encode_error(None, ServiceError("InternalError", "oops", 500), RID)
    assert resp.status == 500 and "<Type>Receiver</Type><Code>InternalError</Code>" in resp.body.decode()


# botocore on the old query model as the reference -----------------------------------------------

needs_old_model = pytest.mark.skipif(not OLD_MODEL, reason="set CLOUDLET_OLD_SQS_MODEL to an old sqs service-2.json")


def _old_model() -> Any:
    from botocore.model import ServiceModel

    with open(OLD_MODEL or "", encoding="utf-8") as f:
        raw = json.load(f)
    if raw["metadata"].get("protocol") != "query":
        pytest.fail(f"{OLD_MODEL} is not a query model")
    return ServiceModel(raw, service_name="sqs")


def _seed(*parts: object) -> int:
    return zlib.crc32(".".join(map(str, parts)).encode())


def _gen(op: str, sample: int, kind: str) -> Any:
    from tests.protocol.shapegen import ShapeGen

    rng = random.Random(_seed("sqs-compat", kind, op, sample))
    return ShapeGen(rng) if sample % 2 == 0 else ShapeGen(rng, max_depth=6, optional_p=1.0)


@needs_old_model
def test_old_botocore_requests_decode_on_the_new_model() -> None:
    from tests.protocol.botocore_oracle import botocore_request
    from tests.protocol.test_decode import expected

    old = _old_model()
    dec = codec.decoder("sqs", "query")
    failures = []
    for name in old.operation_names:
        op = old.operation_model(name)
        for sample in range(SAMPLES):
            params = _gen(name, sample, "in").gen(op.input_shape) if op.input_shape is not None else {}
            req = botocore_request(op, params, "query")
            try:
                got_op, got = dec.decode(req)
                assert got_op.name == name
                assert got == expected(op, params, "query", req)
            except Exception as err:  # collect all, so one run shows every broken op
                failures.append(f"{name}[{sample}]: {type(err).__name__}: {str(err)[:1500]}")
    assert not failures, "\n".join(failures[:10])


@needs_old_model
def test_old_botocore_parses_what_we_encode() -> None:
    from tests.protocol.test_encode import botocore_parse, expected_value

    old, new = _old_model(), load_service("sqs")
    enc = codec.encoder("sqs", "query")
    failures = []
    for name in old.operation_names:
        op = old.operation_model(name)
        for sample in range(SAMPLES):
            shape = op.output_shape
            output = _gen(name, sample, "out").gen(shape) if shape is not None else {}
            try:
                resp = enc.encode(new.operation_model(name), output, RID)
                parsed = botocore_parse("query", op, resp)
                assert parsed.pop("ResponseMetadata")["RequestId"] == RID
                assert parsed == (expected_value(shape, output, True) if shape is not None else {})
            except Exception as err:
                failures.append(f"{name}[{sample}]: {type(err).__name__}: {str(err)[:1500]}")
    assert not failures, "\n".join(failures[:10])


@needs_old_model
def test_old_botocore_reads_every_modeled_error_by_its_legacy_code() -> None:
    from tests.protocol.test_encode import botocore_parse

    old, new = _old_model(), load_service("sqs")
    enc = codec.encoder("sqs", "query")
    seen = 0
    for name in old.operation_names:
        op = old.operation_model(name)
        for shape in op.error_shapes:
            legacy = shape.error_code
            meta = shape.metadata.get("error", {})
            status = int(meta.get("httpStatusCode", 400))
            err = ServiceError(shape.name, "it went <wrong> & \u2713", status,
                               query_code=legacy if legacy != shape.name else None)
            resp = enc.encode_error(new.operation_model(name), err, RID)
            parsed = botocore_parse("query", op, resp)
            assert resp.status == status
            assert parsed["Error"]["Code"] == legacy, (name, shape.name)
            assert parsed["Error"]["Message"] == "it went <wrong> & \u2713"
            assert parsed["Error"]["Type"] == "Sender"
            assert parsed["ResponseMetadata"]["RequestId"] == RID
            assert old.shape_for_error_code(legacy) is not None  # the SDK raises its modeled exception
            seen += 1
    assert seen >= 30


@needs_old_model
def test_the_table_holds_exactly_the_old_models_names() -> None:
    """Every element name the old model states (resolved as botocore resolves member
    references) and the current one lost is in the table, and nothing else is."""
    old, new = _old_model(), load_service("sqs")
    want: dict[str, str] = {}
    for shape_name in old.shape_names:
        shape = old.shape_for(shape_name)
        if shape_name not in new.shape_names:
            assert shape.type_name not in ("structure", "list", "map"), shape_name
            continue  # a scalar renamed (Integer -> NullableInteger): no wire name
        now = new.shape_for(shape_name)
        if shape.type_name == "structure":
            for m, member in shape.members.items():
                name = member.serialization.get("name")
                if name and name != now.members[m].serialization.get("name"):
                    want[f"{shape_name}.{m}"] = name
        elif shape.type_name == "list":
            name = shape.member.serialization.get("name")
            if name:
                want[f"{shape_name}.member"] = name
        elif shape.type_name == "map":
            for part in ("key", "value"):
                name = getattr(shape, part).serialization.get("name")
                if name:
                    want[f"{shape_name}.{part}"] = name
    assert dict(SQS.names) == want
    assert SQS.namespace == old.metadata["xmlNamespace"]
    for name in old.operation_names:
        output = old.operation_model(name).output_shape
        if output is not None:
            assert output.serialization.get("resultWrapper") == name + SQS.result_suffix


def test_binary_values_round_trip_through_base64() -> None:
    """A blob in a form is base64 text; a bad one is the client's error, not ours."""
    raw = bytes(range(256))
    text = base64.b64encode(raw).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    _, params = decode(f"Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.1.Name=n"
                       f"&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue={text}")
    assert params["MessageAttributes"]["n"]["BinaryValue"] == raw
