"""Events as rules see them: a PutEvents entry checked and wrapped in AWS's envelope, and
the scheduled event a rule's schedule produces. Pure.

The envelope's members, in AWS's order: ``version`` ("0"), ``id``, ``detail-type``,
``source``, ``account``, ``time`` (``2024-01-31T12:00:00Z``: the entry's Time, else the
cloudlet time it was put), ``region``, ``resources`` and ``detail`` (the entry's Detail
parsed). A replayed event also carries ``replay-name``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from cloudlet.services.events import model

UTC = dt.timezone.utc

#: per-entry errors: (ErrorCode, ErrorMessage)
EntryError = tuple[str, str]


def stamp(when: dt.datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def check(entry: dict[str, Any], *, service_caller: bool) -> EntryError | None:
    """AWS's per-entry checks, in its order: Source, DetailType, Detail, then the Detail's JSON."""
    for name in ("Source", "DetailType", "Detail"):
        if not entry.get(name):
            return "InvalidArgument", f"Parameter {name} is not valid. Reason: {name} is a required argument."
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    if entry["Source"].startswith("aws.") and not service_caller:
        return "NotAuthorizedForSourceException", "Not authorized for the source."
    return None


def size(entry: dict[str, Any]) -> int:
    """An entry's size as AWS counts it toward the 256 KB limit ("Calculating PutEvents
    event entry size"): 14 bytes for a Time, and the UTF-8 bytes of the rest."""
    total = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        total += len((entry.get(key) or "").encode())
    total += sum(len(r.encode()) for r in entry.get("Resources") or ())
    return total


def too_large(entries: list[dict[str, Any]]) -> bool:
    return sum(size(e) for e in entries) > model.MAX_ENTRY_BYTES


def build(entry: dict[str, Any], account: str, region: str, now: dt.datetime) -> dict[str, Any]:
    when = entry.get("Time") or now
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": stamp(when),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(entry["Detail"]),
    }


def scheduled(rule_arn: str, account: str, region: str, when: dt.datetime) -> dict[str, Any]:
    """The event a scheduled rule sends its targets at `when`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": stamp(when),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
