"""RestoreObject: a temporary readable copy of a GLACIER or DEEP_ARCHIVE version.

The request marks the version ``restore: {"done": False}`` (HeadObject then shows
``x-amz-restore: ongoing-request="true"``) and schedules the copy's arrival at the time
its tier takes (``lifecycle.restore_ready_at``). On arrival the version becomes readable
until its expiry (the requested days counted from the request, rounded up to midnight
UTC: ``lifecycle.restore_expiry``), when a second job removes the copy and GET refuses
the version again. Asking again while the copy is readable moves its expiry (200 OK);
asking while it is on its way is refused (409). The copy and the archived version are one
record: nothing about the version's data changes.

Events: ``s3:ObjectRestore:Post`` when asked (by the requester), ``:Completed`` on arrival
and ``:Delete`` at expiry (by S3 itself).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.scheduler import Job, JobFn
from cloudlet.protocol.http import STATUS
from cloudlet.services.s3 import effects, errors, lifecycle, reads, storage

Input = dict[str, Any]
Output = dict[str, Any]

READY = "s3.restore_ready"
EXPIRE = "s3.restore_expire"


def restore_object(ctx: Context, req: Input) -> Output:
    rr = req.get("RestoreRequest") or {}
    if rr.get("Type") == "SELECT" or rr.get("OutputLocation") or rr.get("SelectParameters"):
        # S3 Glacier Select is closed to new customers; cloudlet has no query engine for it
        raise ServiceError("NotImplemented", "A restore request of type SELECT is not implemented by cloudlet", 501)
    days = rr.get("Days")
    if days is None:
        raise errors.malformed_xml()  # required for a restore of an archived object (unrecorded wording)
    if days < 1:
        raise errors.invalid_argument("Days must be a positive integer", "Days", str(days))  # unrecorded
    tier = (rr.get("GlacierJobParameters") or {}).get("Tier") or rr.get("Tier") or "Standard"
    bucket, key = req["Bucket"], req["Key"]
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, bucket)
        v = reads.find_target(t, b, key, req.get("VersionId"), "POST")
        if v["sc"] == "INTELLIGENT_TIERING":  # cloudlet keeps such objects in the active tiers only
            raise ServiceError(
                "ObjectAlreadyInActiveTierError", "This operation is not allowed against this storage tier.", 403)
        now = storage.now()
        ready = lifecycle.restore_ready_at(v["sc"], tier, now)  # refuses other classes and unknown tiers
        expiry = lifecycle.restore_expiry(now, days)
        state = v.get("restore") or {}
        if state and not state.get("done"):
            raise ServiceError("RestoreAlreadyInProgress", "Object restore is already in progress", 409)
        if state.get("done"):
            v["restore"] = {"done": True, "expiry": expiry}
            storage.update_version(t, bucket, v)
            _schedule(ctx, EXPIRE, expiry, b, v)
            return {STATUS: 200}
        v["restore"] = {"done": False, "expiry": None}
        storage.update_version(t, bucket, v)
        # a copy is readable for at least its days, even from a slow tier asked for one day
        if expiry <= ready:
            expiry = lifecycle.restore_expiry(ready, days)
        _schedule(ctx, READY, ready, b, v, expiry=expiry)
        effects.request_event(ctx, t, b, v, "s3:ObjectRestore:Post", source_storage_class=v["sc"])
    return {STATUS: 202}


def _job_key(bucket: str, v: dict[str, Any]) -> str:
    """One job per version: arrival, then expiry, replace each other under this key."""
    return f"s3.restore/{storage.version_key(bucket, v['key'], v['seq'])}"


def _schedule(ctx: Context, fn: str, due: float, b: dict[str, Any], v: dict[str, Any], **extra: Any) -> None:
    payload = {"bucket": b["name"], "key": v["key"], "seq": v["seq"], **extra}
    assert ctx.gateway is not None
    ctx.gateway.scheduler.at(_job_key(b["name"], v), due, fn, payload)


def _version(t: Any, p: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The bucket and the exact version a job is about (None once deleted or replaced)."""
    b = storage.find_bucket(t, p["bucket"])
    if b is None:
        return None, None
    rec = t.get("v", storage.version_key(p["bucket"], p["key"], p["seq"]))
    return b, (None if rec is None else rec.value)


def _ready(job: Job) -> None:
    """The restored copy has arrived: readable until its expiry."""
    p = job.payload
    ctx = job.context("", "")
    with storage.tx(ctx) as t:
        b, v = _version(t, p)
        if b is None or v is None or (v.get("restore") or {}).get("done") is not False:
            return
        expiry = float(p["expiry"])
        v["restore"] = {"done": True, "expiry": expiry}
        storage.update_version(t, b["name"], v)
        _schedule(ctx, EXPIRE, expiry, b, v)
        effects.lifecycle_event(ctx, t, b, v, "s3:ObjectRestore:Completed", source_storage_class=v["sc"],
                                restore_expiry=dt.datetime.fromtimestamp(expiry, dt.timezone.utc))


def _expire(job: Job) -> None:
    """The restored copy goes; the version is archived-only again."""
    p = job.payload
    ctx = job.context("", "")
    with storage.tx(ctx) as t:
        b, v = _version(t, p)
        state = (v or {}).get("restore") or {}
        if b is None or v is None or not state.get("done") or (state.get("expiry") or 0) > job.now_s:
            return  # gone, or extended (its new expiry has its own job)
        v["restore"] = None
        storage.update_version(t, b["name"], v)
        effects.lifecycle_event(ctx, t, b, v, "s3:ObjectRestore:Delete", source_storage_class=v["sc"])


#: the scheduler functions, by name (``effects.register`` registers them; a public function
#: here would have to be an operation)
JOBS: dict[str, JobFn] = {READY: _ready, EXPIRE: _expire}
