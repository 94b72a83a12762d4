"""What IAM enforcement asks Organizations on every request (a contract, not handlers).

- ``control_policies(gateway, account, policy_type)``: the SCPs (or RCPs) that bind an
  account, one tuple of parsed policies per level from the root through each OU down to
  the account itself; every level must allow. None when the account is in no
  organization, the type is not enabled on the root, or the account is the management
  account (SCPs and RCPs never restrict it).
- ``org_id(gateway, account)``: aws:PrincipalOrgID / aws:ResourceOrgID.
- ``org_paths(gateway, account)``: aws:PrincipalOrgPaths, "o-.../r-.../ou-.../" (the
  path of the container the account is in).

Answers are cached per gateway until the next Organizations write: a hit is a dict
read. A write replaces the answers dict after it commits (``storage.changed``); a
computation stores into the dict it started with, so an answer computed from data a
write has since replaced lands in a discarded dict, never in the live one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cloudlet.services.organizations import storage as st

if TYPE_CHECKING:
    from cloudlet.auth.policy import Policy

_KINDS = {st.SCP: "scp", st.RCP: "rcp"}
_MISS = object()


def control_policies(gateway: Any, account: str, policy_type: str) -> "tuple[tuple[Policy, ...], ...] | None":
    key = (policy_type, account)
    answers = st.cache(gateway).answers
    hit = answers.get(key, _MISS)
    if hit is not _MISS:
        return hit  # type: ignore[return-value]
    kind = _KINDS.get(policy_type)
    if kind is None:
        raise ValueError(f"not a control policy type: {policy_type}")
    texts = _levels(gateway, account, policy_type)
    if texts is None:
        value = None
    else:
        from cloudlet.auth.policy import parse  # parsed once per text (parse caches)

        value = tuple(tuple(parse(t, kind) for t in level) for level in texts)  # type: ignore[arg-type]
    answers[key] = value
    return value


def _levels(gateway: Any, account: str, policy_type: str) -> list[list[str]] | None:
    with st.partition_tx(gateway) as tx:
        found = st.membership(tx, account)
        if found is None:
            return None
        org, member = found
        if account == org["MasterAccountId"] or policy_type not in org["PolicyTypes"]:
            return None
        levels = []
        for target in [*st.ancestry(tx, org, member["Parent"]), account]:
            level = []
            for pid in st.attachments(tx, org, target):
                p = st.policy_of(tx, org, pid)
                if p is not None and p["Type"] == policy_type:
                    level.append(p["Content"])
            levels.append(level)
        return levels


def org_id(gateway: Any, account: str) -> str | None:
    return _org_info(gateway, account)[0]


def org_paths(gateway: Any, account: str) -> str | None:
    return _org_info(gateway, account)[1]


def _org_info(gateway: Any, account: str) -> tuple[str | None, str | None]:
    key = ("", account)
    answers = st.cache(gateway).answers
    hit = answers.get(key)
    if hit is not None:
        return hit
    with st.partition_tx(gateway) as tx:
        found = st.membership(tx, account)
        if found is None:
            value: tuple[str | None, str | None] = (None, None)
        else:
            org, member = found
            value = (org["Id"], st.path_of(tx, org, member["Parent"]))
    answers[key] = value
    return value
