"""Queues: create, find, list, delete, purge, attributes and dead-letter sources."""

from __future__ import annotations

import base64
import json
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.sqs import access, errors, metrics, model, settings, storage, waiters

Input = dict[str, Any]
Output = dict[str, Any]


def create_queue(ctx: Context, req: Input) -> Output:
    """Creating an existing queue again is fine when every attribute named matches its
    current value (AWS returns the URL); a different value is QueueNameExists. A name
    deleted less than 60 seconds ago (cloudlet clock) is QueueDeletedRecently."""
    name = req["QueueName"]
    given = {k: ("" if v is None else str(v)) for k, v in (req.get("Attributes") or {}).items()}
    fifo = model.is_true(given.get("FifoQueue"))
    model.check_queue_name(name, fifo)
    changes = model.normalize_attributes(given, fifo=fifo, creating=True)
    tags = model.merge_tags({}, req.get("tags") or {}, name)
    now = int(clock.time_s())
    with ctx.tx() as tx:
        existing = storage.get_queue(tx, name, ctx.partition)
        if existing is not None:
            for key, value in changes.items():
                if existing.attrs.get(key, "") != value:
                    raise errors.queue_name_exists(key)
            return {"QueueUrl": access.url_of(ctx, existing)}
        gone = tx.get(storage.DELETED, name)
        if gone is not None and now - gone.value < model.RECREATE_COOLDOWN_S:
            raise errors.queue_deleted_recently()
        settings.check_redrive(ctx, tx, name, fifo, changes)
        base = {**model.DEFAULTS, **(model.FIFO_DEFAULTS if fifo else {})}
        attrs = model.apply_attributes(base, changes)
        q = storage.Queue(
            account=ctx.account, region=ctx.region, partition=ctx.partition, name=name,
            id=storage.new_queue_id(), fifo=fifo, attrs=attrs, tags=tags, created=now, modified=now,
        )
        storage.put_queue(tx, q)
        if gone is not None:
            tx.delete(storage.DELETED, name)
    metrics.start_gauges(ctx, q)
    return {"QueueUrl": access.url_of(ctx, q)}


def get_queue_url(ctx: Context, req: Input) -> Output:
    owner = req.get("QueueOwnerAWSAccountId") or ctx.account
    where = access.Target(owner, req["QueueName"])
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
    return {"QueueUrl": access.url_of(ctx, q)}


def list_queues(ctx: Context, req: Input) -> Output:
    """Up to 1,000 URLs in name order; with MaxResults, pages and a NextToken."""
    limit = req.get("MaxResults")
    if limit is not None and not 1 <= limit <= 1000:
        raise errors.invalid_parameter("MaxResults", limit, "MaxResults must be an integer between 1 and 1000.")
    after = _after(req.get("NextToken"))
    with ctx.tx() as tx:
        found = storage.queues(tx, req.get("QueueNamePrefix"), after, (limit or 1000) + 1, ctx.partition)
    out: Output = {}
    page = found[: limit or 1000]
    if page:
        out["QueueUrls"] = [access.url_of(ctx, q) for q in page]
    if limit is not None and len(found) > limit:
        out["NextToken"] = _token(page[-1].name)
    return out


def delete_queue(ctx: Context, req: Input) -> Output:
    where = access.target(ctx, req["QueueUrl"])
    now = int(clock.time_s())
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        storage.drop(tx, q)
        tx.delete(storage.QUEUE, q.name)
        tx.put(storage.DELETED, q.name, now)
    waiters.notify(q.wait_key)  # its long polls end: the queue is gone
    return {}


def purge_queue(ctx: Context, req: Input) -> Output:
    """Every message goes at once (AWS takes up to 60 s); a second purge within 60 s of
    the cloudlet clock is PurgeQueueInProgress."""
    where = access.target(ctx, req["QueueUrl"])
    now = clock.time_s()
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        if q.purged is not None and now - q.purged < model.PURGE_COOLDOWN_S:
            raise errors.purge_in_progress(q.name)
        storage.purge(tx, q)
        q.purged = now
        storage.put_queue(tx, q)
    return {}


def get_queue_attributes(ctx: Context, req: Input) -> Output:
    """The counts are exact: the queue is settled to the cloudlet clock first."""
    names = req.get("AttributeNames") or []
    settings.check_names(names)
    where = access.target(ctx, req["QueueUrl"])
    now = int(clock.time_s() * 1000)
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        if not names:
            return {}
        storage.settle(tx, q, now)
        counts = storage.counts(tx, q)
    attrs = settings.view(q, counts, names)
    return {"Attributes": attrs} if attrs else {}


def set_queue_attributes(ctx: Context, req: Input) -> Output:
    """A shorter MessageRetentionPeriod applies to the messages already there, as AWS
    documents: the next read drops those older than it."""
    where = access.target(ctx, req["QueueUrl"])
    given = {k: ("" if v is None else str(v)) for k, v in (req.get("Attributes") or {}).items()}
    now = int(clock.time_s())
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        changes = model.normalize_attributes(given, fifo=q.fifo, creating=False)
        settings.check_redrive(ctx, tx, q.name, q.fifo, changes)
        q.attrs = model.apply_attributes(q.attrs, changes)
        q.modified = now
        storage.put_queue(tx, q)
    return {}


def list_dead_letter_source_queues(ctx: Context, req: Input) -> Output:
    where = access.target(ctx, req["QueueUrl"])
    limit = req.get("MaxResults")
    if limit is not None and not 1 <= limit <= 1000:
        raise errors.invalid_parameter("MaxResults", limit, "MaxResults must be an integer between 1 and 1000.")
    after = _after(req.get("NextToken"))
    with where.tx(ctx) as tx:
        dlq = access.load(ctx, tx, where)
        sources = sorted(storage.sources_of(tx, dlq.arn, ctx.partition), key=lambda q: q.name)
    if after is not None:
        sources = [q for q in sources if q.name > after]
    page = sources[: limit or 1000]
    out: Output = {"queueUrls": [access.url_of(ctx, q) for q in page]}
    if limit is not None and len(sources) > limit:
        out["NextToken"] = _token(page[-1].name)
    return out


# -- helpers ---------------------------------------------------------------------------------


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": name}).encode()).decode()


def _after(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return str(json.loads(base64.urlsafe_b64decode(token.encode()))["after"])
    except (ValueError, KeyError, TypeError):
        raise errors.invalid_parameter_text("Invalid NextToken value.") from None
