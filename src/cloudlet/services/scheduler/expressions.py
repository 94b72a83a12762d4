"""Schedule expressions as EventBridge Scheduler reads them, and the instant a schedule
next occurs. Pure: times come in and go out, nothing reads the clock.

* ``at(yyyy-mm-ddThh:mm:ss)``: once, at that wall time in the schedule's zone.
* ``rate(value unit)``: every period from the start date (or the time the schedule was
  created or changed), as ``core.schedules`` parses it; the zone does not matter.
* ``cron(...)``: AWS's six fields (``core.schedules``), evaluated in the schedule's zone.
  Daylight saving time as the Scheduler user guide states it: a wall time that does not
  exist when clocks go forward is skipped, and a wall time that happens twice when they
  go back runs once (its first instant).

A flexible time window moves each occurrence by an offset inside the window that is
derived from the schedule ARN and the occurrence, so it is random-looking across
schedules and occurrences but the same every time it is computed (tests can bound it,
and a restarted process books the same instant).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from dataclasses import dataclass

from cloudlet.core import schedules

UTC = dt.timezone.utc
_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")
_SEARCH_LIMIT = 100_000  # candidate wall times looked at before giving up on a cron


@dataclass(frozen=True, slots=True)
class At:
    wall: dt.datetime  # naive: a wall time in the schedule's zone


Expression = At | schedules.Rate | schedules.Cron


def parse(expression: str) -> Expression | None:
    """The expression, or None when AWS would answer ValidationException."""
    m = _AT.fullmatch(expression)
    if m is not None:
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            return At(dt.datetime(year, month, day, hour, minute, second))
        except ValueError:
            return None
    if expression.startswith("at("):
        return None
    return schedules.parse(expression)


def zone(name: str | None) -> dt.tzinfo | None:
    """An IANA zone (UTC when none is given), or None when the name is not one."""
    if not name:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def next_occurrence(
    expr: Expression,
    tz: dt.tzinfo,
    after: dt.datetime,
    *,
    anchor: dt.datetime,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dt.datetime | None:
    """The first instant (UTC) strictly after `after` at which the schedule occurs, or None
    when it never will again. `anchor` is where a rate counts from (its first occurrence);
    `start` and `end` bound recurring schedules (a one-time schedule ignores them, as AWS does)."""
    if isinstance(expr, At):
        when = _instant(expr.wall, tz)
        return when if when is not None and when > after else None
    found: dt.datetime | None
    if isinstance(expr, schedules.Rate):
        found = _next_rate(expr.seconds, anchor, after)
    else:
        found = _next_cron(expr, tz, max(after, start - dt.timedelta(microseconds=1)) if start else after)
    if found is None or (end is not None and found > end):
        return None
    return found


def _next_rate(period: int, anchor: dt.datetime, after: dt.datetime) -> dt.datetime:
    if after < anchor:
        return anchor
    steps = int((after - anchor).total_seconds() // period) + 1
    return anchor + dt.timedelta(seconds=steps * period)


def _next_cron(cron: schedules.Cron, tz: dt.tzinfo, after: dt.datetime) -> dt.datetime | None:
    cursor = after.astimezone(tz).replace(tzinfo=None)
    for _ in range(_SEARCH_LIMIT):
        wall = cron.next_after(cursor)
        if wall is None:
            return None
        cursor = wall
        when = _instant(wall, tz)
        if when is not None and when > after:
            return when
    return None


def _instant(wall: dt.datetime, tz: dt.tzinfo) -> dt.datetime | None:
    """The UTC instant of a wall time: its first one when it happens twice, None when the
    clocks skip it."""
    local = wall.replace(tzinfo=tz, fold=0)
    when = local.astimezone(UTC)
    if when.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return when


def flexible_offset(schedule_arn: str, nominal: dt.datetime, window_minutes: int) -> float:
    """Seconds after `nominal` at which an occurrence fires: in ``[0, window)``."""
    if window_minutes <= 0:
        return 0.0
    digest = hashlib.sha256(f"{schedule_arn}|{nominal.timestamp():.0f}".encode()).digest()
    return float(int.from_bytes(digest[:8], "big") % (window_minutes * 60))
