"""IAM's store layout, one account per partition (region "").

Users, groups and roles are keyed by their lower-cased name (IAM names are unique
without regard to case, and lists come back in name order); each carries its inline
policies and attached policy ARNs, indexed as attributes so AttachmentCount and
ListEntitiesForPolicy are lookups. Access keys are also indexed in the cross-account
partition (account "") by key id, so a signed request finds its account from the key.
Every write bumps the account's generation (``meta/gen``), which the principal caches
read to know they are stale.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.iam import errors

#: kind -> the word AWS uses in "The <word> with name X cannot be found."
LABELS = {"user": "user", "group": "group", "role": "role", "profile": "Instance Profile"}

GEN_KIND, GEN_KEY = "meta", "gen"
KEY_INDEX = "akey"  # in account "": access key id -> {"account": ...}


@contextmanager
def write(ctx: Context) -> Iterator[Tx]:
    """A transaction that changes IAM state: it bumps the account's generation with it."""
    with ctx.tx() as t:
        yield t
        bump(t)


def bump(t: Tx) -> None:
    # a random token, not a counter: a reset wipes the record and a counter would repeat
    t.put(GEN_KIND, GEN_KEY, os.urandom(8))


def generation(t: Tx) -> bytes | None:
    rec = t.get(GEN_KIND, GEN_KEY)
    return None if rec is None else rec.value


def _attrs(kind: str, rec: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if "Attached" in rec:
        attrs["policy"] = list(rec["Attached"])
    if rec.get("Boundary"):
        attrs["boundary"] = rec["Boundary"]
    if kind == "user":
        attrs["group"] = list(rec.get("Groups", ()))
    if kind == "profile":
        attrs["role"] = [r.lower() for r in rec.get("Roles", ())]
    if kind in ("key", "mfa") and rec.get("UserName"):
        attrs["user"] = rec["UserName"].lower()
    return attrs


def get(t: Tx, kind: str, name: str) -> dict[str, Any] | None:
    rec = t.get(kind, name.lower())
    return None if rec is None else rec.value


def require(t: Tx, kind: str, name: str) -> dict[str, Any]:
    rec = get(t, kind, name)
    if rec is None:
        raise errors.not_found(LABELS.get(kind, kind), name)
    return rec


def put(t: Tx, kind: str, rec: dict[str, Any], name: str | None = None) -> None:
    t.put(kind, (name or rec["Name"]).lower(), rec, attrs=_attrs(kind, rec))


def delete(t: Tx, kind: str, name: str) -> bool:
    return t.delete(kind, name.lower())


def all_of(t: Tx, kind: str) -> list[dict[str, Any]]:
    return [r.value for r in t.scan(kind)]


def find(t: Tx, kind: str, attr: str, value: str) -> list[dict[str, Any]]:
    return [r.value for r in t.find(kind, attr, value)]


def attachment_count(t: Tx, policy_arn: str) -> int:
    return sum(len(t.find(kind, "policy", policy_arn)) for kind in ("user", "group", "role"))


def boundary_count(t: Tx, policy_arn: str) -> int:
    return sum(len(t.find(kind, "boundary", policy_arn)) for kind in ("user", "role"))


def global_tx(ctx: Context) -> Any:
    """The cross-account partition (account "", region ""), for indexes found without an
    account (access key ids, account aliases). Opened on the database directly: ``ctx.tx``
    treats an empty account as "the caller's"."""
    assert ctx.gateway is not None
    return ctx.gateway.db("iam").tx("", "")
