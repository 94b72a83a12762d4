"""The policy engine's view of a call (``cloudlet.auth.policy.Request``): who the Context's
principal is and the global condition keys it carries. Services that judge their own
resource policies on every call (SNS topics, SQS queues) build it here, so a policy means
the same to them as to ``--enforce-iam``."""

from __future__ import annotations

from cloudlet.auth.authenticate import ANONYMOUS_ARN
from cloudlet.auth.policy import Principal, Request
from cloudlet.core.context import Context


def request(ctx: Context, action: str, resource: str) -> Request:
    """The engine's view of `ctx` doing `action` on `resource`: who, and the global
    condition keys the call carries (the gateway's, so a resource policy sees what
    ``--enforce-iam`` sees)."""
    from cloudlet.server.gateway import condition_keys

    keys = condition_keys(ctx)
    principal = _principal(ctx)
    if principal.kind == "service":
        # a service acts for a resource of ctx.account; it vouches for that account even
        # when it names no source resource (SNS's default topic policy reads the legacy
        # AWS:SourceOwner for it)
        keys.setdefault("aws:SourceAccount", ctx.account)
        keys["aws:SourceOwner"] = keys["aws:SourceAccount"]
    return Request(principal, action, resource, keys)


def _principal(ctx: Context) -> Principal:
    arn = ctx.principal_arn
    if arn.endswith(".amazonaws.com"):
        return Principal(arn, "", "service")
    if arn == ANONYMOUS_ARN:
        return Principal("*", "", "anonymous")
    parts = arn.split(":", 5)
    account = (parts[4] if len(parts) == 6 else "") or ctx.account
    name = parts[5] if len(parts) == 6 else ""
    if name == "root":
        return Principal(arn, account, "root", user_id=account)
    if name.startswith("assumed-role/"):
        role_arn, user_id = _role_of(ctx, parts[1], account, name)
        return Principal(arn, account, "role-session", role_arn=role_arn, user_id=user_id)
    if name.startswith("federated-user/"):
        return Principal(arn, account, "federated-user")
    username = name.rsplit("/", 1)[-1] if name.startswith("user/") else None
    return Principal(arn, account, "user", username=username)


def _role_of(ctx: Context, partition: str, account: str, name: str) -> tuple[str, str | None]:
    """A session's role ARN (and aws:userid): STS's record has the role's path, which
    the session ARN leaves out; without one, the role ARN the session ARN implies."""
    if ctx.gateway is not None and ctx.access_key.startswith("ASIA"):
        from cloudlet.services.sts import sessions

        info = sessions.session_info(ctx.gateway, ctx.access_key, include_expired=True)
        if info is not None and info.role_arn:
            return info.role_arn, info.user_id
    return f"arn:{partition}:iam::{account}:role/{name.split('/')[1]}", None
