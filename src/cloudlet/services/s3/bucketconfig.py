"""Bucket configurations kept whole: public access block, ownership controls, logging,
request payment, transfer acceleration, default encryption, CORS and website.

Each is one ``cfg`` record (``storage.put_config``) in the shape its Put operation
parsed, read, written and deleted through ``subresources``; what checks them lives with
what uses them (``cors``, ``website``, ``grants``).
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import cors, errors, grants, storage, website
from cloudlet.services.s3.subresources import read_config, remove_config, require_bucket, require_config, write_config

Input = dict[str, Any]
Output = dict[str, Any]

#: what GetBucketEncryption answers for a bucket without its own rule: every bucket is
#: encrypted with SSE-S3 by default (since January 2023)
DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_OWNERSHIP = ("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced")


# public access block ----------------------------------------------------------------------
def put_public_access_block(ctx: Context, req: Input) -> Output:
    given = req.get("PublicAccessBlockConfiguration") or {}
    return write_config(ctx, req, "public-access-block", {flag: bool(given.get(flag)) for flag in _PAB_FLAGS})


def get_public_access_block(ctx: Context, req: Input) -> Output:
    return {"PublicAccessBlockConfiguration": require_config(ctx, req, "public-access-block")}


def delete_public_access_block(ctx: Context, req: Input) -> Output:
    return remove_config(ctx, req, "public-access-block")


# ownership controls -------------------------------------------------------------------------
def put_bucket_ownership_controls(ctx: Context, req: Input) -> Output:
    rules = (req.get("OwnershipControls") or {}).get("Rules") or []
    if len(rules) != 1 or rules[0].get("ObjectOwnership") not in _OWNERSHIP:
        raise errors.malformed_xml()
    mode = rules[0]["ObjectOwnership"]
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        if mode == "BucketOwnerEnforced":
            owner = storage.canonical_id(b["account"])
            current = grants.resolve(b.get("acl"), owner)
            if any(g != grants.user(owner, "FULL_CONTROL") for g in current):
                raise ServiceError(
                    "InvalidBucketAclWithObjectOwnership",
                    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", 400,
                )
        storage.put_config(t, b["name"], "ownership", {"Rules": [{"ObjectOwnership": mode}]})
    return {}


def get_bucket_ownership_controls(ctx: Context, req: Input) -> Output:
    return {"OwnershipControls": require_config(ctx, req, "ownership")}


def delete_bucket_ownership_controls(ctx: Context, req: Input) -> Output:
    return remove_config(ctx, req, "ownership")


# logging ----------------------------------------------------------------------------------
def put_bucket_logging(ctx: Context, req: Input) -> Output:
    enabled = (req.get("BucketLoggingStatus") or {}).get("LoggingEnabled")
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        if enabled is None:  # an empty BucketLoggingStatus turns logging off
            storage.delete_config(t, b["name"], "logging")
            return {}
        target = enabled["TargetBucket"]
        tb = storage.find_bucket(t, target)
        if tb is None:
            raise ServiceError("InvalidTargetBucketForLogging", "The target bucket for logging does not exist", 400,
                               fields={"TargetBucket": target})
        if tb["account"] != b["account"]:
            raise ServiceError(
                "InvalidTargetBucketForLogging",
                "The owner for the bucket to be logged and the target bucket must be the same.", 400,
                fields={"TargetBucket": target},
            )
        if tb["region"] != b["region"]:
            raise ServiceError("CrossLocationLoggingProhibitted", "Cross S3 location logging not allowed. ", 403,
                               fields={"TargetBucketLocation": tb["region"], "SourceBucketLocation": b["region"]})
        storage.put_config(t, b["name"], "logging", {"LoggingEnabled": enabled})
    return {}


def get_bucket_logging(ctx: Context, req: Input) -> Output:
    _b, value = read_config(ctx, req, "logging")
    return dict(value) if value else {}


# request payment --------------------------------------------------------------------------
def put_bucket_request_payment(ctx: Context, req: Input) -> Output:
    payer = (req.get("RequestPaymentConfiguration") or {}).get("Payer")
    if payer not in ("Requester", "BucketOwner"):
        raise errors.malformed_xml()
    return write_config(ctx, req, "request-payment", {"Payer": payer})


def get_bucket_request_payment(ctx: Context, req: Input) -> Output:
    _b, value = read_config(ctx, req, "request-payment")
    return {"Payer": (value or {}).get("Payer", "BucketOwner")}


# transfer acceleration --------------------------------------------------------------------
def put_bucket_accelerate_configuration(ctx: Context, req: Input) -> Output:
    status = (req.get("AccelerateConfiguration") or {}).get("Status")
    if status not in ("Enabled", "Suspended"):
        raise errors.malformed_xml()
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        if "." in b["name"]:
            raise errors.invalid_request(
                "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"
            )
        storage.put_config(t, b["name"], "accelerate", {"Status": status})
    return {}


def get_bucket_accelerate_configuration(ctx: Context, req: Input) -> Output:
    _b, value = read_config(ctx, req, "accelerate")
    return dict(value) if value else {}  # never configured: no Status at all


# default encryption -----------------------------------------------------------------------
def put_bucket_encryption(ctx: Context, req: Input) -> Output:
    rules = (req.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    if not rules:
        raise errors.malformed_xml()
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault")
        if default is None:
            continue
        algorithm = default.get("SSEAlgorithm")
        if algorithm not in _ALGORITHMS:
            raise errors.malformed_xml()
        if default.get("KMSMasterKeyID") and algorithm == "AES256":
            raise errors.invalid_argument(
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                "ApplyServerSideEncryptionByDefault",
            )
    return write_config(ctx, req, "encryption", {"Rules": rules})


def get_bucket_encryption(ctx: Context, req: Input) -> Output:
    _b, value = read_config(ctx, req, "encryption")
    return {"ServerSideEncryptionConfiguration": value or DEFAULT_ENCRYPTION}


def delete_bucket_encryption(ctx: Context, req: Input) -> Output:
    return remove_config(ctx, req, "encryption")  # back to the SSE-S3 default


# CORS -------------------------------------------------------------------------------------
def put_bucket_cors(ctx: Context, req: Input) -> Output:
    return write_config(ctx, req, "cors", {"CORSRules": cors.validate(req.get("CORSConfiguration") or {})})


def get_bucket_cors(ctx: Context, req: Input) -> Output:
    return {"CORSRules": require_config(ctx, req, "cors")["CORSRules"]}


def delete_bucket_cors(ctx: Context, req: Input) -> Output:
    return remove_config(ctx, req, "cors")


# website ----------------------------------------------------------------------------------
def put_bucket_website(ctx: Context, req: Input) -> Output:
    cfg = req.get("WebsiteConfiguration") or {}
    website.validate(cfg)
    return write_config(ctx, req, "website", cfg)


def get_bucket_website(ctx: Context, req: Input) -> Output:
    return dict(require_config(ctx, req, "website"))


def delete_bucket_website(ctx: Context, req: Input) -> Output:
    return remove_config(ctx, req, "website")
