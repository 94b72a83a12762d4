"""Tags on rules and event buses (the taggable EventBridge resources), by ARN."""

from __future__ import annotations

from typing import Any, Callable

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.events import arns, errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]


def tag_resource(ctx: Context, req: Input) -> Output:
    _edit(ctx, req["ResourceARN"], lambda tags: model.merge_tags(tags, req["Tags"]))
    return {}


def untag_resource(ctx: Context, req: Input) -> Output:
    gone = set(req["TagKeys"])
    _edit(ctx, req["ResourceARN"], lambda tags: {k: v for k, v in tags.items() if k not in gone})
    return {}


def list_tags_for_resource(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        found = _find(ctx, tx, req["ResourceARN"])
    return {"Tags": model.tags_out(found[1]["tags"])}


def _edit(ctx: Context, arn: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
    with ctx.tx() as tx:
        kind, value = _find(ctx, tx, arn)
        value["tags"] = change(value.get("tags") or {})
        if kind == storage.RULE:
            storage.put_rule(tx, value)
        else:
            storage.put_bus(tx, value)


def _find(ctx: Context, tx: Tx, arn: str) -> tuple[str, dict[str, Any]]:
    parsed = arns.parse(arn)
    if parsed is None or parsed.service != "events" or parsed.account != ctx.account or parsed.region != ctx.region:
        raise errors.not_found(f"Resource {arn} not found.") if parsed else errors.bad_parameter("ResourceARN")
    if parsed.kind == "rule":
        found = arns.rule_of(arn)
        assert found is not None
        rule = storage.rule(tx, found[2], found[3])
        if rule is None:
            raise errors.rule_not_found(found[3], found[2])
        return storage.RULE, rule
    if parsed.kind == "event-bus":
        bus = storage.bus(tx, parsed.rest, clock.time_s())
        if bus is None:
            raise errors.bus_not_found(parsed.rest)
        return storage.BUS, bus
    raise errors.not_found(f"Resource {arn} not found.")
