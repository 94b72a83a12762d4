"""Inline policies of users, groups and roles: kept in the entity's record."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.iam import documents, errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]

_NAME_FIELD = {"user": "UserName", "group": "GroupName", "role": "RoleName"}


def _put(ctx: Context, kind: str, req: Input) -> Output:
    doc = req["PolicyDocument"]
    documents.check(doc)
    with storage.write(ctx) as t:
        rec = storage.require(t, kind, req[_NAME_FIELD[kind]])
        if kind == "role" and rec["Path"].startswith("/aws-service-role/"):
            raise ServiceError(
                "UnmodifiableEntity",
                f"Cannot perform the operation on the protected role '{rec['Name']}' - this role is only modifiable by AWS",
                400,
            )
        inline = dict(rec["Inline"])
        inline[req["PolicyName"]] = doc
        documents.check_inline_quota(kind, rec["Name"], inline)
        rec["Inline"] = inline
        storage.put(t, kind, rec)
    return {}


def _get(ctx: Context, kind: str, req: Input) -> Output:
    name = req["PolicyName"]
    with ctx.tx() as t:
        rec = storage.require(t, kind, req[_NAME_FIELD[kind]])
    if name not in rec["Inline"]:
        raise errors.not_found(f"{kind} policy", name)
    return {_NAME_FIELD[kind]: rec["Name"], "PolicyName": name, "PolicyDocument": model.encode_document(rec["Inline"][name])}


def _delete(ctx: Context, kind: str, req: Input) -> Output:
    name = req["PolicyName"]
    with storage.write(ctx) as t:
        rec = storage.require(t, kind, req[_NAME_FIELD[kind]])
        if name not in rec["Inline"]:
            raise errors.not_found(f"{kind} policy", name)
        del rec["Inline"][name]
        storage.put(t, kind, rec)
    return {}


def _list(ctx: Context, kind: str, req: Input) -> Output:
    with ctx.tx() as t:
        rec = storage.require(t, kind, req[_NAME_FIELD[kind]])
    return model.page(sorted(rec["Inline"]), req, lambda n: n, "PolicyNames")


def put_user_policy(ctx: Context, req: Input) -> Output:
    return _put(ctx, "user", req)


def get_user_policy(ctx: Context, req: Input) -> Output:
    return _get(ctx, "user", req)


def delete_user_policy(ctx: Context, req: Input) -> Output:
    return _delete(ctx, "user", req)


def list_user_policies(ctx: Context, req: Input) -> Output:
    return _list(ctx, "user", req)


def put_group_policy(ctx: Context, req: Input) -> Output:
    return _put(ctx, "group", req)


def get_group_policy(ctx: Context, req: Input) -> Output:
    return _get(ctx, "group", req)


def delete_group_policy(ctx: Context, req: Input) -> Output:
    return _delete(ctx, "group", req)


def list_group_policies(ctx: Context, req: Input) -> Output:
    return _list(ctx, "group", req)


def put_role_policy(ctx: Context, req: Input) -> Output:
    return _put(ctx, "role", req)


def get_role_policy(ctx: Context, req: Input) -> Output:
    return _get(ctx, "role", req)


def delete_role_policy(ctx: Context, req: Input) -> Output:
    return _delete(ctx, "role", req)


def list_role_policies(ctx: Context, req: Input) -> Output:
    return _list(ctx, "role", req)
