"""Batch operations: up to 10 entries in one transaction, each succeeding or failing on
its own (``Failed`` entries with AWS's code); only a malformed batch fails the call."""

from __future__ import annotations

from typing import Any, Callable

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sqs import access, entries, errors, metrics, model, storage, waiters

Input = dict[str, Any]
Output = dict[str, Any]


def _check_batch(items: list[dict[str, Any]], entry_name: str) -> None:
    if not items:
        raise errors.empty_batch(entry_name)
    if len(items) > 10:
        raise errors.too_many_entries(len(items))
    seen: set[str] = set()
    for item in items:
        if not model.check_batch_id(item["Id"]):
            raise errors.invalid_batch_entry_id()
        if item["Id"] in seen:
            raise errors.ids_not_distinct(item["Id"])
        seen.add(item["Id"])


def _each(items: list[dict[str, Any]], run: Callable[[dict[str, Any]], dict[str, Any]]) -> Output:
    ok, failed = [], []
    for item in items:
        try:
            ok.append(run(item))
        except ServiceError as err:
            failed.append(errors.entry_failure(item["Id"], err))
    return {"Successful": ok, "Failed": failed}


def send_message_batch(ctx: Context, req: Input) -> Output:
    """FIFO entries are enqueued in the order of the batch."""
    items = req["Entries"]
    _check_batch(items, "SendMessageBatchRequestEntry")
    size = sum(entries.message_size(item) for item in items)
    if size > model.MAX_MESSAGE_BYTES:
        raise errors.batch_too_long(size, model.MAX_MESSAGE_BYTES)
    where = access.target(ctx, req["QueueUrl"])
    now = entries.now_ms(clock.time_s())
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)

        def run(item: dict[str, Any]) -> dict[str, Any]:
            m, delay = entries.prepare(ctx, q, item, now)
            with where.tx(ctx) as entry_tx:  # a savepoint: a failed entry leaves nothing behind
                return {"Id": item["Id"], **entries.send(entry_tx, q, m, delay, now)}

        out = _each(items, run)
    if out["Successful"]:
        waiters.notify(q.wait_key)
        ok = {r["Id"] for r in out["Successful"]}
        metrics.sent(ctx, q, [entries.message_size(item) for item in items if item["Id"] in ok])
    return out


def _on_handles(
    ctx: Context, req: Input, entry_name: str, act: Callable[[Any, storage.Queue, dict[str, Any], int], None]
) -> tuple[storage.Queue, Output]:
    """Delete and ChangeMessageVisibility batches: settle the queue, then `act` on each
    entry's receipt handle in one transaction, each entry failing on its own."""
    items = req["Entries"]
    _check_batch(items, entry_name)
    where = access.target(ctx, req["QueueUrl"])
    now = entries.now_ms(clock.time_s())
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        storage.settle(tx, q, now)

        def run(item: dict[str, Any]) -> dict[str, Any]:
            act(tx, q, item, now)
            return {"Id": item["Id"]}

        out = _each(items, run)
    return q, out


def delete_message_batch(ctx: Context, req: Input) -> Output:
    q, out = _on_handles(
        ctx, req, "DeleteMessageBatchRequestEntry",
        lambda tx, q, item, now: entries.delete(tx, q, item["ReceiptHandle"], now),
    )
    if q.fifo and out["Successful"]:
        waiters.notify(q.wait_key)
    metrics.deleted(ctx, q, len(out["Successful"]))
    return out


def change_message_visibility_batch(ctx: Context, req: Input) -> Output:
    q, out = _on_handles(
        ctx, req, "ChangeMessageVisibilityBatchRequestEntry",
        lambda tx, q, item, now: entries.change_visibility(
            tx, q, item["ReceiptHandle"], item.get("VisibilityTimeout") or 0, now
        ),
    )
    if any(item.get("VisibilityTimeout") == 0 for item in req["Entries"]):
        waiters.notify(q.wait_key)
    return out
