"""AWS's policy evaluation logic (IAM UG, "Policy evaluation logic", "Cross-account policy
evaluation logic", "Permissions boundaries for IAM entities", "Session policies").

1. An explicit Deny in any applicable policy (SCP, RCP, resource, identity, boundary, session)
   denies.
2. Every SCP level (root → OUs → account) must allow; so must every RCP level.
3. Same account: an allow from the resource policy that names the caller's own ARN (user,
   role session, federated user; or everyone) is enough and is not capped by boundaries or
   session policies. An allow naming the role ARN counts in place of an identity allow but
   stays capped by the boundary and session policies. An allow naming only the account
   delegates: the identity policies must allow.
4. Cross account: the resource policy must allow AND the identity side must allow.
5. The identity side is identity policies ∩ permissions boundary ∩ session policies.
Root users have no identity side to check; service principals and anonymous callers are
decided by the resource policy (and RCPs for anonymous callers).
"""

from __future__ import annotations

from typing import Any

from cloudlet.auth.policy.compile import (
    NAMED_DIRECT,
    NAMED_NONE,
    NAMED_ROLE,
    Policy,
    Statement,
)
from cloudlet.auth.policy.model import Decision, PolicySet, Principal, Request

_PRINCIPAL_TYPE = {
    "root": "Account",
    "user": "User",
    "role-session": "AssumedRole",
    "federated-user": "FederatedUser",
    "anonymous": "Anonymous",
}


def _fallback(p: Principal, key: str) -> Any:
    """Global condition keys AWS derives from the principal, when the caller did not set them."""
    kind = p.kind
    if key == "aws:username":
        return p.username if kind == "user" else None
    if key == "aws:userid":
        if p.user_id is not None:
            return p.user_id
        return p.account if kind == "root" else ("anonymous" if kind == "anonymous" else None)
    if key == "aws:principalarn":
        if kind in ("service", "anonymous"):
            return None
        return p.role_arn if kind == "role-session" and p.role_arn else p.arn
    if key == "aws:principalaccount":
        return p.account or None
    if key == "aws:principaltype":
        return _PRINCIPAL_TYPE.get(kind)
    if key == "aws:principalisawsservice":
        return kind == "service"
    if key == "aws:principalservicename":
        return p.arn if kind == "service" else None
    return None


class _Lookup:
    """Case-insensitive access to the request context; lower-cases it once, on first use."""

    __slots__ = ("_req", "_ctx")

    def __init__(self, req: Request) -> None:
        self._req = req
        self._ctx: dict[str, Any] | None = None

    def __call__(self, key_l: str) -> Any:
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = {k.lower(): v for k, v in self._req.context.items()}
        v = ctx.get(key_l)
        if v is None and key_l.startswith("aws:"):
            v = _fallback(self._req.principal, key_l)
        return v


def _excluded(st: Statement, p: Principal) -> bool:
    """NotPrincipal: is the caller among the listed principals? AWS checks every identity of
    the caller (session, role, account), so all of them must be listed (IAM UG, NotPrincipal:
    'specify the account ARN of the not-denied principal')."""
    m = st.principal
    assert m is not None
    if m.anyone:
        return True
    kind = p.kind
    if kind == "service":
        return p.arn.lower() in m.services
    if kind == "anonymous":
        return False
    if kind == "root":
        return p.account in m.accounts
    if p.account not in m.accounts:
        return False
    if p.arn not in m.arns and p.arn not in m.federated:
        return False
    if kind == "role-session" and p.role_arn is not None and p.role_arn not in m.arns:
        return False
    return True


def _scan(policy: Policy, action_l: str, req: Request, look: _Lookup,
          with_principal: bool, boundary_attached: bool = False, denies_only: bool = False) -> tuple[bool, int]:
    """(explicit deny?, strongest way an Allow statement names the caller). `denies_only`
    once an allow is known: only a Deny can still change the answer."""
    allow = NAMED_NONE
    p = req.principal
    for st in policy.for_action(action_l):
        if denies_only and st.allow:
            continue
        how = NAMED_DIRECT
        if with_principal:
            if st.not_principal:
                # AWS: a Deny with NotPrincipal always applies to an IAM principal that has a
                # permissions boundary (IAM UG, "Permissions boundaries", Important note).
                if not (boundary_attached and not st.allow) and _excluded(st, p):
                    continue
            else:
                how = st.principal.how(p)  # type: ignore[union-attr]
                if how == NAMED_NONE:
                    continue
        if st.resources is not None and not st.resource_matches(req.resource, look):
            continue
        if st.conditions and not st.conditions_hold(look):
            continue
        if not st.allow:
            return True, allow
        if how > allow:
            allow = how
    return False, allow


def _levels(levels: Any, action_l: str, req: Request, look: _Lookup,
            with_principal: bool) -> tuple[bool, bool]:
    """SCP / RCP levels: (explicit deny?, every level allows?)."""
    every = True
    for level in levels:
        level_allows = False
        for pol in level:
            d, a = _scan(pol, action_l, req, look, with_principal)
            if d:
                return True, False
            if a:
                level_allows = True
        if not level_allows:
            every = False
    return False, every


def _any(policies: Any, action_l: str, req: Request, look: _Lookup) -> tuple[bool, bool]:
    allowed = False
    for pol in policies:
        d, a = _scan(pol, action_l, req, look, False, denies_only=allowed)
        if d:
            return True, False
        if a:
            allowed = True
    return False, allowed


_DENY = {r: Decision(False, r) for r in (
    "explicit-deny-identity", "explicit-deny-resource", "explicit-deny-scp", "explicit-deny-rcp",
    "explicit-deny-boundary", "explicit-deny-session", "no-identity-allow", "no-resource-allow",
    "no-scp-allow", "no-rcp-allow", "no-boundary-allow", "no-session-allow")}
_ALLOW = Decision(True, "allowed")


def evaluate(req: Request, policies: PolicySet) -> Decision:
    p = req.principal
    kind = p.kind
    action_l = req.action.lower()
    look = _Lookup(req)
    external = kind in ("service", "anonymous")

    # 1. explicit denies anywhere; the implicit outcomes are decided after all of them.
    scp_ok = rcp_ok = True
    if policies.scps is not None and not external:
        d, scp_ok = _levels(policies.scps, action_l, req, look, False)
        if d:
            return _DENY["explicit-deny-scp"]
    if policies.rcps is not None and kind != "service":
        d, rcp_ok = _levels(policies.rcps, action_l, req, look, True)
        if d:
            return _DENY["explicit-deny-rcp"]
    res_allow = NAMED_NONE
    iam = kind in ("user", "role-session", "federated-user")
    boundary_attached = iam and policies.boundary is not None
    if policies.resource is not None:
        d, res_allow = _scan(policies.resource, action_l, req, look, True, boundary_attached)
        if d:
            return _DENY["explicit-deny-resource"]
    id_allow = b_allow = s_allow = False
    if iam:
        d, id_allow = _any(policies.identity, action_l, req, look)
        if d:
            return _DENY["explicit-deny-identity"]
        if policies.boundary is not None:
            d, b_allow = _any((policies.boundary,), action_l, req, look)
            if d:
                return _DENY["explicit-deny-boundary"]
        if policies.session is not None:
            d, s_allow = _any(policies.session, action_l, req, look)
            if d:
                return _DENY["explicit-deny-session"]

    # 2. organization guardrails
    if not scp_ok:
        return _DENY["no-scp-allow"]
    if not rcp_ok:
        return _DENY["no-rcp-allow"]

    # 3. allows
    if external:
        return _ALLOW if res_allow else _DENY["no-resource-allow"]
    same = policies.resource_account is None or policies.resource_account == p.account
    if kind == "root":
        return _ALLOW if same or res_allow else _DENY["no-resource-allow"]
    if same:
        if res_allow == NAMED_DIRECT:
            return _ALLOW
        if not (id_allow or res_allow == NAMED_ROLE):
            return _DENY["no-identity-allow"]
    else:
        if not res_allow:
            return _DENY["no-resource-allow"]
        if not id_allow:
            return _DENY["no-identity-allow"]
    if policies.boundary is not None and not b_allow:
        return _DENY["no-boundary-allow"]
    if policies.session is not None and not s_allow:
        return _DENY["no-session-allow"]
    return _ALLOW


def is_allowed_by(policy: Policy, req: Request) -> str:
    """"Allow" | "Deny" | "NotApplicable" for one policy on its own (the Simulate* APIs)."""
    with_principal = policy.kind in ("resource", "trust", "rcp")
    d, a = _scan(policy, req.action.lower(), req, _Lookup(req), with_principal)
    if d:
        return "Deny"
    return "Allow" if a else "NotApplicable"
