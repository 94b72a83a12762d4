"""Tags on schedule groups (the only taggable Scheduler resource), by ARN."""

from __future__ import annotations

from typing import Any, Callable

from cloudlet.core import clock
from cloudlet.core.arns import parse_arn
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.scheduler import errors, storage

Input = dict[str, Any]
Output = dict[str, Any]


def tag_resource(ctx: Context, req: Input) -> Output:
    new = {t["Key"]: t["Value"] for t in req["Tags"]}
    _edit(ctx, req["ResourceArn"], lambda tags: {**tags, **new})
    return {}


def untag_resource(ctx: Context, req: Input) -> Output:
    gone = set(req["TagKeys"])
    _edit(ctx, req["ResourceArn"], lambda tags: {k: v for k, v in tags.items() if k not in gone})
    return {}


def list_tags_for_resource(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        found = _find(ctx, tx, req["ResourceArn"])
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(found.get("tags", {}).items())]}


def _edit(ctx: Context, arn: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
    with ctx.tx() as tx:
        found = _find(ctx, tx, arn)
        found["tags"] = change(found.get("tags") or {})
        storage.put_group(tx, found)


def _find(ctx: Context, tx: Tx, arn: str) -> dict[str, Any]:
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "scheduler" or parsed.kind != "schedule-group" or not parsed.rest:
        raise errors.validation(f"Invalid ARN {arn}.")
    found = None
    if parsed.account == ctx.account and parsed.region == ctx.region:
        found = storage.group(tx, parsed.rest, arn, clock.time_s())
    if found is None:
        raise errors.group_not_found(parsed.rest)
    return found
