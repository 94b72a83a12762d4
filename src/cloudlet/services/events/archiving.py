"""An archive's events in the store: appended as they reach the bus, dropped once older than
the archive's retention (on the cloudlet clock), read back in time order by replays.

Retention is applied whenever an archive is touched (an event appended, the archive
described or listed, a replay read), so counts and sizes are always exact without a
sweeping job. RetentionDays 0 keeps events forever, as in AWS.
"""

from __future__ import annotations

from typing import Any, Iterator

from cloudlet.core.store import Tx
from cloudlet.services.events import storage, transform

DAY_S = 86_400
_BATCH = 500


def append(tx: Tx, archive: dict[str, Any], event: dict[str, Any], now: float) -> None:
    data = transform.minified(event)
    size = len(data.encode())
    ms = int(now * 1000)
    tx.put(storage.ARCHIVED, storage.archived_key(archive["name"], ms, event["id"]), {"event": event, "size": size, "at": now})
    archive["count"] = archive.get("count", 0) + 1
    archive["bytes"] = archive.get("bytes", 0) + size
    purge(tx, archive, now)
    storage.put_archive(tx, archive)


def purge(tx: Tx, archive: dict[str, Any], now: float) -> bool:
    """Drop events past the retention; True if any went (the caller saves the archive)."""
    days = archive.get("RetentionDays") or 0
    if days <= 0:
        return False
    horizon_ms = int((now - days * DAY_S) * 1000)
    prefix = archive["name"] + "/"
    oldest = tx.scan(storage.ARCHIVED, prefix, limit=1)
    if not oldest or _ms(oldest[0].key) >= horizon_ms:
        return False  # the common case: one indexed read
    dropped = False
    while True:
        old = tx.scan(storage.ARCHIVED, prefix, limit=_BATCH)
        gone = [r for r in old if _ms(r.key) < horizon_ms]
        for rec in gone:
            tx.delete(storage.ARCHIVED, rec.key)
            archive["count"] = max(0, archive.get("count", 0) - 1)
            archive["bytes"] = max(0, archive.get("bytes", 0) - rec.value.get("size", 0))
            dropped = True
        if len(gone) < _BATCH:
            return dropped


def between(tx: Tx, name: str, start: float, end: float) -> Iterator[dict[str, Any]]:
    """Archived events received in [start, end], oldest first."""
    prefix = name + "/"
    after: str | bytes | None = None
    lo, hi = int(start * 1000), int(end * 1000)
    while True:
        batch = tx.scan(storage.ARCHIVED, prefix, after=after, limit=_BATCH)
        for rec in batch:
            ms = _ms(rec.key)
            if ms > hi:
                return
            if ms >= lo:
                yield rec.value
        if len(batch) < _BATCH:
            return
        after = batch[-1].key


def drop_all(tx: Tx, name: str) -> None:
    while True:
        batch = tx.scan(storage.ARCHIVED, name + "/", limit=_BATCH)
        for rec in batch:
            tx.delete(storage.ARCHIVED, rec.key)
        if len(batch) < _BATCH:
            return


def _ms(key: Any) -> int:
    return int(str(key).split("/")[1])
