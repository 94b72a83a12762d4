"""SQS over the old query protocol, as SDKs from before the JSON switch speak it: signed
form POSTs (to ``/`` or, like Java v1, to the queue URL itself) answered in XML.

boto3 can no longer speak query to SQS, so these post raw forms, signed with botocore's
SigV4 signer, and read the XML with ElementTree.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.services.test_sqs import fresh_account
from tests.services.test_sqs_messages import PUBLISHED

NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}


def post(cloud, key: str, form: dict[str, str], path: str = "/") -> tuple[int, ET.Element]:
    body = urlencode({**form, "Version": "2012-11-05"})
    req = AWSRequest("POST", cloud.endpoint + path, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, "test"), "sqs", "us-east-1").add_auth(req)
    http = urllib.request.Request(req.url, data=body.encode(), headers=dict(req.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=10) as resp:
            return resp.status, ET.fromstring(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, ET.fromstring(err.read())


def text(root: ET.Element, path: str) -> str | None:
    node = root.find(path, NS)
    return None if node is None else node.text


def test_create_send_receive_delete_over_query(cloud):
    key = fresh_account()
    status, root = post(cloud, key, {"Action": "CreateQueue", "QueueName": "legacy",
                                     "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"})
    assert status == 200 and root.tag == "{%s}CreateQueueResponse" % NS["q"]
    url = text(root, "q:CreateQueueResult/q:QueueUrl")
    assert url == f"{cloud.endpoint}/{key}/legacy"
    assert text(root, "q:ResponseMetadata/q:RequestId")

    attributes, digest = PUBLISHED[0]
    (name, value), = attributes.items()
    status, root = post(cloud, key, {
        "Action": "SendMessage", "QueueUrl": url, "MessageBody": "from an old SDK",
        "MessageAttribute.1.Name": name, "MessageAttribute.1.Value.DataType": value["DataType"],
        "MessageAttribute.1.Value.StringValue": value["StringValue"],
    })
    assert status == 200
    assert text(root, "q:SendMessageResult/q:MD5OfMessageAttributes") == digest
    message_id = text(root, "q:SendMessageResult/q:MessageId")

    status, root = post(cloud, key, {"Action": "ReceiveMessage", "QueueUrl": url, "AttributeName": "All",
                                     "MessageAttributeName.1": "All"})
    assert status == 200
    msg = root.find("q:ReceiveMessageResult/q:Message", NS)
    assert text(msg, "q:MessageId") == message_id and text(msg, "q:Body") == "from an old SDK"
    system = {text(a, "q:Name"): text(a, "q:Value") for a in msg.findall("q:Attribute", NS)}
    assert system["ApproximateReceiveCount"] == "1" and system["SenderId"] == key
    (attr,) = msg.findall("q:MessageAttribute", NS)
    assert (text(attr, "q:Name"), text(attr, "q:Value/q:StringValue")) == (name, value["StringValue"])

    status, root = post(cloud, key, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "All"})
    got = {text(a, "q:Name"): text(a, "q:Value") for a in root.findall("q:GetQueueAttributesResult/q:Attribute", NS)}
    assert got["VisibilityTimeout"] == "40" and got["ApproximateNumberOfMessagesNotVisible"] == "1"

    status, root = post(cloud, key, {"Action": "DeleteMessage", "QueueUrl": url,
                                     "ReceiptHandle": text(msg, "q:ReceiptHandle")})
    assert status == 200 and root.tag == "{%s}DeleteMessageResponse" % NS["q"]


def test_posting_to_the_queue_url_names_the_queue(cloud):
    """Java v1 leaves QueueUrl out of the form and posts to the queue's URL."""
    key = fresh_account()
    _, root = post(cloud, key, {"Action": "CreateQueue", "QueueName": "javaq"})
    path = urlsplit(text(root, "q:CreateQueueResult/q:QueueUrl")).path
    status, _ = post(cloud, key, {"Action": "SendMessage", "MessageBody": "hi"}, path=path)
    assert status == 200
    status, root = post(cloud, key, {"Action": "ReceiveMessage"}, path=path)
    assert text(root, "q:ReceiveMessageResult/q:Message/q:Body") == "hi"


def test_query_errors_carry_the_legacy_codes(cloud):
    key = fresh_account()
    status, root = post(cloud, key, {"Action": "GetQueueUrl", "QueueName": "missing"})
    assert status == 400 and root.tag == "{%s}ErrorResponse" % NS["q"]
    assert text(root, "q:Error/q:Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert text(root, "q:Error/q:Type") == "Sender"
    post(cloud, key, {"Action": "CreateQueue", "QueueName": "q"})
    status, root = post(cloud, key, {"Action": "CreateQueue", "QueueName": "q",
                                     "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "5"})
    assert (status, text(root, "q:Error/q:Code")) == (400, "QueueAlreadyExists")


def test_batches_over_query(cloud):
    key = fresh_account()
    _, root = post(cloud, key, {"Action": "CreateQueue", "QueueName": "b"})
    url = text(root, "q:CreateQueueResult/q:QueueUrl")
    status, root = post(cloud, key, {
        "Action": "SendMessageBatch", "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "ok", "SendMessageBatchRequestEntry.1.MessageBody": "one",
        "SendMessageBatchRequestEntry.2.Id": "bad", "SendMessageBatchRequestEntry.2.MessageBody": "two",
        "SendMessageBatchRequestEntry.2.DelaySeconds": "1000",
    })
    assert status == 200
    result = root.find("q:SendMessageBatchResult", NS)
    assert [text(e, "q:Id") for e in result.findall("q:SendMessageBatchResultEntry", NS)] == ["ok"]
    (failed,) = result.findall("q:BatchResultErrorEntry", NS)
    assert (text(failed, "q:Id"), text(failed, "q:Code"), text(failed, "q:SenderFault")) == (
        "bad", "InvalidParameterValue", "true"
    )
