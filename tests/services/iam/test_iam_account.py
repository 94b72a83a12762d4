"""Instance profiles, service-linked roles, identity providers, passwords, MFA (TOTP on the
cloudlet clock), aliases, credential report, account summary, policy simulation."""

import base64
import csv
import datetime as dt
import hashlib
import hmac
import io
import struct

import pytest

from tests.services.iam.conftest import TRUST_EC2, doc, error_of

ACCOUNT = "210000000003"

SAML_METADATA = (
    '<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
    'entityID="https://idp.example.com" validUntil="2049-01-01T00:00:00Z">'
    + "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
    + "x" * 1000 + "</md:IDPSSODescriptor></md:EntityDescriptor>"
)


@pytest.fixture(scope="module")
def iam(cloud):
    return cloud.client("iam", key=ACCOUNT)


def _totp(seed_b32: bytes, counter: int) -> str:
    """RFC 6238 (HMAC-SHA1, 6 digits), written independently of the server's."""
    mac = hmac.new(base64.b32decode(seed_b32), struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def _server_step(cloud) -> int:
    now = dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00"))
    return int(now.timestamp()) // 30


def test_instance_profiles(iam):
    iam.create_role(RoleName="ec2", AssumeRolePolicyDocument=TRUST_EC2)
    prof = iam.create_instance_profile(InstanceProfileName="web", Path="/p/")["InstanceProfile"]
    assert prof["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/p/web" and prof["Roles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2")
    iam.create_role(RoleName="ec2b", AssumeRolePolicyDocument=TRUST_EC2)
    assert error_of(iam.add_role_to_instance_profile, InstanceProfileName="web", RoleName="ec2b")[0] == "LimitExceeded"
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["ec2"]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="ec2")["InstanceProfiles"]] == ["web"]
    assert error_of(iam.delete_role, RoleName="ec2")[1] == "Cannot delete entity, must remove roles from instance profile first."
    assert error_of(iam.delete_instance_profile, InstanceProfileName="web")[0] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="ec2")
    iam.delete_instance_profile(InstanceProfileName="web")
    assert error_of(iam.get_instance_profile, InstanceProfileName="web")[:2] == (
        "NoSuchEntity", "Instance Profile web cannot be found.")
    iam.delete_role(RoleName="ec2")


def test_service_linked_roles(iam):
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    trust = iam.get_role(RoleName="AWSServiceRoleForAutoScaling")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": ["autoscaling.amazonaws.com"]}
    assert error_of(iam.delete_role, RoleName="AWSServiceRoleForAutoScaling")[0] == "UnmodifiableEntity"
    assert error_of(iam.create_service_linked_role, AWSServiceName="autoscaling.amazonaws.com")[0] == "InvalidInput"
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling")["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    assert error_of(iam.get_role, RoleName="AWSServiceRoleForAutoScaling")[0] == "NoSuchEntity"


def test_oidc_and_saml_providers(iam):
    arn = iam.create_open_id_connect_provider(Url="https://token.example.com/id", ClientIDList=["a"],
                                              ThumbprintList=["9" * 40])["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com/id"
    assert error_of(iam.create_open_id_connect_provider, Url="https://token.example.com/id",
                    ThumbprintList=["9" * 40])[0] == "EntityAlreadyExists"
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="b")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="a")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["a" * 40])
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["Url"], got["ClientIDList"], got["ThumbprintList"]) == ("token.example.com/id", ["b"], ["a" * 40])
    assert got["Tags"] == [{"Key": "k", "Value": "v"}]
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [arn]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error_of(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)[0] == "NoSuchEntity"

    saml = iam.create_saml_provider(Name="corp", SAMLMetadataDocument=SAML_METADATA)["SAMLProviderArn"]
    assert saml == f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"
    got = iam.get_saml_provider(SAMLProviderArn=saml)
    assert got["SAMLMetadataDocument"] == SAML_METADATA and got["ValidUntil"].year == 2049
    iam.update_saml_provider(SAMLProviderArn=saml, SAMLMetadataDocument=SAML_METADATA.replace("2049", "2050"))
    assert iam.list_saml_providers()["SAMLProviderList"][0]["ValidUntil"].year == 2050
    iam.delete_saml_provider(SAMLProviderArn=saml)
    assert iam.list_saml_providers()["SAMLProviderList"] == []


def test_password_policy_and_login_profiles(cloud, iam):
    assert error_of(iam.get_account_password_policy) == (
        "NoSuchEntity", f"The Password Policy with domain name {ACCOUNT} cannot be found.", 404)
    iam.create_user(UserName="pw")
    assert error_of(iam.create_login_profile, UserName="pw", Password="short")[:2] == (
        "PasswordPolicyViolation", "Password does not conform to the account password policy.")
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True, AllowUsersToChangePassword=True)
    pol = iam.get_account_password_policy()["PasswordPolicy"]
    assert pol["MinimumPasswordLength"] == 12 and pol["RequireNumbers"] and not pol["RequireSymbols"]
    assert pol["ExpirePasswords"] is False
    assert error_of(iam.create_login_profile, UserName="pw", Password="longbutnodigits")[0] == "PasswordPolicyViolation"
    prof = iam.create_login_profile(UserName="pw", Password="longwithdigit1", PasswordResetRequired=True)["LoginProfile"]
    assert prof["UserName"] == "pw" and prof["PasswordResetRequired"]
    assert error_of(iam.create_login_profile, UserName="pw", Password="longwithdigit1")[0] == "EntityAlreadyExists"
    assert error_of(iam.delete_user, UserName="pw")[1] == "Cannot delete entity, must delete login profile first."
    key = iam.create_access_key(UserName="pw")["AccessKey"]
    me = cloud.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    me.change_password(OldPassword="longwithdigit1", NewPassword="anotherdigit22")
    assert iam.get_login_profile(UserName="pw")["LoginProfile"]["PasswordResetRequired"] is False
    assert error_of(me.change_password, OldPassword="wrong", NewPassword="anotherdigit33")[0] == "InvalidUserType"
    iam.update_login_profile(UserName="pw", PasswordResetRequired=True)
    iam.delete_login_profile(UserName="pw")
    assert error_of(iam.get_login_profile, UserName="pw") == (
        "NoSuchEntity", "Login Profile for User pw cannot be found.", 404)
    iam.delete_account_password_policy()
    assert error_of(iam.delete_account_password_policy)[0] == "NoSuchEntity"


def test_virtual_mfa_enable_with_totp(cloud, iam):
    iam.create_user(UserName="mfa")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="mfa-dev")["VirtualMFADevice"]
    serial, seed = dev["SerialNumber"], dev["Base32StringSeed"]
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/mfa-dev" and len(base64.b32decode(seed)) >= 10
    step = _server_step(cloud)
    assert error_of(iam.enable_mfa_device, UserName="mfa", SerialNumber=serial,
                    AuthenticationCode1=_totp(seed, step), AuthenticationCode2=_totp(seed, step - 5))[:2] == (
        "InvalidAuthenticationCode", "Authentication code for device is not valid.")
    iam.enable_mfa_device(UserName="mfa", SerialNumber=serial,
                          AuthenticationCode1=_totp(seed, step - 1), AuthenticationCode2=_totp(seed, step))
    devices = iam.list_mfa_devices(UserName="mfa")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [serial]
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"][0]["User"]["UserName"] == "mfa"
    assert error_of(iam.delete_virtual_mfa_device, SerialNumber=serial)[0] == "DeleteConflict"
    assert error_of(iam.delete_user, UserName="mfa")[1] == "Cannot delete entity, must delete MFA device first."
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["MFADevicesInUse"] == 1 and summary["Users"] >= 1
    iam.deactivate_mfa_device(UserName="mfa", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="mfa")["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []


def test_aliases_report_and_summary(iam):
    iam.create_account_alias(AccountAlias="cloudlet-acct-3")
    assert iam.list_account_aliases()["AccountAliases"] == ["cloudlet-acct-3"]
    iam.delete_account_alias(AccountAlias="cloudlet-acct-3")
    assert error_of(iam.delete_account_alias, AccountAlias="cloudlet-acct-3")[0] == "NoSuchEntity"
    iam.create_user(UserName="reported")
    iam.create_access_key(UserName="reported")
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
    assert rows[0]["user"] == "<root_account>"
    mine = [r for r in rows if r["user"] == "reported"][0]
    assert mine["access_key_1_active"] == "true" and mine["password_enabled"] == "false"
    assert mine["arn"] == f"arn:aws:iam::{ACCOUNT}:user/reported"


def test_alias_is_unique_across_accounts(cloud):
    a, b = cloud.client("iam", key="210000000013"), cloud.client("iam", key="210000000023")
    a.create_account_alias(AccountAlias="cloudlet-shared-alias")
    assert error_of(b.create_account_alias, AccountAlias="cloudlet-shared-alias")[0] == "EntityAlreadyExists"
    a.delete_account_alias(AccountAlias="cloudlet-shared-alias")
    b.create_account_alias(AccountAlias="cloudlet-shared-alias")


def test_simulation(iam):
    iam.create_user(UserName="sim")
    iam.create_group(GroupName="simg")
    iam.add_user_to_group(GroupName="simg", UserName="sim")
    iam.put_group_policy(GroupName="simg", PolicyName="s3", PolicyDocument=doc("s3:GetObject"))
    iam.put_user_policy(UserName="sim", PolicyName="deny", PolicyDocument=doc("s3:GetObject", effect="Deny",
                                                                               resource="arn:aws:s3:::secret/*"))
    arn = iam.get_user(UserName="sim")["User"]["Arn"]
    out = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::open/x", "arn:aws:s3:::secret/x"])
    got = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in out["EvaluationResults"]}
    assert got == {
        ("s3:GetObject", "arn:aws:s3:::open/x"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::secret/x"): "explicitDeny",
        ("s3:PutObject", "arn:aws:s3:::open/x"): "implicitDeny",
        ("s3:PutObject", "arn:aws:s3:::secret/x"): "implicitDeny",
    }
    custom = iam.simulate_custom_policy(PolicyInputList=[doc("sqs:*")], ActionNames=["sqs:SendMessage", "sns:Publish"])
    assert [r["EvalDecision"] for r in custom["EvaluationResults"]] == ["allowed", "implicitDeny"]
    assert error_of(iam.simulate_custom_policy, PolicyInputList=["{bad"], ActionNames=["s3:GetObject"])[0] == "MalformedPolicyDocument"
