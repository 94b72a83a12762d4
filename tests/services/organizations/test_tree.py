"""Organizations over HTTP with boto3: the organization, its root, OUs, accounts and moves."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.services.organizations.helpers import accounts, create_account, error, new_org

next_account = accounts("31000000")  # this module's management accounts: 31000000xxxx


def test_create_describe_delete_organization(cloud):
    mgmt = next_account()
    org = cloud.client("organizations", key=mgmt)
    with pytest.raises(ClientError) as exc:
        org.describe_organization()
    assert error(exc) == ("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.", 400)

    created = org.create_organization()["Organization"]
    assert re.fullmatch(r"o-[a-z0-9]{10}", created["Id"])
    assert created["FeatureSet"] == "ALL"
    assert created["MasterAccountId"] == mgmt
    assert created["Arn"] == f"arn:aws:organizations::{mgmt}:organization/{created['Id']}"
    assert org.describe_organization()["Organization"]["Id"] == created["Id"]

    with pytest.raises(ClientError) as exc:
        org.create_organization()
    assert error(exc)[0] == "AlreadyInOrganizationException"

    (root,) = org.list_roots()["Roots"]
    assert re.fullmatch(r"r-[a-z0-9]{4}", root["Id"]) and root["Name"] == "Root"
    assert root["PolicyTypes"] == []
    assert root["Arn"] == f"arn:aws:organizations::{mgmt}:root/{created['Id']}/{root['Id']}"

    (me,) = org.list_accounts()["Accounts"]
    assert me["Id"] == mgmt and me["Status"] == "ACTIVE"

    org.delete_organization()
    with pytest.raises(ClientError) as exc:
        org.describe_organization()
    assert error(exc)[0] == "AWSOrganizationsNotInUseException"
    org.create_organization(FeatureSet="CONSOLIDATED_BILLING")  # a deleted org frees the account
    assert org.describe_organization()["Organization"]["FeatureSet"] == "CONSOLIDATED_BILLING"


def test_created_account_joins_at_the_root_and_reads_the_org(cloud):
    mgmt = next_account()
    org, created, root = new_org(cloud, mgmt)
    status = org.create_account(AccountName="dev", Email="dev@example.com")["CreateAccountStatus"]
    assert status["State"] == "IN_PROGRESS" and re.fullmatch(r"car-[a-z0-9]{8,32}", status["Id"])
    done = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED" and re.fullmatch(r"\d{12}", done["AccountId"])
    assert done["AccountName"] == "dev" and "CompletedTimestamp" in done
    new = done["AccountId"]
    assert new != mgmt

    acct = org.describe_account(AccountId=new)["Account"]
    assert acct["Name"] == "dev" and acct["Email"] == "dev@example.com" and acct["JoinedMethod"] == "CREATED"
    assert acct["Arn"] == f"arn:aws:organizations::{mgmt}:account/{created['Id']}/{new}"
    assert acct["Paths"] == [f"{created['Id']}/{root}/{new}/"]
    assert {a["Id"] for a in org.list_accounts()["Accounts"]} == {mgmt, new}
    assert [s["AccountId"] for s in org.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]] == [new]
    assert org.list_create_account_status(States=["IN_PROGRESS"])["CreateAccountStatuses"] == []

    # the new account is usable: its root signs in, and it sees its organization
    sts = cloud.client("sts", key=new)
    assert sts.get_caller_identity()["Account"] == new
    member = cloud.client("organizations", key=new)
    assert member.describe_organization()["Organization"]["MasterAccountId"] == mgmt
    # ...and it holds the role the management account assumes into it, with full access
    iam = cloud.client("iam", key=new)
    role = iam.get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{new}:role/OrganizationAccountAccessRole"
    (stmt,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Principal"] == {"AWS": f"arn:aws:iam::{mgmt}:root"} and stmt["Action"] == "sts:AssumeRole"
    attached = iam.list_attached_role_policies(RoleName="OrganizationAccountAccessRole")["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    # ...but it does not manage it
    for call in (member.list_accounts, member.list_roots, lambda: member.create_account(AccountName="x", Email="x@example.com")):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("AccessDeniedException", "You don't have permissions to access this resource.", 400)

    # the same email cannot be used twice: the request fails, as AWS reports it
    again = org.create_account(AccountName="dup", Email="dev@example.com")["CreateAccountStatus"]
    failed = org.describe_create_account_status(CreateAccountRequestId=again["Id"])["CreateAccountStatus"]
    assert failed["State"] == "FAILED" and failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"

    with pytest.raises(ClientError) as exc:
        org.delete_organization()
    assert error(exc)[0] == "OrganizationNotEmptyException"


def test_ous_nest_and_accounts_move(cloud):
    mgmt = next_account()
    org, created, root = new_org(cloud, mgmt)
    prod = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]
    assert re.fullmatch(rf"ou-{root[2:]}-[a-z0-9]{{8}}", prod["Id"])
    assert prod["Path"] == f"{created['Id']}/{root}/{prod['Id']}/"
    web = org.create_organizational_unit(ParentId=prod["Id"], Name="web")["OrganizationalUnit"]
    with pytest.raises(ClientError) as exc:
        org.create_organizational_unit(ParentId=root, Name="prod")
    assert error(exc)[0] == "DuplicateOrganizationalUnitException"
    org.create_organizational_unit(ParentId=prod["Id"], Name="prod")  # same name, another parent: fine

    assert [c["Id"] for c in org.list_children(ParentId=root, ChildType="ORGANIZATIONAL_UNIT")["Children"]] == [prod["Id"]]
    assert {o["Name"] for o in org.list_organizational_units_for_parent(ParentId=prod["Id"])["OrganizationalUnits"]} == {"web", "prod"}
    assert org.list_parents(ChildId=web["Id"])["Parents"] == [{"Id": prod["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.list_parents(ChildId=prod["Id"])["Parents"] == [{"Id": root, "Type": "ROOT"}]

    acct = create_account(org, f"app{mgmt}")
    assert [c["Id"] for c in org.list_children(ParentId=root, ChildType="ACCOUNT")["Children"]] == sorted([mgmt, acct])
    org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=web["Id"])
    assert org.list_parents(ChildId=acct)["Parents"] == [{"Id": web["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert [a["Id"] for a in org.list_accounts_for_parent(ParentId=web["Id"])["Accounts"]] == [acct]
    assert org.describe_account(AccountId=acct)["Account"]["Paths"] == [
        f"{created['Id']}/{root}/{prod['Id']}/{web['Id']}/{acct}/"
    ]

    cases = [
        ({"SourceParentId": web["Id"], "DestinationParentId": web["Id"]}, "DuplicateAccountException"),
        ({"SourceParentId": f"ou-{root[2:]}-zzzzzzzz", "DestinationParentId": root}, "SourceParentNotFoundException"),
        ({"SourceParentId": web["Id"], "DestinationParentId": f"ou-{root[2:]}-zzzzzzzz"}, "DestinationParentNotFoundException"),
        ({"SourceParentId": root, "DestinationParentId": prod["Id"]}, "AccountNotFoundException"),  # not in that source
    ]
    for args, code in cases:
        with pytest.raises(ClientError) as exc:
            org.move_account(AccountId=acct, **args)
        assert error(exc)[0] == code, args

    with pytest.raises(ClientError) as exc:
        org.delete_organizational_unit(OrganizationalUnitId=web["Id"])
    assert error(exc)[0] == "OrganizationalUnitNotEmptyException"
    org.update_organizational_unit(OrganizationalUnitId=web["Id"], Name="frontend")
    assert org.describe_organizational_unit(OrganizationalUnitId=web["Id"])["OrganizationalUnit"]["Name"] == "frontend"

    org.move_account(AccountId=acct, SourceParentId=web["Id"], DestinationParentId=root)
    org.delete_organizational_unit(OrganizationalUnitId=web["Id"])
    with pytest.raises(ClientError) as exc:
        org.describe_organizational_unit(OrganizationalUnitId=web["Id"])
    assert error(exc)[0] == "OrganizationalUnitNotFoundException"
    with pytest.raises(ClientError) as exc:
        org.list_parents(ChildId=web["Id"])
    assert error(exc)[0] == "ChildNotFoundException"


def test_create_account_names_its_role(cloud):
    org, _, _ = new_org(cloud, next_account())
    status = org.create_account(AccountName="r", Email=f"r{id(org)}@example.com", RoleName="OrgAdmin")["CreateAccountStatus"]
    new = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    assert cloud.client("iam", key=new).get_role(RoleName="OrgAdmin")["Role"]["RoleName"] == "OrgAdmin"
    with pytest.raises(ClientError) as exc:
        org.create_account(AccountName="r", Email="r2@example.com", RoleName="AWSServiceRoleForX")
    assert error(exc)[0] == "InvalidInputException" and exc.value.response["Reason"] == "INVALID_ROLE_NAME"


def test_ou_depth_is_limited_to_five(cloud):
    org, _, root = new_org(cloud, next_account())
    parent = root
    for depth in range(5):
        parent = org.create_organizational_unit(ParentId=parent, Name=f"l{depth}")["OrganizationalUnit"]["Id"]
    with pytest.raises(ClientError) as exc:
        org.create_organizational_unit(ParentId=parent, Name="too-deep")
    assert error(exc)[0] == "ConstraintViolationException"
    assert exc.value.response["Reason"] == "OU_DEPTH_LIMIT_EXCEEDED"


def test_accounts_leave_and_are_removed(cloud):
    mgmt = next_account()
    org, _, _ = new_org(cloud, mgmt)
    a, b = create_account(org, f"a{mgmt}"), create_account(org, f"b{mgmt}")

    cloud.client("organizations", key=a).leave_organization()
    with pytest.raises(ClientError) as exc:
        cloud.client("organizations", key=a).describe_organization()
    assert error(exc)[0] == "AWSOrganizationsNotInUseException"

    org.remove_account_from_organization(AccountId=b)
    with pytest.raises(ClientError) as exc:
        org.describe_account(AccountId=b)
    assert error(exc)[0] == "AccountNotFoundException"
    with pytest.raises(ClientError) as exc:
        org.remove_account_from_organization(AccountId=mgmt)
    assert error(exc)[0] == "MasterCannotLeaveOrganizationException"
    with pytest.raises(ClientError) as exc:
        org.leave_organization()
    assert error(exc)[0] == "MasterCannotLeaveOrganizationException"

    # a removed account can found its own organization
    cloud.client("organizations", key=b).create_organization()
    org.delete_organization()  # only the management account is left


def test_tags_on_accounts_ous_and_root(cloud):
    mgmt = next_account()
    org, _, root = new_org(cloud, mgmt)
    ou = org.create_organizational_unit(ParentId=root, Name="t", Tags=[{"Key": "team", "Value": "a"}])["OrganizationalUnit"]
    assert org.list_tags_for_resource(ResourceId=ou["Id"])["Tags"] == [{"Key": "team", "Value": "a"}]
    org.tag_resource(ResourceId=ou["Id"], Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}])
    org.untag_resource(ResourceId=ou["Id"], TagKeys=["env"])
    assert org.list_tags_for_resource(ResourceId=ou["Id"])["Tags"] == [{"Key": "team", "Value": "b"}]
    org.tag_resource(ResourceId=root, Tags=[{"Key": "k", "Value": "v"}])
    org.tag_resource(ResourceId=mgmt, Tags=[{"Key": "k", "Value": "v"}])
    assert org.list_tags_for_resource(ResourceId=mgmt)["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as exc:
        org.tag_resource(ResourceId="123456789012", Tags=[{"Key": "k", "Value": "v"}])
    assert error(exc)[0] == "TargetNotFoundException"
    with pytest.raises(ClientError) as exc:
        org.tag_resource(ResourceId=root, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert error(exc)[0] == "ConstraintViolationException"


def test_paging(cloud):
    org, _, root = new_org(cloud, next_account())
    for i in range(5):
        org.create_organizational_unit(ParentId=root, Name=f"ou{i}")
    first = org.list_organizational_units_for_parent(ParentId=root, MaxResults=2)
    assert len(first["OrganizationalUnits"]) == 2 and first["NextToken"]
    names = [o["Name"] for o in first["OrganizationalUnits"]]
    token = first["NextToken"]
    while token:
        page = org.list_organizational_units_for_parent(ParentId=root, MaxResults=2, NextToken=token)
        names += [o["Name"] for o in page["OrganizationalUnits"]]
        token = page.get("NextToken")
    assert sorted(names) == [f"ou{i}" for i in range(5)]
    paginator = org.get_paginator("list_organizational_units_for_parent")
    assert sum(len(p["OrganizationalUnits"]) for p in paginator.paginate(ParentId=root, PaginationConfig={"PageSize": 3})) == 5
    with pytest.raises(ClientError) as exc:
        org.list_organizational_units_for_parent(ParentId=root, NextToken="garbage!")
    assert error(exc)[0] == "InvalidInputException"
