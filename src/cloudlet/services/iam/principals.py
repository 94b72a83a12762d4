"""What the rest of cloudlet asks IAM directly, on the request path (not AWS operations):
whose key is this, which policies apply to this principal, who may assume this role,
is this MFA code good.

These run on every authorized request, so `identity_policies` keeps parsed policies per
account and drops them when the account's generation (bumped by every IAM write, see
`storage.write`) changes: a hit costs one point read of the store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloudlet.auth.credentials import Identity, root_arn
from cloudlet.core import clock
from cloudlet.services.iam import awsmanaged, policies, storage, totp

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway


@dataclass(frozen=True, slots=True)
class PrincipalPolicies:
    policies: tuple[Any, ...]  # parsed identity policies (cloudlet.auth.policy Policy objects)
    boundary: Any | None  # the parsed permissions boundary, if any
    tags: dict[str, str] = field(default_factory=dict)
    username: str | None = None  # IAM user name (None for a role)
    user_id: str | None = None  # AIDA... of a user, AROA... of a role


def _db(gateway: "Gateway") -> Any:
    return gateway.db("iam")


def _parse(doc: str, kind: str) -> Any:
    from cloudlet.auth.policy import parse

    return parse(doc, kind)  # type: ignore[arg-type]


def _split(arn: str) -> tuple[str, str, str] | None:
    """(account, type, name) of an IAM user/role ARN or an STS assumed-role ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    resource = parts[5]
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        bits = resource.split("/")
        return (parts[4], "role", bits[1]) if len(bits) >= 3 else None
    if parts[2] != "iam":
        return None
    kind, _, rest = resource.partition("/")
    if kind not in ("user", "role") or not rest:
        return None
    return parts[4], kind, rest.rsplit("/", 1)[-1]


# access keys ---------------------------------------------------------------------------

_keys: dict[tuple[int, str], tuple[tuple[int, ...], Identity | None]] = {}


def lookup_access_key(gateway: "Gateway", access_key_id: str) -> Identity | None:
    """The identity of an IAM access key (AKIA...), or None if unknown, deleted or inactive.
    Asked on every request signed with one: cached until the next IAM write."""
    db = _db(gateway)
    cached = _keys.get((id(db), access_key_id))
    if cached is not None and cached[0] == db.generation(storage.GEN_KIND, storage.KEY_INDEX):
        return cached[1]
    with db.tx("", "") as index:
        gen = db.generation(storage.GEN_KIND, storage.KEY_INDEX)
        entry = index.get(storage.KEY_INDEX, access_key_id)
        found = None if entry is None else _key_identity(db, entry.value["account"], access_key_id)
    if len(_keys) > 100_000:
        _keys.clear()
    _keys[(id(db), access_key_id)] = (gen, found)
    return found


def _key_identity(db: Any, account: str, access_key_id: str) -> Identity | None:
    with db.tx(account, "") as t:
        rec = t.get("key", access_key_id)
        if rec is None or rec.value["Status"] != "Active":
            return None
        key = rec.value
        if not key["UserName"]:
            return Identity(access_key_id, key["Secret"], account, root_arn(account))
        user = storage.get(t, "user", key["UserName"])
        if user is None:
            return None
    return Identity(access_key_id, key["Secret"], account, user["Arn"], user_name=user["Name"])


# identity policies ---------------------------------------------------------------------

_cache: dict[tuple[int, str], tuple[tuple[int, ...], dict[str, PrincipalPolicies | None]]] = {}
_cache_lock = threading.Lock()


def identity_policies(gateway: "Gateway", account: str, principal_arn: str) -> PrincipalPolicies | None:
    """Every identity policy of a user (its own and its groups') or a role (an assumed-role
    session ARN means its role), parsed; None if there is no such user or role. Asked on
    every enforced request: a dict read until the next IAM write (every mutating handler
    writes the generation record, which `ServiceDB.generation` counts in memory)."""
    db = _db(gateway)
    key = (id(db), account)
    cached = _cache.get(key)
    if cached is not None and principal_arn in cached[1] and cached[0] == db.generation(storage.GEN_KIND):
        return cached[1][principal_arn]
    with db.tx(account, "") as t:
        gen = db.generation(storage.GEN_KIND)  # under the database's lock: no write in between
        result = _load_policies(t, account, principal_arn)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None or cached[0] != gen:
            cached = (gen, {})
            _cache[key] = cached
        cached[1][principal_arn] = result
    return result


def _documents(t: Any, account: str, rec: dict[str, Any]) -> list[str]:
    docs = list(rec["Inline"].values())
    for arn in rec["Attached"]:
        pol = policies.lookup(t, account, arn)
        if pol is not None:
            docs.append(policies.default_document(pol))
    return docs


def _load_policies(t: Any, account: str, principal_arn: str) -> PrincipalPolicies | None:
    parts = _split(principal_arn)
    if parts is None or parts[0] != account:
        return None
    _, kind, name = parts
    rec = storage.get(t, kind, name)
    if rec is None:
        return None
    docs = _documents(t, account, rec)
    if kind == "user":
        for group_name in rec["Groups"]:
            group = storage.get(t, "group", group_name)
            if group is not None:
                docs += _documents(t, account, group)
    boundary = None
    if rec.get("Boundary"):
        pol = policies.lookup(t, account, rec["Boundary"])
        if pol is not None:
            boundary = _parse(policies.default_document(pol), "boundary")
    return PrincipalPolicies(
        policies=tuple(_parse(d, "identity") for d in docs),
        boundary=boundary,
        tags=dict(rec.get("Tags") or {}),
        username=rec["Name"] if kind == "user" else None,
        user_id=rec["Id"],
    )


# roles ---------------------------------------------------------------------------------

def _role(gateway: "Gateway", role_arn: str) -> tuple[str, dict[str, Any]] | None:
    parts = _split(role_arn)
    if parts is None or parts[1] != "role" or ":sts:" in role_arn:
        return None
    with _db(gateway).tx(parts[0], "") as t:
        rec = storage.get(t, "role", parts[2])
    return None if rec is None else (parts[0], rec)


def trust_policy(gateway: "Gateway", role_arn: str) -> tuple[str, Any] | None:
    """(owner account, parsed trust policy) of a role, or None if there is no such role."""
    found = _role(gateway, role_arn)
    if found is None:
        return None
    return found[0], _parse(found[1]["Trust"], "trust")


def role_info(gateway: "Gateway", role_arn: str) -> dict[str, Any] | None:
    """What STS needs of a role: RoleId, MaxSessionDuration (s), Arn, RoleName, Path, and
    Tags (a dict of key -> value)."""
    found = _role(gateway, role_arn)
    if found is None:
        return None
    rec = found[1]
    return {
        "RoleId": rec["Id"], "MaxSessionDuration": rec["MaxSessionDuration"], "Arn": rec["Arn"],
        "RoleName": rec["Name"], "Path": rec["Path"], "Tags": dict(rec.get("Tags") or {}),
    }


# MFA -----------------------------------------------------------------------------------

def verify_mfa(gateway: "Gateway", account: str, serial_number: str, code: str) -> bool:
    """True if `code` is the current TOTP code (±1 step) of an enabled MFA device of
    `account`, and no code of that step or a later one was accepted before (no replay)."""
    with _db(gateway).tx(account, "") as t:
        rec = t.get("mfa", serial_number)
        if rec is None or not rec.value.get("EnableDate"):
            return False
        dev = rec.value
        counter = totp.match(dev["Seed"], code, clock.time_s())
        if counter is None or counter <= dev.get("LastCounter", -1):
            return False
        t.put("mfa", serial_number, {**dev, "LastCounter": counter}, attrs={"user": (dev.get("UserName") or "").lower()})
    return True


__all__ = [
    "PrincipalPolicies", "identity_policies", "lookup_access_key", "role_info", "trust_policy", "verify_mfa",
    "awsmanaged",
]


def managed_policy(gateway: "Gateway", account: str, arn: str) -> Any | None:
    """A managed policy's default version, parsed (AWS's by ARN too), or None if there is
    none: the managed session policies (``PolicyArns``) of an STS session."""
    with _db(gateway).tx(account, "") as t:
        rec = policies.lookup(t, account, arn)
    return None if rec is None else _parse(policies.default_document(rec), "session")
