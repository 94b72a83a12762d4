"""Validation of policy documents: AWS's MalformedPolicyDocument wording per mistake."""

from __future__ import annotations

import json

import pytest

from cloudlet.auth.policy import PolicyError, parse

V = "2012-10-17"


def doc(*statements: dict, version: str | None = V, **top: object) -> str:
    d: dict = {"Statement": list(statements), **top}
    if version is not None:
        d["Version"] = version
    return json.dumps(d)


ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def with_(**kw: object) -> dict:
    st = dict(ALLOW)
    for k, v in kw.items():
        if v is None:
            st.pop(k, None)
        else:
            st[k] = v
    return st


BAD = [
    ("not-json", "{nope", "identity", "This policy contains invalid Json"),
    ("truncated-json", '{"Version": "2012-10-17", "Statement": [', "identity",
     "This policy contains invalid Json"),
    ("not-an-object", "[1, 2]", "identity", "Syntax errors in policy."),
    ("missing-statement", json.dumps({"Version": V}), "identity", "Syntax errors in policy."),
    ("unknown-top-level", doc(ALLOW, Foo=1), "identity", "Syntax errors in policy."),
    ("bad-version", doc(ALLOW, version="2012-10-18"), "identity",
     "The policy must contain a valid version string"),
    ("version-number", json.dumps({"Version": 2012, "Statement": [ALLOW]}), "identity",
     "The policy must contain a valid version string"),
    ("effect-lowercase", doc(with_(Effect="allow")), "identity", "The policy failed legacy parsing"),
    ("effect-other", doc(with_(Effect="Permit")), "identity", "The policy failed legacy parsing"),
    ("effect-missing", doc(with_(Effect=None)), "identity", "Syntax errors in policy."),
    ("action-and-notaction", doc(with_(NotAction="s3:PutObject")), "identity",
     "Syntax errors in policy."),
    ("no-action", doc(with_(Action=None)), "identity", "Policy statement must contain actions."),
    ("empty-action-list", doc(with_(Action=[])), "identity", "Policy statement must contain actions."),
    ("no-resource", doc(with_(Resource=None)), "identity", "Policy statement must contain resources."),
    ("empty-resource-list", doc(with_(Resource=[])), "identity",
     "Policy statement must contain resources."),
    ("resource-and-notresource", doc(with_(NotResource="*")), "identity", "Syntax errors in policy."),
    ("principal-in-identity", doc(with_(Principal={"AWS": "*"})), "identity",
     "Policy document should not specify a principal."),
    ("notprincipal-in-identity", doc(with_(NotPrincipal={"AWS": "*"})), "identity",
     "Policy document should not specify a principal."),
    ("principal-in-boundary", doc(with_(Principal="*")), "boundary",
     "Policy document should not specify a principal."),
    ("principal-in-session", doc(with_(Principal="*")), "session",
     "Policy document should not specify a principal."),
    ("missing-principal-resource", doc(ALLOW), "resource", "Missing required field Principal"),
    ("missing-principal-trust",
     doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), "trust", "Missing required field Principal"),
    ("resource-in-trust",
     doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "111122223333"},
          "Resource": "*"}), "trust", "Has prohibited field Resource"),
    ("bare-string-principal", doc(with_(Principal="alice")), "resource",
     'Invalid principal in policy: "alice"'),
    ("aws-principal-not-arn", doc(with_(Principal={"AWS": "alice"})), "resource",
     'Invalid principal in policy: "AWS":"alice"'),
    ("principal-unknown-type", doc(with_(Principal={"Robot": "x"})), "resource",
     "Syntax errors in policy."),
    ("action-wrong-separator", doc(with_(Action="s3>ListBucket")), "identity",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("action-no-vendor", doc(with_(Action="ListBucket")), "identity",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("action-empty-vendor", doc(with_(Action=":ListBucket")), "identity",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("action-two-colons", doc(with_(Action="s3:Get:Object")), "identity",
     "Actions/Condition can contain only one colon."),
    ("action-not-string", doc(with_(Action=[1])), "identity", "Syntax errors in policy."),
    ("resource-not-arn", doc(with_(Resource="bucket")), "identity",
     'Resource bucket must be in ARN format or "*".'),
    ("resource-short-arn", doc(with_(Resource="arn:aws:s3")), "identity",
     'Resource arn:aws:s3 must be in ARN format or "*".'),
    ("resource-vendor-wildcard", doc(with_(Resource="arn:aws:s*:::b")), "identity",
     "Resource vendor must be fully qualified and cannot contain regexes."),
    ("unknown-condition-operator",
     doc(with_(Condition={"StringEqualz": {"aws:username": "a"}})), "identity",
     "Syntax errors in policy."),
    ("null-ifexists-is-no-operator",
     doc(with_(Condition={"NullIfExists": {"aws:username": "true"}})), "identity",
     "Syntax errors in policy."),
    ("condition-not-object", doc(with_(Condition=["StringEquals"])), "identity",
     "Syntax errors in policy."),
    ("condition-key-without-vendor",
     doc(with_(Condition={"StringEquals": {"username": "a"}})), "identity",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("condition-value-object",
     doc(with_(Condition={"StringEquals": {"aws:username": {"a": 1}}})), "identity",
     "Syntax errors in policy."),
    ("duplicate-sid", doc(with_(Sid="A"), with_(Sid="A")), "identity",
     "The Statement Ids in the policy are not unique"),
    ("duplicate-sid-resource", doc(with_(Sid="A", Principal="*"), with_(Sid="A", Principal="*")),
     "resource", "Statement IDs (SID) in a single policy must be unique."),
    ("sid-with-dash", doc(with_(Sid="my-sid")), "identity",
     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
     "expression [0-9A-Za-z]*"),
    ("sid-with-space", doc(with_(Sid="my sid")), "boundary",
     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
     "expression [0-9A-Za-z]*"),
    ("unknown-statement-field", doc(with_(Actions="s3:*")), "identity", "Syntax errors in policy."),
    ("statement-not-object", json.dumps({"Version": V, "Statement": ["x"]}), "identity",
     "Syntax errors in policy."),
    ("notprincipal-in-trust",
     doc({"Effect": "Deny", "Action": "sts:AssumeRole", "NotPrincipal": {"AWS": "111122223333"}}),
     "trust", "Syntax errors in policy."),
]

ORG = "The provided policy document does not meet the requirements of the specified policy type."
BAD_ORG = [
    ("scp-principal", doc(with_(Principal="*")), "scp", "Policy document should not specify a principal."),
    ("scp-not-json", "{", "scp", "This policy contains invalid Json"),
    ("scp-bad-action", doc(with_(Action="ec2")), "scp",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("rcp-principal-not-star", doc(with_(Effect="Deny", Principal={"AWS": "111122223333"})), "rcp",
     'RCP statements must have "Principal": "*"'),
    ("rcp-missing-principal", doc(with_(Effect="Deny")), "rcp", "Missing required field Principal"),
]


@pytest.mark.parametrize("text,kind,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_malformed(text: str, kind: str, message: str) -> None:
    with pytest.raises(PolicyError) as e:
        parse(text, kind)  # type: ignore[arg-type]
    assert e.value.message == message


@pytest.mark.parametrize("text,kind,detail", [b[1:] for b in BAD_ORG], ids=[b[0] for b in BAD_ORG])
def test_malformed_org_policies(text: str, kind: str, detail: str) -> None:
    """Organizations answers one generic message; the detail names the mistake."""
    with pytest.raises(PolicyError) as e:
        parse(text, kind)  # type: ignore[arg-type]
    assert e.value.message == ORG
    assert e.value.detail == detail


GOOD = [
    ("statement-object", json.dumps({"Version": V, "Statement": ALLOW}), "identity"),
    ("no-version", json.dumps({"Statement": [ALLOW]}), "identity"),
    ("old-version", doc(ALLOW, version="2008-10-17"), "identity"),
    ("id-field", doc(ALLOW, Id="abc"), "identity"),
    ("action-list", doc(with_(Action=["s3:Get*", "iam:List?sers", "*"])), "identity"),
    ("star-resource-list", doc(with_(Resource=["*", "arn:aws:s3:::b/*"])), "identity"),
    ("notaction-notresource", doc(with_(Action=None, NotAction="iam:*", Resource=None,
                                        NotResource="arn:aws:s3:::b")), "identity"),
    ("all-operators", doc(with_(Condition={
        "StringEquals": {"aws:username": "a"}, "StringNotLikeIfExists": {"s3:prefix": ["x*"]},
        "ForAllValues:StringEqualsIgnoreCase": {"aws:TagKeys": ["a"]},
        "ForAnyValue:NumericLessThan": {"s3:max-keys": 10}, "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
        "Bool": {"aws:SecureTransport": True}, "BinaryEquals": {"x:b": "QUJD"},
        "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::1/128"]}, "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"},
        "Null": {"aws:TokenIssueTime": "true"}})), "identity"),
    ("trust-service", doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "lambda.amazonaws.com"}}), "trust"),
    ("bucket-policy-sid-with-space", doc(with_(Sid="Allow public read", Principal="*")), "resource"),
    ("resource-notprincipal-deny", doc(with_(Effect="Deny", NotPrincipal={"AWS": ["arn:aws:iam::111122223333:root"]})), "resource"),
    ("rcp-star", doc(with_(Effect="Deny", Principal="*")), "rcp"),
    ("scp-allow-all", doc({"Effect": "Allow", "Action": "*", "Resource": "*"}), "scp"),
    ("empty-statement-list", doc(), "identity"),
]


@pytest.mark.parametrize("text,kind", [g[1:] for g in GOOD], ids=[g[0] for g in GOOD])
def test_valid(text: str, kind: str) -> None:
    pol = parse(text, kind)  # type: ignore[arg-type]
    assert pol.kind == kind


def test_parse_is_cached_by_text_and_kind() -> None:
    text = doc(ALLOW)
    assert parse(text, "identity") is parse(text, "identity")
    assert parse(text, "identity") is not parse(text, "boundary")


def test_dict_documents_accepted() -> None:
    pol = parse({"Version": V, "Statement": [ALLOW]}, "identity")
    assert len(pol.statements) == 1


def test_variables_only_in_2012_version() -> None:
    """Before 2012-10-17 a ${...} is literal text (IAM UG, Policy variables)."""
    old = parse(doc(with_(Resource="arn:aws:s3:::b/${aws:username}"), version="2008-10-17"), "identity")
    new = parse(doc(with_(Resource="arn:aws:s3:::b/${aws:username}")), "identity")
    assert old.statements[0].resources.exact == {"arn:aws:s3:::b/${aws:username}"}
    assert new.statements[0].resources.templates
