"""The organization itself: create, describe, delete, its root and the policy types
enabled on the root."""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.organizations import errors, storage as st

#: Policy types an ALL-features organization can enable (the model's enum)
POLICY_TYPES = frozenset(
    {
        "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY",
        "AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2", "SECURITYHUB_POLICY",
        "INSPECTOR_POLICY", "UPGRADE_ROLLOUT_POLICY", "BEDROCK_POLICY", "S3_POLICY",
        "NETWORK_SECURITY_DIRECTOR_POLICY",
    }
)


def _org_shape(org: dict) -> dict[str, Any]:
    out = {
        "Id": org["Id"],
        "Arn": org["Arn"],
        "FeatureSet": org["FeatureSet"],
        "MasterAccountArn": org["MasterAccountArn"],
        "MasterAccountId": org["MasterAccountId"],
        # deprecated member; AWS lists SCPs as available in an ALL-features organization
        "AvailablePolicyTypes": (
            [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}] if org["FeatureSet"] == "ALL" else []
        ),
    }
    return out


def create_organization(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """The caller's account becomes the management account, at the root; no policy
    type is enabled until EnablePolicyType (as through the API)."""
    feature_set = req.get("FeatureSet") or "ALL"
    if feature_set not in ("ALL", "CONSOLIDATED_BILLING"):
        raise errors.invalid("INVALID_ENUM")
    now = clock.now()
    with st.writing(ctx) as tx:
        if st.membership(tx, ctx.account) is not None:
            raise errors.already_in_organization()
        org_id = st.new_org_id()
        while tx.get(st.ORG, org_id) is not None:
            org_id = st.new_org_id()
        master = ctx.account
        org = {
            "Id": org_id,
            "Arn": st.org_arn(ctx.partition, master, org_id),
            "FeatureSet": feature_set,
            "MasterAccountId": master,
            "MasterAccountArn": f"arn:{ctx.partition}:organizations::{master}:account/{org_id}/{master}",
            "RootId": st.new_root_id(),
            "PolicyTypes": {},
            "Services": {},
            "Created": now,
        }
        st.save_org(tx, org)
        st.put_member(
            tx,
            {
                "Id": master, "Arn": org["MasterAccountArn"], "Email": "", "Name": "", "Org": org_id,
                "Parent": org["RootId"], "JoinedMethod": "INVITED", "JoinedTimestamp": now,
            },
        )
    return {"Organization": _org_shape(org)}


def describe_organization(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """Any account of the organization may read it."""
    with st.reading(ctx) as tx:
        org = st.caller_org(tx, ctx)
    return {"Organization": _org_shape(org)}


def delete_organization(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """Only once no member account is left; its OUs, policies, attachments, tags,
    delegations and account requests go with it."""
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        members = st.all_members(tx, org)
        if any(m["Id"] != org["MasterAccountId"] for m in members):
            raise errors.not_empty()
        oid = org["Id"]
        for m in members:
            tx.delete(st.MEMBER, m["Id"])
        for ou in st.all_ous(tx, org):
            tx.delete(st.OU, ou["Id"])
        for rec in tx.find(st.POLICY, "org", oid):
            tx.delete(st.POLICY, rec.key)
        for rec in tx.find(st.STATUS, "org", oid):
            tx.delete(st.STATUS, rec.key)
        for kind in (st.ATTACH, st.TAGS, st.DELEGATED):
            for rec in tx.scan(kind, oid + "/"):
                tx.delete(kind, rec.key)
        tx.delete(st.ORG, oid)
    return {}


def list_roots(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
    return st.paged({}, "Roots", [st.root_shape(org)], req)


def _root_for(tx: Any, ctx: Context, root_id: str) -> dict:
    org = st.manager_org(tx, ctx)
    if root_id != org["RootId"]:
        raise errors.root_not_found()
    return org


def enable_policy_type(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """Enabling SCPs (or RCPs) attaches the managed full-access policy to the root, every
    OU and every account, as AWS does, so nothing is denied until a policy says so."""
    ptype = req["PolicyType"]
    if ptype not in POLICY_TYPES:
        raise errors.invalid("INVALID_ENUM_POLICY_TYPE")
    with st.writing(ctx) as tx:
        org = _root_for(tx, ctx, req["RootId"])
        if org["FeatureSet"] != "ALL":
            raise errors.policy_type_not_available()
        if ptype in org["PolicyTypes"]:
            raise errors.policy_type_already_enabled()
        org["PolicyTypes"][ptype] = "ENABLED"
        st.save_org(tx, org)
        default = st.DEFAULT_POLICY.get(ptype)
        if default is not None:
            policy = st.MANAGED[default]
            targets = [org["RootId"]] + [ou["Id"] for ou in st.all_ous(tx, org)] + [m["Id"] for m in st.all_members(tx, org)]
            for target in targets:
                st.attach(tx, org, target, policy)
    return {"Root": st.root_shape(org)}


def disable_policy_type(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """Every policy of the type is detached from every target (AWS does the same)."""
    ptype = req["PolicyType"]
    if ptype not in POLICY_TYPES:
        raise errors.invalid("INVALID_ENUM_POLICY_TYPE")
    with st.writing(ctx) as tx:
        org = _root_for(tx, ctx, req["RootId"])
        if ptype not in org["PolicyTypes"]:
            raise errors.policy_type_not_enabled()
        del org["PolicyTypes"][ptype]
        st.save_org(tx, org)
        for rec in tx.scan(st.ATTACH, org["Id"] + "/"):
            if rec.value["Type"] == ptype:
                tx.delete(st.ATTACH, rec.key)
    return {"Root": st.root_shape(org)}
