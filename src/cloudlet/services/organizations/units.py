"""Organizational units and the tree: OUs nest up to five levels under the root;
accounts and OUs each have exactly one parent."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.organizations import errors, storage as st

MAX_DEPTH = 5  # OUs below the root (AWS quota)


def _require_ou(tx: Any, org: dict, ou_id: str) -> dict:
    ou = st.ou_of(tx, org, ou_id)
    if ou is None:
        raise errors.ou_not_found()
    return ou


def _name_taken(tx: Any, org: dict, parent: str, name: str, except_id: str | None = None) -> bool:
    _, ous = st.children(tx, org, parent)
    return any(o["Name"] == name and o["Id"] != except_id for o in ous)


def create_organizational_unit(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    parent, name = req["ParentId"], req["Name"]
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        if not st.is_container(tx, org, parent):
            raise errors.parent_not_found()
        if len(st.ancestry(tx, org, parent)) > MAX_DEPTH:  # root + 5 OUs already above
            raise errors.constraint("OU_DEPTH_LIMIT_EXCEEDED")
        if _name_taken(tx, org, parent, name):
            raise errors.duplicate_ou()
        ou_id = st.new_ou_id(org["RootId"])
        while tx.get(st.OU, ou_id) is not None:
            ou_id = st.new_ou_id(org["RootId"])
        ou = {"Id": ou_id, "Arn": st.resource_arn(org, "ou", ou_id), "Name": name, "Org": org["Id"], "Parent": parent}
        st.put_ou(tx, ou)
        st.attach_defaults(tx, org, ou_id)
        if req.get("Tags"):
            st.put_tags(tx, org, ou_id, req["Tags"])
        return {"OrganizationalUnit": st.ou_shape(tx, org, ou)}


def update_organizational_unit(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        ou = _require_ou(tx, org, req["OrganizationalUnitId"])
        name = req.get("Name")
        if name and name != ou["Name"]:
            if _name_taken(tx, org, ou["Parent"], name, except_id=ou["Id"]):
                raise errors.duplicate_ou()
            ou["Name"] = name
            st.put_ou(tx, ou)
        return {"OrganizationalUnit": st.ou_shape(tx, org, ou)}


def delete_organizational_unit(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        ou = _require_ou(tx, org, req["OrganizationalUnitId"])
        accounts, ous = st.children(tx, org, ou["Id"])
        if accounts or ous:
            raise errors.ou_not_empty()
        tx.delete(st.OU, ou["Id"])
        st.forget_target(tx, org, ou["Id"])
    return {}


def describe_organizational_unit(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        ou = _require_ou(tx, org, req["OrganizationalUnitId"])
        return {"OrganizationalUnit": st.ou_shape(tx, org, ou)}


def list_organizational_units_for_parent(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    parent = req["ParentId"]
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        if not st.is_container(tx, org, parent):
            raise errors.parent_not_found()
        _, ous = st.children(tx, org, parent)
        shapes = [st.ou_shape(tx, org, o) for o in ous]
    return st.paged({}, "OrganizationalUnits", shapes, req)


def list_children(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    parent, child_type = req["ParentId"], req["ChildType"]
    if child_type not in ("ACCOUNT", "ORGANIZATIONAL_UNIT"):
        raise errors.invalid("INVALID_ENUM")
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        if not st.is_container(tx, org, parent):
            raise errors.parent_not_found()
        accounts, ous = st.children(tx, org, parent)
    chosen = accounts if child_type == "ACCOUNT" else ous
    return st.paged({}, "Children", [{"Id": c["Id"], "Type": child_type} for c in chosen], req)


def list_parents(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    child = req["ChildId"]
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        found = st.member_of(tx, org, child) if child.isdigit() else st.ou_of(tx, org, child)
    if found is None:
        raise errors.child_not_found()
    parent = found["Parent"]
    kind = "ROOT" if parent == org["RootId"] else "ORGANIZATIONAL_UNIT"
    return st.paged({}, "Parents", [{"Id": parent, "Type": kind}], req)
