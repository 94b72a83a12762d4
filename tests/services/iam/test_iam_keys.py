"""Access keys: created keys sign requests at once; limits, status and deletion."""

import pytest

from tests.services.iam.conftest import error_of

ACCOUNT = "210000000002"


@pytest.fixture(scope="module")
def iam(cloud):
    return cloud.client("iam", key=ACCOUNT)


def test_created_key_signs_requests_as_the_user(cloud, iam):
    arn = iam.create_user(UserName="signer", Path="/k/")["User"]["Arn"]
    key = iam.create_access_key(UserName="signer")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active"
    sts = cloud.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    me = sts.get_caller_identity()
    assert me["Arn"] == arn and me["Account"] == ACCOUNT
    # the user's own key finds its own user without naming it
    own = cloud.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert own.get_user()["User"]["UserName"] == "signer"
    assert [k["AccessKeyId"] for k in own.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]


def test_key_limit_status_and_delete(iam):
    iam.create_user(UserName="keys")
    a = iam.create_access_key(UserName="keys")["AccessKey"]["AccessKeyId"]
    b = iam.create_access_key(UserName="keys")["AccessKey"]["AccessKeyId"]
    assert error_of(iam.create_access_key, UserName="keys") == (
        "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    iam.update_access_key(UserName="keys", AccessKeyId=a, Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="keys")["AccessKeyMetadata"]}
    assert statuses == {a: "Inactive", b: "Active"}
    last = iam.get_access_key_last_used(AccessKeyId=a)
    assert last["UserName"] == "keys" and last["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    assert error_of(iam.delete_user, UserName="keys")[:2] == (
        "DeleteConflict", "Cannot delete entity, must delete access keys first.")
    iam.delete_access_key(UserName="keys", AccessKeyId=a)
    assert error_of(iam.delete_access_key, UserName="keys", AccessKeyId=a) == (
        "NoSuchEntity", f"The Access Key with id {a} cannot be found.", 404)
    iam.delete_access_key(UserName="keys", AccessKeyId=b)
    iam.delete_user(UserName="keys")


def test_inactive_and_deleted_keys_stop_working(cloud, iam):
    iam.create_user(UserName="gone")
    key = iam.create_access_key(UserName="gone")["AccessKey"]
    kid, secret = key["AccessKeyId"], key["SecretAccessKey"]
    assert cloud.client("sts", key=kid, secret=secret).get_caller_identity()["Arn"].endswith(":user/gone")
    iam.update_access_key(UserName="gone", AccessKeyId=kid, Status="Inactive")
    with pytest.raises(Exception):
        identity = cloud.client("sts", key=kid, secret=secret).get_caller_identity()
        assert identity["Arn"].endswith(":user/gone")  # an inactive key must not act as the user
    iam.delete_access_key(UserName="gone", AccessKeyId=kid)
    with pytest.raises(Exception):
        identity = cloud.client("sts", key=kid, secret=secret).get_caller_identity()
        assert identity["Arn"].endswith(":user/gone")
