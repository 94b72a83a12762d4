"""The lifecycle run: once a day at 00:00 UTC, per bucket, S3 does what its rules say is due.

One scheduler job per bucket with a configuration (``s3.lifecycle/<bucket>``), put in the
transaction that stores the configuration, so it survives restarts; it ends itself once the
bucket or its configuration is gone.

Clock jumps: the job declares catch-up, so a 400-day jump runs it once, at the last missed
midnight, with ``job.runs`` telling how many midnights it covers. It then replays those days
key by key: a key's lifecycle depends on nothing but its own versions, so for each key it
applies what is due at the first missed midnight, asks ``lifecycle.next_due`` when anything
is next due, and steps there, until past the last one. Each action happens as of its own day
(a delete marker dated that midnight, a noncurrent version counted from it, one action per
version per day), as daily runs would have done, at the cost of the days something happens
instead of every day times every object. The one thing a jump cannot replay is a key changed
during it (by another job): its replay starts at the first midnight after its newest
version, so such a key's earlier actions come late rather than against versions that did not
exist yet. Notifications carry the run's time, not each replayed day's.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from cloudlet.core.context import Context
from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.core.store import Key, Tx
from cloudlet.services.s3 import effects, lifecycle, multipart, storage
from cloudlet.services.s3.lifecycle import ADD_MARKER, DELETE, REMOVE_MARKER, TRANSITION, Action
from cloudlet.services.s3.storage import Version

JOB = "s3.lifecycle"
DAY = lifecycle.DAY
CONFIG = "lifecycle"
BATCH = 500  # version (or upload) records read per transaction
#: sorts after every inverted-sequence suffix (lower-case hex): skips all versions of a key
_PAST_VERSIONS = "\0\x7f"
#: deletions before transitions before markers: a marker in a suspended bucket replaces the
#: "null" version, which a deletion of the same day may name
_ORDER = {DELETE: 0, REMOVE_MARKER: 0, TRANSITION: 1, ADD_MARKER: 2}


def register(scheduler: Scheduler) -> None:
    scheduler.register(JOB, run)


def job_key(bucket: str) -> str:
    return f"{JOB}/{bucket}"


def next_midnight(now: float) -> float:
    """The first daily run strictly after `now`."""
    return (math.floor(now / DAY) + 1) * DAY


def schedule(ctx: Context, bucket: str) -> None:
    """Run the bucket's lifecycle every midnight from the next one; a schedule already there
    is kept (putting a configuration again does not move it). Call inside the transaction
    that stores the configuration."""
    _scheduler(ctx).every(
        job_key(bucket), DAY, JOB, first=next_midnight(storage.now()), catch_up=True, payload={"bucket": bucket}
    )


def unschedule(ctx: Context, bucket: str) -> None:
    _scheduler(ctx).cancel(job_key(bucket))


def _scheduler(ctx: Context) -> Scheduler:
    if ctx.gateway is None:
        raise RuntimeError("lifecycle needs the gateway's scheduler")
    return ctx.gateway.scheduler


def run(job: Job) -> None:
    bucket = job.payload["bucket"]
    end = job.now_s
    start = end - (job.runs - 1) * (job.period or DAY)
    with job.gateway.db(storage.SERVICE).tx("", "") as t:
        b = storage.find_bucket(t, bucket)
        cfg = storage.get_config(t, bucket, CONFIG) if b is not None else None
    if b is None or not cfg:
        job.gateway.scheduler.cancel(job.key)
        return
    ctx = job.context(b["account"], b["region"])
    rules = cfg.get("Rules") or []
    policy = cfg.get("TransitionDefaultMinimumObjectSize") or lifecycle.ALL_128K
    _settle_versions(ctx, bucket, rules, policy, start, end)
    _abort_uploads(ctx, bucket, rules, end)


# versions -------------------------------------------------------------------------------
def _settle_versions(ctx: Context, bucket: str, rules: list[Any], policy: str, start: float, end: float) -> None:
    """Every key of the bucket, a batch of version records per transaction."""
    cursor: str | None = None
    while True:
        with storage.tx(ctx) as t:
            b = storage.find_bucket(t, bucket)
            if b is None:
                return
            recs = t.scan("v", bucket + "/", after=cursor, limit=BATCH)
            if not recs:
                return
            groups = _by_key([r.value for r in recs])
            full = len(recs) == BATCH
            for i, (key, versions) in enumerate(groups):
                if full and i == len(groups) - 1:  # the batch may have cut this key's versions short
                    versions = storage.versions(t, bucket, key)
                _settle_key(ctx, t, b, rules, policy, versions, start, end)
            cursor = f"{bucket}/{groups[-1][0]}{_PAST_VERSIONS}"
        if not full:
            return


def _by_key(versions: list[Version]) -> list[tuple[str, list[Version]]]:
    groups: list[tuple[str, list[Version]]] = []
    for v in versions:
        if groups and groups[-1][0] == v["key"]:
            groups[-1][1].append(v)
        else:
            groups.append((v["key"], [v]))
    return groups


def _settle_key(
    ctx: Context, t: Tx, b: dict[str, Any], rules: Sequence[Any], policy: str, versions: list[Version],
    start: float, end: float,
) -> None:
    """Replay the midnights from `start` to `end` on one key, stepping to the days something
    is due (see the module docstring)."""
    at = max(start, lifecycle.round_up(max(v["mtime"] for v in versions)))
    while versions and at <= end:
        actions = lifecycle.due(rules, versions, at, b.get("versioning"), transition_minimum=policy)
        if actions:
            for action in sorted(actions, key=lambda a: _ORDER[a.kind]):
                _apply(ctx, t, b, action, versions, at)
            versions = storage.versions(t, b["name"], versions[0]["key"])
        nxt = lifecycle.next_due(rules, versions, at, transition_minimum=policy)
        if nxt is None:
            return
        at = nxt


def _apply(ctx: Context, t: Tx, b: dict[str, Any], a: Action, versions: list[Version], at: float) -> None:
    v = next((x for x in versions if x["vid"] == a.vid), None)
    if v is None:
        return
    bucket = b["name"]
    if a.kind in (DELETE, REMOVE_MARKER):
        storage.delete_version(t, bucket, v)
        effects.lifecycle_event(ctx, t, b, v, "s3:LifecycleExpiration:Delete")
    elif a.kind == ADD_MARKER:
        if v is not versions[0] or v.get("dm"):  # no longer the current version
            return
        # S3 dates a lifecycle delete marker 00:00 UTC of the day it is made
        marker: Version = {"key": v["key"], "dm": True, "mtime": at, "size": 0, "etag": "", "sc": "STANDARD",
                           "owner": b["account"]}
        storage.add_version(t, b, marker)
        effects.lifecycle_event(ctx, t, b, marker, "s3:LifecycleExpiration:DeleteMarkerCreated")
    elif a.kind == TRANSITION:
        moved = {**v, "sc": a.storage_class, "restore": None}
        storage.update_version(t, bucket, moved)
        effects.lifecycle_event(ctx, t, b, moved, "s3:LifecycleTransition",
                                destination_storage_class=a.storage_class)


# incomplete multipart uploads -----------------------------------------------------------
def _abort_uploads(ctx: Context, bucket: str, rules: list[Any], end: float) -> None:
    if not any(r.get("AbortIncompleteMultipartUpload") for r in rules):
        return
    cursor: Key | None = None
    while True:
        with storage.tx(ctx) as t:
            recs = t.scan("mpu", bucket + "/", after=cursor, limit=BATCH)
            for rec in recs:
                upload = rec.value
                if lifecycle.abort_due(rules, upload["key"], upload["initiated"], end):
                    multipart._abort_upload(t, bucket, upload)
        if len(recs) < BATCH:
            return
        cursor = recs[-1].key
