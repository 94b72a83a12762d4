"""Finding the queue a request names, and the URLs cloudlet hands out.

Queue URLs: AWS answers ``https://sqs.<region>.amazonaws.com/<account>/<name>``; cloudlet
answers ``http://<host>:<port>/<account>/<name>`` with the host and port ``cloudlet serve``
listens on (``0.0.0.0``/``::`` become ``localhost``), so the URL routes back to cloudlet
(Java v1 posts to it; the query protocol reads the queue from it). On input any URL whose
path is ``/<account>/<name>`` is accepted, whatever its host: AWS's own form included.
The region is the request's (its signature), as in AWS, where a URL's host never
overrides the client's region.

A URL naming another account reaches that account's queue when its queue policy allows
the caller (a statement with Effect Allow, a Principal of ``*``, the caller's account or
ARN, and an action covering the operation), and the operation is one AWS lets another
account perform (``OWNER_ONLY`` lists those it documents as not); otherwise the queue
"does not exist", as AWS answers. This is the resource-policy half of the IAM engine,
kept minimal until that engine arrives.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.sqs import errors, model, storage
from cloudlet.server.config import public_url

DEFAULT_BASE = "http://localhost:4566"

#: operations "cross-account permissions don't apply to" (AWS's API reference)
OWNER_ONLY = frozenset(
    {
        "AddPermission", "RemovePermission", "CreateQueue", "DeleteQueue", "ListQueues", "SetQueueAttributes",
        "TagQueue", "UntagQueue", "ListQueueTags", "StartMessageMoveTask", "ListMessageMoveTasks",
        "CancelMessageMoveTask",
    }
)


def base_url(ctx: Context) -> str:
    gw = ctx.gateway
    return DEFAULT_BASE if gw is None else public_url(gw.config)


def url_of(ctx: Context, q: storage.Queue) -> str:
    return model.queue_url(base_url(ctx), q.account, q.name)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a queue lives: its account (the URL's) and name."""

    account: str
    name: str

    def tx(self, ctx: Context) -> AbstractContextManager[Tx]:
        return ctx.tx(account=self.account)


def target(ctx: Context, url: str) -> Target:
    parsed = model.parse_queue_url(url)
    if parsed is None:
        raise errors.invalid_address(url)
    return Target(*parsed)


def load(ctx: Context, tx: Tx, where: Target) -> storage.Queue:
    """The queue, or QueueDoesNotExist (also when another account's policy does not let
    the caller in)."""
    q = storage.get_queue(tx, where.name, ctx.partition)
    if q is None or (where.account != ctx.account and not policy_allows(q, ctx)):
        raise errors.queue_does_not_exist()
    return q


def policy_allows(q: storage.Queue, ctx: Context) -> bool:
    text = q.attrs.get("Policy")
    if ctx.operation in OWNER_ONLY:
        return False
    if not text:
        return False
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    action = f"sqs:{ctx.operation}".lower()
    return any(_statement_allows(s, ctx, action) for s in statements if isinstance(s, dict))


def _statement_allows(s: dict[str, Any], ctx: Context, action: str) -> bool:
    if s.get("Effect") != "Allow":
        return False
    actions = s.get("Action") or []
    actions = [actions] if isinstance(actions, str) else actions
    covered = any(
        a == "*" or a.lower() in ("sqs:*", action) or (a.lower().endswith("*") and action.startswith(a.lower()[:-1]))
        for a in actions if isinstance(a, str)
    )
    if not covered:
        return False
    principal = s.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        ids = principal.get("AWS") or []
        ids = [ids] if isinstance(ids, str) else ids
        me = {"*", ctx.account, f"arn:{ctx.partition}:iam::{ctx.account}:root", ctx.principal_arn}
        return any(i in me for i in ids)
    return False
