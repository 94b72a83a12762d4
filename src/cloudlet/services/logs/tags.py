"""Tags of log groups: TagResource/UntagResource/ListTagsForResource (by ARN) and the older
TagLogGroup/UntagLogGroup/ListTagsLogGroup (by name). Both edit the same tags."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.logs import errors, model, storage
from cloudlet.services.logs.lookup import require_group

Params = dict[str, Any]


def _by_arn(ctx: Context, tx: Tx, arn: str) -> storage.Group:
    parsed = model.group_from_arn(arn)
    if parsed is None:
        raise errors.invalid(f"Invalid resource ARN: {arn}") if not arn.startswith("arn:") else errors.resource_not_found()
    region, account, name = parsed
    g = storage.get_group(tx, name) if (region, account) == (ctx.region, ctx.account) else None
    if g is None:
        raise errors.resource_not_found()
    return g


def _add(ctx: Context, tx: Tx, g: storage.Group, tags: dict[str, str]) -> None:
    merged = {**g.tags, **tags}
    if len(merged) > model.MAX_TAGS:
        raise errors.too_many_tags(model.group_arn(ctx.partition, ctx.region, ctx.account, g.name))
    g.tags = merged
    storage.put_group(tx, g)


def _remove(tx: Tx, g: storage.Group, keys: list[str]) -> None:
    g.tags = {k: v for k, v in g.tags.items() if k not in set(keys)}
    storage.put_group(tx, g)


def tag_resource(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        _add(ctx, tx, _by_arn(ctx, tx, params["resourceArn"]), params["tags"])
    return {}


def untag_resource(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        _remove(tx, _by_arn(ctx, tx, params["resourceArn"]), params["tagKeys"])
    return {}


def list_tags_for_resource(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        return {"tags": dict(_by_arn(ctx, tx, params["resourceArn"]).tags)}


def tag_log_group(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        _add(ctx, tx, require_group(tx, params["logGroupName"]), params["tags"])
    return {}


def untag_log_group(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        _remove(tx, require_group(tx, params["logGroupName"]), params["tags"])
    return {}


def list_tags_log_group(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        return {"tags": dict(require_group(tx, params["logGroupName"]).tags)}
