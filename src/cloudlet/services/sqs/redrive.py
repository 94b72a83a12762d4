"""Dead-letter queue redrive: message move tasks (start, list, cancel) and the timed job
that moves the messages.

A task moves the messages that were visible in the dead-letter queue when it started,
back to the queue each came from (``DeadLetterQueueSourceArn``) or to a destination,
at most ``MaxNumberOfMessagesPerSecond`` a second (500, AWS's ceiling, when left to the
"system optimized" rate). The moving is a scheduler job run every second of the
cloudlet clock, so moving the clock forward moves the messages that many seconds' worth.
A moved message keeps its id, body and attributes; its receive count starts again.
"""

from __future__ import annotations

import secrets
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.scheduler import Scheduler
from cloudlet.core.store import Tx
from cloudlet.services.sqs import errors, model, storage
from cloudlet.services.sqs.jobs import DEFAULT_RATE, MOVE

Input = dict[str, Any]
Output = dict[str, Any]

KEEP_TASKS = 10  # ListMessageMoveTasks shows the 10 most recent


def start_message_move_task(ctx: Context, req: Input) -> Output:
    rate = req.get("MaxNumberOfMessagesPerSecond")
    if rate is not None and not 1 <= rate <= DEFAULT_RATE:
        raise errors.invalid_parameter(
            "MaxNumberOfMessagesPerSecond", rate, "Must be an integer between 1 and 500, if provided."
        )
    now = clock.time_s()
    with ctx.tx() as tx:
        source = _queue(ctx, tx, req["SourceArn"], "SourceArn")
        if not storage.sources_of(tx, source.arn, ctx.partition):
            raise errors.invalid_parameter_text("Source queue must be configured as a Dead Letter Queue.")
        dest_arn = req.get("DestinationArn")
        if dest_arn is not None:
            dest = _queue(ctx, tx, dest_arn, "DestinationArn")
            if dest.name == source.name:
                raise errors.invalid_parameter("DestinationArn", dest_arn, "Source and destination must differ.")
            if dest.fifo != source.fifo:
                raise errors.invalid_parameter(
                    "DestinationArn", dest_arn, "Source and destination queues must be of the same type."
                )
        latest = tx.scan(storage.TASK, f"{source.arn} ", reverse=True, limit=1)
        if latest and latest[0].value["status"] == "RUNNING":
            raise errors.unsupported(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time."
            )
        storage.settle(tx, source, int(now * 1000))
        task_id = secrets.token_hex(16)
        key = f"{source.arn} {storage.t(int(now * 1000))} {task_id}"
        task = {
            "id": task_id, "source": source.arn, "dest": dest_arn, "rate": rate, "status": "RUNNING",
            "moved": 0, "to_move": tx.count(source.kind("r")), "started": int(now * 1000), "failure": None,
        }
        tx.put(storage.TASK, key, task)
        for old in tx.scan(storage.TASK, f"{source.arn} ", reverse=True)[KEEP_TASKS:]:
            tx.delete(storage.TASK, old.key)
        _scheduler(ctx).every(
            f"sqs.move/{task_id}", 1.0, MOVE, first=now, catch_up=True,
            payload={"account": ctx.account, "region": ctx.region, "partition": ctx.partition, "key": key},
        )
    return {"TaskHandle": model.task_handle(source.arn, task_id)}


def list_message_move_tasks(ctx: Context, req: Input) -> Output:
    limit = req.get("MaxResults") or 1
    if not 1 <= limit <= KEEP_TASKS:
        raise errors.invalid_parameter("MaxResults", limit, "You must enter a number that's between 1 and 10.")
    with ctx.tx() as tx:
        source = _queue(ctx, tx, req["SourceArn"], "SourceArn")
        tasks = [r.value for r in tx.scan(storage.TASK, f"{source.arn} ", reverse=True, limit=limit)]
    return {"Results": [_entry(task) for task in tasks]}


def cancel_message_move_task(ctx: Context, req: Input) -> Output:
    """Messages already moved stay where they went."""
    parsed = model.parse_task_handle(req["TaskHandle"])
    if parsed is None:
        raise errors.resource_not_found("Task does not exist.")
    source_arn, task_id = parsed
    with ctx.tx() as tx:
        found = [r for r in tx.scan(storage.TASK, f"{source_arn} ") if r.value["id"] == task_id]
        if not found:
            raise errors.resource_not_found("Task does not exist.")
        task = found[0].value
        if task["status"] != "RUNNING":
            raise errors.invalid_parameter_text("Only active tasks can be cancelled.")
        task["status"] = "CANCELLED"
        tx.put(storage.TASK, found[0].key, task)
        _scheduler(ctx).cancel(f"sqs.move/{task_id}")
    return {"ApproximateNumberOfMessagesMoved": task["moved"]}


def _queue(ctx: Context, tx: Tx, arn_text: str, param: str) -> storage.Queue:
    arn = model.parse_arn(arn_text)
    q = None
    if arn is not None and (arn.account, arn.region) == (ctx.account, ctx.region):
        q = storage.get_queue(tx, arn.name, ctx.partition)
    if q is None:
        raise errors.resource_not_found(f"The resource that you specified for the {param} parameter doesn't exist.")
    return q


def _entry(task: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Status": task["status"],
        "SourceArn": task["source"],
        "ApproximateNumberOfMessagesMoved": task["moved"],
        "ApproximateNumberOfMessagesToMove": task["to_move"],
        "StartedTimestamp": task["started"],
    }
    if task["status"] == "RUNNING":
        out["TaskHandle"] = model.task_handle(task["source"], task["id"])
    if task["dest"]:
        out["DestinationArn"] = task["dest"]
    if task["rate"] is not None:
        out["MaxNumberOfMessagesPerSecond"] = task["rate"]
    if task["failure"]:
        out["FailureReason"] = task["failure"]
    return out


def _scheduler(ctx: Context) -> Scheduler:
    if ctx.gateway is None:
        raise RuntimeError("message move tasks need the gateway's scheduler")
    return ctx.gateway.scheduler
