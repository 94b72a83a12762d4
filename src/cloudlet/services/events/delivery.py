"""Delivering an event to a rule's target, through the target service's own operation
(``sqs:SendMessage``, ``sns:Publish``, ``events:PutEvents`` ...) made as
``events.amazonaws.com``, with AWS's retry policy and dead-letter queue.

What happens on failure (EventBridge user guide, "Event retry policy and using
dead-letter queues"):

* Errors that cannot heal by waiting (a missing queue or topic, no permission, a bad
  parameter) are not retried: the event goes to the target's dead-letter queue at once,
  with ``RETRY_ATTEMPTS`` 0 and no ``EXHAUSTED_RETRY_CONDITION``.
* Others (throttling, a 5xx, an API destination's 429/5xx, timeouts, connection failures)
  are retried with exponential back-off and jitter, on the cloudlet clock (a scheduler
  job per retry), until ``RetryPolicy.MaximumRetryAttempts`` (default 185) retries were
  made or the event is older than ``MaximumEventAgeInSeconds`` (default 86,400): then it
  goes to the dead-letter queue with ``EXHAUSTED_RETRY_CONDITION`` naming which limit ran
  out. Without a dead-letter queue the event is dropped, as in AWS.
* The dead-letter message body is the event; its message attributes are ``RULE_ARN``,
  ``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS`` and, when a
  limit ran out, ``EXHAUSTED_RETRY_CONDITION``.

API destinations are called over HTTP from the scheduler thread, never the request path
(``http.invoke``): a delivery to one becomes a job due now.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import dataclasses
import json
import logging
import random
import uuid
from dataclasses import dataclass
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.events import arns, envelope, transform

log = logging.getLogger("cloudlet.events")

PRINCIPAL = "events.amazonaws.com"
DEFAULT_RETRIES = 185
DEFAULT_MAX_AGE_S = 86_400
BACKOFF_CAP_S = 480.0  # 185 retries with this cap take about a day, as AWS's defaults do
MAX_HOPS = 4  # bus-to-bus forwarding depth, against loops between buses
DELIVER_JOB = "events.deliver"

_hops: contextvars.ContextVar[int] = contextvars.ContextVar("events_hops", default=0)


@dataclass(slots=True)
class Delivery:
    """One event on its way to one target of one rule, as stored in a retry job."""

    account: str  # the rule's owner
    region: str
    rule_arn: str
    rule_name: str
    target: dict[str, Any]
    event: dict[str, Any]
    ingested: float  # when EventBridge received the event (epoch seconds): its age counts from here
    attempt: int = 0  # retries made so far

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Failure:
    code: str  # the dead-letter ERROR_CODE
    message: str
    retryable: bool


def owner_context(ctx: Context, account: str, region: str) -> Context:
    """The rule owner's context, acting as EventBridge: deliveries are the rule's, not the caller's."""
    return dataclasses.replace(ctx, account=account, region=region, principal_arn=PRINCIPAL, access_key="", internal=True)


def deliver(ctx: Context, d: Delivery, *, in_job: bool = False) -> None:
    """Deliver now (or, for an API destination called from a request, hand it to the
    scheduler: HTTP never runs on the request path); on failure retry or dead-letter as
    the target's policy says. `ctx` is the rule owner's."""
    arn = arns.parse(d.target["Arn"])
    if arn is not None and arn.service == "events" and arn.kind == "api-destination" and not in_job:
        _schedule(ctx, d, clock.time_s())
        return
    failure = attempt(ctx, d)
    if failure is not None:
        failed(ctx, d, failure)


def attempt(ctx: Context, d: Delivery) -> Failure | None:
    """One try; None when the target took the event."""
    arn = arns.parse(d.target["Arn"])
    if arn is None:
        return Failure("INVALID_PARAMETER", f"Target ARN {d.target['Arn']} is not valid.", False)
    try:
        if arn.service == "events" and arn.kind == "event-bus":
            return _to_bus(ctx, d, arn)
        if arn.service == "events" and arn.kind == "api-destination":
            from cloudlet.services.events import http

            return http.invoke(ctx, d, arn)
        body = transform.render(d.target, d.event, d.rule_arn, d.rule_name, envelope.stamp(_utc(d.ingested)))
        _send(ctx, arn, d.target, body, d.rule_arn)
    except ServiceError as err:
        return classify(err)
    return None


def _send(ctx: Context, arn: arns.Arn, target: dict[str, Any], body: str, rule_arn: str | None = None) -> None:
    """The call each kind of target gets (the other services answer NotImplemented until
    cloudlet has them, which counts as a failed delivery)."""
    if arn.service == "sqs":
        params: dict[str, Any] = {"QueueUrl": queue_url(arn), "MessageBody": body}
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            params["MessageGroupId"] = group
        ctx.aws("sqs", principal=PRINCIPAL, region=arn.region, source_arn=rule_arn).send_message(**params)
    elif arn.service == "sns":
        ctx.aws("sns", principal=PRINCIPAL, region=arn.region, source_arn=rule_arn).publish(
            TopicArn=arn_text(arn), Message=body)
    elif arn.service == "lambda":
        ctx.aws("lambda", principal=PRINCIPAL, region=arn.region, source_arn=rule_arn).invoke(
            FunctionName=arn_text(arn), InvocationType="Event", Payload=body.encode())
    elif arn.service == "states":
        ctx.aws("stepfunctions", principal=PRINCIPAL, region=arn.region).start_execution(
            stateMachineArn=arn_text(arn), input=body)
    elif arn.service == "kinesis":
        key_path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
        key = str(uuid.uuid4()) if not key_path else str(transform.select(json.loads(body), key_path))
        ctx.aws("kinesis", principal=PRINCIPAL, region=arn.region).put_record(
            StreamARN=arn_text(arn), Data=body.encode(), PartitionKey=key)
    elif arn.service == "firehose":
        ctx.aws("firehose", principal=PRINCIPAL, region=arn.region).put_record(
            DeliveryStreamName=arn.rest, Record={"Data": body.encode()})
    else:
        raise ServiceError("NotImplemented", f"cloudlet does not deliver EventBridge events to {arn.service} targets yet.", 501)


def arn_text(arn: arns.Arn) -> str:
    return f"arn:{arn.partition}:{arn.service}:{arn.region}:{arn.account}:{arn.resource}"


def queue_url(arn: arns.Arn) -> str:
    """SQS accepts its queue URLs with any host; this is AWS's own form."""
    return f"https://sqs.{arn.region}.amazonaws.com/{arn.account}/{arn.resource}"


def _to_bus(ctx: Context, d: Delivery, arn: arns.Arn) -> Failure | None:
    """Another bus gets the event through PutEvents as the rule's owner, so a bus in another
    account takes it only if its policy allows that account. Time, source, detail type,
    resources and detail travel; the receiving bus gives it a new id."""
    depth = _hops.get()
    if depth >= MAX_HOPS:
        return Failure("THIRD_ACCOUNT_HOP_DETECTED", "The event went through too many event buses.", False)
    e = d.event
    entry = {
        "Source": e["source"], "DetailType": e["detail-type"], "Detail": transform.minified(e["detail"]),
        "Resources": e.get("resources") or [], "Time": envelope.parse_stamp(e["time"]), "EventBusName": arn_text(arn),
    }
    token = _hops.set(depth + 1)
    try:
        out = ctx.aws("events", principal=PRINCIPAL, region=arn.region).put_events(Entries=[entry])
    finally:
        _hops.reset(token)
    result = (out.get("Entries") or [{}])[0]
    if result.get("ErrorCode"):
        code = "NO_PERMISSIONS" if result["ErrorCode"] == "AccessDeniedException" else "INVALID_PARAMETER"
        return Failure(code, result.get("ErrorMessage", ""), False)
    return None


_NO_RESOURCE = frozenset({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NotFound", "NotFoundException",
                          "ResourceNotFoundException", "StateMachineDoesNotExist"})
_NO_PERMISSIONS = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError", "KMSAccessDeniedException"})
_THROTTLED = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
                        "TooManyRequestsException", "ProvisionedThroughputExceededException"})


def classify(err: ServiceError) -> Failure:
    """A target service's error as the dead-letter ERROR_CODE, and whether it is retried."""
    if err.code in _NO_RESOURCE:
        return Failure("NO_RESOURCE", err.message, False)
    if err.code in _NO_PERMISSIONS:
        return Failure("NO_PERMISSIONS", err.message, False)
    if err.code in _THROTTLED:
        return Failure("THROTTLING", err.message, True)
    if err.code == "NotImplemented":
        return Failure("SDK_CLIENT_ERROR", err.message, False)
    if err.status >= 500:
        return Failure("INTERNAL_ERROR", err.message, True)
    return Failure("INVALID_PARAMETER", err.message, False)


def failed(ctx: Context, d: Delivery, failure: Failure) -> None:
    """Retry later, or give up to the dead-letter queue (or drop) as the retry policy says."""
    policy = d.target.get("RetryPolicy") or {}
    retries = policy.get("MaximumRetryAttempts", DEFAULT_RETRIES)
    max_age = policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)
    exhausted = None
    if failure.retryable:
        now = clock.time_s()
        due = now + backoff(d.attempt)
        if d.attempt >= retries:
            exhausted = "MaximumRetryAttempts"
        elif due - d.ingested > max_age:
            exhausted = "MaximumEventAgeInSeconds"
        else:
            d.attempt += 1
            _schedule(ctx, d, due)
            return
    dead_letter(ctx, d, failure, exhausted)


def backoff(retries_made: int) -> float:
    """Exponential back-off with jitter: 1 s, 2 s, 4 s ... capped at 8 minutes, each
    between half and all of its step."""
    step = min(BACKOFF_CAP_S, 2.0 ** min(retries_made, 16))
    return step * random.uniform(0.5, 1.0)


def dead_letter(ctx: Context, d: Delivery, failure: Failure, exhausted: str | None) -> None:
    dlq = (d.target.get("DeadLetterConfig") or {}).get("Arn")
    if not dlq:
        log.info("event %s dropped for %s: %s %s", d.event.get("id"), d.target["Arn"], failure.code, failure.message)
        return
    arn = arns.parse(dlq)
    if arn is None:
        return
    attrs = {
        "RULE_ARN": d.rule_arn, "TARGET_ARN": d.target["Arn"], "ERROR_CODE": failure.code,
        "ERROR_MESSAGE": failure.message or failure.code, "RETRY_ATTEMPTS": str(d.attempt),
    }
    if exhausted:
        attrs["EXHAUSTED_RETRY_CONDITION"] = exhausted
    try:
        ctx.aws("sqs", principal=PRINCIPAL, region=arn.region).send_message(
            QueueUrl=queue_url(arn), MessageBody=transform.minified(d.event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()},
        )
    except ServiceError as err:  # AWS counts InvocationsFailedToBeSentToDLQ; the event is gone
        log.warning("event %s not sent to dead-letter queue %s: %s", d.event.get("id"), dlq, err.code)


def _schedule(ctx: Context, d: Delivery, due: float) -> None:
    gateway = ctx.gateway
    if gateway is None:
        return
    gateway.scheduler.at(f"{DELIVER_JOB}/{uuid.uuid4()}", due, DELIVER_JOB, d.payload())


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
