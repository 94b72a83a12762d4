"""Queue tags (cost allocation): kept with the queue, at most 50."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.sqs import access, model, storage

Input = dict[str, Any]
Output = dict[str, Any]


def tag_queue(ctx: Context, req: Input) -> Output:
    where = access.target(ctx, req["QueueUrl"])
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        q.tags = model.merge_tags(q.tags, req["Tags"], q.name)
        storage.put_queue(tx, q)
    return {}


def untag_queue(ctx: Context, req: Input) -> Output:
    where = access.target(ctx, req["QueueUrl"])
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        q.tags = {k: v for k, v in q.tags.items() if k not in set(req["TagKeys"])}
        storage.put_queue(tx, q)
    return {}


def list_queue_tags(ctx: Context, req: Input) -> Output:
    where = access.target(ctx, req["QueueUrl"])
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
    return {"Tags": dict(q.tags)} if q.tags else {}
