"""Who is calling: answered from the credentials the request was signed with."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.sts import issue


def get_caller_identity(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """Temporary credentials answer as their session (assumed role, federated user, or
    the user/root that called GetSessionToken); root keys answer with the account id as
    UserId, IAM users with their AIDA… id, as AWS does."""
    session = issue.caller_session(ctx) if ctx.gateway is not None else None
    if session is not None:
        return {"UserId": session.user_id, "Account": session.account, "Arn": session.arn}
    arn = ctx.principal_arn
    if arn.endswith(":root"):
        user_id = ctx.account
    elif ":user/" in arn and ctx.gateway is not None:
        user_id = issue.user_id_of(ctx, ctx.account, arn) or ctx.access_key
    else:
        user_id = ctx.access_key
    return {"UserId": user_id, "Account": ctx.account, "Arn": arn}
