"""AddPermission / RemovePermission: statements in the topic's access policy."""

from __future__ import annotations

import json
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.sns import access, errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]

#: the actions a topic policy statement may name (AddPermission's ActionName)
ACTIONS = frozenset(
    {
        "AddPermission", "DeleteTopic", "GetDataProtectionPolicy", "GetTopicAttributes", "ListSubscriptionsByTopic",
        "ListTagsForResource", "Publish", "PutDataProtectionPolicy", "RemovePermission", "SetTopicAttributes",
        "Subscribe", "TagResource", "UntagResource", "Receive",
    }
)


def add_permission(ctx: Context, req: Input) -> Output:
    ref = model.parse_topic_arn(req["TopicArn"])
    label = req["Label"]
    accounts, actions = req["AWSAccountId"], req["ActionName"]
    if not accounts or not actions:
        raise errors.invalid("AWSAccountId" if not accounts else "ActionName")
    for action in actions:
        if action not in ACTIONS and action != "*":
            raise errors.invalid("Policy statement action out of service scope!")
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "AddPermission")
        doc = _policy(topic, ref)
        if any(s.get("Sid") == label for s in doc["Statement"]):
            raise errors.invalid("Statement already exists")
        principals = [f"arn:{ctx.partition}:iam::{a}:root" if model.parse_arn(a) is None else a for a in accounts]
        names = [f"SNS:{a}" for a in actions]
        doc["Statement"].append({
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": names[0] if len(names) == 1 else names,
            "Resource": ref.arn,
        })
        topic["attrs"]["Policy"] = json.dumps(doc, separators=(",", ":"))
        storage.put_topic(tx, topic)
    return {}


def remove_permission(ctx: Context, req: Input) -> Output:
    """Removing a label the policy does not have changes nothing."""
    ref = model.parse_topic_arn(req["TopicArn"])
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "RemovePermission")
        doc = _policy(topic, ref)
        kept = [s for s in doc["Statement"] if s.get("Sid") != req["Label"]]
        if len(kept) != len(doc["Statement"]):
            doc["Statement"] = kept
            topic["attrs"]["Policy"] = json.dumps(doc, separators=(",", ":"))
            storage.put_topic(tx, topic)
    return {}


def _policy(topic: dict[str, Any], ref: model.TopicRef) -> dict[str, Any]:
    try:
        doc = json.loads(topic["attrs"].get("Policy") or model.default_policy(ref.arn, ref.account))
    except ValueError:
        doc = json.loads(model.default_policy(ref.arn, ref.account))
    statements = doc.get("Statement") or []
    doc["Statement"] = [statements] if isinstance(statements, dict) else list(statements)
    return doc
