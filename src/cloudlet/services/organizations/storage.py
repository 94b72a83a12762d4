"""Where an organization lives in the store, and who may act on it.

An organization spans accounts and must be readable from any of them, so all of its
records sit in the cross-account partition (account "", region ""), keyed by ids that
are unique across organizations:

- ``org``       org id -> the organization (management account, root, enabled policy
                 types, trusted services)
- ``member``    account id -> the account's membership (attrs ``org``, ``parent``,
                 ``email``): also the account -> organization index
- ``ou``        OU id -> the OU (attrs ``org``, ``parent``)
- ``policy``    policy id -> a customer policy (attr ``org``); AWS-managed policies are
                 built in (``MANAGED``)
- ``attach``    "<org>/<target>/<policy>" -> an attachment (attr ``policy`` = "<org>/<policy>")
- ``tags``      "<org>/<resource>" -> {key: value}
- ``status``    create-account request id -> its CreateAccountStatus (attr ``org``)
- ``delegated`` "<org>/<account>/<service principal>" -> a delegated administrator

Every write goes through ``writing``, which bumps an in-memory generation after the
commit, so the per-request reads of ``scps`` stay dict lookups until something changes.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import weakref
from contextlib import contextmanager
from typing import Any, Iterator

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.organizations import errors

DB = "organizations"
ORG, MEMBER, OU, POLICY, ATTACH, TAGS, STATUS, DELEGATED = (
    "org", "member", "ou", "policy", "attach", "tags", "status", "delegated"
)

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"

#: The AWS-managed policies every organization has (the same id in every organization).
MANAGED: dict[str, dict[str, Any]] = {
    "p-FullAWSAccess": {
        "Id": "p-FullAWSAccess",
        "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
        "Name": "FullAWSAccess",
        "Description": "Allows access to every operation",
        "Type": SCP,
        "Content": json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, indent=2
        ),
    },
    "p-RCPFullAWSAccess": {
        "Id": "p-RCPFullAWSAccess",
        "Arn": "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
        "Name": "RCPFullAWSAccess",
        "Description": "Allows access to every operation",
        "Type": RCP,
        "Content": json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
            indent=2,
        ),
    },
}

#: The managed policy a policy type attaches everywhere when it is enabled.
DEFAULT_POLICY = {SCP: "p-FullAWSAccess", RCP: "p-RCPFullAWSAccess"}

_ALNUM = string.ascii_lowercase + string.digits


# --- transactions and the change generation ----------------------------------------------
class _Cache:
    """Decoded answers of ``scps`` for one gateway; cleared by every committed write."""

    __slots__ = ("generation", "answers")

    def __init__(self) -> None:
        self.generation = 0
        self.answers: dict[tuple[str, str], Any] = {}


_CACHES: "weakref.WeakKeyDictionary[Any, _Cache]" = weakref.WeakKeyDictionary()


def cache(gateway: Any) -> _Cache:
    c = _CACHES.get(gateway)
    if c is None:
        c = _CACHES[gateway] = _Cache()
    return c


def changed(gateway: Any) -> None:
    """Called after a write commits: answers computed before it are dropped, and a
    computation that started before it will not be stored (its generation is old)."""
    c = cache(gateway)
    c.generation += 1
    c.answers = {}


def partition_tx(gateway: Any):  # -> ContextManager[Tx]
    """The cross-account partition. (``ctx.tx(account="")`` cannot name it: an empty
    account falls back to the caller's.)"""
    return gateway.db(DB).tx("", "")


@contextmanager
def reading(ctx: Context) -> Iterator[Tx]:
    with partition_tx(ctx.gateway) as tx:
        yield tx


@contextmanager
def writing(ctx: Context) -> Iterator[Tx]:
    try:
        with partition_tx(ctx.gateway) as tx:
            yield tx
    finally:
        changed(ctx.gateway)


# --- ids and ARNs -------------------------------------------------------------------------
def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_org_id() -> str:
    return "o-" + _rand(10)


def new_root_id() -> str:
    return "r-" + _rand(4)


def new_ou_id(root_id: str) -> str:
    return f"ou-{root_id[2:]}-{_rand(8)}"


def new_policy_id() -> str:
    return "p-" + _rand(8)


def new_request_id() -> str:
    return "car-" + _rand(32)


def new_account_id(tx: Tx) -> str:
    """12 random digits, never one an organization already holds."""
    while True:
        candidate = _rand(12, string.digits)
        if candidate[0] != "0" and tx.get(MEMBER, candidate) is None and not tx.find(STATUS, "account", candidate):
            return candidate


def org_arn(partition: str, master: str, org_id: str) -> str:
    return f"arn:{partition}:organizations::{master}:organization/{org_id}"


def resource_arn(org: dict, kind: str, resource_id: str) -> str:
    """kind: root | ou | account | policy/<type in lower case>."""
    partition = org["Arn"].split(":")[1]
    return f"arn:{partition}:organizations::{org['MasterAccountId']}:{kind}/{org['Id']}/{resource_id}"


# --- lookups --------------------------------------------------------------------------------
def membership(tx: Tx, account: str) -> tuple[dict, dict] | None:
    """(organization, member record) of an account, or None."""
    m = tx.get(MEMBER, account)
    if m is None:
        return None
    o = tx.get(ORG, m.value["Org"])
    return None if o is None else (o.value, m.value)


def caller_org(tx: Tx, ctx: Context) -> dict:
    found = membership(tx, ctx.account)
    if found is None:
        raise errors.not_in_use()
    return found[0]


def is_delegated_admin(tx: Tx, org: dict, account: str) -> bool:
    return bool(tx.scan(DELEGATED, f"{org['Id']}/{account}/", limit=1))


def manager_org(tx: Tx, ctx: Context, *, delegated_read: bool = False) -> dict:
    """The caller's organization when the caller may manage it: the management account,
    or (for the read-only List/Describe operations AWS opens to them) a delegated
    administrator. Anyone else in the organization is refused."""
    org = caller_org(tx, ctx)
    if ctx.account == org["MasterAccountId"]:
        return org
    if delegated_read and is_delegated_admin(tx, org, ctx.account):
        return org
    raise errors.access_denied()


def save_org(tx: Tx, org: dict) -> None:
    tx.put(ORG, org["Id"], org)


def put_member(tx: Tx, m: dict) -> None:
    tx.put(MEMBER, m["Id"], m, attrs={"org": m["Org"], "parent": f"{m['Org']}/{m['Parent']}", "email": m["Email"].lower()})


def put_ou(tx: Tx, ou: dict) -> None:
    tx.put(OU, ou["Id"], ou, attrs={"org": ou["Org"], "parent": f"{ou['Org']}/{ou['Parent']}"})


def member_of(tx: Tx, org: dict, account: str) -> dict | None:
    rec = tx.get(MEMBER, account)
    return rec.value if rec is not None and rec.value["Org"] == org["Id"] else None


def ou_of(tx: Tx, org: dict, ou_id: str) -> dict | None:
    rec = tx.get(OU, ou_id)
    return rec.value if rec is not None and rec.value["Org"] == org["Id"] else None


def is_container(tx: Tx, org: dict, parent_id: str) -> bool:
    """A root or OU of this organization (something accounts and OUs can live in)."""
    return parent_id == org["RootId"] or ou_of(tx, org, parent_id) is not None


def children(tx: Tx, org: dict, parent_id: str) -> tuple[list[dict], list[dict]]:
    """(accounts, OUs) directly under a root or OU."""
    key = f"{org['Id']}/{parent_id}"
    return [r.value for r in tx.find(MEMBER, "parent", key)], [r.value for r in tx.find(OU, "parent", key)]


def ancestry(tx: Tx, org: dict, parent_id: str) -> list[str]:
    """Container ids from the root down to `parent_id` inclusive."""
    chain = [parent_id]
    while chain[-1] != org["RootId"]:
        ou = ou_of(tx, org, chain[-1])
        if ou is None:  # a broken chain cannot happen through the API; stop rather than loop
            break
        chain.append(ou["Parent"])
    chain.reverse()
    return chain


def path_of(tx: Tx, org: dict, parent_id: str) -> str:
    """"o-.../r-.../ou-.../" for a container: the aws:PrincipalOrgPaths form."""
    return org["Id"] + "/" + "".join(f"{p}/" for p in ancestry(tx, org, parent_id))


def all_members(tx: Tx, org: dict) -> list[dict]:
    return [r.value for r in tx.find(MEMBER, "org", org["Id"])]


def all_ous(tx: Tx, org: dict) -> list[dict]:
    return [r.value for r in tx.find(OU, "org", org["Id"])]


def policy_of(tx: Tx, org: dict, policy_id: str) -> dict | None:
    if policy_id in MANAGED:
        return MANAGED[policy_id]
    rec = tx.get(POLICY, policy_id)
    return rec.value if rec is not None and rec.value["Org"] == org["Id"] else None


def attachments(tx: Tx, org: dict, target_id: str) -> list[str]:
    """Ids of the policies attached to a target, in id order."""
    return [r.value["Policy"] for r in tx.scan(ATTACH, f"{org['Id']}/{target_id}/")]


def attach(tx: Tx, org: dict, target_id: str, policy: dict) -> None:
    tx.put(
        ATTACH,
        f"{org['Id']}/{target_id}/{policy['Id']}",
        {"Policy": policy["Id"], "Target": target_id, "Type": policy["Type"]},
        attrs={"policy": f"{org['Id']}/{policy['Id']}"},
    )


def detach(tx: Tx, org: dict, target_id: str, policy_id: str) -> bool:
    return tx.delete(ATTACH, f"{org['Id']}/{target_id}/{policy_id}")


def targets_of(tx: Tx, org: dict, policy_id: str) -> list[str]:
    return [r.value["Target"] for r in tx.find(ATTACH, "policy", f"{org['Id']}/{policy_id}")]


def forget_target(tx: Tx, org: dict, target_id: str) -> None:
    """A removed account or deleted OU takes its attachments and tags with it."""
    for rec in tx.scan(ATTACH, f"{org['Id']}/{target_id}/"):
        tx.delete(ATTACH, rec.key)
    tx.delete(TAGS, f"{org['Id']}/{target_id}")


def attach_defaults(tx: Tx, org: dict, target_id: str) -> None:
    """A new OU or account gets the managed full-access policy of each enabled type."""
    for ptype, policy_id in DEFAULT_POLICY.items():
        if ptype in org["PolicyTypes"]:
            attach(tx, org, target_id, MANAGED[policy_id])


def put_tags(tx: Tx, org: dict, resource_id: str, tags: list[dict]) -> None:
    """Add or overwrite tags (TagResource semantics); at most 50 per resource."""
    key = f"{org['Id']}/{resource_id}"
    rec = tx.get(TAGS, key)
    current = dict(rec.value) if rec is not None else {}
    keys = [t["Key"] for t in tags]
    if len(keys) != len(set(keys)):
        raise errors.invalid("DUPLICATE_TAG_KEY")
    for t in tags:
        current[t["Key"]] = t["Value"]
    if len(current) > 50:
        raise errors.constraint("MAX_TAG_LIMIT_EXCEEDED")
    tx.put(TAGS, key, current)


def tags_of(tx: Tx, org: dict, resource_id: str) -> dict[str, str]:
    rec = tx.get(TAGS, f"{org['Id']}/{resource_id}")
    return dict(rec.value) if rec is not None else {}


# --- shapes ---------------------------------------------------------------------------------
def account_shape(tx: Tx, org: dict, m: dict) -> dict:
    out = {
        "Id": m["Id"],
        "Arn": m["Arn"],
        "Status": "ACTIVE",
        "State": "ACTIVE",
        "Paths": [path_of(tx, org, m["Parent"]) + m["Id"] + "/"],
        "JoinedMethod": m["JoinedMethod"],
        "JoinedTimestamp": m["JoinedTimestamp"],
    }
    # the management account's name and email are its own sign-up details, which cloudlet
    # does not have: they are left out rather than invented
    if m.get("Email"):
        out["Email"] = m["Email"]
    if m.get("Name"):
        out["Name"] = m["Name"]
    return out


def ou_shape(tx: Tx, org: dict, ou: dict) -> dict:
    return {"Id": ou["Id"], "Arn": ou["Arn"], "Name": ou["Name"], "Path": path_of(tx, org, ou["Id"])}


def root_shape(org: dict) -> dict:
    return {
        "Id": org["RootId"],
        "Arn": resource_arn(org, "root", org["RootId"]),
        "Name": "Root",
        "PolicyTypes": [{"Type": t, "Status": s} for t, s in org["PolicyTypes"].items()],
    }


def policy_summary(p: dict) -> dict:
    return {
        "Id": p["Id"],
        "Arn": p["Arn"],
        "Name": p["Name"],
        "Description": p.get("Description", ""),
        "Type": p["Type"],
        "AwsManaged": p["Id"] in MANAGED,
    }


# --- paging ---------------------------------------------------------------------------------
def page(items: list, req: dict, default: int = 20) -> tuple[list, str | None]:
    """One page of an already ordered list; the token is an opaque offset."""
    start = 0
    token = req.get("NextToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))
        except (ValueError, UnicodeDecodeError):
            raise errors.invalid("INVALID_NEXT_TOKEN") from None
        if start < 0 or start > len(items):
            raise errors.invalid("INVALID_NEXT_TOKEN")
    size = req.get("MaxResults") or default
    end = start + size
    nxt = base64.urlsafe_b64encode(f"o:{end}".encode()).decode() if end < len(items) else None
    return items[start:end], nxt


def paged(out: dict, name: str, items: list, req: dict) -> dict:
    chunk, nxt = page(items, req)
    out[name] = chunk
    if nxt:
        out["NextToken"] = nxt
    return out
