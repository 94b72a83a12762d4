"""SNS to SQS: the signed envelope, raw delivery, MessageStructure, FIFO topics to FIFO
queues (order, deduplication on the cloudlet clock), PublishBatch, dead-letter queues,
cross-account delivery through the queue policy."""

from __future__ import annotations

import base64
import json

import pytest

from tests.services.test_sns_support import drain, name, queue_arn, verify_signature


def _topic_and_queue(cloud, *, fifo=False, raw=False, **topic_attrs):
    sns, sqs = cloud.client("sns"), cloud.client("sqs")
    suffix = ".fifo" if fifo else ""
    attrs = {"FifoTopic": "true", **topic_attrs} if fifo else topic_attrs
    topic = sns.create_topic(Name=name("t") + suffix, Attributes=attrs)["TopicArn"]
    qattrs = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name("q") + suffix, Attributes=qattrs)["QueueUrl"]
    sub_attrs = {"RawMessageDelivery": "true"} if raw else {}
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url), Attributes=sub_attrs)[
        "SubscriptionArn"
    ]
    return sns, sqs, topic, url, arn


def test_enveloped_delivery_is_signed_and_shaped_like_aws(cloud):
    sns, sqs, topic, url, sub = _topic_and_queue(cloud)
    sent = sns.publish(
        TopicArn=topic, Message="hello", Subject="hi",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "blue"},
            "size": {"DataType": "Number", "StringValue": "12.5"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            "tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
        },
    )
    [msg] = drain(sqs, url, MessageAttributeNames=["All"])
    assert "MessageAttributes" not in msg  # enveloped: the attributes travel in the body
    doc = json.loads(msg["Body"])
    assert list(doc) == [
        "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature",
        "SigningCertURL", "UnsubscribeURL", "MessageAttributes",
    ]
    assert (doc["Type"], doc["MessageId"], doc["TopicArn"]) == ("Notification", sent["MessageId"], topic)
    assert (doc["Message"], doc["Subject"], doc["SignatureVersion"]) == ("hello", "hi", "1")
    assert doc["Timestamp"].endswith("Z") and len(doc["Timestamp"]) == 24
    assert doc["SigningCertURL"] == f"{cloud.endpoint}/_cloudlet/sns/cert.pem"
    assert doc["UnsubscribeURL"].startswith(f"{cloud.endpoint}/?Action=Unsubscribe&SubscriptionArn=")
    assert doc["MessageAttributes"] == {
        "color": {"Type": "String", "Value": "blue"},
        "size": {"Type": "Number", "Value": "12.5"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
        "tags": {"Type": "String.Array", "Value": '["a", "b"]'},
    }
    verify_signature(doc)


def test_no_subject_means_no_subject_key(cloud):
    sns, sqs, topic, url, _ = _topic_and_queue(cloud)
    sns.publish(TopicArn=topic, Message="plain")
    doc = json.loads(drain(sqs, url)[0]["Body"])
    assert "Subject" not in doc and "MessageAttributes" not in doc
    verify_signature(doc)


def test_raw_delivery_carries_attributes_as_sqs_attributes(cloud):
    sns, sqs, topic, url, _ = _topic_and_queue(cloud, raw=True)
    sns.publish(
        TopicArn=topic, Message="raw body",
        MessageAttributes={"n": {"DataType": "Number", "StringValue": "3"},
                           "b": {"DataType": "Binary", "BinaryValue": b"xyz"}},
    )
    [msg] = drain(sqs, url, MessageAttributeNames=["All"])
    assert msg["Body"] == "raw body"
    assert msg["MessageAttributes"] == {
        "n": {"DataType": "Number", "StringValue": "3"},
        "b": {"DataType": "Binary", "BinaryValue": b"xyz"},
    }


def test_message_structure_json_picks_the_sqs_entry(cloud):
    sns, sqs, topic, url, _ = _topic_and_queue(cloud, raw=True)
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "for sqs"}))
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "only default"}))
    assert [m["Body"] for m in drain(sqs, url)] in (["for sqs", "only default"], ["only default", "for sqs"])
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"sqs": "x"}))
    assert err.value.response["Error"]["Message"] == (
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    )


def test_fan_out_to_ten_queues(cloud):
    sns, sqs = cloud.client("sns"), cloud.client("sqs")
    topic = sns.create_topic(Name=name("fan"))["TopicArn"]
    urls = [sqs.create_queue(QueueName=name("fan-q"))["QueueUrl"] for _ in range(10)]
    for url in urls:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url))
    sent = sns.publish(TopicArn=topic, Message="to all")
    for url in urls:
        [msg] = drain(sqs, url)
        assert json.loads(msg["Body"])["MessageId"] == sent["MessageId"]


def test_fifo_topic_to_fifo_queue_keeps_order_and_deduplicates(cloud):
    sns, sqs, topic, url, _ = _topic_and_queue(cloud, fifo=True, raw=True)
    seqs = []
    for i in range(5):
        out = sns.publish(TopicArn=topic, Message=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}")
        seqs.append(int(out["SequenceNumber"]))
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    again = sns.publish(TopicArn=topic, Message="m0 again", MessageGroupId="g", MessageDeduplicationId="d0")
    got = []
    while True:
        batch = drain(sqs, url)
        if not batch:
            break
        got.extend(m["Body"] for m in batch)
    assert got == ["m0", "m1", "m2", "m3", "m4"]
    cloud.advance(301)  # the five-minute window is over: the same id is a new message
    later = sns.publish(TopicArn=topic, Message="m0 later", MessageGroupId="g", MessageDeduplicationId="d0")
    assert later["MessageId"] != again["MessageId"]
    assert [m["Body"] for m in drain(sqs, url)] == ["m0 later"]


def test_fifo_envelope_has_a_sequence_number(cloud):
    sns, sqs, topic, url, _ = _topic_and_queue(cloud, fifo=True, ContentBasedDeduplication="true")
    out = sns.publish(TopicArn=topic, Message="x", MessageGroupId="g1")
    dup = sns.publish(TopicArn=topic, Message="x", MessageGroupId="g1")  # same body: content-based dedup
    assert dup["MessageId"] == out["MessageId"]
    [msg] = drain(sqs, url, AttributeNames=["MessageGroupId"])
    assert msg["Attributes"]["MessageGroupId"] == "g1"
    doc = json.loads(msg["Body"])
    assert doc["SequenceNumber"] == out["SequenceNumber"]
    verify_signature(doc)


def test_fifo_rules(cloud):
    sns, sqs = cloud.client("sns"), cloud.client("sqs")
    topic = sns.create_topic(Name=name("f") + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    cases = [
        ({}, "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"),
        ({"MessageGroupId": "g"}, "Invalid parameter: The topic should either have ContentBasedDeduplication "
                                  "enabled or MessageDeduplicationId provided explicitly"),
    ]
    for extra, message in cases:
        with pytest.raises(sns.exceptions.InvalidParameterException) as err:
            sns.publish(TopicArn=topic, Message="m", **extra)
        assert err.value.response["Error"]["Message"] == message
    standard = sns.create_topic(Name=name("s"))["TopicArn"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=standard, Message="m", MessageDeduplicationId="d")
    fifo_q = sqs.create_queue(QueueName=name("fq") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.subscribe(TopicArn=standard, Protocol="sqs", Endpoint=queue_arn(sqs, fifo_q))
    assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in err.value.response["Error"]["Message"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com")


def test_publish_batch_reports_each_entry(cloud):
    sns, sqs, topic, url, _ = _topic_and_queue(cloud, raw=True)
    out = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "first"},
        {"Id": "b", "Message": "second", "Subject": "bad\nsubject"},
        {"Id": "c", "Message": "third", "MessageAttributes": {"x": {"DataType": "Nope", "StringValue": "1"}}},
        {"Id": "d", "Message": "fourth"},
    ])
    assert [e["Id"] for e in out["Successful"]] == ["a", "d"]
    assert {e["Id"]: e["Code"] for e in out["Failed"]} == {"b": "InvalidParameter", "c": "ParameterValueInvalid"}
    assert all(e["SenderFault"] for e in out["Failed"])
    assert sorted(m["Body"] for m in drain(sqs, url)) == ["first", "fourth"]


@pytest.mark.parametrize(
    "entries, code",
    [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "Message": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "x", "Message": "m"}, {"Id": "x", "Message": "n"}], "BatchEntryIdsNotDistinct"),
        ([{"Id": "bad id!", "Message": "m"}], "InvalidBatchEntryId"),
        ([{"Id": "a", "Message": "m" * 200_000}, {"Id": "b", "Message": "m" * 100_000}], "BatchRequestTooLong"),
    ],
)
def test_publish_batch_errors(cloud, entries, code):
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="batch-errors")["TopicArn"]
    with pytest.raises(sns.exceptions.ClientError) as err:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert err.value.response["Error"]["Code"] == code


def test_fifo_publish_batch_in_order(cloud):
    sns, sqs, topic, url, _ = _topic_and_queue(cloud, fifo=True, raw=True)
    out = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": f"e{i}", "Message": f"b{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"b{i}"} for i in range(4)
    ])
    assert len(out["Successful"]) == 4 and all("SequenceNumber" in e for e in out["Successful"])
    got = []
    while batch := drain(sqs, url):
        got.extend(m["Body"] for m in batch)
    assert got == ["b0", "b1", "b2", "b3"]


def test_deleted_queue_sends_to_the_subscription_dlq(cloud):
    sqs = cloud.client("sqs")
    dlq = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    sns, _, topic, url, sub = _topic_and_queue(cloud)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy",
        AttributeValue=json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq)}),
    )
    sqs.delete_queue(QueueUrl=url)
    sent = sns.publish(TopicArn=topic, Message="lost queue")
    [msg] = drain(sqs, dlq)
    assert json.loads(msg["Body"])["MessageId"] == sent["MessageId"]
    cloud.advance(60)  # a client-side error is not retried
    assert drain(sqs, dlq) == []


def test_cross_account_queue_needs_its_policy(cloud):
    owner_sqs = cloud.client("sqs", key="222222222222")
    url = owner_sqs.create_queue(QueueName=name("xq"))["QueueUrl"]
    qarn = queue_arn(owner_sqs, url)
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=name("xt"))["TopicArn"]
    # the topic owner subscribes another account's queue: the queue gets a confirmation
    assert sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"] == "pending confirmation"
    owner_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": qarn}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)  # asks again, now that SNS may send
    [confirmation] = drain(owner_sqs, url)
    doc = json.loads(confirmation["Body"])
    assert doc["Type"] == "SubscriptionConfirmation"
    verify_signature(doc)
    sub = cloud.client("sns", key="222222222222").confirm_subscription(TopicArn=topic, Token=doc["Token"])[
        "SubscriptionArn"]
    stranger = cloud.client("sns", key="333333333333")
    with pytest.raises(stranger.exceptions.AuthorizationErrorException):
        stranger.get_subscription_attributes(SubscriptionArn=sub)
    sns.publish(TopicArn=topic, Message="across")
    [msg] = drain(owner_sqs, url)
    assert json.loads(msg["Body"])["Message"] == "across"
