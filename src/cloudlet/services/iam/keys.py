"""Access keys of IAM users (and of the root user): at most two each.

A key lives in its account's partition (listed per user by the ``user`` attribute) and
in the cross-account index (account "") by id, so `principals.lookup_access_key` finds
the account of a signed request from the key alone.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.iam import errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]

MAX_KEYS = 2
_STATUSES = ("Active", "Inactive")


def _owner(ctx: Context, t: Tx, req: Input) -> str | None:
    """The user the call is about: the named one, else the caller (None: the root user)."""
    name = req.get("UserName")
    if name:
        return storage.require(t, "user", name)["Name"]
    resource = ctx.principal_arn.split(":", 5)[-1]
    if resource.startswith("user/"):
        return storage.require(t, "user", resource.rsplit("/", 1)[1])["Name"]
    if ctx.principal_arn.endswith(":root"):
        return None
    raise errors.validation("Must specify userName when calling with non-User credentials")


def _owned(t: Tx, owner: str | None) -> list[dict[str, Any]]:
    return [r.value for r in t.find("key", "user", (owner or "").lower())]


def _key(t: Tx, owner: str | None, key_id: str) -> dict[str, Any]:
    rec = t.get("key", key_id)
    if rec is None or (rec.value["UserName"] or "").lower() != (owner or "").lower():
        raise errors.no_such_entity(f"The Access Key with id {key_id} cannot be found.")
    return rec.value


def _put(t: Tx, rec: dict[str, Any]) -> None:
    t.put("key", rec["AccessKeyId"], rec, attrs={"user": (rec["UserName"] or "").lower()})


def create_access_key(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        owner = _owner(ctx, t, req)
        if len(_owned(t, owner)) >= MAX_KEYS:
            raise errors.limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
        rec = {"AccessKeyId": model.new_access_key_id(), "UserName": owner, "Secret": model.new_secret(),
               "Status": "Active", "CreateDate": model.now(), "LastUsed": None}
        _put(t, rec)
        with storage.global_tx(ctx) as index:
            index.put(storage.KEY_INDEX, rec["AccessKeyId"], {"account": ctx.account})
    out = {"AccessKeyId": rec["AccessKeyId"], "Status": "Active", "SecretAccessKey": rec["Secret"],
           "CreateDate": rec["CreateDate"], "UserName": owner or ""}
    return {"AccessKey": out}


def _metadata(rec: dict[str, Any]) -> dict[str, Any]:
    out = {"AccessKeyId": rec["AccessKeyId"], "Status": rec["Status"], "CreateDate": rec["CreateDate"]}
    if rec["UserName"]:
        out["UserName"] = rec["UserName"]
    return out


def list_access_keys(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        owner = _owner(ctx, t, req)
        keys = sorted(_owned(t, owner), key=lambda k: k["CreateDate"])
    out = model.page(keys, req, lambda k: k["CreateDate"].isoformat() + k["AccessKeyId"], "AccessKeyMetadata")
    out["AccessKeyMetadata"] = [_metadata(k) for k in out["AccessKeyMetadata"]]
    return out


def update_access_key(ctx: Context, req: Input) -> Output:
    status = req["Status"]
    if status not in _STATUSES:
        raise errors.validation(
            f"1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Active, Inactive]"
        )
    with storage.write(ctx) as t:
        rec = _key(t, _owner(ctx, t, req), req["AccessKeyId"])
        rec["Status"] = status
        _put(t, rec)
    return {}


def delete_access_key(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        rec = _key(t, _owner(ctx, t, req), req["AccessKeyId"])
        t.delete("key", rec["AccessKeyId"])
        with storage.global_tx(ctx) as index:
            index.delete(storage.KEY_INDEX, rec["AccessKeyId"])
    return {}


def get_access_key_last_used(ctx: Context, req: Input) -> Output:
    key_id = req["AccessKeyId"]
    with storage.global_tx(ctx) as index:
        entry = index.get(storage.KEY_INDEX, key_id)
    rec = None
    if entry is not None and entry.value["account"] == ctx.account:
        with ctx.tx(account=entry.value["account"]) as t:
            found = t.get("key", key_id)
            rec = found.value if found is not None else None
    if rec is None:
        raise errors.no_such_entity(f"The Access Key with id {key_id} cannot be found.")
    used = rec.get("LastUsed")
    last: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}
    if used:
        last = {"LastUsedDate": used["Date"], "ServiceName": used["Service"], "Region": used["Region"]}
    out: Output = {"AccessKeyLastUsed": last}
    if rec["UserName"]:
        out["UserName"] = rec["UserName"]
    return out
