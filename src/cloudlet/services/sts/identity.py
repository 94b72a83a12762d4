"""Who is calling: answered from the credentials the request was signed with."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context


def get_caller_identity(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """Root callers get their account id as UserId, as AWS answers for root keys."""
    arn = ctx.principal_arn
    if arn.endswith(":root"):
        user_id = ctx.account
    else:
        user_id = ctx.access_key
    return {"UserId": user_id, "Account": ctx.account, "Arn": arn}
