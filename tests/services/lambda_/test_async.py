"""Event invocations over HTTP: acknowledged with 202, run for real, retried on the
cloudlet clock (1 minute, then 2), then sent to their OnFailure destination; successes
to OnSuccess; a dead-letter queue when no destination is set."""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid

import pytest

from tests.services.lambda_.test_invoke import ROLE, zipped

# appends one line per attempt to the file named by MARK (functions are local processes)
COUNTING = '''
import json, os
def handler(event, context):
    with open(os.environ["MARK"], "a") as f:
        f.write(context.aws_request_id + "\\n")
    if event.get("fail"):
        raise RuntimeError("failing on purpose")
    return {"done": event}
'''


@pytest.fixture(scope="module")
def lam(cloud):
    return cloud.client("lambda")


@pytest.fixture(scope="module")
def sqs(cloud):
    return cloud.client("sqs")


def queue(sqs) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def counting_function(lam, **extra) -> tuple[str, str]:
    mark = os.path.join(tempfile.mkdtemp(prefix="cloudlet-lambda-test-"), "attempts")
    name = f"a-{uuid.uuid4().hex[:10]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": zipped(COUNTING)}, Environment={"Variables": {"MARK": mark}}, **extra)
    return name, mark


def attempts(mark: str) -> int:
    try:
        with open(mark) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def wait_attempts(mark: str, n: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while attempts(mark) < n:
        assert time.monotonic() < deadline, f"{attempts(mark)} attempts, expected {n}"
        time.sleep(0.05)


def receive(sqs, url: str, wait: int = 10) -> dict:
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait, MaxNumberOfMessages=1,
                               MessageAttributeNames=["All"]).get("Messages", [])
    assert msgs, "no message arrived"
    return msgs[0]


def test_event_is_202_and_runs_to_the_success_destination(lam, sqs):
    url, arn = queue(sqs)
    name, mark = counting_function(lam)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"k": "v"}')
    assert out["StatusCode"] == 202
    rid = out["ResponseMetadata"]["RequestId"]
    rec = json.loads(receive(sqs, url)["Body"])
    assert rec["version"] == "1.0"
    assert rec["requestContext"]["condition"] == "Success"
    assert rec["requestContext"]["requestId"] == rid
    assert rec["requestContext"]["approximateInvokeCount"] == 1
    assert rec["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert rec["requestPayload"] == {"k": "v"}
    assert rec["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert rec["responsePayload"] == {"done": {"k": "v"}}
    assert attempts(mark) == 1


def test_retries_twice_on_the_clock_then_on_failure(cloud, lam, sqs):
    url, arn = queue(sqs)
    name, mark = counting_function(lam)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
    wait_attempts(mark, 1)
    time.sleep(0.3)
    assert attempts(mark) == 1  # the retry waits for the clock, not for real time
    cloud.advance(61)
    wait_attempts(mark, 2)
    cloud.advance(59)
    time.sleep(0.3)
    assert attempts(mark) == 2  # the second retry is 2 minutes after the first
    cloud.advance(62)
    wait_attempts(mark, 3)
    rec = json.loads(receive(sqs, url)["Body"])
    assert rec["requestContext"]["condition"] == "RetriesExhausted"
    assert rec["requestContext"]["approximateInvokeCount"] == 3
    assert rec["responseContext"]["functionError"] == "Unhandled"
    assert rec["responsePayload"]["errorType"] == "RuntimeError"
    assert rec["requestPayload"] == {"fail": True}
    cloud.advance(600)
    time.sleep(0.3)
    assert attempts(mark) == 3


def test_zero_retries_goes_to_the_dead_letter_queue(cloud, lam, sqs):
    url, arn = queue(sqs)
    name, mark = counting_function(lam, DeadLetterConfig={"TargetArn": arn})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true, "id": 5}')
    msg = receive(sqs, url)
    assert json.loads(msg["Body"]) == {"fail": True, "id": 5}
    attrs = msg["MessageAttributes"]
    assert attrs["RequestID"]["StringValue"] == out["ResponseMetadata"]["RequestId"]
    assert attrs["ErrorCode"]["StringValue"] == "200"
    assert "failing on purpose" in attrs["ErrorMessage"]["StringValue"]
    assert attempts(mark) == 1


def test_throttled_event_ages_out_to_on_failure(cloud, lam, sqs):
    url, arn = queue(sqs)
    name, mark = counting_function(lam)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    cloud.advance(120)
    rec = json.loads(receive(sqs, url)["Body"])
    assert rec["requestContext"]["condition"] == "EventAgeExceeded"
    assert rec["requestContext"]["approximateInvokeCount"] == 0
    assert attempts(mark) == 0


def test_eventbridge_and_lambda_destinations(cloud, lam, sqs):
    events = cloud.client("events")
    url, arn = queue(sqs)
    rule = f"r-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["lambda"],
                                                        "detail-type": ["Lambda Function Invocation Result - Failure"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    bus = events.describe_event_bus()["Arn"]
    on_success, success_mark = counting_function(lam)
    name, mark = counting_function(lam)
    success_arn = lam.get_function(FunctionName=on_success)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": bus}, "OnSuccess": {"Destination": success_arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
    envelope = json.loads(receive(sqs, url)["Body"])
    assert envelope["source"] == "lambda"
    assert envelope["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert envelope["detail"]["requestContext"]["condition"] == "RetriesExhausted"
    assert envelope["detail"]["requestPayload"] == {"fail": True}
    assert attempts(success_mark) == 0
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"ok": 1}')
    wait_attempts(success_mark, 1)  # the success record invoked the destination function


def test_deprecated_invoke_async_runs_the_event(lam, sqs):
    url, arn = queue(sqs)
    name, mark = counting_function(lam)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    assert lam.invoke_async(FunctionName=name, InvokeArgs=b'{"old": "api"}')["Status"] == 202
    rec = json.loads(receive(sqs, url)["Body"])
    assert rec["requestPayload"] == {"old": "api"} and rec["responsePayload"] == {"done": {"old": "api"}}


def test_sns_destination(cloud, lam, sqs):
    sns = cloud.client("sns")
    url, qarn = queue(sqs)
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    name, mark = counting_function(lam)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": topic}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"via": "sns"}')
    rec = json.loads(receive(sqs, url)["Body"])
    assert rec["requestContext"]["condition"] == "Success" and rec["requestPayload"] == {"via": "sns"}
