"""EventBridge's timed work, run by the scheduler at its due time (``job.now`` is that
time, and so is the clock for everything the job calls):

* ``events.fire_rate`` / ``events.fire_cron``: a scheduled rule fires, its targets get a
  "Scheduled Event" stamped with the firing time; a cron rule books its next firing.
* ``events.deliver``: a delivery retried by the retry policy, or made to an API
  destination (HTTP happens here, never on the request path).
* ``events.replay``: a replay sends its archive's events back to the bus.
* ``events.authorize``: an OAuth connection fetches its token.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import schedules as schedule
from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.services.events import (
    archiving, arns, connections, delivery, envelope, http, matching, replays, routing, storage, timers,
)
from cloudlet.services.events.delivery import Delivery


def register(scheduler: Scheduler) -> None:
    scheduler.register(timers.RATE_JOB, _fire)
    scheduler.register(timers.CRON_JOB, _fire)
    scheduler.register(delivery.DELIVER_JOB, _deliver)
    scheduler.register(replays.REPLAY_JOB, _replay)
    scheduler.register(connections.AUTHORIZE_JOB, _authorize)


def _fire(job: Job) -> None:
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    with ctx.tx() as tx:
        rule = storage.rule(tx, arns.DEFAULT_BUS, p["name"])
    if rule is None or rule.get("schedule") != p["expression"] or rule.get("state") not in matching.ENABLED:
        return  # changed since this run was booked: PutRule/EnableRule booked what it needs
    rule_arn = arns.rule_arn(ctx.partition, ctx.region, ctx.account, arns.DEFAULT_BUS, rule["name"])
    event = envelope.scheduled(rule_arn, ctx.account, ctx.region, job.now)
    found = [Delivery(ctx.account, ctx.region, rule_arn, rule["name"], t, event, job.now_s) for t in rule["targets"]]
    routing.deliver_all(ctx, found, in_job=True)
    if job.fn == timers.CRON_JOB:
        parsed = schedule.parse(p["expression"])
        nxt = parsed.next_after(job.now) if isinstance(parsed, schedule.Cron) else None
        if nxt is not None:
            job.gateway.scheduler.at(job.key, nxt, timers.CRON_JOB, p)


def _deliver(job: Job) -> None:
    d = Delivery(**job.payload)
    ctx = delivery.owner_context(job.context(d.account, d.region), d.account, d.region)
    failure = delivery.attempt(ctx, d)
    if failure is not None:
        delivery.failed(ctx, d, failure)


def _replay(job: Job) -> None:
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    with ctx.tx() as tx:
        replay = storage.get(tx, storage.REPLAY, p["name"])
        if replay is None or replay["state"] not in ("STARTING", "CANCELLING"):
            return
        if replay["state"] == "CANCELLING":
            _finish(tx, replay, "CANCELLED", job.now_s)
            return
        archive = storage.get(tx, storage.ARCHIVE, replay["archive_name"])
        found: list[dict[str, Any]] = []
        if archive is not None:
            if archiving.purge(tx, archive, job.now_s):
                storage.put_archive(tx, archive)
            found = list(archiving.between(tx, archive["name"], replay["start"], replay["end"]))
        replay["state"] = "RUNNING"
        tx.put(storage.REPLAY, replay["name"], replay)
    dest = arns.parse(replay["destination"]["Arn"])
    assert dest is not None
    events = [{**f["event"], "replay-name": replay["name"]} for f in found]
    filters = replay["destination"].get("FilterArns")
    out = routing.arrive(ctx, arns.BusRef(dest.account, dest.region, dest.rest), events, archive=False,
                         only_rules=frozenset(filters) if filters else None)
    routing.deliver_all(ctx, out or [], in_job=True)
    with ctx.tx() as tx:
        current = storage.get(tx, storage.REPLAY, replay["name"])
        if current is not None:
            if found:
                current["last"] = found[-1]["at"]
            _finish(tx, current, "CANCELLED" if current["state"] == "CANCELLING" else "COMPLETED", job.now_s)


def _finish(tx: Any, replay: dict[str, Any], state: str, now: float) -> None:
    replay["state"] = state
    replay["ended"] = now
    tx.put(storage.REPLAY, replay["name"], replay)


def _authorize(job: Job) -> None:
    p = job.payload
    http.authorize(job.context(p["account"], p["region"]), p["name"])
