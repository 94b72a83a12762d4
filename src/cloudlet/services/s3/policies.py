"""Bucket policies: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus.

Stored (checked by ``policydoc``) for the IAM engine to enforce; Block Public Access's
``BlockPublicPolicy`` already refuses a public policy here, as S3 does.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import policydoc, storage
from cloudlet.services.s3.subresources import remove_config, require_bucket, require_config

Input = dict[str, Any]
Output = dict[str, Any]


def put_bucket_policy(ctx: Context, req: Input) -> Output:
    bucket = req["Bucket"]
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        doc = policydoc.parse(req.get("Policy") or "", bucket, ctx.partition)
        public = policydoc.is_public(doc)
        text = policydoc.normalized(doc, ctx.partition)
        block = storage.get_config(t, bucket, "public-access-block") or {}
        if public and block.get("BlockPublicPolicy"):
            raise ServiceError(
                "AccessDenied",
                f"User: {ctx.principal_arn} is not authorized to perform: s3:PutBucketPolicy on resource: "
                f'"arn:{ctx.partition}:s3:::{b["name"]}" because public policies are blocked by the '
                "BlockPublicPolicy block public access setting.",
                403,
            )
        storage.put_config(t, bucket, "policy", {"Policy": text, "public": public})
    return {}


def get_bucket_policy(ctx: Context, req: Input) -> Output:
    return {"Policy": require_config(ctx, req, "policy")["Policy"]}


def get_bucket_policy_status(ctx: Context, req: Input) -> Output:
    return {"PolicyStatus": {"IsPublic": bool(require_config(ctx, req, "policy")["public"])}}


def delete_bucket_policy(ctx: Context, req: Input) -> Output:
    return remove_config(ctx, req, "policy")
