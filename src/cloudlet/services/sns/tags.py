"""Topic tags: kept with the topic, at most 50."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sns import access, errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]


def _ref(arn: str) -> model.TopicRef:
    try:
        return model.parse_topic_arn(arn, "ResourceArn")
    except ServiceError:
        raise errors.resource_not_found() from None


def tag_resource(ctx: Context, req: Input) -> Output:
    ref = _ref(req["ResourceArn"])
    with access.tx_for(ctx, ref) as tx:
        topic = _load(ctx, tx, ref, "TagResource")
        topic["tags"] = model.merge_tags(topic["tags"], req["Tags"])
        storage.put_topic(tx, topic)
    return {}


def untag_resource(ctx: Context, req: Input) -> Output:
    ref = _ref(req["ResourceArn"])
    with access.tx_for(ctx, ref) as tx:
        topic = _load(ctx, tx, ref, "UntagResource")
        drop = set(req["TagKeys"])
        topic["tags"] = {k: v for k, v in topic["tags"].items() if k not in drop}
        storage.put_topic(tx, topic)
    return {}


def list_tags_for_resource(ctx: Context, req: Input) -> Output:
    ref = _ref(req["ResourceArn"])
    with access.tx_for(ctx, ref) as tx:
        topic = _load(ctx, tx, ref, "ListTagsForResource")
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(topic["tags"].items())]}


def _load(ctx: Context, tx: Any, ref: model.TopicRef, action: str) -> dict[str, Any]:
    topic = storage.get_topic(tx, ref.name)
    if topic is None:
        raise errors.resource_not_found()
    access.check(ctx, topic, ref, action)
    return topic
