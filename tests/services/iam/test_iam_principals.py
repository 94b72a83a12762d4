"""The functions the request path calls on IAM directly (logic tests on an in-process gateway)."""

import base64
import json

import pytest

from cloudlet.auth.policy import Principal, PolicySet, Request, evaluate
from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.iam import principals, totp
from tests.services.iam.conftest import TRUST_EC2, doc

ACCOUNT = "210000000004"


@pytest.fixture(scope="module")
def gw():
    return Gateway(Config(ephemeral=True))


@pytest.fixture(scope="module")
def iam(gw):
    ctx = Context(account=ACCOUNT, region="us-east-1", principal_arn=f"arn:aws:iam::{ACCOUNT}:root",
                  access_key=ACCOUNT, request_id="r", service="iam", operation="-", gateway=gw)
    return ctx.aws("iam")


def _allowed(pp, arn, action, resource="*"):
    principal = Principal(arn=arn, account=ACCOUNT, kind="user", username=pp.username, user_id=pp.user_id)
    return evaluate(Request(principal, action, resource, {}), PolicySet(identity=pp.policies, boundary=pp.boundary)).allowed


def test_identity_policies_follow_writes(gw, iam):
    arn = iam.create_user(UserName="u1", Tags=[{"Key": "team", "Value": "a"}])["User"]["Arn"]
    iam.create_group(GroupName="g1")
    iam.add_user_to_group(GroupName="g1", UserName="u1")
    pp = principals.identity_policies(gw, ACCOUNT, arn)
    assert pp.policies == () and pp.tags == {"team": "a"} and pp.username == "u1" and pp.user_id.startswith("AIDA")
    assert principals.identity_policies(gw, ACCOUNT, arn) is pp  # cached until the next IAM write
    iam.put_group_policy(GroupName="g1", PolicyName="p", PolicyDocument=doc("sqs:SendMessage"))
    pp = principals.identity_policies(gw, ACCOUNT, arn)
    assert _allowed(pp, arn, "sqs:SendMessage") and not _allowed(pp, arn, "s3:GetObject")
    iam.attach_user_policy(UserName="u1", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    pp = principals.identity_policies(gw, ACCOUNT, arn)
    assert _allowed(pp, arn, "s3:GetObject") and len(pp.policies) == 2
    iam.put_user_permissions_boundary(UserName="u1", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    pp = principals.identity_policies(gw, ACCOUNT, arn)
    assert pp.boundary is not None and not _allowed(pp, arn, "s3:GetObject") and _allowed(pp, arn, "sqs:SendMessage")
    assert principals.identity_policies(gw, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/nobody") is None


def test_roles_trust_and_info(gw, iam):
    arn = iam.create_role(RoleName="r1", Path="/x/", AssumeRolePolicyDocument=TRUST_EC2, MaxSessionDuration=7200,
                          Tags=[{"Key": "k", "Value": "v"}])["Role"]["Arn"]
    iam.put_role_policy(RoleName="r1", PolicyName="p", PolicyDocument=doc("dynamodb:GetItem"))
    owner, trust = principals.trust_policy(gw, arn)
    assert owner == ACCOUNT and trust is not None
    info = principals.role_info(gw, arn)
    assert info["MaxSessionDuration"] == 7200 and info["RoleId"].startswith("AROA") and info["Tags"] == {"k": "v"}
    assert info["Path"] == "/x/" and info["RoleName"] == "r1" and info["Arn"] == arn
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/r1/s"
    assert len(principals.identity_policies(gw, ACCOUNT, session).policies) == 1
    assert principals.role_info(gw, f"arn:aws:iam::{ACCOUNT}:role/none") is None
    assert principals.trust_policy(gw, f"arn:aws:iam::{ACCOUNT}:role/none") is None


def test_access_key_lookup(gw, iam):
    iam.create_user(UserName="k1", Path="/p/")
    key = iam.create_access_key(UserName="k1")["AccessKey"]
    ident = principals.lookup_access_key(gw, key["AccessKeyId"])
    assert (ident.account_id, ident.arn, ident.user_name, ident.secret_key) == (
        ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/p/k1", "k1", key["SecretAccessKey"])
    iam.update_access_key(UserName="k1", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert principals.lookup_access_key(gw, key["AccessKeyId"]) is None
    assert principals.lookup_access_key(gw, "AKIANOSUCHKEY0000000") is None


def test_verify_mfa_refuses_replays(gw, iam):
    iam.create_user(UserName="m1")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="m1")["VirtualMFADevice"]
    seed = base64.b32decode(dev["Base32StringSeed"])
    step = totp.counter_at(clock.time_s())
    iam.enable_mfa_device(UserName="m1", SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=totp.code_at(seed, step - 2), AuthenticationCode2=totp.code_at(seed, step - 1))
    code = totp.code_at(seed, step)
    assert principals.verify_mfa(gw, ACCOUNT, dev["SerialNumber"], code)
    assert not principals.verify_mfa(gw, ACCOUNT, dev["SerialNumber"], code)  # used once
    assert not principals.verify_mfa(gw, ACCOUNT, dev["SerialNumber"], totp.code_at(seed, step - 5))
    assert not principals.verify_mfa(gw, ACCOUNT, "arn:aws:iam::210000000004:mfa/none", code)


def test_totp_matches_rfc6238_vectors():
    # RFC 6238 appendix B, SHA-1 seed "12345678901234567890", 8 digits there; the last 6 here
    seed = b"12345678901234567890"
    assert totp.code_at(seed, 59 // 30) == "287082"
    assert totp.code_at(seed, 1111111109 // 30) == "081804"
    assert totp.match(seed, "081804", 1111111109 + 30) == 1111111109 // 30


def test_simulated_documents_are_parsed_once(gw, iam):
    # the same text twice parses to the same compiled policy (the engine's cache)
    arn = iam.create_user(UserName="c1")["User"]["Arn"]
    iam.put_user_policy(UserName="c1", PolicyName="a", PolicyDocument=json.dumps(json.loads(doc("s3:*"))))
    first = principals.identity_policies(gw, ACCOUNT, arn).policies[0]
    iam.tag_user(UserName="c1", Tags=[{"Key": "x", "Value": "y"}])  # a write: the cache is rebuilt
    assert principals.identity_policies(gw, ACCOUNT, arn).policies[0] is first
