"""IAM roles: trust policy, session duration, boundary, tags, and service-linked roles."""

from __future__ import annotations

import json
import uuid
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.iam import documents, errors, model, policies, storage, tagging, views

Input = dict[str, Any]
Output = dict[str, Any]

SERVICE_ROLE_PATH = "/aws-service-role/"

#: the names AWS gives some services' linked roles (others: the service prefix, capitalised)
_SLR_NAMES = {
    "autoscaling.amazonaws.com": "AutoScaling",
    "ecs.amazonaws.com": "ECS",
    "elasticloadbalancing.amazonaws.com": "ElasticLoadBalancing",
    "rds.amazonaws.com": "RDS",
    "organizations.amazonaws.com": "Organizations",
    "elasticbeanstalk.amazonaws.com": "ElasticBeanstalk",
    "lambda.amazonaws.com": "Lambda",
    "events.amazonaws.com": "CloudWatchEvents",
    "dynamodb.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_DynamoDBTable",
    "es.amazonaws.com": "AmazonElasticsearchService",
    "eks.amazonaws.com": "AmazonEKS",
    "support.amazonaws.com": "Support",
    "trustedadvisor.amazonaws.com": "TrustedAdvisor",
    "sso.amazonaws.com": "SSO",
    "config.amazonaws.com": "Config",
    "guardduty.amazonaws.com": "AmazonGuardDuty",
}


def _new_role(ctx: Context, req: Input, name: str, path: str, trust: str) -> dict[str, Any]:
    return {
        "Name": name, "Id": model.new_id(model.PREFIX_ROLE), "Path": path,
        "Arn": model.arn(ctx.account, "role", path, name), "CreateDate": model.now(), "Trust": trust,
        "Description": req.get("Description"), "MaxSessionDuration": req.get("MaxSessionDuration") or 3600,
        "Tags": model.merge_tags({}, req.get("Tags") or [], "Role"), "Inline": {}, "Attached": [],
        "Boundary": None, "LastUsed": {},
    }


def create_role(ctx: Context, req: Input) -> Output:
    name = req["RoleName"]
    path = model.norm_path(req.get("Path"))
    documents.check_trust(req["AssumeRolePolicyDocument"])
    model.check_new_tags(req.get("Tags"))
    rec = _new_role(ctx, req, name, path, req["AssumeRolePolicyDocument"])
    with storage.write(ctx) as t:
        if storage.get(t, "role", name) is not None:
            raise errors.already_exists(f"Role with name {name} already exists.")
        if req.get("PermissionsBoundary"):
            rec["Boundary"] = policies.require_boundary(t, ctx, req["PermissionsBoundary"])
        storage.put(t, "role", rec)
    out = views.role(rec, full=True)
    out.pop("RoleLastUsed")  # CreateRole's answer has none
    return {"Role": out}


def get_role(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = storage.require(t, "role", req["RoleName"])
    return {"Role": views.role(rec, full=True)}


def list_roles(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        roles = model.path_filter(storage.all_of(t, "role"), req.get("PathPrefix"))
    out = model.page(roles, req, lambda r: r["Name"].lower(), "Roles")
    out["Roles"] = [views.role(r) for r in out["Roles"]]
    return out


def _modifiable(rec: dict[str, Any]) -> dict[str, Any]:
    if rec["Path"].startswith(SERVICE_ROLE_PATH):
        raise ServiceError(
            "UnmodifiableEntity",
            f"Cannot perform the operation on the protected role '{rec['Name']}' - this role is only modifiable by AWS",
            400,
        )
    return rec


def update_role(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _modifiable(storage.require(t, "role", req["RoleName"]))
        if "Description" in req:
            rec["Description"] = req["Description"]
        if req.get("MaxSessionDuration"):
            rec["MaxSessionDuration"] = req["MaxSessionDuration"]
        storage.put(t, "role", rec)
    return {}


def update_role_description(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _modifiable(storage.require(t, "role", req["RoleName"]))
        rec["Description"] = req["Description"]
        storage.put(t, "role", rec)
    return {"Role": views.role(rec, full=True)}


def update_assume_role_policy(ctx: Context, req: Input) -> Output:
    documents.check_trust(req["PolicyDocument"])
    with storage.write(ctx) as t:
        rec = _modifiable(storage.require(t, "role", req["RoleName"]))
        rec["Trust"] = req["PolicyDocument"]
        storage.put(t, "role", rec)
    return {}


def _check_deletable(t: Any, rec: dict[str, Any]) -> None:
    if t.find("profile", "role", rec["Name"].lower()):
        raise errors.must_delete("remove roles from instance profile")
    if rec["Inline"]:
        raise errors.must_delete("delete policies")
    if rec["Attached"]:
        raise errors.must_delete("detach all policies")


def delete_role(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _modifiable(storage.require(t, "role", req["RoleName"]))
        _check_deletable(t, rec)
        storage.delete(t, "role", rec["Name"])
    return {}


def tag_role(ctx: Context, req: Input) -> Output:
    return tagging.tag(ctx, "role", req["RoleName"], req["Tags"], "Role")


def untag_role(ctx: Context, req: Input) -> Output:
    return tagging.untag(ctx, "role", req["RoleName"], req["TagKeys"])


def list_role_tags(ctx: Context, req: Input) -> Output:
    return tagging.listed(ctx, "role", req["RoleName"], req)


def put_role_permissions_boundary(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _modifiable(storage.require(t, "role", req["RoleName"]))
        rec["Boundary"] = policies.require_boundary(t, ctx, req["PermissionsBoundary"])
        storage.put(t, "role", rec)
    return {}


def delete_role_permissions_boundary(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _modifiable(storage.require(t, "role", req["RoleName"]))
        rec["Boundary"] = None
        storage.put(t, "role", rec)
    return {}


# service-linked roles -------------------------------------------------------------------

def _slr_name(service: str) -> str:
    if service in _SLR_NAMES:
        return "AWSServiceRoleFor" + _SLR_NAMES[service]
    prefix = service.split(".", 1)[0]
    return "AWSServiceRoleFor" + prefix[:1].upper() + prefix[1:]


def create_service_linked_role(ctx: Context, req: Input) -> Output:
    service = req["AWSServiceName"]
    if not service.endswith(".amazonaws.com") or service.count(".") < 2:
        raise errors.invalid_input(f"Invalid service name: {service}")  # not a service principal
    name = _slr_name(service)
    if req.get("CustomSuffix"):
        name += "_" + req["CustomSuffix"]
    path = f"{SERVICE_ROLE_PATH}{service}/"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}]})
    rec = _new_role(ctx, {"Description": req.get("Description")}, name, path, trust)
    with storage.write(ctx) as t:
        if storage.get(t, "role", name) is not None:
            raise errors.invalid_input(
                f"Service role name {name} has been taken in this account, please try a different suffix."
            )
        storage.put(t, "role", rec)
    out = views.role(rec, full=True)
    out.pop("RoleLastUsed")
    return {"Role": out}


def delete_service_linked_role(ctx: Context, req: Input) -> Output:
    """AWS deletes asynchronously; cloudlet deletes at once and records the task's outcome."""
    with storage.write(ctx) as t:
        rec = storage.require(t, "role", req["RoleName"])
        if not rec["Path"].startswith(SERVICE_ROLE_PATH):
            raise errors.invalid_input(f"Role {rec['Name']} is not a service-linked role.")
        service = rec["Path"][len(SERVICE_ROLE_PATH):].strip("/")
        task_id = f"task/aws-service-role/{service}/{rec['Name']}/{uuid.uuid4()}"
        try:
            _check_deletable(t, rec)
        except ServiceError as err:
            t.put("slrtask", task_id, {"Status": "FAILED", "Reason": err.message})
        else:
            storage.delete(t, "role", rec["Name"])
            t.put("slrtask", task_id, {"Status": "SUCCEEDED"})
    return {"DeletionTaskId": task_id}


def get_service_linked_role_deletion_status(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = t.get("slrtask", req["DeletionTaskId"])
    if rec is None:
        raise errors.no_such_entity(f"Deletion task {req['DeletionTaskId']} cannot be found.")
    out: Output = {"Status": rec.value["Status"]}
    if rec.value.get("Reason"):
        out["Reason"] = {"Reason": rec.value["Reason"]}
    return out
