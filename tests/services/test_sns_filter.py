"""Subscription filter policies through boto3: on message attributes (numbers as numbers,
String.Array as lists) and on the message body, with AWS's operators; bad policies
are refused when set."""

from __future__ import annotations

import json

import pytest

from tests.services.test_sns_support import drain, name, queue_arn


def _filtered(cloud, policy, scope=None):
    sns, sqs = cloud.client("sns"), cloud.client("sqs")
    topic = sns.create_topic(Name=name("flt"))["TopicArn"]
    url = sqs.create_queue(QueueName=name("flt-q"))["QueueUrl"]
    attrs = {"RawMessageDelivery": "true", "FilterPolicy": json.dumps(policy)}
    if scope:
        attrs["FilterPolicyScope"] = scope
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url), Attributes=attrs)
    return sns, sqs, topic, url


def _attr(value):
    if isinstance(value, list):
        return {"DataType": "String.Array", "StringValue": json.dumps(value)}
    if isinstance(value, (int, float)):
        return {"DataType": "Number", "StringValue": str(value)}
    return {"DataType": "String", "StringValue": value}


def _passed(cloud, policy, messages, scope=None):
    """Publishes each (body, attributes) and returns the bodies the subscription got."""
    sns, sqs, topic, url = _filtered(cloud, policy, scope)
    for i, (body, attrs) in enumerate(messages):
        sns.publish(TopicArn=topic, Message=body or f"m{i}",
                    MessageAttributes={k: _attr(v) for k, v in attrs.items()})
    return sorted(m["Body"] for m in drain(sqs, url))


def test_attribute_operators(cloud):
    policy = {
        "store": ["example_corp"],
        "price_usd": [{"numeric": [">=", 100, "<", 200]}],
        "event": [{"anything-but": ["order_cancelled"]}],
    }
    got = _passed(cloud, policy, [
        ("in", {"store": "example_corp", "price_usd": 150, "event": "order_placed"}),
        ("cheap", {"store": "example_corp", "price_usd": 99.5, "event": "order_placed"}),
        ("cancelled", {"store": "example_corp", "price_usd": 150, "event": "order_cancelled"}),
        ("other store", {"store": "acme", "price_usd": 150, "event": "order_placed"}),
        ("missing price", {"store": "example_corp", "event": "order_placed"}),
    ])
    assert got == ["in"]


def test_prefix_exists_and_string_array(cloud):
    policy = {"customer": [{"prefix": "vip-"}], "tags": ["urgent"], "trace": [{"exists": False}]}
    got = _passed(cloud, policy, [
        ("yes", {"customer": "vip-42", "tags": ["slow", "urgent"]}),
        ("not vip", {"customer": "regular", "tags": ["urgent"]}),
        ("not urgent", {"customer": "vip-1", "tags": ["slow"]}),
        ("traced", {"customer": "vip-1", "tags": ["urgent"], "trace": "t"}),
    ])
    assert got == ["yes"]


def test_or_across_keys(cloud):
    policy = {"$or": [{"source": ["billing"]}, {"amount": [{"numeric": [">", 1000]}]}]}
    got = _passed(cloud, policy, [
        ("billing", {"source": "billing"}),
        ("big", {"source": "shop", "amount": 5000}),
        ("small", {"source": "shop", "amount": 5}),
    ])
    assert got == ["big", "billing"]


def test_body_scope_matches_nested_fields(cloud):
    policy = {"order": {"status": ["paid"], "total": [{"numeric": [">", 10]}]}}
    bodies = [
        json.dumps({"order": {"status": "paid", "total": 20}}),
        json.dumps({"order": {"status": "paid", "total": 5}}),
        json.dumps({"order": {"status": "open", "total": 20}}),
        "not json at all",
    ]
    got = _passed(cloud, policy, [(b, {}) for b in bodies], scope="MessageBody")
    assert got == [bodies[0]]


def test_no_policy_lets_everything_through_and_removing_one_does_too(cloud):
    sns, sqs, topic, url = _filtered(cloud, {"k": ["v"]})
    sub = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="filtered out")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")
    sns.publish(TopicArn=topic, Message="through")
    assert [m["Body"] for m in drain(sqs, url)] == ["through"]


def test_bad_policies_are_refused(cloud):
    sns, sqs = cloud.client("sns"), cloud.client("sqs")
    topic = sns.create_topic(Name=name("badflt"))["TopicArn"]
    url = sqs.create_queue(QueueName=name("badflt-q"))["QueueUrl"]
    endpoint = queue_arn(sqs, url)
    nested = json.dumps({"a": {"b": ["c"]}})
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint, Attributes={"FilterPolicy": nested})
    assert err.value.response["Error"]["Message"].startswith("Invalid parameter: Attributes Reason: ")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint, Attributes={
        "FilterPolicy": nested, "FilterPolicyScope": "MessageBody"})["SubscriptionArn"]
    with pytest.raises(sns.exceptions.InvalidParameterException):  # nesting is for the body only
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                        AttributeValue="MessageAttributes")
    for bad in ["not json", json.dumps({"k": [{"numeric": [">", "x"]}]}), json.dumps({f"k{i}": ["v"] for i in range(6)})]:
        with pytest.raises(sns.exceptions.InvalidParameterException) as err:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=bad)
        assert err.value.response["Error"]["Message"].startswith("Invalid parameter: ")
    assert json.loads(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicy"]) == {
        "a": {"b": ["c"]}
    }
