"""The pure rules of CloudWatch Logs: ARNs, retention values, PutLogEvents' batch limits,
and the tokens readers page with. No store, no clock: callers pass ``now``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Sequence

from cloudlet.services.logs import errors

DAY_MS = 86_400_000
HOUR_MS = 3_600_000

#: the values PutRetentionPolicy accepts (AWS's enum, in its order)
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26  # bytes counted per event on top of its UTF-8 message
MAX_EVENT_BYTES = 1_048_576  # "Each log event can be no larger than 1 MB"
MAX_SPAN_MS = DAY_MS  # one batch's valid events span at most 24 hours
MAX_AGE_MS = 14 * DAY_MS  # older events are rejected as too old
MAX_AHEAD_MS = 2 * HOUR_MS  # further in the future is too new
#: a read returns at most this many bytes of events (messages plus the per-event overhead)
MAX_RESPONSE_BYTES = 1_048_576
MAX_READ_EVENTS = 10_000
MAX_TAGS = 50


def group_arn(partition: str, region: str, account: str, name: str) -> str:
    """``logGroupArn`` (and the ARN tags take): no trailing ``:*``."""
    return f"arn:{partition}:logs:{region}:{account}:log-group:{name}"


def stream_arn(partition: str, region: str, account: str, group: str, stream: str) -> str:
    return f"{group_arn(partition, region, account, group)}:log-stream:{stream}"


def group_from_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, group name) of a log-group ARN, with or without ``:*``; None if it is
    not one."""
    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "logs" or not parts[5] == "log-group":
        return None
    name = parts[6]
    if name.endswith(":*"):
        name = name[:-2]
    if not name or ":" in name:
        return None
    return parts[3], parts[4], name


def check_retention(days: int) -> None:
    if days not in RETENTION_DAYS:
        values = ", ".join(str(d) for d in RETENTION_DAYS)
        raise errors.invalid(
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{values}]"
        )


def check_enum(member: str, value: str | None, allowed: tuple[str, ...]) -> None:
    """The enums Logs enforces (the validator leaves enums to the handlers for this service)."""
    if value is not None and value not in allowed:
        raise errors.invalid(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def retention_cutoff(retention_days: int | None, now_ms: int) -> int:
    """The oldest timestamp a group still keeps (0: it keeps everything)."""
    return max(0, now_ms - retention_days * DAY_MS) if retention_days else 0


# -- PutLogEvents ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    """What PutLogEvents will store: events[lo:hi] are accepted, the rest were rejected."""

    lo: int
    hi: int
    rejected: dict[str, int]


def check_batch(events: Sequence[dict[str, Any]]) -> list[bytes]:
    """The batch-wide rules that fail the whole call; returns each message as UTF-8."""
    encoded = []
    total = 0
    for e in events:
        data = e["message"].encode("utf-8", "surrogatepass")
        if len(data) > MAX_EVENT_BYTES:
            raise errors.invalid(f"Log event too large: {len(data)} bytes exceeds limit of {MAX_EVENT_BYTES}")
        encoded.append(data)
        total += len(data) + EVENT_OVERHEAD
    if total > MAX_BATCH_BYTES:
        raise errors.invalid(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")
    for a, b in zip(events, events[1:]):
        if b["timestamp"] < a["timestamp"]:
            raise errors.invalid("Log events in a single PutLogEvents request must be in chronological order.")
    return encoded


def classify(timestamps: Sequence[int], now_ms: int, retention_days: int | None) -> Batch:
    """Which events (in time order) are accepted: too old (over 14 days), expired (before the
    group's retention) and too new (over 2 hours ahead) are rejected and reported by index,
    as rejectedLogEventsInfo does; the accepted ones may span at most 24 hours."""
    n = len(timestamps)
    too_old = sum(1 for ts in timestamps if ts < now_ms - MAX_AGE_MS)
    cutoff = retention_cutoff(retention_days, now_ms)
    expired = sum(1 for ts in timestamps if ts < cutoff) if retention_days else 0
    too_new = next((i for i, ts in enumerate(timestamps) if ts > now_ms + MAX_AHEAD_MS), n)
    rejected: dict[str, int] = {}
    if too_old:
        rejected["tooOldLogEventEndIndex"] = too_old
    if expired:
        rejected["expiredLogEventEndIndex"] = expired
    if too_new < n:
        rejected["tooNewLogEventStartIndex"] = too_new
    lo = max(too_old, expired)
    hi = max(lo, too_new)
    if hi - lo > 1 and timestamps[hi - 1] - timestamps[lo] > MAX_SPAN_MS:
        raise errors.invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
    return Batch(lo, hi, rejected)


# -- tokens ------------------------------------------------------------------------------
# GetLogEvents pages in two directions with AWS's token form ("f/<56 digits>/s" forward,
# "b/..." backward); the digits are a position in the stream: 20 of timestamp, 36 of
# sequence. Forward means "events at or after the position", backward "events before it".


def stream_token(direction: str, ts: int, seq: int) -> str:
    return f"{direction}/{ts:020d}{seq:036d}/s"


def parse_stream_token(token: str) -> tuple[str, int, int]:
    """(direction "f"|"b", timestamp, sequence); InvalidParameterException if malformed."""
    body = token[:-2] if token.endswith("/s") else token
    if len(body) != 58 or body[1] != "/" or body[0] not in "fb" or not body[2:].isdigit():
        raise errors.bad_token()
    return body[0], int(body[2:22]), int(body[22:])


def opaque_token(state: Any) -> str:
    """An opaque nextToken (DescribeLogGroups, DescribeLogStreams, FilterLogEvents)."""
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_opaque_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        raise errors.bad_token() from None


def listing_state(token: str | None) -> dict[str, Any] | None:
    """A DescribeLogGroups/DescribeLogStreams token read back: a dict whose ``a`` is the
    name the listing resumes after; None without a token."""
    if not token:
        return None
    state = parse_opaque_token(token)
    if not isinstance(state, dict) or not isinstance(state.get("a"), str):
        raise errors.bad_token()
    return state


def event_id(ts: int, stream_id: int, seq: int) -> str:
    """FilterLogEvents' eventId: 56 digits, unique in the group (``aws logs tail --follow``
    drops the ids it has seen)."""
    return f"{ts:020d}{stream_id % 10**18:018d}{seq % 10**18:018d}"


def sequence_token(stream_id: int, seq: int) -> str:
    """PutLogEvents' nextSequenceToken (AWS ignores sequence tokens now; still returned)."""
    return f"{stream_id % 10**20:020d}{seq:036d}"
