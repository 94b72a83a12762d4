"""Finding the topic a request names, and whether its access policy lets the caller in.

A topic lives in its owner's account (the ARN's); a caller from another account (or a
service principal acting for one) reaches it only when the topic's policy has an Allow
statement for the action whose principal and conditions match, and no matching Deny:
``AuthorizationError`` otherwise, as AWS answers. The owner's own calls need no Allow
(IAM governs those) but an explicit Deny still applies. This is the resource-policy
half of the IAM engine, enough for the default policy, AddPermission's statements and
the usual service-principal grants with ``aws:SourceArn``/``aws:SourceAccount``.
"""

from __future__ import annotations

import fnmatch
import json
from contextlib import AbstractContextManager
from typing import Any

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


def evaluate(policy_text: str, ctx: Context, action: str, resource: str) -> str | None:
    """"allow", "deny" or None (no statement applies) for `ctx` doing SNS:`action`."""
    try:
        doc = json.loads(policy_text)
    except ValueError:
        return None
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    verdict = None
    for s in statements or []:
        if not isinstance(s, dict) or not _applies(s, ctx, action, resource):
            continue
        if s.get("Effect") == "Deny":
            return "deny"
        if s.get("Effect") == "Allow":
            verdict = "allow"
    return verdict


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value or [])


def _applies(s: dict[str, Any], ctx: Context, action: str, resource: str) -> bool:
    wanted = f"sns:{action}".lower()
    if not any(isinstance(a, str) and fnmatch.fnmatchcase(wanted, a.lower()) for a in _listed(s.get("Action"))):
        return False
    resources = _listed(s.get("Resource") or "*")
    if not any(isinstance(r, str) and fnmatch.fnmatchcase(resource, r) for r in resources):
        return False
    if not _principal_matches(s.get("Principal"), ctx):
        return False
    return _conditions_hold(s.get("Condition") or {}, ctx)


def _principal_matches(principal: Any, ctx: Context) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    service = ctx.principal_arn if ctx.principal_arn.endswith(".amazonaws.com") else None
    if service is not None:
        return service in _listed(principal.get("Service")) or "*" in _listed(principal.get("AWS"))
    me = {"*", ctx.account, f"arn:{ctx.partition}:iam::{ctx.account}:root", ctx.principal_arn}
    return any(p in me for p in _listed(principal.get("AWS")))


def _context_keys(ctx: Context) -> dict[str, str]:
    keys = {"aws:principalaccount": ctx.account, "aws:principalarn": ctx.principal_arn}
    if ctx.principal_arn.endswith(".amazonaws.com"):  # a service acting for a resource of ctx.account
        keys["aws:sourceaccount"] = ctx.account
        keys["aws:sourceowner"] = ctx.account
    return keys


def _conditions_hold(conditions: dict[str, Any], ctx: Context) -> bool:
    keys = _context_keys(ctx)
    for op, block in conditions.items():
        if not isinstance(block, dict):
            return False
        for key, expected in block.items():
            value = keys.get(key.lower())
            if value is None:
                return False  # a key the request does not carry fails the condition
            wanted = [str(v) for v in _listed(expected)]
            base = op.replace("IfExists", "")
            if base in ("StringEquals", "ArnEquals"):
                ok = value in wanted
            elif base == "StringEqualsIgnoreCase":
                ok = value.lower() in [w.lower() for w in wanted]
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(value, w) for w in wanted)
            elif base in ("StringNotEquals", "ArnNotEquals"):
                ok = value not in wanted
            elif base in ("StringNotLike", "ArnNotLike"):
                ok = not any(fnmatch.fnmatchcase(value, w) for w in wanted)
            else:
                return False
            if not ok:
                return False
    return True
