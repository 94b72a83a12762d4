"""The authorization hook is on the path of every call, with the right action names."""

from __future__ import annotations

import asyncio

import pytest

from cloudlet.auth.actions import iam_actions, iam_prefix
from cloudlet.auth.authorizer import AuthzRequest, access_denied
from cloudlet.protocol.http import Request
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway


def _sts_request(key: str = "test") -> Request:
    auth = (
        f"AWS4-HMAC-SHA256 Credential={key}/20260101/eu-west-1/sts/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )
    return Request(
        "POST",
        "/",
        "",
        {
            "host": "localhost:4566",
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            "authorization": auth,
            "x-amz-date": "20260101T000000Z",
        },
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )


class Recorder:
    def __init__(self, deny: bool = False) -> None:
        self.seen: list[AuthzRequest] = []
        self.deny = deny

    def authorize(self, req: AuthzRequest) -> None:
        self.seen.append(req)
        if self.deny:
            raise access_denied(req, req.actions[0], req.resources[0])


def test_authorizer_sees_principal_action_resource_and_conditions():
    rec = Recorder()
    gw = Gateway(Config(ephemeral=True), authorizer=rec)
    resp = asyncio.run(gw.handle(_sts_request("123456789012"), "10.1.2.3"))
    assert resp.status == 200
    (seen,) = rec.seen
    assert seen.principal_arn == "arn:aws:iam::123456789012:root"
    assert seen.account == "123456789012"
    assert seen.actions == ("sts:GetCallerIdentity",)
    assert seen.resources == ("*",)
    assert seen.conditions["aws:SourceIp"] == "10.1.2.3"
    assert seen.conditions["aws:RequestedRegion"] == "eu-west-1"
    assert seen.conditions["aws:PrincipalAccount"] == "123456789012"


def test_a_refusing_authorizer_stops_the_call_with_access_denied():
    gw = Gateway(Config(ephemeral=True), authorizer=Recorder(deny=True))
    resp = asyncio.run(gw.handle(_sts_request()))
    assert resp.status == 403
    assert b"<Code>AccessDenied</Code>" in resp.body
    assert b"sts:GetCallerIdentity" in resp.body
    events = gw.audit.query(limit=1)
    assert events[0]["errorCode"] == "AccessDenied"


@pytest.mark.parametrize(
    "service,op,expected",
    [
        ("s3", "ListObjectsV2", ("s3:ListBucket",)),
        ("s3", "HeadObject", ("s3:GetObject",)),
        ("s3", "PutObject", ("s3:PutObject",)),
        ("s3", "CopyObject", ("s3:PutObject", "s3:GetObject")),
        ("cloudwatch", "PutMetricData", ("cloudwatch:PutMetricData",)),
        ("sqs", "SendMessageBatch", ("sqs:SendMessage",)),
        ("lambda", "Invoke", ("lambda:InvokeFunction",)),
        ("sesv2", "SendEmail", ("ses:SendEmail",)),
        ("dynamodb", "Query", ("dynamodb:Query",)),
    ],
)
def test_iam_action_names(service, op, expected):
    assert iam_actions(service, op) == expected


def test_iam_prefix_differs_from_signing_name_where_aws_says():
    assert iam_prefix("cloudwatch") == "cloudwatch"  # signs as 'monitoring'
    assert iam_prefix("ses") == "ses"  # signs as 'email'
    assert iam_prefix("sts") == "sts"
