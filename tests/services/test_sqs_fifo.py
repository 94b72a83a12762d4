"""SQS FIFO queues through boto3: deduplication inside the 5-minute window, strict order
per message group with the group locked while a message of it is in flight, receive
attempt ids, and the high-throughput settings."""

from __future__ import annotations

import hashlib

import pytest

from tests.services.test_sqs import attrs, error, new_client
from tests.services.test_sqs_messages import receive


@pytest.fixture
def sqs(cloud):
    return new_client(cloud)


def fifo(sqs, name: str = "q.fifo", **attributes: str) -> str:
    return sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]


def bodies(msgs: list[dict]) -> list[str]:
    return [m["Body"] for m in msgs]


def test_new_fifo_queue_attributes(sqs):
    a = attrs(sqs, fifo(sqs))
    assert (a["FifoQueue"], a["ContentBasedDeduplication"], a["DeduplicationScope"], a["FifoThroughputLimit"]) == (
        "true", "false", "queue", "perQueue"
    )
    assert error(sqs.set_queue_attributes, QueueUrl=fifo(sqs, "b.fifo"), Attributes={"FifoQueue": "false"})[
        "Code"
    ] == "InvalidAttributeValue"


def test_deduplication_by_id_lasts_five_minutes(cloud, sqs):
    url = fifo(sqs)
    first = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    dup = sqs.send_message(QueueUrl=url, MessageBody="a again", MessageGroupId="g", MessageDeduplicationId="d1")
    assert (dup["MessageId"], dup["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    (msg,) = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    cloud.advance(290)
    sqs.send_message(QueueUrl=url, MessageBody="still a duplicate", MessageGroupId="g", MessageDeduplicationId="d1")
    assert receive(sqs, url) == []  # the id is remembered after the message is deleted
    cloud.advance(11)
    later = sqs.send_message(QueueUrl=url, MessageBody="new", MessageGroupId="g", MessageDeduplicationId="d1")
    assert later["MessageId"] != first["MessageId"] and int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    assert bodies(receive(sqs, url)) == ["new"]


def test_content_based_deduplication_hashes_the_body(sqs):
    url = fifo(sqs, ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g1")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g2")
    c = sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g1")
    assert a["MessageId"] == b["MessageId"] != c["MessageId"]
    (msg, _) = receive(sqs, url, MessageSystemAttributeNames=["MessageDeduplicationId"])
    assert msg["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()


def test_deduplication_scope_message_group(sqs):
    url = fifo(sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g1", MessageDeduplicationId="d")
    sqs.send_message(QueueUrl=url, MessageBody="2", MessageGroupId="g2", MessageDeduplicationId="d")
    sqs.send_message(QueueUrl=url, MessageBody="3", MessageGroupId="g1", MessageDeduplicationId="d")
    assert sorted(bodies(receive(sqs, url))) == ["1", "2"]


def test_per_group_throughput_needs_group_scope(sqs):
    err = error(sqs.create_queue, QueueName="t.fifo", Attributes={"FifoQueue": "true", "FifoThroughputLimit": "perMessageGroupId"})
    assert err["Code"] == "InvalidAttributeValue"


def test_a_group_is_locked_while_a_message_of_it_is_in_flight(sqs):
    url = fifo(sqs, ContentBasedDeduplication="true")
    for body, group in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    (a1,) = receive(sqs, url, n=1)
    assert a1["Body"] == "a1"
    assert bodies(receive(sqs, url, n=1)) == ["b1"]  # A is locked, B is not
    assert receive(sqs, url) == []  # both locked
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"])
    assert bodies(receive(sqs, url)) == ["a2", "a3"]  # the rest of A, in order, in one receive


def test_an_expired_visibility_returns_the_group_in_order(cloud, sqs):
    url = fifo(sqs, ContentBasedDeduplication="true", VisibilityTimeout="30")
    for body in ("1", "2", "3"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    assert bodies(receive(sqs, url, n=2)) == ["1", "2"]
    cloud.advance(31)
    again = receive(sqs, url, AttributeNames=["ApproximateReceiveCount", "SequenceNumber"])
    assert bodies(again) == ["1", "2", "3"]
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again] == ["2", "2", "1"]
    seqs = [int(m["Attributes"]["SequenceNumber"]) for m in again]
    assert seqs == sorted(seqs)


def test_a_fifo_receipt_handle_expires_with_its_visibility(cloud, sqs):
    url = fifo(sqs, ContentBasedDeduplication="true", VisibilityTimeout="10")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    (msg,) = receive(sqs, url)
    cloud.advance(11)
    err = error(sqs.delete_message, QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert err["Code"] == "InvalidParameterValue" and "expired" in err["Message"]
    (again,) = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])


def test_a_retried_receive_attempt_gets_the_same_messages(cloud, sqs):
    url = fifo(sqs, ContentBasedDeduplication="true", VisibilityTimeout="30")
    for body in ("1", "2"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="h")
    first = receive(sqs, url, n=2, ReceiveRequestAttemptId="try-1")
    cloud.advance(20)
    retry = receive(sqs, url, n=2, ReceiveRequestAttemptId="try-1")
    assert [m["ReceiptHandle"] for m in retry] == [m["ReceiptHandle"] for m in first]
    cloud.advance(20)  # 40 s after the first receive, 20 after the retry restarted visibility
    assert bodies(receive(sqs, url)) == ["other"]


def test_fifo_send_rules(sqs):
    url = fifo(sqs)
    err = error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert (err["Code"], err["Message"]) == ("MissingParameter", "The request must contain the parameter MessageGroupId.")
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g")["Code"] == "InvalidParameterValue"
    err = error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d",
                DelaySeconds=5)
    assert err["Code"] == "InvalidParameterValue"
    err = error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="has space", MessageDeduplicationId="d")
    assert err["Code"] == "InvalidParameterValue"


def test_queue_delay_applies_to_fifo(cloud, sqs):
    url = fifo(sqs, ContentBasedDeduplication="true", DelaySeconds="30")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert receive(sqs, url) == []
    cloud.advance(31)
    assert bodies(receive(sqs, url)) == ["x"]


def test_fifo_batch_keeps_its_order(sqs):
    url = fifo(sqs, ContentBasedDeduplication="true")
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": f"m{i}", "MessageGroupId": "g"} for i in range(5)
    ] + [{"Id": "nogroup", "MessageBody": "x"}])
    assert [e["Code"] for e in out["Failed"]] == ["MissingParameter"]
    seqs = [int(e["SequenceNumber"]) for e in sorted(out["Successful"], key=lambda e: e["Id"])]
    assert seqs == sorted(seqs)
    assert bodies(receive(sqs, url)) == [f"m{i}" for i in range(5)]


def test_counts_on_a_fifo_queue(sqs):
    url = fifo(sqs, ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g")
    receive(sqs, url, n=1)
    a = attrs(sqs, url)
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("2", "1")


@pytest.mark.parametrize("groups", [1, 3])
def test_every_message_is_received_once_and_in_group_order(sqs, groups):
    """Receive and delete until empty: each group's messages come out in send order."""
    url = fifo(sqs, ContentBasedDeduplication="true")
    sent = [(f"g{i % groups}", f"m{i}") for i in range(12)]
    for group, body in sent:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    seen: list[tuple[str, str]] = []
    for _ in range(20):
        msgs = receive(sqs, url, n=3, MessageSystemAttributeNames=["MessageGroupId"])
        if not msgs:
            break
        for m in msgs:
            seen.append((m["Attributes"]["MessageGroupId"], m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(seen) == sorted(sent)
    for g in {g for g, _ in sent}:
        assert [b for gg, b in seen if gg == g] == [b for gg, b in sent if gg == g]
