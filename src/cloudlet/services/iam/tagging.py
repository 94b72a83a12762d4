"""Tag, untag and list the tags of an IAM entity kept under its name (users, roles,
instance profiles): one implementation for each entity's three tag operations."""

from __future__ import annotations

from typing import Any, Callable

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.iam import model, storage

Require = Callable[[Tx, str], dict[str, Any]]


def _by_name(kind: str) -> Require:
    return lambda t, name: storage.require(t, kind, name)


def tag(ctx: Context, kind: str, name: str, tags: list[dict[str, str]], label: str,
        require: Require | None = None) -> dict[str, Any]:
    """Add or replace tags (`label` names the entity type in AWS's limit messages)."""
    model.check_new_tags(tags)
    with storage.write(ctx) as t:
        rec = (require or _by_name(kind))(t, name)
        rec["Tags"] = model.merge_tags(rec["Tags"], tags, label)
        storage.put(t, kind, rec)
    return {}


def untag(ctx: Context, kind: str, name: str, keys: list[str], require: Require | None = None) -> dict[str, Any]:
    with storage.write(ctx) as t:
        rec = (require or _by_name(kind))(t, name)
        rec["Tags"] = model.untag(rec["Tags"], keys)
        storage.put(t, kind, rec)
    return {}


def listed(ctx: Context, kind: str, name: str, req: dict[str, Any], require: Require | None = None) -> dict[str, Any]:
    """The entity's tags, a page at a time (Marker / MaxItems)."""
    with ctx.tx() as t:
        rec = (require or _by_name(kind))(t, name)
    return model.page(model.tag_list(rec["Tags"]), req, lambda item: item["Key"], "Tags")
