"""Scheduled rules on the scheduler: a rate rule is a periodic job (first run one period
after it is enabled), a cron rule a one-shot job that books its next run each time it
fires. One job per rule, keyed by account, region and name, armed and disarmed in the
same transaction as the rule's write, so a rule and its job commit together.

When the clock jumps, the scheduler runs each missed firing at its own time: a
``rate(1 day)`` rule moved 3 days ahead fires 3 times, each event with its own ``time``.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core import schedules as schedule
from cloudlet.services.events import matching

RATE_JOB = "events.fire_rate"
CRON_JOB = "events.fire_cron"


def job_key(account: str, region: str, name: str) -> str:
    return f"events.rule/{account}/{region}/{name}"


def arm(ctx: Context, rule: dict[str, Any]) -> None:
    """Book (or keep) the rule's job if it is enabled and scheduled, else drop it."""
    gateway = ctx.gateway
    if gateway is None:
        return
    key = job_key(ctx.account, ctx.region, rule["name"])
    expression = rule.get("schedule")
    parsed = schedule.parse(expression) if expression and rule.get("state") in matching.ENABLED else None
    payload = {"account": ctx.account, "region": ctx.region, "name": rule["name"], "expression": expression}
    if isinstance(parsed, schedule.Rate):
        gateway.scheduler.every(key, parsed.seconds, RATE_JOB, payload=payload)
    elif isinstance(parsed, schedule.Cron):
        due = parsed.next_after(clock.now())
        if due is not None:
            gateway.scheduler.at(key, due, CRON_JOB, payload)
        else:
            gateway.scheduler.cancel(key)
    else:
        gateway.scheduler.cancel(key)


def disarm(ctx: Context, name: str) -> None:
    if ctx.gateway is not None:
        ctx.gateway.scheduler.cancel(job_key(ctx.account, ctx.region, name))
