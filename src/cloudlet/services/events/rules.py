"""Rules: PutRule (an event pattern, a schedule, or both), describe, list, enable,
disable, delete, ListRuleNamesByTarget, and TestEventPattern.

PutRule replaces the rule with what the request says (omitted members are not kept,
as AWS documents) but keeps its targets and tags.
"""

from __future__ import annotations

import json
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core import schedules as schedule
from cloudlet.services.events import access, arns, errors, matching, model, paging, storage, timers

Input = dict[str, Any]
Output = dict[str, Any]

_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def put_rule(ctx: Context, req: Input) -> Output:
    name = req["Name"]
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    pattern, expression = req.get("EventPattern"), req.get("ScheduleExpression")
    if not pattern and not expression:
        raise errors.validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
    if expression:
        if bus_name != arns.DEFAULT_BUS:
            raise errors.validation("ScheduleExpression is supported only on the default event bus.")
        if schedule.parse(expression) is None:
            raise errors.invalid_schedule()
    if pattern:
        matching.check(pattern)
    now = clock.time_s()
    with ctx.tx() as tx:
        access.bus(tx, bus_name, now)
        old = storage.rule(tx, bus_name, name)
        if old is None and len(storage.rules(tx, bus_name)) >= model.MAX_RULES_PER_BUS:
            raise errors.limit_exceeded()
        rule: dict[str, Any] = {
            "name": name, "bus": bus_name, "pattern": pattern or None, "schedule": expression or None,
            "state": req.get("State") or "ENABLED", "description": req.get("Description"), "role": req.get("RoleArn"),
            "targets": old["targets"] if old else [], "tags": old["tags"] if old else model.merge_tags({}, req.get("Tags")),
            "created": old["created"] if old else now,
        }
        storage.put_rule(tx, rule)
        timers.arm(ctx, rule)
    return {"RuleArn": _arn(ctx, bus_name, name)}


def delete_rule(ctx: Context, req: Input) -> Output:
    """A rule that does not exist is deleted already (AWS answers 200); one with targets
    is refused until they are removed."""
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    with ctx.tx() as tx:
        rule = storage.rule(tx, bus_name, req["Name"])
        if rule is None:
            return {}
        if rule["targets"]:
            raise errors.validation("Rule can't be deleted since it has targets.")
        storage.delete_rule(tx, bus_name, req["Name"])
        timers.disarm(ctx, req["Name"])
    return {}


def describe_rule(ctx: Context, req: Input) -> Output:
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    with ctx.tx() as tx:
        rule = access.rule(tx, bus_name, req["Name"])
    return {**_view(ctx, rule), "CreatedBy": ctx.account}


def list_rules(ctx: Context, req: Input) -> Output:
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    with ctx.tx() as tx:
        access.bus(tx, bus_name, clock.time_s())
        found = storage.rules(tx, bus_name, req.get("NamePrefix") or "")
    chosen, token = paging.page(found, lambda r: r["name"], req.get("Limit"), req.get("NextToken"))
    out: Output = {"Rules": [_view(ctx, r) for r in chosen]}
    if token:
        out["NextToken"] = token
    return out


def enable_rule(ctx: Context, req: Input) -> Output:
    return _set_state(ctx, req, "ENABLED")


def disable_rule(ctx: Context, req: Input) -> Output:
    return _set_state(ctx, req, "DISABLED")


def list_rule_names_by_target(ctx: Context, req: Input) -> Output:
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    with ctx.tx() as tx:
        access.bus(tx, bus_name, clock.time_s())
        names = sorted(r["name"] for r in storage.rules_targeting(tx, req["TargetArn"]) if r["bus"] == bus_name)
    chosen, token = paging.page(names, lambda n: n, req.get("Limit"), req.get("NextToken"))
    out: Output = {"RuleNames": chosen}
    if token:
        out["NextToken"] = token
    return out


def test_event_pattern(ctx: Context, req: Input) -> Output:
    """The pattern is checked first (InvalidEventPatternException), then the event, which
    must be a JSON object with AWS's envelope members (ValidationException)."""
    matching.check(req["EventPattern"])
    try:
        event = json.loads(req["Event"])
    except ValueError:
        raise errors.bad_parameter("Event") from None
    if not isinstance(event, dict) or any(f not in event for f in _EVENT_FIELDS):
        raise errors.bad_parameter("Event")
    return {"Result": matching.matches(req["EventPattern"], event)}


# -- helpers -----------------------------------------------------------------------------------


def _set_state(ctx: Context, req: Input, state: str) -> Output:
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    with ctx.tx() as tx:
        rule = access.rule(tx, bus_name, req["Name"])
        rule["state"] = state
        storage.put_rule(tx, rule)
        timers.arm(ctx, rule)
    return {}


def _arn(ctx: Context, bus_name: str, name: str) -> str:
    return arns.rule_arn(ctx.partition, ctx.region, ctx.account, bus_name, name)


def _view(ctx: Context, rule: dict[str, Any]) -> Output:
    out: Output = {"Name": rule["name"], "Arn": _arn(ctx, rule["bus"], rule["name"])}
    if rule.get("pattern"):
        out["EventPattern"] = rule["pattern"]
    if rule.get("schedule"):
        out["ScheduleExpression"] = rule["schedule"]
    out["State"] = rule["state"]
    if rule.get("description"):
        out["Description"] = rule["description"]
    if rule.get("role"):
        out["RoleArn"] = rule["role"]
    out["EventBusName"] = rule["bus"]
    return out
