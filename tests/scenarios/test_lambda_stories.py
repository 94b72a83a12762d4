"""Lambda as its users meet it, end to end over HTTP against a real server.

An upload to S3 runs a Python function that records it in DynamoDB with plain boto3 (no
endpoint in the code: the sandbox points the SDK at cloudlet, as AWS points it at AWS); a
queue feeds a function that reports partial batch failures; an asynchronous invocation that
keeps failing lands in an on-failure destination after its retries; an alias sends a
tenth of its traffic to a new version; a custom runtime written in bash answers through the
Runtime API; a function URL answers curl; a Node.js handler; a timeout; and the logs, in the
Invoke response and in CloudWatch Logs.

The server is the module's own: sandboxes and clock jumps stay with these stories. Timed
behaviour (visibility timeouts, retry delays) moves with ``cloud.advance``; what is
asynchronous by design (a notification, a poller) is awaited with ``eventually``.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import urllib.parse
import uuid
from collections import Counter
from datetime import datetime
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.cloud import Cloud
from tests.lambdakit import custom_runtime_zip, eventually, execution_role, node_zip, python_zip

ACCOUNT = "000000000000"  # the default account of the ``test`` key


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    c = Cloud()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def lam(cloud: Cloud) -> Any:
    # a function's cold start and a 3 s sleep must not trip botocore's read timeout
    return cloud.client("lambda", read_timeout=30)


@pytest.fixture(scope="module")
def role(cloud: Cloud) -> str:
    return execution_role(cloud.client("iam"), "lambda-stories",
                          actions=("logs:*", "dynamodb:*", "sqs:*", "s3:GetObject"))


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_function(lam: Any, role: str, name: str, zipped: bytes, *, runtime: str = "python3.12",
                    handler: str = "app.handler", **extra: Any) -> dict[str, Any]:
    """CreateFunction, then wait (as a user's waiter does) until it can be invoked."""
    config = lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler=handler,
                                 Code={"ZipFile": zipped}, **extra)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
    return config


def invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], bytes]:
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kwargs)
    return resp, resp["Payload"].read()


# -- 1. S3 -> Lambda -> DynamoDB ----------------------------------------------------------

UPLOAD_INDEXER = """
    import os
    import urllib.parse

    import boto3

    # no endpoint, no keys: the SDK finds both in the environment Lambda gives the function
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


    def handler(event, context):
        for record in event["Records"]:
            s3 = record["s3"]
            table.put_item(Item={
                "key": urllib.parse.unquote_plus(s3["object"]["key"]),
                "bucket": s3["bucket"]["name"],
                "size": s3["object"]["size"],
                "event": record["eventName"],
                "indexed_by": context.function_name,
            })
        return {"indexed": len(event["Records"])}
"""


def test_an_upload_to_s3_runs_a_function_that_records_it_in_dynamodb(cloud: Cloud, lam: Any, role: str) -> None:
    dynamodb = boto3.resource("dynamodb", endpoint_url=cloud.endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=BotoConfig(retries={"max_attempts": 1}))
    table = dynamodb.create_table(TableName=_unique("uploads"), BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}])
    table.wait_until_exists()
    name = _unique("index-upload")
    fn = create_function(lam, role, name, python_zip(UPLOAD_INDEXER),
                         Environment={"Variables": {"TABLE_NAME": table.name}})
    s3 = cloud.client("s3")
    bucket = _unique("stories-uploads")
    s3.create_bucket(Bucket=bucket)
    lam.add_permission(FunctionName=name, StatementId="s3-invoke", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount=ACCOUNT)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "Id": "index-uploads", "LambdaFunctionArn": fn["FunctionArn"], "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
        }],
    })
    s3.put_object(Bucket=bucket, Key="notes/not-indexed.txt", Body=b"outside the prefix")
    s3.put_object(Bucket=bucket, Key="uploads/report 2026.csv", Body=b"a,b\n1,2\n")

    item = eventually(lambda: table.get_item(Key={"key": "uploads/report 2026.csv"}, ConsistentRead=True).get("Item"),
                      timeout=20, what="the function's DynamoDB item")
    assert item == {"key": "uploads/report 2026.csv", "bucket": bucket, "size": 8,
                    "event": "ObjectCreated:Put", "indexed_by": name}
    assert [i["key"] for i in table.scan(ConsistentRead=True)["Items"]] == ["uploads/report 2026.csv"]


# -- 2. SQS event source mapping, partial batch failures ----------------------------------

PARTIAL_BATCH = """
    def handler(event, context):
        # report only the messages that failed: Lambda deletes the rest
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in event["Records"] if r["body"].startswith("fail")]}
"""


def test_a_queue_feeds_a_function_and_only_the_messages_it_reports_as_failed_come_back(
        cloud: Cloud, lam: Any, role: str) -> None:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=_unique("orders"), Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bodies = ["ok-1", "fail-2", "ok-3", "fail-4", "ok-5"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])
    name = _unique("order-worker")
    create_function(lam, role, name, python_zip(PARTIAL_BATCH))

    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    def counts() -> tuple[int, int]:
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    # the three good ones are deleted; the two failed ones wait out their visibility timeout
    eventually(lambda: counts() == (0, 2), timeout=20, what="the batch to be processed")
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    eventually(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled",
               timeout=10, what="the mapping to be disabled")
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None

    cloud.advance(31)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                AttributeNames=["ApproximateReceiveCount"]).get("Messages") or []
    assert sorted(m["Body"] for m in again) == ["fail-2", "fail-4"]
    assert all(int(m["Attributes"]["ApproximateReceiveCount"]) >= 2 for m in again)
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


# -- 3. asynchronous invocation, retries, on-failure destination ---------------------------

ALWAYS_FAILS = """
    class PaymentDeclined(Exception):
        pass


    def handler(event, context):
        raise PaymentDeclined(f"card {event['card']} declined")
"""


def test_a_failing_async_invocation_is_retried_twice_then_recorded_in_the_failure_queue(
        cloud: Cloud, lam: Any, role: str) -> None:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=_unique("payments-failed"))["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = _unique("charge-card")
    fn = create_function(lam, role, name, python_zip(ALWAYS_FAILS))
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": qarn}})

    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"card": "4242"}))
    assert resp["StatusCode"] == 202
    request_id = resp["ResponseMetadata"]["RequestId"]

    # retries wait 1 then 2 minutes of cloudlet time: step the clock until the record lands
    advanced, deadline = 0, time.monotonic() + 30
    got: list[dict[str, Any]] = []
    while not got and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") or []
        if not got:
            cloud.advance(61)
            advanced += 61
            time.sleep(0.2)  # let the retry that came due run its sandbox
    assert len(got) == 1, "no invocation record reached the on-failure queue"
    assert advanced >= 180, f"three attempts within {advanced} s of cloudlet time: the retries came early"

    record = json.loads(got[0]["Body"])
    assert record["version"] == "1.0"
    datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
    assert record["requestContext"] == {"requestId": request_id, "functionArn": f"{fn['FunctionArn']}:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == {"card": "4242"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "PaymentDeclined"
    assert record["responsePayload"]["errorMessage"] == "card 4242 declined"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    cloud.advance(300)  # nothing more comes: the event was discarded once recorded
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None

    # each attempt, under the same request id, failed the same way in the function's log
    logs = cloud.client("logs")

    def three_attempts() -> str | None:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        text = "\n".join(e["message"] for e in events)
        return text if text.count(f"REPORT RequestId: {request_id}") == 3 else None

    text = eventually(three_attempts, timeout=10, what="three attempts in the function's log")
    assert text.count(f"START RequestId: {request_id} Version: $LATEST") == 3
    assert text.count("PaymentDeclined: card 4242 declined") == 3, text
    assert "Task timed out" not in text, text


# -- 4. weighted alias ------------------------------------------------------------------

def _versioned(code: str) -> str:
    return f"""
        def handler(event, context):
            return {{"version": context.function_version, "code": "{code}"}}
    """


def test_an_alias_sends_about_a_tenth_of_its_invocations_to_the_new_version(lam: Any, role: str) -> None:
    name = _unique("greeter")
    create_function(lam, role, name, python_zip(_versioned("one")))
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=python_zip(_versioned("two")))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}

    seen: Counter[str] = Counter()
    for _ in range(300):
        resp, payload = invoke(lam, name, Qualifier="live")
        out = json.loads(payload)
        assert out == {"version": resp["ExecutedVersion"], "code": {"1": "one", "2": "two"}[resp["ExecutedVersion"]]}
        seen[resp["ExecutedVersion"]] += 1
    # 300 draws at 10%: 30 expected, sd ~5.2; the band only fails a broken router
    assert set(seen) == {"1", "2"} and 10 <= seen["2"] <= 60, seen


# -- 5. a custom runtime in bash ---------------------------------------------------------

# The shape of AWS's custom runtime tutorial: the bootstrap sources the handler's script,
# then loops on the Runtime API with curl.
BOOTSTRAP = """
    #!/bin/bash
    set -euo pipefail

    # _HANDLER is "<script>.<function>": load the script once, at init
    source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"

    while true; do
      HEADERS="$(mktemp)"
      # blocks until Lambda has an event for this sandbox
      EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
      REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
      RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
      curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE"
      rm -f "$HEADERS"
    done
"""

ECHO_SCRIPT = """
    function handler () {
      EVENT_DATA=$1
      echo "got event: $EVENT_DATA" 1>&2
      echo "Echoing request: '$EVENT_DATA'"
    }
"""


def test_a_custom_runtime_written_in_bash_answers_through_the_runtime_api(lam: Any, role: str) -> None:
    name = _unique("bash-echo")
    create_function(lam, role, name, custom_runtime_zip(BOOTSTRAP, function=ECHO_SCRIPT),
                    runtime="provided.al2023", handler="function.handler")
    event = json.dumps({"text": "Hello"}, separators=(",", ":"))
    resp = lam.invoke(FunctionName=name, Payload=event, LogType="Tail")
    assert "FunctionError" not in resp
    assert resp["Payload"].read().decode() == f"Echoing request: '{event}'"
    assert f"got event: {event}" in base64.b64decode(resp["LogResult"]).decode()
    # the same sandbox takes the next event from the loop
    resp = lam.invoke(FunctionName=name, Payload='{"n":2}')
    assert resp["Payload"].read() == b"""Echoing request: '{"n":2}'"""


# -- 6. a function URL ------------------------------------------------------------------

URL_APP = """
    import base64
    import json


    def handler(event, context):
        body = event.get("body")
        if body is not None and event["isBase64Encoded"]:
            body = base64.b64decode(body).decode()
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Served-By": context.function_name},
            "body": json.dumps({
                "version": event["version"],
                "rawPath": event["rawPath"],
                "rawQueryString": event["rawQueryString"],
                "queryStringParameters": event.get("queryStringParameters"),
                "method": event["requestContext"]["http"]["method"],
                "greeting": event["headers"].get("x-greeting"),
                "body": body,
            }),
        }
"""


def _curl(url: str, *args: str) -> tuple[int, dict[str, str], bytes]:
    """curl's view of a request: status, headers (lower-cased names), body."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    # *.localhost may not resolve here: pin the URL's host to the loopback, as a hosts entry would
    out = subprocess.run(["curl", "-sS", "-i", "--max-time", "20", "--resolve", f"{host}:{port}:127.0.0.1",
                          *args, url], capture_output=True, check=True, timeout=30)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_function_url_answers_curl_with_what_the_function_returned(lam: Any, role: str) -> None:
    name = _unique("web")
    create_function(lam, role, name, python_zip(URL_APP))
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    assert urllib.parse.urlsplit(url).path == "/"
    target = url + "items/42?name=ada&tag=x&tag=y"
    request = ("-X", "POST", "-H", "X-Greeting: hi", "-H", "Content-Type: text/plain", "--data", "hello")
    # AuthType NONE skips authentication, not the function's policy: it must let everyone in
    lam.add_permission(FunctionName=name, StatementId="public-url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    lam.add_permission(FunctionName=name, StatementId="public-invoke", Action="lambda:InvokeFunction",
                       Principal="*", InvokedViaFunctionUrl=True)

    status, headers, body = _curl(target, *request)
    assert status == 201, body
    assert headers["x-served-by"] == name
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "version": "2.0", "rawPath": "/items/42", "rawQueryString": "name=ada&tag=x&tag=y",
        "queryStringParameters": {"name": "ada", "tag": "x,y"},  # payload 2.0 joins repeats with commas
        "method": "POST", "greeting": "hi", "body": "hello",
    }


# -- 7. Node.js ---------------------------------------------------------------------------

NODE_APP = """
    export const handler = async (event, context) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return {
        sum: event.numbers.reduce((a, b) => a + b, 0),
        requestId: context.awsRequestId,
        env: process.env.AWS_EXECUTION_ENV,
      };
    };
"""


def test_a_nodejs_async_handler_returns_its_result(lam: Any, role: str) -> None:
    name = _unique("node-sum")
    create_function(lam, role, name, node_zip(NODE_APP), runtime="nodejs20.x", handler="index.handler")
    resp, payload = invoke(lam, name, {"numbers": [1, 2, 3, 4]})
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp, payload
    assert json.loads(payload) == {"sum": 10, "requestId": resp["ResponseMetadata"]["RequestId"],
                                   "env": "AWS_Lambda_nodejs20.x"}


# -- 8. a timeout ------------------------------------------------------------------------

SLEEPER = """
    import time


    def handler(event, context):
        time.sleep(event["sleep"])
        return "woke up"
"""


def test_a_function_that_outlives_its_timeout_is_stopped(lam: Any, role: str) -> None:
    name = _unique("sleeper")
    create_function(lam, role, name, python_zip(SLEEPER), Timeout=1)
    started = time.monotonic()
    resp, payload = invoke(lam, name, {"sleep": 3})
    assert time.monotonic() - started < 2.9, "the invocation ran to the end of the sleep"
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    error = json.loads(payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    # the timed-out sandbox is gone: the next invocation, at once, gets a fresh one
    resp, payload = invoke(lam, name, {"sleep": 0})
    assert "FunctionError" not in resp, payload
    assert json.loads(payload) == "woke up"


# -- 9. logs -----------------------------------------------------------------------------

GREETER = """
    def handler(event, context):
        print(f"hello from {context.function_name}: {event['who']}")
        return "done"
"""


def _invocation_lines(request_id: str) -> list[str]:
    return [f"START RequestId: {request_id} Version: $LATEST", f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: "]


def test_log_type_tail_returns_the_invocation_log(lam: Any, role: str) -> None:
    name = _unique("tail")
    create_function(lam, role, name, python_zip(GREETER))
    resp, payload = invoke(lam, name, {"who": "ada"}, LogType="Tail")
    assert json.loads(payload) == "done"
    rid = resp["ResponseMetadata"]["RequestId"]
    log = base64.b64decode(resp["LogResult"]).decode()
    assert f"hello from {name}: ada" in log
    for line in _invocation_lines(rid):
        assert line in log, log
    assert re.search(rf"REPORT RequestId: {rid}\tDuration: \d+(\.\d+)? ms\tBilled Duration: \d+ ms\t"
                     r"Memory Size: 128 MB\tMax Memory Used: \d+ MB", log), log
    assert log.index("START") < log.index("hello from") < log.index("END") < log.index("REPORT")


def test_the_same_lines_are_in_cloudwatch_logs(cloud: Cloud, lam: Any, role: str) -> None:
    logs = cloud.client("logs")
    try:
        logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip(f"CloudWatch Logs is not implemented on this server: {e.response['Error']['Message']}")
        raise
    name = _unique("logged")
    create_function(lam, role, name, python_zip(GREETER))
    resp, _ = invoke(lam, name, {"who": "grace"})
    rid = resp["ResponseMetadata"]["RequestId"]
    wanted = [f"hello from {name}: grace", *_invocation_lines(rid)]

    def shipped() -> str | None:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return None  # the group is created with the first shipment
            raise
        text = "\n".join(e["message"] for e in events)
        return text if all(w in text for w in wanted) else None

    text = eventually(shipped, timeout=15, what=f"the invocation's lines in /aws/lambda/{name}")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert len(streams) == 1 and re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", streams[0]["logStreamName"])
    assert text.index("START") < text.index("hello from") < text.index("END") < text.index("REPORT")
