"""Bucket and object ACLs: Get/PutBucketAcl, Get/PutObjectAcl (rules in ``grants``)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import grants, reads, storage
from cloudlet.services.s3.subresources import object_event, require_bucket

Input = dict[str, Any]
Output = dict[str, Any]


def get_bucket_acl(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
    owner = storage.canonical_id(b["account"])
    return {"Owner": {"ID": owner}, "Grants": grants.resolve(b.get("acl"), owner)}


def put_bucket_acl(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        owner = storage.canonical_id(b["account"])
        acl = grants.requested(req, owner)
        if acl is None:
            raise _missing_acl()
        grants.check_allowed(t, b, acl, owner)
        b["acl"] = acl
        storage.put_bucket(t, b)
    return {}


def get_object_acl(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        v = reads.find_target(t, b, req["Key"], req.get("VersionId"), "GET")
        owner, bucket_owner = _owners(t, b, v)
    return {"Owner": {"ID": owner}, "Grants": grants.resolve(v.get("acl"), owner, bucket_owner)}


def put_object_acl(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        v = reads.find_target(t, b, req["Key"], req.get("VersionId"), "PUT")
        owner, _ = _owners(t, b, v)
        acl = grants.requested(req, owner)
        if acl is None:
            raise _missing_acl()
        grants.check_allowed(t, b, acl, owner)
        v["acl"] = acl
        storage.update_version(t, b["name"], v)
        object_event(ctx, t, b, v, "s3:ObjectAcl:Put")
    return {}


def _owners(t: Any, b: dict[str, Any], v: dict[str, Any]) -> tuple[str, str]:
    """(object owner, bucket owner) canonical ids. With ACLs disabled the bucket owner
    owns every object; with BucketOwnerPreferred, the objects written with
    ``bucket-owner-full-control``."""
    bucket_owner = storage.canonical_id(b["account"])
    mode = grants.ownership(t, b["name"])
    if mode == "BucketOwnerEnforced" or (mode == "BucketOwnerPreferred" and v.get("acl") == "bucket-owner-full-control"):
        return bucket_owner, bucket_owner
    return storage.canonical_id(v.get("owner") or b["account"]), bucket_owner


def _missing_acl() -> ServiceError:
    return ServiceError(
        "MissingSecurityHeader", "Your request was missing a required header", 400,
        fields={"MissingHeaderName": "x-amz-acl"},
    )

