"""Account-wide views: the alias, the summary of counts and quotas, the credential
report and the authorization details."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.iam import awsmanaged, errors, model, storage, views

Input = dict[str, Any]
Output = dict[str, Any]

ALIAS_INDEX = "alias"  # in account "": alias -> account (aliases are unique across AWS)


def create_account_alias(ctx: Context, req: Input) -> Output:
    alias = req["AccountAlias"]
    with storage.write(ctx) as t:
        current = t.get("alias", "")
        if current is not None and current.value == alias:
            return {}
        with storage.global_tx(ctx) as index:
            owner = index.get(ALIAS_INDEX, alias)
            if owner is not None:
                raise errors.already_exists(f"The account alias {alias} already exists.")
            if current is not None:  # one alias per account: a new one replaces it
                index.delete(ALIAS_INDEX, current.value)
            index.put(ALIAS_INDEX, alias, ctx.account)
        t.put("alias", "", alias)
    return {}


def delete_account_alias(ctx: Context, req: Input) -> Output:
    alias = req["AccountAlias"]
    with storage.write(ctx) as t:
        current = t.get("alias", "")
        if current is None or current.value != alias:
            raise errors.no_such_entity(f"The account alias {alias} cannot be found.")
        t.delete("alias", "")
        with storage.global_tx(ctx) as index:
            index.delete(ALIAS_INDEX, alias)
    return {}


def list_account_aliases(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        current = t.get("alias", "")
    return {"AccountAliases": [current.value] if current else [], "IsTruncated": False}


def get_account_summary(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        devices = [r.value for r in t.scan("mfa")]
        local = storage.all_of(t, "policy")
        root_keys = len(t.find("key", "user", ""))
        summary = {
            "Users": t.count("user"), "UsersQuota": 5000,
            "Groups": t.count("group"), "GroupsQuota": 300,
            "Roles": t.count("role"), "RolesQuota": 1000,
            "Policies": len(local), "PoliciesQuota": 1500,
            "PolicyVersionsInUse": sum(storage.attachment_count(t, p["Arn"]) for p in local)
            + sum(storage.attachment_count(t, arn) for arn in awsmanaged.POLICIES),
            "PolicyVersionsInUseQuota": 10000, "VersionsPerPolicyQuota": 5,
            "InstanceProfiles": t.count("profile"), "InstanceProfilesQuota": 1000,
            "MFADevices": len(devices), "MFADevicesInUse": sum(1 for d in devices if d.get("EnableDate")),
            "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1 if root_keys else 0,
            "AccountSigningCertificatesPresent": 0, "ServerCertificates": 0, "ServerCertificatesQuota": 20,
            "Providers": t.count("oidc") + t.count("saml"),
            "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2, "GroupsPerUserQuota": 10,
            "AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerGroupQuota": 10,
            "AttachedPoliciesPerRoleQuota": 10, "PolicySizeQuota": 6144, "UserPolicySizeQuota": 2048,
            "GroupPolicySizeQuota": 5120, "RolePolicySizeQuota": 10240, "AssumeRolePolicySizeQuota": 2048,
            "GlobalEndpointTokenVersion": 1,
        }
    return {"SummaryMap": summary}


# credential report ------------------------------------------------------------------------

_COLUMNS = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
).split(",")


def _iso(value: Any) -> str:
    return value.isoformat() if value else "N/A"


def _key_cells(key: dict[str, Any] | None) -> list[str]:
    if key is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    used = key.get("LastUsed")
    return [
        "true" if key["Status"] == "Active" else "false", _iso(key["CreateDate"]),
        _iso(used["Date"]) if used else "N/A", used["Region"] if used else "N/A", used["Service"] if used else "N/A",
    ]


def _report_row(t: Tx, account: str, user: dict[str, Any] | None, created: Any) -> list[str]:
    lower = user["Name"].lower() if user else ""
    keys = sorted(storage.find(t, "key", "user", lower), key=lambda k: k["CreateDate"])[:2]
    keys += [None] * (2 - len(keys))  # type: ignore[list-item]
    mfa = any(d.get("EnableDate") for d in storage.find(t, "mfa", "user", lower)) if user else False
    if user is None:
        head = ["<root_account>", f"arn:aws:iam::{account}:root", _iso(created), "not_supported",
                "no_information", "not_supported", "not_supported"]
    else:
        login = t.get("login", lower)
        pw_policy = t.get("pwpolicy", "")
        if login is None:
            pw = ["false", "N/A", "N/A", "N/A"]
        else:
            max_age = pw_policy.value["MaxPasswordAge"] if pw_policy else 0
            changed = login.value["ChangedAt"]


            rotation = _iso(changed + dt.timedelta(days=max_age)) if max_age else "N/A"
            pw = ["true", _iso(user.get("PasswordLastUsed")) if user.get("PasswordLastUsed") else "no_information",
                  _iso(changed), rotation]
        head = [user["Name"], user["Arn"], _iso(user["CreateDate"]), *pw]
    return [*head, "true" if mfa else "false", *_key_cells(keys[0]), *_key_cells(keys[1]),
            "false", "N/A", "false", "N/A"]


def generate_credential_report(ctx: Context, req: Input) -> Output:
    """Built at once (AWS builds it in the background): the answer is COMPLETE."""
    now = model.now()
    with storage.write(ctx) as t:
        created = t.get("meta", "created")
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(_COLUMNS)
        writer.writerow(_report_row(t, ctx.account, None, created.value if created else None))
        for user in storage.all_of(t, "user"):
            writer.writerow(_report_row(t, ctx.account, user, None))
        t.put("report", "", {"Content": buf.getvalue().rstrip("\n").encode(), "GeneratedTime": now})
    return {"State": "COMPLETE", "Description": "No report exists. Starting a new report generation task"}


def get_credential_report(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = t.get("report", "")
    if rec is None:
        raise ServiceError(
            "ReportNotPresent",
            "Credential report not present. Please run GenerateCredentialReport first.",
            410,
        )
    return {"Content": rec.value["Content"], "ReportFormat": "text/csv", "GeneratedTime": rec.value["GeneratedTime"]}


# authorization details ------------------------------------------------------------------

def _inline(rec: dict[str, Any]) -> list[dict[str, str]]:
    return [{"PolicyName": n, "PolicyDocument": model.encode_document(d)} for n, d in sorted(rec["Inline"].items())]


def get_account_authorization_details(ctx: Context, req: Input) -> Output:
    want = set(req.get("Filter") or ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"))
    rows: list[tuple[str, dict[str, Any]]] = []
    with ctx.tx() as t:
        if "User" in want:
            rows += [("user", u) for u in storage.all_of(t, "user")]
        if "Group" in want:
            rows += [("group", g) for g in storage.all_of(t, "group")]
        if "Role" in want:
            rows += [("role", r) for r in storage.all_of(t, "role")]
        if "LocalManagedPolicy" in want:
            rows += [("policy", p) for p in storage.all_of(t, "policy")]
        if "AWSManagedPolicy" in want:  # AWS lists the ones the account uses
            rows += [("policy", p) for arn, p in awsmanaged.POLICIES.items() if storage.attachment_count(t, arn)]
        order = {id(r[1]): i for i, r in enumerate(rows)}
        out = model.page(rows, req, lambda r: f"{order[id(r[1])]:08d}", "Rows")
        users, groups, roles, pols = [], [], [], []
        for kind, rec in out.pop("Rows"):
            if kind == "user":
                d = views.user(rec, full=True)
                d.update(UserPolicyList=_inline(rec), AttachedManagedPolicies=views.attached(rec["Attached"]),
                         GroupList=[g["Name"] for g in (storage.get(t, "group", n) for n in rec["Groups"]) if g])
                users.append(d)
            elif kind == "group":
                d = views.group(rec)
                d.update(GroupPolicyList=_inline(rec), AttachedManagedPolicies=views.attached(rec["Attached"]))
                groups.append(d)
            elif kind == "role":
                d = views.role(rec, full=True)
                d.pop("MaxSessionDuration", None)
                d.pop("Description", None)
                profiles = [views.instance_profile(t, p) for p in storage.find(t, "profile", "role", rec["Name"].lower())]
                d.update(RolePolicyList=_inline(rec), AttachedManagedPolicies=views.attached(rec["Attached"]),
                         InstanceProfileList=profiles)
                roles.append(d)
            else:
                d = views.policy(t, rec)
                d.pop("Tags", None)
                d["PolicyVersionList"] = [views.version(rec, v) for v in rec["Versions"]]
                pols.append(d)
    return {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": pols, **out}


