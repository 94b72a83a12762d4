"""Invoke over HTTP with boto3: results, function errors with their log tail, DryRun,
the errors AWS answers, throttling by reserved concurrency, weighted aliases."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from collections import Counter

import botocore.exceptions
import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

ECHO = '''
import json, os
def handler(event, context):
    print("echo-log-line", json.dumps(event))
    return {"event": event, "rid": context.aws_request_id, "name": context.function_name,
            "arn": context.invoked_function_arn, "version": context.function_version}
'''

FAIL = '''
def handler(event, context):
    print("about-to-fail")
    raise ValueError("boom " + str(event.get("n")))
'''


def zipped(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", source)
    return buf.getvalue()


def make(lam, source: str = ECHO, **extra) -> str:
    name = f"f-{uuid.uuid4().hex[:10]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": zipped(source)}, **extra)
    return name


@pytest.fixture(scope="module")
def lam(cloud):
    return cloud.client("lambda")


def test_request_response_returns_the_result(lam):
    name = make(lam)
    out = lam.invoke(FunctionName=name, Payload=b'{"a": 1}')
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    assert out["ExecutedVersion"] == "$LATEST"
    body = json.loads(out["Payload"].read())
    assert body["event"] == {"a": 1} and body["name"] == name and body["version"] == "$LATEST"
    assert body["rid"] == out["ResponseMetadata"]["RequestId"]
    assert body["arn"].endswith(f":function:{name}")


def test_empty_payload_is_an_empty_event(lam):
    name = make(lam)
    body = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert body["event"] == {}


def test_function_error_and_log_tail(lam):
    name = make(lam, FAIL)
    out = lam.invoke(FunctionName=name, Payload=b'{"n": 7}', LogType="Tail")
    assert out["StatusCode"] == 200 and out["FunctionError"] == "Unhandled"
    err = json.loads(out["Payload"].read())
    assert err["errorType"] == "ValueError" and err["errorMessage"] == "boom 7"
    log = base64.b64decode(out["LogResult"]).decode()
    assert "about-to-fail" in log and "REPORT RequestId:" in log
    assert len(base64.b64decode(out["LogResult"])) <= 4096


def test_no_tail_without_log_type(lam):
    name = make(lam)
    assert "LogResult" not in lam.invoke(FunctionName=name)


def test_dry_run_is_204_and_runs_nothing(lam):
    name = make(lam)
    out = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert out["StatusCode"] == 204 and out["Payload"].read() == b""


def test_unknown_function(lam):
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.invoke(FunctionName="no-such-fn", Payload=b"{}")
    assert "Function not found: arn:aws:lambda:us-east-1:" in e.value.response["Error"]["Message"]


def test_payload_not_json(lam):
    name = make(lam)
    with pytest.raises(lam.exceptions.InvalidRequestContentException) as e:
        lam.invoke(FunctionName=name, Payload=b"not json")
    assert e.value.response["Error"]["Message"].startswith("Could not parse request body into json")


def test_payload_too_large_for_event(lam):
    name = make(lam)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'"' + b"a" * 300_000 + b'"')
    assert e.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_reserved_concurrency_zero_throttles(lam):
    name = make(lam)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    err = e.value.response["Error"]
    assert err["Message"] == "Rate Exceeded."
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_qualifier_and_version(lam):
    name = make(lam)
    v = lam.publish_version(FunctionName=name)["Version"]
    out = lam.invoke(FunctionName=name, Qualifier=v, Payload=b"{}")
    assert out["ExecutedVersion"] == v
    assert json.loads(out["Payload"].read())["arn"].endswith(f":function:{name}:{v}")


def test_weighted_alias_routes_by_weight(lam):
    name = make(lam)
    v1 = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_configuration(FunctionName=name, Description="second")
    v2 = lam.publish_version(FunctionName=name)["Version"]
    assert v1 != v2
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v1,
                     RoutingConfig={"AdditionalVersionWeights": {v2: 0.5}})
    seen = Counter(lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")["ExecutedVersion"]
                   for _ in range(60))
    assert set(seen) == {v1, v2}, seen
    assert 10 <= seen[v2] <= 50, seen  # p(outside) < 1e-5 at a weight of 0.5


def test_response_stream_answers_chunks_and_completion(lam):
    name = make(lam)
    out = lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"s": 1}', LogType="Tail")
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    chunks, complete = b"", None
    for event in out["EventStream"]:
        if "PayloadChunk" in event:
            chunks += event["PayloadChunk"]["Payload"]
        if "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    assert json.loads(chunks)["event"] == {"s": 1}
    assert complete is not None and "echo-log-line" in base64.b64decode(complete["LogResult"]).decode()


def test_logs_are_shipped(cloud, lam):
    """To CloudWatch Logs when cloudlet has it, else to the admin API's in-memory tail."""
    import time

    from cloudlet.services import registry

    name = make(lam)
    marker = uuid.uuid4().hex
    lam.invoke(FunctionName=name, Payload=json.dumps({"m": marker}).encode())
    if registry.handler_for("logs", "PutLogEvents") is not None:
        logs = cloud.client("logs")
        deadline = time.monotonic() + 5
        while True:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}").get("events", [])
            if any(marker in e["message"] for e in events) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        messages = [e["message"] for e in events]
        streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
        assert streams and "[$LATEST]" in streams[0]["logStreamName"]
    else:
        messages = [e["message"] for e in cloud.admin("GET", f"lambda/logs?function={name}")["events"]]
    assert any(marker in m for m in messages), messages
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") for m in messages)



CONTEXT = '''
def handler(event, context):
    cc = context.client_context
    return {"custom": cc.custom if cc else None}
'''


def test_client_context_reaches_the_function(lam):
    name = make(lam, CONTEXT)
    header = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    out = lam.invoke(FunctionName=name, ClientContext=header, Payload=b"{}")
    assert json.loads(out["Payload"].read()) == {"custom": {"k": "v"}}
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=name, ClientContext="%%%", Payload=b"{}")


def test_strict_runtimes_refuses_what_cannot_run():
    from tests.cloud import Cloud

    strict = Cloud("--strict-runtimes")
    try:
        lam = strict.client("lambda")
        lam.create_function(FunctionName="rb", Runtime="ruby3.3", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": zipped(ECHO)})
        with pytest.raises(lam.exceptions.InvalidRuntimeException) as e:
            lam.invoke(FunctionName="rb", Payload=b"{}")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert "ruby3.3" in e.value.response["Error"]["Message"]
    finally:
        strict.stop()


SLEEPS = '''
import time
def handler(event, context):
    time.sleep(event["s"])
    return "slept"
'''


def test_a_running_invoke_does_not_block_the_server(lam):
    import threading
    import time

    name = make(lam, SLEEPS, Timeout=10)
    lam.invoke(FunctionName=name, Payload=b'{"s": 0}')  # warm: the cold start is not what is measured
    done: list[float] = []

    def slow() -> None:
        t0 = time.monotonic()
        lam.invoke(FunctionName=name, Payload=b'{"s": 2}')
        done.append(time.monotonic() - t0)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    lam.get_function_configuration(FunctionName=name)
    quick = time.monotonic() - t0
    t.join(15)
    assert done and done[0] >= 2.0
    assert quick < 1.0, f"an API call waited {quick:.2f} s behind a running function"
