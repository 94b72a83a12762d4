"""Organization policies over HTTP: policy types, FullAWSAccess defaults, attach rules,
customer policies, effective tag policies, delegated administrators."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from tests.services.organizations.helpers import accounts, create_account, error, new_org

next_account = accounts("32000000")  # this module's management accounts: 32000000xxxx

SCP = "SERVICE_CONTROL_POLICY"
DENY_S3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})


def _ids(policies):
    return sorted(p["Id"] for p in policies)


def test_enabling_scps_attaches_full_aws_access_everywhere(cloud):
    mgmt = next_account()
    org, _, root = new_org(cloud, mgmt)
    ou_before = org.create_organizational_unit(ParentId=root, Name="before")["OrganizationalUnit"]["Id"]
    acct_before = create_account(org, f"before{mgmt}")
    assert org.list_policies_for_target(TargetId=root, Filter=SCP)["Policies"] == []
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=ou_before)
    assert error(exc)[0] == "PolicyTypeNotEnabledException"

    enabled = org.enable_policy_type(RootId=root, PolicyType=SCP)["Root"]
    assert enabled["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert org.list_roots()["Roots"][0]["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    with pytest.raises(ClientError) as exc:
        org.enable_policy_type(RootId=root, PolicyType=SCP)
    assert error(exc)[0] == "PolicyTypeAlreadyEnabledException"
    with pytest.raises(ClientError) as exc:
        org.enable_policy_type(RootId="r-zzzz", PolicyType=SCP)
    assert error(exc)[0] == "RootNotFoundException"

    ou_after = org.create_organizational_unit(ParentId=root, Name="after")["OrganizationalUnit"]["Id"]
    acct_after = create_account(org, f"after{mgmt}")
    for target in (root, ou_before, acct_before, mgmt, ou_after, acct_after):
        (p,) = org.list_policies_for_target(TargetId=target, Filter=SCP)["Policies"]
        assert p["Id"] == "p-FullAWSAccess" and p["AwsManaged"] is True and p["Name"] == "FullAWSAccess"
    full = org.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]
    assert full["PolicySummary"]["Arn"] == "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
    assert json.loads(full["Content"])["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    targets = org.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]
    assert {t["TargetId"]: t["Type"] for t in targets} == {
        root: "ROOT", ou_before: "ORGANIZATIONAL_UNIT", ou_after: "ORGANIZATIONAL_UNIT",
        acct_before: "ACCOUNT", acct_after: "ACCOUNT", mgmt: "ACCOUNT",
    }

    # the last SCP of a target cannot be detached; managed policies cannot change
    with pytest.raises(ClientError) as exc:
        org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou_before)
    assert error(exc)[0] == "ConstraintViolationException"
    assert exc.value.response["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    with pytest.raises(ClientError) as exc:
        org.delete_policy(PolicyId="p-FullAWSAccess")
    assert error(exc)[0] == "InvalidInputException"
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=ou_before)
    assert error(exc)[0] == "DuplicatePolicyAttachmentException"

    # disabling detaches every SCP
    assert org.disable_policy_type(RootId=root, PolicyType=SCP)["Root"]["PolicyTypes"] == []
    assert org.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"] == []
    with pytest.raises(ClientError) as exc:
        org.disable_policy_type(RootId=root, PolicyType=SCP)
    assert error(exc)[0] == "PolicyTypeNotEnabledException"


def test_rcp_full_access_is_attached_and_cannot_be_detached(cloud):
    org, _, root = new_org(cloud, next_account())
    org.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")
    (p,) = org.list_policies_for_target(TargetId=root, Filter="RESOURCE_CONTROL_POLICY")["Policies"]
    assert p["Id"] == "p-RCPFullAWSAccess"
    with pytest.raises(ClientError) as exc:
        org.detach_policy(PolicyId="p-RCPFullAWSAccess", TargetId=root)
    assert error(exc)[0] == "InvalidInputException" and exc.value.response["Reason"] == "NON_DETACHABLE_POLICY"


def test_tag_policies_attach_detach_and_merge_into_the_effective_policy(cloud):
    mgmt = next_account()
    org, _, root = new_org(cloud, mgmt)
    ou = org.create_organizational_unit(ParentId=root, Name="eng")["OrganizationalUnit"]["Id"]
    acct = create_account(org, f"eng{mgmt}")
    org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ou)

    base = {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"}, "tag_value": {"@@assign": ["100", "200"]}}}}
    more = {"tags": {"costcenter": {"tag_value": {"@@append": ["300"]}}}}
    p1 = org.create_policy(Name="base", Description="d", Type="TAG_POLICY", Content=json.dumps(base))["Policy"]["PolicySummary"]
    assert re.fullmatch(r"p-[a-z0-9]{8}", p1["Id"]) and p1["AwsManaged"] is False
    o = org.describe_organization()["Organization"]
    assert p1["Arn"] == f"arn:aws:organizations::{mgmt}:policy/{o['Id']}/tag_policy/{p1['Id']}"
    p2 = org.create_policy(Name="more", Description="d", Type="TAG_POLICY", Content=json.dumps(more))["Policy"]["PolicySummary"]
    with pytest.raises(ClientError) as exc:
        org.create_policy(Name="base", Description="d", Type="TAG_POLICY", Content="{}")
    assert error(exc)[0] == "DuplicatePolicyException"
    with pytest.raises(ClientError) as exc:
        org.create_policy(Name="bad", Description="d", Type="TAG_POLICY", Content="{not json")
    assert error(exc)[0] == "MalformedPolicyDocumentException"
    with pytest.raises(ClientError) as exc:
        org.create_policy(Name="big", Description="d", Type="TAG_POLICY", Content=json.dumps({"x": "y" * 10001}))
    assert error(exc)[0] == "ConstraintViolationException" and exc.value.response["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"

    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=p1["Id"], TargetId=root)
    assert error(exc)[0] == "PolicyTypeNotEnabledException"
    org.enable_policy_type(RootId=root, PolicyType="TAG_POLICY")
    with pytest.raises(ClientError) as exc:
        org.describe_effective_policy(PolicyType="TAG_POLICY", TargetId=acct)
    assert error(exc)[0] == "EffectivePolicyNotFoundException"
    org.attach_policy(PolicyId=p1["Id"], TargetId=root)
    org.attach_policy(PolicyId=p2["Id"], TargetId=ou)
    eff = org.describe_effective_policy(PolicyType="TAG_POLICY", TargetId=acct)["EffectivePolicy"]
    assert eff["TargetId"] == acct and eff["PolicyType"] == "TAG_POLICY"
    assert json.loads(eff["PolicyContent"]) == {"tags": {"costcenter": {"tag_key": "CostCenter", "tag_value": ["100", "200", "300"]}}}
    # the member reads its own effective policy (and nobody else's)
    member = cloud.client("organizations", key=acct)
    assert json.loads(member.describe_effective_policy(PolicyType="TAG_POLICY")["EffectivePolicy"]["PolicyContent"]) == json.loads(
        eff["PolicyContent"]
    )
    with pytest.raises(ClientError) as exc:
        member.describe_effective_policy(PolicyType="TAG_POLICY", TargetId=mgmt)
    assert error(exc)[0] == "AccessDeniedException"

    assert _ids(org.list_policies(Filter="TAG_POLICY")["Policies"]) == sorted([p1["Id"], p2["Id"]])
    with pytest.raises(ClientError) as exc:
        org.delete_policy(PolicyId=p2["Id"])
    assert error(exc)[0] == "PolicyInUseException"
    org.detach_policy(PolicyId=p2["Id"], TargetId=ou)  # not an SCP: may leave the target with none
    with pytest.raises(ClientError) as exc:
        org.detach_policy(PolicyId=p2["Id"], TargetId=ou)
    assert error(exc)[0] == "PolicyNotAttachedException"
    org.delete_policy(PolicyId=p2["Id"])
    with pytest.raises(ClientError) as exc:
        org.describe_policy(PolicyId=p2["Id"])
    assert error(exc)[0] == "PolicyNotFoundException"

    updated = org.update_policy(PolicyId=p1["Id"], Name="renamed", Description="new")["Policy"]["PolicySummary"]
    assert (updated["Name"], updated["Description"]) == ("renamed", "new")
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=p1["Id"], TargetId="999999999999")
    assert error(exc)[0] == "TargetNotFoundException"


def test_attach_limits_per_target(cloud):
    org, _, root = new_org(cloud, next_account())
    org.enable_policy_type(RootId=root, PolicyType="BACKUP_POLICY")
    made = [
        org.create_policy(Name=f"b{i}", Description="", Type="BACKUP_POLICY", Content='{"plans": {}}')["Policy"]["PolicySummary"]["Id"]
        for i in range(11)
    ]
    for pid in made[:10]:
        org.attach_policy(PolicyId=pid, TargetId=root)
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=made[10], TargetId=root)
    assert exc.value.response["Reason"] == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"


def test_customer_scps_are_validated_and_counted(cloud):
    pytest.importorskip("cloudlet.auth.policy")  # the policy engine validates SCP content
    org, _, root = new_org(cloud, next_account())
    org.enable_policy_type(RootId=root, PolicyType=SCP)
    deny = org.create_policy(Name="deny-s3", Description="", Type=SCP, Content=DENY_S3)["Policy"]["PolicySummary"]["Id"]
    with pytest.raises(ClientError) as exc:
        org.create_policy(Name="bad", Description="", Type=SCP, Content=DENY_S3.replace("Deny", "Maybe"))
    assert error(exc)[0] == "MalformedPolicyDocumentException"
    big = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Sid": "x" * 5200}]})
    with pytest.raises(ClientError) as exc:
        org.create_policy(Name="big", Description="", Type=SCP, Content=big)
    assert exc.value.response["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"
    org.attach_policy(PolicyId=deny, TargetId=root)
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=root)  # deny-s3 is still there
    with pytest.raises(ClientError) as exc:
        org.detach_policy(PolicyId=deny, TargetId=root)
    assert exc.value.response["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    more = [
        org.create_policy(Name=f"s{i}", Description="", Type=SCP, Content=DENY_S3)["Policy"]["PolicySummary"]["Id"] for i in range(5)
    ]
    for pid in more[:4]:
        org.attach_policy(PolicyId=pid, TargetId=root)
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=more[4], TargetId=root)
    assert exc.value.response["Reason"] == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"


def test_delegated_administrators_and_service_access(cloud):
    mgmt = next_account()
    org, _, _ = new_org(cloud, mgmt)
    admin = create_account(org, f"sec{mgmt}")
    other = create_account(org, f"oth{mgmt}")
    delegate = cloud.client("organizations", key=admin)
    with pytest.raises(ClientError) as exc:
        delegate.list_accounts()
    assert error(exc)[0] == "AccessDeniedException"

    org.enable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
    (svc,) = org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert svc["ServicePrincipal"] == "guardduty.amazonaws.com" and svc["DateEnabled"]
    org.register_delegated_administrator(AccountId=admin, ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(AccountId=admin, ServicePrincipal="guardduty.amazonaws.com")
    assert error(exc)[0] == "AccountAlreadyRegisteredException"
    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(AccountId=mgmt, ServicePrincipal="guardduty.amazonaws.com")
    assert exc.value.response["Reason"] == "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"
    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(AccountId=admin, ServicePrincipal="not a principal")
    assert exc.value.response["Reason"] == "UNRECOGNIZED_SERVICE_PRINCIPAL"

    (d,) = org.list_delegated_administrators()["DelegatedAdministrators"]
    assert d["Id"] == admin and d["DelegationEnabledDate"]
    assert org.list_delegated_administrators(ServicePrincipal="sso.amazonaws.com")["DelegatedAdministrators"] == []
    assert [s["ServicePrincipal"] for s in org.list_delegated_services_for_account(AccountId=admin)["DelegatedServices"]] == [
        "guardduty.amazonaws.com"
    ]
    with pytest.raises(ClientError) as exc:
        org.list_delegated_services_for_account(AccountId=other)
    assert error(exc)[0] == "AccountNotRegisteredException"

    # the delegate reads the organization, but still does not manage it
    assert {a["Id"] for a in delegate.list_accounts()["Accounts"]} == {mgmt, admin, other}
    assert delegate.list_roots()["Roots"]
    with pytest.raises(ClientError) as exc:
        delegate.create_organizational_unit(ParentId=delegate.list_roots()["Roots"][0]["Id"], Name="x")
    assert error(exc)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        org.remove_account_from_organization(AccountId=admin)
    assert exc.value.response["Reason"] == "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"

    org.deregister_delegated_administrator(AccountId=admin, ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        org.deregister_delegated_administrator(AccountId=admin, ServicePrincipal="guardduty.amazonaws.com")
    assert error(exc)[0] == "AccountNotRegisteredException"
    with pytest.raises(ClientError) as exc:
        delegate.list_accounts()
    assert error(exc)[0] == "AccessDeniedException"
    org.disable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
    assert org.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []
