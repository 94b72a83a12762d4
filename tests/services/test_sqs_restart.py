"""SQS state is the store's: queues, messages in every state and a running move task
survive a restart on a data directory; in-process callers get a short poll."""

from __future__ import annotations

import json

from cloudlet.core.context import Context
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from tests.cloud import Cloud
from tests.services.test_sqs_messages import counts, receive

KEY = "123456789012"


def test_messages_and_a_move_task_survive_a_restart(tmp_path):
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        sqs = cloud.client("sqs", key=KEY)
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        src = sqs.create_queue(QueueName="src", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}), "VisibilityTimeout": "5",
        })["QueueUrl"]
        for i in range(4):
            sqs.send_message(QueueUrl=src, MessageBody=f"dead{i}")
        receive(sqs, src)
        cloud.advance(6)
        assert receive(sqs, src) == [] and counts(sqs, dlq) == (4, 0, 0)
        sqs.send_message(QueueUrl=src, MessageBody="in flight")
        receive(sqs, src, VisibilityTimeout=600)
        sqs.send_message(QueueUrl=src, MessageBody="delayed", DelaySeconds=300)
        sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)
    finally:
        cloud.stop()
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        sqs = cloud.client("sqs", key=KEY)
        assert counts(sqs, dlq)[1:] == (0, 0) and counts(sqs, src)[1:] == (1, 1)
        cloud.advance(10)  # the task goes on from where it was
        (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 4)
        assert counts(sqs, dlq) == (0, 0, 0)
        cloud.advance(600)
        assert sorted(m["Body"] for m in receive(sqs, src)) == ["dead0", "dead1", "dead2", "dead3", "delayed"]
        assert [m["Body"] for m in receive(sqs, dlq)] == ["in flight"]  # its second receive: max was 1
    finally:
        cloud.stop()


def test_in_process_callers_get_a_short_poll():
    gw = Gateway(Config(ephemeral=True))
    ctx = Context(account=KEY, region="us-east-1", principal_arn=f"arn:aws:iam::{KEY}:root", access_key="AKID",
                  request_id="r", service="s3", operation="PutObject", gateway=gw)
    sqs = ctx.aws("sqs", principal="s3.amazonaws.com")
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20) == {}  # answered, not awaited
    sqs.send_message(QueueUrl=url, MessageBody="object created")
    (msg,) = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["SenderId"])["Messages"]
    assert msg["Body"] == "object created" and msg["Attributes"]["SenderId"] == "s3.amazonaws.com"
