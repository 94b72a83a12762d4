"""ACLs: canned ACLs and grant headers resolved to grants, refused while a bucket has ACLs
disabled (the default since 2023) or blocks public ACLs; Get/Put Bucket and Object ACL
over HTTP."""

from __future__ import annotations


import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import grants, storage
from tests.s3util import in_process, new_bucket, refusal

OWNER = storage.canonical_id("000000000000")
OTHER = storage.canonical_id("111111111111")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


def _user(cid: str, perm: str) -> dict:
    return {"Grantee": {"ID": cid, "Type": "CanonicalUser"}, "Permission": perm}


def _group(uri: str, perm: str) -> dict:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": perm}


# canned ACLs and grant headers ------------------------------------------------------------
@pytest.mark.parametrize("acl, extra", [
    ("private", []),
    ("public-read", [_group(ALL_USERS, "READ")]),
    ("public-read-write", [_group(ALL_USERS, "READ"), _group(ALL_USERS, "WRITE")]),
    ("authenticated-read", [_group(AUTH_USERS, "READ")]),
    ("log-delivery-write", [_group(LOG_DELIVERY, "WRITE"), _group(LOG_DELIVERY, "READ_ACP")]),
    ("bucket-owner-read", [_user(OTHER, "READ")]),
    ("bucket-owner-full-control", [_user(OTHER, "FULL_CONTROL")]),
])
def test_canned_acls(acl, extra):
    assert grants.canned_grants(acl, OWNER, OTHER) == [_user(OWNER, "FULL_CONTROL"), *extra]


def test_bucket_owner_acls_add_nothing_for_the_bucket_owner_itself():
    assert grants.canned_grants("bucket-owner-full-control", OWNER, OWNER) == [_user(OWNER, "FULL_CONTROL")]


def test_grant_headers():
    params = {"GrantRead": f'id="{OTHER}", uri="{ALL_USERS}"', "GrantWriteACP": f"id={OWNER}"}
    assert grants.header_grants(params) == [
        _user(OTHER, "READ"), _group(ALL_USERS, "READ"), _user(OWNER, "WRITE_ACP")]
    for bad in ('id="short"', 'uri="http://example.com/group"', "nonsense"):
        with pytest.raises(ServiceError) as err:
            grants.header_grants({"GrantRead": bad})
        assert err.value.code == "InvalidArgument"
    with pytest.raises(ServiceError) as err:
        grants.header_grants({"GrantRead": 'emailAddress="a@example.com"'})
    assert err.value.code == "UnresolvableGrantByEmailAddress"


def test_a_request_names_its_acl_one_way():
    assert grants.requested({"ACL": "public-read"}, OWNER) == "public-read"
    assert grants.requested({}, OWNER) is None
    with pytest.raises(ServiceError) as err:
        grants.requested({"ACL": "private", "GrantRead": f'id="{OTHER}"'}, OWNER)
    assert err.value.message == "Specifying both Canned ACLs and Header Grants is not allowed"
    acp = {"Owner": {"ID": OWNER}, "Grants": [_user(OWNER, "FULL_CONTROL")]}
    with pytest.raises(ServiceError) as err:
        grants.requested({"ACL": "private", "AccessControlPolicy": acp}, OWNER)
    assert err.value.code == "UnexpectedContent"
    with pytest.raises(ServiceError) as err:
        grants.requested({"AccessControlPolicy": {**acp, "Owner": {"ID": OTHER}}}, OWNER)
    assert err.value.code == "AccessDenied"
    with pytest.raises(ServiceError) as err:
        grants.requested({"AccessControlPolicy": {"Grants": acp["Grants"]}}, OWNER)
    assert err.value.code == "MalformedACLError"
    with pytest.raises(ServiceError) as err:
        grants.requested({"ACL": "everyone"}, OWNER)
    assert err.value.code == "InvalidArgument"


# over HTTP -------------------------------------------------------------------------------
def _bucket(s3, *, acls: bool = False, block_public: bool = True) -> str:
    name = new_bucket(s3, "acl")
    if acls:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    if not block_public:
        s3.delete_public_access_block(Bucket=name)
    return name


def _code(call, **kw) -> tuple[str, int]:
    return refusal(call, **kw)[:2]


def test_new_buckets_have_acls_disabled(s3):
    b = _bucket(s3)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    assert s3.get_bucket_acl(Bucket=b)["Grants"] == [_user(OWNER, "FULL_CONTROL")]
    assert s3.get_bucket_acl(Bucket=b)["Owner"] == {"ID": OWNER}
    assert _code(s3.put_bucket_acl, Bucket=b, ACL="public-read") == ("AccessControlListNotSupported", 400)
    assert _code(s3.put_object_acl, Bucket=b, Key="k", ACL="authenticated-read") == ("AccessControlListNotSupported", 400)
    assert _code(s3.put_object_acl, Bucket=b, Key="k", GrantRead=f'id="{OTHER}"') == ("AccessControlListNotSupported", 400)
    # the bucket owner's full control is what ACLs-disabled buckets accept
    s3.put_bucket_acl(Bucket=b, ACL="private")
    s3.put_object_acl(Bucket=b, Key="k", ACL="bucket-owner-full-control")
    s3.put_object_acl(Bucket=b, Key="k", AccessControlPolicy={
        "Owner": {"ID": OWNER}, "Grants": [_user(OWNER, "FULL_CONTROL")]})
    assert s3.get_object_acl(Bucket=b, Key="k")["Grants"] == [_user(OWNER, "FULL_CONTROL")]


def test_bucket_acls_with_acls_enabled(s3):
    b = _bucket(s3, acls=True, block_public=False)
    s3.put_bucket_acl(Bucket=b, ACL="public-read")
    assert s3.get_bucket_acl(Bucket=b)["Grants"] == [_user(OWNER, "FULL_CONTROL"), _group(ALL_USERS, "READ")]
    s3.put_bucket_acl(Bucket=b, GrantFullControl=f'id="{OWNER}"', GrantRead=f'uri="{LOG_DELIVERY}"')
    assert s3.get_bucket_acl(Bucket=b)["Grants"] == [_user(OWNER, "FULL_CONTROL"), _group(LOG_DELIVERY, "READ")]
    policy = {"Owner": {"ID": OWNER}, "Grants": [_user(OWNER, "FULL_CONTROL"), _user(OTHER, "READ_ACP")]}
    s3.put_bucket_acl(Bucket=b, AccessControlPolicy=policy)
    assert s3.get_bucket_acl(Bucket=b) | {"ResponseMetadata": None} == {**policy, "ResponseMetadata": None}
    assert _code(s3.put_bucket_acl, Bucket=b) == ("MissingSecurityHeader", 400)
    assert _code(s3.put_bucket_acl, Bucket=b, ACL="private", GrantRead=f'id="{OTHER}"') == ("InvalidRequest", 400)
    # ACLs granting others cannot stay when ACLs are disabled
    assert _code(s3.put_bucket_ownership_controls, Bucket=b, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}) == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.put_bucket_acl(Bucket=b, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})


def test_object_acls_per_version(s3):
    b = _bucket(s3, acls=True, block_public=False)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=b, Key="k", Body=b"2")
    s3.put_object_acl(Bucket=b, Key="k", VersionId=v1, ACL="public-read")
    assert s3.get_object_acl(Bucket=b, Key="k", VersionId=v1)["Grants"][1] == _group(ALL_USERS, "READ")
    assert s3.get_object_acl(Bucket=b, Key="k")["Grants"] == [_user(OWNER, "FULL_CONTROL")]
    assert _code(s3.get_object_acl, Bucket=b, Key="missing") == ("NoSuchKey", 404)
    assert _code(s3.put_object_acl, Bucket=b, Key="missing", ACL="private") == ("NoSuchKey", 404)


def test_block_public_acls_refuses_public_acls(s3):
    b = _bucket(s3, acls=True)  # new buckets block public ACLs
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    assert _code(s3.put_bucket_acl, Bucket=b, ACL="public-read") == ("AccessDenied", 403)
    assert _code(s3.put_object_acl, Bucket=b, Key="k", GrantRead=f'uri="{AUTH_USERS}"') == ("AccessDenied", 403)
    s3.put_object_acl(Bucket=b, Key="k", GrantRead=f'id="{OTHER}"')  # not public
    assert s3.get_object_acl(Bucket=b, Key="k")["Grants"] == [_user(OTHER, "READ")]


def test_object_owner_follows_ownership(s3, cloud):
    b = _bucket(s3, acls=True)
    other = cloud.client("s3", key="111111111111")  # another account writes (no policy enforcement yet)
    other.put_object(Bucket=b, Key="theirs", Body=b"x")
    assert s3.get_object_acl(Bucket=b, Key="theirs")["Owner"] == {"ID": OTHER}
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert s3.get_object_acl(Bucket=b, Key="theirs")["Owner"] == {"ID": OWNER}


def test_check_acl_allowed_for_object_writes():
    """The check PutObject's ACL header goes through, called as the object handlers will."""
    ctx = in_process()
    client = ctx.aws("s3")
    client.create_bucket(Bucket="enforced")
    client.create_bucket(Bucket="writer")
    client.put_bucket_ownership_controls(Bucket="writer", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    with storage.tx(ctx) as t:
        for acl in (None, "private", "bucket-owner-full-control"):
            grants.check_acl_allowed(t, "enforced", acl)
        with pytest.raises(ServiceError) as err:
            grants.check_acl_allowed(t, "enforced", "public-read")
        assert err.value.code == "AccessControlListNotSupported"
        with pytest.raises(ServiceError) as err:
            grants.check_acl_allowed(t, "enforced", None, {"GrantRead": f'id="{OTHER}"'})
        assert err.value.code == "AccessControlListNotSupported"
        grants.check_acl_allowed(t, "writer", "bucket-owner-read")
        with pytest.raises(ServiceError) as err:
            grants.check_acl_allowed(t, "writer", "public-read")  # public ACLs are blocked by default
        assert err.value.code == "AccessDenied"
