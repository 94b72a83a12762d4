"""Services that push to Lambda: S3 notifications, SNS subscriptions and EventBridge rule
targets each invoke a function, which gets the event in AWS's shape."""

from __future__ import annotations

import json

import pytest

from tests.cloud import Cloud
from tests.services.lambda_.esm_support import name, queue, recorded, recorder


@pytest.fixture(scope="module")
def cloud():
    c = Cloud()
    yield c
    c.stop()


def allow(cloud: Cloud, fn: str, principal: str, source_arn: str) -> None:
    cloud.client("lambda").add_permission(FunctionName=fn, StatementId=name("allow"), Action="lambda:InvokeFunction",
                                          Principal=principal, SourceArn=source_arn)


def test_s3_object_created_notification_invokes_the_function(cloud: Cloud) -> None:
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    s3 = cloud.client("s3")
    bucket = name("trig-bucket")
    s3.create_bucket(Bucket=bucket)
    allow(cloud, fn, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket=bucket, Key="photos/cat.jpg", Body=b"meow")
    event = recorded(cloud, out_url, 1)[0]
    record = event["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "photos/cat.jpg"
    assert record["s3"]["object"]["size"] == 4


def test_sns_lambda_subscription_invokes_the_function(cloud: Cloud) -> None:
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=name("trig-topic"))["TopicArn"]
    allow(cloud, fn, "sns.amazonaws.com", topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)
    sns.publish(TopicArn=topic, Message="hello from sns", Subject="greeting")
    record = recorded(cloud, out_url, 1)[0]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["Message"] == "hello from sns"
    assert record["Sns"]["TopicArn"] == topic
    assert record["Sns"]["Subject"] == "greeting"


def test_eventbridge_rule_target_invokes_the_function(cloud: Cloud) -> None:
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    events = cloud.client("events")
    rule = name("trig-rule")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["my.app"]}))["RuleArn"]
    allow(cloud, fn, "events.amazonaws.com", rule_arn)
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn}])
    out = events.put_events(Entries=[{"Source": "my.app", "DetailType": "order placed",
                                      "Detail": json.dumps({"order": 42})}])
    assert out["FailedEntryCount"] == 0
    event = recorded(cloud, out_url, 1)[0]
    assert event["source"] == "my.app"
    assert event["detail-type"] == "order placed"
    assert event["detail"] == {"order": 42}
