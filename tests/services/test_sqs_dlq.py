"""Dead-letter queues and redrive through boto3: RedrivePolicy with maxReceiveCount,
RedriveAllowPolicy, ListDeadLetterSourceQueues, and message move tasks."""

from __future__ import annotations

import json

import pytest

from tests.services.test_sqs import attrs, error, new_client
from tests.services.test_sqs_messages import counts, receive


@pytest.fixture
def sqs(cloud):
    return new_client(cloud)


def with_dlq(sqs, max_receives: int = 2, fifo: bool = False, **source_attrs: str) -> tuple[str, str, str]:
    """(source url, dlq url, dlq arn)."""
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName="dlq" + suffix, Attributes=extra)["QueueUrl"]
    dlq_arn = attrs(sqs, dlq, "QueueArn")["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    src = sqs.create_queue(
        QueueName="src" + suffix, Attributes={**extra, "RedrivePolicy": policy, "VisibilityTimeout": "10", **source_attrs}
    )["QueueUrl"]
    return src, dlq, dlq_arn


def test_a_message_received_max_times_moves_to_the_dead_letter_queue(cloud, sqs):
    src, dlq, dlq_arn = with_dlq(sqs, max_receives=2)
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison", MessageAttributes={
        "k": {"DataType": "String", "StringValue": "v"}})
    for _ in range(2):
        assert [m["Body"] for m in receive(sqs, src)] == ["poison"]
        cloud.advance(11)
    assert receive(sqs, src) == []  # the third receive moves it instead of delivering it
    assert counts(sqs, src) == (0, 0, 0) and counts(sqs, dlq) == (1, 0, 0)
    (dead,) = receive(sqs, dlq, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
    assert (dead["MessageId"], dead["Body"]) == (sent["MessageId"], "poison")
    assert dead["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == attrs(sqs, src, "QueueArn")["QueueArn"]
    assert dead["Attributes"]["ApproximateReceiveCount"] == "3"


def test_redrive_policy_reads_back_normalized(sqs):
    src, _, dlq_arn = with_dlq(sqs, max_receives=5)
    assert json.loads(attrs(sqs, src, "RedrivePolicy")["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5
    }
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in attrs(sqs, src)


def test_redrive_policy_is_checked(sqs):
    std = sqs.create_queue(QueueName="std")["QueueUrl"]
    std_arn = attrs(sqs, std, "QueueArn")["QueueArn"]
    fifo = sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    fifo_arn = attrs(sqs, fifo, "QueueArn")["QueueArn"]
    for policy in (
        {"deadLetterTargetArn": std_arn.replace(":std", ":absent"), "maxReceiveCount": 1},
        {"deadLetterTargetArn": fifo_arn, "maxReceiveCount": 1},  # standard source, FIFO target
        {"deadLetterTargetArn": std_arn, "maxReceiveCount": 0},
        {"deadLetterTargetArn": std_arn, "maxReceiveCount": 1001},
        {"deadLetterTargetArn": std_arn},
    ):
        err = error(sqs.create_queue, QueueName="src", Attributes={"RedrivePolicy": json.dumps(policy)})
        assert err["Code"] == "InvalidParameterValue", policy


def test_redrive_allow_policy_decides_who_may_use_a_dlq(sqs):
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = attrs(sqs, dlq, "QueueArn")["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
    assert error(sqs.create_queue, QueueName="a", Attributes={"RedrivePolicy": policy})["Code"] == "InvalidParameterValue"
    allowed = dlq_arn.replace(":dlq", ":b")
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [allowed]})})
    assert error(sqs.create_queue, QueueName="a", Attributes={"RedrivePolicy": policy})["Code"] == "InvalidParameterValue"
    sqs.create_queue(QueueName="b", Attributes={"RedrivePolicy": policy})
    bad = json.dumps({"redrivePermission": "byQueue"})
    assert error(sqs.set_queue_attributes, QueueUrl=dlq, Attributes={"RedriveAllowPolicy": bad})["Code"] == "InvalidParameterValue"


def test_list_dead_letter_source_queues(sqs):
    src, dlq, dlq_arn = with_dlq(sqs)
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    other = sqs.create_queue(QueueName="src2", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sqs.create_queue(QueueName="unrelated")
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src, other]
    page = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1)
    assert page["queueUrls"] == [src]
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1, NextToken=page["NextToken"])["queueUrls"] == [other]
    assert sqs.list_dead_letter_source_queues(QueueUrl=src)["queueUrls"] == []


def test_fifo_dead_letter_queue_keeps_the_group(cloud, sqs):
    src, dlq, _ = with_dlq(sqs, max_receives=1, fifo=True)
    sqs.send_message(QueueUrl=src, MessageBody="bad", MessageGroupId="g")
    sqs.send_message(QueueUrl=src, MessageBody="good", MessageGroupId="g")
    assert [m["Body"] for m in receive(sqs, src, n=1)] == ["bad"]
    cloud.advance(11)
    assert [m["Body"] for m in receive(sqs, src)] == ["good"]  # "bad" moved; the group goes on
    (dead,) = receive(sqs, dlq, MessageSystemAttributeNames=["MessageGroupId", "SequenceNumber"])
    assert dead["Body"] == "bad" and dead["Attributes"]["MessageGroupId"] == "g"


def _dead_letters(cloud, sqs, n: int) -> tuple[str, str, str]:
    src, dlq, dlq_arn = with_dlq(sqs, max_receives=1)
    for i in range(n):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
    receive(sqs, src)
    cloud.advance(11)
    assert receive(sqs, src) == [] and counts(sqs, dlq) == (n, 0, 0)
    return src, dlq, dlq_arn


def test_a_move_task_redrives_messages_to_their_source(cloud, sqs):
    src, dlq, dlq_arn = _dead_letters(cloud, sqs, 3)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    cloud.advance(2)  # the move runs on the scheduler; the jump waits for it
    (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"], task["ApproximateNumberOfMessagesToMove"]) == (
        "COMPLETED", 3, 3
    )
    assert "TaskHandle" not in task and task["SourceArn"] == dlq_arn
    assert counts(sqs, dlq) == (0, 0, 0)
    back = receive(sqs, src, AttributeNames=["ApproximateReceiveCount"])
    assert sorted(m["Body"] for m in back) == ["m0", "m1", "m2"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in back} == {"1"}  # counted afresh
    err = error(sqs.cancel_message_move_task, TaskHandle=handle)
    assert err["Code"] == "InvalidParameterValue"  # only a running task can be cancelled


def test_a_move_task_keeps_its_rate_and_can_be_cancelled(cloud, sqs):
    src, dlq, dlq_arn = _dead_letters(cloud, sqs, 6)
    other = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    other_arn = attrs(sqs, other, "QueueArn")["QueueArn"]
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=other_arn, MaxNumberOfMessagesPerSecond=1)[
        "TaskHandle"
    ]
    err = error(sqs.start_message_move_task, SourceArn=dlq_arn)
    assert err["Code"] == "AWS.SimpleQueueService.UnsupportedOperation"  # one running task per queue
    cloud.advance(1)
    (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert task["Status"] == "RUNNING" and task["TaskHandle"] == handle and task["MaxNumberOfMessagesPerSecond"] == 1
    assert task["DestinationArn"] == other_arn and 1 <= task["ApproximateNumberOfMessagesMoved"] < 6
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    cloud.advance(10)
    (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "CANCELLED" and task["ApproximateNumberOfMessagesMoved"] == moved
    assert counts(sqs, other)[0] == moved and counts(sqs, dlq)[0] == 6 - moved
    assert counts(sqs, src) == (0, 0, 0)


def test_move_task_sources_must_be_dead_letter_queues(sqs):
    plain = sqs.create_queue(QueueName="plain")["QueueUrl"]
    arn = attrs(sqs, plain, "QueueArn")["QueueArn"]
    assert error(sqs.start_message_move_task, SourceArn=arn)["Code"] == "InvalidParameterValue"
    missing = arn.replace(":plain", ":missing")
    err = error(sqs.start_message_move_task, SourceArn=missing)
    assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)
    assert error(sqs.list_message_move_tasks, SourceArn=missing)["Code"] == "ResourceNotFoundException"
    assert error(sqs.cancel_message_move_task, TaskHandle="bm9wZQ==")["Code"] == "ResourceNotFoundException"
