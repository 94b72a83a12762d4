"""Delivering a message to the subscriptions it matched.

Inside the publish transaction, ``plan`` records what needs no other service: email,
SMS and mobile messages go to the outbox, and each HTTP/S delivery becomes a scheduler
job (committed with the publish, POSTed from the scheduler thread, never on the request
path). What it returns, ``run`` carries out once that transaction has committed: SQS
queues (``sqs:SendMessage`` as ``sns.amazonaws.com``, so the queue's policy applies
across accounts), Lambda functions and Firehose streams, in process.

Failures follow AWS: a client-side error (the queue is gone, its policy refuses SNS)
is not retried and the message goes to the subscription's dead-letter queue, if it has
one; a server-side error is retried on the AWS-managed policy by a scheduler job.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services import registry
from cloudlet.services.sns import deliverypolicy, endpoints, envelope, messages, metrics, model, outbox
from cloudlet.services.sns.messages import Message
from cloudlet.server.config import public_url

log = logging.getLogger("cloudlet.sns")

DELIVER = "sns.deliver"
PRINCIPAL = "sns.amazonaws.com"
DEFAULT_BASE = "http://localhost:4566"


def base_url(ctx: Context) -> str:
    """cloudlet's own URL, for SigningCertURL, SubscribeURL and UnsubscribeURL."""
    gw = ctx.gateway
    return DEFAULT_BASE if gw is None else public_url(gw.config)


def signer(ctx: Context, topic: dict[str, Any], now: Any) -> envelope.Signer:
    assert ctx.gateway is not None
    return envelope.Signer(ctx.gateway.db("sns"), topic["attrs"].get("SignatureVersion") or "1", now, base_url(ctx))


def sub_arn(ref: model.TopicRef, sub: dict[str, Any]) -> str:
    return f"{ref.arn}:{sub['id']}"


def is_raw(sub: dict[str, Any]) -> bool:
    return sub["attrs"].get("RawMessageDelivery") == "true"


# -- publish ---------------------------------------------------------------------------------


def plan(
    ctx: Context, tx: Tx, ref: model.TopicRef, topic: dict[str, Any], msg: Message, subs: list[dict[str, Any]], now: Any,
) -> list[dict[str, Any]]:
    """Record outbox entries and schedule HTTP jobs in `tx`; return the in-process deliveries."""
    sign = signer(ctx, topic, now)
    later: list[dict[str, Any]] = []
    for sub in subs:
        arn = sub_arn(ref, sub)
        protocol = sub["protocol"]
        text = msg.text_for(protocol)
        if protocol == "sqs":
            if is_raw(sub):
                body, attrs = text, messages.sqs_attributes(msg.attributes)
            else:
                body, attrs = envelope.dumps(envelope.notification(msg, text, arn, sign)), {}
            to_fifo = sub["endpoint"].endswith(".fifo")
            # a FIFO queue gets the group and dedup id; a standard queue the group of a standard topic (fair queues)
            group = msg.group if to_fifo or not topic["fifo"] else None
            later.append({"via": "sqs", **_base(ref, sub), "queue": sub["endpoint"], "body": body, "attrs": attrs,
                          "group": group, "dedup": msg.dedup if to_fifo else None})
        elif protocol in ("http", "https"):
            retry, content_type = deliverypolicy.http_policy(
                sub["attrs"].get("DeliveryPolicy"), topic["attrs"].get("DeliveryPolicy")
            )
            raw = is_raw(sub)
            body = text if raw else envelope.dumps(envelope.notification(msg, text, arn, sign))
            headers = envelope.http_headers("Notification", msg.id, ref.arn, arn, content_type, raw)
            schedule_http(ctx, ref, sub, "Notification", body, headers, retry, when=now.timestamp())
        elif protocol == "lambda":
            record = {
                "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": arn,
                "Sns": envelope.notification(msg, text, arn, sign, lambda_style=True),
            }
            later.append({"via": "lambda", **_base(ref, sub), "function": sub["endpoint"],
                          "payload": json.dumps({"Records": [record]})})
        elif protocol == "firehose":
            body = text if is_raw(sub) else envelope.dumps(envelope.notification(msg, text, arn, sign))
            later.append({"via": "firehose", **_base(ref, sub), "stream": sub["endpoint"], "body": body})
        elif protocol == "application" and not _endpoint_enabled(tx, sub["endpoint"]):
            log.info("sns: endpoint %s is disabled or gone; not delivered", sub["endpoint"])
            metrics.failed(ctx, _base(ref, sub))
        else:  # email, email-json, sms, application: the outbox
            _to_outbox(ctx, ref, sub, msg, text, sign, now)
            metrics.delivered(ctx, _base(ref, sub))
    if ctx.trace_header:  # the publish's X-Amzn-Trace-Id goes on with each delivery (a retry too)
        for d in later:
            d["trace"] = ctx.trace_header
    return later


def _base(ref: model.TopicRef, sub: dict[str, Any]) -> dict[str, Any]:
    """Who delivers (the topic's owner, where the topic is) and what for."""
    return {"account": ref.account, "region": ref.region, "sub": sub["id"], "topic": sub["topic"],
            "dlq": model.dlq_of(sub)}


def _to_outbox(
    ctx: Context, ref: model.TopicRef, sub: dict[str, Any], msg: Message, text: str, sign: envelope.Signer, now: Any,
) -> None:
    protocol = sub["protocol"]
    arn = sub_arn(ref, sub)
    entry: dict[str, Any] = {
        "account": ref.account, "region": ref.region, "protocol": protocol, "endpoint": sub["endpoint"],
        "topicArn": ref.arn, "subscriptionArn": arn, "type": "Notification", "messageId": msg.id,
        "timestamp": msg.timestamp,
    }
    if protocol == "email":
        entry["subject"] = msg.subject or "AWS Notification Message"
        entry["message"] = text
    elif protocol == "email-json":
        entry["subject"] = msg.subject or "AWS Notification Message"
        entry["message"] = envelope.dumps(envelope.notification(msg, text, arn, sign))
    elif protocol == "application":
        platform = _platform(sub["endpoint"])
        entry["message"] = msg.structure.get(platform, msg.structure["default"]) if msg.structure else msg.text
        entry["platform"] = platform
    else:
        entry["message"] = text
    if msg.attributes:
        entry["messageAttributes"] = messages.envelope_attributes(msg.attributes)
    assert ctx.gateway is not None
    outbox.add(ctx.gateway.db("sns"), entry, now.timestamp())


def _endpoint_enabled(tx: Tx, endpoint_arn: str) -> bool:
    rec = tx.get(endpoints.ENDPOINT, endpoint_arn.rsplit("/", 1)[-1])
    return rec is not None and rec.value["attrs"].get("Enabled") == "true"


def _platform(endpoint_arn: str) -> str:
    """``arn:...:endpoint/GCM/app/id`` -> ``GCM``."""
    arn = model.parse_arn(endpoint_arn)
    parts = arn.resource.split("/") if arn else []
    return parts[1] if len(parts) > 2 else "default"


def schedule_http(
    ctx: Context, ref: model.TopicRef, sub: dict[str, Any], kind: str, body: str, headers: dict[str, str],
    retry: dict[str, Any], *, when: float, attempts: int | None = None,
) -> None:
    """A job that POSTs `body` to the subscription's URL from the scheduler thread."""
    assert ctx.gateway is not None
    payload = {
        "via": "http", **_base(ref, sub), "kind": kind, "url": sub["endpoint"], "body": body, "headers": headers,
        "retry": retry, "attempt": 0,
    }
    if attempts is not None:
        payload["retry"] = {**retry, "numRetries": attempts - 1, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                            "numMaxDelayRetries": 0}
    ctx.gateway.scheduler.at(f"sns.d/{os.urandom(12).hex()}", when, DELIVER, payload)


# -- carrying out --------------------------------------------------------------------------------


def run(ctx: Context, deliveries: list[dict[str, Any]]) -> None:
    """The in-process deliveries of one publish, after its transaction committed."""
    for d in deliveries:
        attempt(ctx, d)


def attempt(ctx: Context, d: dict[str, Any]) -> bool:
    """One try at an in-process delivery. True when done (delivered, dead-lettered or
    dropped), False when a server-side error scheduled a retry."""
    try:
        if d["via"] == "sqs":
            send_to_queue(ctx, d["account"], d["queue"], d["body"], d["attrs"], d.get("group"), d.get("dedup"),
                          _topic_arn(d), trace=d.get("trace"))
        elif d["via"] == "lambda":
            if registry.handler_for("lambda", "Invoke") is None:
                log.info("sns: lambda subscription %s not delivered: cloudlet has no Lambda yet", d["function"])
                metrics.failed(ctx, d)
                return True
            ctx.aws("lambda", principal=PRINCIPAL, account=d["account"], source_arn=_topic_arn(d),
                    trace_header=d.get("trace")).invoke(
                FunctionName=d["function"], InvocationType="Event", Payload=d["payload"].encode()
            )
        elif d["via"] == "firehose":
            if registry.handler_for("firehose", "PutRecord") is None:
                log.info("sns: firehose subscription %s not delivered: cloudlet has no Firehose yet", d["stream"])
                metrics.failed(ctx, d)
                return True
            arn = model.parse_arn(d["stream"])
            name = arn.resource.split("/", 1)[-1] if arn else d["stream"]
            ctx.aws("firehose", principal=PRINCIPAL, account=d["account"]).put_record(
                DeliveryStreamName=name, Record={"Data": d["body"].encode()}
            )
    except ServiceError as err:
        if err.status >= 500 and d.get("attempt", 0) < deliverypolicy.MANAGED_RETRY["numRetries"]:
            _retry_later(ctx, d)
            return False
        dead_letter(ctx, d, err.code, err.message)
    except Exception:  # a bug in the receiving service: the publish still succeeded, as in AWS
        log.exception("sns: delivery to %s failed unexpectedly; dropped", d.get("queue") or d.get("function"))
        metrics.failed(ctx, d)
    else:
        metrics.delivered(ctx, d)
    return True


def _retry_later(ctx: Context, d: dict[str, Any]) -> None:
    assert ctx.gateway is not None
    n = d.get("attempt", 0) + 1
    wait = deliverypolicy.delay(deliverypolicy.MANAGED_RETRY, n) or 0.0
    ctx.gateway.scheduler.at(f"sns.d/{os.urandom(12).hex()}", clock.time_s() + wait, DELIVER, {**d, "attempt": n})


def _topic_arn(d: dict[str, Any]) -> str | None:
    topic = d.get("topic")
    if not topic or topic.startswith("arn:"):
        return topic
    return f"arn:aws:sns:{d['region']}:{d['account']}:{topic}"


def send_to_queue(
    ctx: Context, account: str, queue_arn: str, body: str, attrs: dict[str, Any], group: str | None, dedup: str | None,
    topic_arn: str | None = None, *, trace: str | None = None,
) -> None:
    """``sqs:SendMessage`` as SNS acting for the topic owner `account`, for `topic_arn` (the
    ``aws:SourceArn`` queue policies grant SNS on); `trace` becomes its AWSTraceHeader."""
    target = model.queue_url_of(base_url(ctx), queue_arn)
    if target is None:
        raise ServiceError("InvalidParameter", f"{queue_arn} is not an SQS queue ARN", 400)
    url, region = target
    params: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
    if attrs:
        params["MessageAttributes"] = attrs
    if group is not None:
        params["MessageGroupId"] = group
    if dedup is not None:
        params["MessageDeduplicationId"] = dedup
    ctx.aws("sqs", principal=PRINCIPAL, account=account, region=region, source_arn=topic_arn,
            trace_header=trace).send_message(**params)


def dead_letter(ctx: Context, d: dict[str, Any], code: str, message: str) -> None:
    """The message goes to the subscription's dead-letter queue, or is dropped (logged)."""
    dlq = d.get("dlq")
    if not dlq:
        log.info("sns: delivery of subscription %s failed (%s: %s); no dead-letter queue, dropped",
                 d.get("sub"), code, message)
        metrics.failed(ctx, d)
        return
    body = d.get("body") if d["via"] != "lambda" else d.get("payload")
    try:
        send_to_queue(ctx, d["account"], dlq, body or "", d.get("attrs") or {}, d.get("group"), d.get("dedup"),
                      _topic_arn(d))
    except ServiceError as err:
        log.warning("sns: could not move a failed delivery to dead-letter queue %s (%s: %s)", dlq, err.code, err.message)
        metrics.failed(ctx, d, redrive=False)
    else:
        metrics.failed(ctx, d, redrive=True)
