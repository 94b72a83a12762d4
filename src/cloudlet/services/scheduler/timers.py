"""A schedule's next firing, booked with the core scheduler: one one-shot job per
schedule (keyed by account, region, group and name) that books the one after it when it
runs. Booked in the same transaction as the schedule's write, so both commit together.

The job's payload carries the schedule's revision: a job booked for a version of the
schedule that has since changed finds a different revision and does nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.scheduler import expressions

FIRE_JOB = "scheduler.fire"
UTC = dt.timezone.utc


def job_key(account: str, region: str, group: str, name: str) -> str:
    return f"scheduler.schedule/{account}/{region}/{group}/{name}"


def _utc(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, UTC)


def next_nominal(schedule: dict[str, Any], after: dt.datetime) -> dt.datetime | None:
    """When the schedule next occurs after `after`, before any flexible window."""
    expr = expressions.parse(schedule["expression"])
    tz = expressions.zone(schedule.get("timezone"))
    if expr is None or tz is None:
        return None
    anchor = _utc(schedule.get("start")) or _utc(schedule["anchor"])
    assert anchor is not None
    return expressions.next_occurrence(
        expr, tz, after, anchor=anchor, start=_utc(schedule.get("start")), end=_utc(schedule.get("end")))


def fire_time(schedule: dict[str, Any], nominal: dt.datetime) -> dt.datetime:
    flex = schedule.get("flex") or {}
    window = flex.get("MaximumWindowInMinutes") or 0 if flex.get("Mode") == "FLEXIBLE" else 0
    return nominal + dt.timedelta(seconds=expressions.flexible_offset(schedule["arn"], nominal, window))


def arm(ctx: Context, schedule: dict[str, Any], after: dt.datetime) -> dt.datetime | None:
    """Book the schedule's next occurrence after `after` (or drop its job when it is
    disabled or will not occur again); returns the nominal time booked."""
    gateway = ctx.gateway
    if gateway is None:
        return None
    key = job_key(ctx.account, ctx.region, schedule["group"], schedule["name"])
    nominal = next_nominal(schedule, after) if schedule["state"] == "ENABLED" else None
    if nominal is None:
        gateway.scheduler.cancel(key)
        return None
    payload = {"account": ctx.account, "region": ctx.region, "group": schedule["group"], "name": schedule["name"],
               "rev": schedule["rev"], "nominal": nominal.timestamp()}
    gateway.scheduler.at(key, fire_time(schedule, nominal), FIRE_JOB, payload)
    return nominal


def disarm(ctx: Context, group: str, name: str) -> None:
    if ctx.gateway is not None:
        ctx.gateway.scheduler.cancel(job_key(ctx.account, ctx.region, group, name))
