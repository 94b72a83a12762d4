"""EventBridge's limits and small pure rules shared by the handler modules."""

from __future__ import annotations

from typing import Any

from cloudlet.services.events import arns, errors

#: AWS's default quotas (the adjustable ones at their defaults)
MAX_BUSES = 100  # custom buses per account and region (the default bus not counted)
MAX_RULES_PER_BUS = 300
MAX_TARGETS_PER_RULE = 5
MAX_TAGS = 50
MAX_POLICY_BYTES = 10_240
MAX_ENTRY_BYTES = 256 * 1024  # a PutEvents request, all entries together


def tags_in(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or ()}


def tags_out(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def merge_tags(old: dict[str, str], new: list[dict[str, str]] | None) -> dict[str, str]:
    merged = {**old, **tags_in(new)}
    if len(merged) > MAX_TAGS:
        raise errors.limit_exceeded()
    return merged


def check_dlq(config: dict[str, Any] | None, where: str = "DeadLetterConfig.Arn") -> None:
    """A dead-letter queue is an SQS queue ARN (AWS allows only standard queues)."""
    arn = (config or {}).get("Arn")
    if arn is None:
        return
    parsed = arns.parse(arn)
    if parsed is None or parsed.service != "sqs" or not parsed.resource:
        raise errors.bad_parameter(where, "Provided Arn is not in correct format.")
    if parsed.resource.endswith(".fifo"):
        raise errors.bad_parameter(where, "FIFO queues are not supported as a dead-letter queue.")
