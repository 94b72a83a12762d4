"""Amazon SQS: standard and FIFO queues with their delivery semantics (visibility,
delays, retention, long polling, deduplication, message groups, dead-letter queues and
redrive), kept in the store and timed by the cloudlet clock.

Every operation of the model has a handler. Module map: ``queues`` (queue life cycle and
attributes), ``messages`` and ``batches`` (delivery), ``redrive`` (move tasks),
``permissions``, ``tags``; ``storage`` is the store layout and the message state
machine, ``model`` the pure rules, ``entries`` one message's send/delete/visibility,
``waiters`` long polling, ``jobs`` the scheduler's work, ``access`` queue URLs.
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["queues", "messages", "batches", "redrive", "permissions", "tags"]


def register_jobs(scheduler: Any) -> None:
    """Called by the scheduler the first time an SQS job is due (e.g. after a restart)."""
    from cloudlet.services.sqs import jobs

    jobs.register(scheduler)


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The queue ARN a call acts on, for IAM."""
    from cloudlet.services.sqs import model

    url = params.get("QueueUrl")
    if url:
        parsed = model.parse_queue_url(url)
        if parsed is not None:
            return [model.queue_arn(ctx.partition, ctx.region, parsed[0], parsed[1])]
    if operation in ("CreateQueue", "GetQueueUrl") and params.get("QueueName"):
        owner = params.get("QueueOwnerAWSAccountId") or ctx.account
        return [model.queue_arn(ctx.partition, ctx.region, owner, params["QueueName"])]
    if params.get("SourceArn"):
        return [params["SourceArn"]]
    return ["*"]


def resource_policy(gateway: Any, region: str, arn: str) -> tuple[str, str | None] | None:
    """The queue's owner and policy, for IAM (None when the queue does not exist)."""
    from cloudlet.core.arns import parse_arn
    from cloudlet.services.sqs import storage

    parts = parse_arn(arn)
    if parts is None or parts.service != "sqs" or not parts.account:
        return None
    with gateway.db("sqs").tx(parts.account, parts.region) as t:
        q = storage.get_queue(t, parts.resource, parts.partition)
    return None if q is None else (parts.account, q.attrs.get("Policy"))
