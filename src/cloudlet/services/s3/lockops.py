"""Object Lock operations: the bucket's configuration, a version's retention and legal hold.

The rules they enforce live in ``locking``; what a delete may do is checked there too, by
``objects``. Since November 2023 Object Lock may be switched on for an existing bucket
(no token from AWS Support any more), provided its versioning is Enabled; once on, it
cannot be switched off, and versioning cannot be suspended (``buckets``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import errors, locking, reads, storage

Input = dict[str, Any]
Output = dict[str, Any]

_NO_LOCK = {"mode": None, "until": None, "hold": None}


# the bucket's configuration -------------------------------------------------------------
def put_object_lock_configuration(ctx: Context, req: Input) -> Output:
    cfg = _check_configuration(req.get("ObjectLockConfiguration"))
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        if not b.get("lock") and b.get("versioning") != "Enabled":
            raise ServiceError(
                "InvalidBucketState",
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                409,
                fields={"BucketName": b["name"]},
            )
        b["lock"] = True
        storage.put_bucket(t, b)
        storage.put_config(t, b["name"], locking.CONFIG, cfg)
    return {}


def _check_configuration(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """S3's schema first (MalformedXML: no ObjectLockEnabled, an empty Rule or
    DefaultRetention, a bad mode, no period or both periods), then the period's range."""
    if not cfg or cfg.get("ObjectLockEnabled") != "Enabled":
        raise errors.malformed_xml()
    if "Rule" not in cfg:
        return {"ObjectLockEnabled": "Enabled"}  # no default retention (removes one set before)
    default = (cfg.get("Rule") or {}).get("DefaultRetention")
    if not default or default.get("Mode") not in locking.MODES:
        raise errors.malformed_xml()
    days, years = default.get("Days"), default.get("Years")
    if (days is None) == (years is None):
        raise errors.malformed_xml()
    name, value, limit = ("Days", days, locking.MAX_DAYS) if days is not None else ("Years", years, locking.MAX_YEARS)
    if value <= 0:
        raise errors.invalid_argument("Default retention period must be a positive integer value.", name, str(value))
    if value > limit:
        raise errors.invalid_argument("Default retention period too large.", name, str(value))
    return {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": default["Mode"], name: value}}}


def get_object_lock_configuration(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        cfg = storage.get_config(t, b["name"], locking.CONFIG)
    if not b.get("lock"):
        raise errors.not_configured(locking.CONFIG, b["name"])
    return {"ObjectLockConfiguration": cfg or {"ObjectLockEnabled": "Enabled"}}


# a version's retention ---------------------------------------------------------------------
def put_object_retention(ctx: Context, req: Input) -> Output:
    retention = req.get("Retention")
    if retention is None:
        raise errors.malformed_xml()
    mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
    if (mode is None) != (until is None) or (mode is not None and mode not in locking.MODES):
        raise errors.malformed_xml()
    ts = _seconds(until) if until is not None else None
    if ts is not None and ts <= storage.now():
        raise errors.invalid_argument("The retain until date must be in the future!", "RetainUntilDate",
                                      _iso(until))
    bypass = bool(req.get("BypassGovernanceRetention"))
    return _change_lock(ctx, req, lambda lock: locking.check_retention_change(lock, mode, ts, bypass), mode=mode, until=ts)


def get_object_retention(ctx: Context, req: Input) -> Output:
    lock = _lock_of(ctx, req)
    if not lock.get("mode"):
        raise locking.no_object_lock()
    return {"Retention": {"Mode": lock["mode"], "RetainUntilDate": datetime.fromtimestamp(lock["until"], timezone.utc)}}


# a version's legal hold --------------------------------------------------------------------
def put_object_legal_hold(ctx: Context, req: Input) -> Output:
    status = (req.get("LegalHold") or {}).get("Status")
    if status not in ("ON", "OFF"):
        raise errors.malformed_xml()
    return _change_lock(ctx, req, None, hold=status == "ON")


def get_object_legal_hold(ctx: Context, req: Input) -> Output:
    hold = _lock_of(ctx, req).get("hold")
    if hold is None:
        raise locking.no_object_lock()
    return {"LegalHold": {"Status": "ON" if hold else "OFF"}}


# helpers --------------------------------------------------------------------------------------
def _locked_version(t: Any, req: Input, method: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bucket (which must have Object Lock) and the version the request names; a
    delete marker answers 405, as for any read or write of one by id."""
    b = storage.get_bucket(t, req["Bucket"])
    if not b.get("lock"):
        raise locking.not_lock_bucket()
    return b, reads.find_target(t, b, req["Key"], req.get("VersionId"), method)


def _change_lock(ctx: Context, req: Input, check: Callable[[Any], None] | None, **change: Any) -> Output:
    """Set retention (mode, until) or the legal hold (hold) of a version, keeping the other;
    `check` sees the version's lock as it was."""
    with storage.tx(ctx) as t:
        b, v = _locked_version(t, req, "PUT")
        if check is not None:
            check(v.get("lock"))
        v["lock"] = {**_NO_LOCK, **(v.get("lock") or {}), **change}
        storage.update_version(t, b["name"], v)
    return {}


def _lock_of(ctx: Context, req: Input) -> dict[str, Any]:
    with storage.tx(ctx) as t:
        _b, v = _locked_version(t, req, "GET")
    return v.get("lock") or {}


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


def _iso(value: Any) -> str:
    ts = _seconds(value)
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
