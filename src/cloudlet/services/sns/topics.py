"""Topics: create (idempotent), delete, list, attributes."""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.sns import access, envelope, errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]
PAGE = 100


def create_topic(ctx: Context, req: Input) -> Output:
    """Creating a topic that exists is fine when every attribute and tag named matches
    (AWS returns its ARN); a different value is InvalidParameter."""
    name = req["Name"]
    given = {k: ("" if v is None else str(v)) for k, v in (req.get("Attributes") or {}).items()}
    if req.get("DataProtectionPolicy") is not None:
        given["DataProtectionPolicy"] = req["DataProtectionPolicy"]
    fifo = model.is_true(given.get("FifoTopic"))
    model.check_topic_name(name, fifo)
    attrs = model.normalize_topic_attributes(given, fifo=fifo, creating=True)
    attrs.pop("FifoTopic", None)
    tags = model.merge_tags({}, req.get("Tags") or [])
    arn = model.topic_arn(ctx.partition, ctx.region, ctx.account, name)
    now = clock.now()
    with ctx.tx() as tx:
        existing = storage.get_topic(tx, name)
        if existing is not None:
            if existing["fifo"] != fifo or any(existing["attrs"].get(k, "") != v for k, v in attrs.items()):
                raise errors.invalid("Attributes Reason: Topic already exists with different attributes")
            if any(existing["tags"].get(k) != v for k, v in tags.items()):
                raise errors.invalid("Tags Reason: Topic already exists with different tags")
            return {"TopicArn": arn}
        topic = {
            "name": name, "fifo": fifo, "attrs": attrs, "tags": tags, "deleted": 0, "seq": 0,
            "created": now.timestamp(), "archive_start": envelope.timestamp(now) if attrs.get("ArchivePolicy") else None,
        }
        storage.put_topic(tx, topic)
    return {"TopicArn": arn}


def delete_topic(ctx: Context, req: Input) -> Output:
    """Deleting a topic that does not exist is not an error (AWS says so); its
    subscriptions go with it."""
    ref = model.parse_topic_arn(req["TopicArn"])
    with access.tx_for(ctx, ref) as tx:
        topic = storage.get_topic(tx, ref.name)
        if topic is None:
            return {}
        access.check(ctx, topic, ref, "DeleteTopic")
        storage.delete_topic(tx, ref.name)
    return {}


def list_topics(ctx: Context, req: Input) -> Output:
    after = model.page_after(req.get("NextToken"))
    with ctx.tx() as tx:
        found = storage.topics(tx, after, PAGE + 1)
    page = found[:PAGE]
    out: Output = {"Topics": [{"TopicArn": model.topic_arn(ctx.partition, ctx.region, ctx.account, t["name"])}
                              for t in page]}
    if len(found) > PAGE:
        out["NextToken"] = model.page_token(page[-1]["name"])
    return out


def get_topic_attributes(ctx: Context, req: Input) -> Output:
    """The subscription counts are exact: counted from the subscriptions themselves."""
    ref = model.parse_topic_arn(req["TopicArn"])
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "GetTopicAttributes")
        counts = storage.counts(storage.subs_of(tx, ref.name))
    return {"Attributes": model.topic_view(topic, ref.arn, ref.account, counts)}


def set_topic_attributes(ctx: Context, req: Input) -> Output:
    ref = model.parse_topic_arn(req["TopicArn"])
    name = req["AttributeName"]
    value = req.get("AttributeValue")
    now = clock.now()
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "SetTopicAttributes")
        change = model.normalize_topic_attributes({name: value or ""}, fifo=topic["fifo"], creating=False)
        topic["attrs"].update(change)
        if name == "ArchivePolicy":
            topic["archive_start"] = (topic.get("archive_start") or envelope.timestamp(now)) if value else None
        storage.put_topic(tx, topic)
    return {}



def get_data_protection_policy(ctx: Context, req: Input) -> Output:
    ref = model.parse_topic_arn(req["ResourceArn"], "ResourceArn")
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "GetDataProtectionPolicy")
    return {"DataProtectionPolicy": topic["attrs"].get("DataProtectionPolicy", "")}


def put_data_protection_policy(ctx: Context, req: Input) -> Output:
    """Kept and returned; cloudlet does not audit or mask message contents by it."""
    ref = model.parse_topic_arn(req["ResourceArn"], "ResourceArn")
    change = model.normalize_topic_attributes({"DataProtectionPolicy": req["DataProtectionPolicy"]}, fifo=False,
                                              creating=False)
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "PutDataProtectionPolicy")
        topic["attrs"].update(change)
        storage.put_topic(tx, topic)
    return {}
