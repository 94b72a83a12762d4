"""The CloudWatch metrics SNS publishes (namespace ``AWS/SNS``, dimension ``TopicName``),
against the topic owner's account and region.

NumberOfMessagesPublished and PublishSize per message published to a topic;
NumberOfNotificationsFilteredOut per subscription a filter policy refused (and
``-NoMessageAttributes`` when an attribute policy met a message without attributes);
NumberOfNotificationsDelivered per delivery that succeeded (SQS accepted it, an HTTP/S
endpoint answered 2xx/3xx, an email/SMS/push went to the outbox);
NumberOfNotificationsFailed per delivery given up on (retries exhausted, a 4xx answer, a
disabled endpoint, a target cloudlet does not have yet), with
NumberOfNotificationsRedrivenToDlq / NumberOfNotificationsFailedToRedriveToDlq for the
subscription's dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock, metrics
from cloudlet.core.context import Context

NAMESPACE = "AWS/SNS"


def _put(ctx: Context, account: str, region: str, topic: str, samples: list[tuple[str, float, str]]) -> None:
    if not samples or ctx.gateway is None:
        return
    metrics.record_many(ctx.gateway, account, region, NAMESPACE, {"TopicName": topic}, samples, clock.now())


def published(ctx: Context, account: str, region: str, topic: str, sizes: list[int]) -> None:
    samples = [("NumberOfMessagesPublished", 1.0, "Count") for _ in sizes]
    samples += [("PublishSize", float(size), "Bytes") for size in sizes]
    _put(ctx, account, region, topic, samples)


def filtered_out(ctx: Context, account: str, region: str, topic: str, n: int, without_attributes: int) -> None:
    samples = [("NumberOfNotificationsFilteredOut", 1.0, "Count")] * n
    samples += [("NumberOfNotificationsFilteredOut-NoMessageAttributes", 1.0, "Count")] * without_attributes
    _put(ctx, account, region, topic, samples)


def delivered(ctx: Context, d: dict[str, Any]) -> None:
    """One delivery of a planned notification (`d` names account, region and topic)."""
    _put(ctx, d["account"], d["region"], d["topic"], [("NumberOfNotificationsDelivered", 1.0, "Count")])


def failed(ctx: Context, d: dict[str, Any], redrive: bool | None = None) -> None:
    """A delivery given up on; `redrive` says whether its dead-letter queue took it (None: none)."""
    samples = [("NumberOfNotificationsFailed", 1.0, "Count")]
    if redrive is not None:
        samples.append(("NumberOfNotificationsRedrivenToDlq" if redrive else "NumberOfNotificationsFailedToRedriveToDlq", 1.0, "Count"))
    _put(ctx, d["account"], d["region"], d["topic"], samples)
