"""Organization policies: SCPs, RCPs and the management policy types; their documents,
their attachments to the root, OUs and accounts, and effective policies.

Rules kept (AWS's): a policy attaches only where its type is enabled on the root; at
most 5 SCPs (or RCPs) per target, 10 of the other types; a target always keeps at least
one SCP while SCPs are enabled, so the last one cannot be detached; RCPFullAWSAccess
cannot be detached at all; a policy still attached cannot be deleted; AWS-managed
policies cannot be changed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.organizations import effective, errors, storage as st
from cloudlet.services.organizations.organization import POLICY_TYPES

_POLICY_ID = re.compile(r"^p-[0-9a-zA-Z_]{8,128}$")
_TARGET_ID = re.compile(r"^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
_AUTHZ_TYPES = {st.SCP: "scp", st.RCP: "rcp"}
_MAX_ATTACHED = {st.SCP: 5, st.RCP: 5}  # other types: 10
_MALFORMED = "The provided policy document doesn't meet the requirements of the specified policy type."


def _check_type(ptype: str) -> None:
    if ptype not in POLICY_TYPES:
        raise errors.invalid("INVALID_ENUM_POLICY_TYPE")


def _validate(ptype: str, content: str) -> None:
    """SCPs and RCPs are parsed by the policy engine as AWS validates them; the other
    types must be a JSON object. Size: 5,120 characters for SCPs and RCPs, 10,000 for
    the others."""
    if len(content) > (5120 if ptype in _AUTHZ_TYPES else 10000):
        raise errors.constraint("POLICY_CONTENT_LIMIT_EXCEEDED")
    kind = _AUTHZ_TYPES.get(ptype)
    if kind is not None:
        from cloudlet.auth.policy import PolicyError, parse

        try:
            parse(content, kind)  # type: ignore[arg-type]
        except PolicyError as err:
            raise errors.malformed_policy(err.message) from None
        return
    try:
        doc = json.loads(content)
    except ValueError:
        raise errors.malformed_policy(_MALFORMED) from None
    if not isinstance(doc, dict):
        raise errors.malformed_policy(_MALFORMED)


def _require_policy(tx: Any, org: dict, policy_id: str) -> dict:
    if not _POLICY_ID.match(policy_id):
        raise errors.invalid("INVALID_SYNTAX_POLICY_ID")
    p = st.policy_of(tx, org, policy_id)
    if p is None:
        raise errors.policy_not_found()
    return p


def _target(tx: Any, org: dict, target_id: str) -> dict:
    """A PolicyTargetSummary for a root, OU or account of the organization."""
    if not _TARGET_ID.match(target_id):
        raise errors.invalid("INVALID_PATTERN_TARGET_ID")
    if target_id == org["RootId"]:
        return {"TargetId": target_id, "Arn": st.resource_arn(org, "root", target_id), "Name": "Root", "Type": "ROOT"}
    if target_id.isdigit():
        m = st.member_of(tx, org, target_id)
        if m is not None:
            out = {"TargetId": target_id, "Arn": m["Arn"], "Type": "ACCOUNT"}
            if m.get("Name"):
                out["Name"] = m["Name"]
            return out
    else:
        ou = st.ou_of(tx, org, target_id)
        if ou is not None:
            return {"TargetId": target_id, "Arn": ou["Arn"], "Name": ou["Name"], "Type": "ORGANIZATIONAL_UNIT"}
    raise errors.target_not_found()


def _name_taken(tx: Any, org: dict, ptype: str, name: str, except_id: str | None = None) -> bool:
    if any(p["Name"] == name and p["Type"] == ptype for p in st.MANAGED.values()):
        return True
    return any(
        r.value["Name"] == name and r.value["Type"] == ptype and r.key != except_id
        for r in tx.find(st.POLICY, "org", org["Id"])
    )


def _shape(p: dict) -> dict[str, Any]:
    return {"PolicySummary": st.policy_summary(p), "Content": p["Content"]}


def create_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    ptype, content = req["Type"], req["Content"]
    _check_type(ptype)
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx)
    if org["FeatureSet"] != "ALL":
        raise errors.policy_type_not_available()
    _validate(ptype, content)  # outside the transaction: parsing is pure but not free
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        if _name_taken(tx, org, ptype, req["Name"]):
            raise errors.duplicate_policy()
        pid = st.new_policy_id()
        while tx.get(st.POLICY, pid) is not None:
            pid = st.new_policy_id()
        policy = {
            "Id": pid,
            "Arn": st.resource_arn(org, "policy", f"{ptype.lower()}/{pid}"),  # policy/o-../<type>/p-..
            "Name": req["Name"],
            "Description": req["Description"],
            "Type": ptype,
            "Content": content,
            "Org": org["Id"],
            "Updated": clock.now(),
        }
        tx.put(st.POLICY, pid, policy, attrs={"org": org["Id"]})
        if req.get("Tags"):
            st.put_tags(tx, org, pid, req["Tags"])
    return {"Policy": _shape(policy)}


def update_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx)
        policy = _require_policy(tx, org, req["PolicyId"])
    if policy["Id"] in st.MANAGED:
        raise errors.invalid("IMMUTABLE_POLICY")
    if req.get("Content") is not None:
        _validate(policy["Type"], req["Content"])
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        policy = _require_policy(tx, org, req["PolicyId"])
        if req.get("Name") and req["Name"] != policy["Name"]:
            if _name_taken(tx, org, policy["Type"], req["Name"], except_id=policy["Id"]):
                raise errors.duplicate_policy()
            policy["Name"] = req["Name"]
        if req.get("Description") is not None:
            policy["Description"] = req["Description"]
        if req.get("Content") is not None:
            policy["Content"] = req["Content"]
        policy["Updated"] = clock.now()
        tx.put(st.POLICY, policy["Id"], policy, attrs={"org": org["Id"]})
    return {"Policy": _shape(policy)}


def delete_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        policy = _require_policy(tx, org, req["PolicyId"])
        if policy["Id"] in st.MANAGED:
            raise errors.invalid("IMMUTABLE_POLICY")
        if st.targets_of(tx, org, policy["Id"]):
            raise errors.policy_in_use()
        tx.delete(st.POLICY, policy["Id"])
        tx.delete(st.TAGS, f"{org['Id']}/{policy['Id']}")
    return {}


def describe_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        return {"Policy": _shape(_require_policy(tx, org, req["PolicyId"]))}


def list_policies(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    ptype = req["Filter"]
    _check_type(ptype)
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        found = [p for p in st.MANAGED.values() if p["Type"] == ptype] if org["FeatureSet"] == "ALL" else []
        found += [r.value for r in tx.find(st.POLICY, "org", org["Id"]) if r.value["Type"] == ptype]
    return st.paged({}, "Policies", [st.policy_summary(p) for p in found], req)


def attach_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        policy = _require_policy(tx, org, req["PolicyId"])
        target = _target(tx, org, req["TargetId"])["TargetId"]
        if policy["Type"] not in org["PolicyTypes"]:
            raise errors.policy_type_not_enabled()
        attached = st.attachments(tx, org, target)
        if policy["Id"] in attached:
            raise errors.duplicate_attachment()
        same_type = [p for p in attached if (st.policy_of(tx, org, p) or {}).get("Type") == policy["Type"]]
        if len(same_type) >= _MAX_ATTACHED.get(policy["Type"], 10):
            raise errors.constraint("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        st.attach(tx, org, target, policy)
    return {}


def detach_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        policy = _require_policy(tx, org, req["PolicyId"])
        target = _target(tx, org, req["TargetId"])["TargetId"]
        if policy["Id"] == st.DEFAULT_POLICY[st.RCP]:
            raise errors.invalid("NON_DETACHABLE_POLICY")
        attached = st.attachments(tx, org, target)
        if policy["Id"] not in attached:
            raise errors.policy_not_attached()
        if policy["Type"] == st.SCP:
            scps = [p for p in attached if (st.policy_of(tx, org, p) or {}).get("Type") == st.SCP]
            if len(scps) == 1:
                raise errors.constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        st.detach(tx, org, target, policy["Id"])
    return {}


def list_policies_for_target(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    ptype = req["Filter"]
    _check_type(ptype)
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        target = _target(tx, org, req["TargetId"])["TargetId"]
        found = [st.policy_of(tx, org, pid) for pid in st.attachments(tx, org, target)]
    return st.paged({}, "Policies", [st.policy_summary(p) for p in found if p and p["Type"] == ptype], req)


def list_targets_for_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        policy = _require_policy(tx, org, req["PolicyId"])
        targets = [_target(tx, org, t) for t in st.targets_of(tx, org, policy["Id"])]
    return st.paged({}, "Targets", targets, req)


def describe_effective_policy(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """The merge of the policies of one management type along the account's path (see
    ``effective``). A member account may ask only about itself."""
    ptype = req["PolicyType"]
    if ptype not in POLICY_TYPES or ptype in _AUTHZ_TYPES:
        raise errors.invalid("INVALID_ENUM_POLICY_TYPE")
    target = req.get("TargetId") or ctx.account
    with st.reading(ctx) as tx:
        org = st.caller_org(tx, ctx)
        if target != ctx.account and ctx.account != org["MasterAccountId"] and not st.is_delegated_admin(tx, org, ctx.account):
            raise errors.access_denied()
        kind = _target(tx, org, target)
        if kind["Type"] != "ACCOUNT":
            raise errors.invalid("TARGET_NOT_SUPPORTED")
        if ptype not in org["PolicyTypes"]:
            raise errors.effective_policy_not_found()
        member = st.member_of(tx, org, target)
        assert member is not None
        levels: list[list[dict]] = []
        updated = []
        for container in [*st.ancestry(tx, org, member["Parent"]), target]:
            docs = []
            for pid in st.attachments(tx, org, container):
                p = st.policy_of(tx, org, pid)
                if p is not None and p["Type"] == ptype:
                    docs.append(json.loads(p["Content"]))
                    updated.append(p["Updated"])
            levels.append(docs)
    if not updated:
        raise errors.effective_policy_not_found()
    content = effective.merge(levels)
    return {
        "EffectivePolicy": {
            "PolicyContent": json.dumps(content),
            "LastUpdatedTimestamp": max(updated),
            "TargetId": target,
            "PolicyType": ptype,
        }
    }
