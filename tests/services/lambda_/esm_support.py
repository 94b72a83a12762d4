"""Helpers for the event source and trigger tests: functions that report what they got by
sending it to an SQS queue with boto3 (the function's environment points boto3 at cloudlet)."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from typing import Any, Callable

RUNTIME = "python3.11"  # the interpreter cloudlet itself runs on: always present

# The function sends {"event": <event>} to the queue named by OUT, then fails if FAIL says so.
# FAIL_PREFIX: report messages whose body starts with it as batch item failures. In a
# tumbling window it counts the window's records in its state.
RECORDER = '''
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUT"], MessageBody=json.dumps({"event": event}))
    if os.environ.get("FAIL") == "always":
        raise RuntimeError("failing on purpose")
    if "window" in event:  # a tumbling window: count its records in the state
        if event["isFinalInvokeForWindow"]:
            return {}
        return {"state": {"n": event["state"].get("n", 0) + len(event["Records"])}}
    prefix = os.environ.get("FAIL_PREFIX")
    if prefix:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in event.get("Records", []) if r["body"].startswith(prefix)]}
    return {"ok": True}
'''


def zipped(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", source)
    return buf.getvalue()


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def role(cloud: Any) -> str:
    iam = cloud.client("iam")
    role_name = name("esm-role")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    return iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def recorder(cloud: Any, out_url: str, **env: str) -> str:
    """A function that records each event in `out_url`; returns its ARN once Active."""
    lam = cloud.client("lambda")
    fn = lam.create_function(
        FunctionName=name("esm-fn"), Runtime=RUNTIME, Role=role(cloud), Handler="index.handler",
        Code={"ZipFile": zipped(RECORDER)}, Timeout=30, Environment={"Variables": {"OUT": out_url, **env}},
    )
    wait_for(lambda: lam.get_function_configuration(FunctionName=fn["FunctionArn"]).get("State") == "Active",
             "the function to become Active")
    return fn["FunctionArn"]


def queue(cloud: Any, **attributes: str) -> tuple[str, str]:
    sqs = cloud.client("sqs")
    suffix = ".fifo" if attributes.get("FifoQueue") == "true" else ""
    url = sqs.create_queue(QueueName=name("esm-q") + suffix, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def recorded(cloud: Any, out_url: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The next `count` events the recorder function sent to `out_url`."""
    sqs = cloud.client("sqs")
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=out_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in got:
            events.append(json.loads(m["Body"])["event"])
            sqs.delete_message(QueueUrl=out_url, ReceiptHandle=m["ReceiptHandle"])
    assert len(events) >= count, f"expected {count} invocations, saw {len(events)}: {events}"
    return events


def counts(cloud: Any, url: str) -> tuple[int, int]:
    attrs = cloud.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])
