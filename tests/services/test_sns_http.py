"""SNS to HTTP endpoints: the confirmation handshake, signed deliveries, retries on the
cloudlet clock, raw delivery, dead-lettering and the unsubscribe notice. The endpoint
is a real HTTP server on 127.0.0.1; cloudlet POSTs to it from its scheduler thread."""

from __future__ import annotations

import json

import pytest

from tests.services.test_sns_support import Endpoint, drain, name, queue_arn, verify_signature


@pytest.fixture
def endpoint():
    ep = Endpoint()
    yield ep
    ep.close()


def _confirmed(cloud, endpoint, **sub_attrs):
    """A topic with the endpoint subscribed and confirmed through the handshake."""
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=name("http"))["TopicArn"]
    out = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, Attributes=sub_attrs)
    assert out["SubscriptionArn"] == "pending confirmation"
    headers, doc = endpoint.next_json()
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert "x-amz-sns-subscription-arn" not in headers
    assert doc["Type"] == "SubscriptionConfirmation" and doc["TopicArn"] == topic
    verify_signature(doc)
    arn = sns.confirm_subscription(TopicArn=topic, Token=doc["Token"])["SubscriptionArn"]
    return sns, topic, arn


def test_handshake_then_signed_notification(cloud, endpoint):
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=name("hs"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    headers, doc = endpoint.next_json()
    assert doc["Message"].startswith(f"You have chosen to subscribe to the topic {topic}.")
    assert f"Token={doc['Token']}" in doc["SubscribeURL"]
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"]) == ("1", "0")
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    sns.publish(TopicArn=topic, Message="not yet")  # pending: nothing is sent

    arn = sns.confirm_subscription(TopicArn=topic, Token=doc["Token"])["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"]) == ("0", "1")
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "false"

    sent = sns.publish(TopicArn=topic, Message="hello", Subject="greeting")
    headers, doc = endpoint.next_json()
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == arn
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert doc["MessageId"] == sent["MessageId"] == headers["x-amz-sns-message-id"]
    assert (doc["Message"], doc["Subject"]) == ("hello", "greeting")
    verify_signature(doc)
    assert endpoint.requests.empty()  # "not yet" was never sent


def test_a_bad_token_is_refused(cloud, endpoint):
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=name("tok"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    endpoint.next()
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.confirm_subscription(TopicArn=topic, Token="00" * 64)
    assert err.value.response["Error"]["Message"] == "Invalid parameter: Token"


def test_retries_follow_the_delivery_policy_on_the_cloudlet_clock(cloud, endpoint):
    sns, topic, arn = _confirmed(cloud, endpoint)  # the default policy: 3 retries, 20 s apart
    endpoint.statuses = [500, 503]
    sent = sns.publish(TopicArn=topic, Message="retry me")
    first = endpoint.next_json()[1]
    assert first["MessageId"] == sent["MessageId"]
    cloud.advance(19)
    assert endpoint.requests.empty()
    cloud.advance(1)
    second = endpoint.next_json()[1]
    cloud.advance(20)
    third = endpoint.next_json()[1]
    assert second == first and third == first  # the same message, signature and all
    cloud.advance(60)
    assert endpoint.requests.empty()  # the 200 ended it


def test_a_4xx_answer_is_not_retried(cloud, endpoint):
    sns, topic, _ = _confirmed(cloud, endpoint)
    endpoint.statuses = [404]
    sns.publish(TopicArn=topic, Message="gone")
    endpoint.next()
    cloud.advance(100)
    assert endpoint.requests.empty()


def test_spent_policy_dead_letters_the_message(cloud, endpoint):
    sqs = cloud.client("sqs")
    dlq = sqs.create_queue(QueueName=name("http-dlq"))["QueueUrl"]
    policy = {"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 5, "maxDelayTarget": 5}}
    sns, topic, arn = _confirmed(
        cloud, endpoint, DeliveryPolicy=json.dumps(policy),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq)}),
    )
    effective = json.loads(sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 1
    endpoint.statuses = [500, 500]
    sent = sns.publish(TopicArn=topic, Message="doomed")
    endpoint.next()
    assert drain(sqs, dlq) == []
    cloud.advance(5)
    endpoint.next()
    [msg] = drain(sqs, dlq)
    body = json.loads(msg["Body"])
    assert (body["MessageId"], body["Message"]) == (sent["MessageId"], "doomed")


def test_raw_delivery_and_content_type(cloud, endpoint):
    policy = {"requestPolicy": {"headerContentType": "application/json"}}
    sns, topic, _ = _confirmed(cloud, endpoint, RawMessageDelivery="true", DeliveryPolicy=json.dumps(policy))
    sns.publish(TopicArn=topic, Message='{"k": 1}')
    headers, body = endpoint.next()
    assert body == '{"k": 1}'
    assert headers["x-amz-sns-rawdelivery"] == "true"
    assert headers["content-type"] == "application/json"


def test_signature_version_2(cloud, endpoint):
    sns, topic, _ = _confirmed(cloud, endpoint)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=topic, Message="sha256")
    doc = endpoint.next_json()[1]
    assert doc["SignatureVersion"] == "2"
    verify_signature(doc)
    doc["Message"] = "tampered"
    with pytest.raises(Exception):
        verify_signature(doc)


def test_unsubscribe_sends_a_notice_and_stops_deliveries(cloud, endpoint):
    sns, topic, arn = _confirmed(cloud, endpoint)
    sns.unsubscribe(SubscriptionArn=arn)
    headers, doc = endpoint.next_json()
    assert headers["x-amz-sns-message-type"] == doc["Type"] == "UnsubscribeConfirmation"
    verify_signature(doc)
    sns.publish(TopicArn=topic, Message="after")
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsDeleted"]) == ("0", "1")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_subscription_attributes(SubscriptionArn=arn)
    cloud.advance(1)
    assert endpoint.requests.empty()
