"""Bucket policies: S3's checks of a policy document, what counts as public, and
Put/Get/Delete/GetBucketPolicyStatus over HTTP (Block Public Access included)."""

from __future__ import annotations

import json

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import policydoc
from tests.s3util import new_bucket, refusal

B = "docs-bucket"


def _doc(*statements: dict, **top: object) -> str:
    return json.dumps({"Version": "2012-10-17", **top, "Statement": list(statements)})


def _st(**fields: object) -> dict:
    base = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def _refused(text: str) -> str:
    with pytest.raises(ServiceError) as err:
        policydoc.parse(text, B)
    assert err.value.code == "MalformedPolicy" and err.value.status == 400
    return err.value.message


# the document ----------------------------------------------------------------------------
def test_valid_documents_parse():
    for st in (
        _st(),
        _st(Principal={"AWS": ["111122223333", "arn:aws:iam::111122223333:role/r"]}, Action=["s3:Get*", "s3:List*"],
            Resource=[f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"]),
        _st(Principal={"Service": "logging.s3.amazonaws.com"}, Action="s3:PutObject", Resource=f"arn:aws:s3:::{B}/logs/*"),
        _st(Principal={"CanonicalUser": "a" * 64}, Action="s3:*", Resource=f"arn:aws:s3:::{B}"),
        _st(Effect="Deny", Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}, Action="*"),
        _st(Action="s3:ListBucket", Resource=f"arn:aws:s3:::{B}", Condition={"StringLike": {"s3:prefix": ["home/"]}}),
    ):
        assert policydoc.parse(_doc(st), B)["Statement"][0] == st


@pytest.mark.parametrize("text", ["", " {}", "[]", "{not json", "null"])
def test_anything_but_a_json_object_is_refused(text):
    assert _refused(text) == "Policies must be valid JSON and the first byte must be '{'"


@pytest.mark.parametrize("statement, message", [
    (_st(Principal=None), "Missing required field Principal"),
    (_st(Effect=None), "Missing required field Effect"),
    (_st(Effect="Maybe"), "Invalid effect: Maybe"),
    (_st(Action=None), "Missing required field Action"),
    (_st(Resource=None), "Missing required field Resource"),
    (_st(Action="s3:GetObjekt"), "Policy has invalid action"),
    (_st(Action="sqs:SendMessage"), "Policy has invalid action"),
    (_st(Action="s3:Nothing*"), "Policy has invalid action"),
    (_st(Principal={"AWS": "someone"}), "Invalid principal in policy"),
    (_st(Principal={"Person": "x"}), "Invalid principal in policy"),
    (_st(Principal={}), "Invalid principal in policy"),
    (_st(Principal={"Service": "not a service"}), "Invalid principal in policy"),
    (_st(Resource="*"), "Policy has invalid resource"),
    (_st(Resource="arn:aws:s3:::another-bucket/*"), "Policy has invalid resource"),
    (_st(Resource=f"arn:aws:s3:::{B}-suffix/*"), "Policy has invalid resource"),
    (_st(Resource=f"arn:aws:sqs:::{B}"), "Policy has invalid resource"),
    (_st(Resource=f"arn:aws:s3:::{B}"), "Action does not apply to any resource(s) in statement"),
    (_st(Action=["s3:GetObject", "s3:ListBucket"]), "Action does not apply to any resource(s) in statement"),
    (_st(Action="s3:ListAllMyBuckets", Resource=f"arn:aws:s3:::{B}"), "Action does not apply to any resource(s) in statement"),
    (_st(condition={"StringEquals": {}}), "Unknown field condition"),
])
def test_statements_refused_as_s3_refuses_them(statement, message):
    assert _refused(_doc(statement)) == message


def test_top_level_checks():
    assert _refused(json.dumps({"Version": "2012-10-17"})) == "Missing required field Statement"
    assert _refused(_doc(_st(), Version="2020-01-01")) == "The policy must contain a valid version string"
    assert _refused(_doc(_st(), Extra=1)) == "Unknown field Extra"


def test_wildcards_that_reach_this_bucket_are_accepted():
    for resource in (f"arn:aws:s3:::{B[:4]}*", f"arn:aws:s3:::{B}*/x"):
        policydoc.parse(_doc(_st(Resource=resource)), B)  # an object action on a wildcard: may be an object
    assert policydoc.parse(_doc(_st(Action="s3:*", Resource=f"arn:aws:s3:::{B}")), B)


def test_account_ids_are_stored_as_root_arns():
    doc = policydoc.parse(_doc(_st(Principal={"AWS": ["111122223333", "arn:aws:iam::444455556666:user/u"]})), B)
    text = policydoc.normalized(doc)
    assert json.loads(text)["Statement"][0]["Principal"] == {
        "AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:user/u"]}
    assert " " not in text


# public or not -----------------------------------------------------------------------------
@pytest.mark.parametrize("statement, public", [
    (_st(), True),
    (_st(Principal={"AWS": "*"}), True),
    (_st(Principal={"AWS": "111122223333"}), False),
    (_st(Effect="Deny"), False),
    (_st(Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}}), False),
    (_st(Condition={"StringLike": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:*"}}), True),
    (_st(Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}), True),
    (_st(Condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), False),
    (_st(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), True),
    (_st(Condition={"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), True),
    (_st(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}), False),
    (_st(Condition={"StringEquals": {"s3:prefix": "home/"}}), True),
    (_st(Action="s3:ReplicateObject"), False),  # not a read or write anyone could use
    (_st(Effect="Allow", Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}), True),
])
def test_public_as_s3_defines_it(statement, public):
    assert policydoc.is_public(policydoc.parse(_doc(statement), B)) is public


# over HTTP -------------------------------------------------------------------------------
def _bucket(s3, open_policies: bool = True) -> str:
    name = new_bucket(s3, "pol")
    if open_policies:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    return name


def test_policy_round_trip_and_status(s3):
    b = _bucket(s3)
    assert refusal(s3.get_bucket_policy, Bucket=b)[:2] == ("NoSuchBucketPolicy", 404)
    assert refusal(s3.get_bucket_policy_status, Bucket=b)[:2] == ("NoSuchBucketPolicy", 404)
    private = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Reader", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{b}/*"}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(private, indent=2))
    assert json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]) == private
    assert s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"] == {"IsPublic": False}
    public = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(public))
    assert s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"] == {"IsPublic": True}
    s3.delete_bucket_policy(Bucket=b)
    s3.delete_bucket_policy(Bucket=b)  # deleting what is not there succeeds
    assert refusal(s3.get_bucket_policy, Bucket=b)[0] == "NoSuchBucketPolicy"


def test_malformed_policies_over_http(s3):
    b = _bucket(s3)
    assert refusal(s3.put_bucket_policy, Bucket=b, Policy="not json") == (
        "MalformedPolicy", 400, "Policies must be valid JSON and the first byte must be '{'")
    wrong = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::elsewhere/*"}]}
    assert refusal(s3.put_bucket_policy, Bucket=b, Policy=json.dumps(wrong))[2] == "Policy has invalid resource"
    assert refusal(s3.put_bucket_policy, Bucket=f"{b}-nope", Policy="{}")[:2] == ("NoSuchBucket", 404)


def test_block_public_policy_refuses_public_policies(s3):
    b = _bucket(s3, open_policies=False)  # new buckets block public policies
    public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{b}/*"}]}
    code, status, message = refusal(s3.put_bucket_policy, Bucket=b, Policy=json.dumps(public))
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because public policies are blocked by the BlockPublicPolicy block public access setting.")
    assert f'"arn:aws:s3:::{b}"' in message
    pinned = {"Statement": [{**public["Statement"][0],
                             "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(pinned))  # not public: allowed
    s3.delete_public_access_block(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(public))
    assert s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"] is True


def test_expected_bucket_owner_is_checked(s3):
    b = _bucket(s3)
    assert refusal(s3.get_bucket_policy, Bucket=b, ExpectedBucketOwner="111122223333")[:2] == ("AccessDenied", 403)
