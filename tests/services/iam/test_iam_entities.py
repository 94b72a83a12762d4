"""Users, groups, roles, managed and inline policies, attachments, tags, paging."""

import json

import pytest

from tests.services.iam.conftest import ALLOW_ALL, TRUST_EC2, doc, error_of

ACCOUNT = "210000000001"


@pytest.fixture(scope="module")
def iam(cloud):
    return cloud.client("iam", key=ACCOUNT)


def test_user_lifecycle_and_errors(iam):
    user = iam.create_user(UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["Tags"] == [{"Key": "team", "Value": "core"}]
    assert iam.get_user(UserName="ALICE")["User"]["UserName"] == "alice"  # names ignore case
    assert error_of(iam.create_user, UserName="Alice") == (
        "EntityAlreadyExists", "User with name Alice already exists.", 409)
    assert error_of(iam.get_user, UserName="nobody") == (
        "NoSuchEntity", "The user with name nobody cannot be found.", 404)
    code, message, status = error_of(iam.create_user, UserName="bad name!")
    assert (code, status) == ("ValidationError", 400) and "regular expression pattern" in message
    iam.update_user(UserName="alice", NewUserName="alicia", NewPath="/ops/")
    assert iam.get_user(UserName="alicia")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/ops/alicia"
    iam.tag_user(UserName="alicia", Tags=[{"Key": "k2", "Value": "v2"}])
    iam.untag_user(UserName="alicia", TagKeys=["team"])
    assert iam.list_user_tags(UserName="alicia")["Tags"] == [{"Key": "k2", "Value": "v2"}]
    iam.delete_user(UserName="alicia")
    assert error_of(iam.get_user, UserName="alicia")[0] == "NoSuchEntity"


def test_list_users_pages_with_marker(iam):
    names = [f"pager{i:02d}" for i in range(7)]
    for n in names:
        iam.create_user(UserName=n, Path="/pager/")
    seen, marker = [], None
    while True:
        page = iam.list_users(PathPrefix="/pager/", MaxItems=3, **({"Marker": marker} if marker else {}))
        seen += [u["UserName"] for u in page["Users"]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        assert len(page["Users"]) == 3
        marker = page["Marker"]
    assert seen == names
    assert [u["UserName"] for p in iam.get_paginator("list_users").paginate(PathPrefix="/pager/", PaginationConfig={"PageSize": 2}) for u in p["Users"]] == names


def test_groups_membership_and_delete_conflicts(iam):
    iam.create_group(GroupName="devs")
    iam.create_user(UserName="gus")
    iam.add_user_to_group(GroupName="devs", UserName="gus")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["gus"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="gus")["Groups"]] == ["devs"]
    assert error_of(iam.delete_group, GroupName="devs") == (
        "DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    assert error_of(iam.delete_user, UserName="gus")[:2] == (
        "DeleteConflict", "Cannot delete entity, must remove user from group first.")
    iam.remove_user_from_group(GroupName="devs", UserName="gus")
    iam.put_group_policy(GroupName="devs", PolicyName="p", PolicyDocument=ALLOW_ALL)
    assert error_of(iam.delete_group, GroupName="devs")[1] == "Cannot delete entity, must delete policies first."
    iam.delete_group_policy(GroupName="devs", PolicyName="p")
    iam.delete_group(GroupName="devs")
    iam.delete_user(UserName="gus")
    assert error_of(iam.get_group, GroupName="devs")[:2] == (
        "NoSuchEntity", "The group with name devs cannot be found.")


def test_role_settings_trust_and_boundary(iam, cloud):
    raw = cloud.client("iam", key=ACCOUNT, parameter_validation=False)  # the server's own range check
    role = iam.create_role(RoleName="app", Path="/svc/", AssumeRolePolicyDocument=TRUST_EC2,
                           Description="d", MaxSessionDuration=7200, Tags=[{"Key": "a", "Value": "b"}],
                           PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess")["Role"]
    assert role["RoleId"].startswith("AROA") and role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/svc/app"
    got = iam.get_role(RoleName="app")["Role"]
    assert got["AssumeRolePolicyDocument"] == json.loads(TRUST_EC2)  # URL-encoded on the wire, decoded by boto3
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "d"
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == "arn:aws:iam::aws:policy/PowerUserAccess"
    assert error_of(raw.update_role, RoleName="app", MaxSessionDuration=100)[0] == "ValidationError"
    assert error_of(raw.update_role, RoleName="app", MaxSessionDuration=50000)[0] == "ValidationError"
    iam.update_role(RoleName="app", MaxSessionDuration=43200)
    new_trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=new_trust)
    assert iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"] == json.loads(new_trust)
    assert error_of(iam.update_assume_role_policy, RoleName="app", PolicyDocument="{nope")[0] == "MalformedPolicyDocument"
    iam.delete_role_permissions_boundary(RoleName="app")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="app")["Role"]
    iam.tag_role(RoleName="app", Tags=[{"Key": "c", "Value": "d"}])
    assert {t["Key"] for t in iam.list_role_tags(RoleName="app")["Tags"]} == {"a", "c"}
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/svc/")["Roles"]] == ["app"]
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=ALLOW_ALL)
    assert error_of(iam.delete_role, RoleName="app")[1] == "Cannot delete entity, must delete policies first."
    iam.delete_role_policy(RoleName="app", PolicyName="inline")
    iam.delete_role(RoleName="app")
    assert error_of(iam.get_role, RoleName="app")[1] == "The role with name app cannot be found."


def test_bad_documents_are_malformed(iam):
    assert error_of(iam.create_role, RoleName="bad", AssumeRolePolicyDocument="not json")[0] == "MalformedPolicyDocument"
    assert error_of(iam.create_policy, PolicyName="bad", PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}')[0] == "MalformedPolicyDocument"


def test_managed_policy_versions(iam):
    arn = iam.create_policy(PolicyName="pv", Path="/team/", PolicyDocument=doc("s3:GetObject"),
                            Description="versions")["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/team/pv"
    for i in range(4):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(f"s3:Get{i}"), SetAsDefault=(i == 1))
        assert v["PolicyVersion"]["VersionId"] == f"v{i + 2}"
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc("s3:X")) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        409,
    )
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["DefaultVersionId"] == "v3" and policy["Description"] == "versions"
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert got["IsDefaultVersion"] and got["Document"] == json.loads(doc("s3:Get1"))
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v5", "v4", "v3", "v2", "v1"]
    assert error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v3")[:2] == (
        "DeleteConflict", "Cannot delete the default version of a policy.")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:Y"))
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v6")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"
    assert error_of(iam.delete_policy, PolicyArn=arn)[0] == "DeleteConflict"
    for v in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    assert error_of(iam.get_policy, PolicyArn=arn) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)


def test_attachments_counts_and_scopes(iam):
    iam.create_user(UserName="att")
    iam.create_role(RoleName="attr", AssumeRolePolicyDocument=TRUST_EC2)
    arn = iam.create_policy(PolicyName="attp", PolicyDocument=doc("sqs:*"))["Policy"]["Arn"]
    assert error_of(iam.create_policy, PolicyName="attp", PolicyDocument=ALLOW_ALL)[:2] == (
        "EntityAlreadyExists", "A policy called attp already exists. Duplicate names are not allowed.")
    iam.attach_user_policy(UserName="att", PolicyArn=arn)
    iam.attach_role_policy(RoleName="attr", PolicyArn=arn)
    iam.attach_role_policy(RoleName="attr", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    missing = "arn:aws:iam::aws:policy/NoSuchPolicy"
    assert error_of(iam.attach_user_policy, UserName="att", PolicyArn=missing) == (
        "NoSuchEntity", f"Policy {missing} does not exist or is not attachable.", 404)
    listed = iam.list_attached_role_policies(RoleName="attr")["AttachedPolicies"]
    assert {p["PolicyName"] for p in listed} == {"attp", "AWSLambdaBasicExecutionRole"}
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in ents["PolicyUsers"]] == ["att"] and [r["RoleName"] for r in ents["PolicyRoles"]] == ["attr"]
    aws = iam.list_policies(Scope="AWS")["Policies"]
    names = {p["PolicyName"] for p in aws}
    assert {"AdministratorAccess", "ReadOnlyAccess", "AmazonS3FullAccess", "AWSLambdaBasicExecutionRole"} <= names
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws)
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["attp"] and local[0]["AttachmentCount"] == 2
    attached = {p["PolicyName"] for p in iam.list_policies(OnlyAttached=True)["Policies"]}
    assert attached == {"attp", "AWSLambdaBasicExecutionRole"}
    admin = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess", VersionId="v1")
    assert admin["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "*"
    assert error_of(iam.delete_user, UserName="att")[1] == "Cannot delete entity, must detach all policies first."
    assert error_of(iam.delete_policy, PolicyArn=arn)[1] == "Cannot delete a policy attached to entities."
    iam.detach_user_policy(UserName="att", PolicyArn=arn)
    assert error_of(iam.detach_user_policy, UserName="att", PolicyArn=arn)[0] == "NoSuchEntity"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "x", "Value": "y"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "x", "Value": "y"}]


def test_inline_policies(iam):
    iam.create_user(UserName="inl")
    iam.put_user_policy(UserName="inl", PolicyName="b", PolicyDocument=doc("s3:GetObject"))
    iam.put_user_policy(UserName="inl", PolicyName="a", PolicyDocument=doc("sqs:SendMessage"))
    assert iam.list_user_policies(UserName="inl")["PolicyNames"] == ["a", "b"]
    got = iam.get_user_policy(UserName="inl", PolicyName="b")
    assert got["PolicyDocument"] == json.loads(doc("s3:GetObject")) and got["UserName"] == "inl"
    assert error_of(iam.get_user_policy, UserName="inl", PolicyName="zz") == (
        "NoSuchEntity", "The user policy with name zz cannot be found.", 404)
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": [f"s3:GetObject{i}" for i in range(200)], "Resource": "*"}]})
    assert error_of(iam.put_user_policy, UserName="inl", PolicyName="big", PolicyDocument=big)[0] == "LimitExceeded"
    assert error_of(iam.delete_user, UserName="inl")[1] == "Cannot delete entity, must delete policies first."
    iam.delete_user_policy(UserName="inl", PolicyName="a")
    iam.delete_user_policy(UserName="inl", PolicyName="b")
    iam.delete_user(UserName="inl")


def test_user_boundary_and_authorization_details(iam):
    iam.create_user(UserName="bound")
    iam.put_user_permissions_boundary(UserName="bound", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert iam.get_user(UserName="bound")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith("AmazonS3FullAccess")
    assert error_of(iam.put_user_permissions_boundary, UserName="bound",
                    PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/none")[0] == "NoSuchEntity"
    iam.put_user_policy(UserName="bound", PolicyName="i", PolicyDocument=ALLOW_ALL)
    details = iam.get_account_authorization_details(Filter=["User"])
    mine = [u for u in details["UserDetailList"] if u["UserName"] == "bound"][0]
    assert mine["UserPolicyList"][0]["PolicyDocument"] == json.loads(ALLOW_ALL)
    assert details["RoleDetailList"] == [] and details["GroupDetailList"] == []
    iam.delete_user_permissions_boundary(UserName="bound")
    assert "PermissionsBoundary" not in iam.get_user(UserName="bound")["User"]
