"""IAM users: create, read, rename, delete, tags and permissions boundaries."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.iam import errors, model, policies, storage, tagging, views

Input = dict[str, Any]
Output = dict[str, Any]


def create_user(ctx: Context, req: Input) -> Output:
    name = req["UserName"]
    path = model.norm_path(req.get("Path"))
    model.check_new_tags(req.get("Tags"))
    rec = {
        "Name": name, "Id": model.new_id(model.PREFIX_USER), "Path": path,
        "Arn": model.arn(ctx.account, "user", path, name), "CreateDate": model.now(),
        "Tags": model.merge_tags({}, req.get("Tags") or [], "User"), "Inline": {}, "Attached": [],
        "Boundary": None, "Groups": [],
    }
    with storage.write(ctx) as t:
        if storage.get(t, "user", name) is not None:
            raise errors.already_exists(f"User with name {name} already exists.")
        if req.get("PermissionsBoundary"):
            rec["Boundary"] = policies.require_boundary(t, ctx, req["PermissionsBoundary"])
        storage.put(t, "user", rec)
    return {"User": views.user(rec, full=True)}


def _caller_user_name(ctx: Context) -> str | None:
    """The IAM user a request is signed as, or None for a root (or session) caller."""
    resource = ctx.principal_arn.split(":", 5)[-1]
    if resource.startswith("user/"):
        return resource.rsplit("/", 1)[1]
    if ctx.principal_arn.endswith(":root"):
        return None
    raise errors.validation("Must specify userName when calling with non-User credentials")


def get_user(ctx: Context, req: Input) -> Output:
    name = req.get("UserName") or _caller_user_name(ctx)
    with ctx.tx() as t:
        if name is None:  # the root user: AWS answers with the account itself
            return {"User": {"UserId": ctx.account, "Arn": f"arn:aws:iam::{ctx.account}:root", "Path": "/",
                             "CreateDate": _account_created(t)}}
        rec = storage.require(t, "user", name)
    return {"User": views.user(rec, full=True)}


def _account_created(t: Tx) -> Any:
    rec = t.get("meta", "created")
    if rec is None:
        created = model.now()
        t.put("meta", "created", created)
        return created
    return rec.value


def list_users(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        users = model.path_filter(storage.all_of(t, "user"), req.get("PathPrefix"))
    out = model.page(users, req, lambda u: u["Name"].lower(), "Users")
    out["Users"] = [views.user(u) for u in out["Users"]]
    return out


def update_user(ctx: Context, req: Input) -> Output:
    name = req["UserName"]
    with storage.write(ctx) as t:
        rec = storage.require(t, "user", name)
        new_name = req.get("NewUserName") or rec["Name"]
        if new_name.lower() != rec["Name"].lower() and storage.get(t, "user", new_name) is not None:
            raise errors.already_exists(f"User with name {new_name} already exists.")
        old_key = rec["Name"]
        rec["Name"] = new_name
        rec["Path"] = req.get("NewPath") or rec["Path"]
        rec["Arn"] = model.arn(ctx.account, "user", rec["Path"], new_name)
        if old_key.lower() != new_name.lower():
            storage.delete(t, "user", old_key)
            login = t.get("login", old_key.lower())
            if login is not None:
                t.delete("login", old_key.lower())
                t.put("login", new_name.lower(), {**login.value, "UserName": new_name})
        for kind in ("key", "mfa"):
            for r in t.find(kind, "user", old_key.lower()):
                t.put(kind, r.key, {**r.value, "UserName": new_name}, attrs={"user": new_name.lower()})
        storage.put(t, "user", rec)
    return {}


def delete_user(ctx: Context, req: Input) -> Output:
    name = req["UserName"]
    with storage.write(ctx) as t:
        rec = storage.require(t, "user", name)
        lower = rec["Name"].lower()
        if t.get("login", lower) is not None:
            raise errors.must_delete("delete login profile")
        if t.find("key", "user", lower):
            raise errors.must_delete("delete access keys")
        if any(m.value.get("EnableDate") for m in t.find("mfa", "user", lower)):
            raise errors.must_delete("delete MFA device")
        if rec["Inline"]:
            raise errors.must_delete("delete policies")
        if rec["Attached"]:
            raise errors.must_delete("detach all policies")
        if rec["Groups"]:
            raise errors.must_delete("remove user from group")
        storage.delete(t, "user", name)
    return {}


def tag_user(ctx: Context, req: Input) -> Output:
    return tagging.tag(ctx, "user", req["UserName"], req["Tags"], "User")


def untag_user(ctx: Context, req: Input) -> Output:
    return tagging.untag(ctx, "user", req["UserName"], req["TagKeys"])


def list_user_tags(ctx: Context, req: Input) -> Output:
    return tagging.listed(ctx, "user", req["UserName"], req)


def put_user_permissions_boundary(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = storage.require(t, "user", req["UserName"])
        rec["Boundary"] = policies.require_boundary(t, ctx, req["PermissionsBoundary"])
        storage.put(t, "user", rec)
    return {}


def delete_user_permissions_boundary(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = storage.require(t, "user", req["UserName"])
        rec["Boundary"] = None
        storage.put(t, "user", rec)
    return {}
