"""Asynchronous invocation: the queue behind ``InvocationType=Event``.

An event is acknowledged (202) only once it is durable: a record in Lambda's store (kind
``async_event``, keyed by the invocation's request id) and a scheduler job due now, written
in the same transaction. Everything after is driven by that one job per event
(``lambda.async/<request id>``), so a restart, a reset or a clock jump finds it again:

- The job never runs the function on the scheduler's thread (a function may run for 15
  minutes): it hands the event to the engine (``submit``) and re-arms itself as a
  watchdog at the function's timeout plus ``GRACE``. Fired while the attempt still runs in
  this process (the clock was moved), it only re-arms; fired after a restart lost the
  attempt, it runs the event again: at least once, as AWS promises.
- The attempt's completion (on a worker thread, off the engine's loop) settles it:
  success -> the OnSuccess destination; a function error or timeout -> a retry after 1
  minute, then 2 (``MaximumRetryAttempts``, default 2), each a job on the cloudlet clock;
  retries spent -> the OnFailure destination, else the function's dead-letter queue.
- A throttled attempt (no concurrency) goes back to the queue with a growing backoff
  without spending a retry, as AWS does; an event older than ``MaximumEventAgeInSeconds``
  (default 6 hours) is then dropped the same way as exhausted retries, with
  condition ``EventAgeExceeded``.

Destinations get AWS's invocation record through the in-process client as
``lambda.amazonaws.com`` with the function's ARN as ``aws:SourceArn``; a dead-letter queue
gets the event itself with RequestID/ErrorCode/ErrorMessage attributes.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import orjson

from cloudlet.core import clock, pergateway
from cloudlet.core.arns import parse_arn
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.services.lambda_ import access, invocation, lineage, metrics

if TYPE_CHECKING:
    from cloudlet.services.lambda_.runtime import Result
    from cloudlet.services.lambda_.spec import Target

log = logging.getLogger("cloudlet.lambda.async")

KIND = "async_event"
RUN = "lambda.async_attempt"
PRINCIPAL = access.PRINCIPAL
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 6 * 3600
RETRY_DELAYS_S = (60.0, 120.0)  # before the first and the second retry
GRACE_S = 60.0  # past the function's timeout before a lost attempt is run again
THROTTLE_BACKOFF_S = (1.0, 300.0)  # first and longest wait after a throttled attempt
ERROR_MESSAGE_MAX = 1024  # a dead-letter message's ErrorMessage attribute


def register(scheduler: Scheduler) -> None:
    scheduler.register(RUN, _attempt)


def job_key(rid: str) -> str:
    return f"lambda.async/{rid}"


# enqueue ------------------------------------------------------------------------------
def enqueue(ctx: Context, target: "Target", payload: bytes, *, client_context: str | None = None) -> str:
    """Queue one event durably; returns its request id (the caller's)."""
    if ctx.gateway is None:
        raise RuntimeError("async invocation needs a gateway")
    rid = ctx.request_id
    now = clock.time_s()
    record = {
        "arn": target.invoked_arn,
        "payload": payload,
        "client_context": client_context,
        "trace": ctx.trace_header,  # the chain's Lineage (SNS, S3, a function's own Invoke)
        "enqueued": now,
        "attempts": 0,
        "throttles": 0,
        "state": "queued",
    }
    job_payload = {"account": target.account, "region": target.region, "id": rid}
    with ctx.gateway.db("lambda").tx(target.account, target.region) as tx:
        tx.put(KIND, rid, record)
        ctx.gateway.scheduler.at(job_key(rid), now, RUN, job_payload)
    metrics.async_received(ctx.gateway, target)
    return rid


# the job ------------------------------------------------------------------------------
def _inflight(gateway: Any) -> set[str]:
    """Request ids whose attempt runs in this process now (lost at a restart, by design)."""
    return pergateway.get(gateway, "_lambda_async_inflight", set)


def _outcomes(gateway: Any) -> ThreadPoolExecutor:
    """Completions run here, never on the engine's loop: they write the store and call
    other services."""
    return pergateway.get(gateway, "_lambda_async_pool",
                          lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="lambda-async"))


def _attempt(job: Job) -> None:
    try:
        _try(job)
    except Exception:  # a bug: keep the event (the job comes back), say so
        log.exception("async event %s: attempt failed; trying again in %s s", job.payload.get("id"), GRACE_S)
        job.gateway.scheduler.at(job.key, job.now_s + GRACE_S, RUN, job.payload)


def _try(job: Job) -> None:
    p = job.payload
    gw = job.gateway
    account, region, rid = p["account"], p["region"], p["id"]
    db = gw.db("lambda")
    with db.tx(account, region) as tx:
        rec = tx.get(KIND, rid)
    if rec is None:
        return  # settled (or reset) since
    ev = dict(rec.value)
    target = _target(gw, ev["arn"])
    if target is None:  # the function (or its alias/version) is gone: nothing to run
        with db.tx(account, region) as tx:
            tx.delete(KIND, rid)
        log.info("async event %s dropped: %s no longer exists", rid, ev["arn"])
        return
    inflight = _inflight(gw)
    if rid in inflight:  # the clock moved past the watchdog while the attempt runs
        gw.scheduler.at(job.key, job.now_s + target.spec.timeout_s + GRACE_S, RUN, p)
        return
    conf = _config(target)
    if job.now_s - ev["enqueued"] > conf["age"]:
        _give_up(gw, account, region, rid, ev, target, "EventAgeExceeded", None)
        return
    if lineage.loops(gw, target, ev.get("trace")):  # dropped unrun: to OnFailure or the DLQ
        metrics.recursion_dropped(gw, target)
        _give_up(gw, account, region, rid, ev, target, "RecursiveInvocationDetected", None)
        return
    from cloudlet.services.lambda_ import runtime

    engine = runtime.engine_for(gw)
    metrics.started(gw, target)
    try:
        future = engine.submit(target.spec, ev["payload"], request_id=rid, invoked_arn=target.invoked_arn,
                               client_context=ev.get("client_context"), limit=target.reserved_concurrency,
                               trace_id=lineage.next_header(ev.get("trace"), target.function_arn))
    except runtime.Throttled:
        metrics.abandoned(gw, target)
        metrics.throttled(gw, target)
        _throttled(gw, job, ev, conf)
        return
    except Exception as err:  # RuntimeUnavailable (or an engine failure): a failed attempt, retried
        if not isinstance(err, runtime.RuntimeUnavailable):
            log.exception("async event %s: the engine refused %s", rid, target.invoked_arn)
        metrics.abandoned(gw, target)
        ev["attempts"] += 1
        with db.tx(account, region) as tx:
            tx.put(KIND, rid, ev)
        _failed(gw, account, region, rid, ev, target, None, str(err))
        return
    ev["attempts"] += 1
    ev["state"] = "running"
    ev["started"] = job.now_s
    inflight.add(rid)
    with db.tx(account, region) as tx:
        tx.put(KIND, rid, ev)
        gw.scheduler.at(job.key, job.now_s + target.spec.timeout_s + GRACE_S, RUN, p)
    future.add_done_callback(lambda f: _outcomes(gw).submit(_completed, gw, account, region, rid, target, f))


def _target(gateway: Any, arn: str) -> "Target | None":
    from cloudlet.services.lambda_ import spec

    try:
        return spec.resolve_arn(gateway, arn)
    except ServiceError:
        return None


def _config(target: "Target") -> dict[str, Any]:
    eic = target.event_invoke_config or {}
    retries = eic.get("MaximumRetryAttempts")
    age = eic.get("MaximumEventAgeInSeconds")
    dest = eic.get("DestinationConfig") or {}
    return {
        "retries": DEFAULT_RETRIES if retries is None else int(retries),
        "age": DEFAULT_MAX_AGE_S if age is None else int(age),
        "on_success": (dest.get("OnSuccess") or {}).get("Destination"),
        "on_failure": (dest.get("OnFailure") or {}).get("Destination"),
    }


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones (1 minute, then 2)."""
    return RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1]


def throttle_delay(throttles: int) -> float:
    """Seconds before trying a throttled event again: doubling from 1 s, at most 5 minutes."""
    first, most = THROTTLE_BACKOFF_S
    return min(most, first * 2 ** max(0, throttles - 1))


def _throttled(gw: Any, job: Job, ev: dict[str, Any], conf: dict[str, Any]) -> None:
    p = job.payload
    ev["throttles"] = ev.get("throttles", 0) + 1
    ev["state"] = "queued"
    due = job.now_s + throttle_delay(ev["throttles"])
    if due - ev["enqueued"] > conf["age"]:
        due = ev["enqueued"] + conf["age"] + 0.001  # its last chance is when it ages out
    with gw.db("lambda").tx(p["account"], p["region"]) as tx:
        tx.put(KIND, p["id"], ev)
        gw.scheduler.at(job.key, due, RUN, p)


# completion ---------------------------------------------------------------------------
def _completed(gw: Any, account: str, region: str, rid: str, target: "Target", future: "Future[Result]") -> None:
    _inflight(gw).discard(rid)
    result: "Result | None" = None
    reason: str | None = None
    try:
        result = future.result()
    except Exception as err:  # the engine failed, not the function: a failed attempt all the same
        log.exception("async attempt %s of %s failed in the engine", rid, target.invoked_arn)
        metrics.abandoned(gw, target)
        reason = str(err)
    else:
        invocation.finished(gw, target, result, "async")
    try:
        with gw.db("lambda").tx(account, region) as tx:
            rec = tx.get(KIND, rid)
        if rec is None:
            return  # reset while it ran
        ev = dict(rec.value)
        if result is not None and result.function_error is None:
            _settle(gw, account, region, rid)
            dest = _config(target)["on_success"]
            if dest:
                _send(gw, target, dest, record(target, rid, ev, "Success", result), success=True)
            return
        _failed(gw, account, region, rid, ev, target, result, reason)
    except Exception:
        log.exception("async event %s of %s: completion failed (the job will run it again)", rid, target.invoked_arn)


def _failed(gw: Any, account: str, region: str, rid: str, ev: dict[str, Any], target: "Target",
            result: "Result | None", reason: str | None) -> None:
    conf = _config(target)
    if ev["attempts"] <= conf["retries"]:
        due = failed_at(ev, result) + retry_delay(ev["attempts"])
        if due - ev["enqueued"] <= conf["age"]:
            ev["state"] = "retrying"
            ev["last"] = _response(result, reason)
            with gw.db("lambda").tx(account, region) as tx:
                tx.put(KIND, rid, ev)
                gw.scheduler.at(job_key(rid), due, RUN, {"account": account, "region": region, "id": rid})
            return
        _give_up(gw, account, region, rid, ev, target, "EventAgeExceeded", result, reason)
        return
    _give_up(gw, account, region, rid, ev, target, "RetriesExhausted", result, reason)


def failed_at(ev: dict[str, Any], result: "Result | None") -> float:
    """When the attempt ended on the cloudlet clock: its start (the job's due time) plus
    how long it ran. Not the completion thread's now: a clock jump racing the completion
    must not move the retry."""
    started = ev.get("started")
    if started is None:
        return clock.time_s()
    return float(started) + (result.duration_ms / 1000 if result is not None else 0.0)


def _settle(gw: Any, account: str, region: str, rid: str) -> None:
    with gw.db("lambda").tx(account, region) as tx:
        tx.delete(KIND, rid)
    gw.scheduler.cancel(job_key(rid))


def _give_up(gw: Any, account: str, region: str, rid: str, ev: dict[str, Any], target: "Target",
             condition: str, result: "Result | None", reason: str | None = None) -> None:
    """The event is done failing: to OnFailure, else the dead-letter queue, else dropped."""
    _settle(gw, account, region, rid)
    metrics.async_dropped(gw, target)
    if result is None and ev.get("last"):
        last = ev["last"]
    else:
        last = _response(result, reason) if ev["attempts"] else None
    dest = _config(target)["on_failure"]
    if dest:
        _send(gw, target, dest, record(target, rid, ev, condition, None, last), success=False)
    elif target.dead_letter_arn:
        _dead_letter(gw, target, rid, ev, last)
    else:
        log.info("async event %s of %s dropped (%s)", rid, target.invoked_arn, condition)


def _response(result: "Result | None", reason: str | None) -> dict[str, Any]:
    """What an attempt answered, kept for the failure record."""
    if result is None:
        return {"payload": orjson.dumps({"errorMessage": reason or "Unknown error"}), "error": "Unhandled",
                "type": "ServiceException", "version": None}
    return {"payload": result.payload, "error": result.function_error, "type": result.error_type, "version": None}


# records and deliveries ---------------------------------------------------------------
def _json_or_text(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode(errors="replace")


def record(target: "Target", rid: str, ev: dict[str, Any], condition: str,
           result: "Result | None", last: dict[str, Any] | None = None) -> dict[str, Any]:
    """AWS's invocation record for a destination."""
    out: dict[str, Any] = {
        "version": "1.0",
        "timestamp": clock.now().astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": rid,
            "functionArn": f"{target.function_arn}:{target.version}",
            "condition": condition,
            "approximateInvokeCount": int(ev.get("attempts", 0)),
        },
        "requestPayload": _json_or_text(ev.get("payload")),
    }
    if result is not None:
        out["responseContext"] = {"statusCode": 200, "executedVersion": target.version}
        out["responsePayload"] = _json_or_text(result.payload)
    elif last is not None:
        ctx: dict[str, Any] = {"statusCode": 200, "executedVersion": target.version}
        if last.get("error"):
            ctx["functionError"] = last["error"]
        out["responseContext"] = ctx
        out["responsePayload"] = _json_or_text(last.get("payload"))
    return out


def queue_url(arn: str) -> str | None:
    """SQS accepts its queue URLs with any host: this is AWS's own form."""
    parts = parse_arn(arn)
    if parts is None:
        return None
    return f"https://sqs.{parts.region}.amazonaws.com/{parts.account}/{parts.resource}"


def _client(gw: Any, target: "Target", dest: str) -> tuple[str, Any]:
    """The service a destination ARN names, and a client for it as Lambda for the function.

    The caller stays the function's account: the destination's ARN (or queue URL) names its
    owner, whose resource policy decides, as for EventBridge targets."""
    parts = parse_arn(dest)
    if parts is None:
        raise ServiceError("InvalidParameterValueException", f"{dest} is not an ARN")
    ctx = access.service_context(gw, target.account, target.region, "Invoke", "cloudlet-lambda-async")
    return parts.service, ctx.aws(parts.service, principal=PRINCIPAL, region=parts.region or target.region,
                                  source_arn=target.function_arn)


def _send(gw: Any, target: "Target", dest: str, body: dict[str, Any], *, success: bool) -> None:
    text = orjson.dumps(body).decode()
    try:
        service, client = _client(gw, target, dest)
        if service == "sqs":
            client.send_message(QueueUrl=queue_url(dest), MessageBody=text)
        elif service == "sns":
            client.publish(TopicArn=dest, Message=text)
        elif service == "lambda":
            client.invoke(FunctionName=dest, InvocationType="Event", Payload=text.encode())
        elif service == "events":
            detail = "Lambda Function Invocation Result - " + ("Success" if success else "Failure")
            out = client.put_events(Entries=[{
                "Source": "lambda", "DetailType": detail, "Detail": text, "EventBusName": dest,
                "Resources": [dest, body["requestContext"]["functionArn"]],
            }])
            if out.get("FailedEntryCount"):
                raise ServiceError(out["Entries"][0].get("ErrorCode", "Failed"), out["Entries"][0].get("ErrorMessage", ""))
        else:
            raise ServiceError("InvalidParameterValueException", f"{service} is not a destination type")
    except ServiceError as err:
        metrics.delivery_failed(gw, target, dead_letter=False)
        log.warning("destination %s of %s not reached: %s %s", dest, target.function_name, err.code, err.message)


def _dead_letter(gw: Any, target: "Target", rid: str, ev: dict[str, Any], last: dict[str, Any] | None) -> None:
    """The event itself, with why it failed as message attributes (as AWS sends it)."""
    dest = target.dead_letter_arn or ""
    payload = ev.get("payload") or b"{}"
    message = payload.decode(errors="replace") if isinstance(payload, bytes) else str(payload)
    error = _json_or_text(last.get("payload")) if last else None
    error_message = (error.get("errorMessage") if isinstance(error, dict) else None) or (str(error) if error else "")
    attrs = {
        "RequestID": {"DataType": "String", "StringValue": rid},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": error_message[:ERROR_MESSAGE_MAX] or "Unknown"},
    }
    try:
        service, client = _client(gw, target, dest)
        if service == "sqs":
            client.send_message(QueueUrl=queue_url(dest), MessageBody=message, MessageAttributes=attrs)
        elif service == "sns":
            client.publish(TopicArn=dest, Message=message, MessageAttributes=attrs)
        else:
            raise ServiceError("InvalidParameterValueException", f"{service} is not a dead-letter target")
    except ServiceError as err:
        metrics.delivery_failed(gw, target, dead_letter=True)
        log.warning("dead-letter queue %s of %s not reached: %s %s", dest, target.function_name, err.code, err.message)
