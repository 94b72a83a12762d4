"""Function resource policies over HTTP: the document AWS builds, qualifiers, conflicts."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.test_functions import _code, _create


def test_policy_document_shape(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    with pytest.raises(ClientError) as err:
        lam.get_policy(FunctionName=name)
    assert _code(err) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    out = lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                             Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket",
                             SourceAccount="000000000000")
    assert json.loads(out["Statement"]) == {
        "Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": arn,
        "Condition": {"StringEquals": {"AWS:SourceAccount": "000000000000"},
                      "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}},
    }
    lam.add_permission(FunctionName=name, StatementId="acct", Action="lambda:GetFunction", Principal="111122223333")
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    got = lam.get_policy(FunctionName=name)
    policy = json.loads(got["Policy"])
    assert policy["Version"] == "2012-10-17" and got["RevisionId"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert list(by_sid) == ["s3", "acct", "url"]
    assert by_sid["acct"]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert by_sid["url"]["Principal"] == "*"
    assert by_sid["url"]["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    with pytest.raises(ClientError) as err:
        lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    assert _code(err) == ("ResourceConflictException",
                          "The statement id (s3) provided already exists. Please provide a new statement id, or remove "
                          "the existing statement.", 409)
    with pytest.raises(ClientError) as err:
        lam.add_permission(FunctionName=name, StatementId="x", Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com", RevisionId="stale")
    assert _code(err)[0] == "PreconditionFailedException"
    lam.remove_permission(FunctionName=name, StatementId="acct")
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]] == ["s3", "url"]
    with pytest.raises(ClientError) as err:
        lam.remove_permission(FunctionName=name, StatementId="acct")
    assert _code(err)[0::2] == ("ResourceNotFoundException", 404)


def test_qualified_policies_are_separate(cloud):
    lam = cloud.client("lambda")
    name = _create(lam, Publish=True)["FunctionName"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    out = lam.add_permission(FunctionName=name, Qualifier="live", StatementId="ev", Action="lambda:InvokeFunction",
                             Principal="events.amazonaws.com")
    assert json.loads(out["Statement"])["Resource"].endswith(f":function:{name}:live")
    assert json.loads(lam.get_policy(FunctionName=name, Qualifier="live")["Policy"])["Statement"][0]["Sid"] == "ev"
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName=name)  # the unqualified function has none
    with pytest.raises(ClientError) as err:
        lam.add_permission(FunctionName=name, Qualifier="$LATEST", StatementId="l", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com")
    assert _code(err)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        lam.add_permission(FunctionName=name, Qualifier="nope", StatementId="l", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com")
    assert _code(err)[0] == "ResourceNotFoundException"


def test_resource_policy_hook_reads_the_policy():
    """What IAM enforcement sees for a function ARN (qualified or not)."""
    from cloudlet.core.context import Context
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway
    from cloudlet.services import lambda_
    from tests.services.lambda_.test_functions import ROLE, _zip

    gw = Gateway(Config(ephemeral=True))
    ctx = Context(account="000000000000", region="us-east-1", principal_arn="arn:aws:iam::000000000000:root",
                  access_key="test", request_id="r", service="lambda", operation="x", gateway=gw)
    lam = ctx.aws("lambda")
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=ROLE, Handler="a.h", Code={"ZipFile": _zip()})
    arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert lambda_.resource_policy(gw, "us-east-1", arn) == ("000000000000", None)
    assert lambda_.resource_policy(gw, "us-east-1", arn.replace(":f", ":g")) is None
    lam.add_permission(FunctionName="f", StatementId="a", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    owner, text = lambda_.resource_policy(gw, "us-east-1", arn)
    assert owner == "000000000000" and json.loads(text)["Statement"][0]["Sid"] == "a"
    assert lambda_.resources(ctx, "Invoke", {"FunctionName": "f", "Qualifier": "3"}) == [arn + ":3"]


def test_cross_account_read_is_granted_by_the_function_policy():
    """With IAM enforced, another account reads a function only once its policy allows it."""
    from tests.cloud import Cloud
    from tests.services.lambda_.test_functions import _zip

    c = Cloud("--enforce-iam")
    try:
        owner = c.client("lambda", key="111111111111")
        other = c.client("lambda", key="222222222222")
        arn = owner.create_function(FunctionName="shared", Runtime="python3.12", Handler="app.handler",
                                    Role="arn:aws:iam::111111111111:role/r", Code={"ZipFile": _zip()})["FunctionArn"]
        with pytest.raises(ClientError) as err:
            other.get_function_configuration(FunctionName=arn)
        assert _code(err)[0] == "AccessDeniedException"
        owner.add_permission(FunctionName="shared", StatementId="read", Action="lambda:GetFunctionConfiguration",
                             Principal="222222222222")
        assert other.get_function_configuration(FunctionName=arn)["FunctionArn"] == arn
    finally:
        c.kill()
