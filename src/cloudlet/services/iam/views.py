"""Records as IAM's output shapes (User, Group, Role, Policy, InstanceProfile)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.store import Tx
from cloudlet.services.iam import awsmanaged, model, storage


def boundary(rec: dict[str, Any]) -> dict[str, Any] | None:
    if not rec.get("Boundary"):
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": rec["Boundary"]}


def user(rec: dict[str, Any], full: bool = False) -> dict[str, Any]:
    """`full` is GetUser/CreateUser's view (tags and boundary); lists leave them out."""
    out: dict[str, Any] = {
        "Path": rec["Path"], "UserName": rec["Name"], "UserId": rec["Id"], "Arn": rec["Arn"],
        "CreateDate": rec["CreateDate"],
    }
    if rec.get("PasswordLastUsed"):
        out["PasswordLastUsed"] = rec["PasswordLastUsed"]
    if full:
        if boundary(rec):
            out["PermissionsBoundary"] = boundary(rec)
        if rec.get("Tags"):
            out["Tags"] = model.tag_list(rec["Tags"])
    return out


def group(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "Path": rec["Path"], "GroupName": rec["Name"], "GroupId": rec["Id"], "Arn": rec["Arn"],
        "CreateDate": rec["CreateDate"],
    }


def role(rec: dict[str, Any], full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": rec["Path"], "RoleName": rec["Name"], "RoleId": rec["Id"], "Arn": rec["Arn"],
        "CreateDate": rec["CreateDate"], "AssumeRolePolicyDocument": model.encode_document(rec["Trust"]),
        "MaxSessionDuration": rec["MaxSessionDuration"],
    }
    if rec.get("Description") is not None:
        out["Description"] = rec["Description"]
    if full:
        if boundary(rec):
            out["PermissionsBoundary"] = boundary(rec)
        if rec.get("Tags"):
            out["Tags"] = model.tag_list(rec["Tags"])
        out["RoleLastUsed"] = dict(rec.get("LastUsed") or {})
    return out


def policy(t: Tx, rec: dict[str, Any], full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": rec["Name"], "PolicyId": rec["Id"], "Arn": rec["Arn"], "Path": rec["Path"],
        "DefaultVersionId": rec["DefaultVersion"], "AttachmentCount": storage.attachment_count(t, rec["Arn"]),
        "PermissionsBoundaryUsageCount": storage.boundary_count(t, rec["Arn"]), "IsAttachable": True,
        "CreateDate": rec["CreateDate"], "UpdateDate": rec["UpdateDate"],
    }
    if full and rec.get("Description"):
        out["Description"] = rec["Description"]
    if full and rec.get("Tags"):
        out["Tags"] = model.tag_list(rec["Tags"])
    return out


def version(rec: dict[str, Any], v: dict[str, Any], with_document: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "VersionId": v["VersionId"], "IsDefaultVersion": v["VersionId"] == rec["DefaultVersion"],
        "CreateDate": v["CreateDate"],
    }
    if with_document:
        out["Document"] = model.encode_document(v["Document"])
    return out


def instance_profile(t: Tx, rec: dict[str, Any], full: bool = False) -> dict[str, Any]:
    roles = []
    for name in rec.get("Roles", ()):
        r = storage.get(t, "role", name)
        if r is not None:
            roles.append(role(r))
    out: dict[str, Any] = {
        "Path": rec["Path"], "InstanceProfileName": rec["Name"], "InstanceProfileId": rec["Id"],
        "Arn": rec["Arn"], "CreateDate": rec["CreateDate"], "Roles": roles,
    }
    if full and rec.get("Tags"):
        out["Tags"] = model.tag_list(rec["Tags"])
    return out


def attached(arns: list[str]) -> list[dict[str, str]]:
    return [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in arns]


def is_aws(arn: str) -> bool:
    return awsmanaged.is_aws_arn(arn)
