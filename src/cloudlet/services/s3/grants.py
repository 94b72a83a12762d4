"""Access control lists: canned ACLs, ``x-amz-grant-*`` headers and explicit grants,
resolved to the grant lists S3 shows, and whether a bucket accepts them.

Since April 2023 a new bucket has Object Ownership ``BucketOwnerEnforced``: ACLs are
disabled, and only requests whose ACL amounts to "the bucket owner has full control"
(``private``, ``bucket-owner-full-control`` or the same grant written out) succeed; every
other ACL gets ``AccessControlListNotSupported``. Block Public Access's
``BlockPublicAcls`` refuses public ACLs (grants to AllUsers or AuthenticatedUsers) with
``AccessDenied``. Who may *use* a grant is the IAM engine's concern; here ACLs are
validated and stored.

An ACL is stored as a canned name (``"public-read"``) or as ``{"Grants": [...]}`` in
botocore's shape; the owner is not stored, it is the bucket's or the object's.
"""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.s3 import errors, storage

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY})
PUBLIC_GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS})

PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
CANNED = frozenset({
    "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
    "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write",
})
#: canned ACLs that mean "the bucket owner has full control" (allowed with ACLs disabled)
OWNER_FULL_CONTROL = frozenset({"private", "bucket-owner-full-control"})

#: the grant headers, by request member, and the permission each grants
HEADERS = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}
_HEADER_NAMES = {
    "GrantFullControl": "x-amz-grant-full-control",
    "GrantRead": "x-amz-grant-read",
    "GrantReadACP": "x-amz-grant-read-acp",
    "GrantWrite": "x-amz-grant-write",
    "GrantWriteACP": "x-amz-grant-write-acp",
}
_GRANTEE = re.compile(r'\s*([A-Za-z]+)\s*=\s*"?([^",]*)"?\s*(?:,|$)')
_CANONICAL_ID = re.compile(r"[0-9a-f]{64}")

Grant = dict[str, Any]


# grantees ------------------------------------------------------------------------------
def user(canonical_id: str, permission: str) -> Grant:
    return {"Grantee": {"ID": canonical_id, "Type": "CanonicalUser"}, "Permission": permission}


def group(uri: str, permission: str) -> Grant:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def canned_grants(acl: str, owner_id: str, bucket_owner_id: str | None = None) -> list[Grant]:
    """The grants a canned ACL stands for, on a resource owned by `owner_id` in a bucket
    owned by `bucket_owner_id` (the same for a bucket's own ACL)."""
    bucket_owner_id = bucket_owner_id or owner_id
    out = [user(owner_id, "FULL_CONTROL")]
    if acl == "public-read":
        out.append(group(ALL_USERS, "READ"))
    elif acl == "public-read-write":
        out += [group(ALL_USERS, "READ"), group(ALL_USERS, "WRITE")]
    elif acl == "authenticated-read":
        out.append(group(AUTHENTICATED_USERS, "READ"))
    elif acl == "log-delivery-write":
        out += [group(LOG_DELIVERY, "WRITE"), group(LOG_DELIVERY, "READ_ACP")]
    elif acl == "bucket-owner-read" and bucket_owner_id != owner_id:
        out.append(user(bucket_owner_id, "READ"))
    elif acl == "bucket-owner-full-control" and bucket_owner_id != owner_id:
        out.append(user(bucket_owner_id, "FULL_CONTROL"))
    return out


def check_canned(acl: str) -> None:
    if acl not in CANNED:
        raise errors.invalid_argument("", "x-amz-acl", acl)
    if acl == "aws-exec-read":
        # it grants read to Amazon EC2's own canonical user, which cloudlet has no id for
        raise ServiceError("NotImplemented", "cloudlet does not implement the aws-exec-read canned ACL yet", 501)


def header_grants(params: dict[str, Any]) -> list[Grant]:
    """Grants from ``x-amz-grant-*`` headers: ``id="..."``, ``uri="..."``,
    ``emailAddress="..."``, comma-separated."""
    out: list[Grant] = []
    for member, permission in HEADERS.items():
        text = params.get(member)
        if text is None:
            continue
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _GRANTEE.match(text, pos)
            if m is None or m.end() == pos:
                raise errors.invalid_argument("", _HEADER_NAMES[member], text)
            pos = m.end()
            kind, value = m.group(1).lower(), m.group(2).strip()
            if kind == "id":
                out.append(user(_check_id(value), permission))
            elif kind == "uri":
                out.append(group(_check_uri(value), permission))
            elif kind == "emailaddress":
                raise _unresolvable_email(value)
            else:
                raise errors.invalid_argument("", _HEADER_NAMES[member], text)
    return out


def policy_grants(acp: dict[str, Any], owner_id: str) -> list[Grant]:
    """Grants from an AccessControlPolicy body, checked as S3 checks them."""
    owner = acp.get("Owner")
    if not owner or not owner.get("ID"):
        raise malformed_acl()
    if owner["ID"] != owner_id:
        raise errors.access_denied()
    out: list[Grant] = []
    for g in acp.get("Grants") or []:
        grantee = g.get("Grantee") or {}
        permission = g.get("Permission")
        if permission not in PERMISSIONS:
            raise malformed_acl()
        kind = grantee.get("Type")
        if kind == "CanonicalUser":
            if not grantee.get("ID"):
                raise malformed_acl()
            out.append(user(_check_id(grantee["ID"]), permission))
        elif kind == "Group":
            if not grantee.get("URI"):
                raise malformed_acl()
            out.append(group(_check_uri(grantee["URI"]), permission))
        elif kind == "AmazonCustomerByEmail":
            raise _unresolvable_email(grantee.get("EmailAddress") or "")
        else:
            raise malformed_acl()
    return out


def _check_id(value: str) -> str:
    if not _CANONICAL_ID.fullmatch(value):
        raise errors.invalid_argument("Invalid id", "CanonicalUser/ID", value)
    return value


def _check_uri(value: str) -> str:
    if value not in GROUPS:
        raise errors.invalid_argument("Invalid group uri", "Group/URI", value)
    return value


def _unresolvable_email(email: str) -> ServiceError:
    # cloudlet accounts have no e-mail addresses, so none resolves (as for an unknown one on S3)
    return ServiceError(
        "UnresolvableGrantByEmailAddress",
        "The e-mail address you provided does not match any account on record.",
        400,
        fields={"EmailAddressProvided": email},
    )


def malformed_acl() -> ServiceError:
    return ServiceError(
        "MalformedACLError",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


# a request's ACL -------------------------------------------------------------------------
def requested(params: dict[str, Any], owner_id: str, *, body_allowed: bool = True) -> str | dict[str, Any] | None:
    """What a request asks the ACL to become: a canned name, ``{"Grants": [...]}``, or
    None when it names no ACL at all."""
    acl = params.get("ACL")
    has_headers = any(params.get(h) is not None for h in HEADERS)
    acp = params.get("AccessControlPolicy") if body_allowed else None
    if acl is not None and has_headers:
        raise errors.invalid_request("Specifying both Canned ACLs and Header Grants is not allowed")
    if acp is not None and (acl is not None or has_headers):
        raise ServiceError("UnexpectedContent", "This request does not support content", 400)
    if acl is not None:
        check_canned(acl)
        return acl
    if has_headers:
        return {"Grants": header_grants(params)}
    if acp is not None:
        return {"Grants": policy_grants(acp, owner_id)}
    return None


def resolve(acl: str | dict[str, Any] | None, owner_id: str, bucket_owner_id: str | None = None) -> list[Grant]:
    """The grants a stored ACL stands for."""
    if acl is None:
        return canned_grants("private", owner_id, bucket_owner_id)
    if isinstance(acl, str):
        return canned_grants(acl, owner_id, bucket_owner_id)
    return [dict(g) for g in acl.get("Grants") or []]


def is_public(grants: list[Grant]) -> bool:
    return any((g.get("Grantee") or {}).get("URI") in PUBLIC_GROUPS for g in grants)


# which ACLs a bucket accepts -------------------------------------------------------------
def ownership(t: Tx, bucket: str) -> str:
    """The bucket's Object Ownership setting (``ObjectWriter`` when the controls were deleted,
    as on S3: that is how buckets behaved before the setting existed)."""
    cfg = storage.get_config(t, bucket, "ownership")
    rules = (cfg or {}).get("Rules") or []
    return rules[0].get("ObjectOwnership", "ObjectWriter") if rules else "ObjectWriter"


def acls_not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def check_allowed(t: Tx, b: dict[str, Any], acl: str | dict[str, Any] | None, owner_id: str) -> None:
    """Refuse an ACL the bucket does not accept: any ACL but the bucket owner's full
    control while ACLs are disabled, a public one while public ACLs are blocked."""
    bucket_owner = storage.canonical_id(b["account"])
    if ownership(t, b["name"]) == "BucketOwnerEnforced" and acl is not None:
        if isinstance(acl, str):
            if acl not in OWNER_FULL_CONTROL:
                raise acls_not_supported()
        elif not _only_owner_full_control(acl.get("Grants") or [], bucket_owner):
            raise acls_not_supported()
    block = storage.get_config(t, b["name"], "public-access-block") or {}
    if block.get("BlockPublicAcls") and is_public(resolve(acl, owner_id, bucket_owner)):
        raise errors.access_denied()


def _only_owner_full_control(grants: list[Grant], owner_id: str) -> bool:
    return bool(grants) and all(
        g.get("Permission") == "FULL_CONTROL" and (g.get("Grantee") or {}).get("ID") == owner_id for g in grants
    )


def check_acl_allowed(t: Tx, bucket: str, acl: str | None, params: dict[str, Any] | None = None) -> None:
    """For object writes (PutObject, CopyObject, CreateMultipartUpload): refuse the
    request's ACL (canned `acl`, or ``x-amz-grant-*`` headers in `params`) as S3 does
    for this bucket. Call inside the write's ``tx()`` before storing anything."""
    b = storage.get_bucket(t, bucket)
    owner_id = storage.canonical_id(b["account"])
    wanted: str | dict[str, Any] | None = acl
    if params is not None:
        wanted = requested({**params, "ACL": acl}, owner_id, body_allowed=False)
    elif acl is not None:
        check_canned(acl)
    check_allowed(t, b, wanted, owner_id)
