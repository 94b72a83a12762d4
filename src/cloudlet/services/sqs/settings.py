"""Queue attributes: the checks that need the store (a redrive policy's target), and the
view GetQueueAttributes answers (settable values plus the computed ones)."""

from __future__ import annotations

from typing import Iterable

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.sqs import errors, model, storage

_ORDER = (
    "QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "VisibilityTimeout",
    "MaximumMessageSize", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "Policy",
    "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
    "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
)


def check_redrive(ctx: Context, tx: Tx, name: str, fifo: bool, changes: dict[str, str]) -> None:
    """A RedrivePolicy must name an existing queue of the same type, in the same account
    and region, other than itself, whose RedriveAllowPolicy lets this queue use it."""
    text = changes.get("RedrivePolicy")
    if not text:
        return
    target = model.redrive_target(changes)
    assert target is not None
    arn = model.parse_arn(target[0])
    own_arn = model.queue_arn(ctx.partition, ctx.region, ctx.account, name)
    dlq = None
    if arn is not None and (arn.account, arn.region) == (ctx.account, ctx.region) and arn.name != name:
        dlq = storage.get_queue(tx, arn.name, ctx.partition)
    if dlq is None:
        raise errors.invalid_parameter("RedrivePolicy", text, "Dead letter target does not exist.")
    if dlq.fifo != fifo:
        raise errors.invalid_parameter(
            "RedrivePolicy", text, "Dead-letter queue must be of the same type as the source queue (FIFO or standard)."
        )
    if not model.redrive_allows(dlq.attrs, own_arn):
        raise errors.invalid_parameter(
            "RedrivePolicy", text, f"Queue {own_arn} is not allowed to use {dlq.arn} as its dead-letter queue."
        )


def check_names(names: Iterable[str]) -> None:
    for name in names:
        if name != "All" and name not in model.READABLE:
            raise errors.invalid_attribute_name(name)


def view(q: storage.Queue, counts: tuple[int, int, int], names: Iterable[str]) -> dict[str, str]:
    wanted = set(names)
    every = "All" in wanted
    visible, in_flight, delayed = counts
    computed = {
        "QueueArn": q.arn,
        "ApproximateNumberOfMessages": str(visible),
        "ApproximateNumberOfMessagesNotVisible": str(in_flight),
        "ApproximateNumberOfMessagesDelayed": str(delayed),
        "CreatedTimestamp": str(q.created),
        "LastModifiedTimestamp": str(q.modified),
    }
    out = {}
    for name in _ORDER:
        if not every and name not in wanted:
            continue
        value = computed.get(name, q.attrs.get(name))
        if value is not None and (q.fifo or name not in model.FIFO_ONLY):
            out[name] = value
    return out
