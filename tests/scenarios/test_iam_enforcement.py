"""Security scenarios with `--enforce-iam`: cloudlet says no where AWS says no.

Each test is one of the stories the IAM issue names: a read-only user, a vendor role with an
ExternalId, an SCP on instance types, a bucket policy's explicit deny, a permissions
boundary, a cross-account role. All through boto3 over HTTP, as a user would run them.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.cloud import Cloud

OWNER = "111111111111"     # the account whose resources are protected
VENDOR = "222222222222"    # a third party
PARTNER = "333333333333"   # another account of the same company
MANAGEMENT = "444444444444"  # an organization's management account


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal: dict, **condition: dict) -> str:
    s = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        s["Condition"] = condition
    return doc(s)


@pytest.fixture(scope="module")
def cloud():
    c = Cloud("--enforce-iam")
    yield c
    c.stop()


def denied(call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return err.value


def user_with_keys(cloud: Cloud, account: str, name: str, *policy_arns: str, inline: str | None = None):
    """An IAM user of `account` (made by its root) with the given policies; its key pair."""
    iam = cloud.client("iam", key=account)
    iam.create_user(UserName=name)
    for arn in policy_arns:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


_ASSUMERS: dict[str, tuple[str, str]] = {}


def assumer(cloud: Cloud, account: str):
    """An STS client of a user of `account` allowed to assume roles (a root may not: AWS
    refuses role assumption by root credentials)."""
    if account not in _ASSUMERS:
        _ASSUMERS[account] = user_with_keys(cloud, account, "assumer", inline=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    return as_keys(cloud, "sts", _ASSUMERS[account])


def as_keys(cloud: Cloud, service: str, creds: tuple[str, str] | dict, region: str = "us-east-1"):
    if isinstance(creds, dict):  # STS credentials
        import boto3
        from botocore.config import Config as BotoConfig

        return boto3.client(service, endpoint_url=cloud.endpoint, region_name=region,
                            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], config=BotoConfig(retries={"max_attempts": 1}))
    return cloud.client(service, region=region, key=creds[0], secret=creds[1])


@pytest.fixture(scope="module")
def bucket(cloud):
    s3 = cloud.client("s3", key=OWNER)
    s3.create_bucket(Bucket="owner-reports")
    s3.put_object(Bucket="owner-reports", Key="q1.csv", Body=b"a,b\n1,2\n")
    s3.create_bucket(Bucket="owner-private")
    s3.put_object(Bucket="owner-private", Key="secret.txt", Body=b"top secret")
    return "owner-reports"


def test_a_read_only_user_reads_and_cannot_write(cloud, bucket):
    creds = user_with_keys(cloud, OWNER, "reader", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    s3 = as_keys(cloud, "s3", creds)
    assert s3.get_object(Bucket=bucket, Key="q1.csv")["Body"].read() == b"a,b\n1,2\n"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["q1.csv"]
    before = cloud.admin("GET", "health")["iam"]["denied"]
    err = denied(s3.put_object, Bucket=bucket, Key="new.csv", Body=b"x")
    assert err.response["Error"]["Code"] == "AccessDenied"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.response["Error"]["Message"] == (
        f'User: arn:aws:iam::{OWNER}:user/reader is not authorized to perform: s3:PutObject on resource: '
        f'"arn:aws:s3:::{bucket}/new.csv" because no identity-based policy allows the s3:PutObject action')
    assert cloud.admin("GET", "health")["iam"]["denied"] == before + 1
    # nor anything outside S3
    assert denied(as_keys(cloud, "sqs", creds).create_queue, QueueName="nope").response["Error"]["Code"] in (
        "AccessDenied", "AccessDeniedException")
    # the owner's root is not held back
    cloud.client("s3", key=OWNER).put_object(Bucket=bucket, Key="by-root.csv", Body=b"ok")


def test_unknown_keys_and_expired_sessions_are_refused(cloud):
    err = denied(cloud.client("sts", key="AKIAUNKNOWNKEY000000").get_caller_identity)
    assert err.response["Error"]["Code"] == "InvalidClientTokenId"
    iam = cloud.client("iam", key=OWNER)
    iam.create_role(RoleName="short", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{OWNER}:root"}))
    root_try = denied(cloud.client("sts", key=OWNER).assume_role, RoleArn=f"arn:aws:iam::{OWNER}:role/short",
                      RoleSessionName="root-session")
    assert root_try.response["Error"]["Code"] == "AccessDenied"  # roles may not be assumed by root
    creds = assumer(cloud, OWNER).assume_role(
        RoleArn=f"arn:aws:iam::{OWNER}:role/short", RoleSessionName="s1", DurationSeconds=900)["Credentials"]
    who = as_keys(cloud, "sts", creds).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{OWNER}:assumed-role/short/s1"
    cloud.advance(901)
    err = denied(as_keys(cloud, "sts", creds).get_caller_identity)
    assert err.response["Error"]["Code"] == "ExpiredToken"


def test_a_vendor_role_with_the_right_external_id_reads_one_bucket_only(cloud, bucket):
    iam = cloud.client("iam", key=OWNER)
    role_arn = iam.create_role(
        RoleName="vendor-read",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{VENDOR}:root"},
                                       StringEquals={"sts:ExternalId": "vendor-ext-7731"}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="vendor-read", PolicyName="one-bucket", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}"}))
    vendor_sts = assumer(cloud, VENDOR)
    wrong = denied(vendor_sts.assume_role, RoleArn=role_arn, RoleSessionName="vendor", ExternalId="guess")
    assert wrong.response["Error"]["Code"] == "AccessDenied"
    assert "sts:AssumeRole" in wrong.response["Error"]["Message"]
    assert denied(vendor_sts.assume_role, RoleArn=role_arn, RoleSessionName="vendor").response["Error"]["Code"] == \
        "AccessDenied"
    creds = vendor_sts.assume_role(RoleArn=role_arn, RoleSessionName="vendor",
                                   ExternalId="vendor-ext-7731")["Credentials"]
    s3 = as_keys(cloud, "s3", creds)
    assert s3.get_object(Bucket=bucket, Key="q1.csv")["Body"].read().startswith(b"a,b")
    err = denied(s3.get_object, Bucket="owner-private", Key="secret.txt")
    assert err.response["Error"]["Code"] == "AccessDenied"
    assert denied(s3.put_object, Bucket=bucket, Key="x", Body=b"x").response["Error"]["Code"] == "AccessDenied"


def test_an_explicit_deny_in_a_bucket_policy_beats_an_admins_allow(cloud, bucket):
    creds = user_with_keys(cloud, OWNER, "admin", "arn:aws:iam::aws:policy/AdministratorAccess")
    s3_root = cloud.client("s3", key=OWNER)
    s3_root.put_object(Bucket=bucket, Key="keep.csv", Body=b"keep")
    s3_root.put_bucket_policy(Bucket=bucket, Policy=doc({
        "Sid": "NoDeletes", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:user/admin"},
        "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    s3 = as_keys(cloud, "s3", creds)
    err = denied(s3.delete_object, Bucket=bucket, Key="keep.csv")
    assert err.response["Error"]["Code"] == "AccessDenied"
    assert err.response["Error"]["Message"].endswith("with an explicit deny in a resource-based policy")
    assert s3.get_object(Bucket=bucket, Key="keep.csv")["Body"].read() == b"keep"  # the rest of admin still works
    s3_root.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="keep.csv")


def test_a_permissions_boundary_caps_a_role(cloud, bucket):
    iam = cloud.client("iam", key=OWNER)
    iam.create_role(RoleName="capped", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{OWNER}:root"}),
                    PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.attach_role_policy(RoleName="capped", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    creds = assumer(cloud, OWNER).assume_role(
        RoleArn=f"arn:aws:iam::{OWNER}:role/capped", RoleSessionName="cap")["Credentials"]
    s3 = as_keys(cloud, "s3", creds)
    assert s3.get_object(Bucket=bucket, Key="q1.csv")["Body"].read().startswith(b"a,b")
    err = denied(s3.put_object, Bucket=bucket, Key="capped.csv", Body=b"x")
    assert err.response["Error"]["Message"].endswith("because no permissions boundary allows the s3:PutObject action")
    err = denied(as_keys(cloud, "sqs", creds).create_queue, QueueName="capped")
    assert "sqs:CreateQueue" in err.response["Error"]["Message"]
    iam.delete_role_permissions_boundary(RoleName="capped")  # without the cap, the same session may write
    s3.put_object(Bucket=bucket, Key="capped.csv", Body=b"x")


def test_a_cross_account_role_works_only_when_both_sides_allow(cloud, bucket):
    owner_iam = cloud.client("iam", key=OWNER)
    role_arn = owner_iam.create_role(RoleName="partner-access",
                                     AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{PARTNER}:root"})
                                     )["Role"]["Arn"]
    owner_iam.attach_role_policy(RoleName="partner-access", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    creds = user_with_keys(cloud, PARTNER, "dev")
    sts = as_keys(cloud, "sts", creds)
    # the role trusts the partner account, but the partner's user has no permission to assume it
    err = denied(sts.assume_role, RoleArn=role_arn, RoleSessionName="dev")
    assert err.response["Error"]["Message"].endswith("because no identity-based policy allows the sts:AssumeRole action")
    partner_iam = cloud.client("iam", key=PARTNER)
    partner_iam.put_user_policy(UserName="dev", PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    session = sts.assume_role(RoleArn=role_arn, RoleSessionName="dev")["Credentials"]
    assert as_keys(cloud, "s3", session).get_object(Bucket=bucket, Key="q1.csv")["Body"].read().startswith(b"a,b")
    # now the owner's side stops trusting the partner: the partner's own allow is not enough
    owner_iam.update_assume_role_policy(RoleName="partner-access",
                                        PolicyDocument=trust({"AWS": f"arn:aws:iam::{VENDOR}:root"}))
    err = denied(sts.assume_role, RoleArn=role_arn, RoleSessionName="dev")
    assert err.response["Error"]["Code"] == "AccessDenied"
    # and a bucket in the owner's account is not readable by the partner's user directly
    assert denied(as_keys(cloud, "s3", creds).get_object, Bucket=bucket, Key="q1.csv").response["Error"]["Code"] == \
        "AccessDenied"


def test_an_scp_on_instance_types_stops_a_member_accounts_admin(cloud):
    org = cloud.client("organizations", key=MANAGEMENT)
    org.create_organization(FeatureSet="ALL")
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    status = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    for _ in range(20):
        status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS":
            break
    assert status["State"] == "SUCCEEDED"
    member = status["AccountId"]
    policy_id = org.create_policy(
        Name="only-t3", Type="SERVICE_CONTROL_POLICY", Description="t3 instances only",
        Content=doc({"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:instance/*",
                     "Condition": {"StringNotLike": {"ec2:InstanceType": "t3.*"}}}))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId=member)

    admin = user_with_keys(cloud, member, "admin", "arn:aws:iam::aws:policy/AdministratorAccess")
    ec2 = as_keys(cloud, "ec2", admin)
    err = denied(ec2.run_instances, ImageId="ami-12345678", InstanceType="m5.large", MinCount=1, MaxCount=1)
    assert err.response["Error"]["Code"] == "UnauthorizedOperation"
    assert "Encoded authorization failure message" in err.response["Error"]["Message"]
    # a t3 passes IAM (cloudlet has no EC2 yet, so it then answers NotImplemented)
    ok = denied(ec2.run_instances, ImageId="ami-12345678", InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert ok.response["Error"]["Code"] == "NotImplemented"
    # the member account's root is bound by the SCP too; the management account is not
    root_ec2 = cloud.client("ec2", key=member)
    assert denied(root_ec2.run_instances, ImageId="ami-12345678", InstanceType="m5.large", MinCount=1,
                  MaxCount=1).response["Error"]["Code"] == "UnauthorizedOperation"
    mgmt_ec2 = cloud.client("ec2", key=MANAGEMENT)
    assert denied(mgmt_ec2.run_instances, ImageId="ami-12345678", InstanceType="m5.large", MinCount=1,
                  MaxCount=1).response["Error"]["Code"] == "NotImplemented"
    # the management account reaches into the new account through OrganizationAccountAccessRole
    creds = assumer(cloud, MANAGEMENT).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="ops")["Credentials"]
    assert as_keys(cloud, "sts", creds).get_caller_identity()["Account"] == member
