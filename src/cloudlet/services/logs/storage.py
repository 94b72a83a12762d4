"""Log groups, streams and events in the store.

================  =============================  ==========================================
kind              key                            value
================  =============================  ==========================================
``group``         group name                     the group (id, creation, retention, tags,
                                                 class, stored bytes...)
``s:<gid>``       stream name                    the stream (id, creation, first/last event
                                                 timestamps, last ingestion, counter)
``e:<sid>``       ``<ts, 15 digits><seq, 10>``   one event: ``[message, ingestion ms]``
================  =============================  ==========================================

A group's ``gid`` and a stream's ``sid`` are fresh random numbers at each create, so a
re-created group or stream never sees the events of the one deleted before it. Event keys
sort by (timestamp, sequence): a read of a time window is one range scan of the stream,
retention is a scan from the start up to the cutoff, and events with equal timestamps keep
the order they were put in. Times are epoch milliseconds on the cloudlet clock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Iterator

from cloudlet.core.store import Tx

GROUP = "group"
SEQ_DIGITS = 10
#: events read per scan when a reader walks a stream lazily
CHUNK = 256


def ekey(ts: int, seq: int) -> str:
    return f"{ts:015d}{seq:0{SEQ_DIGITS}d}"


def parse_ekey(key: str | bytes) -> tuple[int, int]:
    k = key if isinstance(key, str) else key.decode()
    return int(k[:15]), int(k[15:])


def _text(key: str | bytes) -> str:
    return key if isinstance(key, str) else key.decode()


@dataclass(slots=True)
class Group:
    name: str
    id: int
    created: int
    retention: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    log_class: str = "STANDARD"
    kms: str | None = None
    protected: bool = False
    stored: int = 0

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "created": self.created, "retention": self.retention, "tags": self.tags,
                "class": self.log_class, "kms": self.kms, "protected": self.protected, "stored": self.stored}

    @property
    def streams_kind(self) -> str:
        return f"s:{self.id}"


@dataclass(slots=True)
class Stream:
    name: str
    id: int
    created: int
    first: int | None = None
    last: int | None = None
    ingested: int | None = None
    n: int = 0  # events ever put: the next event's sequence

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "created": self.created, "first": self.first, "last": self.last,
                "ingested": self.ingested, "n": self.n}

    @property
    def events_kind(self) -> str:
        return f"e:{self.id}"


def new_id() -> int:
    return secrets.randbits(50)


def _group(name: str, v: dict[str, Any]) -> Group:
    return Group(name=name, id=v["id"], created=v["created"], retention=v.get("retention"), tags=v.get("tags") or {},
                 log_class=v.get("class") or "STANDARD", kms=v.get("kms"), protected=bool(v.get("protected")),
                 stored=v.get("stored") or 0)


def _stream(name: str, v: dict[str, Any]) -> Stream:
    return Stream(name=name, id=v["id"], created=v["created"], first=v.get("first"), last=v.get("last"),
                  ingested=v.get("ingested"), n=v.get("n") or 0)


def get_group(tx: Tx, name: str) -> Group | None:
    rec = tx.get(GROUP, name)
    return None if rec is None else _group(name, rec.value)


def put_group(tx: Tx, g: Group) -> None:
    tx.put(GROUP, g.name, g.record())


def groups(tx: Tx, prefix: str | None = None, after: str | None = None, limit: int | None = None) -> list[Group]:
    return [_group(_text(r.key), r.value) for r in tx.scan(GROUP, prefix or None, after=after, limit=limit)]


def get_stream(tx: Tx, g: Group, name: str) -> Stream | None:
    rec = tx.get(g.streams_kind, name)
    return None if rec is None else _stream(name, rec.value)


def put_stream(tx: Tx, g: Group, s: Stream) -> None:
    tx.put(g.streams_kind, s.name, s.record())


def streams(tx: Tx, g: Group, prefix: str | None = None, after: str | None = None,
            limit: int | None = None) -> list[Stream]:
    return [_stream(_text(r.key), r.value) for r in tx.scan(g.streams_kind, prefix or None, after=after, limit=limit)]


def add_events(tx: Tx, s: Stream, events: list[tuple[int, str]], now: int) -> None:
    """Append events (in time order) to a stream; the caller writes the stream record."""
    kind = s.events_kind
    seq = s.n
    for ts, message in events:
        tx.put(kind, ekey(ts, seq), [message, now])
        seq += 1
    s.n = seq
    first, last = events[0][0], events[-1][0]
    s.first = first if s.first is None else min(s.first, first)
    s.last = last if s.last is None else max(s.last, last)
    s.ingested = now


def scan_events(tx: Tx, s: Stream, lo: str | None, hi: str | None, *, reverse: bool = False,
                limit: int | None = None) -> list[tuple[int, int, str, int]]:
    """(timestamp, sequence, message, ingestion) of the stream's events with lo <= key < hi."""
    out = []
    for r in tx.scan(s.events_kind, lo=lo, hi=hi, reverse=reverse, limit=limit):
        ts, seq = parse_ekey(r.key)
        out.append((ts, seq, r.value[0], r.value[1]))
    return out


def iter_events(tx: Tx, s: Stream, lo: str, hi: str) -> Iterator[tuple[int, int, str, int]]:
    """The events of [lo, hi) in key order, read CHUNK at a time (a merge over many streams
    reads only as far as it gets)."""
    while True:
        chunk = scan_events(tx, s, lo, hi, limit=CHUNK)
        yield from chunk
        if len(chunk) < CHUNK:
            return
        ts, seq = chunk[-1][0], chunk[-1][1]
        lo = ekey(ts, seq + 1)


def delete_events_before(tx: Tx, s: Stream, cutoff: int, batch: int = 1000) -> int:
    """Remove the stream's events older than `cutoff`; returns the bytes removed."""
    removed = 0
    hi = ekey(cutoff, 0)
    while True:
        recs = tx.scan(s.events_kind, hi=hi, limit=batch)
        for r in recs:
            removed += len(r.value[0].encode("utf-8", "surrogatepass"))
            tx.delete(s.events_kind, r.key)
        if len(recs) < batch:
            break
    return removed


def drop_stream(tx: Tx, g: Group, s: Stream) -> int:
    """Delete a stream and its events; returns the bytes removed."""
    removed = 0
    while True:
        recs = tx.scan(s.events_kind, limit=1000)
        for r in recs:
            removed += len(r.value[0].encode("utf-8", "surrogatepass"))
            tx.delete(s.events_kind, r.key)
        if len(recs) < 1000:
            break
    tx.delete(g.streams_kind, s.name)
    return removed


def first_event(tx: Tx, s: Stream) -> int | None:
    recs = tx.scan(s.events_kind, limit=1)
    return parse_ekey(recs[0].key)[0] if recs else None
