"""Object Lock: retention (governance, compliance) and legal holds on versions.

A lock protects a version, not a key: in a lock-enabled (hence versioned) bucket an
overwrite adds a version and a plain delete adds a delete marker, both allowed; what is
refused is permanently deleting (or shortening the retention of) a protected version.
Governance retention gives way to ``x-amz-bypass-governance-retention: true`` (and the
``s3:BypassGovernanceRetention`` permission, checked by the IAM engine when on).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.s3 import storage

DAY = 86400.0
MODES = ("GOVERNANCE", "COMPLIANCE")


def not_lock_bucket() -> ServiceError:
    return ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)


def for_new_version(t: Tx, b: dict[str, Any], req: dict[str, Any]) -> dict[str, Any] | None:
    """The lock a new version gets: the request's headers, else the bucket's default."""
    mode = req.get("ObjectLockMode")
    until = req.get("ObjectLockRetainUntilDate")
    hold = req.get("ObjectLockLegalHoldStatus")
    if (mode or until or hold) and not b.get("lock"):
        raise not_lock_bucket()
    if not b.get("lock"):
        return None
    if bool(mode) != bool(until):
        raise ServiceError(
            "InvalidArgument",
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            400,
        )
    lock: dict[str, Any] = {"mode": None, "until": None, "hold": None}
    if mode:
        if mode not in MODES:
            raise ServiceError("InvalidArgument", "Unknown wormMode directive.", 400)
        ts = until.timestamp() if isinstance(until, datetime) else float(until)
        if ts <= storage.now():
            raise ServiceError("InvalidArgument", "The retain until date must be in the future!", 400)
        lock["mode"], lock["until"] = mode, ts
    else:
        default = (storage.get_config(t, b["name"], "object-lock") or {}).get("Rule", {}).get("DefaultRetention")
        if default:
            days = default.get("Days") or 0
            years = default.get("Years") or 0
            lock["mode"] = default["Mode"]
            lock["until"] = storage.now() + days * DAY + years * 365 * DAY
    if hold:
        lock["hold"] = hold == "ON"
    return lock


def check_overwrite(t: Tx, b: dict[str, Any], key: str) -> None:
    """Writes to a locked key add versions (lock buckets are always versioned): allowed."""


def is_protected(v: dict[str, Any], bypass: bool) -> str | None:
    """Why a version may not be deleted now, or None."""
    lock = v.get("lock") or {}
    if lock.get("hold"):
        return "legal hold"
    until = lock.get("until")
    if until and until > storage.now():
        if lock.get("mode") == "COMPLIANCE" or not bypass:
            return "retention"
    return None


def check_delete(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], bypass: bool) -> None:
    if is_protected(v, bypass):
        raise ServiceError("AccessDenied", "Access Denied because object protected by object lock.", 403)
