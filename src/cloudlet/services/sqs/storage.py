"""Queues and messages in the store, and the state machine a message moves through.

One record per queue (kind ``queue``, key = name). A queue's messages live under kinds
named for its id (a fresh id per CreateQueue, so a deleted queue's leftovers can never
mix with a new queue of the same name):

====================  =============================  =========================================
kind                  key                            what
====================  =============================  =========================================
``m:<id>``            mid                            the message (body, attributes, counters)
``r:<id>``            mid, or ``"<group> <mid>"``    ready to receive (FIFO: by group, in order)
``d:<id>``            ``"<visible_at> <mid>"``       delayed (DelaySeconds)
``f:<id>``            ``"<visible_at> <mid>"``       in flight (received, not yet deleted)
``h:<id>``            ``"<head mid> <group>"``       FIFO: groups not locked that have a ready
                                                     message, oldest head first
``g:<id>``            group                          FIFO: {"n": in flight, "head": mid}
``u:<id>``            ``"<scope> <dedup id>"``       FIFO deduplication ids (5-minute window)
``a:<id>``            attempt id                     FIFO ReceiveRequestAttemptIds (5 minutes)
``x:<id>``            ``"<expires> <u|a><key>"``     when each ``u``/``a`` record lapses
``ctr``               queue id                       the queue's message counter
====================  =============================  =========================================

``mid`` is ``"<enqueued ms, 15 digits> .<counter, 12 digits>"`` without the space, so
the message records sort by enqueue time (retention is a scan from the start that stops
at the first young message) and, within FIFO, by send order. Times are epoch
milliseconds on the cloudlet clock, zero-padded so that key order is time order.

Nothing moves a message when time passes: ``settle`` runs at the start of every
operation on a queue and moves the ``d``/``f`` entries whose time has come (read in key
order, so it stops at the first that is not due) back to ``r``, and drops messages past
retention. Every read is therefore a bounded range scan, and after ``settle`` the three
``ApproximateNumberOfMessages*`` counts are exact ``count()`` s of ``r``, ``f`` and ``d``.

FIFO invariant: a group is locked while ``g.n > 0`` (a message of it in flight); a group
has an ``h`` entry exactly when it is unlocked and has a ready message (``g.head``).
Receive takes the oldest head, then that group's ready messages in order.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from cloudlet.core.store import Record, Tx
from cloudlet.services.sqs import model

QUEUE = "queue"
DELETED = "deleted"  # name -> when it was deleted (QueueDeletedRecently)
COUNTER = "ctr"
TASK = "task"  # message move tasks, keyed "<source arn> <started ms> <task id>"

Msg = dict[str, Any]


def t(ms: int) -> str:
    return f"{ms:015d}"


def key(rec: Record) -> str:
    """A record's key: every SQS key is text."""
    return rec.key if isinstance(rec.key, str) else rec.key.decode()


@dataclass(slots=True)
class Queue:
    """A queue record, with its place (account, region) and the kinds of its messages."""

    account: str
    region: str
    partition: str
    name: str
    id: str
    fifo: bool
    attrs: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    created: int = 0
    modified: int = 0
    purged: float | None = None
    version: int = 0

    @property
    def arn(self) -> str:
        return model.queue_arn(self.partition, self.region, self.account, self.name)

    @property
    def wait_key(self) -> tuple[str, str, str]:
        """What its long-polling receivers wait on (``waiters``)."""
        return (self.account, self.region, self.id)

    def kind(self, letter: str) -> str:
        return f"{letter}:{self.id}"

    def int_attr(self, name: str) -> int:
        return int(self.attrs.get(name) or model.DEFAULTS.get(name) or 0)

    @property
    def retention_ms(self) -> int:
        return self.int_attr("MessageRetentionPeriod") * 1000

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id, "fifo": self.fifo, "attrs": self.attrs, "tags": self.tags,
            "created": self.created, "modified": self.modified, "purged": self.purged,
        }

    def index(self) -> dict[str, Any]:
        """Secondary attributes: the dead-letter queue it redrives to (ListDeadLetterSourceQueues)."""
        target = model.redrive_target(self.attrs)
        return {"dlq": target[0] if target else None}


def get_queue(tx: Tx, name: str, partition: str) -> Queue | None:
    rec = tx.get(QUEUE, name)
    if rec is None:
        return None
    return _queue(tx, name, rec.value, rec.version, partition)


def _queue(tx: Tx, name: str, v: dict[str, Any], version: int, partition: str) -> Queue:
    return Queue(
        account=tx.account, region=tx.region, partition=partition, name=name, id=v["id"], fifo=v["fifo"],
        attrs=v["attrs"], tags=v.get("tags") or {}, created=v["created"], modified=v["modified"],
        purged=v.get("purged"), version=version,
    )


def queues(tx: Tx, prefix: str | None, after: str | None, limit: int, partition: str) -> list[Queue]:
    return [_queue(tx, key(r), r.value, r.version, partition) for r in tx.scan(QUEUE, prefix or None, after=after, limit=limit)]


def sources_of(tx: Tx, dlq_arn: str, partition: str) -> list[Queue]:
    """The queues whose RedrivePolicy names `dlq_arn`, by name."""
    return [_queue(tx, key(r), r.value, r.version, partition) for r in tx.find(QUEUE, "dlq", dlq_arn)]


def put_queue(tx: Tx, q: Queue) -> None:
    q.version = tx.put(QUEUE, q.name, q.record(), attrs=q.index())


def new_queue_id() -> str:
    return secrets.token_hex(8)


# -- the message state machine ------------------------------------------------------------


def in_flight(m: Msg, now: int) -> bool:
    return bool(m["st"] == "f" and m["vis"] > now)


def _rkey(q: Queue, mid: str, group: str | None) -> str:
    return f"{group} {mid}" if q.fifo else mid


def enqueue(tx: Tx, q: Queue, m: Msg, now: int, delay_s: int) -> str:
    """Add a message (fresh, or moved from another queue with its own enqueue time).
    Returns its mid; sets its FIFO sequence number."""
    ctr = tx.get(COUNTER, q.id)
    n, last = (ctr.value["n"], ctr.value["enq"]) if ctr is not None else (0, 0)
    n += 1
    enq = m.get("enq")
    if enq is None:  # fresh: never before the last one, so mids follow send order
        enq = m["enq"] = max(now, last)
    mid = f"{t(enq)}.{n:012d}"
    if q.fifo:
        m["seq"] = model.sequence_number(n)
    group = m.get("grp") if q.fifo else None
    if delay_s > 0:
        m["st"], m["vis"] = "d", now + delay_s * 1000
        tx.put(q.kind("d"), f"{t(m['vis'])} {mid}", group)
    else:
        m["st"], m["vis"] = "r", now
        _make_ready(tx, q, mid, group, from_flight=False)
    tx.put(q.kind("m"), mid, m)
    tx.put(COUNTER, q.id, {"n": n, "enq": max(enq, last)})
    return mid


def _make_ready(tx: Tx, q: Queue, mid: str, group: str | None, from_flight: bool) -> None:
    if not q.fifo:
        tx.put(q.kind("r"), mid, None)
        return
    tx.put(q.kind("r"), f"{group} {mid}", None)
    g = _group(tx, q, group)
    if from_flight:
        g["n"] -= 1
    if g["n"] == 0:
        _rehead(tx, q, group, g)
    else:
        tx.put(q.kind("g"), group or "", g)


def _group(tx: Tx, q: Queue, group: str | None) -> dict[str, Any]:
    rec = tx.get(q.kind("g"), group or "")
    return rec.value if rec is not None else {"n": 0, "head": None}


def _rehead(tx: Tx, q: Queue, group: str | None, g: dict[str, Any]) -> None:
    """An unlocked group: its head is its first ready message (or none, and the group
    record goes)."""
    group = group or ""
    first = tx.scan(q.kind("r"), f"{group} ", limit=1)
    head = key(first[0])[len(group) + 1 :] if first else None
    if g["head"] != head:
        if g["head"]:
            tx.delete(q.kind("h"), f"{g['head']} {group}")
        if head:
            tx.put(q.kind("h"), f"{head} {group}", None)
        g["head"] = head
    if g["n"] == 0 and head is None:
        tx.delete(q.kind("g"), group)
    else:
        tx.put(q.kind("g"), group or "", g)


def settle(tx: Tx, q: Queue, now: int) -> None:
    """Bring the queue to `now`: delayed and in-flight messages whose time has come are
    ready again, and messages past retention are gone. Bounded by what came due."""
    for letter in ("d", "f"):
        kind, batch = q.kind(letter), 1  # the earliest first: usually it is not due and we stop there
        while True:
            recs = tx.scan(kind, limit=batch)
            due = [r for r in recs if int(key(r)[:15]) <= now]
            for rec in due:
                tx.delete(kind, rec.key)
                _make_ready(tx, q, key(rec)[16:], rec.value, from_flight=letter == "f")
            if len(due) < batch:
                break
            batch = 64
    _expire(tx, q, now)


def _expire(tx: Tx, q: Queue, now: int) -> None:
    cutoff = now - q.retention_ms
    kind, batch = q.kind("m"), 1  # the oldest first: usually it is young and we stop there
    while True:
        recs = tx.scan(kind, limit=batch)
        for rec in recs:
            if int(key(rec)[:15]) > cutoff:
                return
            remove(tx, q, key(rec), rec.value)
        if len(recs) < batch:
            return
        batch = 64


def remove(tx: Tx, q: Queue, mid: str, m: Msg) -> None:
    """Delete a message and its index entry, wherever it is; unlock its FIFO group."""
    group = m.get("grp") if q.fifo else None
    st = m["st"]
    if st in ("d", "f") and tx.delete(q.kind(st), f"{t(m['vis'])} {mid}"):
        if st == "f" and q.fifo:
            g = _group(tx, q, group)
            g["n"] -= 1
            if g["n"] == 0:
                _rehead(tx, q, group, g)
            else:
                tx.put(q.kind("g"), group or "", g)
    elif tx.delete(q.kind("r"), _rkey(q, mid, group)) and q.fifo:
        g = _group(tx, q, group)
        if g["head"] == mid:
            _rehead(tx, q, group, g)
    tx.delete(q.kind("m"), mid)


def get_message(tx: Tx, q: Queue, mid: str) -> Msg | None:
    rec = tx.get(q.kind("m"), mid)
    return None if rec is None else rec.value


def change_visibility(tx: Tx, q: Queue, mid: str, m: Msg, now: int, timeout_s: int) -> None:
    """Move an in-flight message's visibility to now + timeout (0: visible at once)."""
    group = m.get("grp") if q.fifo else None
    tx.delete(q.kind("f"), f"{t(m['vis'])} {mid}")
    m["vis"] = now + timeout_s * 1000
    tx.put(q.kind("f"), f"{t(m['vis'])} {mid}", group)
    tx.put(q.kind("m"), mid, m)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Where a queue's messages go once received `max_receives` times."""

    target: Queue
    max_receives: int
    source_arn: str


def take(
    tx: Tx, q: Queue, now: int, count: int, visibility_s: int, dead: DeadLetter | None, moved: Callable[[Queue], None]
) -> list[tuple[str, Msg]]:
    """Receive up to `count` messages: each goes in flight for `visibility_s` with a new
    receipt. A message received `max_receives` times already goes to the dead-letter
    queue instead (``moved`` is told, to wake its receivers)."""
    if q.fifo:
        return _take_fifo(tx, q, now, count, visibility_s, dead, moved)
    out: list[tuple[str, Msg]] = []
    after: str | None = None
    while len(out) < count:
        recs = tx.scan(q.kind("r"), after=after, limit=count - len(out))
        if not recs:
            break
        for rec in recs:
            after = mid = key(rec)
            m = tx.get(q.kind("m"), mid).value  # type: ignore[union-attr]
            if dead is not None and m["rc"] >= dead.max_receives:
                _to_dead_letter(tx, q, mid, m, mid, now, dead)
                moved(dead.target)
                continue
            _deliver(tx, q, mid, m, mid, now, visibility_s)
            out.append((mid, m))
    return out


def _take_fifo(
    tx: Tx, q: Queue, now: int, count: int, visibility_s: int, dead: DeadLetter | None, moved: Callable[[Queue], None]
) -> list[tuple[str, Msg]]:
    out: list[tuple[str, Msg]] = []
    while len(out) < count:
        heads = tx.scan(q.kind("h"), limit=1)
        if not heads:
            break
        group = key(heads[0]).split(" ", 1)[1]
        tx.delete(q.kind("h"), heads[0].key)
        g = _group(tx, q, group)
        g["head"] = None
        prefix, after = f"{group} ", None
        while len(out) < count:
            recs = tx.scan(q.kind("r"), prefix, after=after, limit=count - len(out))
            if not recs:
                break
            for rec in recs:
                after = rkey = key(rec)
                mid = rkey[len(prefix) :]
                m = tx.get(q.kind("m"), mid).value  # type: ignore[union-attr]
                if dead is not None and m["rc"] >= dead.max_receives:
                    _to_dead_letter(tx, q, mid, m, rkey, now, dead)
                    moved(dead.target)
                    continue
                _deliver(tx, q, mid, m, rkey, now, visibility_s)
                g["n"] += 1
                out.append((mid, m))
        if g["n"] == 0:
            _rehead(tx, q, group, g)
        else:
            tx.put(q.kind("g"), group or "", g)
    return out


def _deliver(tx: Tx, q: Queue, mid: str, m: Msg, rkey: str, now: int, visibility_s: int) -> None:
    tx.delete(q.kind("r"), rkey)
    m["rc"] += 1
    if m.get("frc") is None:
        m["frc"] = now
    m["st"], m["vis"], m["rt"] = "f", now + visibility_s * 1000, now
    m["rh"] = secrets.token_hex(8)
    tx.put(q.kind("f"), f"{t(m['vis'])} {mid}", m.get("grp") if q.fifo else None)
    tx.put(q.kind("m"), mid, m)


def _to_dead_letter(tx: Tx, q: Queue, mid: str, m: Msg, rkey: str, now: int, dead: DeadLetter) -> None:
    tx.delete(q.kind("r"), rkey)
    tx.delete(q.kind("m"), mid)
    moved_msg = transfer_copy(m, dead.target)
    moved_msg["dlq"] = dead.source_arn
    enqueue(tx, dead.target, moved_msg, now, 0)


def transfer_copy(m: Msg, target: Queue, *, reset_receives: bool = False) -> Msg:
    """A message as it arrives in another queue by a move: same id, body and attributes.
    A standard queue keeps the original enqueue time (retention counts from it); a FIFO
    queue restarts it, as AWS documents for dead-letter queues."""
    keep = ("id", "body", "ma", "md5b", "md5a", "sa", "md5s", "sent", "sender", "grp", "dedup", "rc", "frc", "dlq")
    out = {k: m.get(k) for k in keep}
    out["enq"] = None if target.fifo else m["enq"]
    if reset_receives:
        out["rc"], out["frc"] = 0, None
    if target.fifo and not out.get("grp"):
        out["grp"] = "default"  # a standard message has no group; a FIFO queue needs one
    return out


def ready(tx: Tx, q: Queue, limit: int, after: str | None = None) -> list[tuple[str, str]]:
    """(r key, mid) of ready messages, in key order: what a move task takes."""
    out = []
    for rec in tx.scan(q.kind("r"), after=after, limit=limit):
        rkey = key(rec)
        out.append((rkey, rkey.split(" ", 1)[1] if q.fifo else rkey))
    return out


def take_for_move(tx: Tx, q: Queue, rkey: str, mid: str) -> Msg | None:
    """Take a ready message out of `q` (a move task moving it elsewhere)."""
    rec = tx.get(q.kind("m"), mid)
    if rec is None:
        return None
    m: Msg = rec.value
    remove(tx, q, mid, m)
    return m


def counts(tx: Tx, q: Queue) -> tuple[int, int, int]:
    """(visible, in flight, delayed), exact once the queue is settled."""
    return tx.count(q.kind("r")), tx.count(q.kind("f")), tx.count(q.kind("d"))


def next_due(tx: Tx, q: Queue) -> int | None:
    """The earliest time a delayed or in-flight message becomes visible (long polls wait for it)."""
    times = [int(key(recs[0])[:15]) for recs in (tx.scan(q.kind(x), limit=1) for x in ("d", "f")) if recs]
    return min(times) if times else None


def purge(tx: Tx, q: Queue) -> None:
    for letter in ("m", "r", "d", "f", "h", "g"):
        _wipe(tx, q.kind(letter))


def drop(tx: Tx, q: Queue) -> None:
    """Everything a queue holds, for DeleteQueue."""
    purge(tx, q)
    for letter in ("u", "a", "x"):
        _wipe(tx, q.kind(letter))
    tx.delete(COUNTER, q.id)


def _wipe(tx: Tx, kind: str) -> None:
    while True:
        recs = tx.scan(kind, limit=500)
        for rec in recs:
            tx.delete(kind, rec.key)
        if len(recs) < 500:
            return


# -- FIFO deduplication and receive attempts -------------------------------------------------


def remembered(tx: Tx, q: Queue, letter: str, name: str, now: int) -> dict[str, Any] | None:
    """A live deduplication (``u``) or receive-attempt (``a``) record."""
    rec = tx.get(q.kind(letter), name)
    if rec is None or rec.value["exp"] <= now:
        return None
    value: dict[str, Any] = rec.value
    return value


def remember(tx: Tx, q: Queue, letter: str, name: str, value: dict[str, Any], now: int) -> None:
    exp = value["exp"] = now + model.DEDUP_WINDOW_MS
    tx.put(q.kind(letter), name, value)
    tx.put(q.kind("x"), f"{t(exp)} {letter}{name}", None)


def sweep(tx: Tx, q: Queue, now: int) -> None:
    """Forget deduplication and attempt records past their window (bounded per call)."""
    kind = q.kind("x")
    for limit in (1, 64):  # the earliest first: usually it has not lapsed and we stop there
        recs = tx.scan(kind, limit=limit)
        for rec in recs:
            text = key(rec)
            if int(text[:15]) > now:
                return
            tx.delete(kind, text)
            letter, name = text[16], text[17:]
            live = tx.get(q.kind(letter), name)
            if live is not None and live.value["exp"] <= now:
                tx.delete(q.kind(letter), name)
        if len(recs) < limit:
            return
