"""Event notifications end to end over HTTP: a configuration is checked and stored, its
queues and topics get the s3:TestEvent, then writes send the event JSON to SQS, to SNS
(and on to a subscribed queue) and to EventBridge's default bus."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def sqs(cloud):
    return cloud.client("sqs")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _queue(sqs) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=_name("evq"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _receive(sqs, url: str, n: int) -> list[dict]:
    """`n` message bodies (deliveries are scheduler jobs: poll briefly), then none more."""
    got: list[dict] = []
    for _ in range(10):
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in out.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= n:
            break
    assert len(got) == n, got
    assert not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")
    return got


def _err(call, **kw) -> dict:
    with pytest.raises(ClientError) as err:
        call(**kw)
    return err.value.response["Error"]


def test_queue_notifications(s3, sqs):
    b = _name("ev")
    s3.create_bucket(Bucket=b)
    url, arn = _queue(sqs)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={"QueueConfigurations": [
        {"Id": "images", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"}, {"Name": "Suffix", "Value": ".jpg"}]}}},
    ]})
    cfg = s3.get_bucket_notification_configuration(Bucket=b)["QueueConfigurations"]
    assert cfg[0]["Filter"]["Key"]["FilterRules"] == [{"Name": "Prefix", "Value": "img/"}, {"Name": "Suffix", "Value": ".jpg"}]
    [test_event] = _receive(sqs, url, 1)
    assert test_event["Event"] == "s3:TestEvent" and test_event["Bucket"] == b and test_event["Service"] == "Amazon S3"
    put = s3.put_object(Bucket=b, Key="img/cat.jpg", Body=b"meow")
    s3.put_object(Bucket=b, Key="img/notes.txt", Body=b"x")  # suffix does not match
    s3.put_object(Bucket=b, Key="doc/cat.jpg", Body=b"x")  # prefix does not match
    deleted = s3.delete_object(Bucket=b, Key="img/cat.jpg")
    created, removed = (body["Records"][0] for body in _receive(sqs, url, 2))
    assert created["eventName"] == "ObjectCreated:Put" and removed["eventName"] == "ObjectRemoved:Delete"
    assert created["eventSource"] == "aws:s3" and created["awsRegion"] == "us-east-1"
    assert created["eventVersion"] == "2.1" and created["eventTime"].endswith("Z")
    assert created["s3"]["configurationId"] == "images"
    assert created["s3"]["bucket"] == {"name": b, "ownerIdentity": {"principalId": ACCOUNT}, "arn": f"arn:aws:s3:::{b}"}
    assert created["s3"]["object"]["key"] == "img/cat.jpg"
    assert created["s3"]["object"]["size"] == 4 and f'"{created["s3"]["object"]["eTag"]}"' == put["ETag"]
    assert created["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    assert "size" not in removed["s3"]["object"] and removed["s3"]["object"]["sequencer"]
    assert deleted["ResponseMetadata"]["RequestId"] == removed["responseElements"]["x-amz-request-id"]


def test_topic_notifications_reach_subscribers(cloud, s3, sqs):
    sns = cloud.client("sns")
    b = _name("ev")
    s3.create_bucket(Bucket=b)
    topic = sns.create_topic(Name=_name("evt"))["TopicArn"]
    url, arn = _queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={"TopicConfigurations": [
        {"TopicArn": topic, "Events": ["s3:ObjectCreated:Copy"]}]})
    generated = s3.get_bucket_notification_configuration(Bucket=b)["TopicConfigurations"][0]["Id"]
    assert generated  # S3 names a configuration sent without an Id
    s3.put_object(Bucket=b, Key="src", Body=b"x")  # a Put: not configured
    s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"})
    test_event, copied = _receive(sqs, url, 2)
    assert test_event["Subject"] == copied["Subject"] == "Amazon S3 Notification"
    assert json.loads(test_event["Message"])["Event"] == "s3:TestEvent"
    record = json.loads(copied["Message"])["Records"][0]
    assert record["eventName"] == "ObjectCreated:Copy" and record["s3"]["object"]["key"] == "dst"
    assert record["s3"]["configurationId"] == generated


def test_eventbridge_notifications(cloud, s3, sqs):
    events = cloud.client("events")
    b = _name("ev")
    s3.create_bucket(Bucket=b)
    url, arn = _queue(sqs)
    rule = _name("s3rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": [b]}}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={"EventBridgeConfiguration": {}})
    assert s3.get_bucket_notification_configuration(Bucket=b)["EventBridgeConfiguration"] == {}
    s3.put_object(Bucket=b, Key="a b.txt", Body=b"hello")
    s3.delete_object(Bucket=b, Key="a b.txt")  # Object Deleted: not what the rule asks for
    [event] = _receive(sqs, url, 1)
    assert (event["source"], event["detail-type"], event["account"]) == ("aws.s3", "Object Created", ACCOUNT)
    assert event["resources"] == [f"arn:aws:s3:::{b}"]
    detail = event["detail"]
    assert detail["bucket"] == {"name": b} and detail["reason"] == "PutObject"
    assert detail["object"]["key"] == "a b.txt" and detail["object"]["size"] == 5


def test_destinations_are_validated(cloud, s3, sqs):
    b = _name("ev")
    s3.create_bucket(Bucket=b)
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{_name('nope')}"
    cfg = {"QueueConfigurations": [{"QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}]}
    err = _err(s3.put_bucket_notification_configuration, Bucket=b, NotificationConfiguration=cfg)
    assert err["Code"] == "InvalidArgument" and err["Message"] == "Unable to validate the following destination configurations"
    assert (err["ArgumentName1"], err["ArgumentValue1"]) == (missing, "The destination queue does not exist")
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn"
    err = _err(s3.put_bucket_notification_configuration, Bucket=b, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}]})
    assert err["Code"] == "InvalidArgument"
    _, other_region = _queue(cloud.client("sqs", region="eu-west-1"))
    err = _err(s3.put_bucket_notification_configuration, Bucket=b, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": other_region, "Events": ["s3:ObjectCreated:*"]}]})
    assert err["ArgumentName1"] == other_region  # S3 looks destinations up in the bucket's region
    err = _err(s3.put_bucket_notification_configuration, Bucket=b, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]})
    assert err["Message"] == "The ARN could not be parsed"
    assert s3.get_bucket_notification_configuration(Bucket=b).keys() == {"ResponseMetadata"}
    # skipping validation stores it anyway (deliveries to a missing queue are dropped)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration=cfg, SkipDestinationValidation=True)
    assert s3.get_bucket_notification_configuration(Bucket=b)["QueueConfigurations"][0]["QueueArn"] == missing
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={})  # removes it
    assert s3.get_bucket_notification_configuration(Bucket=b).keys() == {"ResponseMetadata"}


def test_tagging_and_acl_events(s3, sqs):
    b = _name("ev")
    s3.create_bucket(Bucket=b)
    url, arn = _queue(sqs)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectTagging:*", "s3:ObjectAcl:Put"]}]})
    s3.put_object_tagging(Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    s3.delete_object_tagging(Bucket=b, Key="k")
    s3.put_object_acl(Bucket=b, Key="k", ACL="private")
    bodies = _receive(sqs, url, 4)[1:]
    assert [body["Records"][0]["eventName"] for body in bodies] == [
        "ObjectTagging:Put", "ObjectTagging:Delete", "ObjectAcl:Put"]
    assert {body["Records"][0]["eventVersion"] for body in bodies} == {"2.3"}


def test_legacy_notification_operations(s3, sqs):
    b = _name("ev")
    s3.create_bucket(Bucket=b)
    url, arn = _queue(sqs)
    s3.put_bucket_notification(Bucket=b, NotificationConfiguration={
        "QueueConfiguration": {"Id": "old", "Queue": arn, "Events": ["s3:ObjectCreated:Put"]}})
    legacy = s3.get_bucket_notification(Bucket=b)["QueueConfiguration"]
    assert (legacy["Id"], legacy["Queue"], legacy["Event"]) == ("old", arn, "s3:ObjectCreated:Put")
    current = s3.get_bucket_notification_configuration(Bucket=b)["QueueConfigurations"]
    assert current == [{"Id": "old", "QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]}]
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    _test, created = _receive(sqs, url, 2)
    assert created["Records"][0]["eventName"] == "ObjectCreated:Put"
