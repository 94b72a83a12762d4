"""Schedule groups: Create/Get/Delete/ListScheduleGroups. ``default`` always exists and
cannot be deleted; deleting a group deletes its schedules (and their jobs) with it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.scheduler import errors, paging, storage, timers

Input = dict[str, Any]
Output = dict[str, Any]


def _arn(ctx: Context, name: str) -> str:
    return storage.group_arn(ctx.partition, ctx.region, ctx.account, name)


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def _summary(g: dict[str, Any]) -> Output:
    return {"Arn": g["arn"], "CreationDate": _utc(g["created"]), "LastModificationDate": _utc(g["modified"]),
            "Name": g["name"], "State": "ACTIVE"}


def create_schedule_group(ctx: Context, req: Input) -> Output:
    name = req["Name"]
    now = clock.time_s()
    with ctx.tx() as tx:
        if storage.group(tx, name, _arn(ctx, name), now) is not None:
            raise errors.conflict(f"Schedule group {name} already exists.")
        value = storage.new_group(name, _arn(ctx, name), now, {t["Key"]: t["Value"] for t in req.get("Tags") or []})
        storage.put_group(tx, value)
    return {"ScheduleGroupArn": value["arn"]}


def get_schedule_group(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        found = storage.group(tx, req["Name"], _arn(ctx, req["Name"]), clock.time_s())
    if found is None:
        raise errors.group_not_found(req["Name"])
    return _summary(found)


def delete_schedule_group(ctx: Context, req: Input) -> Output:
    name = req["Name"]
    if name == storage.DEFAULT_GROUP:
        raise errors.validation("Cannot delete the default schedule group.")
    with ctx.tx() as tx:
        if storage.group(tx, name, _arn(ctx, name), clock.time_s()) is None:
            raise errors.group_not_found(name)
        for s in storage.schedules(tx, name):
            storage.delete_schedule(tx, name, s["name"])
            timers.disarm(ctx, name, s["name"])
        tx.delete(storage.GROUP, name)
    return {}


def list_schedule_groups(ctx: Context, req: Input) -> Output:
    limit = req.get("MaxResults") or paging.DEFAULT_LIMIT
    with ctx.tx() as tx:
        storage.group(tx, storage.DEFAULT_GROUP, _arn(ctx, storage.DEFAULT_GROUP), clock.time_s())
        found = storage.groups(tx, req.get("NamePrefix"), paging.after(req.get("NextToken")), limit + 1)
    out: Output = {"ScheduleGroups": [_summary(g) for g in found[:limit]]}
    if len(found) > limit:
        out["NextToken"] = paging.token(found[limit - 1]["name"])
    return out
