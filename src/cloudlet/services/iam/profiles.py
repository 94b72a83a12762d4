"""Instance profiles: a container for one role that EC2 instances are launched with."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.iam import errors, model, storage, tagging, views

Input = dict[str, Any]
Output = dict[str, Any]


def _require(t: Any, name: str) -> dict[str, Any]:
    rec = storage.get(t, "profile", name)
    if rec is None:
        raise errors.no_such_entity(f"Instance Profile {name} cannot be found.")
    return rec


def create_instance_profile(ctx: Context, req: Input) -> Output:
    name = req["InstanceProfileName"]
    path = model.norm_path(req.get("Path"))
    model.check_new_tags(req.get("Tags"))
    rec = {
        "Name": name, "Id": model.new_id("AIPA"), "Path": path,
        "Arn": model.arn(ctx.account, "instance-profile", path, name), "CreateDate": model.now(),
        "Roles": [], "Tags": model.merge_tags({}, req.get("Tags") or [], "InstanceProfile"),
    }
    with storage.write(ctx) as t:
        if storage.get(t, "profile", name) is not None:
            raise errors.already_exists(f"Instance Profile {name} already exists.")
        storage.put(t, "profile", rec)
        return {"InstanceProfile": views.instance_profile(t, rec, full=True)}


def get_instance_profile(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        return {"InstanceProfile": views.instance_profile(t, _require(t, req["InstanceProfileName"]), full=True)}


def delete_instance_profile(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _require(t, req["InstanceProfileName"])
        if rec["Roles"]:
            raise errors.must_delete("remove roles from instance profile")
        storage.delete(t, "profile", rec["Name"])
    return {}


def list_instance_profiles(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        found = model.path_filter(storage.all_of(t, "profile"), req.get("PathPrefix"))
        out = model.page(found, req, lambda p: p["Name"].lower(), "InstanceProfiles")
        out["InstanceProfiles"] = [views.instance_profile(t, p) for p in out["InstanceProfiles"]]
    return out


def list_instance_profiles_for_role(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        role = storage.require(t, "role", req["RoleName"])
        found = storage.find(t, "profile", "role", role["Name"].lower())
        out = model.page(found, req, lambda p: p["Name"].lower(), "InstanceProfiles")
        out["InstanceProfiles"] = [views.instance_profile(t, p) for p in out["InstanceProfiles"]]
    return out


def add_role_to_instance_profile(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _require(t, req["InstanceProfileName"])
        role = storage.require(t, "role", req["RoleName"])
        if role["Name"].lower() in (r.lower() for r in rec["Roles"]):
            raise errors.already_exists(f"The role with name {role['Name']} is already in instance profile {rec['Name']}.")  # noqa: E501
        if rec["Roles"]:
            raise errors.limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        rec["Roles"].append(role["Name"])
        storage.put(t, "profile", rec)
    return {}


def remove_role_from_instance_profile(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _require(t, req["InstanceProfileName"])
        role = storage.require(t, "role", req["RoleName"])
        kept = [r for r in rec["Roles"] if r.lower() != role["Name"].lower()]
        if len(kept) == len(rec["Roles"]):
            raise errors.no_such_entity(f"The role with name {role['Name']} cannot be found in instance profile {rec['Name']}.")  # noqa: E501
        rec["Roles"] = kept
        storage.put(t, "profile", rec)
    return {}


def tag_instance_profile(ctx: Context, req: Input) -> Output:
    return tagging.tag(ctx, "profile", req["InstanceProfileName"], req["Tags"], "InstanceProfile", require=_require)


def untag_instance_profile(ctx: Context, req: Input) -> Output:
    return tagging.untag(ctx, "profile", req["InstanceProfileName"], req["TagKeys"], require=_require)


def list_instance_profile_tags(ctx: Context, req: Input) -> Output:
    return tagging.listed(ctx, "profile", req["InstanceProfileName"], req, require=_require)
