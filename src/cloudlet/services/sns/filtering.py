"""Subscription filter policies, on message attributes or on the message body.

The matching itself is the shared pattern engine (``core.patterns``, SNS dialect; it
also enforces SNS's limits: five keys, 150 combinations, no nesting on the
``MessageAttributes`` scope). This module picks what the policy sees and caches
compiled policies by text and scope, so a publish to many subscriptions compiles nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cloudlet.core.patterns import PatternError, compile_pattern
from cloudlet.services.sns import errors, messages

ATTRIBUTES = "MessageAttributes"
BODY = "MessageBody"


@lru_cache(maxsize=4096)
def _compiled(policy: str, scope: str) -> Any:
    return compile_pattern(policy, dialect="sns", scope=scope)


def check(policy: str, scope: str, *, subscribing: bool = False) -> None:
    """Compile a policy when it is set: a bad one is InvalidParameter in AWS's words
    (which Subscribe words as ``Attributes Reason: ...``)."""
    try:
        _compiled(policy, scope)
    except PatternError as err:
        raise errors.invalid_raw(err.subscribe_message if subscribing else str(err)) from None


def check_on_subscribe(policy: str, scope: str) -> None:
    check(policy, scope, subscribing=True)


def matches(sub: dict[str, Any], msg: messages.Message) -> bool:
    """Whether a message passes the subscription's filter policy (no policy: everything does)."""
    policy = sub["attrs"].get("FilterPolicy")
    if not policy:
        return True
    scope = sub["attrs"].get("FilterPolicyScope") or ATTRIBUTES
    if scope == BODY:
        event = messages.body_event(msg.text_for(sub["protocol"]))
        if event is None:
            return False
    else:
        event = messages.filter_event(msg.attributes)
    try:
        return bool(_compiled(policy, scope).matches(event))
    except PatternError:  # a policy accepted earlier that the engine now refuses: it filters out
        return False
