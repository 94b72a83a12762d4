"""Timed work of SQS, run by the scheduler: message move tasks moving their messages."""

from __future__ import annotations

from typing import Any

from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.core.store import Tx
from cloudlet.services.sqs import metrics, model, storage, waiters

MOVE = "sqs.move_messages"
DEFAULT_RATE = 500  # messages a second: AWS's ceiling, used for its "system optimized" rate


def register(scheduler: Scheduler) -> None:
    scheduler.register(MOVE, _move)
    scheduler.register(metrics.GAUGES, metrics.sample_gauges)


def _move(job: Job) -> None:
    """One second's worth of moving (or `runs` seconds' after a clock jump); the task
    completes when it has moved what it set out to, or the queue has no more to give."""
    p = job.payload
    now = int(job.now_s * 1000)
    touched: dict[str, storage.Queue] = {}
    with job.tx(p["account"], p["region"]) as tx:
        rec = tx.get(storage.TASK, p["key"])
        task = rec.value if rec is not None else None
        if task is not None and task["status"] == "RUNNING":
            _step(tx, task, p["partition"], now, (task["rate"] or DEFAULT_RATE) * job.runs, touched)
            tx.put(storage.TASK, p["key"], task)
    for q in touched.values():
        waiters.notify(q.wait_key)
    if task is None or task["status"] != "RUNNING":
        job.gateway.scheduler.cancel(job.key)


def _step(tx: Tx, task: dict[str, Any], partition: str, now: int, budget: int, touched: dict[str, storage.Queue]) -> None:
    source_arn = model.parse_arn(task["source"])
    source = storage.get_queue(tx, source_arn.name, partition) if source_arn else None
    if source is None:
        task["status"], task["failure"] = "FAILED", "AWS.SimpleQueueService.NonExistentQueue"
        return
    storage.settle(tx, source, now)
    budget = min(budget, task["to_move"] - task["moved"])
    queues: dict[str, storage.Queue | None] = {}
    after, exhausted = None, False
    while budget > 0:
        batch = storage.ready(tx, source, min(budget, 100), after)
        if not batch:
            exhausted = True
            break
        for rkey, mid in batch:
            after = rkey
            m = storage.get_message(tx, source, mid)
            dest_arn = task["dest"] or (m or {}).get("dlq")
            if m is None or dest_arn is None:
                continue  # a message sent to the DLQ directly has nowhere to go back to
            if dest_arn not in queues:
                arn = model.parse_arn(dest_arn)
                queues[dest_arn] = storage.get_queue(tx, arn.name, partition) if arn else None
            dest = queues[dest_arn]
            if dest is None:
                task["status"], task["failure"] = "FAILED", "AWS.SimpleQueueService.NonExistentQueue"
                return
            storage.take_for_move(tx, source, rkey, mid)
            moved = storage.transfer_copy(m, dest, reset_receives=True)
            moved["dlq"] = None
            storage.enqueue(tx, dest, moved, now, 0)
            touched[dest.arn] = dest
            task["moved"] += 1
            budget -= 1
            if budget == 0:
                break
    if task["moved"] >= task["to_move"] or exhausted:
        task["status"] = "COMPLETED"
