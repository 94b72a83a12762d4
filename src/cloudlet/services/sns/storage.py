"""SNS in the store.

In the topic owner's account and region:

============  ==============================  ================================================
kind          key                             value
============  ==============================  ================================================
``topic``     name                            attributes, tags, FIFO flag, counters
``sub``       subscription id                 protocol, endpoint, owner, attributes, pending
                                              token; indexed by ``topic`` (its topic's name)
                                              and ``token`` (while pending)
``dedup``     ``"<topic> <dedup id>"``        FIFO: {message id, sequence, until}
``dedupx``    ``"<until ms> <topic> <id>"``   when each dedup record lapses (oldest first)
============  ==============================  ================================================

Under the service's own scope (no account, no region): the signing key
(``signing``), the outbox of email/SMS/mobile messages (``outbox``) and the jobs.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.store import Record, Tx

TOPIC = "topic"
SUB = "sub"
DEDUP = "dedup"
DEDUP_EXPIRY = "dedupx"
DEDUP_WINDOW_S = 300


def text_key(rec: Record) -> str:
    return rec.key if isinstance(rec.key, str) else rec.key.decode()


def get_topic(tx: Tx, name: str) -> dict[str, Any] | None:
    rec = tx.get(TOPIC, name)
    return None if rec is None else rec.value


def put_topic(tx: Tx, topic: dict[str, Any]) -> None:
    tx.put(TOPIC, topic["name"], topic)


def topics(tx: Tx, after: str | None, limit: int) -> list[dict[str, Any]]:
    return [r.value for r in tx.scan(TOPIC, after=after, limit=limit)]


def put_sub(tx: Tx, sub: dict[str, Any]) -> None:
    attrs: dict[str, Any] = {"topic": sub["topic"], "endpoint": f"{sub['topic']} {sub['protocol']} {sub['endpoint']}"}
    if sub.get("token"):
        attrs["token"] = sub["token"]
    tx.put(SUB, sub["id"], sub, attrs=attrs)


def get_sub(tx: Tx, sub_id: str) -> dict[str, Any] | None:
    rec = tx.get(SUB, sub_id)
    return None if rec is None else rec.value


def subs_of(tx: Tx, topic: str) -> list[dict[str, Any]]:
    return [r.value for r in tx.find(SUB, "topic", topic)]


def sub_for(tx: Tx, topic: str, protocol: str, endpoint: str) -> dict[str, Any] | None:
    found = tx.find(SUB, "endpoint", f"{topic} {protocol} {endpoint}")
    return found[0].value if found else None


def sub_by_token(tx: Tx, token: str) -> dict[str, Any] | None:
    found = tx.find(SUB, "token", token)
    return found[0].value if found else None


def all_subs(tx: Tx, after: str | None, limit: int) -> list[dict[str, Any]]:
    return [r.value for r in tx.scan(SUB, after=after, limit=limit)]


def counts(subs: list[dict[str, Any]]) -> dict[str, int]:
    pending = sum(1 for s in subs if s["pending"])
    return {"pending": pending, "confirmed": len(subs) - pending}


def delete_topic(tx: Tx, name: str) -> list[dict[str, Any]]:
    """Drops a topic, its subscriptions and dedup records; returns the subscriptions."""
    subs = subs_of(tx, name)
    for sub in subs:
        tx.delete(SUB, sub["id"])
    for rec in tx.scan(DEDUP, f"{name} "):
        tx.delete(DEDUP, rec.key)
    tx.delete(TOPIC, name)
    return subs


# -- FIFO deduplication ------------------------------------------------------------------------


def _ms(t: float) -> str:
    return f"{int(t * 1000):015d}"


def expire_dedup(tx: Tx, now: float) -> None:
    """Drop the dedup records whose five minutes are over (a range scan from the oldest)."""
    for rec in tx.scan(DEDUP_EXPIRY, limit=1000):
        key = text_key(rec)
        if key > _ms(now):
            break
        tx.delete(DEDUP_EXPIRY, key)
        tx.delete(DEDUP, rec.value)


def seen(tx: Tx, topic: str, dedup_id: str, now: float) -> dict[str, Any] | None:
    rec = tx.get(DEDUP, f"{topic} {dedup_id}")
    if rec is None or rec.value["until"] <= now:
        return None
    return rec.value


def remember(tx: Tx, topic: str, dedup_id: str, message_id: str, sequence: str, now: float) -> None:
    until = now + DEDUP_WINDOW_S
    key = f"{topic} {dedup_id}"
    old = tx.get(DEDUP, key)
    if old is not None:
        tx.delete(DEDUP_EXPIRY, f"{_ms(old.value['until'])} {key}")
    tx.put(DEDUP, key, {"id": message_id, "seq": sequence, "until": until})
    tx.put(DEDUP_EXPIRY, f"{_ms(until)} {key}", key)
