"""The cloudlet clock: the only source of time for services.

It runs with the wall clock plus an offset that only moves forward, so a test can jump
90 days ahead instead of waiting. The offset is kept in the data directory
(``clock.json``) so a restart keeps the moved time; ``--ephemeral`` keeps it in memory.

A jump is not instantaneous when timed work is due inside it: the scheduler registers
itself as the clock's *driver*, and ``advance`` hands it the goal. The driver steps the
clock through each due time, running the work due there, so a job (and every service it
calls) reads the time at which it was due, and the call returns once the goal is reached.

Services use the module functions (``clock.now()``, ``clock.time_s()``), which read the
process clock ``DEFAULT``; tests that must not move the process's time make their own
``Clock``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading
import time
from typing import Callable

UTC = dt.timezone.utc
#: how far in the past a `set` may be and still count as "now" (the caller's now, read a
#: moment before ours); further back is refused
SET_TOLERANCE_S = 1.0
#: how long `advance` waits, by default, for the work due inside the jump
DEFAULT_WAIT_S = 30.0
#: the last second a datetime holds (9999-12-31T23:59:59Z), less a day of slack for the wall clock
LATEST_S = 253402300799.0 - 86400

#: called with (goal offset, seconds to wait); returns once the goal is reached or the wait is over
Driver = Callable[[float, float], None]


class BackwardsError(ValueError):
    """Time was asked to go back. Nothing in AWS ever sees that, so neither does cloudlet."""


class Clock:
    """Wall clock plus a forward-only offset, optionally persisted to a file."""

    def __init__(self) -> None:
        self._offset = 0.0  # what now() reads
        self._goal = 0.0  # the offset asked for; ahead of _offset while a jump is being stepped through
        self._lock = threading.RLock()
        self._path: str | None = None
        self._driver: Driver | None = None
        self._driver_thread: threading.Thread | None = None

    # reading -------------------------------------------------------------------------
    def time_s(self) -> float:
        """Seconds since the epoch on the cloudlet clock."""
        return time.time() + self._offset

    def now(self) -> dt.datetime:
        """An aware UTC datetime on the cloudlet clock."""
        return dt.datetime.fromtimestamp(time.time() + self._offset, UTC)

    def offset(self) -> float:
        return self._offset

    def goal(self) -> float:
        """The offset the clock is moving to (equal to ``offset()`` unless a jump is in progress)."""
        return self._goal

    # moving --------------------------------------------------------------------------
    def advance(self, seconds: float, *, wait: float = DEFAULT_WAIT_S) -> float:
        """Move forward by `seconds`; returns the offset reached.

        With a driver (the scheduler), returns once every job due by the new time has run,
        or after `wait` seconds, whichever comes first.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ValueError("advance takes a number of seconds")
        if seconds < 0:
            raise BackwardsError("the clock only moves forward: advance takes a positive number of seconds")
        with self._lock:
            goal = max(self._goal, self._offset) + float(seconds)
            if time.time() + goal > LATEST_S:
                raise ValueError("that is past the year 9999, the last time AWS timestamps can carry")
            self._set_goal(goal)
        return self._reach(goal, wait)

    def set_to(self, when: dt.datetime, *, wait: float = DEFAULT_WAIT_S) -> float:
        """Jump to `when` (naive means UTC), which must not be earlier than the clock's time."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        target = when.timestamp()
        with self._lock:
            wall = time.time()
            current = wall + max(self._goal, self._offset)
            if target < current - SET_TOLERANCE_S:
                shown = dt.datetime.fromtimestamp(current, UTC).isoformat().replace("+00:00", "Z")
                raise BackwardsError(
                    f"the clock only moves forward: {when.isoformat()} is before the cloudlet time {shown}"
                )
            goal = max(self._goal, self._offset, target - wall)
            self._set_goal(goal)
        return self._reach(goal, wait)

    def _set_goal(self, goal: float) -> None:
        """Record the goal, on disk first: once a jump is acknowledged it survives a crash
        (a restart then runs the work due inside it as overdue)."""
        if self._path is not None and goal != self._goal:
            _write(self._path, goal)
        self._goal = goal

    def _reach(self, goal: float, wait: float) -> float:
        driver = self._driver
        if driver is None:
            self.settle(goal)
        elif threading.current_thread() is self._driver_thread:
            raise RuntimeError("timed work cannot move the clock: a job runs at its due time")
        else:
            driver(goal, wait)
        return self._offset

    # for the driver ------------------------------------------------------------------
    def drive(self, driver: Driver | None, thread: threading.Thread | None = None) -> None:
        """Hand jumps to `driver` (running on `thread`), or take them back with None."""
        with self._lock:
            self._driver = driver
            self._driver_thread = thread if driver is not None else None

    def step_to(self, t: float) -> None:
        """Move forward so that now >= `t`, never past the goal: the driver stepping through a jump."""
        with self._lock:
            self._offset = max(self._offset, min(t - time.time(), self._goal))

    def settle(self, goal: float) -> None:
        """Finish a jump: the offset becomes `goal` (if that is forward)."""
        with self._lock:
            if goal > self._goal:
                self._set_goal(goal)
            self._offset = max(self._offset, goal)

    # persistence ---------------------------------------------------------------------
    def persist_to(self, path: str | None) -> None:
        """Keep the offset in `path` (None: in memory only), resuming from what it holds.

        The file also holds the last cloudlet time written, so if the machine's own clock
        was set back while cloudlet was stopped, cloudlet's time still does not go back.
        """
        with self._lock:
            self._path = path
            if path is None:
                return
            saved = _read(path)
            if saved is None:
                _write(path, max(self._goal, self._offset))
                return
            offset, seen = saved
            offset = max(offset, seen - time.time(), self._offset, self._goal)
            self._goal = self._offset = offset

    def reset(self) -> None:
        """Back to the wall clock, in memory. For tests only: time never goes back otherwise."""
        with self._lock:
            self._offset = self._goal = 0.0


def _read(path: str) -> tuple[float, float] | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        problem = f"is unreadable ({err})"
    else:
        try:
            return float(data["offset_s"]), float(data.get("now_s", 0.0))
        except (KeyError, TypeError, ValueError, AttributeError):
            problem = "holds no clock offset"
    from cloudlet.core.datadir import DataDirError  # the server reports these at start

    raise DataDirError(f"{path} {problem}; refusing to guess the cloudlet time. Move it away to restart at the wall time.")


def _write(path: str, offset: float) -> None:
    """Written to a temp name, fsynced and renamed: a crash leaves the old file or the new one."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"offset_s": offset, "now_s": time.time() + offset}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: the process clock every service reads
DEFAULT = Clock()

time_s = DEFAULT.time_s
now = DEFAULT.now
offset = DEFAULT.offset
advance = DEFAULT.advance
set_to = DEFAULT.set_to
reset = DEFAULT.reset

_sequence_lock = threading.Lock()
_last_sequence = 0


def sequence() -> int:
    """A number that only increases, for the life of the data: microseconds of the cloudlet
    clock (which never goes back, across restarts too), bumped past the last one handed out.
    Orders S3 versions and DynamoDB change records; carries their time too."""
    global _last_sequence
    now_us = int(time_s() * 1_000_000)
    with _sequence_lock:
        _last_sequence = max(now_us, _last_sequence + 1)
        return _last_sequence
