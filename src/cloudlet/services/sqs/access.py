"""Finding the queue a request names, and the URLs cloudlet hands out.

Queue URLs: AWS answers ``https://sqs.<region>.amazonaws.com/<account>/<name>``; cloudlet
answers ``http://<host>:<port>/<account>/<name>`` with the host and port ``cloudlet serve``
listens on (``0.0.0.0``/``::`` become ``localhost``), so the URL routes back to cloudlet
(Java v1 posts to it; the query protocol reads the queue from it). On input any URL whose
path is ``/<account>/<name>`` is accepted, whatever its host: AWS's own form included.
The region is the request's (its signature), as in AWS, where a URL's host never
overrides the client's region.

A URL naming another account reaches that account's queue when the operation is one AWS
lets another account perform (``OWNER_ONLY`` lists those it documents as not) and the
queue policy, judged by the IAM policy engine (``cloudlet.auth.policy``) as a
resource-based policy, allows the caller the operation's action and does not deny it;
otherwise the queue "does not exist", as AWS answers. Whether the caller's own identity
policies allow the call is the enforcement layer's question (``--enforce-iam``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from cloudlet.auth.actions import iam_actions
from cloudlet.auth.policy import PolicyError, is_allowed_by, parse
from cloudlet.auth.resource_request import request
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
    """Whether the queue's policy lets another account's caller perform ctx.operation."""
    if ctx.operation in OWNER_ONLY:
        return False
    text = q.attrs.get("Policy")
    if not text:
        return False
    try:
        policy = parse(text, "resource")
    except PolicyError:
        # SetQueueAttributes only checks that the text is a JSON object; a document the
        # policy language refuses grants nothing
        return False
    # the IAM action, not the operation: SendMessage also covers SendMessageBatch (and
    # DeleteMessage, ChangeMessageVisibility their batches), as AddPermission documents
    return all(
        is_allowed_by(policy, request(ctx, action, q.arn)) == "Allow" for action in iam_actions("sqs", ctx.operation)
    )


