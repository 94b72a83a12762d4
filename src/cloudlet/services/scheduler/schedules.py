"""Schedules: Create/Get/Update/Delete/ListSchedules. A write validates the expression,
zone and target, stores the schedule with a new revision and books its next occurrence
in the same transaction (``timers``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from cloudlet.core import clock
from cloudlet.core.arns import parse_arn
from cloudlet.core.context import Context
from cloudlet.services.scheduler import errors, expressions, invoke, paging, storage, timers

Input = dict[str, Any]
Output = dict[str, Any]
UTC = dt.timezone.utc


def _utc(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, UTC)


def _group_name(req: Input) -> str:
    return req.get("GroupName") or storage.DEFAULT_GROUP


def _validate(req: Input) -> None:
    expression = req["ScheduleExpression"]
    if expressions.parse(expression) is None:
        raise errors.bad_expression(expression)
    if expressions.zone(req.get("ScheduleExpressionTimezone")) is None:
        raise errors.bad_timezone(req["ScheduleExpressionTimezone"])
    start, end = req.get("StartDate"), req.get("EndDate")
    if start is not None and end is not None and end <= start:
        raise errors.validation("The EndDate must be after the StartDate.")
    flex = req["FlexibleTimeWindow"]
    if flex["Mode"] == "FLEXIBLE" and not flex.get("MaximumWindowInMinutes"):
        raise errors.validation("MaximumWindowInMinutes is required when Mode is FLEXIBLE.")
    if flex["Mode"] == "OFF" and flex.get("MaximumWindowInMinutes"):
        raise errors.validation("MaximumWindowInMinutes must not be set when Mode is OFF.")
    arn = req["Target"]["Arn"]
    sdk = invoke.universal(arn)
    if sdk is not None:
        if not invoke.operation_exists(*sdk):
            raise errors.validation(f"Invalid target {arn}.")
    elif parse_arn(arn) is None or parse_arn(arn).service == "scheduler":  # type: ignore[union-attr]
        raise errors.validation(f"Invalid target {arn}.")


def _record(ctx: Context, req: Input, now: float, created: float) -> dict[str, Any]:
    group, name = _group_name(req), req["Name"]
    start, end = req.get("StartDate"), req.get("EndDate")
    return {
        "name": name, "group": group, "arn": storage.schedule_arn(ctx.partition, ctx.region, ctx.account, group, name),
        "expression": req["ScheduleExpression"], "timezone": req.get("ScheduleExpressionTimezone"),
        "start": start.timestamp() if start else None, "end": end.timestamp() if end else None,
        "state": req.get("State") or "ENABLED", "flex": dict(req["FlexibleTimeWindow"]), "target": req["Target"],
        "description": req.get("Description"), "kms": req.get("KmsKeyArn"),
        "after_completion": req.get("ActionAfterCompletion") or "NONE",
        "created": created, "modified": now, "anchor": now, "rev": uuid.uuid4().hex,
    }


def _write(ctx: Context, req: Input, *, create: bool) -> Output:
    _validate(req)
    group, name = _group_name(req), req["Name"]
    now = clock.time_s()
    with ctx.tx() as tx:
        if storage.group(tx, group, storage.group_arn(ctx.partition, ctx.region, ctx.account, group), now) is None:
            raise errors.group_not_found(group)
        old = storage.schedule(tx, group, name)
        if create and old is not None:
            raise errors.conflict(f"Schedule {name} already exists.")
        if not create and old is None:
            raise errors.schedule_not_found(name)
        value = _record(ctx, req, now, old["created"] if old else now)
        storage.put_schedule(tx, value)
        timers.arm(ctx, value, _utc(now - 1e-6) or clock.now())
    return {"ScheduleArn": value["arn"]}


def create_schedule(ctx: Context, req: Input) -> Output:
    return _write(ctx, req, create=True)


def update_schedule(ctx: Context, req: Input) -> Output:
    """AWS replaces the whole definition: what the request leaves out goes back to its default."""
    return _write(ctx, req, create=False)


def get_schedule(ctx: Context, req: Input) -> Output:
    group, name = _group_name(req), req["Name"]
    with ctx.tx() as tx:
        found = storage.schedule(tx, group, name)
    if found is None:
        raise errors.schedule_not_found(name)
    out: Output = {
        "ActionAfterCompletion": found["after_completion"], "Arn": found["arn"], "CreationDate": _utc(found["created"]),
        "FlexibleTimeWindow": found["flex"], "GroupName": found["group"],
        "LastModificationDate": _utc(found["modified"]), "Name": found["name"],
        "ScheduleExpression": found["expression"], "State": found["state"], "Target": found["target"],
    }
    optional = {"Description": found.get("description"), "KmsKeyArn": found.get("kms"),
                "ScheduleExpressionTimezone": found.get("timezone"), "StartDate": _utc(found.get("start")),
                "EndDate": _utc(found.get("end"))}
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def delete_schedule(ctx: Context, req: Input) -> Output:
    group, name = _group_name(req), req["Name"]
    with ctx.tx() as tx:
        if not storage.delete_schedule(tx, group, name):
            raise errors.schedule_not_found(name)
        timers.disarm(ctx, group, name)
    return {}


def list_schedules(ctx: Context, req: Input) -> Output:
    group = req.get("GroupName")
    prefix, state = req.get("NamePrefix") or "", req.get("State")
    limit = req.get("MaxResults") or paging.DEFAULT_LIMIT
    after = paging.after(req.get("NextToken"))
    with ctx.tx() as tx:
        if group and storage.group(tx, group, storage.group_arn(ctx.partition, ctx.region, ctx.account, group),
                                   clock.time_s()) is None:
            raise errors.group_not_found(group)
        found = [s for s in storage.schedules(tx, group)
                 if s["name"].startswith(prefix) and (state is None or s["state"] == state)
                 and (after is None or storage.schedule_key(s["group"], s["name"]) > after)]
    chosen = found[:limit]
    out: Output = {"Schedules": [{
        "Arn": s["arn"], "CreationDate": _utc(s["created"]), "GroupName": s["group"],
        "LastModificationDate": _utc(s["modified"]), "Name": s["name"], "State": s["state"],
        "Target": {"Arn": s["target"]["Arn"]}} for s in chosen]}
    if len(found) > limit:
        out["NextToken"] = paging.token(storage.schedule_key(chosen[-1]["group"], chosen[-1]["name"]))
    return out
