"""The CloudWatch metrics SQS publishes (namespace ``AWS/SQS``, dimension ``QueueName``).

Counters are recorded by the operations, after their transaction commits (a failed call
counts nothing), against the queue owner's account and region, as AWS does:
NumberOfMessagesSent, SentMessageSize (one sample per message), NumberOfMessagesReceived,
NumberOfEmptyReceives (one per ReceiveMessage call that returned nothing, a long poll
counting once at its end), NumberOfMessagesDeleted. Messages moved to a dead-letter queue
by maxReceiveCount are not "sent" to it (AWS counts only explicit sends).

The ``Approximate*`` gauges are what AWS samples once a minute, so a scheduler job per
queue (``gauges``, every 60 s, created with the queue) settles the queue at its minute and
records them: the counts are exact there (see ``storage``). After a clock jump it runs
once, at the last missed minute (catch-up), rather than inventing a sample for every
minute nobody observed. It ends itself when its queue is gone (a queue created again
under the name starts it again).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cloudlet.core import clock, metrics
from cloudlet.core.context import Context
from cloudlet.core.scheduler import Job
from cloudlet.services.sqs import storage
from cloudlet.services.sqs.storage import Queue

NAMESPACE = "AWS/SQS"
GAUGES = "sqs.queue_gauges"
COUNT, BYTES, SECONDS = "Count", "Bytes", "Seconds"


def _put(ctx: Context, q: Queue, samples: list[tuple[str, float, str]], at: dt.datetime | None = None) -> None:
    if not samples:
        return
    when = at or clock.now()
    dims = {"QueueName": q.name}
    metrics.record_many(ctx.gateway, q.account, q.region, NAMESPACE, dims, samples, when)


def sent(ctx: Context, q: Queue, sizes: list[int]) -> None:
    samples = [("NumberOfMessagesSent", 1.0, COUNT) for _ in sizes]
    samples += [("SentMessageSize", float(size), BYTES) for size in sizes]
    _put(ctx, q, samples)


def received(ctx: Context, q: Queue, n: int) -> None:
    _put(ctx, q, [("NumberOfMessagesReceived", 1.0, COUNT)] * n)


def empty_receive(ctx: Context, q: Queue) -> None:
    _put(ctx, q, [("NumberOfEmptyReceives", 1.0, COUNT)])


def deleted(ctx: Context, q: Queue, n: int) -> None:
    _put(ctx, q, [("NumberOfMessagesDeleted", 1.0, COUNT)] * n)


def job_key(q: Queue) -> str:
    return f"sqs.gauges/{q.account}/{q.region}/{q.name}"


def start_gauges(ctx: Context, q: Queue) -> None:
    """Sample the queue's gauges every minute from now (idempotent for the same queue)."""
    if ctx.gateway is None:
        return
    payload = {"account": q.account, "region": q.region, "partition": q.partition, "name": q.name}
    ctx.gateway.scheduler.every(job_key(q), 60, GAUGES, catch_up=True, payload=payload)


def sample_gauges(job: Job) -> None:
    """One minute's sample of a queue's Approximate* gauges."""
    p: dict[str, Any] = job.payload
    now = int(job.now_s * 1000)
    with job.tx(p["account"], p["region"]) as tx:
        q = storage.get_queue(tx, p["name"], p["partition"])
        if q is not None:
            storage.settle(tx, q, now)
            visible, in_flight, delayed = storage.counts(tx, q)
            oldest = tx.scan(q.kind("m"), limit=1)
    if q is None:
        job.gateway.scheduler.cancel(job.key)
        return
    age = max(0, now - int(storage.key(oldest[0])[:15])) // 1000 if oldest else 0
    _put(
        job.context(q.account, q.region),
        q,
        [
            ("ApproximateNumberOfMessagesVisible", float(visible), COUNT),
            ("ApproximateNumberOfMessagesNotVisible", float(in_flight), COUNT),
            ("ApproximateNumberOfMessagesDelayed", float(delayed), COUNT),
            ("ApproximateAgeOfOldestMessage", float(age), SECONDS),
        ],
        job.now,
    )
