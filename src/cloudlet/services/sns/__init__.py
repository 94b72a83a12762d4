"""Amazon SNS: standard and FIFO topics with AWS's delivery semantics. Subscriptions deliver to SQS queues (raw or in the signed JSON envelope; FIFO topics
in order, deduplicated), to HTTP/S endpoints (real POSTs from the scheduler thread,
the confirmation handshake first, retries per the delivery policy on the cloudlet
clock), to Lambda and Firehose in process when cloudlet has them, and to email, SMS
and mobile endpoints through the outbox (``GET /_cloudlet/outbox``). Filter policies
(attributes or body) use the shared pattern engine; failed deliveries go to the
subscription's dead-letter queue. Messages are signed with a per-installation key
whose certificate cloudlet serves at ``/_cloudlet/sns/cert.pem``.

Module map: ``topics``, ``subscriptions``, ``publishing``, ``permissions``, ``tags``,
``platforms`` (mobile push) and ``sms`` (the handlers); ``endpoints`` (platform records), ``model`` and ``messages`` (pure rules), ``deliverypolicy`` (retry
schedules), ``filtering``, ``envelope`` and ``signing`` (what is sent), ``fanout`` and
``jobs`` (how it is sent), ``outbox``, ``storage`` (the store layout), ``access``
(topic policies).
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["topics", "subscriptions", "publishing", "permissions", "tags", "platforms", "sms"]


def register_jobs(scheduler: Any) -> None:
    """Called by the scheduler the first time an SNS job is due (e.g. after a restart)."""
    from cloudlet.services.sns import jobs

    jobs.register(scheduler)


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The topic (or subscription) ARN a call acts on, for IAM."""
    for key in ("TopicArn", "TargetArn", "ResourceArn", "SubscriptionArn"):
        if params.get(key):
            return [params[key]]
    return ["*"]


def resource_policy(gateway: Any, region: str, arn: str) -> tuple[str, str | None] | None:
    """The topic's owner and policy, for IAM (None when the topic does not exist). A topic
    with no policy of its own has SNS's default one: it allows the owner's account."""
    from cloudlet.core.arns import parse_arn
    from cloudlet.services.sns import model, storage

    parts = parse_arn(arn)
    if parts is None or parts.service != "sns" or not parts.account:
        return None
    name = parts.resource.split(":", 1)[0]  # a subscription ARN names its topic first
    with gateway.db("sns").tx(parts.account, parts.region) as t:
        topic = storage.get_topic(t, name)
    if topic is None:
        return None
    topic_arn = f"arn:{parts.partition}:sns:{parts.region}:{parts.account}:{name}"
    return parts.account, topic["attrs"].get("Policy") or model.default_policy(topic_arn, parts.account)
