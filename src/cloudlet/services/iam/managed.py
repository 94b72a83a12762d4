"""Customer managed policies and their versions (at most five), tags and users."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.iam import awsmanaged, documents, errors, model, policies, storage, views

Input = dict[str, Any]
Output = dict[str, Any]

MAX_VERSIONS = 5


def create_policy(ctx: Context, req: Input) -> Output:
    name, doc = req["PolicyName"], req["PolicyDocument"]
    path = model.norm_path(req.get("Path"))
    documents.check(doc)
    documents.check_managed_quota(doc)
    model.check_new_tags(req.get("Tags"))
    now = model.now()
    rec = {
        "Name": name, "Id": model.new_id(model.PREFIX_POLICY), "Path": path,
        "Arn": model.arn(ctx.account, "policy", path, name), "Description": req.get("Description"),
        "CreateDate": now, "UpdateDate": now, "DefaultVersion": "v1", "NextVersion": 2,
        "Versions": [{"VersionId": "v1", "Document": doc, "CreateDate": now}],
        "Tags": model.merge_tags({}, req.get("Tags") or [], "Policy"),
    }
    with storage.write(ctx) as t:
        if storage.get(t, "policy", name) is not None:
            raise errors.already_exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
        storage.put(t, "policy", rec)
        out = views.policy(t, rec)
    out.pop("Description", None)  # CreatePolicy's answer leaves it out, as AWS's does
    return {"Policy": out}


def get_policy(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = policies.require(t, ctx.account, req["PolicyArn"])
        return {"Policy": views.policy(t, rec)}


def _local(t: Any, ctx: Context, arn: str) -> dict[str, Any]:
    """A customer managed policy: AWS's own cannot be changed."""
    rec = policies.require(t, ctx.account, arn)
    if rec.get("AwsManaged"):
        raise errors.invalid_input(f"Cannot modify AWS managed policy {arn}.")  # unmodifiable
    return rec


def delete_policy(ctx: Context, req: Input) -> Output:
    arn = req["PolicyArn"]
    with storage.write(ctx) as t:
        rec = _local(t, ctx, arn)
        if storage.attachment_count(t, arn) or storage.boundary_count(t, arn):
            raise errors.delete_conflict("Cannot delete a policy attached to entities.")
        if len(rec["Versions"]) > 1:
            raise errors.delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the "
                "policy's versions. The default version is deleted with the policy."
            )
        storage.delete(t, "policy", rec["Name"])
    return {}


def list_policies(ctx: Context, req: Input) -> Output:
    scope = req.get("Scope") or "All"
    with ctx.tx() as t:
        found: list[dict[str, Any]] = []
        if scope in ("All", "AWS"):
            found += sorted(awsmanaged.POLICIES.values(), key=lambda p: p["Name"].lower())
        if scope in ("All", "Local"):
            found += storage.all_of(t, "policy")
        found = model.path_filter(found, req.get("PathPrefix"))
        if req.get("OnlyAttached"):
            found = [p for p in found if storage.attachment_count(t, p["Arn"])]
        if req.get("PolicyUsageFilter") == "PermissionsBoundary":
            found = [p for p in found if storage.boundary_count(t, p["Arn"])]
        # AWS's first, then the account's, each by name: the marker is that position
        order = {id(p): i for i, p in enumerate(found)}
        out = model.page(found, req, lambda p: f"{order[id(p)]:08d}", "Policies")
        out["Policies"] = [views.policy(t, p, full=False) for p in out["Policies"]]
    return out


def create_policy_version(ctx: Context, req: Input) -> Output:
    doc = req["PolicyDocument"]
    documents.check(doc)
    documents.check_managed_quota(doc)
    with storage.write(ctx) as t:
        rec = _local(t, ctx, req["PolicyArn"])
        if len(rec["Versions"]) >= MAX_VERSIONS:
            raise errors.limit_exceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must "
                "delete an existing version."
            )
        now = model.now()
        version = {"VersionId": f"v{rec['NextVersion']}", "Document": doc, "CreateDate": now}
        rec["NextVersion"] += 1
        rec["Versions"].append(version)
        if req.get("SetAsDefault"):
            rec["DefaultVersion"] = version["VersionId"]
            rec["UpdateDate"] = now
        storage.put(t, "policy", rec)
    return {"PolicyVersion": views.version(rec, version, with_document=False)}


def _version(rec: dict[str, Any], version_id: str) -> dict[str, Any]:
    for v in rec["Versions"]:
        if v["VersionId"] == version_id:
            return v
    raise errors.no_such_entity(f"Policy {rec['Arn']} version {version_id} does not exist or is not attachable.")


def get_policy_version(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = policies.require(t, ctx.account, req["PolicyArn"])
    return {"PolicyVersion": views.version(rec, _version(rec, req["VersionId"]))}


def list_policy_versions(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = policies.require(t, ctx.account, req["PolicyArn"])
    newest_first = sorted(rec["Versions"], key=lambda v: int(v["VersionId"][1:]), reverse=True)
    out = model.page(newest_first, req, lambda v: f"{10**6 - int(v['VersionId'][1:]):07d}", "Versions")
    out["Versions"] = [views.version(rec, v, with_document=False) for v in out["Versions"]]
    return out


def delete_policy_version(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _local(t, ctx, req["PolicyArn"])
        v = _version(rec, req["VersionId"])
        if v["VersionId"] == rec["DefaultVersion"]:
            raise errors.delete_conflict("Cannot delete the default version of a policy.")
        rec["Versions"].remove(v)
        storage.put(t, "policy", rec)
    return {}


def set_default_policy_version(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _local(t, ctx, req["PolicyArn"])
        rec["DefaultVersion"] = _version(rec, req["VersionId"])["VersionId"]
        rec["UpdateDate"] = model.now()
        storage.put(t, "policy", rec)
    return {}


def tag_policy(ctx: Context, req: Input) -> Output:
    model.check_new_tags(req["Tags"])
    with storage.write(ctx) as t:
        rec = _local(t, ctx, req["PolicyArn"])
        rec["Tags"] = model.merge_tags(rec["Tags"], req["Tags"], "Policy")
        storage.put(t, "policy", rec)
    return {}


def untag_policy(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _local(t, ctx, req["PolicyArn"])
        rec["Tags"] = model.untag(rec["Tags"], req["TagKeys"])
        storage.put(t, "policy", rec)
    return {}


def list_policy_tags(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = policies.require(t, ctx.account, req["PolicyArn"])
    return model.page(model.tag_list(rec.get("Tags") or {}), req, lambda tag: tag["Key"], "Tags")


def list_entities_for_policy(ctx: Context, req: Input) -> Output:
    arn = req["PolicyArn"]
    want = req.get("EntityFilter")
    attr = "boundary" if req.get("PolicyUsageFilter") == "PermissionsBoundary" else "policy"
    rows: list[tuple[str, dict[str, Any]]] = []
    with ctx.tx() as t:
        policies.require(t, ctx.account, arn)
        for kind, entity in (("group", "Group"), ("role", "Role"), ("user", "User")):
            if want in (None, entity):
                for rec in model.path_filter(storage.find(t, kind, attr, arn), req.get("PathPrefix")):
                    rows.append((kind, rec))
    out = model.page(rows, req, lambda r: f"{r[0]}/{r[1]['Name'].lower()}", "Rows")
    groups = [{"GroupName": r["Name"], "GroupId": r["Id"]} for k, r in out["Rows"] if k == "group"]
    roles = [{"RoleName": r["Name"], "RoleId": r["Id"]} for k, r in out["Rows"] if k == "role"]
    users = [{"UserName": r["Name"], "UserId": r["Id"]} for k, r in out.pop("Rows") if k == "user"]
    return {"PolicyGroups": groups, "PolicyRoles": roles, "PolicyUsers": users, **out}
