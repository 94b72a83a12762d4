"""A function's settings over HTTP: reserved and provisioned concurrency, URL configs,
event invoke configs and tags."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.test_functions import _account, _code, _create


def test_reserved_concurrency_keeps_100_unreserved(cloud):
    account = _account()
    lam = cloud.client("lambda", key=account)
    role = f"arn:aws:iam::{account}:role/r"
    a = _create(lam, Role=role)["FunctionName"]
    b = _create(lam, Role=role)["FunctionName"]
    assert lam.get_function_concurrency(FunctionName=a).get("ReservedConcurrentExecutions") is None
    assert lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=800)["ReservedConcurrentExecutions"] == 800
    assert lam.get_function(FunctionName=a)["Concurrency"] == {"ReservedConcurrentExecutions": 800}
    with pytest.raises(ClientError) as err:
        lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=101)
    assert _code(err) == ("InvalidParameterValueException",
                          "Specified ReservedConcurrentExecutions for function decreases account's "
                          "UnreservedConcurrentExecution below its minimum value of [100].", 400)
    lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=100)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    lam.delete_function_concurrency(FunctionName=a)
    assert lam.get_function_concurrency(FunctionName=a).get("ReservedConcurrentExecutions") is None


def test_provisioned_concurrency(cloud):
    lam = cloud.client("lambda")
    name = _create(lam, Publish=True)["FunctionName"]
    with pytest.raises(ClientError) as err:
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=2)
    assert _code(err)[0] == "InvalidParameterValueException"
    out = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2)
    assert out["Status"] == "READY" and out["AllocatedProvisionedConcurrentExecutions"] == 2
    assert lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["RequestedProvisionedConcurrentExecutions"] == 2
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["1"]
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    with pytest.raises(ClientError) as err:
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert _code(err)[0::2] == ("ProvisionedConcurrencyConfigNotFoundException", 404)


def test_function_url_config(cloud):
    lam = cloud.client("lambda")
    name = _create(lam, Publish=True)["FunctionName"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    out = lam.create_function_url_config(FunctionName=name, AuthType="NONE",
                                         Cors={"AllowOrigins": ["*"], "AllowMethods": ["GET"]})
    assert re.fullmatch(rf"http://[a-z0-9]{{32}}\.lambda-url\.us-east-1\.localhost:{cloud.port}/", out["FunctionUrl"])
    assert out["AuthType"] == "NONE" and out["InvokeMode"] == "BUFFERED" and out["Cors"]["AllowOrigins"] == ["*"]
    with pytest.raises(ClientError) as err:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert _code(err)[0::2] == ("ResourceConflictException", 409)
    aliased = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="AWS_IAM")
    assert aliased["FunctionArn"].endswith(":live") and aliased["FunctionUrl"] != out["FunctionUrl"]
    upd = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert upd["AuthType"] == "AWS_IAM" and upd["FunctionUrl"] == out["FunctionUrl"] and upd["LastModifiedTime"]
    assert lam.get_function_url_config(FunctionName=name)["AuthType"] == "AWS_IAM"
    assert len(lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]) == 2
    lam.delete_function_url_config(FunctionName=name)
    with pytest.raises(ClientError) as err:
        lam.get_function_url_config(FunctionName=name)
    assert _code(err)[0::2] == ("ResourceNotFoundException", 404)


def test_event_invoke_config(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    with pytest.raises(ClientError) as err:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert _code(err)[0] == "ResourceNotFoundException"
    dest = "arn:aws:sqs:us-east-1:000000000000:failures"
    out = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1,
                                               DestinationConfig={"OnFailure": {"Destination": dest}})
    assert out["FunctionArn"].endswith(f"{name}:$LATEST") and out["MaximumRetryAttempts"] == 1
    assert isinstance(out["LastModified"], dt.datetime)
    assert out["DestinationConfig"]["OnFailure"] == {"Destination": dest}
    upd = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    assert (upd["MaximumRetryAttempts"], upd["MaximumEventAgeInSeconds"]) == (1, 120)
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert "MaximumRetryAttempts" not in put  # Put replaces the whole config
    with pytest.raises(ClientError) as err:
        lam.put_function_event_invoke_config(FunctionName=name,
                                             DestinationConfig={"OnSuccess": {"Destination": "arn:aws:iam::000000000000:role/x"}})
    assert _code(err)[0] == "InvalidParameterValueException"
    assert len(lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]) == 1
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError):
        lam.get_function_event_invoke_config(FunctionName=name)


def test_tags(cloud):
    lam = cloud.client("lambda")
    fn = _create(lam, Tags={"a": "1"})
    arn = fn["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"b": "2"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1", "b": "2"}
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as err:
        lam.list_tags(Resource=arn.replace(fn["FunctionName"], "missing-fn"))
    assert _code(err)[0] == "ResourceNotFoundException"
