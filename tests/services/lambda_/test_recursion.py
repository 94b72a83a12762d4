"""Recursive loop detection over HTTP: a function fed by an SQS mapping that sends the
same message back to its own queue (boto3 inside carries _X_AMZN_TRACE_ID on as
X-Amzn-Trace-Id, SQS keeps it as AWSTraceHeader) is stopped after 16 invocations unless
its recursion config says Allow; Put/GetFunctionRecursionConfig."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.cloud import Cloud
from tests.services.lambda_.esm_support import RUNTIME, counts, name, queue, role, wait_for, zipped

# Each invocation reports its trace header to OUT, then sends its record's body back to SRC.
LOOPER = '''
import json, os
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    trace = os.environ.get("_X_AMZN_TRACE_ID")
    sqs.send_message(QueueUrl=os.environ["OUT"], MessageBody=json.dumps({"trace": trace}))
    for r in event["Records"]:
        sqs.send_message(QueueUrl=os.environ["SRC"], MessageBody=r["body"])
    return {}
'''


@pytest.fixture(scope="module")
def cloud():
    c = Cloud()
    yield c
    c.stop()


def _looper(cloud: Cloud, src_url: str, out_url: str) -> str:
    lam = cloud.client("lambda")
    fn = lam.create_function(
        FunctionName=name("loop-fn"), Runtime=RUNTIME, Role=role(cloud), Handler="index.handler",
        Code={"ZipFile": zipped(LOOPER)}, Timeout=30, Environment={"Variables": {"OUT": out_url, "SRC": src_url}},
    )
    wait_for(lambda: lam.get_function_configuration(FunctionName=fn["FunctionArn"]).get("State") == "Active",
             "the function to become Active")
    return fn["FunctionArn"]


def _drain(cloud: Cloud, url: str, into: list[str]) -> None:
    sqs = cloud.client("sqs")
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return
        for m in got:
            into.append(json.loads(m["Body"])["trace"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _lineage(trace: str) -> int:
    """This test's one function's count in a trace header's Lineage."""
    fields = dict(part.split("=", 1) for part in trace.split(";"))
    (entry,) = fields["Lineage"].split("|")
    return int(entry.split(":")[1])


def test_a_loop_through_sqs_is_stopped_after_16_invocations(cloud: Cloud) -> None:
    dlq_url, dlq_arn = queue(cloud)
    src_url, src_arn = queue(cloud, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}))
    out_url, _ = queue(cloud)
    fn = _looper(cloud, src_url, out_url)
    lam, sqs = cloud.client("lambda"), cloud.client("sqs")
    assert lam.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Terminate"
    m = lam.create_event_source_mapping(EventSourceArn=src_arn, FunctionName=fn, BatchSize=1)
    sqs.send_message(QueueUrl=src_url, MessageBody="around and around")
    # the 17th arrival is dropped: moved to the source queue's dead-letter queue
    moved = wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url, AttributeNames=["All"]).get("Messages"),
                     "the looping message in the dead-letter queue", timeout=60)
    assert moved[0]["Body"] == "around and around"
    wait_for(lambda: counts(cloud, src_url) == (0, 0), "the source queue to be empty")
    traces: list[str] = []
    _drain(cloud, out_url, traces)
    assert len(traces) == 16
    assert sorted(_lineage(t) for t in traces) == list(range(1, 17))
    roots = {t.split(";")[0] for t in traces}
    assert len(roots) == 1 and next(iter(roots)).startswith("Root=1-")  # one chain throughout
    time.sleep(1.5)  # nothing more runs
    _drain(cloud, out_url, traces)
    assert len(traces) == 16
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_recursion_allowed_keeps_the_loop_going(cloud: Cloud) -> None:
    src_url, src_arn = queue(cloud)
    out_url, _ = queue(cloud)
    fn = _looper(cloud, src_url, out_url)
    lam = cloud.client("lambda")
    assert lam.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    m = lam.create_event_source_mapping(EventSourceArn=src_arn, FunctionName=fn, BatchSize=1)
    cloud.client("sqs").send_message(QueueUrl=src_url, MessageBody="again")
    traces: list[str] = []

    def enough() -> bool:
        _drain(cloud, out_url, traces)
        return len(traces) >= 25

    wait_for(enough, "25 invocations", timeout=60)
    lam.update_event_source_mapping(UUID=m["UUID"], Enabled=False)
    assert max(_lineage(t) for t in traces) >= 25
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_recursion_config_shapes_and_validation(cloud: Cloud) -> None:
    out_url, _ = queue(cloud)
    fn = _looper(cloud, out_url, out_url)
    fn_name = fn.rsplit(":", 1)[1]
    lam = cloud.client("lambda")
    assert lam.get_function_recursion_config(FunctionName=fn_name)["RecursiveLoop"] == "Terminate"
    assert lam.put_function_recursion_config(FunctionName=fn_name, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Allow"
    lam.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Terminate")
    assert lam.get_function_recursion_config(FunctionName=fn_name)["RecursiveLoop"] == "Terminate"
    with pytest.raises(ClientError) as bad:
        lam.put_function_recursion_config(FunctionName=fn_name, RecursiveLoop="Sometimes")
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as missing:
        lam.get_function_recursion_config(FunctionName="no-such-function")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_sqs_keeps_the_trace_header_as_aws_trace_header(cloud: Cloud) -> None:
    url, _ = queue(cloud)
    sqs = cloud.client("sqs")
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=abcd0123:3"

    def add_header(request, **_kw):  # what botocore does inside a function
        request.headers["X-Amzn-Trace-Id"] = header

    sqs.meta.events.register("before-sign.sqs.SendMessage", add_header)
    sqs.send_message(QueueUrl=url, MessageBody="traced")
    sqs.meta.events.unregister("before-sign.sqs.SendMessage", add_header)
    explicit = "Root=1-5759e988-bd862e3fe1be46a994272794"
    sqs.send_message(QueueUrl=url, MessageBody="explicit", MessageSystemAttributes={
        "AWSTraceHeader": {"DataType": "String", "StringValue": explicit}})
    sqs.send_message(QueueUrl=url, MessageBody="plain")
    got = {}
    for _ in range(5):
        for msg in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageSystemAttributeNames=["All"]).get("Messages", []):
            got[msg["Body"]] = msg.get("Attributes", {}).get("AWSTraceHeader")
        if len(got) == 3:
            break
    assert got == {"traced": header, "explicit": explicit, "plain": None}


def test_lineage_counts_per_function_and_loops_reads_the_config_only_at_the_limit():
    import datetime as dt
    from types import SimpleNamespace

    from cloudlet.core import clock, metrics as core_metrics
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway
    from cloudlet.services.lambda_ import lineage, metrics, storage

    f = "arn:aws:lambda:us-east-1:123456789012:function:f"
    g = "arn:aws:lambda:us-east-1:123456789012:function:g"
    first = lineage.next_header(None, f)
    assert first.startswith("Root=1-") and first.endswith(f"Lineage={lineage.tag(f)}:1")
    second = lineage.next_header(lineage.next_header(first, g), f)
    assert second.split(";")[0] == first.split(";")[0]  # the same Root: one chain
    assert (lineage.count(second, f), lineage.count(second, g)) == (2, 1)
    assert lineage.count("Root=1-abc;Lineage=junk", f) == 0 and lineage.count(None, f) == 0
    assert lineage.highest([None, first, second], f) == second

    gw = Gateway(Config(ephemeral=True))
    target = SimpleNamespace(function_name="f", function_arn=f, invoked_arn=f, account="123456789012",
                             region="us-east-1")
    at_limit = f"Root=1-abc;Lineage={lineage.tag(f)}:{lineage.LIMIT}"
    below = f"Root=1-abc;Lineage={lineage.tag(f)}:{lineage.LIMIT - 1}"
    assert not lineage.loops(gw, target, below)  # below the limit: the store is not even read
    assert lineage.loops(gw, target, at_limit)  # Terminate is the default
    with gw.db("lambda").tx("123456789012", "us-east-1") as t:
        storage.put_function(t, "f", {"config": {"FunctionName": "f"}, lineage.FIELD: lineage.ALLOW})
    assert not lineage.loops(gw, target, at_limit)

    metrics.recursion_dropped(gw, target, 3)
    now = clock.now()
    (point,) = core_metrics.query(gw, "123456789012", "us-east-1", "AWS/Lambda", "RecursiveInvocationsDropped",
                                  {"FunctionName": "f"}, now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5),
                                  600)
    assert point.sum == 3


def test_invoke_carries_the_lineage_on_and_refuses_a_loop(cloud: Cloud) -> None:
    from cloudlet.services.lambda_ import lineage

    out_url, _ = queue(cloud)
    fn = _looper(cloud, out_url, out_url)
    lam = cloud.client("lambda")
    sent = {"header": ""}

    def add_header(request, **_kw):  # what botocore does inside a function
        request.headers["X-Amzn-Trace-Id"] = sent["header"]

    lam.meta.events.register("before-sign.lambda.Invoke", add_header)
    sent["header"] = f"Root=1-5759e988-bd862e3fe1be46a994272793;Lineage={lineage.tag(fn)}:{lineage.LIMIT - 1}"
    lam.invoke(FunctionName=fn, Payload=b'{"Records": []}')
    traces: list[str] = []
    wait_for(lambda: _drain(cloud, out_url, traces) or traces, "the function's report")
    assert traces == [f"Root=1-5759e988-bd862e3fe1be46a994272793;Parent={traces[0].split(';')[1][7:]};"
                      f"Sampled=0;Lineage={lineage.tag(fn)}:{lineage.LIMIT}"]
    sent["header"] = f"Root=1-5759e988-bd862e3fe1be46a994272793;Lineage={lineage.tag(fn)}:{lineage.LIMIT}"
    with pytest.raises(ClientError) as looped:
        lam.invoke(FunctionName=fn, Payload=b'{"Records": []}')
    assert looped.value.response["Error"]["Code"] == "RecursiveInvocationException"
    assert looped.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    lam.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Allow")
    assert lam.invoke(FunctionName=fn, Payload=b'{"Records": []}')["StatusCode"] == 200
    lam.meta.events.unregister("before-sign.lambda.Invoke", add_header)


def test_an_async_loop_goes_to_the_dead_letter_queue_unrun(cloud: Cloud) -> None:
    from cloudlet.services.lambda_ import lineage

    out_url, _ = queue(cloud)
    dlq_url, dlq_arn = queue(cloud)
    fn = _looper(cloud, out_url, out_url)
    lam = cloud.client("lambda")
    lam.update_function_configuration(FunctionName=fn, DeadLetterConfig={"TargetArn": dlq_arn})
    wait_for(lambda: lam.get_function_configuration(FunctionName=fn).get("LastUpdateStatus") == "Successful",
             "the update")
    header = f"Root=1-5759e988-bd862e3fe1be46a994272793;Lineage={lineage.tag(fn)}:{lineage.LIMIT}"

    def add_header(request, **_kw):
        request.headers["X-Amzn-Trace-Id"] = header

    lam.meta.events.register("before-sign.lambda.Invoke", add_header)
    assert lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b'{"Records": ["x"]}')["StatusCode"] == 202
    lam.meta.events.unregister("before-sign.lambda.Invoke", add_header)
    sqs = cloud.client("sqs")
    got = wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url).get("Messages"), "the event in the DLQ")
    assert json.loads(got[0]["Body"]) == {"Records": ["x"]}
    assert counts(cloud, out_url) == (0, 0)  # never ran
