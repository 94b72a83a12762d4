"""SNS's pure rules, called directly: retry schedules, the signed string, what filter
policies see, the envelope's layout, topic policy evaluation."""

from __future__ import annotations

import json

import pytest

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sns import access, deliverypolicy, envelope, messages, model, signing


def _policy(**kw):
    return {**deliverypolicy.DEFAULT_RETRY, **kw}


def test_default_http_policy_is_three_retries_twenty_seconds_apart():
    p = deliverypolicy.DEFAULT_RETRY
    assert [deliverypolicy.delay(p, n) for n in range(1, 5)] == [20, 20, 20, None]
    assert deliverypolicy.delay(p, 0) is None


def test_phases_in_order():
    p = _policy(numRetries=10, numNoDelayRetries=2, numMinDelayRetries=2, numMaxDelayRetries=2,
                minDelayTarget=1, maxDelayTarget=9, backoffFunction="linear")
    delays = [deliverypolicy.delay(p, n) for n in range(1, 11)]
    assert delays[:4] == [0, 0, 1, 1]
    assert delays[4:8] == [3, 5, 7, 9]  # four backoff steps from 1 to 9
    assert delays[8:] == [9, 9]
    assert deliverypolicy.delay(p, 11) is None


@pytest.mark.parametrize("fn", deliverypolicy.BACKOFF)
def test_every_backoff_grows_from_min_to_max(fn):
    p = _policy(numRetries=8, minDelayTarget=2, maxDelayTarget=64, backoffFunction=fn)
    delays = [deliverypolicy.delay(p, n) for n in range(1, 9)]
    assert delays == sorted(delays)
    assert delays[0] > 2 and delays[-1] == pytest.approx(64)


def test_aws_managed_policy_for_sqs():
    p = deliverypolicy.MANAGED_RETRY
    assert [deliverypolicy.delay(p, n) for n in range(1, 6)] == [0, 0, 0, 1, 1]
    assert deliverypolicy.delay(p, 15) == pytest.approx(20)
    assert deliverypolicy.delay(p, 100_014) == 20 and deliverypolicy.delay(p, 100_015) is None


@pytest.mark.parametrize(
    "policy",
    [
        {"numRetries": 101},
        {"minDelayTarget": 0},
        {"minDelayTarget": 30, "maxDelayTarget": 20},
        {"maxDelayTarget": 3601},
        {"numRetries": 2, "numNoDelayRetries": 3},
        {"backoffFunction": "cubic"},
        {"numRetries": 100, "minDelayTarget": 3600, "maxDelayTarget": 3600},  # over an hour in total
        {"numRetries": "3"},
        {"surprise": 1},
    ],
)
def test_bad_retry_policies(policy):
    with pytest.raises(ServiceError) as err:
        deliverypolicy.parse_subscription_policy(json.dumps({"healthyRetryPolicy": policy}))
    assert err.value.code == "InvalidParameter"
    assert err.value.message.startswith("Invalid parameter: DeliveryPolicy: ")


def test_topic_policy_defaults_and_overrides():
    topic = json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5},
                                 "defaultRequestPolicy": {"headerContentType": "application/json"}}})
    sub = json.dumps({"healthyRetryPolicy": {"numRetries": 1}})
    retry, ctype = deliverypolicy.http_policy(None, topic)
    assert (retry["numRetries"], ctype) == (5, "application/json")
    assert deliverypolicy.http_policy(sub, topic)[0]["numRetries"] == 1
    locked = json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}, "disableSubscriptionOverrides": True}})
    assert deliverypolicy.http_policy(sub, locked)[0]["numRetries"] == 5


def test_canonical_strings_follow_aws_field_lists():
    note = {"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "hi\nthere", "Timestamp": "ts",
            "SignatureVersion": "1", "UnsubscribeURL": "u"}
    assert signing.canonical(note) == b"Message\nhi\nthere\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n"
    note["Subject"] = "s"
    assert b"Subject\ns\nTimestamp" in signing.canonical(note)
    confirm = {"Type": "SubscriptionConfirmation", "MessageId": "m", "Token": "k", "TopicArn": "t", "Message": "x",
               "SubscribeURL": "u", "Timestamp": "ts"}
    assert signing.canonical(confirm) == (
        b"Message\nx\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nts\nToken\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n"
    )


def test_what_an_attribute_filter_sees():
    attrs, size = messages.check_attributes({
        "s": {"DataType": "String", "StringValue": "x"},
        "n": {"DataType": "Number", "StringValue": "10"},
        "f": {"DataType": "Number", "StringValue": "2.5e1"},
        "a": {"DataType": "String.Array", "StringValue": '["p", 1, true, null]'},
        "b": {"DataType": "Binary", "BinaryValue": b"\x01"},
        "c": {"DataType": "String.custom", "StringValue": "y"},
    })
    assert messages.filter_event(attrs) == {"s": "x", "n": 10, "f": 25.0, "a": ["p", 1, True, None], "c": "y"}
    values = 1 + 2 + 5 + len('["p", 1, true, null]') + 1 + 1
    assert size == len("snfabc") + len("StringNumberNumberString.ArrayBinaryString.custom") + values


def test_string_array_must_be_a_flat_json_array():
    with pytest.raises(ServiceError) as err:
        messages.check_attributes({"a": {"DataType": "String.Array", "StringValue": '{"no": 1}'}})
    assert err.value.code == "ParameterValueInvalid"


def test_envelope_layout_is_json_with_aws_spacing():
    text = envelope.dumps({"Type": "Notification", "Message": 'quote " and \u00e9', "MessageAttributes": {"a": {"Type": "String"}}})
    assert text.startswith('{\n  "Type" : "Notification",\n')
    assert json.loads(text)["Message"] == 'quote " and \u00e9'


def _ctx(account: str, principal: str | None = None) -> Context:
    return Context(account=account, region="us-east-1", principal_arn=principal or f"arn:aws:iam::{account}:root",
                   access_key="", request_id="r", service="sns", operation="Publish")


def test_topic_policy_evaluation():
    arn = "arn:aws:sns:us-east-1:000000000000:t"
    default = model.default_policy(arn, "000000000000")
    assert access.evaluate(default, _ctx("111111111111"), "Publish", arn) is None
    grant = json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn,
         "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "SNS:Subscribe", "Resource": "*"},
    ]})
    assert access.evaluate(grant, _ctx("111111111111", "s3.amazonaws.com"), "Publish", arn) == "allow"
    assert access.evaluate(grant, _ctx("222222222222", "s3.amazonaws.com"), "Publish", arn) is None
    assert access.evaluate(grant, _ctx("111111111111"), "Publish", arn) is None
    assert access.evaluate(grant, _ctx("000000000000"), "Subscribe", arn) == "deny"


@pytest.mark.parametrize("text", ["arn:aws:sns:us-east-1:000000000000", "arn:aws:sqs:us-east-1:0:t", "t",
                                  "arn:aws:sns:us-east-1:000000000000:a:b", "arn:aws:sns:us-east-1:0:bad name"])
def test_bad_topic_arns(text):
    with pytest.raises(ServiceError) as err:
        model.parse_topic_arn(text)
    assert err.value.message == "Invalid parameter: TopicArn"
