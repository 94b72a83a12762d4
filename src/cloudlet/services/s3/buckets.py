"""Buckets: create (S3's region rules), head, list, delete, location, versioning."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import errors, names, storage

Input = dict[str, Any]
Output = dict[str, Any]

US_EAST_1 = "us-east-1"


def create_bucket(ctx: Context, req: Input) -> Output:
    name = req["Bucket"]
    names.check_bucket_name(name)
    config = req.get("CreateBucketConfiguration") or {}
    region = _location(ctx.region, config.get("LocationConstraint"))
    with storage.tx(ctx) as t:
        existing = storage.find_bucket(t, name)
        if existing is not None:
            if existing["account"] != ctx.account:
                raise ServiceError(
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket namespace is shared by all users "
                    "of the system. Please select a different name and try again.",
                    409,
                    fields={"BucketName": name},
                )
            if existing["region"] == US_EAST_1 and ctx.region == US_EAST_1:
                return {"Location": f"/{name}"}  # S3 keeps this legacy answer in us-east-1
            raise ServiceError(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
                409,
                fields={"BucketName": name},
            )
        lock = bool(req.get("ObjectLockEnabledForBucket"))
        bucket = {
            "name": name,
            "account": ctx.account,
            "region": region,
            "created": storage.now(),
            "versioning": "Enabled" if lock else None,
            "lock": lock,
            "acl": req.get("ACL") or "private",
        }
        storage.put_bucket(t, bucket)
        ownership = req.get("ObjectOwnership") or "BucketOwnerEnforced"
        storage.put_config(t, name, "ownership", {"Rules": [{"ObjectOwnership": ownership}]})
        # new buckets block public access by default (since April 2023)
        storage.put_config(t, name, "public-access-block", {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        })
        if lock:
            storage.put_config(t, name, "object-lock", {"ObjectLockEnabled": "Enabled"})
        tags = config.get("Tags")
        if tags:
            storage.put_config(t, name, "tagging", {"TagSet": tags})
    out: Output = {"Location": f"/{name}"}
    out["BucketArn"] = f"arn:{ctx.partition}:s3:::{name}"
    return out


def _location(endpoint_region: str, constraint: str | None) -> str:
    """Where the bucket lives. S3 wants the constraint to name the endpoint's region
    (none at all in us-east-1, where "us-east-1" itself is refused)."""
    if not constraint:
        if endpoint_region != US_EAST_1:
            raise ServiceError(
                "IllegalLocationConstraintException",
                "The unspecified location constraint is incompatible for the region specific endpoint this request "
                "was sent to.",
                400,
            )
        return US_EAST_1
    if constraint == US_EAST_1:
        raise ServiceError(
            "InvalidLocationConstraint", "The specified location-constraint is not valid", 400,
            fields={"LocationConstraint": constraint},
        )
    if constraint == "EU":
        constraint = "eu-west-1"
    if constraint != endpoint_region:
        raise ServiceError(
            "IllegalLocationConstraintException",
            f"The {constraint} location constraint is incompatible for the region specific endpoint this request "
            "was sent to.",
            400,
        )
    return constraint


def head_bucket(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
    return {"BucketRegion": b["region"], "AccessPointAlias": False, "BucketArn": f"arn:{ctx.partition}:s3:::{b['name']}"}


def list_buckets(ctx: Context, req: Input) -> Output:
    prefix = req.get("Prefix") or ""
    region = req.get("BucketRegion")
    limit = req.get("MaxBuckets") or 10000
    if not 1 <= limit <= 10000:
        raise errors.invalid_argument("Argument max-buckets must be an integer between 1 and 10000", "max-buckets", str(limit))
    after = _token(req.get("ContinuationToken"))
    mine = []
    with storage.tx(ctx) as t:
        for rec in t.scan("b", prefix or None, after=after):
            b = rec.value
            if b["account"] == ctx.account and (region is None or b["region"] == region):
                mine.append(b)
                if len(mine) > limit:
                    break
    out: Output = {
        "Buckets": [
            {
                "Name": b["name"],
                "CreationDate": datetime.fromtimestamp(b["created"], timezone.utc),
                "BucketRegion": b["region"],
                "BucketArn": f"arn:{ctx.partition}:s3:::{b['name']}",
            }
            for b in mine[:limit]
        ],
        "Owner": storage.owner(ctx.account),
    }
    if prefix:
        out["Prefix"] = prefix
    if len(mine) > limit:
        out["ContinuationToken"] = base64.urlsafe_b64encode(mine[limit - 1]["name"].encode()).decode()
    return out


def _token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("The continuation token provided is incorrect", "continuation-token", token) from None


def delete_bucket(ctx: Context, req: Input) -> Output:
    name = req["Bucket"]
    with storage.tx(ctx) as t:
        storage.get_bucket(t, name)
        if not storage.is_empty(t, name):
            raise ServiceError(
                "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, fields={"BucketName": name}
            )
        t.delete("b", name)
        for rec in t.scan("cfg", name + "/"):
            t.delete("cfg", rec.key)
    return {}


def get_bucket_location(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
    return {"LocationConstraint": None if b["region"] == US_EAST_1 else b["region"]}


def put_bucket_versioning(ctx: Context, req: Input) -> Output:
    config = req.get("VersioningConfiguration") or {}
    status = config.get("Status")
    if status not in ("Enabled", "Suspended"):
        raise errors.malformed_xml()
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        if b.get("lock") and status == "Suspended":
            raise ServiceError(
                "InvalidBucketState",
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
                409,
            )
        if status == "Suspended" and storage.get_config(t, b["name"], "replication"):
            raise ServiceError(
                "InvalidRequest",
                "Versioning cannot be suspended on a bucket with a replication configuration.",
                400,
            )
        b["versioning"] = status
        if config.get("MFADelete"):
            b["mfa_delete"] = config["MFADelete"]
        storage.put_bucket(t, b)
    return {}


def get_bucket_versioning(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
    out: Output = {}
    if b.get("versioning"):
        out["Status"] = b["versioning"]
        if b.get("mfa_delete"):
            out["MFADelete"] = b["mfa_delete"]
    return out
