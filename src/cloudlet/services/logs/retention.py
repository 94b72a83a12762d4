"""Retention: events older than a group's retention stop being visible at once (readers
skip them, see ``model.retention_cutoff``) and are deleted by a daily sweep.

One scheduler job per group with a retention policy (``logs.retention/<account>/<region>/<gid>``),
put in the transaction that sets the policy, so it survives restarts and goes with a
reset. It runs at every midnight UTC and declares catch-up: a 400-day clock jump runs it
once, which is all a sweep needs (deleting "older than the cutoff" at the last midnight
deletes what every missed run would have). It ends itself when the group or its policy
is gone.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.logs import model, storage

if TYPE_CHECKING:
    from cloudlet.core.scheduler import Job, Scheduler

JOB = "logs.retention"
DAY_S = 86_400


def register(scheduler: "Scheduler") -> None:
    scheduler.register(JOB, run)


def job_key(account: str, region: str, g: storage.Group) -> str:
    return f"{JOB}/{account}/{region}/{g.id}"


def schedule(ctx: Context, tx: Tx, g: storage.Group) -> None:
    """Sweep the group every midnight (call inside the transaction that sets the policy;
    a schedule already there is kept)."""
    if ctx.gateway is None:
        raise RuntimeError("retention needs the gateway's scheduler")
    now = ctx.gateway.scheduler.clock.time_s()
    ctx.gateway.scheduler.every(
        job_key(tx.account, tx.region, g), DAY_S, JOB, first=(math.floor(now / DAY_S) + 1) * DAY_S,
        catch_up=True, payload={"account": tx.account, "region": tx.region, "group": g.name, "id": g.id},
    )


def unschedule(ctx: Context, tx: Tx, g: storage.Group) -> None:
    if ctx.gateway is not None:
        ctx.gateway.scheduler.cancel(job_key(tx.account, tx.region, g))


def run(job: "Job") -> None:
    p = job.payload
    now = int(job.now_s * 1000)
    live = True
    after: str | None = None
    while True:
        with job.tx(p["account"], p["region"]) as tx:
            g = storage.get_group(tx, p["group"])
            if g is None or g.id != p["id"] or not g.retention:
                live = False
                break
            cutoff = model.retention_cutoff(g.retention, now)
            batch = storage.streams(tx, g, after=after, limit=100)
            removed = 0
            for s in batch:
                after = s.name
                if s.first is not None and s.first >= cutoff:
                    continue
                removed += storage.delete_events_before(tx, s, cutoff)
                s.first = storage.first_event(tx, s)  # None once all have expired; `last` stays
                storage.put_stream(tx, g, s)
            if removed:
                g.stored = max(0, g.stored - removed)
                storage.put_group(tx, g)
        if len(batch) < 100:
            break
    if not live:
        job.gateway.scheduler.cancel(job.key)
