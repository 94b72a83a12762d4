"""AddTagsToResource, RemoveTagsFromResource, ListTagsForResource, for parameters.

Tags live in the parameter's record, so they go with it when it is deleted. The other
taggable SSM resources (documents, maintenance windows, ...) are not implemented yet,
and tagging them says so rather than pretending.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.ssm import errors, model, records

Input = dict[str, Any]
Output = dict[str, Any]


def _parameter(ctx: Context, tx: Tx, req: Input) -> records.Record:
    kind = req["ResourceType"]
    if kind not in model.TAG_RESOURCE_TYPES:
        raise errors.enum(kind, "resourceType", model.TAG_RESOURCE_TYPES)
    if kind != "Parameter":
        raise errors.not_implemented(f"ssm:{ctx.operation} for ResourceType {kind}")
    record, ref = records.locate(ctx, tx, req["ResourceId"])
    if record is None or ref.selector is not None:
        raise errors.invalid_resource_id()
    return record


def add_tags_to_resource(ctx: Context, req: Input) -> Output:
    """Adds tags, replacing the value of a key already there."""
    with ctx.tx() as tx:
        record = _parameter(ctx, tx, req)
        tags = {**record["tags"], **{t["Key"]: t["Value"] for t in req["Tags"]}}
        if len(tags) > model.MAX_TAGS:
            raise errors.too_many_tags()
        record["tags"] = tags
        records.put(tx, record)
    return {}


def remove_tags_from_resource(ctx: Context, req: Input) -> Output:
    """Keys the parameter does not have are ignored, as AWS ignores them."""
    with ctx.tx() as tx:
        record = _parameter(ctx, tx, req)
        drop = set(req["TagKeys"])
        if drop & set(record["tags"]):
            record["tags"] = {k: v for k, v in record["tags"].items() if k not in drop}
            records.put(tx, record)
    return {}


def list_tags_for_resource(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        record = _parameter(ctx, tx, req)
    return {"TagList": [{"Key": k, "Value": v} for k, v in sorted(record["tags"].items())]}
