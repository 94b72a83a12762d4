"""Invoking a schedule's target through the target service's own operation, made as
``scheduler.amazonaws.com`` with the schedule's ARN as the source, with the retry policy
and dead-letter queue.

* Templated targets: an SQS queue ARN gets ``sqs:SendMessage`` (``SqsParameters``
  ``MessageGroupId`` for FIFO), an SNS topic ``sns:Publish``, an event bus
  ``events:PutEvents`` (``EventBridgeParameters`` DetailType and Source), a Lambda
  function ``lambda:Invoke`` (asynchronous). ``Input`` is the message, detail or payload.
* The universal target ``arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`` calls that
  operation with ``Input`` as its JSON parameters.
* A failure is retried with exponential back-off on the cloudlet clock (a scheduler job
  per retry) while it can heal (throttling, a 5xx) and the policy allows
  (``MaximumRetryAttempts``, default 185; ``MaximumEventAgeInSeconds``, default 86,400,
  counted from the scheduled time); a failure that cannot heal is not retried. Then the
  ``Input`` goes to the dead-letter queue with the message attributes ``ERROR_CODE``,
  ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS``, ``SCHEDULE_ARN``, ``TARGET_ARN`` and, when a limit
  ran out, ``EXHAUSTED_RETRY_CONDITION``; without one it is dropped, as in AWS.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from cloudlet.core import clock
from cloudlet.core.arns import Arn, parse_arn
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError

log = logging.getLogger("cloudlet.scheduler")

PRINCIPAL = "scheduler.amazonaws.com"
RETRY_JOB = "scheduler.retry"
DEFAULT_RETRIES = 185
DEFAULT_MAX_AGE_S = 86_400
BACKOFF_CAP_S = 480.0
#: SDK service names of the universal target that differ from botocore's
SDK_SERVICES = {"eventbridge": "events", "sfn": "stepfunctions"}


@dataclass(slots=True)
class Invocation:
    """One occurrence of a schedule on its way to its target, as stored in a retry job."""

    account: str
    region: str
    schedule_arn: str
    target: dict[str, Any]
    occurred: float  # the scheduled time (epoch seconds): the event's age counts from here
    attempt: int = 0  # retries made so far

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Failure:
    code: str
    message: str
    retryable: bool


def universal(arn: str) -> tuple[str, str] | None:
    """(botocore service, operation) of a universal target ARN, or None if it is not one."""
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "scheduler" or not parsed.resource.startswith("aws-sdk:"):
        return None
    parts = parsed.resource.split(":")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        return None
    return SDK_SERVICES.get(parts[1], parts[1]), parts[2][:1].upper() + parts[2][1:]


def run(ctx: Context, inv: Invocation) -> None:
    """One try now; on failure, retry later or dead-letter as the policy says."""
    failure = attempt(ctx, inv)
    if failure is not None:
        failed(ctx, inv, failure)


def attempt(ctx: Context, inv: Invocation) -> Failure | None:
    """None when the target took the invocation."""
    target = inv.target
    body = target.get("Input") or "{}"
    try:
        sdk = universal(target["Arn"])
        if sdk is not None:
            try:
                params = json.loads(body)
            except ValueError:
                return Failure("ValidationException", "Input is not valid JSON.", False)
            if not isinstance(params, dict):
                return Failure("ValidationException", "Input is not a JSON object.", False)
            _client(ctx, inv, sdk[0], ctx.region).call(sdk[1], params)
            return None
        arn = parse_arn(target["Arn"])
        if arn is None:
            return Failure("ValidationException", f"Target ARN {target['Arn']} is not valid.", False)
        _templated(ctx, inv, arn, body)
    except ServiceError as err:
        return classify(err)
    return None


def _client(ctx: Context, inv: Invocation, service: str, region: str) -> Any:
    return ctx.aws(service, principal=PRINCIPAL, region=region, source_arn=inv.schedule_arn)


def _templated(ctx: Context, inv: Invocation, arn: Arn, body: str) -> None:
    target = inv.target
    if arn.service == "sqs":
        params: dict[str, Any] = {"QueueUrl": queue_url(arn), "MessageBody": body}
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            params["MessageGroupId"] = group
        _client(ctx, inv, "sqs", arn.region).send_message(**params)
    elif arn.service == "sns":
        _client(ctx, inv, "sns", arn.region).publish(TopicArn=str(arn), Message=body)
    elif arn.service == "events" and arn.kind == "event-bus":
        ebp = target.get("EventBridgeParameters") or {}
        entry = {"Source": ebp.get("Source") or "aws.scheduler", "DetailType": ebp.get("DetailType") or "Scheduled Event",
                 "Detail": body, "EventBusName": str(arn), "Resources": [inv.schedule_arn]}
        out = _client(ctx, inv, "events", arn.region).put_events(Entries=[entry])
        result = (out.get("Entries") or [{}])[0]
        if result.get("ErrorCode"):
            raise ServiceError(result["ErrorCode"], result.get("ErrorMessage", ""), 400)
    elif arn.service == "lambda":
        _client(ctx, inv, "lambda", arn.region).invoke(FunctionName=str(arn), InvocationType="Event", Payload=body.encode())
    else:
        raise ServiceError("NotImplemented", f"cloudlet does not invoke {arn.service} targets from schedules yet.", 501)


def queue_url(arn: Arn) -> str:
    """SQS accepts its queue URLs with any host; this is AWS's own form."""
    return f"https://sqs.{arn.region}.amazonaws.com/{arn.account}/{arn.resource}"


_THROTTLED = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
                        "TooManyRequestsException", "ProvisionedThroughputExceededException"})


def classify(err: ServiceError) -> Failure:
    """Throttling and server errors may heal by waiting; anything else (a missing queue, no
    permission, a bad parameter, an operation cloudlet lacks) will not."""
    retryable = err.code in _THROTTLED or (err.status >= 500 and err.code != "NotImplemented")
    return Failure(err.code, err.message, retryable)


def next_step(policy: dict[str, Any], inv: Invocation, failure: Failure, now: float) -> tuple[float | None, str | None]:
    """(due time of the next retry, None) or (None, the exhausted condition or None when
    the failure is not retried): what the retry policy says after a failed try."""
    if not failure.retryable:
        return None, None
    retries = policy.get("MaximumRetryAttempts", DEFAULT_RETRIES)
    max_age = policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)
    due = now + backoff(inv)
    if inv.attempt >= retries:
        return None, "MaximumRetryAttempts"
    if due - inv.occurred > max_age:
        return None, "MaximumEventAgeInSeconds"
    return due, None


def backoff(inv: Invocation) -> float:
    """Exponential back-off with jitter (1 s, 2 s, 4 s ... capped at 8 minutes, each between
    half and all of its step), the jitter derived from the invocation so runs repeat."""
    step = min(BACKOFF_CAP_S, 2.0 ** min(inv.attempt, 16))
    seed = hashlib.sha256(f"{inv.schedule_arn}|{inv.occurred}|{inv.attempt}".encode()).digest()
    return step * (0.5 + 0.5 * int.from_bytes(seed[:4], "big") / 0xFFFFFFFF)


def failed(ctx: Context, inv: Invocation, failure: Failure) -> None:
    due, exhausted = next_step(inv.target.get("RetryPolicy") or {}, inv, failure, clock.time_s())
    if due is not None and ctx.gateway is not None:
        inv.attempt += 1
        ctx.gateway.scheduler.at(f"{RETRY_JOB}/{uuid.uuid4()}", due, RETRY_JOB, inv.payload())
        return
    dead_letter(ctx, inv, failure, exhausted)


def dead_letter(ctx: Context, inv: Invocation, failure: Failure, exhausted: str | None) -> None:
    dlq = (inv.target.get("DeadLetterConfig") or {}).get("Arn")
    arn = parse_arn(dlq) if dlq else None
    if arn is None:
        log.info("schedule %s invocation dropped: %s %s", inv.schedule_arn, failure.code, failure.message)
        return
    attrs = {"ERROR_CODE": failure.code, "ERROR_MESSAGE": failure.message or failure.code,
             "RETRY_ATTEMPTS": str(inv.attempt), "SCHEDULE_ARN": inv.schedule_arn, "TARGET_ARN": inv.target["Arn"]}
    if exhausted:
        attrs["EXHAUSTED_RETRY_CONDITION"] = exhausted
    try:
        _client(ctx, inv, "sqs", arn.region).send_message(
            QueueUrl=queue_url(arn), MessageBody=inv.target.get("Input") or "{}",
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()})
    except ServiceError as err:
        log.warning("schedule %s: dead-letter queue %s refused the invocation: %s", inv.schedule_arn, dlq, err.code)


def operation_exists(service: str, operation: str) -> bool:
    """Whether a universal target names a real operation (botocore's models decide)."""
    from cloudlet.protocol.model import load_service

    try:
        return operation in load_service(service).operation_names
    except Exception:  # not a service botocore knows
        return False
