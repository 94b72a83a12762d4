"""Schedule expressions of scheduled rules: ``rate(value unit)`` and AWS's six-field
``cron(minutes hours day-of-month month day-of-week year)``, parsed once and asked for the
next time they fire. Pure: times come in and go out, nothing reads the clock.

AWS's rules (EventBridge user guide, "Schedule expressions for rules"):

* rate: a positive whole number and minute(s), hour(s) or day(s); the unit is singular
  for 1 and plural otherwise (``rate(1 hours)`` and ``rate(5 hour)`` are invalid).
  A rate rule first fires one period after it is created.
* cron: minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
  day-of-week 1-7 or SUN-SAT (1 is Sunday), year from 1970 (documented to 2199, but
  PutRule takes later years); ``,`` ``-`` ``*`` ``/`` everywhere; ``?`` in day-of-month or day-of-week, and exactly one of them must be
  ``?``; ``L`` (last day; ``L-n`` n days before it), ``W`` (nearest weekday, ``LW`` the
  last weekday) in day-of-month; ``L`` (``5L``: last Thursday) and ``#`` (``3#2``: second
  Tuesday, alone in its field) in day-of-week. A range may wrap (hours ``20-2``).
  Evaluated in the zone of the time given (UTC for rules), at whole minutes.

Anything else is ``None`` from ``parse``; the caller answers with AWS's "Parameter
ScheduleExpression is not valid."
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_ITEM = re.compile(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?")


@dataclass(frozen=True, slots=True)
class Rate:
    seconds: int

    def next_after(self, t: dt.datetime) -> dt.datetime:
        return t + dt.timedelta(seconds=self.seconds)


DaySet = Callable[[int, int], set[int]]  # (year, month) -> days of that month that fire


@dataclass(frozen=True, slots=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: DaySet
    months: tuple[int, ...]
    years: tuple[int, ...]

    def next_after(self, t: dt.datetime) -> dt.datetime | None:
        """The first whole minute strictly after `t` that the expression names (None when
        its years have all gone by)."""
        start = t.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        for year in self.years:
            if year < start.year:
                continue
            same_y = year == start.year
            for month in self.months:
                if same_y and month < start.month:
                    continue
                same_m = same_y and month == start.month
                last = calendar.monthrange(year, month)[1]
                for day in sorted(d for d in self.days(year, month) if 1 <= d <= last):
                    if same_m and day < start.day:
                        continue
                    same_d = same_m and day == start.day
                    for hour in self.hours:
                        if same_d and hour < start.hour:
                            continue
                        same_h = same_d and hour == start.hour
                        for minute in self.minutes:
                            if same_h and minute < start.minute:
                                continue
                            return start.replace(year=year, month=month, day=day, hour=hour, minute=minute)
        return None


Schedule = Rate | Cron


def parse(expression: str) -> Schedule | None:
    if expression.startswith("rate("):
        return _rate(expression)
    if expression.startswith("cron(") and expression.endswith(")"):
        return _cron(expression[5:-1])
    return None


def _rate(expression: str) -> Rate | None:
    m = _RATE.fullmatch(expression)
    if m is None:
        return None
    value, unit = int(m.group(1)), m.group(2)
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        return None
    return Rate(value * _UNIT_S[unit.rstrip("s")])


def _cron(body: str) -> Cron | None:
    fields = body.split()
    if len(fields) != 6:
        return None
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        return None  # exactly one of day-of-month and day-of-week is "?"
    try:
        minutes = _values(minute, 0, 59)
        hours = _values(hour, 0, 23)
        months = _values(month, 1, 12, _MONTHS)
        years = _values(year, 1970, 9999)  # AWS takes years past 2199 too
        days = _dom(dom) if dow == "?" else _dow(dow)
    except ValueError:
        return None
    return Cron(minutes, hours, days, months, years)


def _values(field: str, lo: int, hi: int, names: dict[str, int] | None = None) -> tuple[int, ...]:
    """The values a field with ``,`` ``-`` ``*`` ``/`` names; ValueError if invalid."""
    out: set[int] = set()
    for item in field.split(","):
        out |= _item(item, lo, hi, names)
    return tuple(sorted(out))


def _item(item: str, lo: int, hi: int, names: dict[str, int] | None) -> set[int]:
    text = item.upper()
    if names:
        for name, number in names.items():
            text = re.sub(rf"\b{name}\b", str(number), text)
    m = _ITEM.fullmatch(text)
    if m is None:
        raise ValueError(item)
    first, end, step = m.group(1), m.group(2), m.group(3)
    if first == "*":
        if end is not None:
            raise ValueError(item)
        a, b = lo, hi
    else:
        a = int(first)
        b = int(end) if end is not None else (hi if step is not None else a)
    stride = int(step) if step is not None else 1
    if not (lo <= a <= hi and lo <= b <= hi) or stride < 1:
        raise ValueError(item)
    span = list(range(a, hi + 1)) + list(range(lo, b + 1)) if b < a else list(range(a, b + 1))  # a range may wrap
    return set(span[::stride])


def _dom(field: str) -> DaySet:
    if field == "*":
        return lambda y, m: set(range(1, 32))
    parts = [_dom_part(p) for p in field.split(",")]
    return lambda y, m: set().union(*(p(y, m) for p in parts))


def _dom_part(part: str) -> DaySet:
    up = part.upper()
    if up == "L":
        return lambda y, m: {_last(y, m)}
    if up == "LW":
        return lambda y, m: {_weekday_near(y, m, _last(y, m))}
    if up.startswith("L-") and up[2:].isdigit() and 1 <= int(up[2:]) <= 30:
        back = int(up[2:])
        return lambda y, m: {_last(y, m) - back}
    if up.endswith("W") and up[:-1].isdigit() and 1 <= int(up[:-1]) <= 31:
        day = int(up[:-1])
        return lambda y, m: {_weekday_near(y, m, day)} if day <= _last(y, m) else set()
    days = set(_item(part, 1, 31, None))
    return lambda y, m: days


def _dow(field: str) -> DaySet:
    if "#" in field:
        if "," in field:
            raise ValueError(field)  # "#" stands alone in its field
        day_s, _, nth_s = field.partition("#")
        day, nth = _day_number(day_s), int(nth_s) if nth_s.isdigit() else 0
        if not 1 <= nth <= 5:
            raise ValueError(field)
        return lambda y, m: _nth(y, m, day, nth)
    if field == "*":
        return lambda y, m: set(range(1, 32))
    parts: list[DaySet] = []
    for part in field.split(","):
        up = part.upper()
        if up == "L":
            parts.append(lambda y, m: _last_of(y, m, 7))
        elif up.endswith("L"):
            parts.append(_last_weekday(_day_number(up[:-1])))
        else:
            parts.append(_weekdays(_item(part, 1, 7, _DAYS)))
    return lambda y, m: set().union(*(p(y, m) for p in parts))


def _last_weekday(day: int) -> DaySet:
    return lambda y, m: _last_of(y, m, day)


def _weekdays(wanted: set[int]) -> DaySet:
    return lambda y, m: {d for d in range(1, _last(y, m) + 1) if _dow_of(y, m, d) in wanted}


def _day_number(text: str) -> int:
    up = text.upper()
    number = _DAYS[up] if up in _DAYS else (int(up) if up.isdigit() else 0)
    if not 1 <= number <= 7:
        raise ValueError(text)
    return number


def _last(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


def _dow_of(y: int, m: int, d: int) -> int:
    """AWS's day-of-week number: 1 is Sunday, 7 is Saturday."""
    return (dt.date(y, m, d).weekday() + 1) % 7 + 1


def _nth(y: int, m: int, day: int, nth: int) -> set[int]:
    hits = [d for d in range(1, _last(y, m) + 1) if _dow_of(y, m, d) == day]
    return {hits[nth - 1]} if len(hits) >= nth else set()


def _last_of(y: int, m: int, day: int) -> set[int]:
    return {max(d for d in range(1, _last(y, m) + 1) if _dow_of(y, m, d) == day)}


def _weekday_near(y: int, m: int, day: int) -> int:
    """The weekday nearest `day`, never leaving the month (``W``)."""
    last = _last(y, m)
    wd = dt.date(y, m, day).weekday()  # Monday 0 .. Sunday 6
    if wd == 5:  # Saturday: Friday, or Monday if Friday is in the month before
        return day - 1 if day > 1 else day + 2
    if wd == 6:  # Sunday: Monday, or Friday if Monday is in the month after
        return day + 1 if day < last else day - 2
    return day
