"""SQS delivery on standard queues: visibility, delays, retention, digests, limits,
batches, purge and long polling, through boto3. Timed effects move the cloudlet clock;
only the long-poll tests wait in real time (a receiver must block for them)."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from tests.services.test_sqs import attrs, error, new_client


@pytest.fixture
def sqs(cloud):
    return new_client(cloud)


def counts(sqs, url: str) -> tuple[int, int, int]:
    a = attrs(sqs, url)
    return (
        int(a["ApproximateNumberOfMessages"]),
        int(a["ApproximateNumberOfMessagesNotVisible"]),
        int(a["ApproximateNumberOfMessagesDelayed"]),
    )


def receive(sqs, url: str, n: int = 10, **kw) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, **kw).get("Messages", [])


# digests and attributes -----------------------------------------------------------------------

# AWS's digest of message attributes, as published with known inputs and outputs
PUBLISHED = [
    ({"attribName1": {"DataType": "String", "StringValue": "attribValue 1"}}, "19e27d4e946b072f3f58da80d94fd778"),
    (
        {"customNumberTypeAttrib": {"DataType": "Number.float", "StringValue": "4563442423554324324264524243.32543234"}},
        "9fe1b90bbd9965bdf77bac517c7d2495",
    ),
    ({"binaryAttribute": {"DataType": "Binary", "BinaryValue": b"Hello binary world!"}}, "31a92b15d92f8db860eda32aceb656c3"),
]


@pytest.mark.parametrize("attributes, digest", PUBLISHED)
def test_digests_of_body_and_attributes_are_the_ones_sdks_compute(sqs, attributes, digest):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="héllo", MessageAttributes=attributes)
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == digest
    (msg,) = receive(sqs, url, MessageAttributeNames=["All"])
    assert (msg["Body"], msg["MD5OfBody"], msg["MD5OfMessageAttributes"]) == ("héllo", sent["MD5OfMessageBody"], digest)
    assert msg["MessageAttributes"] == attributes and msg["MessageId"] == sent["MessageId"]


def test_all_three_attributes_together_digest_as_published(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    merged = {k: v for attributes, _ in PUBLISHED for k, v in attributes.items()}
    sent = sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=merged)
    assert sent["MD5OfMessageAttributes"] == "c932db14a896c663f83c260297d594ff"


def test_receive_returns_only_the_attributes_asked_for_and_digests_those(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
        "trace.id": {"DataType": "String", "StringValue": "t"},
        "trace.span": {"DataType": "Number", "StringValue": "7"},
        "other": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    })
    (msg,) = receive(sqs, url, MessageAttributeNames=["trace.*"], VisibilityTimeout=0)
    assert set(msg["MessageAttributes"]) == {"trace.id", "trace.span"}
    assert msg["MD5OfMessageAttributes"] == _digest(sqs, msg["MessageAttributes"])
    (msg,) = receive(sqs, url)
    assert "MessageAttributes" not in msg and "MD5OfMessageAttributes" not in msg


def _digest(sqs, attributes: dict) -> str:
    """What SendMessage answers for exactly these attributes."""
    url = sqs.create_queue(QueueName="digest")["QueueUrl"]
    return sqs.send_message(QueueUrl=url, MessageBody="d", MessageAttributes=attributes)["MD5OfMessageAttributes"]


def test_system_attributes_of_a_received_message(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    account = url.rsplit("/", 2)[1]
    trace = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="x", MessageSystemAttributes=trace)
    assert len(sent["MD5OfMessageSystemAttributes"]) == 32
    (first,) = receive(sqs, url, MessageSystemAttributeNames=["All"], VisibilityTimeout=5)
    a = first["Attributes"]
    assert a["SenderId"] == account and a["ApproximateReceiveCount"] == "1"
    assert a["AWSTraceHeader"] == trace["AWSTraceHeader"]["StringValue"]
    assert int(a["ApproximateFirstReceiveTimestamp"]) >= int(a["SentTimestamp"])
    assert "SequenceNumber" not in a and "MessageGroupId" not in a
    cloud.advance(6)
    (again,) = receive(sqs, url, AttributeNames=["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"])
    assert again["Attributes"] == {
        "ApproximateReceiveCount": "2", "ApproximateFirstReceiveTimestamp": a["ApproximateFirstReceiveTimestamp"]
    }
    assert again["ReceiptHandle"] != first["ReceiptHandle"]


def test_message_group_id_on_a_standard_queue_is_kept(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="tenant-1")
    (msg,) = receive(sqs, url, MessageSystemAttributeNames=["MessageGroupId"])
    assert msg["Attributes"] == {"MessageGroupId": "tenant-1"}


# visibility -------------------------------------------------------------------------------


def test_a_received_message_is_hidden_for_the_visibility_timeout(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert len(receive(sqs, url)) == 1
    assert counts(sqs, url) == (0, 1, 0)
    cloud.advance(29)
    assert receive(sqs, url) == []
    cloud.advance(2)
    assert counts(sqs, url) == (1, 0, 0)
    (msg,) = receive(sqs, url, VisibilityTimeout=100)  # the request's timeout beats the queue's
    cloud.advance(99)
    assert receive(sqs, url) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    cloud.advance(2)
    assert receive(sqs, url) == [] and counts(sqs, url) == (0, 0, 0)


def test_change_visibility_extends_shortens_and_releases(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(sqs, url)
    handle = msg["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=120)  # counts from now
    cloud.advance(100)
    assert receive(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    assert counts(sqs, url) == (1, 0, 0)
    err = error(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    assert err["Code"] == "AWS.SimpleQueueService.MessageNotInflight" and err["QueryErrorCode"] == "MessageNotInflight"
    (again,) = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    err = error(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    assert err["Code"] == "InvalidParameterValue"


def test_visibility_is_at_most_twelve_hours_from_the_receive(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(sqs, url, VisibilityTimeout=43200)
    cloud.advance(3600)
    err = error(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=43200)
    assert err["Code"] == "InvalidParameterValue" and "43200" in err["Message"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=39600)


def test_receipt_handles_are_checked(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody="x")
    (msg,) = receive(sqs, other)
    for handle in ("garbage", msg["ReceiptHandle"]):  # the second belongs to another queue
        err = error(sqs.delete_message, QueueUrl=url, ReceiptHandle=handle)
        assert (err["Code"], err["Status"]) == ("ReceiptHandleIsInvalid", 404)
    sqs.delete_message(QueueUrl=other, ReceiptHandle=msg["ReceiptHandle"])
    sqs.delete_message(QueueUrl=other, ReceiptHandle=msg["ReceiptHandle"])  # again: already gone is fine


def test_an_older_receipt_handle_still_deletes_on_a_standard_queue(cloud, sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    (first,) = receive(sqs, url)
    cloud.advance(6)
    assert len(receive(sqs, url)) == 1
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


# delays and retention ---------------------------------------------------------------------


def test_queue_and_message_delays(cloud, sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"DelaySeconds": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="own delay", DelaySeconds=10)
    sqs.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    assert [m["Body"] for m in receive(sqs, url, VisibilityTimeout=0)] == ["no delay"]
    assert counts(sqs, url) == (1, 0, 2)
    cloud.advance(11)
    assert sorted(m["Body"] for m in receive(sqs, url, VisibilityTimeout=0)) == ["no delay", "own delay"]
    cloud.advance(50)
    assert counts(sqs, url) == (3, 0, 0)
    err = error(sqs.send_message, QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert err["Code"] == "InvalidParameterValue"


def test_retention_drops_messages_on_the_cloudlet_clock(cloud, sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "120"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    receive(sqs, url, VisibilityTimeout=600)  # in flight does not save it
    cloud.advance(60)
    sqs.send_message(QueueUrl=url, MessageBody="young")
    cloud.advance(61)
    assert counts(sqs, url) == (1, 0, 0)
    assert [m["Body"] for m in receive(sqs, url, VisibilityTimeout=0)] == ["young"]


def test_shortening_retention_applies_to_messages_already_there(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    cloud.advance(3600)
    assert counts(sqs, url) == (1, 0, 0)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
    assert counts(sqs, url) == (0, 0, 0)


# limits -----------------------------------------------------------------------------------


def test_message_size_counts_body_and_attributes(sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    err = error(sqs.send_message, QueueUrl=url, MessageBody="x" * 1025)
    assert err["Code"] == "InvalidParameterValue" and "1024" in err["Message"]
    a = {"n": {"DataType": "String", "StringValue": "y"}}  # 1 + 6 + 1 bytes
    err = error(sqs.send_message, QueueUrl=url, MessageBody="x" * 1017, MessageAttributes=a)
    assert err["Code"] == "InvalidParameterValue"
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1016, MessageAttributes=a)


def test_body_characters_and_attribute_rules(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert error(sqs.send_message, QueueUrl=url, MessageBody="bad \x01 char")["Code"] == "InvalidMessageContents"
    too_many = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageAttributes=too_many)["Code"] == "InvalidParameterValue"
    for bad in (
        {"AWS.reserved": {"DataType": "String", "StringValue": "v"}},
        {"n": {"DataType": "Text", "StringValue": "v"}},
        {"n": {"DataType": "Number", "StringValue": "seven"}},
        {"n": {"DataType": "String", "StringValue": ""}},
    ):
        assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageAttributes=bad)["Code"] == "InvalidParameterValue"
    dedup = error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert dedup["Code"] == "InvalidParameterValue"  # a FIFO parameter on a standard queue


# batches ----------------------------------------------------------------------------------


def test_send_batch_reports_each_entry(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok1", "MessageBody": "one"},
        {"Id": "bad", "MessageBody": "two", "DelaySeconds": 1000},
        {"Id": "ok2", "MessageBody": "three", "MessageAttributes": PUBLISHED[0][0]},
    ])
    assert sorted(e["Id"] for e in out["Successful"]) == ["ok1", "ok2"]
    ok2 = next(e for e in out["Successful"] if e["Id"] == "ok2")
    assert ok2["MD5OfMessageAttributes"] == PUBLISHED[0][1] and ok2["MD5OfMessageBody"] == hashlib.md5(b"three").hexdigest()
    (failed,) = out["Failed"]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == ("bad", "InvalidParameterValue", True)
    assert sorted(m["Body"] for m in receive(sqs, url)) == ["one", "three"]


@pytest.mark.parametrize(
    "entries, code",
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        ([{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        ([{"Id": "same", "MessageBody": "x"}] * 2, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        ([{"Id": "no spaces", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        ([{"Id": f"e{i}", "MessageBody": "x" * 300_000} for i in range(4)], "AWS.SimpleQueueService.BatchRequestTooLong"),
    ],
)
def test_malformed_batches_fail_the_call(sqs, entries, code):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert error(sqs.send_message_batch, QueueUrl=url, Entries=entries)["Code"] == code


def test_delete_and_visibility_batches_report_each_entry(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    msgs = receive(sqs, url)
    assert len(msgs) == 3
    out = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "b", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 300},
        {"Id": "c", "ReceiptHandle": "nonsense", "VisibilityTimeout": 0},
    ])
    assert sorted(e["Id"] for e in out["Successful"]) == ["a", "b"]
    assert [(e["Id"], e["Code"]) for e in out["Failed"]] == [("c", "ReceiptHandleIsInvalid")]
    assert counts(sqs, url) == (1, 2, 0)
    out = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": msgs[1]["ReceiptHandle"]},
        {"Id": "y", "ReceiptHandle": msgs[2]["ReceiptHandle"]},
        {"Id": "z", "ReceiptHandle": "nonsense"},
    ])
    assert sorted(e["Id"] for e in out["Successful"]) == ["x", "y"] and out["Failed"][0]["Id"] == "z"
    assert counts(sqs, url) == (1, 0, 0)


# purge ------------------------------------------------------------------------------------


def test_purge_empties_the_queue_once_a_minute(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="visible")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=100)
    sqs.send_message(QueueUrl=url, MessageBody="in flight")
    receive(sqs, url, n=1)
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    err = error(sqs.purge_queue, QueueUrl=url)
    assert (err["Code"], err["Status"]) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 403)
    cloud.advance(61)
    sqs.purge_queue(QueueUrl=url)


# long polling (real time: a receiver must actually wait) ----------------------------------


def _receive_in_thread(cloud, key: str, url: str, wait: int) -> tuple[threading.Thread, dict]:
    box: dict = {}
    client = cloud.client("sqs", key=key, read_timeout=60)

    def run() -> None:
        start = time.monotonic()
        box["out"] = client.receive_message(QueueUrl=url, WaitTimeSeconds=wait)
        box["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def _key_of(url: str) -> str:
    """The caller's key: a 12-digit key is its account's root, and the URL names the account."""
    return url.rsplit("/", 2)[1]


def test_a_long_poll_wakes_when_a_message_arrives(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    thread, box = _receive_in_thread(cloud, _key_of(url), url, 10)
    time.sleep(0.3)  # let the receiver start waiting
    assert thread.is_alive()
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    thread.join(15)
    assert [m["Body"] for m in box["out"]["Messages"]] == ["wake up"]
    assert box["elapsed"] < 10


def test_a_long_poll_ends_at_its_deadline_on_the_cloudlet_clock(cloud, sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"ReceiveMessageWaitTimeSeconds": "20"})["QueueUrl"]
    box: dict = {}
    client = cloud.client("sqs", key=_key_of(url), read_timeout=60)

    def run() -> None:  # no WaitTimeSeconds: the queue's 20 s applies
        start = time.monotonic()
        box["out"] = client.receive_message(QueueUrl=url)
        box["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive()  # it is waiting: the queue's own wait time applies
    cloud.advance(25)
    thread.join(15)
    assert "Messages" not in box["out"] and box["elapsed"] < 20


def test_a_long_poll_gets_a_message_whose_delay_ends_while_it_waits(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
    thread, box = _receive_in_thread(cloud, _key_of(url), url, 20)
    time.sleep(0.3)
    cloud.advance(601)
    thread.join(15)
    assert [m["Body"] for m in box["out"]["Messages"]] == ["later"] and box["elapsed"] < 20


def test_a_short_poll_does_not_wait(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    start = time.monotonic()
    assert receive(sqs, url, WaitTimeSeconds=0) == []
    assert time.monotonic() - start < 5


def test_bad_receive_parameters(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for kw in ({"MaxNumberOfMessages": 11}, {"WaitTimeSeconds": 21}, {"VisibilityTimeout": 43201}):
        assert error(sqs.receive_message, QueueUrl=url, **kw)["Code"] == "InvalidParameterValue"
