"""The contract IAM enforcement calls on every request (``organizations.scps``), on an
in-process gateway: levels root -> OUs -> account, who is exempt, and the cache."""

from __future__ import annotations

import json

import pytest

from cloudlet.auth.policy import Principal, PolicySet, Request, evaluate, parse
from cloudlet.core.context import Context
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.organizations import scps

MGMT, OUTSIDER = "330000000001", "330000000002"
SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
DENY_S3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _org(gw: Gateway, account: str = MGMT):
    ctx = Context(
        account=account, region="us-east-1", principal_arn=f"arn:aws:iam::{account}:root", access_key=account,
        request_id="r", service="organizations", operation="-", gateway=gw,
    )
    return ctx.aws("organizations")


def _allowed(levels, account: str, action: str) -> bool:
    principal = Principal(arn=f"arn:aws:iam::{account}:root", account=account, kind="root")
    identity = (parse(ALLOW_ALL, "identity"),)
    req = Request(principal=principal, action=action, resource="*", context={})
    return evaluate(req, PolicySet(identity=identity, scps=levels)).allowed


@pytest.fixture()
def tree():
    """An organization with SCPs on: root > ou "prod" > account, deny-s3 on the OU."""
    gw = Gateway(Config(ephemeral=True))
    org = _org(gw)
    org_id = org.create_organization()["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType=SCP)
    ou = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    status = org.create_account(AccountName="a", Email="a@example.com")["CreateAccountStatus"]
    acct = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ou)
    deny = org.create_policy(Name="deny-s3", Description="", Type=SCP, Content=DENY_S3)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=deny, TargetId=ou)
    yield gw, org, {"org": org_id, "root": root, "ou": ou, "acct": acct, "deny": deny}
    gw.store.close()


def test_levels_run_from_the_root_to_the_account(tree):
    gw, _, ids = tree
    levels = scps.control_policies(gw, ids["acct"], SCP)
    assert levels is not None and [len(level) for level in levels] == [1, 2, 1]  # root, OU, account
    assert not _allowed(levels, ids["acct"], "s3:GetObject")
    assert _allowed(levels, ids["acct"], "ec2:RunInstances")


def test_management_account_outsiders_and_disabled_types_get_none(tree):
    gw, org, ids = tree
    assert scps.control_policies(gw, MGMT, SCP) is None
    assert scps.control_policies(gw, OUTSIDER, SCP) is None
    assert scps.control_policies(gw, ids["acct"], RCP) is None
    org.enable_policy_type(RootId=ids["root"], PolicyType=RCP)
    rcps = scps.control_policies(gw, ids["acct"], RCP)
    assert rcps is not None and [len(level) for level in rcps] == [1, 1, 1]  # RCPFullAWSAccess everywhere


def test_org_id_and_paths(tree):
    gw, _, ids = tree
    assert scps.org_id(gw, ids["acct"]) == ids["org"]
    assert scps.org_paths(gw, ids["acct"]) == f"{ids['org']}/{ids['root']}/{ids['ou']}/"
    assert scps.org_paths(gw, MGMT) == f"{ids['org']}/{ids['root']}/"
    assert scps.org_id(gw, OUTSIDER) is None and scps.org_paths(gw, OUTSIDER) is None


def test_answers_are_cached_until_a_write(tree):
    gw, org, ids = tree
    first = scps.control_policies(gw, ids["acct"], SCP)
    assert scps.control_policies(gw, ids["acct"], SCP) is first  # a hit: the same object
    org.detach_policy(PolicyId=ids["deny"], TargetId=ids["ou"])
    after = scps.control_policies(gw, ids["acct"], SCP)
    assert after is not first and [len(level) for level in after] == [1, 1, 1]
    assert _allowed(after, ids["acct"], "s3:GetObject")
    # a move changes the path
    org.move_account(AccountId=ids["acct"], SourceParentId=ids["ou"], DestinationParentId=ids["root"])
    assert scps.org_paths(gw, ids["acct"]) == f"{ids['org']}/{ids['root']}/"
    assert [len(level) for level in scps.control_policies(gw, ids["acct"], SCP)] == [1, 1]
    # leaving the organization ends it all
    _org(gw, ids["acct"]).leave_organization()
    assert scps.control_policies(gw, ids["acct"], SCP) is None and scps.org_id(gw, ids["acct"]) is None
