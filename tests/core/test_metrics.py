"""Service metrics (core.metrics): the aggregation and query logic on an in-process
gateway, then SQS and SNS through boto3 against a running cloudlet, read back with
``metrics.query`` from its data directory (where the CloudWatch service will read them)."""

from __future__ import annotations

import datetime as dt
import json
import os
import types
from typing import Iterator

import pytest

from cloudlet.core import metrics
from cloudlet.core.context import Context
from cloudlet.core.store import BlobFiles, ServiceDB
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from tests.cloud import Cloud

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DIMS = {"QueueName": "q1"}


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def gw() -> Gateway:
    return Gateway(Config(ephemeral=True))


def put(gw: Gateway, value: float, when: dt.datetime, *, metric: str = "M", dims: dict[str, str] = DIMS,
        account: str = "111111111111", region: str = "us-east-1") -> None:
    with metrics.metrics_tx(gw, account, region) as tx:
        metrics.record(tx, "NS", metric, dims, value, "Count", when)


def q(gw: Gateway, *, period: int = 60, start: dt.datetime = at(0), end: dt.datetime = at(60), metric: str = "M",
      dims: dict[str, str] = DIMS, account: str = "111111111111", region: str = "us-east-1") -> list[tuple]:
    return [(p.timestamp, p.sample_count, p.sum, p.minimum, p.maximum, p.unit)
            for p in metrics.query(gw, account, region, "NS", metric, dims, start, end, period)]


# -- logic ---------------------------------------------------------------------------------------


def test_samples_in_one_minute_make_one_statistic_set(gw):
    for value, second in ((1, 5), (5, 20), (3, 59)):
        put(gw, value, T0 + dt.timedelta(seconds=second))
    assert q(gw) == [(T0, 3.0, 9.0, 1.0, 5.0, "Count")]
    (point,) = metrics.query(gw, "111111111111", "us-east-1", "NS", "M", DIMS, at(0), at(1), 60)
    assert point.average == 3.0


def test_periods_combine_minutes_aligned_to_the_period(gw):
    put(gw, 2, at(0.5))
    put(gw, 7, at(3))
    put(gw, 4, at(5))
    assert q(gw, period=300) == [(at(0), 2.0, 9.0, 2.0, 7.0, "Count"), (at(5), 1.0, 4.0, 4.0, 4.0, "Count")]
    assert [p[0] for p in q(gw)] == [at(0), at(3), at(5)]


def test_the_window_includes_its_start_and_excludes_its_end(gw):
    for m in (0, 1, 2, 3):
        put(gw, m, at(m))
    assert [p[0] for p in q(gw, start=at(1), end=at(3))] == [at(1), at(2)]
    assert [p[0] for p in q(gw, start=at(0.5), end=at(3.5))] == [at(1), at(2), at(3)]  # a minute starting before start is out
    assert q(gw, start=at(3), end=at(3)) == []


def test_series_are_separate_by_metric_dimensions_account_and_region(gw):
    put(gw, 1, at(0))
    put(gw, 10, at(0), metric="Other")
    put(gw, 100, at(0), dims={"QueueName": "q10"})  # a name that extends q1's
    put(gw, 1000, at(0), account="222222222222")
    put(gw, 10000, at(0), region="eu-west-1")
    assert [p[2] for p in q(gw)] == [1.0]
    assert [p[2] for p in q(gw, dims={"QueueName": "q10"})] == [100.0]
    assert [p[2] for p in q(gw, account="222222222222")] == [1000.0]
    assert [p[2] for p in q(gw, region="eu-west-1")] == [10000.0]
    assert q(gw, dims={}) == []


def test_dimension_order_does_not_make_another_series(gw):
    put(gw, 1, at(0), dims={"A": "1", "B": "2"})
    put(gw, 2, at(0), dims={"B": "2", "A": "1"})
    assert [p[1] for p in q(gw, dims={"A": "1", "B": "2"})] == [2.0]
    assert metrics.series(gw, "111111111111", "us-east-1") == [("NS", "M", {"A": "1", "B": "2"})]


def test_a_context_records_for_its_account_and_region_in_the_cloudwatch_database(gw):
    ctx = Context("333333333333", "ap-south-1", "arn:aws:iam::333333333333:root", "AK", "r1", "sqs", "SendMessage",
                  gateway=gw)
    metrics.record(ctx, "NS", "M", DIMS, 4, "Bytes", at(1))
    assert q(gw, account="333333333333", region="ap-south-1") == [(at(1), 1.0, 4.0, 4.0, 4.0, "Bytes")]
    assert metrics.SERVICE in gw.store.services()


def test_bad_periods_and_values_are_refused(gw):
    with pytest.raises(ValueError):
        q(gw, period=90)
    with pytest.raises(ValueError):
        put(gw, float("nan"), at(0))


# -- through boto3 -------------------------------------------------------------------------------

_n = iter(range(10**6))
_SERVERS: dict[str, Cloud] = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Cloud, str]]:
    root = str(tmp_path_factory.mktemp("metrics"))
    cloud = Cloud("--data-dir", root)
    _SERVERS[root] = cloud
    try:
        yield cloud, root
    finally:
        cloud.stop()


def account() -> str:
    return f"8{os.getpid() % 10**5:05d}{next(_n):06d}"


def read(root: str, acct: str, namespace: str, metric: str, dims: dict[str, str]) -> dict[str, float]:
    """Every datapoint of a series from the server's data directory, summed into one
    (after asking the server to write what it has buffered)."""
    _SERVERS[root].admin("POST", "flush")
    db = ServiceDB("cloudwatch", os.path.join(root, "state", "cloudwatch.db"), BlobFiles(None, False), False)
    try:
        reader = types.SimpleNamespace(db=lambda _name: db)
        now = dt.datetime.now(UTC)
        points = metrics.query(reader, acct, "us-east-1", namespace, metric, dims,  # type: ignore[arg-type]
                               now - dt.timedelta(days=2), now + dt.timedelta(days=2), 60)
    finally:
        db.close()
    if not points:
        return {}
    return {"n": sum(p.sample_count for p in points), "sum": sum(p.sum for p in points),
            "max": max(p.maximum for p in points), "min": min(p.minimum for p in points)}


def test_sqs_counts_sends_receives_deletes_and_empty_receives(served):
    cloud, root = served
    acct = account()
    sqs = cloud.client("sqs", key=acct)
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    sqs.send_message(QueueUrl=url, MessageBody="x" * 100)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "abc"}, {"Id": "b", "MessageBody": "de"}])
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 4
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                    for i, m in enumerate(got[1:3])])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    dims = {"QueueName": "orders"}

    def stat(name: str) -> dict[str, float]:
        return read(root, acct, "AWS/SQS", name, dims)

    assert stat("NumberOfMessagesSent") == {"n": 4, "sum": 4, "max": 1, "min": 1}
    assert stat("SentMessageSize") == {"n": 4, "sum": 110, "max": 100, "min": 2}
    assert stat("NumberOfMessagesReceived")["sum"] == 4
    assert stat("NumberOfMessagesDeleted")["sum"] == 3
    assert stat("NumberOfEmptyReceives")["sum"] == 1
    assert stat("ApproximateNumberOfMessagesVisible") == {}  # no minute has been sampled yet


def test_sqs_samples_its_gauges_each_minute(served):
    cloud, root = served
    acct = account()
    sqs = cloud.client("sqs", key=acct)
    url = sqs.create_queue(QueueName="gauged")["QueueUrl"]
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)
    cloud.advance(61)
    dims = {"QueueName": "gauged"}

    def gauge(name: str) -> dict[str, float]:
        return read(root, acct, "AWS/SQS", name, dims)

    assert gauge("ApproximateNumberOfMessagesVisible") == {"n": 1, "sum": 2, "max": 2, "min": 2}
    assert gauge("ApproximateNumberOfMessagesNotVisible")["max"] == 1
    assert gauge("ApproximateNumberOfMessagesDelayed")["max"] == 1
    assert 50 <= gauge("ApproximateAgeOfOldestMessage")["max"] <= 60  # sampled 60 s after CreateQueue


def test_sns_counts_publishes_deliveries_filtering_and_failures(served):
    cloud, root = served
    acct = account()
    sns, sqs = cloud.client("sns", key=acct), cloud.client("sqs", key=acct)
    topic = sns.create_topic(Name="events")["TopicArn"]
    arns = {}
    for name in ("all", "red"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arns["all"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arns["red"],
                  Attributes={"FilterPolicy": json.dumps({"color": ["red"]})})
    sns.publish(TopicArn=topic, Message="plain")
    sns.publish(TopicArn=topic, Message="rouge", MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}})
    sns.publish(TopicArn=topic, Message="bleu!", MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}})
    missing = arns["all"].replace(":all", ":no-such-queue")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=missing)
    sns.publish(TopicArn=topic, Message="to a queue that is not there")
    dims = {"TopicName": "events"}

    def stat(name: str) -> float:
        return read(root, acct, "AWS/SNS", name, dims).get("sum", 0)

    assert stat("NumberOfMessagesPublished") == 4
    assert stat("PublishSize") == 5 + 5 + 5 + len("to a queue that is not there")
    assert stat("NumberOfNotificationsDelivered") == 4 + 1  # "all" x4, "red" x1
    assert stat("NumberOfNotificationsFilteredOut") == 3  # plain, bleu!, the last one
    assert stat("NumberOfNotificationsFilteredOut-NoMessageAttributes") == 2
    assert stat("NumberOfNotificationsFailed") == 1
    # the queues saw SNS's sends as sends
    assert read(root, acct, "AWS/SQS", "NumberOfMessagesSent", {"QueueName": "all"})["sum"] == 4
