"""Topic policies judged by the IAM policy engine (``cloudlet.auth.policy``): the policy
language as AWS evaluates it, where SNS's own evaluator used to approximate it (fnmatch
for wildcards, a handful of string operators, no aws:SourceArn / aws:SourceIp /
aws:CurrentTime, no NotAction / NotPrincipal)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os

import pytest

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.sns import access

TOPIC = "arn:aws:sns:us-east-1:000000000000:t"


def _ctx(account: str = "111111111111", principal: str | None = None, **kw) -> Context:
    return Context(account=account, region="us-east-1", principal_arn=principal or f"arn:aws:iam::{account}:root",
                   access_key="", request_id="r", service="sns", operation="Publish", **kw)


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(**extra) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sns:Publish", "Resource": TOPIC,
            **extra}


def test_wildcards_are_iams_not_fnmatchs():
    # fnmatch read "[ab]" as a character class; IAM has only * and ?, so it is literal text
    policy = _policy(_allow(Resource="arn:aws:sns:us-east-1:000000000000:[ab]"))
    assert access.evaluate(policy, _ctx(), "Publish", "arn:aws:sns:us-east-1:000000000000:a") is None
    assert access.evaluate(policy, _ctx(), "Publish", "arn:aws:sns:us-east-1:000000000000:[ab]") == "allow"
    policy = _policy(_allow(Action="sns:Pub?ish"))
    assert access.evaluate(policy, _ctx(), "Publish", TOPIC) == "allow"
    assert access.evaluate(policy, _ctx(), "Subscribe", TOPIC) is None


def test_source_arn_of_a_service_principal():
    policy = _policy({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sns:Publish",
                      "Resource": TOPIC, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads-*"}}})
    s3 = "s3.amazonaws.com"
    assert access.evaluate(policy, _ctx(principal=s3, source_arn="arn:aws:s3:::uploads-1"), "Publish", TOPIC) == "allow"
    assert access.evaluate(policy, _ctx(principal=s3, source_arn="arn:aws:s3:::other"), "Publish", TOPIC) is None
    assert access.evaluate(policy, _ctx(principal=s3), "Publish", TOPIC) is None  # names no source: key absent
    assert access.evaluate(policy, _ctx(), "Publish", TOPIC) is None  # not the service


def test_source_account_comes_from_the_source_arn_when_it_names_one():
    policy = _policy({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
                      "Resource": TOPIC, "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}})
    rule = "arn:aws:events:us-east-1:222222222222:rule/r"
    assert access.evaluate(policy, _ctx(principal="events.amazonaws.com", source_arn=rule), "Publish", TOPIC) == "allow"
    assert access.evaluate(policy, _ctx(principal="events.amazonaws.com"), "Publish", TOPIC) is None


def test_ip_and_time_conditions():
    policy = _policy(_allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert access.evaluate(policy, _ctx(source_ip="10.1.2.3"), "Publish", TOPIC) == "allow"
    assert access.evaluate(policy, _ctx(source_ip="192.168.0.1"), "Publish", TOPIC) is None
    hour_ago = (clock.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    in_an_hour = (clock.now() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = _policy(_allow(Condition={"DateGreaterThan": {"aws:CurrentTime": hour_ago}}))
    assert access.evaluate(after, _ctx(), "Publish", TOPIC) == "allow"
    later = _policy(_allow(Condition={"DateGreaterThan": {"aws:CurrentTime": in_an_hour}}))
    assert access.evaluate(later, _ctx(), "Publish", TOPIC) is None


def test_not_action_and_not_principal():
    policy = _policy(
        {"Effect": "Allow", "Principal": "*", "Action": "sns:*", "Resource": TOPIC},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"}, "NotAction": "sns:Publish",
         "Resource": TOPIC},
    )
    assert access.evaluate(policy, _ctx(), "Subscribe", TOPIC) == "allow"  # the root is excluded from the Deny
    assert access.evaluate(policy, _ctx("222222222222"), "Subscribe", TOPIC) == "deny"
    assert access.evaluate(policy, _ctx("222222222222"), "Publish", TOPIC) == "allow"


def test_principals_by_kind():
    role = "arn:aws:iam::111111111111:role/app"
    policy = _policy(_allow(Principal={"AWS": role}))
    session = "arn:aws:sts::111111111111:assumed-role/app/worker-1"
    assert access.evaluate(policy, _ctx(principal=session), "Publish", TOPIC) == "allow"  # through its role
    assert access.evaluate(policy, _ctx(principal="arn:aws:iam::111111111111:user/app"), "Publish", TOPIC) is None
    user = _policy(_allow(Principal={"AWS": "arn:aws:iam::111111111111:user/ops/alice"}))
    assert access.evaluate(user, _ctx(principal="arn:aws:iam::111111111111:user/ops/alice"), "Publish", TOPIC) == "allow"
    assert access.evaluate(user, _ctx(), "Publish", TOPIC) is None  # naming a user does not name its root
    by_account = _policy(_allow())  # naming the account: any principal of it, as far as the topic goes
    assert access.evaluate(by_account, _ctx(principal=session), "Publish", TOPIC) == "allow"
    assert access.evaluate(by_account, _ctx(principal="s3.amazonaws.com"), "Publish", TOPIC) is None


def test_policy_variables_resolve_from_the_caller():
    own = _policy(_allow(Principal="*", Resource="arn:aws:sns:us-east-1:000000000000:${aws:username}-*"))
    alice = _ctx(principal="arn:aws:iam::111111111111:user/ops/alice")
    assert access.evaluate(own, alice, "Publish", "arn:aws:sns:us-east-1:000000000000:alice-jobs") == "allow"
    assert access.evaluate(own, alice, "Publish", "arn:aws:sns:us-east-1:000000000000:bob-jobs") is None


@pytest.mark.parametrize("text", [
    "[]",
    json.dumps({"Statement": [{"Principal": "*", "Action": "sns:Publish", "Resource": TOPIC}]}),  # no Effect
    json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "Publish", "Resource": TOPIC}]}),
])
def test_a_policy_the_language_refuses_grants_and_denies_nothing(text):
    assert access.evaluate(text, _ctx(), "Publish", TOPIC) is None


# -- through the API -------------------------------------------------------------------------

_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def _account() -> str:
    return f"5{next(_accounts) % 10**11:011d}"


def test_another_account_gets_in_under_a_condition_it_meets(cloud):
    owner_id, guest_id = _account(), _account()
    owner, guest = cloud.client("sns", key=owner_id), cloud.client("sns", key=guest_id)
    arn = owner.create_topic(Name="shared")["TopicArn"]
    ok = {"Effect": "Allow", "Principal": {"AWS": guest_id}, "Action": "sns:Publish", "Resource": arn,
          "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "Bool": {"aws:SecureTransport": "false"}}}
    owner.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=_policy(ok))
    assert guest.publish(TopicArn=arn, Message="m")["MessageId"]
    elsewhere = {**ok, "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}
    owner.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=_policy(elsewhere))
    with pytest.raises(guest.exceptions.AuthorizationErrorException):
        guest.publish(TopicArn=arn, Message="m")


def test_the_owner_is_held_to_an_explicit_deny_only(cloud):
    owner = cloud.client("sns", key=_account())
    arn = owner.create_topic(Name="locked")["TopicArn"]
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": arn,
            "Condition": {"StringNotEquals": {"aws:PrincipalType": "User"}}}
    owner.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=_policy(deny))
    with pytest.raises(owner.exceptions.AuthorizationErrorException) as err:
        owner.publish(TopicArn=arn, Message="m")  # the root's principal type is Account
    assert err.value.response["Error"]["Code"] == "AuthorizationError"
    assert owner.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn  # no Allow needed
