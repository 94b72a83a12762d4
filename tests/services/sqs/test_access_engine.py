"""Queue policies judged by the IAM policy engine (``cloudlet.auth.policy``) for callers
from other accounts: Deny statements, Resource, conditions and service principals count,
where SQS's own evaluator used to look at Allow statements' actions and AWS principals only."""

from __future__ import annotations

import itertools
import json
import os

import pytest

from cloudlet.core.context import Context
from cloudlet.services.sqs import access, storage

OWNER = "000000000000"
ARN = f"arn:aws:sqs:us-east-1:{OWNER}:q"


def _queue(*statements: dict) -> storage.Queue:
    attrs = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})} if statements else {}
    return storage.Queue(account=OWNER, region="us-east-1", partition="aws", name="q", id="id", fifo=False, attrs=attrs)


def _ctx(operation: str = "SendMessage", account: str = "111111111111", principal: str | None = None, **kw) -> Context:
    return Context(account=account, region="us-east-1", principal_arn=principal or f"arn:aws:iam::{account}:root",
                   access_key="", request_id="r", service="sqs", operation=operation, **kw)


def _allow(**extra) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sqs:SendMessage", "Resource": ARN,
            **extra}


def test_a_deny_wins_over_an_allow():
    q = _queue({**_allow(), "Action": "sqs:*"}, {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage",
                                                  "Resource": "*"})
    assert not access.policy_allows(q, _ctx("SendMessage"))
    assert access.policy_allows(q, _ctx("ReceiveMessage"))


def test_the_statement_must_cover_the_queue():
    assert not access.policy_allows(_queue(_allow(Resource=f"arn:aws:sqs:us-east-1:{OWNER}:other")), _ctx())
    assert access.policy_allows(_queue(_allow(Resource=f"arn:aws:sqs:*:{OWNER}:*")), _ctx())


def test_conditions_are_evaluated():
    q = _queue(_allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert access.policy_allows(q, _ctx(source_ip="10.9.8.7"))
    assert not access.policy_allows(q, _ctx(source_ip="127.0.0.1"))


def test_service_principals_with_their_source():
    q = _queue({"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": ARN, "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:t"}}})
    sns = "sns.amazonaws.com"
    assert access.policy_allows(q, _ctx(principal=sns, source_arn="arn:aws:sns:us-east-1:111111111111:t"))
    assert not access.policy_allows(q, _ctx(principal=sns, source_arn="arn:aws:sns:us-east-1:111111111111:u"))
    assert not access.policy_allows(q, _ctx(principal=sns))  # no source named: the condition's key is absent
    assert not access.policy_allows(q, _ctx())  # the account's root is not the service


def test_batches_are_covered_by_their_single_action():
    q = _queue(_allow())
    assert access.policy_allows(q, _ctx("SendMessageBatch"))
    assert not access.policy_allows(q, _ctx("DeleteMessageBatch"))


def test_owner_only_operations_and_unusable_policies():
    assert not access.policy_allows(_queue({**_allow(), "Action": "*"}), _ctx("SetQueueAttributes"))
    assert not access.policy_allows(_queue(), _ctx())
    no_effect = {k: v for k, v in _allow().items() if k != "Effect"}
    assert not access.policy_allows(_queue(no_effect), _ctx())


# -- through the API -------------------------------------------------------------------------

_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def _account() -> str:
    return f"4{next(_accounts) % 10**11:011d}"


def _set_policy(sqs, url: str, *statements: dict) -> None:
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": list(statements)})})


def test_another_account_is_held_to_the_whole_policy(cloud):
    owner, guest_id = cloud.client("sqs", key=_account()), _account()
    guest = cloud.client("sqs", key=guest_id)
    url = owner.create_queue(QueueName="shared")["QueueUrl"]
    arn = owner.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    everything = {"Effect": "Allow", "Principal": {"AWS": guest_id}, "Action": "sqs:*", "Resource": arn}
    _set_policy(owner, url, everything, {"Effect": "Deny", "Principal": "*", "Action": "sqs:ReceiveMessage",
                                         "Resource": arn})
    guest.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "b"}])
    with pytest.raises(guest.exceptions.QueueDoesNotExist):
        guest.receive_message(QueueUrl=url)
    _set_policy(owner, url, {**everything, "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}})
    with pytest.raises(guest.exceptions.QueueDoesNotExist):
        guest.send_message(QueueUrl=url, MessageBody="m")
    assert [m["Body"] for m in owner.receive_message(QueueUrl=url)["Messages"]] == ["b"]


def test_sns_in_another_account_delivers_under_a_service_principal_grant(cloud):
    topic_owner, queue_owner = _account(), _account()
    sns = cloud.client("sns", key=topic_owner)
    sqs = cloud.client("sqs", key=queue_owner)
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="news")["TopicArn"]
    grant = {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
             "Resource": qarn, "Condition": {"StringEquals": {"aws:SourceAccount": _account()}}}
    _set_policy(sqs, url, grant)  # another account's resources only
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    _set_policy(sqs, url, {**grant, "Condition": {"StringEquals": {"aws:SourceAccount": topic_owner}}})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    (msg,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(msg["Body"])["Type"] == "SubscriptionConfirmation"
