"""The evaluation engine against a table of cases, each naming the AWS documentation rule it
checks. Outcomes mix allowed and denied so that a wrong rule fails a case."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from cloudlet.auth.policy import PolicySet, Principal, Request, evaluate, is_allowed_by, parse

V = "2012-10-17"
ACCT = "111122223333"
OTHER = "444455556666"
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/app/Builder"
SESSION_ARN = f"arn:aws:sts::{ACCT}:assumed-role/Builder/s1"
USER_ARN = f"arn:aws:iam::{ACCT}:user/alice"
USER = Principal(USER_ARN, ACCT, "user", user_id="AIDAALICE", username="alice")
BOB = Principal(f"arn:aws:iam::{ACCT}:user/bob", ACCT, "user", user_id="AIDABOB", username="bob")
SESSION = Principal(SESSION_ARN, ACCT, "role-session", role_arn=ROLE_ARN, user_id="AROABUILDER:s1")
ROOT = Principal(f"arn:aws:iam::{ACCT}:root", ACCT, "root")
FED = Principal(f"arn:aws:sts::{ACCT}:federated-user/carol", ACCT, "federated-user")
XUSER = Principal(f"arn:aws:iam::{OTHER}:user/xena", OTHER, "user", username="xena")
XROLE = f"arn:aws:iam::{OTHER}:role/Reader"
XSESSION = Principal(f"arn:aws:sts::{OTHER}:assumed-role/Reader/x", OTHER, "role-session", role_arn=XROLE)
XROOT = Principal(f"arn:aws:iam::{OTHER}:root", OTHER, "root")
SVC = Principal("cloudtrail.amazonaws.com", "", "service")
ANON = Principal("*", "", "anonymous")

BUCKET = "arn:aws:s3:::data"
OBJ = "arn:aws:s3:::data/reports/q1.csv"
GET = "s3:GetObject"
MISSING = object()

UG = "IAM UG"
EVAL = f"{UG}, Policy evaluation logic"
XEVAL = f"{UG}, Cross-account policy evaluation logic"
OPS = f"{UG}, Condition operators"
MULTI = f"{UG}, Conditions with multiple context keys or values"
VARS = f"{UG}, Policy variables"
BOUND = f"{UG}, Permissions boundaries for IAM entities"
SESS = f"{UG}, Session policies"
PRIN = f"{UG}, AWS JSON policy elements: Principal"
NOTP = f"{UG}, AWS JSON policy elements: NotPrincipal"
SCP = "Organizations UG, Service control policies"
RCP = "Organizations UG, Resource control policies"


def st(effect: str = "Allow", action: Any = GET, resource: Any = "*", **kw: Any) -> dict:
    s: dict[str, Any] = {"Effect": effect}
    if action is not None:
        s["NotAction" if kw.pop("not_action", False) else "Action"] = action
    if resource is not None:
        s["NotResource" if kw.pop("not_resource", False) else "Resource"] = resource
    s.update(kw)
    return s


def rst(effect: str = "Allow", principal: Any = "*", action: Any = GET, resource: Any = "*",
        **kw: Any) -> dict:
    """A resource-policy statement."""
    key = "NotPrincipal" if kw.pop("not_principal", False) else "Principal"
    return st(effect, action, resource, **{key: principal}, **kw)


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    expect: str  # the Decision reason; "allowed" means allowed
    identity: tuple = ()  # each a list of statements (one policy)
    resource: list | None = None
    boundary: list | None = None
    session: tuple | None = None
    scps: tuple | None = None  # levels, each a tuple of statement lists
    rcps: tuple | None = None
    principal: Principal = USER
    action: str = GET
    target: str = OBJ
    context: dict = field(default_factory=dict)
    resource_account: str | None = None
    version: str | None = V


def _doc(statements: list, version: str | None) -> str:
    d: dict[str, Any] = {"Statement": statements}
    if version is not None:
        d["Version"] = version
    return json.dumps(d)


def build(c: Case) -> tuple[Request, PolicySet]:
    P = lambda sts, kind: parse(_doc(sts, c.version), kind)  # noqa: E731
    ps = PolicySet(
        identity=tuple(P(s, "identity") for s in c.identity),
        resource=P(c.resource, "resource") if c.resource is not None else None,
        resource_account=c.resource_account,
        boundary=P(c.boundary, "boundary") if c.boundary is not None else None,
        session=tuple(P(s, "session") for s in c.session) if c.session is not None else None,
        scps=tuple(tuple(P(s, "scp") for s in level) for level in c.scps) if c.scps is not None else None,
        rcps=tuple(tuple(P(s, "rcp") for s in level) for level in c.rcps) if c.rcps is not None else None,
    )
    return Request(c.principal, c.action, c.target, c.context), ps


CASES: list[Case] = []


def case(id: str, rule: str, expect: str, **kw: Any) -> None:
    CASES.append(Case(id, rule, expect, **kw))


ALLOW_ALL = [st(action="*", resource="*")]

# ---- basics ------------------------------------------------------------------------------
case("no-policies", f"{EVAL}: by default, all requests are implicitly denied", "no-identity-allow")
case("identity-allow", f"{EVAL}: an explicit allow in an identity-based policy overrides the default",
     "allowed", identity=([st()],))
case("deny-overrides-allow-same-policy", f"{EVAL}: an explicit deny in any policy overrides any allow",
     "explicit-deny-identity", identity=([st(), st("Deny")],))
case("deny-overrides-allow-other-policy", f"{EVAL}: an explicit deny in any policy overrides any allow",
     "explicit-deny-identity", identity=([st(action="s3:*")], [st("Deny", action="s3:Get*")]))
case("deny-other-action-irrelevant", f"{EVAL}: a deny applies only to the actions it names",
     "allowed", identity=([st()], [st("Deny", action="s3:PutObject")]))
case("action-case-insensitive", f"{UG}, Action element: action names are case-insensitive",
     "allowed", identity=([st(action="S3:getobject")],))
case("action-case-insensitive-request", f"{UG}, Action element: action names are case-insensitive",
     "allowed", identity=([st()],), action="S3:GETOBJECT")
case("action-star", f"{UG}, Action element: \"*\" means all actions", "allowed",
     identity=([st(action="*")],))
case("action-prefix-wildcard", f"{UG}, Action element: wildcards in action names", "allowed",
     identity=([st(action="s3:Get*")],))
case("action-prefix-wildcard-miss", f"{UG}, Action element: wildcards in action names",
     "no-identity-allow", identity=([st(action="s3:Put*")],))
case("action-service-wildcard", f"{UG}, Action element: \"s3:*\" covers every S3 action", "allowed",
     identity=([st(action="s3:*")],))
case("action-other-service", f"{UG}, Action element: the service prefix must match",
     "no-identity-allow", identity=([st(action="sqs:*")],))
case("action-question-mark", f"{UG}, Action element: ? matches one character", "allowed",
     identity=([st(action="s3:GetObjec?")],))
case("action-question-mark-one-only", f"{UG}, Action element: ? matches exactly one character",
     "no-identity-allow", identity=([st(action="s3:GetObj?")],))
case("action-middle-wildcard", f"{UG}, Action element: wildcards anywhere in the name", "allowed",
     identity=([st(action="s3:*Object")],))
case("action-list", f"{UG}, Action element: a list of actions, any may match", "allowed",
     identity=([st(action=["s3:PutObject", "s3:GetObject"])],))
case("resource-exact", f"{UG}, Resource element: an ARN matches itself", "allowed",
     identity=([st(resource=OBJ)],))
case("resource-case-sensitive", f"{UG}, Resource element: ARNs are case-sensitive", "no-identity-allow",
     identity=([st(resource=OBJ.upper().replace("ARN:AWS:S3", "arn:aws:s3"))],))
case("resource-wildcard", f"{UG}, Resource element: wildcards in the resource part", "allowed",
     identity=([st(resource="arn:aws:s3:::data/*")],))
case("resource-wildcard-miss", f"{UG}, Resource element: the bucket ARN is not an object ARN",
     "no-identity-allow", identity=([st(resource=BUCKET)],))
case("resource-wildcard-across-slashes", f"{UG}, Resource element: * matches across / in the path",
     "allowed", identity=([st(resource="arn:aws:s3:::da*.csv")],))
case("resource-question", f"{UG}, Resource element: ? matches one character", "allowed",
     identity=([st(resource="arn:aws:s3:::data/reports/q?.csv")],))
case("resource-question-miss", f"{UG}, Resource element: ? matches one character", "no-identity-allow",
     identity=([st(resource="arn:aws:s3:::data/reports/q??.csv")],))
case("resource-list", f"{UG}, Resource element: a list of ARNs, any may match", "allowed",
     identity=([st(resource=[BUCKET, "arn:aws:s3:::data/*"])],))
case("resource-segment-wildcards", f"{UG}, Resource element: wildcards in region and account segments",
     "allowed", action="sqs:SendMessage", target=f"arn:aws:sqs:us-east-1:{ACCT}:jobs",
     identity=([st(action="sqs:*", resource="arn:aws:sqs:*:*:jobs")],))
case("resource-other-account", f"{UG}, Resource element: the account segment must match",
     "no-identity-allow", action="sqs:SendMessage", target=f"arn:aws:sqs:us-east-1:{ACCT}:jobs",
     identity=([st(action="sqs:*", resource=f"arn:aws:sqs:*:{OTHER}:jobs")],))
case("statement-object-form", f"{UG}, Statement element: a single statement object", "allowed",
     identity=([st()],))
case("deny-wildcard-resource", f"{EVAL}: an explicit deny with a wildcard resource",
     "explicit-deny-identity", identity=([st()], [st("Deny", action="s3:*", resource="arn:aws:s3:::data/*")]))

# ---- NotAction / NotResource -------------------------------------------------------------
case("notaction-allow-covers-others", f"{UG}, NotAction: allow everything except the listed actions",
     "allowed", identity=([st(action="iam:*", not_action=True)],))
case("notaction-allow-excludes-listed", f"{UG}, NotAction: the listed actions are not allowed",
     "no-identity-allow", identity=([st(action="s3:*", not_action=True)],))
case("notaction-deny-all-but-iam", f"{UG}, NotAction: deny everything except the listed actions",
     "explicit-deny-identity", identity=(ALLOW_ALL, [st("Deny", action="iam:*", not_action=True)]))
case("notaction-deny-spares-listed", f"{UG}, NotAction: the listed actions escape the deny",
     "allowed", action="iam:ListUsers", target="*",
     identity=(ALLOW_ALL, [st("Deny", action="iam:*", not_action=True)]))
case("notaction-case-insensitive", f"{UG}, NotAction: action names are case-insensitive",
     "no-identity-allow", identity=([st(action="S3:GETOBJECT", not_action=True)],))
case("notresource-allow-other", f"{UG}, NotResource: allow on every resource except those listed",
     "allowed", identity=([st(resource="arn:aws:s3:::secret/*", not_resource=True)],))
case("notresource-allow-excludes-listed", f"{UG}, NotResource: the listed resources are excluded",
     "no-identity-allow", identity=([st(resource="arn:aws:s3:::data/*", not_resource=True)],))
case("notresource-deny-outside", f"{UG}, NotResource: deny everything outside the listed resources",
     "explicit-deny-identity", target="arn:aws:s3:::other/x",
     identity=(ALLOW_ALL, [st("Deny", action="s3:*", resource="arn:aws:s3:::data/*", not_resource=True)]))
case("notresource-deny-inside-spared", f"{UG}, NotResource: listed resources escape the deny",
     "allowed", identity=(ALLOW_ALL, [st("Deny", action="s3:*", resource="arn:aws:s3:::data/*", not_resource=True)]))
case("notaction-and-notresource", f"{UG}, NotAction with NotResource both exclude", "no-identity-allow",
     identity=([st(action="s3:Get*", resource="arn:aws:s3:::x", not_action=True, not_resource=True)],))


# ---- conditions --------------------------------------------------------------------------
def cond(id: str, rule: str, condition: dict, context: dict, allowed: bool, **kw: Any) -> None:
    case(id, rule, "allowed" if allowed else "no-identity-allow",
         identity=([st(Condition=condition)],), context=context, **kw)


def op(id: str, operator: str, key: str, values: Any, value: Any, allowed: bool, rule: str = OPS) -> None:
    ctx = {} if value is MISSING else {key: value}
    cond(id, f"{rule}: {operator}", {operator: {key: values}}, ctx, allowed)


T = "aws:PrincipalTag/team"
op("streq-match", "StringEquals", T, "dev", "dev", True)
op("streq-mismatch", "StringEquals", T, "dev", "ops", False)
op("streq-case-sensitive", "StringEquals", T, "dev", "Dev", False)
op("streq-missing-key", "StringEquals", T, "dev", MISSING, False,
   f"{OPS}: a key missing from the request context makes the condition false")
op("streq-values-or", "StringEquals", T, ["ops", "dev"], "dev", True, f"{MULTI}: values of one key OR")
op("streq-values-none", "StringEquals", T, ["ops", "qa"], "dev", False, f"{MULTI}: values of one key OR")
op("streq-number-value", "StringEquals", "s3:max-keys", 10, "10", True)
op("streq-no-wildcards", "StringEquals", T, "d*", "dev", False)
op("strneq-differs", "StringNotEquals", T, "ops", "dev", True)
op("strneq-equal", "StringNotEquals", T, "dev", "dev", False)
op("strneq-missing-key", "StringNotEquals", T, "dev", MISSING, True,
   f"{OPS}: a negated operator with the key missing from the request is true")
op("strneq-nor-hit", "StringNotEquals", T, ["ops", "dev"], "dev", False, f"{MULTI}: negated operator values NOR")
op("strneq-nor-miss", "StringNotEquals", T, ["ops", "qa"], "dev", True, f"{MULTI}: negated operator values NOR")
op("streqic-case", "StringEqualsIgnoreCase", T, "DEV", "dev", True)
op("streqic-differs", "StringEqualsIgnoreCase", T, "DEV", "ops", False)
op("strneqic-case", "StringNotEqualsIgnoreCase", T, "DEV", "dev", False)
op("strneqic-differs", "StringNotEqualsIgnoreCase", T, "DEV", "ops", True)
P = "s3:prefix"
op("strlike-star", "StringLike", P, "home/*", "home/alice/docs", True)
op("strlike-star-miss", "StringLike", P, "home/*", "tmp/alice", False)
op("strlike-question", "StringLike", P, "a?c", "abc", True)
op("strlike-question-one", "StringLike", P, "a?c", "abbc", False)
op("strlike-case-sensitive", "StringLike", P, "Home/*", "home/x", False)
op("strlike-exact-without-wildcard", "StringLike", P, "home", "home/x", False)
op("strlike-values-or", "StringLike", P, ["tmp/*", "home/*"], "home/x", True)
op("strnotlike-hit", "StringNotLike", P, "tmp/*", "tmp/x", False)
op("strnotlike-miss", "StringNotLike", P, "tmp/*", "data/x", True)
op("strnotlike-missing", "StringNotLike", P, "tmp/*", MISSING, True,
   f"{OPS}: StringNotLike with the key absent is true")
N = "s3:max-keys"
op("numeq", "NumericEquals", N, "10", "10", True)
op("numeq-decimal-form", "NumericEquals", N, "10", "10.0", True)
op("numeq-int-request", "NumericEquals", N, "10", 10, True)
op("numeq-mismatch", "NumericEquals", N, "10", "11", False)
op("numneq", "NumericNotEquals", N, "10", "11", True)
op("numneq-equal", "NumericNotEquals", N, "10", "10", False)
op("numlt", "NumericLessThan", N, "10", "5", True)
op("numlt-equal", "NumericLessThan", N, "10", "10", False)
op("numlte-equal", "NumericLessThanEquals", N, "10", "10", True)
op("numlte-above", "NumericLessThanEquals", N, "10", "11", False)
op("numgt", "NumericGreaterThan", N, "10", "11", True)
op("numgt-equal", "NumericGreaterThan", N, "10", "10", False)
op("numgte-equal", "NumericGreaterThanEquals", N, "10", "10", True)
op("numgte-below", "NumericGreaterThanEquals", N, "10", "9", False)
op("num-not-a-number", "NumericLessThan", N, "10", "abc", False)
op("num-negative", "NumericLessThan", N, "0", "-3", True)
op("num-missing", "NumericLessThan", N, "10", MISSING, False)
D = "aws:CurrentTime"
NOW = "2024-05-01T12:00:00Z"
op("dategt", "DateGreaterThan", D, "2020-01-01T00:00:00Z", NOW, True)
op("dategt-past", "DateGreaterThan", D, "2030-01-01T00:00:00Z", NOW, False)
op("datelt", "DateLessThan", D, "2030-01-01T00:00:00Z", NOW, True)
op("datelt-past", "DateLessThan", D, "2020-01-01T00:00:00Z", NOW, False)
op("dateeq", "DateEquals", D, "2024-05-01T12:00:00Z", NOW, True)
op("dateeq-other-zone-same-instant", "DateEquals", D, "2024-05-01T14:00:00+02:00", NOW, True)
op("dateneq", "DateNotEquals", D, "2024-05-01T12:00:01Z", NOW, True)
op("dateneq-equal", "DateNotEquals", D, "2024-05-01T12:00:00Z", NOW, False)
op("datelte-equal", "DateLessThanEquals", D, NOW, NOW, True)
op("dategte-equal", "DateGreaterThanEquals", D, NOW, NOW, True)
op("dategte-before", "DateGreaterThanEquals", D, "2024-05-01T12:00:01Z", NOW, False)
op("date-epoch-policy", "DateGreaterThan", D, "1577836800", NOW, True,
   f"{OPS}: date values may be epoch (UNIX) time")
op("date-epoch-request", "DateLessThan", "aws:EpochTime", "2030-01-01T00:00:00Z", 1700000000, True,
   f"{OPS}: date conditions compare ISO 8601 and epoch values")
op("date-only-policy", "DateGreaterThan", D, "2024-04-30", NOW, True,
   f"{OPS}: ISO 8601 date without a time")
op("date-fraction", "DateLessThan", D, "2024-05-01T12:00:00.500Z", NOW, True)
op("date-missing", "DateLessThan", D, "2030-01-01T00:00:00Z", MISSING, False)
B = "aws:SecureTransport"
op("bool-true", "Bool", B, "true", True, True)
op("bool-true-false", "Bool", B, "true", False, False)
op("bool-false", "Bool", B, "false", False, True)
op("bool-string-request", "Bool", B, "true", "true", True)
op("bool-json-literal", "Bool", B, True, True, True)
op("bool-case", "Bool", B, "TRUE", True, True)
op("bool-missing", "Bool", B, "true", MISSING, False)
op("boolifexists-missing", "BoolIfExists", B, "true", MISSING, True,
   f"{OPS}: ...IfExists is true when the key is absent")
op("boolifexists-present-false", "BoolIfExists", B, "true", False, False,
   f"{OPS}: ...IfExists evaluates normally when the key is present")
op("binary-equal", "BinaryEquals", "x:blob", "QUJD", b"ABC", True)
op("binary-differs", "BinaryEquals", "x:blob", "QUJD", b"ABD", False)
op("binary-base64-request", "BinaryEquals", "x:blob", "QUJD", "QUJD", True)
IP = "aws:SourceIp"
op("ip-in-range", "IpAddress", IP, "10.0.0.0/8", "10.1.2.3", True)
op("ip-out-of-range", "IpAddress", IP, "10.0.0.0/8", "11.0.0.1", False)
op("ip-single", "IpAddress", IP, "203.0.113.7/32", "203.0.113.7", True)
op("ip-no-prefix", "IpAddress", IP, "203.0.113.7", "203.0.113.7", True)
op("ip-list", "IpAddress", IP, ["192.0.2.0/24", "10.0.0.0/8"], "10.9.9.9", True)
op("ip-v6", "IpAddress", IP, "2001:db8::/32", "2001:db8::1", True)
op("ip-v6-out", "IpAddress", IP, "2001:db8::/32", "2001:db9::1", False)
op("ip-v4-policy-v6-request", "IpAddress", IP, "10.0.0.0/8", "::1", False)
op("notip-outside", "NotIpAddress", IP, "10.0.0.0/8", "192.0.2.1", True)
op("notip-inside", "NotIpAddress", IP, "10.0.0.0/8", "10.0.0.1", False)
op("notip-missing", "NotIpAddress", IP, "10.0.0.0/8", MISSING, True)
op("ip-missing", "IpAddress", IP, "10.0.0.0/8", MISSING, False)
op("ip-bad-request-value", "IpAddress", IP, "10.0.0.0/8", "not-an-ip", False)
A = "aws:SourceArn"
TOPIC = f"arn:aws:sns:us-east-1:{ACCT}:topic-orders"
op("arnlike", "ArnLike", A, f"arn:aws:sns:*:{ACCT}:topic-*", TOPIC, True)
op("arnlike-other-account", "ArnLike", A, f"arn:aws:sns:*:{OTHER}:topic-*", TOPIC, False)
op("arnequals-wildcards", "ArnEquals", A, "arn:aws:sns:us-east-1:*:topic-orders", TOPIC, True,
   f"{OPS}: ArnEquals and ArnLike both accept wildcards per ARN segment")
op("arnlike-segment-no-colon-crossing", "ArnLike", A, "arn:aws:sns:*:topic-orders", TOPIC, False,
   f"{OPS}: ARN conditions match each colon-delimited segment separately")
op("arnlike-resource-part-colons", "ArnLike", A, "arn:aws:logs:*:*:log-group:*",
   f"arn:aws:logs:us-east-1:{ACCT}:log-group:app:log-stream:1", True)
op("arnnotlike-hit", "ArnNotLike", A, f"arn:aws:sns:*:{ACCT}:*", TOPIC, False)
op("arnnotlike-miss", "ArnNotLike", A, f"arn:aws:sns:*:{OTHER}:*", TOPIC, True)
op("arnnotequals-missing", "ArnNotEquals", A, TOPIC, MISSING, True)
op("arnlike-not-an-arn", "ArnLike", A, "arn:aws:sns:*:*:*", "topic-orders", False)
op("arnlike-case", "ArnLike", A, TOPIC.upper(), TOPIC, False)
op("null-true-missing", "Null", T, "true", MISSING, True, f"{OPS}: Null true means the key is absent")
op("null-true-present", "Null", T, "true", "dev", False)
op("null-false-present", "Null", T, "false", "dev", True)
op("null-false-missing", "Null", T, "false", MISSING, False)
op("null-empty-list", "Null", "aws:TagKeys", "true", [], True)
op("streqifexists-missing", "StringEqualsIfExists", T, "dev", MISSING, True)
op("streqifexists-mismatch", "StringEqualsIfExists", T, "dev", "ops", False)
op("streqifexists-match", "StringEqualsIfExists", T, "dev", "dev", True)
op("numltifexists-missing", "NumericLessThanIfExists", N, "10", MISSING, True)
op("strnotlikeifexists-present-hit", "StringNotLikeIfExists", P, "tmp/*", "tmp/a", False)
op("ipifexists-missing", "IpAddressIfExists", IP, "10.0.0.0/8", MISSING, True)
K = "aws:TagKeys"
op("forall-subset", "ForAllValues:StringEquals", K, ["env", "team"], ["env"], True,
   f"{MULTI}: ForAllValues — every request value must match")
op("forall-extra-value", "ForAllValues:StringEquals", K, ["env", "team"], ["env", "cost"], False,
   f"{MULTI}: ForAllValues — every request value must match")
op("forall-empty", "ForAllValues:StringEquals", K, ["env"], [], True,
   f"{MULTI}: ForAllValues is true when the key is an empty set")
op("forall-missing", "ForAllValues:StringEquals", K, ["env"], MISSING, True,
   f"{MULTI}: ForAllValues is true when the key is absent")
op("forall-like", "ForAllValues:StringLike", K, ["app-*"], ["app-a", "app-b"], True)
op("forall-like-miss", "ForAllValues:StringLike", K, ["app-*"], ["app-a", "web"], False)
op("forall-noteq", "ForAllValues:StringNotEquals", K, ["secret"], ["a", "b"], True)
op("forall-noteq-hit", "ForAllValues:StringNotEquals", K, ["secret"], ["a", "secret"], False)
op("forany-hit", "ForAnyValue:StringEquals", K, ["env"], ["cost", "env"], True,
   f"{MULTI}: ForAnyValue — at least one request value must match")
op("forany-miss", "ForAnyValue:StringEquals", K, ["env"], ["cost"], False)
op("forany-missing", "ForAnyValue:StringEquals", K, ["env"], MISSING, False,
   f"{MULTI}: ForAnyValue is false when the key is absent")
op("forany-empty", "ForAnyValue:StringEquals", K, ["env"], [], False)
op("forany-noteq", "ForAnyValue:StringNotEquals", K, ["secret"], ["secret", "x"], True)
op("forany-noteq-all-excluded", "ForAnyValue:StringNotEquals", K, ["secret"], ["secret"], False)
op("forany-ignorecase", "ForAnyValue:StringEqualsIgnoreCase", K, ["ENV"], ["env"], True)
op("single-op-on-list", "StringEquals", K, "env", ["cost", "env"], True)
op("forany-numeric", "ForAnyValue:NumericGreaterThan", "x:sizes", "100", ["5", "500"], True)
op("forall-numeric-miss", "ForAllValues:NumericGreaterThan", "x:sizes", "100", ["5", "500"], False)
cond("keys-and-both", f"{MULTI}: keys under one operator AND",
     {"StringEquals": {T: "dev", "aws:PrincipalTag/level": "5"}},
     {T: "dev", "aws:PrincipalTag/level": "5"}, True)
cond("keys-and-one-fails", f"{MULTI}: keys under one operator AND",
     {"StringEquals": {T: "dev", "aws:PrincipalTag/level": "5"}},
     {T: "dev", "aws:PrincipalTag/level": "4"}, False)
cond("operators-and", f"{MULTI}: condition operators AND",
     {"StringEquals": {T: "dev"}, "IpAddress": {IP: "10.0.0.0/8"}}, {T: "dev", IP: "10.0.0.1"}, True)
cond("operators-and-one-fails", f"{MULTI}: condition operators AND",
     {"StringEquals": {T: "dev"}, "IpAddress": {IP: "10.0.0.0/8"}}, {T: "dev", IP: "8.8.8.8"}, False)
cond("key-name-case-insensitive-policy", f"{UG}, Condition element: key names are case-insensitive",
     {"IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}, {IP: "10.0.0.1"}, True)
cond("key-name-case-insensitive-request", f"{UG}, Condition element: key names are case-insensitive",
     {"StringEquals": {"aws:principaltag/team": "dev"}}, {"AWS:PrincipalTag/Team": "dev"}, True)
case("deny-condition-true", f"{EVAL}: a Deny applies when its condition is true",
     "explicit-deny-identity", identity=(ALLOW_ALL, [st("Deny", action="*", Condition={"Bool": {B: "false"}})]),
     context={B: False})
case("deny-condition-false", f"{EVAL}: a Deny with a false condition does not apply", "allowed",
     identity=(ALLOW_ALL, [st("Deny", action="*", Condition={"Bool": {B: "false"}})]), context={B: True})
case("deny-negated-missing-key", f"{OPS}: negated operator with absent key is true — the Deny applies",
     "explicit-deny-identity",
     identity=(ALLOW_ALL, [st("Deny", action="*", Condition={"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}})]))
case("deny-mfa-missing-ifexists", f"{OPS}: BoolIfExists with the key absent is true",
     "explicit-deny-identity",
     identity=(ALLOW_ALL, [st("Deny", action="*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})]))
case("deny-mfa-present", f"{OPS}: BoolIfExists evaluates the value when present", "allowed",
     identity=(ALLOW_ALL, [st("Deny", action="*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})]),
     context={"aws:MultiFactorAuthPresent": True})
cond("principalarn-fallback-role", f"{UG}, Global condition keys: aws:PrincipalArn of a session is the role ARN",
     {"ArnEquals": {"aws:PrincipalArn": ROLE_ARN}}, {}, True, principal=SESSION)
cond("principalaccount-fallback", f"{UG}, Global condition keys: aws:PrincipalAccount",
     {"StringEquals": {"aws:PrincipalAccount": ACCT}}, {}, True)
cond("principaltype-user", f"{UG}, Global condition keys: aws:PrincipalType",
     {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}, {}, False)

# ---- policy variables --------------------------------------------------------------------
HOME = "arn:aws:s3:::home/${aws:username}/*"
case("var-username", f"{VARS}: ${{aws:username}} in Resource", "allowed",
     identity=([st(resource=HOME)],), target="arn:aws:s3:::home/alice/a.txt")
case("var-username-other-home", f"{VARS}: ${{aws:username}} resolves to the caller only",
     "no-identity-allow", identity=([st(resource=HOME)],), target="arn:aws:s3:::home/bob/a.txt")
case("var-username-bob", f"{VARS}: ${{aws:username}} resolves per caller", "allowed",
     identity=([st(resource=HOME)],), target="arn:aws:s3:::home/bob/a.txt", principal=BOB)
case("var-username-absent-for-role", f"{VARS}: a variable with no value makes the element not match",
     "no-identity-allow", identity=([st(resource=HOME)],), target="arn:aws:s3:::home/alice/a",
     principal=SESSION)
case("var-userid", f"{VARS}: ${{aws:userid}}", "allowed", principal=SESSION,
     identity=([st(resource="arn:aws:s3:::home/${aws:userid}/*")],),
     target="arn:aws:s3:::home/AROABUILDER:s1/x")
case("var-principal-tag", f"{VARS}: ${{aws:PrincipalTag/key}}", "allowed",
     identity=([st(resource="arn:aws:s3:::teams/${aws:PrincipalTag/team}/*")],),
     target="arn:aws:s3:::teams/dev/x", context={T: "dev"})
case("var-principal-tag-absent", f"{VARS}: a missing tag makes the Resource not match",
     "no-identity-allow", identity=([st(resource="arn:aws:s3:::teams/${aws:PrincipalTag/team}/*")],),
     target="arn:aws:s3:::teams/dev/x")
case("var-default-used", f"{VARS}: a default value applies when the key is absent", "allowed",
     identity=([st(resource="arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*")],),
     target="arn:aws:s3:::teams/shared/x")
case("var-default-not-used-when-present", f"{VARS}: the default is ignored when the key is present",
     "no-identity-allow", context={T: "dev"},
     identity=([st(resource="arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*")],),
     target="arn:aws:s3:::teams/shared/x")
case("var-escape-star", f"{VARS}: ${{*}} is a literal asterisk", "allowed",
     identity=([st(resource="arn:aws:s3:::b/${*}")],), target="arn:aws:s3:::b/*")
case("var-escape-star-not-wildcard", f"{VARS}: ${{*}} is not a wildcard", "no-identity-allow",
     identity=([st(resource="arn:aws:s3:::b/${*}")],), target="arn:aws:s3:::b/anything")
case("var-escape-question", f"{VARS}: ${{?}} is a literal question mark", "allowed",
     identity=([st(resource="arn:aws:s3:::b/a${?}")],), target="arn:aws:s3:::b/a?")
case("var-escape-dollar", f"{VARS}: ${{$}} is a literal dollar sign", "allowed",
     identity=([st(resource="arn:aws:s3:::b/${$}x")],), target="arn:aws:s3:::b/$x")
case("var-value-is-literal", f"{VARS}: a variable's value is not a wildcard", "no-identity-allow",
     identity=([st(resource="arn:aws:s3:::b/${aws:PrincipalTag/p}")],), context={"aws:PrincipalTag/p": "*"},
     target="arn:aws:s3:::b/x")
case("var-old-version-literal", f"{VARS}: variables need Version 2012-10-17; earlier they are literal",
     "no-identity-allow", identity=([st(resource=HOME)],), target="arn:aws:s3:::home/alice/a", version="2008-10-17")
case("var-old-version-literal-match", f"{VARS}: with Version 2008-10-17 ${{...}} is plain text",
     "allowed", identity=([st(resource=HOME)],), target="arn:aws:s3:::home/${aws:username}/a",
     version="2008-10-17")
case("var-no-version-literal", f"{VARS}: a policy without Version uses 2008-10-17 rules",
     "no-identity-allow", identity=([st(resource=HOME)],), target="arn:aws:s3:::home/alice/a", version=None)
cond("var-in-condition-equals", f"{VARS}: variables in condition values",
     {"StringEquals": {P: "${aws:username}/"}}, {P: "alice/"}, True)
cond("var-in-condition-like", f"{VARS}: variables in StringLike values",
     {"StringLike": {P: ["${aws:username}/*"]}}, {P: "alice/docs"}, True)
cond("var-in-condition-like-other", f"{VARS}: variables in StringLike values",
     {"StringLike": {P: ["${aws:username}/*"]}}, {P: "bob/docs"}, False)
cond("var-in-condition-missing", f"{VARS}: a value whose variable is absent does not match",
     {"StringEquals": {P: "${aws:PrincipalTag/home}"}}, {P: ""}, False)
cond("var-in-condition-tag-match", f"{VARS}: request tag equals principal tag (ABAC)",
     {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
     {"aws:ResourceTag/team": "dev", T: "dev"}, True)
cond("var-in-condition-tag-mismatch", f"{VARS}: request tag equals principal tag (ABAC)",
     {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
     {"aws:ResourceTag/team": "ops", T: "dev"}, False)
cond("var-in-arnlike", f"{VARS}: variables in ARN condition values",
     {"ArnLike": {A: "arn:aws:sns:*:${aws:PrincipalAccount}:*"}}, {A: TOPIC}, True)
case("var-notresource", f"{VARS}: variables in NotResource", "explicit-deny-identity",
     identity=(ALLOW_ALL, [st("Deny", action="s3:*", resource=HOME, not_resource=True)]),
     target="arn:aws:s3:::home/bob/x")
case("var-notresource-own", f"{VARS}: variables in NotResource", "allowed",
     identity=(ALLOW_ALL, [st("Deny", action="s3:*", resource=HOME, not_resource=True)]),
     target="arn:aws:s3:::home/alice/x")

# ---- resource-based policies, same account -----------------------------------------------
case("rbp-user-arn-no-identity", f"{EVAL}: within an account, a resource policy naming the user ARN is enough",
     "allowed", resource=[rst(principal={"AWS": USER_ARN})])
case("rbp-other-user", f"{PRIN}: a statement naming another user does not apply", "no-identity-allow",
     resource=[rst(principal={"AWS": BOB.arn})])
case("rbp-account-root-delegates", f"{PRIN}: naming the account root delegates to the account's identity policies",
     "no-identity-allow", resource=[rst(principal={"AWS": f"arn:aws:iam::{ACCT}:root"})])
case("rbp-account-id-delegates", f"{PRIN}: an account id means the account (delegation)", "no-identity-allow",
     resource=[rst(principal={"AWS": ACCT})])
case("rbp-account-plus-identity", f"{PRIN}: account delegation plus an identity allow", "allowed",
     resource=[rst(principal={"AWS": ACCT})], identity=([st()],))
case("rbp-star", f"{PRIN}: \"*\" is every principal", "allowed", resource=[rst(principal="*")])
case("rbp-aws-star", f"{PRIN}: {{\"AWS\": \"*\"}} is every principal", "allowed",
     resource=[rst(principal={"AWS": "*"})])
case("rbp-list-of-principals", f"{PRIN}: a list of principals, any may match", "allowed",
     resource=[rst(principal={"AWS": [BOB.arn, USER_ARN]})])
case("rbp-action-mismatch", f"{EVAL}: a resource policy allow covers only its actions", "no-identity-allow",
     resource=[rst(principal={"AWS": USER_ARN}, action="s3:PutObject")])
case("rbp-resource-mismatch", f"{EVAL}: a resource policy allow covers only its resources",
     "no-identity-allow", resource=[rst(principal={"AWS": USER_ARN}, resource=BUCKET)])
case("rbp-condition-false", f"{EVAL}: a resource policy statement applies only when its condition holds",
     "no-identity-allow", resource=[rst(principal="*", Condition={"Bool": {B: "true"}})], context={B: False})
case("rbp-condition-true", f"{EVAL}: a resource policy statement applies only when its condition holds",
     "allowed", resource=[rst(principal="*", Condition={"Bool": {B: "true"}})], context={B: True})
case("rbp-deny-overrides-identity", f"{EVAL}: an explicit deny in a resource policy overrides an identity allow",
     "explicit-deny-resource", identity=([st()],), resource=[rst("Deny", principal={"AWS": USER_ARN})])
case("rbp-deny-account-applies-to-users", f"{PRIN}: a Deny naming the account applies to its principals",
     "explicit-deny-resource", identity=([st()],), resource=[rst("Deny", principal={"AWS": ACCT})])
case("rbp-deny-other-user-irrelevant", f"{PRIN}: a Deny naming another user does not apply", "allowed",
     identity=([st()],), resource=[rst("Deny", principal={"AWS": BOB.arn})])
case("rbp-deny-star", f"{EVAL}: explicit deny to everyone", "explicit-deny-resource",
     identity=([st()],), resource=[rst("Deny", principal="*")])
case("rbp-deny-beats-own-allow", f"{EVAL}: deny beats allow within a resource policy", "explicit-deny-resource",
     resource=[rst(principal="*"), rst("Deny", principal="*", Condition={"Bool": {B: "false"}})], context={B: False})
case("rbp-role-arn-session", f"{EVAL}: a resource policy naming the role ARN allows its sessions", "allowed",
     principal=SESSION, resource=[rst(principal={"AWS": ROLE_ARN})])
case("rbp-session-arn", f"{EVAL}: a resource policy naming the session ARN allows it", "allowed",
     principal=SESSION, resource=[rst(principal={"AWS": SESSION_ARN})])
case("rbp-other-session", f"{EVAL}: a different session ARN does not apply", "no-identity-allow",
     principal=SESSION, resource=[rst(principal={"AWS": f"arn:aws:sts::{ACCT}:assumed-role/Builder/s2"})])
case("rbp-federated-user", f"{EVAL}: a resource policy naming a federated user session", "allowed",
     principal=FED, resource=[rst(principal={"AWS": FED.arn})])
case("rbp-identity-alone", f"{EVAL}: identity allow alone suffices within the account", "allowed",
     identity=([st()],), resource=[rst(principal={"AWS": BOB.arn})])
case("notprincipal-deny-other", f"{NOTP}: Deny with NotPrincipal applies to unlisted principals",
     "explicit-deny-resource", identity=([st()],), principal=BOB,
     resource=[rst("Deny", principal={"AWS": [USER_ARN, f"arn:aws:iam::{ACCT}:root"]}, not_principal=True)])
case("notprincipal-deny-listed", f"{NOTP}: listed principals (with their account) escape the Deny", "allowed",
     identity=([st()],),
     resource=[rst("Deny", principal={"AWS": [USER_ARN, f"arn:aws:iam::{ACCT}:root"]}, not_principal=True)])
case("notprincipal-deny-needs-account", f"{NOTP}: the account ARN must be listed too, or the Deny applies",
     "explicit-deny-resource", identity=([st()],),
     resource=[rst("Deny", principal={"AWS": [USER_ARN]}, not_principal=True)])
case("notprincipal-deny-session-listed", f"{NOTP}: a session escapes when session, role and account are listed",
     "allowed", principal=SESSION, identity=([st()],),
     resource=[rst("Deny", principal={"AWS": [SESSION_ARN, ROLE_ARN, f"arn:aws:iam::{ACCT}:root"]}, not_principal=True)])
case("notprincipal-deny-session-role-only", f"{NOTP}: listing the role ARN without the session ARN does not exempt",
     "explicit-deny-resource", principal=SESSION, identity=([st()],),
     resource=[rst("Deny", principal={"AWS": [ROLE_ARN, f"arn:aws:iam::{ACCT}:root"]}, not_principal=True)])
case("notprincipal-deny-session-without-role", f"{NOTP}: a session must have its role ARN listed to escape",
     "explicit-deny-resource", principal=SESSION, identity=([st()],),
     resource=[rst("Deny", principal={"AWS": [SESSION_ARN, f"arn:aws:iam::{ACCT}:root"]}, not_principal=True)])
case("notprincipal-deny-boundary-quirk", f"{BOUND}: a Deny with NotPrincipal always denies a principal with a boundary",
     "explicit-deny-resource", identity=(ALLOW_ALL,), boundary=ALLOW_ALL,
     resource=[rst("Deny", principal={"AWS": [USER_ARN, f"arn:aws:iam::{ACCT}:root"]}, not_principal=True)])
case("notprincipal-allow", f"{NOTP}: Allow with NotPrincipal allows unlisted principals", "allowed",
     resource=[rst(principal={"AWS": BOB.arn}, not_principal=True)])

# ---- service principals and anonymous callers ---------------------------------------------
case("service-allowed", f"{PRIN}: a service principal is allowed by a resource policy naming it", "allowed",
     principal=SVC, action="s3:PutObject", resource=[rst(principal={"Service": "cloudtrail.amazonaws.com"}, action="s3:PutObject")])
case("service-not-named", f"{PRIN}: a service principal needs a resource policy naming it", "no-resource-allow",
     principal=SVC, resource=[rst(principal={"Service": "config.amazonaws.com"})])
case("service-no-policy", f"{PRIN}: a service principal with no resource policy is denied", "no-resource-allow",
     principal=SVC)
case("service-not-account", f"{PRIN}: naming an account does not name a service", "no-resource-allow",
     principal=SVC, resource=[rst(principal={"AWS": ACCT})])
case("service-deny", f"{EVAL}: an explicit deny in the resource policy denies a service", "explicit-deny-resource",
     principal=SVC, resource=[rst(principal={"Service": "cloudtrail.amazonaws.com"}), rst("Deny", principal="*")])
case("service-star", f"{PRIN}: \"*\" includes service principals", "allowed", principal=SVC,
     resource=[rst(principal="*")])
case("service-ignores-identity", f"{EVAL}: service principals are evaluated on the resource policy only",
     "no-resource-allow", principal=SVC, identity=(ALLOW_ALL,))
case("service-ignores-scp", f"{SCP}: SCPs do not apply to service principals", "allowed", principal=SVC,
     resource=[rst(principal={"Service": "cloudtrail.amazonaws.com"})], scps=(([st("Deny", action="*")],),))
case("service-source-account", f"{OPS}: service access scoped with aws:SourceAccount", "no-resource-allow",
     principal=SVC, context={"aws:SourceAccount": OTHER},
     resource=[rst(principal={"Service": "cloudtrail.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": ACCT}})])
case("anonymous-public", f"{PRIN}: \"*\" grants anonymous access", "allowed", principal=ANON,
     resource=[rst(principal="*")])
case("anonymous-aws-star", f"{PRIN}: {{\"AWS\": \"*\"}} grants anonymous access too", "allowed", principal=ANON,
     resource=[rst(principal={"AWS": "*"})])
case("anonymous-account", f"{PRIN}: naming an account does not grant anonymous access", "no-resource-allow",
     principal=ANON, resource=[rst(principal={"AWS": ACCT})])
case("anonymous-no-policy", f"{EVAL}: an anonymous caller needs a resource policy allow", "no-resource-allow",
     principal=ANON)
case("anonymous-condition", f"{EVAL}: anonymous access under a condition", "no-resource-allow", principal=ANON,
     resource=[rst(principal="*", Condition={"IpAddress": {IP: "10.0.0.0/8"}})], context={IP: "8.8.8.8"})
case("anonymous-deny", f"{EVAL}: explicit deny for anonymous callers", "explicit-deny-resource", principal=ANON,
     resource=[rst(principal="*"), rst("Deny", principal="*", action="s3:*")])

# ---- cross account -----------------------------------------------------------------------
XC = dict(principal=XUSER, resource_account=ACCT)
case("x-identity-only", f"{XEVAL}: cross-account access needs the resource policy to allow", "no-resource-allow",
     identity=([st()],), **XC)
case("x-both-allow-account", f"{XEVAL}: resource policy trusting the account plus identity allow", "allowed",
     identity=([st()],), resource=[rst(principal={"AWS": OTHER})], **XC)
case("x-resource-only-account", f"{XEVAL}: the identity policy must also allow", "no-identity-allow",
     resource=[rst(principal={"AWS": f"arn:aws:iam::{OTHER}:root"})], **XC)
case("x-resource-names-user-no-identity", f"{XEVAL}: even naming the user, the identity side must allow",
     "no-identity-allow", resource=[rst(principal={"AWS": XUSER.arn})], **XC)
case("x-resource-names-user-and-identity", f"{XEVAL}: both sides allow", "allowed",
     identity=([st()],), resource=[rst(principal={"AWS": XUSER.arn})], **XC)
case("x-star-and-identity", f"{XEVAL}: a public resource policy plus identity allow", "allowed",
     identity=([st()],), resource=[rst(principal="*")], **XC)
case("x-star-no-identity", f"{XEVAL}: a public resource policy does not replace the identity allow",
     "no-identity-allow", resource=[rst(principal="*")], **XC)
case("x-resource-other-account", f"{XEVAL}: trusting a different account does not apply", "no-resource-allow",
     identity=([st()],), resource=[rst(principal={"AWS": "999988887777"})], **XC)
case("x-resource-deny", f"{XEVAL}: explicit deny in the resource policy", "explicit-deny-resource",
     identity=([st()],), resource=[rst(principal="*"), rst("Deny", principal={"AWS": OTHER})], **XC)
case("x-identity-deny", f"{XEVAL}: explicit deny in the caller's identity policy", "explicit-deny-identity",
     identity=([st()], [st("Deny")]), resource=[rst(principal={"AWS": OTHER})], **XC)
case("x-session-role-arn", f"{XEVAL}: resource policy naming the other account's role", "allowed",
     principal=XSESSION, resource_account=ACCT, identity=([st()],), resource=[rst(principal={"AWS": XROLE})])
case("x-session-role-arn-no-identity", f"{XEVAL}: the role's identity policy must allow too", "no-identity-allow",
     principal=XSESSION, resource_account=ACCT, resource=[rst(principal={"AWS": XROLE})])
case("x-boundary-caps", f"{BOUND}: boundaries cap the identity side of a cross-account request",
     "no-boundary-allow", identity=([st()],), boundary=[st(action="sqs:*")],
     resource=[rst(principal={"AWS": XUSER.arn})], **XC)
case("x-root-allowed", f"{XEVAL}: another account's root needs the resource policy to trust its account",
     "allowed", principal=XROOT, resource_account=ACCT, resource=[rst(principal={"AWS": OTHER})])
case("x-root-no-policy", f"{XEVAL}: another account's root without a resource policy", "no-resource-allow",
     principal=XROOT, resource_account=ACCT)
case("same-account-explicit", f"{EVAL}: resource_account equal to the caller's is same-account", "allowed",
     resource_account=ACCT, resource=[rst(principal={"AWS": USER_ARN})])
case("x-resource-condition", f"{XEVAL}: aws:PrincipalOrgID on a cross-account grant", "no-resource-allow",
     identity=([st()],), context={"aws:PrincipalOrgID": "o-other"},
     resource=[rst(principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})], **XC)
case("x-resource-condition-ok", f"{XEVAL}: aws:PrincipalOrgID on a cross-account grant", "allowed",
     identity=([st()],), context={"aws:PrincipalOrgID": "o-abc"},
     resource=[rst(principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})], **XC)

# ---- permissions boundaries --------------------------------------------------------------
case("boundary-both-allow", f"{BOUND}: effective permissions are identity ∩ boundary", "allowed",
     identity=([st()],), boundary=[st(action="s3:*")])
case("boundary-not-allow", f"{BOUND}: a boundary that does not allow caps the identity allow", "no-boundary-allow",
     identity=([st()],), boundary=[st(action="ec2:*")])
case("boundary-grants-nothing", f"{BOUND}: a boundary does not grant permissions on its own", "no-identity-allow",
     boundary=[st(action="s3:*")])
case("boundary-deny", f"{BOUND}: an explicit deny in the boundary", "explicit-deny-boundary",
     identity=([st()],), boundary=[st(action="*"), st("Deny")])
case("boundary-user-arn-rbp", f"{BOUND}: a resource policy naming the user ARN is not limited by the boundary",
     "allowed", boundary=[st(action="ec2:*")], resource=[rst(principal={"AWS": USER_ARN})])
case("boundary-role-arn-rbp", f"{BOUND}: a resource policy naming the role ARN is limited by the boundary",
     "no-boundary-allow", principal=SESSION, boundary=[st(action="ec2:*")], resource=[rst(principal={"AWS": ROLE_ARN})])
case("boundary-role-arn-rbp-allowed", f"{BOUND}: role ARN grant within the boundary", "allowed",
     principal=SESSION, boundary=[st(action="s3:*")], resource=[rst(principal={"AWS": ROLE_ARN})])
case("boundary-session-arn-rbp", f"{BOUND}: a resource policy naming the session ARN is not limited",
     "allowed", principal=SESSION, boundary=[st(action="ec2:*")], resource=[rst(principal={"AWS": SESSION_ARN})])
case("boundary-account-rbp", f"{BOUND}: account delegation leaves the identity side capped", "no-boundary-allow",
     identity=([st()],), boundary=[st(action="ec2:*")], resource=[rst(principal={"AWS": ACCT})])
case("boundary-deny-beats-rbp", f"{EVAL}: an explicit deny in the boundary beats a resource policy allow",
     "explicit-deny-boundary", boundary=[st(action="*"), st("Deny", action="s3:*")],
     resource=[rst(principal={"AWS": USER_ARN})])
case("boundary-condition", f"{BOUND}: boundary statements with conditions", "no-boundary-allow",
     identity=([st()],), boundary=[st(action="*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})],
     context={"aws:RequestedRegion": "us-east-1"})
case("boundary-condition-ok", f"{BOUND}: boundary statements with conditions", "allowed",
     identity=([st()],), boundary=[st(action="*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})],
     context={"aws:RequestedRegion": "eu-west-1"})
case("boundary-role-session", f"{BOUND}: a role's boundary caps its sessions", "no-boundary-allow",
     principal=SESSION, identity=(ALLOW_ALL,), boundary=[st(action="sqs:*")])
case("boundary-resource-scoped", f"{BOUND}: boundary resource scope", "no-boundary-allow",
     identity=(ALLOW_ALL,), boundary=[st(action="s3:*", resource="arn:aws:s3:::other/*")])
case("boundary-ignored-for-root", f"{EVAL}: the root user has no boundary or identity policies to check",
     "allowed", principal=ROOT, boundary=[st(action="ec2:*")])

# ---- session policies --------------------------------------------------------------------
SS = dict(principal=SESSION, identity=(ALLOW_ALL,))
case("session-allows", f"{SESS}: effective permissions are identity ∩ session policy", "allowed",
     session=([st(action="s3:Get*")],), **SS)
case("session-not-allow", f"{SESS}: a session policy that does not allow limits the session", "no-session-allow",
     session=([st(action="sqs:*")],), **SS)
case("session-deny", f"{SESS}: an explicit deny in a session policy", "explicit-deny-session",
     session=([st(action="*"), st("Deny")],), **SS)
case("session-grants-nothing", f"{SESS}: session policies cannot grant more than the identity policy",
     "no-identity-allow", principal=SESSION, session=([st(action="*")],))
case("session-none", f"{SESS}: a session without session policies has the role's permissions", "allowed", **SS)
case("session-several-union", f"{SESS}: several session policies (managed + inline) — any may allow", "allowed",
     session=([st(action="sqs:*")], [st(action="s3:*")]), **SS)
case("session-role-arn-rbp", f"{SESS}: a resource policy naming the role ARN is limited by the session policy",
     "no-session-allow", principal=SESSION, session=([st(action="sqs:*")],), resource=[rst(principal={"AWS": ROLE_ARN})])
case("session-session-arn-rbp", f"{SESS}: a resource policy naming the session ARN is not limited", "allowed",
     principal=SESSION, session=([st(action="sqs:*")],), resource=[rst(principal={"AWS": SESSION_ARN})])
case("session-and-boundary", f"{SESS}: identity ∩ boundary ∩ session", "no-boundary-allow",
     session=([st(action="*")],), boundary=[st(action="sqs:*")], **SS)
case("session-and-boundary-ok", f"{SESS}: identity ∩ boundary ∩ session", "allowed",
     session=([st(action="*")],), boundary=[st(action="s3:*")], **SS)
case("session-federated-arn-rbp", f"{SESS}: a resource policy naming the federated user session is not limited",
     "allowed", principal=FED, session=([st(action="sqs:*")],), resource=[rst(principal={"AWS": FED.arn})])
case("session-federated-limits", f"{SESS}: a federated user's session policy limits identity permissions",
     "no-session-allow", principal=FED, identity=(ALLOW_ALL,), session=([st(action="sqs:*")],))
case("session-deny-beats-rbp", f"{EVAL}: an explicit deny in a session policy beats a resource policy allow",
     "explicit-deny-session", principal=SESSION, session=([st(action="*"), st("Deny", action="s3:*")],),
     resource=[rst(principal={"AWS": SESSION_ARN})])

# ---- SCPs --------------------------------------------------------------------------------
FULL = [st(action="*", resource="*")]
case("scp-full-access", f"{SCP}: FullAWSAccess plus identity allow", "allowed", identity=([st()],),
     scps=((FULL,), (FULL,)))
case("scp-level-missing-allow", f"{SCP}: every level of the hierarchy must allow", "no-scp-allow",
     identity=([st()],), scps=((FULL,), ([st(action="ec2:*")],)))
case("scp-root-level-missing-allow", f"{SCP}: the root level must allow too", "no-scp-allow",
     identity=([st()],), scps=(([st(action="ec2:*")],), (FULL,)))
case("scp-deny", f"{SCP}: an explicit deny in an SCP", "explicit-deny-scp", identity=([st()],),
     scps=((FULL,), (FULL, [st("Deny", action="s3:*")])))
case("scp-several-at-level", f"{SCP}: any policy at a level may allow", "allowed", identity=([st()],),
     scps=((FULL,), ([st(action="ec2:*")], [st(action="s3:*")])))
case("scp-grants-nothing", f"{SCP}: SCPs do not grant permissions", "no-identity-allow", scps=((FULL,),))
case("scp-applies-to-root", f"{SCP}: SCPs restrict the member account's root user", "no-scp-allow",
     principal=ROOT, scps=(([st(action="ec2:*")],),))
case("scp-deny-root", f"{SCP}: SCP deny applies to the root user", "explicit-deny-scp", principal=ROOT,
     scps=((FULL, [st("Deny", action="s3:*")]),))
case("scp-limits-rbp", f"{SCP}: SCPs limit permissions granted by resource policies", "no-scp-allow",
     resource=[rst(principal={"AWS": USER_ARN})], scps=(([st(action="ec2:*")],),))
case("scp-deny-beats-rbp", f"{SCP}: an SCP deny beats a resource policy allow", "explicit-deny-scp",
     resource=[rst(principal={"AWS": USER_ARN})], scps=((FULL, [st("Deny", action="*")]),))
case("scp-region-condition", f"{SCP}: deny outside approved regions", "explicit-deny-scp", identity=(ALLOW_ALL,),
     context={"aws:RequestedRegion": "ap-south-1"},
     scps=((FULL, [st("Deny", action="*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})]),))
case("scp-region-condition-ok", f"{SCP}: deny outside approved regions", "allowed", identity=(ALLOW_ALL,),
     context={"aws:RequestedRegion": "eu-west-1"},
     scps=((FULL, [st("Deny", action="*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})]),))
case("scp-notaction-deny", f"{SCP}: deny all but listed actions with NotAction", "explicit-deny-scp",
     identity=(ALLOW_ALL,), scps=((FULL, [st("Deny", action=["iam:*", "sts:*"], not_action=True)]),))
case("scp-deny-before-no-allow", f"{EVAL}: explicit deny is reported before a missing allow", "explicit-deny-identity",
     identity=([st("Deny")],), scps=(([st(action="ec2:*")],),))
case("scp-none-not-applicable", f"{SCP}: no SCPs (management account / no org) do not restrict", "allowed",
     identity=([st()],), scps=None)
case("scp-session", f"{SCP}: SCPs apply to role sessions", "no-scp-allow", principal=SESSION, identity=(ALLOW_ALL,),
     scps=(([st(action="ec2:*")],),))

# ---- RCPs --------------------------------------------------------------------------------
RFULL = [rst(principal="*", action="*", resource="*")]
case("rcp-full-access", f"{RCP}: RCPFullAWSAccess leaves access to other policies", "allowed", identity=([st()],),
     rcps=((RFULL,),))
case("rcp-deny-external", f"{RCP}: deny access from outside the organization", "explicit-deny-rcp",
     context={"aws:PrincipalOrgID": "o-evil"}, identity=([st()],), resource=[rst(principal={"AWS": OTHER})],
     principal=XUSER, resource_account=ACCT,
     rcps=((RFULL, [rst("Deny", principal="*", action="s3:*", Condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}})]),))
case("rcp-deny-spares-org", f"{RCP}: principals in the organization pass", "allowed",
     context={"aws:PrincipalOrgID": "o-abc"}, identity=([st()],), resource=[rst(principal={"AWS": OTHER})],
     principal=XUSER, resource_account=ACCT,
     rcps=((RFULL, [rst("Deny", principal="*", action="s3:*", Condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}})]),))
case("rcp-level-missing-allow", f"{RCP}: every level must allow", "no-rcp-allow", identity=([st()],),
     rcps=((RFULL,), ([rst(principal="*", action="sqs:*")],)))
case("rcp-not-service", f"{RCP}: RCPs do not apply to AWS service principals", "allowed", principal=SVC,
     resource=[rst(principal="*")], rcps=(([rst("Deny", principal="*", action="*")],),))
case("rcp-anonymous", f"{RCP}: RCPs apply to anonymous requests", "explicit-deny-rcp", principal=ANON,
     resource=[rst(principal="*")], rcps=((RFULL, [rst("Deny", principal="*", action="s3:*")]),))
case("rcp-root", f"{RCP}: RCPs apply to the root user", "explicit-deny-rcp", principal=ROOT,
     rcps=((RFULL, [rst("Deny", principal="*", action="s3:*")]),))
case("rcp-deny-secure-transport", f"{RCP}: enforce encryption in transit", "explicit-deny-rcp", identity=([st()],),
     context={B: False}, rcps=((RFULL, [rst("Deny", principal="*", action="s3:*", Condition={"BoolIfExists": {B: "false"}})]),))
case("rcp-deny-secure-transport-ok", f"{RCP}: enforce encryption in transit", "allowed", identity=([st()],),
     context={B: True}, rcps=((RFULL, [rst("Deny", principal="*", action="s3:*", Condition={"BoolIfExists": {B: "false"}})]),))
case("rcp-grants-nothing", f"{RCP}: RCPs do not grant permissions", "no-identity-allow", rcps=((RFULL,),))

# ---- root user ---------------------------------------------------------------------------
case("root-no-policies", f"{EVAL}: the root user has full access to its own account's resources", "allowed",
     principal=ROOT)
case("root-identity-ignored", f"{EVAL}: identity policies do not apply to the root user", "allowed",
     principal=ROOT, identity=([st("Deny")],))
case("root-rbp-deny", f"{EVAL}: an explicit deny in a resource policy applies to the root user",
     "explicit-deny-resource", principal=ROOT, resource=[rst("Deny", principal={"AWS": ACCT})])
case("root-rbp-deny-star", f"{EVAL}: a Deny to \"*\" applies to the root user", "explicit-deny-resource",
     principal=ROOT, resource=[rst("Deny", principal="*")])
case("root-rbp-other-principal", f"{EVAL}: a resource policy for someone else does not limit root", "allowed",
     principal=ROOT, resource=[rst(principal={"AWS": BOB.arn})])
case("root-scp-full", f"{SCP}: root within FullAWSAccess", "allowed", principal=ROOT, scps=((FULL,),))


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_case(c: Case) -> None:
    req, ps = build(c)
    d = evaluate(req, ps)
    assert (d.reason, d.allowed) == (c.expect, c.expect == "allowed"), c.rule


def test_table_is_large_and_mixed() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 220
    allowed = sum(c.expect == "allowed" for c in CASES)
    assert 0.3 < allowed / len(CASES) < 0.7


# ---- is_allowed_by (the Simulate* APIs) ---------------------------------------------------
def test_is_allowed_by() -> None:
    pol = parse(_doc([st(action="s3:*"), st("Deny", action="s3:DeleteObject")], V), "identity")
    r = lambda a: Request(USER, a, OBJ, {})  # noqa: E731
    assert is_allowed_by(pol, r("s3:GetObject")) == "Allow"
    assert is_allowed_by(pol, r("s3:DeleteObject")) == "Deny"
    assert is_allowed_by(pol, r("sqs:SendMessage")) == "NotApplicable"


def test_is_allowed_by_resource_policy_checks_principal() -> None:
    pol = parse(_doc([rst(principal={"AWS": USER_ARN})], V), "resource")
    assert is_allowed_by(pol, Request(USER, GET, OBJ, {})) == "Allow"
    assert is_allowed_by(pol, Request(BOB, GET, OBJ, {})) == "NotApplicable"


def test_trust_policy_evaluation() -> None:
    trust = parse(_doc([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": OTHER},
                         "Condition": {"StringEquals": {"sts:ExternalId": "xyz"}}}], V), "trust")
    ok = Request(XUSER, "sts:AssumeRole", ROLE_ARN, {"sts:ExternalId": "xyz"})
    bad = Request(XUSER, "sts:AssumeRole", ROLE_ARN, {"sts:ExternalId": "nope"})
    ident = (parse(_doc([st(action="sts:AssumeRole")], V), "identity"),)
    ps = PolicySet(identity=ident, resource=trust, resource_account=ACCT)
    assert evaluate(ok, ps).allowed
    assert evaluate(bad, ps).reason == "no-resource-allow"
