"""Scheduler's timed work, run by the core scheduler at its due time (``job.now`` is that
time, and so is the clock for every service the job calls):

* ``scheduler.fire``: a schedule occurs; its target is invoked, the next occurrence is
  booked, and a schedule that will not occur again and says ``ActionAfterCompletion:
  DELETE`` is deleted.
* ``scheduler.retry``: a failed invocation tried again under its retry policy.
"""

from __future__ import annotations

import datetime as dt

from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.services.scheduler import invoke, storage, timers


def register(scheduler: Scheduler) -> None:
    scheduler.register(timers.FIRE_JOB, _fire)
    scheduler.register(invoke.RETRY_JOB, _retry)


def _fire(job: Job) -> None:
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    with ctx.tx() as tx:
        found = storage.schedule(tx, p["group"], p["name"])
    if found is None or found.get("rev") != p["rev"] or found["state"] != "ENABLED":
        return  # changed since this run was booked: the change booked what it needs
    invoke.run(ctx, invoke.Invocation(ctx.account, ctx.region, found["arn"], found["target"], p["nominal"]))
    nominal = dt.datetime.fromtimestamp(p["nominal"], dt.timezone.utc)
    with ctx.tx() as tx:
        current = storage.schedule(tx, p["group"], p["name"])
        if current is None or current.get("rev") != p["rev"]:
            return
        if timers.arm(ctx, current, nominal) is None and current.get("after_completion") == "DELETE":
            storage.delete_schedule(tx, p["group"], p["name"])


def _retry(job: Job) -> None:
    inv = invoke.Invocation(**job.payload)
    invoke.run(job.context(inv.account, inv.region), inv)
