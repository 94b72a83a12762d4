"""Managed policies attached to users, groups and roles (at most 10 each, AWS's default quota)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.iam import errors, model, policies, storage, views

Input = dict[str, Any]
Output = dict[str, Any]

MAX_ATTACHED = 10
_NAME_FIELD = {"user": "UserName", "group": "GroupName", "role": "RoleName"}


def _attach(ctx: Context, kind: str, req: Input) -> Output:
    arn = req["PolicyArn"]
    with storage.write(ctx) as t:
        rec = storage.require(t, kind, req[_NAME_FIELD[kind]])
        policies.require_attachable(t, ctx.account, arn)
        if arn not in rec["Attached"]:
            if len(rec["Attached"]) >= MAX_ATTACHED:
                raise errors.limit_exceeded(f"Cannot exceed quota for PoliciesPer{kind.capitalize()}: {MAX_ATTACHED}")
            rec["Attached"].append(arn)
            storage.put(t, kind, rec)
    return {}


def _detach(ctx: Context, kind: str, req: Input) -> Output:
    arn = req["PolicyArn"]
    with storage.write(ctx) as t:
        rec = storage.require(t, kind, req[_NAME_FIELD[kind]])
        if arn not in rec["Attached"]:
            raise errors.policy_not_found(arn)
        rec["Attached"].remove(arn)
        storage.put(t, kind, rec)
    return {}


def _list(ctx: Context, kind: str, req: Input) -> Output:
    with ctx.tx() as t:
        rec = storage.require(t, kind, req[_NAME_FIELD[kind]])
    rows = views.attached(rec["Attached"])
    prefix = req.get("PathPrefix")
    if prefix:
        rows = [r for r in rows if (policies.split_arn(r["PolicyArn"]) or ("", "/", ""))[1].startswith(prefix)]
    rows.sort(key=lambda r: r["PolicyName"].lower())
    return model.page(rows, req, lambda r: r["PolicyName"].lower(), "AttachedPolicies")


def attach_user_policy(ctx: Context, req: Input) -> Output:
    return _attach(ctx, "user", req)


def detach_user_policy(ctx: Context, req: Input) -> Output:
    return _detach(ctx, "user", req)


def list_attached_user_policies(ctx: Context, req: Input) -> Output:
    return _list(ctx, "user", req)


def attach_group_policy(ctx: Context, req: Input) -> Output:
    return _attach(ctx, "group", req)


def detach_group_policy(ctx: Context, req: Input) -> Output:
    return _detach(ctx, "group", req)


def list_attached_group_policies(ctx: Context, req: Input) -> Output:
    return _list(ctx, "group", req)


def attach_role_policy(ctx: Context, req: Input) -> Output:
    return _attach(ctx, "role", req)


def detach_role_policy(ctx: Context, req: Input) -> Output:
    return _detach(ctx, "role", req)


def list_attached_role_policies(ctx: Context, req: Input) -> Output:
    return _list(ctx, "role", req)
