"""Bucket policies, pure: a PutBucketPolicy document checked as S3 checks it, and
whether it is public (what GetBucketPolicyStatus and BlockPublicPolicy go by).

S3 refuses with ``MalformedPolicy`` a document that is not a JSON object, has fields a
policy has not, misses Effect/Principal/Action/Resource, names an action S3 does not
have, a principal that is not one, a resource outside the bucket, or an action that
applies to none of its statement's resources (an object action on the bucket ARN).

"Public", per "The meaning of public" in the S3 user guide: an Allow statement for any
principal (``*``) that grants a read or write action ("bad actions": ``s3:Get*``,
``s3:List*``, ``s3:Put*``, ``s3:Delete*``, ``s3:AbortMultipartUpload``,
``s3:RestoreObject``) and is not pinned by a fixed condition value on one of the keys
that name who or where (source ARN/account/VPC, organization, IP ranges...).
"""

from __future__ import annotations

import ipaddress
import json
import re
from fnmatch import fnmatchcase
from typing import Any

from cloudlet.core.errors import ServiceError

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = frozenset({"Version", "Id", "Statement"})
_STATEMENT = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                        "NotResource", "Condition"})
_PRINCIPAL_KINDS = frozenset({"AWS", "Service", "CanonicalUser", "Federated"})

# S3's IAM actions by the resource they act on (the Service Authorization Reference),
# lower-cased: IAM compares action names without case.
OBJECT_ACTIONS = frozenset("""
abortmultipartupload bypassgovernanceretention deleteobject deleteobjecttagging deleteobjectversion
deleteobjectversiontagging getobject getobjectacl getobjectattributes getobjectlegalhold getobjectretention
getobjecttagging getobjecttorrent getobjectversion getobjectversionacl getobjectversionattributes
getobjectversionforreplication getobjectversiontagging getobjectversiontorrent initiatereplication
listmultipartuploadparts objectowneroverridetobucketowner putobject putobjectacl putobjectlegalhold
putobjectretention putobjecttagging putobjectversionacl putobjectversiontagging replicatedelete
replicateobject replicatetags restoreobject updateobjectencryption
""".split())
BUCKET_ACTIONS = frozenset("""
createbucket createbucketmetadatatableconfiguration deletebucket deletebucketmetadatatableconfiguration
deletebucketpolicy deletebucketwebsite getaccelerateconfiguration getanalyticsconfiguration getbucketabac
getbucketacl getbucketcors getbucketlocation getbucketlogging getbucketmetadatatableconfiguration
getbucketnotification getbucketobjectlockconfiguration getbucketownershipcontrols getbucketpolicy
getbucketpolicystatus getbucketpublicaccessblock getbucketrequestpayment getbuckettagging getbucketversioning
getbucketwebsite getencryptionconfiguration getintelligenttieringconfiguration getinventoryconfiguration
getlifecycleconfiguration getmetricsconfiguration getreplicationconfiguration listbucket
listbucketmultipartuploads listbucketversions listtagsforresource pausereplication putaccelerateconfiguration
putanalyticsconfiguration putbucketabac putbucketacl putbucketcors putbucketlogging putbucketnotification
putbucketobjectlockconfiguration putbucketownershipcontrols putbucketpolicy putbucketpublicaccessblock
putbucketrequestpayment putbuckettagging putbucketversioning putbucketwebsite putencryptionconfiguration
putintelligenttieringconfiguration putinventoryconfiguration putlifecycleconfiguration putmetricsconfiguration
putreplicationconfiguration tagresource untagresource updatebucketmetadatainventorytableconfiguration
updatebucketmetadatajournaltableconfiguration
""".split())
# real S3 actions on other resources (account, access points, jobs, Storage Lens...): a
# bucket policy may name them, but they apply to none of its resources
OTHER_ACTIONS = frozenset("""
associateaccessgrantsidentitycenter createaccessgrant createaccessgrantsinstance createaccessgrantslocation
createaccesspoint createaccesspointforobjectlambda createjob createmultiregionaccesspoint
createstoragelensgroup deleteaccessgrant deleteaccessgrantsinstance deleteaccessgrantsinstanceresourcepolicy
deleteaccessgrantslocation deleteaccesspoint deleteaccesspointforobjectlambda deleteaccesspointpolicy
deleteaccesspointpolicyforobjectlambda deletejobtagging deletemultiregionaccesspoint
deletestoragelensconfiguration deletestoragelensconfigurationtagging deletestoragelensgroup describejob
describemultiregionaccesspointoperation dissociateaccessgrantsidentitycenter getaccessgrant
getaccessgrantsinstance getaccessgrantsinstanceforprefix getaccessgrantsinstanceresourcepolicy
getaccessgrantslocation getaccesspoint getaccesspointconfigurationforobjectlambda
getaccesspointforobjectlambda getaccesspointpolicy getaccesspointpolicyforobjectlambda
getaccesspointpolicystatus getaccesspointpolicystatusforobjectlambda getaccountpublicaccessblock getdataaccess
getjobtagging getmultiregionaccesspoint getmultiregionaccesspointpolicy getmultiregionaccesspointpolicystatus
getmultiregionaccesspointroutes getstoragelensconfiguration getstoragelensconfigurationtagging
getstoragelensdashboard getstoragelensgroup listaccessgrants listaccessgrantsinstances
listaccessgrantslocations listaccesspoints listaccesspointsforobjectlambda listallmybuckets
listcalleraccessgrants listjobs listmultiregionaccesspoints liststoragelensconfigurations
liststoragelensgroups putaccessgrantsinstanceresourcepolicy putaccesspointconfigurationforobjectlambda
putaccesspointpolicy putaccesspointpolicyforobjectlambda putaccesspointpublicaccessblock
putaccountpublicaccessblock putjobtagging putmultiregionaccesspointpolicy putstoragelensconfiguration
putstoragelensconfigurationtagging submitmultiregionaccesspointroutes updateaccessgrantslocation
updatejobpriority updatejobstatus updatestoragelensgroup
""".split())
ALL_ACTIONS = OBJECT_ACTIONS | BUCKET_ACTIONS | OTHER_ACTIONS
_BAD = frozenset(a for a in ALL_ACTIONS if a.startswith(("get", "list", "put", "delete"))) | {
    "abortmultipartupload", "restoreobject"}

_AWS_PRINCIPAL = re.compile(r"\d{12}|arn:aws[a-z-]*:(?:iam|sts)::(?:\d{12}|cloudfront):\S+")
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?")
_CANONICAL = re.compile(r"[0-9a-fA-F]{64}")

#: keys whose fixed value keeps a policy non-public
_PINNING_KEYS = frozenset({
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
    "aws:principalorgid", "aws:userid", "s3:x-amz-server-side-encryption-aws-kms-key-id",
})
_FIXED_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "arnequals", "stringlike", "arnlike"})


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# checking -------------------------------------------------------------------------------------
def parse(text: str | bytes, bucket: str, partition: str = "aws") -> dict[str, Any]:
    """The policy document, checked; raises ``MalformedPolicy`` as S3 does."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    try:
        if not text.startswith("{"):
            raise ValueError("not an object")
        doc = json.loads(text)
    except ValueError:
        raise malformed("Policies must be valid JSON and the first byte must be '{'") from None
    for field in doc:
        if field not in _TOP:
            raise malformed(f"Unknown field {field}")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise malformed("The policy must contain a valid version string")
    if "Statement" not in doc:
        raise malformed("Missing required field Statement")
    statements = _list(doc["Statement"])
    if not statements:
        raise malformed("Missing required field Statement")
    for st in statements:
        _check_statement(st, bucket, partition)
    return doc


def _check_statement(st: Any, bucket: str, partition: str) -> None:
    if not isinstance(st, dict):
        raise malformed("Missing required field Effect")
    for field in st:
        if field not in _STATEMENT:
            raise malformed(f"Unknown field {field}")
    if "Effect" not in st:
        raise malformed("Missing required field Effect")
    if st["Effect"] not in ("Allow", "Deny"):
        raise malformed(f"Invalid effect: {st['Effect']}")
    if "Principal" not in st and "NotPrincipal" not in st:
        raise malformed("Missing required field Principal")
    _check_principal(st.get("Principal", st.get("NotPrincipal")))
    if "Action" not in st and "NotAction" not in st:
        raise malformed("Missing required field Action")
    if "Resource" not in st and "NotResource" not in st:
        raise malformed("Missing required field Resource")
    actions = [_action_names(a) for a in _list(st.get("Action", st.get("NotAction")))]
    resources = [_resource_kinds(r, bucket, partition) for r in _list(st.get("Resource", st.get("NotResource")))]
    condition = st.get("Condition")
    if condition is not None and not (isinstance(condition, dict) and all(isinstance(v, dict) for v in condition.values())):
        raise malformed("Invalid Condition")
    if "Action" in st and "Resource" in st:
        on_bucket = any(kinds[0] for kinds in resources)
        on_objects = any(kinds[1] for kinds in resources)
        for names in actions:
            if not any((on_bucket and n in BUCKET_ACTIONS) or (on_objects and n in OBJECT_ACTIONS) for n in names):
                raise malformed("Action does not apply to any resource(s) in statement")


def _check_principal(principal: Any) -> None:
    if principal == "*":
        return
    if not isinstance(principal, dict) or not principal:
        raise malformed("Invalid principal in policy")
    for kind, values in principal.items():
        if kind not in _PRINCIPAL_KINDS:
            raise malformed("Invalid principal in policy")
        for value in _list(values):
            if not isinstance(value, str) or not value:
                raise malformed("Invalid principal in policy")
            if kind == "AWS" and value != "*" and not _AWS_PRINCIPAL.fullmatch(value):
                raise malformed("Invalid principal in policy")
            if kind == "Service" and value != "*" and not _SERVICE_PRINCIPAL.fullmatch(value):
                raise malformed("Invalid principal in policy")
            if kind == "CanonicalUser" and not _CANONICAL.fullmatch(value):
                raise malformed("Invalid principal in policy")


def _action_names(action: Any) -> frozenset[str]:
    """The S3 actions an Action entry stands for (wildcards expanded)."""
    if not isinstance(action, str):
        raise malformed("Policy has invalid action")
    if action == "*":
        return ALL_ACTIONS
    service, sep, name = action.partition(":")
    if not sep or service.lower() != "s3" or not name:
        raise malformed("Policy has invalid action")
    pattern = name.lower()
    if "*" in pattern or "?" in pattern:
        names = frozenset(a for a in ALL_ACTIONS if fnmatchcase(a, pattern))
    else:
        names = frozenset({pattern}) & ALL_ACTIONS
    if not names:
        raise malformed("Policy has invalid action")
    return names


def _resource_kinds(resource: Any, bucket: str, partition: str) -> tuple[bool, bool]:
    """(may name the bucket, may name objects in it) for a Resource entry in this bucket."""
    prefix = f"arn:{partition}:s3:::"
    if not isinstance(resource, str) or not resource.startswith(prefix):
        raise malformed("Policy has invalid resource")
    rest = resource[len(prefix):]
    bucket_part, slash, _ = rest.partition("/")
    if not bucket_part or not fnmatchcase(bucket, bucket_part):
        raise malformed("Policy has invalid resource")
    wild = "*" in bucket_part
    return (not slash), bool(slash) or wild


def normalized(doc: dict[str, Any], partition: str = "aws") -> str:
    """The document as S3 keeps and returns it: compact JSON, an account id principal
    written as that account's root ARN."""
    for st in _list(doc["Statement"]):
        for field in ("Principal", "NotPrincipal"):
            principal = st.get(field)
            if isinstance(principal, dict) and "AWS" in principal:
                values = [f"arn:{partition}:iam::{v}:root" if isinstance(v, str) and v.isdigit() else v
                          for v in _list(principal["AWS"])]
                principal["AWS"] = values if isinstance(principal["AWS"], list) else values[0]
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


# public or not -----------------------------------------------------------------------------
def is_public(doc: dict[str, Any]) -> bool:
    return any(_public_statement(st) for st in _list(doc.get("Statement") or []) if isinstance(st, dict))


def _public_statement(st: dict[str, Any]) -> bool:
    if st.get("Effect") != "Allow":
        return False
    if "NotPrincipal" in st:
        return True  # everyone but a few
    if not _anyone(st.get("Principal")):
        return False
    if "NotAction" not in st and not any(_bad(a) for a in _list(st.get("Action"))):
        return False
    return not _pinned(st.get("Condition") or {})


def _anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(v == "*" for values in principal.values() for v in _list(values))
    return False


def _bad(action: Any) -> bool:
    if not isinstance(action, str):
        return False
    if action == "*":
        return True
    _, _, name = action.partition(":")
    pattern = name.lower()
    return any(fnmatchcase(a, pattern) for a in _BAD)


def _pinned(condition: dict[str, Any]) -> bool:
    """Whether a condition limits the statement to fixed principals or places."""
    for operator, keys in condition.items():
        op = operator.lower()
        if op.endswith("ifexists"):
            continue  # a request without the key passes
        op = op.split(":", 1)[-1]  # ForAnyValue:/ForAllValues:
        for key, values in keys.items():
            key = key.lower()
            vals = [str(v) for v in _list(values)]
            if key == "aws:sourceip" and op == "ipaddress":
                if vals and all(_narrow(v) for v in vals):
                    return True
            elif key in _PINNING_KEYS and op in _FIXED_OPERATORS and vals:
                if all("*" not in v and "?" not in v for v in vals):
                    return True
    return False


def _narrow(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen > 0
    except ValueError:
        return False
