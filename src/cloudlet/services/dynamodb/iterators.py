"""Shard iterators: opaque strings naming a stream, its shard and a position, valid for
15 minutes on the cloudlet clock.

Shaped like AWS's (``<stream arn>|1|<base64>``) so tools that log or split them see what
they expect; the position is a sequence number to read after, or none for "the oldest
record still kept" (TRIM_HORIZON, resolved when read so it never points at a trimmed
record). Nothing in them is secret: a forged one only names a position the caller may
read anyway.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from cloudlet.core.errors import ServiceError

LIFETIME = 900.0  # seconds


@dataclass(frozen=True, slots=True)
class Iterator:
    arn: str
    shard: str
    after: int | None  # read records after this sequence number; None: from the trim horizon
    issued: float


def encode(it: Iterator) -> str:
    body = json.dumps([it.shard, it.after, round(it.issued, 3)], separators=(",", ":")).encode()
    return f"{it.arn}|1|{base64.b64encode(body).decode()}"


def invalid() -> ServiceError:
    return ServiceError("ValidationException", "Invalid ShardIterator", 400)


def decode(text: str) -> Iterator:
    parts = text.split("|")
    if len(parts) != 3 or parts[1] != "1" or not parts[0].startswith("arn:"):
        raise invalid()
    try:
        shard, after, issued = json.loads(base64.b64decode(parts[2], validate=True))
    except (ValueError, TypeError):
        raise invalid() from None
    if not isinstance(shard, str) or not (after is None or isinstance(after, int)) or after is not None and after < 0 \
            or isinstance(issued, bool) or not isinstance(issued, (int, float)):
        raise invalid()
    return Iterator(parts[0], shard, after, float(issued))


def stream_arn(text: str) -> str | None:
    arn = text.split("|", 1)[0]
    return arn if arn.startswith("arn:") else None


def check_fresh(it: Iterator, now: float) -> None:
    if now - it.issued > LIFETIME:
        raise ServiceError(
            "ExpiredIteratorException",
            f"Iterator expired. The iterator was created at time {_java_date(it.issued)} while right now it is "
            f"{_java_date(now)} which is further in the future than the tolerated delay of "
            f"{int(LIFETIME * 1000)} milliseconds.",
            400,
        )


def _java_date(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
