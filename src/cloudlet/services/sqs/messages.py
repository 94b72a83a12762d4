"""Messages: send, receive (short and long polling), delete and visibility changes."""

from __future__ import annotations

from typing import Any, Coroutine

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.sqs import access, entries, errors, metrics, model, storage, waiters
from cloudlet.services.sqs.storage import Msg, Queue

Input = dict[str, Any]
Output = dict[str, Any]


def send_message(ctx: Context, req: Input) -> Output:
    """A delay is a time stored with the message: nothing runs when it ends."""
    where = access.target(ctx, req["QueueUrl"])
    now = entries.now_ms(clock.time_s())
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        m, delay = entries.prepare(ctx, q, req, now)
        out = entries.send(tx, q, m, delay, now)
    waiters.notify(q.wait_key)
    metrics.sent(ctx, q, [entries.message_size(req)])
    return out


def receive_message(ctx: Context, req: Input) -> Output | Coroutine[Any, Any, Output]:
    """Short poll: what is receivable now. Long poll (WaitTimeSeconds, or the queue's
    ReceiveMessageWaitTimeSeconds): if nothing is, a coroutine the gateway awaits, woken
    by the next send (see ``waiters``) and ending at the deadline on the cloudlet clock.
    An in-process caller gets the short poll: it cannot wait on the event loop."""
    where = access.target(ctx, req["QueueUrl"])
    visibility = req.get("VisibilityTimeout")
    if visibility is not None and not 0 <= visibility <= model.MAX_VISIBILITY_S:
        raise errors.invalid_parameter("VisibilityTimeout", visibility, "Must be >= 0 and <= 43200, if provided.")
    attempt = req.get("ReceiveRequestAttemptId")
    if attempt is not None:
        model.check_token("ReceiveRequestAttemptId", attempt)
    start = clock.time_s()
    q, got, _ = _attempt(ctx, where, req)
    wait = req.get("WaitTimeSeconds")
    if wait is None:
        wait = q.int_attr("ReceiveMessageWaitTimeSeconds")
    if got or wait <= 0 or ctx.internal:
        if not got:
            metrics.empty_receive(ctx, q)
        return _output(q, got, req)
    return _long_poll(ctx, where, req, q.wait_key, start + wait)


async def _long_poll(ctx: Context, where: access.Target, req: Input, key: tuple[str, str, str], deadline: float) -> Output:
    with waiters.Waiter(key) as waiter:
        look = True
        due: int | None = None
        while True:
            if look:
                q, got, due = _attempt(ctx, where, req)
                if got:
                    return _output(q, got, req)
            now = clock.time_s()
            if now >= deadline:
                metrics.empty_receive(ctx, q)
                return {}
            until = deadline if due is None else min(deadline, due / 1000)
            offset = clock.offset()
            woken = await waiter.sleep(until - now)
            look = woken or clock.offset() != offset or clock.time_s() >= until


def _attempt(ctx: Context, where: access.Target, req: Input) -> tuple[Queue, list[tuple[str, Msg]], int | None]:
    """One receive: (queue, messages taken, when the next hidden message shows if none)."""
    now = entries.now_ms(clock.time_s())
    moved: list[Queue] = []
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        visibility = req.get("VisibilityTimeout")
        if visibility is None:
            visibility = q.int_attr("VisibilityTimeout")
        storage.settle(tx, q, now)
        attempt = req.get("ReceiveRequestAttemptId") if q.fifo else None
        got = _retry(tx, q, attempt, now, visibility) if attempt else None
        if got is None:
            got = storage.take(tx, q, now, req.get("MaxNumberOfMessages") or 1, visibility, _dead_letter(tx, q), moved.append)
            if attempt and got:
                storage.sweep(tx, q, now)
                storage.remember(tx, q, "a", attempt, {"items": [[mid, m["rh"]] for mid, m in got]}, now)
        due = storage.next_due(tx, q) if not got else None
    for target in moved:
        waiters.notify(target.wait_key)
    if got:
        metrics.received(ctx, q, len(got))
    return q, got, due


def _retry(tx: Any, q: Queue, attempt: str, now: int, visibility: int) -> list[tuple[str, Msg]] | None:
    """A FIFO receive retried with its ReceiveRequestAttemptId inside 5 minutes gets the
    same messages and receipt handles again (visibility restarted), unless one of them
    was deleted or changed meanwhile; then it is a new receive."""
    seen = storage.remembered(tx, q, "a", attempt, now)
    if seen is None:
        return None
    got = []
    for mid, nonce in seen["items"]:
        m = storage.get_message(tx, q, mid)
        if m is None or m.get("rh") != nonce or not storage.in_flight(m, now):
            return None
        got.append((mid, m))
    for mid, m in got:
        storage.change_visibility(tx, q, mid, m, now, visibility)
    return got


def _dead_letter(tx: Any, q: Queue) -> storage.DeadLetter | None:
    target = model.redrive_target(q.attrs)
    if target is None:
        return None
    arn = model.parse_arn(target[0])
    if arn is None or (arn.account, arn.region) != (q.account, q.region) or arn.name == q.name:
        return None
    dlq = storage.get_queue(tx, arn.name, q.partition)
    return None if dlq is None else storage.DeadLetter(dlq, target[1], q.arn)


def _output(q: Queue, got: list[tuple[str, Msg]], req: Input) -> Output:
    if not got:
        return {}
    system = set(req.get("AttributeNames") or ()) | set(req.get("MessageSystemAttributeNames") or ())
    names = req.get("MessageAttributeNames")
    return {"Messages": [entries.received(q, mid, m, system, names) for mid, m in got]}


def delete_message(ctx: Context, req: Input) -> Output:
    where = access.target(ctx, req["QueueUrl"])
    now = entries.now_ms(clock.time_s())
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        storage.settle(tx, q, now)
        deleted = entries.delete(tx, q, req["ReceiptHandle"], now)
    if deleted and q.fifo:
        waiters.notify(q.wait_key)  # its group may be unlocked now
    metrics.deleted(ctx, q, 1)
    return {}


def change_message_visibility(ctx: Context, req: Input) -> Output:
    """Counts from now, and at most 12 hours from when the message was received."""
    where = access.target(ctx, req["QueueUrl"])
    now = entries.now_ms(clock.time_s())
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        storage.settle(tx, q, now)
        entries.change_visibility(tx, q, req["ReceiptHandle"], req["VisibilityTimeout"], now)
    if req["VisibilityTimeout"] == 0:
        waiters.notify(q.wait_key)
    return {}

