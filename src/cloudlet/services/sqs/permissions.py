"""Queue permissions: AddPermission and RemovePermission edit the queue's Policy document,
one statement per label, as AWS writes it (a single principal or action as a string)."""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.sqs import access, errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]

_LABEL = re.compile(r"[A-Za-z0-9_-]{1,80}")
#: actions a queue owner may grant (the rest are the owner's alone: ``access.OWNER_ONLY``)
_GRANTABLE = frozenset(
    {
        "*", "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
        "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",
    }
)


def add_permission(ctx: Context, req: Input) -> Output:
    label, accounts, actions = req["Label"], req["AWSAccountIds"], req["Actions"]
    if not _LABEL.fullmatch(label):
        raise errors.invalid_parameter("Label", label, "Must be alphanumeric, hyphen, or underscore and 1 to 80 long.")
    if not accounts:
        raise errors.missing_parameter("AWSAccountIds")
    if not actions:
        raise errors.missing_parameter("Actions")
    for action in actions:
        if action not in _GRANTABLE:
            raise errors.invalid_parameter(
                "ActionName", f"SQS:{action}", "Only the queue owner is allowed to invoke this action."
            )
    if len(actions) > model.MAX_POLICY_ACTIONS:
        raise errors.over_limit(f"{len(actions)} actions were found, maximum allowed is {model.MAX_POLICY_ACTIONS}.")
    where = access.target(ctx, req["QueueUrl"])
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        policy = model.Policy.parse(q.attrs.get("Policy"))
        if label in policy.labels():
            raise errors.invalid_parameter("Label", label, "Already exists.")
        if not policy.doc:
            policy.doc = {"Version": "2012-10-17", "Id": f"{q.arn}/SQSDefaultPolicy", "Statement": []}
        principals = [f"arn:{ctx.partition}:iam::{a}:root" for a in accounts]
        granted = [f"SQS:{a}" for a in actions]
        policy.doc["Statement"] = policy.statements() + [
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": granted[0] if len(granted) == 1 else granted,
                "Resource": q.arn,
            }
        ]
        q.attrs = {**q.attrs, "Policy": policy.text()}
        q.modified = int(clock.time_s())
        storage.put_queue(tx, q)
    return {}


def remove_permission(ctx: Context, req: Input) -> Output:
    """Removing the last statement removes the policy."""
    label = req["Label"]
    where = access.target(ctx, req["QueueUrl"])
    with where.tx(ctx) as tx:
        q = access.load(ctx, tx, where)
        policy = model.Policy.parse(q.attrs.get("Policy"))
        if label not in policy.labels():
            raise errors.invalid_parameter("Label", label, "can't find label on existing policy.")
        kept = [s for s in policy.statements() if s.get("Sid") != label]
        attrs = dict(q.attrs)
        if kept:
            policy.doc["Statement"] = kept
            attrs["Policy"] = policy.text()
        else:
            attrs.pop("Policy", None)
        q.attrs = attrs
        q.modified = int(clock.time_s())
        storage.put_queue(tx, q)
    return {}
