"""Publish and PublishBatch: to a topic (fanned out to its matching subscriptions), to a
mobile endpoint, or straight to a phone number (the outbox).

A FIFO topic numbers its messages (``SequenceNumber``) and drops a message whose
deduplication id it saw in the last five minutes of the cloudlet clock, answering with
the first message's id, as AWS does. SQS subscribers are delivered to before Publish
answers (in process, in publish order, so a FIFO queue sees the topic's order); HTTP/S
endpoints are POSTed to from the scheduler thread.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sns import access, endpoints, envelope, errors, fanout, filtering, messages, metrics, model, outbox, storage
from cloudlet.services.sns.messages import Message

Input = dict[str, Any]
Output = dict[str, Any]
MAX_BATCH = 10
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def publish(ctx: Context, req: Input) -> Output:
    targets = [k for k in ("TopicArn", "TargetArn", "PhoneNumber") if req.get(k)]
    if not targets:
        raise errors.invalid("TopicArn or TargetArn Reason: no value for required parameter")
    if len(targets) > 1:
        raise errors.invalid("TopicArn Reason: Only one of TopicArn, TargetArn or PhoneNumber can be specified")
    now = clock.now()
    if req.get("PhoneNumber"):
        return _to_phone(ctx, req, now)
    arn_text = req.get("TopicArn") or req["TargetArn"]
    arn = model.parse_arn(arn_text)
    if req.get("TargetArn") and arn is not None and arn.service == "sns" and arn.resource.startswith("endpoint/"):
        return _to_endpoint(ctx, req, arn_text, now)
    ref = model.parse_topic_arn(arn_text, "TopicArn" if req.get("TopicArn") else "TargetArn")
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "Publish")
        msg = _prepare(req, ref, topic, now)
        out, later = _publish_one(ctx, tx, ref, topic, msg, now)
    metrics.published(ctx, ref.account, ref.region, ref.name, [len(msg.text.encode())])
    fanout.run(ctx, later)
    return out


def publish_batch(ctx: Context, req: Input) -> Output:
    """Each entry is published as Publish would; a bad entry fails alone."""
    ref = model.parse_topic_arn(req["TopicArn"])
    entries = req.get("PublishBatchRequestEntries") or []
    if not entries:
        raise errors.empty_batch()
    if len(entries) > MAX_BATCH:
        raise errors.too_many_entries()
    ids = [e.get("Id", "") for e in entries]
    if len(set(ids)) != len(ids):
        raise errors.ids_not_distinct()
    if not all(_BATCH_ID.fullmatch(i) for i in ids):
        raise errors.invalid_batch_id()
    total = sum(len((e.get("Message") or "").encode()) for e in entries)
    if total > messages.MAX_BYTES:
        raise errors.batch_too_long()
    now = clock.now()
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "Publish")
        for entry in entries:
            try:
                with access.tx_for(ctx, ref) as inner:  # a savepoint: an entry's writes roll back alone
                    msg = _prepare(entry, ref, topic, now)
                    out, more = _publish_one(ctx, inner, ref, topic, msg, now)
            except ServiceError as err:
                failed.append(errors.entry_failure(entry["Id"], err))
                continue
            ok.append({"Id": entry["Id"], **out})
            later.extend(more)
    done = {o["Id"] for o in ok}
    metrics.published(ctx, ref.account, ref.region, ref.name, [len(e["Message"].encode()) for e in entries if e["Id"] in done])
    fanout.run(ctx, later)
    return {"Successful": ok, "Failed": failed}


def _prepare(req: Input, ref: model.TopicRef, topic: dict[str, Any], now: Any) -> Message:
    text = req["Message"]
    messages.check_subject(req.get("Subject"))
    structure = messages.parse_structure(text, req.get("MessageStructure"))
    attrs, attr_bytes = messages.check_attributes(req.get("MessageAttributes"))
    messages.check_size(text, attr_bytes)
    group, dedup = req.get("MessageGroupId"), req.get("MessageDeduplicationId")
    if group is not None:
        messages.check_token("MessageGroupId", group)
    if dedup is not None:
        messages.check_token("MessageDeduplicationId", dedup)
    if topic["fifo"]:
        if group is None:
            raise errors.invalid("The MessageGroupId parameter is required for FIFO topics")
        if dedup is None:
            if not model.content_dedup(topic):
                raise errors.invalid(
                    "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                    "provided explicitly"
                )
            dedup = messages.content_dedup_id(text)
    elif dedup is not None:
        raise errors.invalid(
            "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not "
            "valid for this topic type"
        )
    return Message(
        id=str(uuid.uuid4()), topic_arn=ref.arn, text=text, timestamp=envelope.timestamp(now),
        subject=req.get("Subject"), structure=structure, attributes=attrs, group=group, dedup=dedup,
    )


def _publish_one(
    ctx: Context, tx: Any, ref: model.TopicRef, topic: dict[str, Any], msg: Message, now: Any
) -> tuple[Output, list[dict[str, Any]]]:
    """Number and deduplicate (FIFO), then plan the deliveries; the caller runs them after commit."""
    if topic["fifo"]:
        now_s = now.timestamp()
        storage.expire_dedup(tx, now_s)
        assert msg.dedup is not None
        scope_id = f"{msg.group} {msg.dedup}" if topic["attrs"].get("FifoThroughputScope") == "MessageGroup" else msg.dedup
        prior = storage.seen(tx, ref.name, scope_id, now_s)
        if prior is not None:
            return {"MessageId": prior["id"], "SequenceNumber": prior["seq"]}, []
        topic["seq"] = topic.get("seq", 0) + 1
        msg.sequence = f"{10**19 + topic['seq'] * 1000:020d}"
        storage.put_topic(tx, topic)
        storage.remember(tx, ref.name, scope_id, msg.id, msg.sequence, now_s)
    live = [s for s in storage.subs_of(tx, ref.name) if not s["pending"]]
    subs = [s for s in live if filtering.matches(s, msg)]
    if len(subs) < len(live):
        bare = 0 if msg.attributes else sum(
            1 for s in live if s not in subs and (s["attrs"].get("FilterPolicyScope") or filtering.ATTRIBUTES) == filtering.ATTRIBUTES
        )
        metrics.filtered_out(ctx, ref.account, ref.region, ref.name, len(live) - len(subs), bare)
    if topic["fifo"]:
        subs.sort(key=lambda s: s["created"])
    later = fanout.plan(ctx, tx, ref, topic, msg, subs, now)
    out: Output = {"MessageId": msg.id}
    if msg.sequence is not None:
        out["SequenceNumber"] = msg.sequence
    return out, later


def _to_phone(ctx: Context, req: Input, now: Any) -> Output:
    """An SMS straight to a number: recorded in the outbox."""
    number = req["PhoneNumber"]
    model.check_phone(number)
    text = req["Message"]
    structure = messages.parse_structure(text, req.get("MessageStructure"))
    attrs, attr_bytes = messages.check_attributes(req.get("MessageAttributes"))
    messages.check_size(text, attr_bytes)
    message_id = str(uuid.uuid4())
    entry = {
        "account": ctx.account, "region": ctx.region, "protocol": "sms", "endpoint": number, "type": "Notification",
        "messageId": message_id, "timestamp": envelope.timestamp(now),
        "message": structure.get("sms", structure["default"]) if structure else text,
    }
    if attrs:
        entry["messageAttributes"] = messages.envelope_attributes(attrs)
    assert ctx.gateway is not None
    outbox.add(ctx.gateway.db("sns"), entry, now.timestamp())
    return {"MessageId": message_id}


def _to_endpoint(ctx: Context, req: Input, endpoint_arn: str, now: Any) -> Output:
    """A push to a mobile endpoint: recorded in the outbox, with the text for its platform."""
    text = req["Message"]
    structure = messages.parse_structure(text, req.get("MessageStructure"))
    attrs, attr_bytes = messages.check_attributes(req.get("MessageAttributes"))
    messages.check_size(text, attr_bytes)
    with ctx.tx() as tx:
        ep = endpoints.check_publishable(ctx, tx, endpoint_arn)
    platform = ep["app"].split("/", 1)[0]
    message_id = str(uuid.uuid4())
    entry = {
        "account": ctx.account, "region": ctx.region, "protocol": "application", "endpoint": endpoint_arn,
        "platform": platform, "type": "Notification", "messageId": message_id, "timestamp": envelope.timestamp(now),
        "message": structure.get(platform, structure["default"]) if structure else text,
    }
    if attrs:
        entry["messageAttributes"] = messages.envelope_attributes(attrs)
    assert ctx.gateway is not None
    outbox.add(ctx.gateway.db("sns"), entry, now.timestamp())
    return {"MessageId": message_id}
