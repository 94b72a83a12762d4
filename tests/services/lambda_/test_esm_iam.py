"""Event source mappings with `--enforce-iam`: the pollers read as the function's execution
role, so a role that may not read its source is refused at CreateEventSourceMapping, and a
role that loses its permissions later leaves the mapping reporting the problem until it
may again. All over HTTP with boto3, as a user would see it."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudlet.core.errors import ServiceError
from cloudlet.services.lambda_ import esm

from tests.cloud import Cloud
from tests.services.lambda_.esm_support import RUNTIME, counts, name, queue, wait_for, zipped

ACCOUNT = "000000000000"  # the default key's account
HANDLER = "def handler(event, context):\n    return {}\n"
POLL = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
PROBLEM = "PROBLEM: Lambda function execution role does not have permissions to call ReceiveMessage on SQS"


@pytest.fixture(scope="module")
def cloud():
    c = Cloud("--enforce-iam")
    yield c
    c.stop()


def doc(actions: tuple[str, ...], resource: str) -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]})


def function(cloud: Cloud) -> tuple[str, str]:
    """A function that does nothing, with a role Lambda may assume and nothing else: (ARN, role name)."""
    iam = cloud.client("iam")
    role_name = name("esm-iam-role")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam = cloud.client("lambda")
    fn = lam.create_function(FunctionName=name("esm-iam"), Runtime=RUNTIME, Role=role_arn, Handler="index.handler",
                             Code={"ZipFile": zipped(HANDLER)}, Timeout=30)
    wait_for(lambda: lam.get_function_configuration(FunctionName=fn["FunctionArn"]).get("State") == "Active",
             "the function to become Active")
    return fn["FunctionArn"], role_name


def refused(call, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value


def test_a_role_that_may_not_read_the_queue_is_refused(cloud: Cloud) -> None:
    fn, role_name = function(cloud)
    _, arn = queue(cloud)
    lam, iam = cloud.client("lambda"), cloud.client("iam")
    err = refused(lam.create_event_source_mapping, EventSourceArn=arn, FunctionName=fn)
    assert err.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.response["Error"]["Message"] == \
        "The provided execution role does not have permissions to call ReceiveMessage on SQS"
    # AWS names the first permission missing
    iam.put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(POLL[:1], arn))
    err = refused(lam.create_event_source_mapping, EventSourceArn=arn, FunctionName=fn)
    assert err.response["Error"]["Message"] == \
        "The provided execution role does not have permissions to call DeleteMessage on SQS"
    # permissions on another queue are no permissions on this one
    iam.put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(POLL, arn + "-other"))
    refused(lam.create_event_source_mapping, EventSourceArn=arn, FunctionName=fn)
    iam.put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(POLL, arn))
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, Enabled=False)["UUID"]
    lam.delete_event_source_mapping(UUID=uuid)


def test_a_role_that_may_not_read_the_stream_is_refused(cloud: Cloud) -> None:
    fn, role_name = function(cloud)
    ddb = cloud.client("dynamodb")
    table = ddb.create_table(
        TableName=name("esm-iam-t"), KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    stream = table["LatestStreamArn"]
    lam = cloud.client("lambda")
    err = refused(lam.create_event_source_mapping, EventSourceArn=stream, FunctionName=fn,
                  StartingPosition="TRIM_HORIZON")
    assert err.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.response["Error"]["Message"] == (
        f"Cannot access stream {stream}. Please ensure the role can perform the GetRecords, GetShardIterator, "
        "DescribeStream, ListShards, and ListStreams Actions on your stream in IAM.")
    cloud.client("iam").put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(
        ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"),
        stream))
    uuid = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, StartingPosition="TRIM_HORIZON",
                                           Enabled=False)["UUID"]
    lam.delete_event_source_mapping(UUID=uuid)


def test_the_poller_reads_as_the_role_and_reports_a_lost_permission(cloud: Cloud) -> None:
    fn, role_name = function(cloud)
    url, arn = queue(cloud, VisibilityTimeout="1")
    lam, iam, sqs = cloud.client("lambda"), cloud.client("iam"), cloud.client("sqs")
    iam.put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(POLL, arn))
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=1)["UUID"]

    sqs.send_message(QueueUrl=url, MessageBody="first")
    wait_for(lambda: counts(cloud, url) == (0, 0), "the message to be handled and deleted")

    # the role loses its policy: the poller's reads are refused as the role's session
    iam.delete_role_policy(RoleName=role_name, PolicyName="poll")
    sqs.send_message(QueueUrl=url, MessageBody="second")
    got = wait_for(lambda: lam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult") == PROBLEM
                   and lam.get_event_source_mapping(UUID=uuid), "the mapping to report the problem")
    assert got["State"] == "Enabled"  # it keeps trying
    events = cloud.admin("GET", "audit?eventSource=sqs.amazonaws.com&eventName=ReceiveMessage&limit=500")["events"]
    refusals = [e for e in events if e.get("errorCode") == "AccessDenied"
                and (e["requestParameters"] or {}).get("QueueUrl", "").endswith(arn.split(":")[5])]
    assert refusals, events
    who = refusals[-1]["userIdentity"]
    function_name = fn.split(":")[6]
    assert who["type"] == "AssumedRole"
    assert who["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{function_name}"
    assert who["accessKeyId"].startswith("ASIA")
    assert counts(cloud, url) == (1, 0)  # nothing read, nothing lost

    # the permission comes back: the mapping goes on and says so
    iam.put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(POLL, arn))
    wait_for(lambda: counts(cloud, url) == (0, 0), "the waiting message to be handled")
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult") != PROBLEM,
             "the problem to clear")
    lam.delete_event_source_mapping(UUID=uuid)


STREAM_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams")


def test_a_stream_poller_reports_a_lost_permission_and_goes_on(cloud: Cloud) -> None:
    fn, role_name = function(cloud)
    ddb, lam, iam = cloud.client("dynamodb"), cloud.client("lambda"), cloud.client("iam")
    table = ddb.create_table(
        TableName=name("esm-iam-s"), KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    stream = table["LatestStreamArn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(STREAM_READ, stream))
    uuid = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn,
                                           StartingPosition="TRIM_HORIZON")["UUID"]
    ddb.put_item(TableName=table["TableName"], Item={"pk": {"S": "1"}})
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult") == "OK",
             "the first record to be handled")

    iam.delete_role_policy(RoleName=role_name, PolicyName="poll")
    got = wait_for(lambda: (r := lam.get_event_source_mapping(UUID=uuid))["LastProcessingResult"].startswith(
        "PROBLEM: Lambda function execution role does not have permissions to call ") and r,
        "the mapping to report the problem")
    assert got["LastProcessingResult"].endswith(" on the stream")
    assert got["State"] == "Enabled"

    iam.put_role_policy(RoleName=role_name, PolicyName="poll", PolicyDocument=doc(STREAM_READ, stream))
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult") == "OK",
             "the problem to clear")
    lam.delete_event_source_mapping(UUID=uuid)


def test_without_a_role_to_assume_the_poller_reads_as_lambda() -> None:
    """No --enforce-iam and a role that was never created (local tests often have none):
    the mapping is accepted and the poller still reads, as Lambda itself."""
    c = Cloud()
    try:
        lam = c.client("lambda")
        fn = lam.create_function(FunctionName=name("esm-norole"), Runtime=RUNTIME,
                                 Role=f"arn:aws:iam::{ACCOUNT}:role/never-created", Handler="index.handler",
                                 Code={"ZipFile": zipped(HANDLER)}, Timeout=30)["FunctionArn"]
        wait_for(lambda: lam.get_function_configuration(FunctionName=fn).get("State") == "Active", "Active")
        url, arn = queue(c)
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=1)
        c.client("sqs").send_message(QueueUrl=url, MessageBody="hello")
        wait_for(lambda: counts(c, url) == (0, 0), "the message to be handled and deleted")
    finally:
        c.stop()


class _Env:
    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.writes: list[dict[str, Any]] = []

    def update(self, mapping: dict[str, Any], **fields: Any) -> None:
        if all(mapping.get(k) == v for k, v in fields.items()):
            return
        mapping.update(fields)
        self.writes.append(fields)


def test_a_refusal_is_reported_once_and_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(esm, "DENIED_PAUSE_S", 0.0)
    env = _Env()
    mapping = {"UUID": "u-1", "LastProcessingResult": "No records processed"}
    worker = esm.Worker(env, mapping)  # type: ignore[arg-type]
    assert not worker.refused(ServiceError("ResourceNotFoundException", "gone", 400), "GetRecords", "the stream")
    assert env.writes == []
    denied = ServiceError("AccessDeniedException", "User: ... is not authorized", 400)
    assert worker.refused(denied, "GetRecords", "the stream")
    assert worker.refused(denied, "GetRecords", "the stream")
    problem = "PROBLEM: Lambda function execution role does not have permissions to call GetRecords on the stream"
    assert worker.refused(denied, "DescribeStream", "the stream")
    assert env.writes == [{"LastProcessingResult": problem}]  # written once, not on every retry
    worker.permitted()
    assert mapping["LastProcessingResult"] == "No records processed"
    worker.permitted()
    assert len(env.writes) == 2


def test_the_server_stops_its_pollers_when_it_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cloudlet serve` ending (SIGTERM, Ctrl+C) stops the event source pollers before the
    process exits, rather than leaving daemon threads mid-batch as the engine shuts down."""
    from cloudlet.server import http1, run
    from cloudlet.server.config import Config

    seen: dict[str, Any] = {}

    def serve(gateway: Any, host: str, port: int) -> int:  # a server that ran with mappings
        esm.ensure_running(gateway)
        seen["gateway"], seen["pollers"] = gateway, esm.pollers_for(gateway)
        assert seen["pollers"]._thread is not None and seen["pollers"]._thread.is_alive()
        return 0

    monkeypatch.setattr(http1, "serve", serve)
    # run() also tunes the process (logging, gc): not this test's business, nor the other tests'
    monkeypatch.setattr("cloudlet.server.logs.configure", lambda *a, **k: None)
    monkeypatch.setattr(run.gc, "freeze", lambda: None)
    monkeypatch.setattr(run.gc, "set_threshold", lambda *a: None)
    try:
        assert run.run(Config(ephemeral=True)) == 0
    finally:
        if "gateway" in seen:
            seen["gateway"].scheduler.stop()
    pollers = seen["pollers"]
    assert pollers.env.stopping.is_set()
    assert pollers._thread is None
    assert esm.pollers_for(seen["gateway"]) is not pollers  # forgotten: a new one would start afresh
