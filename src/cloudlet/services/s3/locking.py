"""Object Lock: retention (governance, compliance) and legal holds on versions.

A lock protects a version, not a key: in a lock-enabled (hence versioned) bucket an
overwrite adds a version and a plain delete adds a delete marker, both allowed; what is
refused is permanently deleting (or weakening the retention of) a protected version.
Governance retention gives way to ``x-amz-bypass-governance-retention: true`` (and the
``s3:BypassGovernanceRetention`` permission, checked by the IAM engine when on);
compliance retention gives way to nothing until its date passes; a legal hold gives way
only to being switched off.

The version's ``lock`` record: ``{"mode": "GOVERNANCE"|"COMPLIANCE"|None, "until": epoch
seconds|None, "hold": True|False|None}`` (``hold`` None: never set, so GetObjectLegalHold
has nothing to show). S3's wording below is as S3 answers on the wire (recorded by
LocalStack's and others' tests against S3, and the S3 user guide's "Object Lock" pages).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cloudlet.core import checksums
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.protocol.http import BodyStream
from cloudlet.services.s3 import errors, storage

DAY = 86400.0
YEAR_DAYS = 365  # "Amazon S3 counts 1 year as 365 days"
MAX_DAYS = 36500  # "The maximum retention period is 100 years"
MAX_YEARS = 100
MODES = ("GOVERNANCE", "COMPLIANCE")
CONFIG = "object-lock"

BYPASS_HEADER = "x-amz-bypass-governance-retention"
PROTECTED = "Access Denied because object protected by object lock."


# errors ----------------------------------------------------------------------------------
def not_lock_bucket() -> ServiceError:
    return ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)


def protected() -> ServiceError:
    return ServiceError("AccessDenied", PROTECTED, 403)


def no_object_lock() -> ServiceError:
    return ServiceError(
        "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration", 404)


def _integrity_missing() -> ServiceError:
    return ServiceError(
        "InvalidRequest",
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
        400,
    )


# what a new version gets ---------------------------------------------------------------------
def default_retention(t: Tx, bucket: str) -> dict[str, Any] | None:
    """The bucket's DefaultRetention (``{"Mode", "Days"|"Years"}``), or None."""
    cfg = storage.get_config(t, bucket, CONFIG) or {}
    return (cfg.get("Rule") or {}).get("DefaultRetention") or None


def retention_seconds(default: dict[str, Any]) -> float:
    return ((default.get("Days") or 0) + (default.get("Years") or 0) * YEAR_DAYS) * DAY


def for_new_version(t: Tx, b: dict[str, Any], req: dict[str, Any], *, upload: bool = False) -> dict[str, Any] | None:
    """The lock a new version gets: the request's headers, else the bucket's default.

    `upload`: the request carries the body (PutObject), which S3 then wants protected by
    Content-MD5 or a checksum whenever a lock (a header, or the bucket's default) applies.
    The headers' own faults are answered before the bucket is looked at, as S3 does.
    """
    mode = req.get("ObjectLockMode")
    until = req.get("ObjectLockRetainUntilDate")
    hold = req.get("ObjectLockLegalHoldStatus")
    if mode is not None and mode not in MODES:
        raise errors.invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", mode)
    if hold is not None and hold not in ("ON", "OFF"):
        raise errors.invalid_argument("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold",
                                      hold)
    if (mode is None) != (until is None):
        missing = "x-amz-object-lock-mode" if mode is None else "x-amz-object-lock-retain-until-date"
        raise errors.invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied", missing, "")
    ts = None
    if until is not None:
        ts = until.timestamp() if isinstance(until, datetime) else float(until)
        if ts <= storage.now():
            raise errors.invalid_argument("The retain until date must be in the future!",
                                          "x-amz-object-lock-retain-until-date", _iso(ts))
    if (mode or hold) and not b.get("lock"):
        raise not_lock_bucket()
    if not b.get("lock"):
        return None
    lock: dict[str, Any] = {"mode": None, "until": None, "hold": None}
    default = None if mode else default_retention(t, b["name"])
    if mode:
        lock["mode"], lock["until"] = mode, ts
    elif default:
        lock["mode"] = default["Mode"]
        lock["until"] = storage.now() + retention_seconds(default)
    if hold:
        lock["hold"] = hold == "ON"
    if upload and (mode or hold or default) and not _has_integrity(req):
        raise _integrity_missing()
    return lock


def _has_integrity(req: dict[str, Any]) -> bool:
    """Content-MD5, an ``x-amz-checksum-*`` value, or a checksum still to come in the
    trailer of a streamed body (the algorithm header alone does not count)."""
    if req.get("ContentMD5"):
        return True
    if any(req.get(checksums.param_name(alg)) for alg in checksums.ALGORITHMS):
        return True
    return bool(req.get("ChecksumAlgorithm")) and isinstance(req.get("Body"), BodyStream)


# what a delete may do --------------------------------------------------------------------
def check_bypass_header(b: dict[str, Any], req: dict[str, Any]) -> bool:
    """The request's bypass flag; S3 refuses the header (even "false") where there is no lock."""
    bypass = req.get("BypassGovernanceRetention")
    if bypass is not None and not b.get("lock"):
        raise errors.invalid_argument(
            "x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.", BYPASS_HEADER,
            str(bypass).lower())
    return bool(bypass)


def is_protected(v: dict[str, Any], bypass: bool) -> str | None:
    """Why a version may not be deleted now, or None. A delete marker is never protected."""
    if v.get("dm"):
        return None
    lock = v.get("lock") or {}
    if lock.get("hold"):
        return "legal hold"  # "Bypassing governance mode doesn't affect ... legal hold status"
    until = lock.get("until")
    if until and until > storage.now():
        if lock.get("mode") == "COMPLIANCE" or not bypass:
            return "retention"
    return None


def check_delete(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], bypass: bool) -> None:
    if is_protected(v, bypass):
        raise protected()


# changing a version's retention ------------------------------------------------------------
def check_retention_change(old: dict[str, Any] | None, mode: str | None, until: float | None, bypass: bool) -> None:
    """May a version's retention become (`mode`, `until`) (both None: removed)?

    While a retention is in force, only a change that protects at least as much passes
    freely: the same mode, a date no earlier. Anything else (a shorter date, another mode,
    removal) needs the governance bypass, and compliance retention allows none of it.
    """
    old = old or {}
    old_mode, old_until = old.get("mode"), old.get("until")
    if not old_mode or not old_until or old_until <= storage.now():
        return
    if mode == old_mode and until is not None and until >= old_until:
        return
    if old_mode == "COMPLIANCE" or not bypass:
        raise protected()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
