"""AssumeRole over HTTP: credentials that work at once, durations, names, tags, policies."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "111100000001"
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
})


@pytest.fixture(scope="module")
def role(cloud):
    iam = cloud.client("iam", key=ACCOUNT)
    made = iam.create_role(RoleName="Deployer", Path="/ci/", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=7200)
    return made["Role"]


def _sts(cloud, creds=None):
    if creds is None:  # no client-side checks: the server's answers to bad input are under test
        return cloud.client("sts", key=ACCOUNT, parameter_validation=False)
    return _session_client(cloud, creds)


def _session_client(cloud, creds):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sts", endpoint_url=cloud.endpoint, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def _code(err: pytest.ExceptionInfo) -> tuple[str, str, int]:
    e = err.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_assumed_credentials_act_as_the_role_session(cloud, role):
    out = _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="build-42", DurationSeconds=7200)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 200
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/build-42"
    assert out["AssumedRoleUser"] == {"AssumedRoleId": f"{role['RoleId']}:build-42", "Arn": arn}
    assert "PackedPolicySize" not in out
    me = _sts(cloud, creds).get_caller_identity()
    assert me["Arn"] == arn and me["UserId"] == f"{role['RoleId']}:build-42" and me["Account"] == ACCOUNT
    assert _sts(cloud).get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == ACCOUNT


def test_credentials_expire_on_the_cloudlet_clock(cloud, role):
    creds = _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900)["Credentials"]
    assert _sts(cloud, creds).get_caller_identity()["Arn"].endswith("/short")
    cloud.advance(901)
    with pytest.raises(ClientError) as err:
        _sts(cloud, creds).get_caller_identity()
    assert _code(err)[0] == "ExpiredToken"


def test_durations_are_bounded_by_the_role_and_by_chaining(cloud, role):
    with pytest.raises(ClientError) as err:
        _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="long", DurationSeconds=7201)
    assert _code(err) == ("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400)
    with pytest.raises(ClientError) as err:
        _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="tiny", DurationSeconds=899)
    assert _code(err)[0] == "ValidationError" and "greater than or equal to 900" in _code(err)[1]
    first = _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="hop1")["Credentials"]
    with pytest.raises(ClientError) as err:
        _sts(cloud, first).assume_role(RoleArn=role["Arn"], RoleSessionName="hop2", DurationSeconds=3601)
    assert _code(err) == (
        "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.", 400,
    )
    chained = _sts(cloud, first).assume_role(RoleArn=role["Arn"], RoleSessionName="hop2")
    assert chained["AssumedRoleUser"]["Arn"].endswith("assumed-role/Deployer/hop2")


def test_a_missing_role_is_access_denied_naming_caller_and_role(cloud, role):
    missing = f"arn:aws:iam::{ACCOUNT}:role/Nope"
    with pytest.raises(ClientError) as err:
        _sts(cloud).assume_role(RoleArn=missing, RoleSessionName="x1")
    assert _code(err) == (
        "AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: {missing}", 403,
    )


def test_session_name_external_id_and_source_identity_are_validated(cloud, role):
    for kwargs in ({"RoleSessionName": "bad name"}, {"RoleSessionName": "x"}, {"RoleSessionName": "ok", "ExternalId": "a"},
                   {"RoleSessionName": "ok", "SourceIdentity": "has space"}):
        with pytest.raises(ClientError) as err:
            _sts(cloud).assume_role(RoleArn=role["Arn"], **kwargs)
        assert _code(err)[0] == "ValidationError", kwargs
    out = _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="who", SourceIdentity="alice@example.com")
    assert out["SourceIdentity"] == "alice@example.com"


def test_tags_and_session_policies(cloud, role):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    out = _sts(cloud).assume_role(
        RoleArn=role["Arn"], RoleSessionName="tagged", Policy=policy,
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        Tags=[{"Key": "team", "Value": "blue"}], TransitiveTagKeys=["team"],
    )
    assert 0 < out["PackedPolicySize"] <= 100
    with pytest.raises(ClientError) as err:
        _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="tt", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert _code(err)[0] == "ValidationError"
    with pytest.raises(ClientError) as err:
        _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="tt", Tags=[{"Key": "A", "Value": "1"}, {"Key": "a", "Value": "2"}])
    assert _code(err) == ("ValidationError", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400)
    with pytest.raises(ClientError) as err:
        _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="tt", Policy='{"Statement": "nope"')
    assert _code(err)[0] == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as err:
        _sts(cloud).assume_role(RoleArn=role["Arn"], RoleSessionName="tt",
                                PolicyArns=[{"arn": f"arn:aws:iam::aws:policy/P{i:020d}"} for i in range(11)])
    assert _code(err)[0] == "ValidationError"
