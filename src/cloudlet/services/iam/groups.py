"""IAM groups and their members (membership is kept on the user record)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.iam import errors, model, storage, views

Input = dict[str, Any]
Output = dict[str, Any]


def create_group(ctx: Context, req: Input) -> Output:
    name = req["GroupName"]
    path = model.norm_path(req.get("Path"))
    rec = {
        "Name": name, "Id": model.new_id(model.PREFIX_GROUP), "Path": path,
        "Arn": model.arn(ctx.account, "group", path, name), "CreateDate": model.now(),
        "Inline": {}, "Attached": [],
    }
    with storage.write(ctx) as t:
        if storage.get(t, "group", name) is not None:
            raise errors.already_exists(f"Group with name {name} already exists.")
        storage.put(t, "group", rec)
    return {"Group": views.group(rec)}


def get_group(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = storage.require(t, "group", req["GroupName"])
        members = storage.find(t, "user", "group", rec["Name"].lower())
    out = model.page(members, req, lambda u: u["Name"].lower(), "Users")
    out["Users"] = [views.user(u) for u in out["Users"]]
    return {"Group": views.group(rec), **out}


def list_groups(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        groups = model.path_filter(storage.all_of(t, "group"), req.get("PathPrefix"))
    out = model.page(groups, req, lambda g: g["Name"].lower(), "Groups")
    out["Groups"] = [views.group(g) for g in out["Groups"]]
    return out


def list_groups_for_user(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        user = storage.require(t, "user", req["UserName"])
        groups = [g for g in (storage.get(t, "group", n) for n in sorted(user["Groups"])) if g is not None]
    out = model.page(groups, req, lambda g: g["Name"].lower(), "Groups")
    out["Groups"] = [views.group(g) for g in out["Groups"]]
    return out


def update_group(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = storage.require(t, "group", req["GroupName"])
        old = rec["Name"]
        new = req.get("NewGroupName") or old
        if new.lower() != old.lower():
            if storage.get(t, "group", new) is not None:
                raise errors.already_exists(f"Group with name {new} already exists.")
            for user in storage.find(t, "user", "group", old.lower()):
                user["Groups"] = [new.lower() if g == old.lower() else g for g in user["Groups"]]
                storage.put(t, "user", user)
            storage.delete(t, "group", old)
        rec["Name"] = new
        rec["Path"] = req.get("NewPath") or rec["Path"]
        rec["Arn"] = model.arn(ctx.account, "group", rec["Path"], new)
        storage.put(t, "group", rec)
    return {}


def delete_group(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = storage.require(t, "group", req["GroupName"])
        if storage.find(t, "user", "group", rec["Name"].lower()):
            raise errors.must_delete("remove users from group")
        if rec["Inline"]:
            raise errors.must_delete("delete policies")
        if rec["Attached"]:
            raise errors.must_delete("detach all policies")
        storage.delete(t, "group", rec["Name"])
    return {}


def add_user_to_group(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        group = storage.require(t, "group", req["GroupName"])
        user = storage.require(t, "user", req["UserName"])
        key = group["Name"].lower()
        if key not in user["Groups"]:
            user["Groups"].append(key)
            storage.put(t, "user", user)
    return {}


def remove_user_from_group(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        group = storage.require(t, "group", req["GroupName"])
        user = storage.require(t, "user", req["UserName"])
        key = group["Name"].lower()
        if key not in user["Groups"]:
            raise errors.no_such_entity(f"User {user['Name']} is not in group {group['Name']}.")
        user["Groups"].remove(key)
        storage.put(t, "user", user)
    return {}
