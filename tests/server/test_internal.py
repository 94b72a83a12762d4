"""Services call each other through AWS operations on the in-process client."""

from __future__ import annotations

import pytest

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from tests.server.test_authorize import Recorder


def _caller(gw: Gateway, account: str = "123456789012") -> Context:
    return Context(
        account=account, region="eu-central-1", principal_arn=f"arn:aws:iam::{account}:root",
        access_key="AKIDCALLER", request_id="r-1", service="s3", operation="PutObject", gateway=gw,
    )


def test_calls_run_the_handler_as_the_caller():
    gw = Gateway(Config(ephemeral=True))
    out = _caller(gw).aws("sts").get_caller_identity()
    assert out == {"UserId": "123456789012", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"}


def test_calls_are_validated_like_http():
    gw = Gateway(Config(ephemeral=True))
    with pytest.raises(ServiceError) as err:
        _caller(gw).aws("sts").assume_role(RoleSessionName="x")  # RoleArn missing, name too short
    assert err.value.code == "ValidationError"


def test_unimplemented_operations_answer_as_over_http():
    gw = Gateway(Config(ephemeral=True))
    with pytest.raises(ServiceError) as err:
        _caller(gw).aws("codecommit").list_repositories()
    assert err.value.code == "NotImplemented" and err.value.status == 501


def test_calls_are_authorized_as_the_named_principal_and_audited():
    rec = Recorder()
    gw = Gateway(Config(ephemeral=True), authorizer=rec)
    _caller(gw).aws("sts", principal="s3.amazonaws.com", region="us-west-2").get_caller_identity()
    (seen,) = rec.seen
    assert seen.principal_arn == "s3.amazonaws.com"
    assert seen.actions == ("sts:GetCallerIdentity",)
    assert seen.conditions["aws:RequestedRegion"] == "us-west-2"
    (event,) = gw.audit.query(limit=1)
    assert event["userIdentity"] == {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}
    assert event["awsRegion"] == "us-west-2" and event["eventName"] == "GetCallerIdentity"


def test_a_refusal_reaches_the_caller_as_the_service_error():
    gw = Gateway(Config(ephemeral=True), authorizer=Recorder(deny=True))
    with pytest.raises(ServiceError) as err:
        _caller(gw).aws("sts").get_caller_identity()
    assert err.value.code == "AccessDenied" and err.value.status == 403
    assert gw.audit.query(limit=1)[0]["errorCode"] == "AccessDenied"


def test_unknown_method_is_an_attribute_error():
    gw = Gateway(Config(ephemeral=True))
    with pytest.raises(AttributeError):
        _caller(gw).aws("sts").no_such_operation


def test_a_service_principal_names_the_resource_it_acts_for():
    rec = Recorder()
    gw = Gateway(Config(ephemeral=True), authorizer=rec)
    queue_arn = "arn:aws:events:eu-central-1:123456789012:rule/r"
    _caller(gw).aws("sts", principal="events.amazonaws.com", source_arn=queue_arn).get_caller_identity()
    (seen,) = rec.seen
    assert seen.conditions["aws:SourceArn"] == queue_arn
    assert seen.conditions["aws:SourceAccount"] == "123456789012"
