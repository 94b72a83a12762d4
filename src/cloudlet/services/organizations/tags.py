"""Tags on the root, OUs, accounts and customer policies (at most 50 per resource)."""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.organizations import errors, storage as st

_RESOURCE_ID = re.compile(r"^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128})$")


def _resource(tx: Any, ctx: Context, resource_id: str, *, write: bool) -> dict:
    org = st.manager_org(tx, ctx, delegated_read=not write)
    if not _RESOURCE_ID.match(resource_id):
        raise errors.invalid("INVALID_PATTERN_TARGET_ID")
    found = (
        resource_id == org["RootId"]
        or (resource_id.isdigit() and st.member_of(tx, org, resource_id) is not None)
        or (resource_id.startswith("ou-") and st.ou_of(tx, org, resource_id) is not None)
        or (resource_id.startswith("p-") and resource_id not in st.MANAGED and st.policy_of(tx, org, resource_id) is not None)
    )
    if not found:
        raise errors.target_not_found()
    return org


def tag_resource(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.writing(ctx) as tx:
        org = _resource(tx, ctx, req["ResourceId"], write=True)
        st.put_tags(tx, org, req["ResourceId"], req["Tags"])
    return {}


def untag_resource(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.writing(ctx) as tx:
        org = _resource(tx, ctx, req["ResourceId"], write=True)
        tags = st.tags_of(tx, org, req["ResourceId"])
        for key in req["TagKeys"]:
            tags.pop(key, None)
        tx.put(st.TAGS, f"{org['Id']}/{req['ResourceId']}", tags)
    return {}


def list_tags_for_resource(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = _resource(tx, ctx, req["ResourceId"], write=False)
        tags = st.tags_of(tx, org, req["ResourceId"])
    return st.paged({}, "Tags", [{"Key": k, "Value": v} for k, v in tags.items()], req)
