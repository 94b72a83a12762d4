"""Finding the topic a request names, and whether its access policy lets the caller in.

A topic lives in its owner's account (the ARN's); a caller from another account (or a
service principal acting for one) reaches it only when the topic's policy has an Allow
statement for the action whose principal and conditions match, and no matching Deny:
``AuthorizationError`` otherwise, as AWS answers. The owner's own calls need no Allow
(IAM governs those) but an explicit Deny still applies. The policy is judged by the IAM
policy engine (``cloudlet.auth.policy``) on its own, as a resource-based policy: whether
the caller's identity policies allow the call is the enforcement layer's question
(``--enforce-iam``), not the topic's.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from cloudlet.auth.policy import PolicyError, is_allowed_by, parse
from cloudlet.auth.resource_request import request
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.sns import errors, model, storage


def tx_for(ctx: Context, ref: model.TopicRef) -> AbstractContextManager[Tx]:
    """A transaction in the topic owner's account (NotFound for another region's topic)."""
    if ref.region != ctx.region:
        raise errors.topic_not_found()
    return ctx.tx(account=ref.account)


def load_topic(ctx: Context, tx: Tx, ref: model.TopicRef, action: str) -> dict[str, Any]:
    topic = storage.get_topic(tx, ref.name)
    if topic is None:
        raise errors.topic_not_found()
    check(ctx, topic, ref, action)
    return topic


def check(ctx: Context, topic: dict[str, Any], ref: model.TopicRef, action: str) -> None:
    policy = topic["attrs"].get("Policy")
    if not policy:
        if ctx.account == ref.account:
            return  # the default policy has no Deny: the owner's own call needs nothing from it
        policy = model.default_policy(ref.arn, ref.account)
    verdict = evaluate(policy, ctx, action, ref.arn)
    if verdict == "deny" or (verdict != "allow" and ctx.account != ref.account):
        raise errors.not_authorized(ctx.principal_arn, action, ref.arn)


_VERDICTS = {"Allow": "allow", "Deny": "deny", "NotApplicable": None}


def evaluate(policy_text: str, ctx: Context, action: str, resource: str) -> str | None:
    """"allow", "deny" or None (no statement applies) for `ctx` doing SNS:`action`."""
    try:
        policy = parse(policy_text, "resource")
    except PolicyError:
        # SetTopicAttributes only checks that the text is a JSON object; a document the
        # policy language refuses grants and denies nothing
        return None
    return _VERDICTS[is_allowed_by(policy, request(ctx, f"sns:{action}", resource))]


