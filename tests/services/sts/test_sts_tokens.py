"""GetSessionToken, GetFederationToken, GetAccessKeyInfo and DecodeAuthorizationMessage over HTTP."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudlet.services.sts.authmessages import encode_authorization_message

ACCOUNT = "111100000002"


def _client(cloud, creds, service="sts"):
    return boto3.client(
        service, endpoint_url=cloud.endpoint, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def _code(err: pytest.ExceptionInfo) -> tuple[str, str, int]:
    e = err.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def user_key(cloud):
    iam = cloud.client("iam", key=ACCOUNT)
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


def test_session_token_of_a_user_acts_as_the_user(cloud, user_key):
    sts = _client(cloud, user_key)
    me = sts.get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice" and me["UserId"].startswith("AIDA")
    out = sts.get_session_token(DurationSeconds=129600)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert 129600 - 2 <= creds["Expiration"].timestamp() - _now(cloud) <= 129600
    again = _client(cloud, creds).get_caller_identity()
    assert again == {**{k: me[k] for k in ("UserId", "Account", "Arn")}, "ResponseMetadata": again["ResponseMetadata"]}
    with pytest.raises(ClientError) as err:
        _client(cloud, creds).get_session_token()
    assert _code(err) == ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    with pytest.raises(ClientError) as err:
        _client(cloud, creds).get_federation_token(Name="bob")
    assert _code(err) == ("AccessDenied", "Cannot call GetFederationToken with session credentials", 403)
    with pytest.raises(ClientError) as err:
        sts.get_session_token(DurationSeconds=129601)
    assert _code(err)[0] == "ValidationError"


def test_root_sessions_last_at_most_an_hour(cloud):
    sts = cloud.client("sts", key=ACCOUNT)
    out = sts.get_session_token(DurationSeconds=7200)
    creds = out["Credentials"]
    me = _client(cloud, creds).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:root" and me["UserId"] == ACCOUNT
    assert 3600 - 2 <= creds["Expiration"].timestamp() - _now(cloud) <= 3600


def _now(cloud) -> float:
    """The server's clock (it may have been moved forward by other tests)."""
    return dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00")).timestamp()


def test_federation_token_names_a_federated_user(cloud, user_key):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    out = _client(cloud, user_key).get_federation_token(Name="bob@corp", Policy=policy, DurationSeconds=900)
    assert out["FederatedUser"] == {
        "FederatedUserId": f"{ACCOUNT}:bob@corp", "Arn": f"arn:aws:sts::{ACCOUNT}:federated-user/bob@corp",
    }
    assert 0 < out["PackedPolicySize"] <= 100
    me = _client(cloud, out["Credentials"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/bob@corp" and me["UserId"] == f"{ACCOUNT}:bob@corp"
    with pytest.raises(ClientError) as err:
        _client(cloud, user_key).get_federation_token(Name="b")
    assert _code(err)[0] == "ValidationError"


def test_access_key_info_knows_every_kind_of_key(cloud, user_key):
    sts = cloud.client("sts", key="111100000099")
    assert sts.get_access_key_info(AccessKeyId=user_key["AccessKeyId"])["Account"] == ACCOUNT
    from cloudlet.services.sts.sessions import new_key_id
    assert sts.get_access_key_info(AccessKeyId=new_key_id("AKIA", "222233334444"))["Account"] == "222233334444"
    temp = _client(cloud, user_key).get_session_token()["Credentials"]
    assert sts.get_access_key_info(AccessKeyId=temp["AccessKeyId"])["Account"] == ACCOUNT


def test_authorization_messages_decode_to_aws_shape(cloud):
    encoded = encode_authorization_message({
        "allowed": False, "explicitDeny": True,
        "matchedStatements": [{"statementId": "Deny1", "effect": "DENY"}],
        "principal": {"id": "AIDAEXAMPLE", "name": "alice", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "action": "ec2:RunInstances", "resource": "arn:aws:ec2:us-east-1:111100000002:instance/*",
        "conditions": {"ec2:InstanceType": "t3.micro", "aws:MultiFactorAuthPresent": False},
    })
    sts = cloud.client("sts", key=ACCOUNT)
    doc = json.loads(sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert doc["allowed"] is False and doc["explicitDeny"] is True
    assert doc["matchedStatements"]["items"] == [{"statementId": "Deny1", "effect": "DENY"}]
    assert doc["context"]["action"] == "ec2:RunInstances"
    assert doc["context"]["principal"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert {"key": "ec2:InstanceType", "values": {"items": [{"value": "t3.micro"}]}} in doc["context"]["conditions"]["items"]
    for bad in ("not-a-message", encoded[:-6] + "AAAAAA"):
        with pytest.raises(ClientError) as err:
            sts.decode_authorization_message(EncodedMessage=bad)
        assert _code(err)[0] == "InvalidAuthorizationMessageException" and _code(err)[2] == 400
