"""The cloudlet clock: the only source of time for services.

It runs with the wall clock plus an offset that can only move forward, so a test can
jump 30 days ahead instead of waiting. (The persisted offset and the scheduler that
runs due work when the clock jumps arrive with the state issue.)
"""

from __future__ import annotations

import datetime as dt
import threading
import time

_offset = 0.0
_lock = threading.Lock()
UTC = dt.timezone.utc


def time_s() -> float:
    """Seconds since the epoch on the cloudlet clock."""
    return time.time() + _offset


def now() -> dt.datetime:
    """An aware UTC datetime on the cloudlet clock."""
    return dt.datetime.fromtimestamp(time.time() + _offset, UTC)


def offset() -> float:
    return _offset


def advance(seconds: float) -> float:
    """Move the clock forward; refuses to go back, since nothing in AWS ever does."""
    global _offset
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    with _lock:
        _offset += seconds
    return _offset


def set_to(when: dt.datetime) -> float:
    """Jump to `when`, which must not be earlier than now."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return advance(max(0.0, when.timestamp() - time_s())) if when.timestamp() >= time_s() else _refuse()


def _refuse() -> float:
    raise ValueError("the clock only moves forward")


def reset() -> None:
    """Back to the wall clock (used by a full reset only)."""
    global _offset
    with _lock:
        _offset = 0.0
