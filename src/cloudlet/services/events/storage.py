"""Where EventBridge keeps its resources in the store, one record each, per account and
region (the transaction's scope).

========== ==================================== ============================================
kind       key                                  value
========== ==================================== ============================================
bus        name                                 settings, Policy (JSON text), tags, times
rule       ``<bus> <name>`` (space: no bus or   pattern/schedule, state, tags, its targets;
           rule name holds one)                 attrs ``target`` = target ARNs
archive    name                                 source bus ARN, pattern, retention, counts;
                                                attrs ``bus`` = source bus ARN
archived   ``<archive>/<ms, 15 digits>/<id>``   one archived event and its size
replay     name                                 the replay and its progress
connection name                                 auth (secrets kept, never returned)
apidest    name                                 endpoint, method, connection ARN
========== ==================================== ============================================

The default bus exists in every account and region; ``bus`` writes its record the first
time it is asked for, so it has a creation time and can hold a policy like any other.
"""

from __future__ import annotations

import uuid
import weakref

from typing import Any

from cloudlet.core.store import Tx
from cloudlet.services.events.arns import DEFAULT_BUS

BUS = "bus"
RULE = "rule"
ARCHIVE = "archive"
ARCHIVED = "archived"
REPLAY = "replay"
CONNECTION = "connection"
DESTINATION = "apidest"

Record = dict[str, Any]


def bus(tx: Tx, name: str, now: float) -> Record | None:
    rec = tx.get(BUS, name)
    if rec is not None:
        return rec.value
    if name != DEFAULT_BUS:
        return None
    value: Record = {"name": DEFAULT_BUS, "created": now, "modified": now, "tags": {}}
    tx.put(BUS, DEFAULT_BUS, value)
    return value


def put_bus(tx: Tx, value: Record) -> None:
    tx.put(BUS, value["name"], value)


def buses(tx: Tx, prefix: str | None, now: float) -> list[Record]:
    bus(tx, DEFAULT_BUS, now)
    return [r.value for r in tx.scan(BUS, prefix or None)]


def rule_key(bus_name: str, name: str) -> str:
    return f"{bus_name} {name}"


def rule(tx: Tx, bus_name: str, name: str) -> Record | None:
    rec = tx.get(RULE, rule_key(bus_name, name))
    return None if rec is None else rec.value


def put_rule(tx: Tx, value: Record) -> None:
    targets = sorted({t["Arn"] for t in value.get("targets", ())})
    tx.put(RULE, rule_key(value["bus"], value["name"]), value, attrs={"target": targets})
    _rules_changed(tx, value["bus"])


def delete_rule(tx: Tx, bus_name: str, name: str) -> bool:
    _rules_changed(tx, bus_name)
    return tx.delete(RULE, rule_key(bus_name, name))


def rules(tx: Tx, bus_name: str, prefix: str = "") -> list[Record]:
    """A bus's rules in name order. The whole list is what every PutEvents reads, so it is
    kept decoded in memory and re-read only when the bus's rules token changes (the token is
    rewritten, in the same transaction, by every change to a rule of the bus). Callers must
    not modify the returned rules."""
    if prefix:
        return [r.value for r in tx.scan(RULE, rule_key(bus_name, prefix))]
    token_rec = tx.get(RULES_TOKEN, bus_name)
    token = token_rec.value if token_rec is not None else None
    cache = _RULES_CACHE.setdefault(tx.db, {})
    key = (tx.account, tx.region, bus_name)
    hit = cache.get(key)
    if hit is not None and token is not None and hit[0] == token:
        return hit[1]
    found = [r.value for r in tx.scan(RULE, rule_key(bus_name, ""))]
    if token is not None:
        cache[key] = (token, found)
    return found


def _rules_changed(tx: Tx, bus_name: str) -> None:
    # a fresh random token, never a counter: after a reset a counter could repeat a value
    tx.put(RULES_TOKEN, bus_name, uuid.uuid4().hex)


RULES_TOKEN = "rules-token"
_RULES_CACHE: "weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str], tuple[str, list[Record]]]]" = (
    weakref.WeakKeyDictionary()
)


def rules_targeting(tx: Tx, arn: str) -> list[Record]:
    return [r.value for r in tx.find(RULE, "target", arn)]


def archives_of(tx: Tx, bus_arn: str) -> list[Record]:
    return [r.value for r in tx.find(ARCHIVE, "bus", bus_arn)]


def put_archive(tx: Tx, value: Record) -> None:
    tx.put(ARCHIVE, value["name"], value, attrs={"bus": value["source"]})


def archived_key(archive: str, ms: int, event_id: str) -> str:
    return f"{archive}/{ms:015d}/{event_id}"


def get(tx: Tx, kind: str, name: str) -> Record | None:
    rec = tx.get(kind, name)
    return None if rec is None else rec.value


def named(tx: Tx, kind: str, prefix: str | None) -> list[Record]:
    return [r.value for r in tx.scan(kind, prefix or None)]
