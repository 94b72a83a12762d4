"""Bucket tags (Put/Get/DeleteBucketTagging) and object tags (Put/Get/DeleteObjectTagging).

Object tags live on the version record (``tags``); changing them sends the
``s3:ObjectTagging:Put`` / ``:Delete`` events and leaves the object's data, ETag and
modification time alone, as on S3.
"""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import errors, reads, storage, tags
from cloudlet.services.s3.subresources import object_event, read_config, remove_config, require_bucket, write_config

Input = dict[str, Any]
Output = dict[str, Any]

MAX_BUCKET_TAGS = 50
# what AWS tags may hold: letters, digits, white space and _ . : / = + - @
_TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*")


def _tag_set(tagging: dict[str, Any] | None) -> dict[str, str]:
    """A TagSet as a dict, refusing a key given twice."""
    out: dict[str, str] = {}
    for tag in (tagging or {}).get("TagSet") or []:
        key, value = tag.get("Key") or "", tag.get("Value") or ""
        if key in out:
            raise ServiceError("InvalidTag", "Cannot provide multiple Tags with the same key", 400, fields={"TagKey": key})
        out[key] = value
    return out


def _check_bucket_tags(tag_set: dict[str, str]) -> None:
    if len(tag_set) > MAX_BUCKET_TAGS:
        raise ServiceError("BadRequest", f"Bucket tag count cannot be greater than {MAX_BUCKET_TAGS}", 400)
    for key, value in tag_set.items():
        if not key or len(key) > 128 or not _TAG_TEXT.fullmatch(key):
            raise ServiceError("InvalidTag", "The TagKey you have provided is invalid", 400, fields={"TagKey": key})
        if len(value) > 256 or not _TAG_TEXT.fullmatch(value):
            raise ServiceError("InvalidTag", "The TagValue you have provided is invalid", 400, fields={"TagKey": key})
        if key.lower().startswith("aws:"):
            raise ServiceError("InvalidTag", "System tags cannot be added/updated by requester", 400)


def _as_list(tag_set: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tag_set.items()]


# buckets ----------------------------------------------------------------------------------
def put_bucket_tagging(ctx: Context, req: Input) -> Output:
    tag_set = _tag_set(req.get("Tagging"))
    _check_bucket_tags(tag_set)
    return write_config(ctx, req, "tagging", {"TagSet": _as_list(tag_set)})


def get_bucket_tagging(ctx: Context, req: Input) -> Output:
    b, cfg = read_config(ctx, req, "tagging")
    if not cfg or not cfg.get("TagSet"):
        raise errors.not_configured("tagging", b["name"])
    return {"TagSet": cfg["TagSet"]}


def delete_bucket_tagging(ctx: Context, req: Input) -> Output:
    return remove_config(ctx, req, "tagging")


# objects ----------------------------------------------------------------------------------
def put_object_tagging(ctx: Context, req: Input) -> Output:
    tag_set = _tag_set(req.get("Tagging"))
    tags.check_tags(tag_set)
    return _retag(ctx, req, tag_set, "s3:ObjectTagging:Put")


def delete_object_tagging(ctx: Context, req: Input) -> Output:
    return _retag(ctx, req, {}, "s3:ObjectTagging:Delete")


def get_object_tagging(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        v = reads.find_target(t, b, req["Key"], req.get("VersionId"), "GET")
    out: Output = {"TagSet": _as_list(v.get("tags") or {})}
    if b.get("versioning"):
        out["VersionId"] = v["vid"]
    return out


def _retag(ctx: Context, req: Input, tag_set: dict[str, str], event: str) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        v = reads.find_target(t, b, req["Key"], req.get("VersionId"), "PUT" if tag_set else "DELETE")
        v["tags"] = tag_set
        storage.update_version(t, b["name"], v)
        object_event(ctx, t, b, v, event)
    out: Output = {}
    if b.get("versioning"):
        out["VersionId"] = v["vid"]
    return out

