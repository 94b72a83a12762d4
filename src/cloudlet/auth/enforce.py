"""IAM enforcement (`cloudlet serve --enforce-iam`): every call, internal ones included, is
put to the policy engine (``auth/policy``) with the policies that apply to it.

What is gathered for one call:
- the principal, from the access key: an account root, an IAM user (IAM's store), a role
  session or federated user (STS's store), a service principal on an internal call, or
  anonymous (an unsigned S3 request);
- its identity policies and permissions boundary (IAM), its session policies (STS), the
  SCPs of its account and the RCPs of the resource's account (Organizations);
- the resource's policy, from the resource's service (``resource_policy`` in its package:
  bucket, queue and topic policies; a role's trust policy for ``sts:AssumeRole*``);
- the condition keys: the global ones every request carries, the principal's (tags, org,
  MFA), and the service's own (``condition_keys(ctx, operation, params)`` in its package).

The IAM, STS and Organizations packages answer through small lookup modules
(``iam.principals``, ``sts.sessions``, ``organizations.scps``) rather than through their
operations: this runs on every request and must cost a few dict reads once warm.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping

from cloudlet.auth.authorizer import AuthzRequest
from cloudlet.auth.credentials import root_arn
from cloudlet.auth.policy import Decision, Policy, PolicySet, Principal, Request, evaluate, parse
from cloudlet.core.arns import parse_arn
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.model import load_service
from cloudlet.services import registry

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway

from cloudlet.auth.authenticate import ANONYMOUS_ARN as ANONYMOUS

# How AWS's messages name each refusal (IAM User Guide, "Troubleshoot access denied error messages").
_BECAUSE = {
    "explicit-deny-identity": "with an explicit deny in an identity-based policy",
    "explicit-deny-resource": "with an explicit deny in a resource-based policy",
    "explicit-deny-scp": "with an explicit deny in a service control policy",
    "explicit-deny-rcp": "with an explicit deny in a resource control policy",
    "explicit-deny-boundary": "with an explicit deny in a permissions boundary",
    "explicit-deny-session": "with an explicit deny in a session policy",
    "no-identity-allow": "because no identity-based policy allows the {action} action",
    "no-resource-allow": "because no resource-based policy allows the {action} action",
    "no-scp-allow": "because no service control policy allows the {action} action",
    "no-rcp-allow": "because no resource control policy allows the {action} action",
    "no-boundary-allow": "because no permissions boundary allows the {action} action",
    "no-session-allow": "because no session policy allows the {action} action",
}


# AWS requires no permission for this, and an explicit deny cannot take it away (STS API reference)
_UNCHECKED = ("sts:GetCallerIdentity",)


@dataclass(slots=True)
class Counters:
    """What health reports: calls authorized and refused since the server started."""

    allowed: int = 0
    denied: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, allowed: bool) -> None:
        with self.lock:
            if allowed:
                self.allowed += 1
            else:
                self.denied += 1


@dataclass(frozen=True, slots=True)
class Subject:
    """Everything about a caller that does not depend on the call."""

    principal: Principal
    identity: tuple[Policy, ...]
    boundary: Policy | None
    session: tuple[Policy, ...] | None
    keys: Mapping[str, Any]  # the principal's condition keys (tags, org, MFA, user name)


class IamAuthorizer:
    """The engine behind ``Gateway._authorize`` when enforcement is on."""

    def __init__(self, gateway: "Gateway") -> None:
        self.gateway = gateway
        self.counters = Counters()

    # the hook -----------------------------------------------------------------------------
    def authorize(self, req: AuthzRequest) -> None:
        if req.actions == _UNCHECKED:
            return
        subject = self.subject(req)
        if subject is None:  # a service acting on its own, where AWS does not ask IAM
            return
        for action in req.actions:
            for resource in req.resources:
                decision = self.decide(req, subject, action, resource)
                if not decision.allowed:
                    self.counters.count(False)
                    raise access_denied(req, subject.principal, action, resource, decision)
        self.counters.count(True)

    def decide(self, req: AuthzRequest, subject: Subject, action: str, resource: str) -> Decision:
        principal = subject.principal
        owner, resource_policy = self._resource_policy(req, action, resource)
        if principal.kind == "service" and resource_policy is None:
            # a service principal is checked against the resource's policy only; with none
            # the call is the service's own business (Organizations creating a role)
            return Decision(True, "allowed")
        resource_account = owner or _arn_account(resource) or req.account
        context = dict(req.conditions)
        context.update(subject.keys)
        context.update(req.service_keys)
        policies = PolicySet(
            identity=subject.identity,
            resource=resource_policy,
            resource_account=resource_account,
            boundary=subject.boundary,
            session=subject.session,
            scps=_scps(self.gateway, principal),
            rcps=_rcps(self.gateway, resource_account, principal),
        )
        return evaluate(Request(principal, action, resource, context), policies)

    # who is calling -------------------------------------------------------------------------
    def subject(self, req: AuthzRequest) -> Subject | None:
        arn = req.principal_arn
        if arn.endswith(".amazonaws.com"):
            return Subject(Principal(arn, "", "service"), (), None, None, {"aws:PrincipalServiceName": arn})
        if arn == ANONYMOUS:
            return Subject(Principal("*", "", "anonymous"), (), None, None, {})
        account = req.principal_account or req.account
        if req.access_key.startswith("ASIA"):
            from cloudlet.services.sts import sessions

            info = sessions.session_info(self.gateway, req.access_key)
            if info is not None:
                return self._session_subject(info)
        if arn.endswith(":root"):
            return self._root(account, {})
        return self._user(account, arn, {})

    def _root(self, account: str, keys: dict[str, Any]) -> Subject:
        keys.update({"aws:PrincipalType": "Account", "aws:userid": account})
        return Subject(Principal(root_arn(account), account, "root", user_id=account), (), None, None,
                       self._org_keys(account, keys))

    def _user(self, account: str, arn: str, keys: dict[str, Any]) -> Subject:
        from cloudlet.services.iam import principals

        found = principals.identity_policies(self.gateway, account, arn)
        if found is None:  # a user deleted while its key was cached: nothing allows it anything
            return Subject(Principal(arn, account, "user"), (), None, None, self._org_keys(account, keys))
        keys.update({"aws:PrincipalType": "User", "aws:username": found.username or "",
                     "aws:userid": found.user_id or ""})
        _tag_keys(keys, found.tags)
        principal = Principal(arn, account, "user", user_id=found.user_id, username=found.username)
        return Subject(principal, tuple(found.policies), found.boundary, None, self._org_keys(account, keys))

    def _session_subject(self, info: Any) -> Subject:
        """A role session, a federated user, or a GetSessionToken session of a user or root."""
        from cloudlet.services.iam import principals

        account = info.account
        keys: dict[str, Any] = {
            "aws:MultiFactorAuthPresent": bool(info.mfa_authenticated),
            "aws:TokenIssueTime": _iso(info.issued),
        }
        if info.mfa_authenticated:
            from cloudlet.core import clock

            keys["aws:MultiFactorAuthAge"] = int(clock.time_s() - info.issued)
        if info.source_identity:
            keys["aws:SourceIdentity"] = info.source_identity
        session = None
        if info.policies is not None:
            session = tuple([parse(text, "session") for text in info.policies]
                            + _managed(self.gateway, account, info.policy_arns))
        if info.kind == "root":
            base = self._root(account, keys)
            return Subject(base.principal, (), None, session, base.keys)
        if info.kind == "user":
            base = self._user(account, info.arn, keys)
            return Subject(base.principal, base.identity, base.boundary, session, base.keys)
        if info.kind == "federated-user":
            parent = info.parent_arn or root_arn(account)
            if parent.endswith(":root"):  # the root's federation: only the session policy limits it
                identity: tuple[Policy, ...] = (_ALLOW_ALL,)
                boundary = None
            else:
                found = principals.identity_policies(self.gateway, account, parent)
                identity = tuple(found.policies) if found else ()
                boundary = found.boundary if found else None
            keys.update({"aws:PrincipalType": "FederatedUser", "aws:userid": info.user_id})
            principal = Principal(info.arn, account, "federated-user", user_id=info.user_id)
            return Subject(principal, identity, boundary, session if session is not None else (),
                           self._org_keys(account, keys))
        found = principals.identity_policies(self.gateway, account, info.role_arn) if info.role_arn else None
        tags = dict(found.tags) if found else {}
        tags.update(info.tags)  # session tags win over the role's own
        keys.update({"aws:PrincipalType": "AssumedRole", "aws:userid": info.user_id})
        _tag_keys(keys, tags)
        principal = Principal(info.arn, account, "role-session", role_arn=info.role_arn, user_id=info.user_id)
        return Subject(principal, tuple(found.policies) if found else (), found.boundary if found else None,
                       session, self._org_keys(account, keys))

    def _org_keys(self, account: str, keys: dict[str, Any]) -> dict[str, Any]:
        from cloudlet.services.organizations import scps

        keys["aws:PrincipalAccount"] = account
        org = scps.org_id(self.gateway, account)
        if org is not None:
            keys["aws:PrincipalOrgID"] = org
            paths = scps.org_paths(self.gateway, account)
            if paths:
                keys["aws:PrincipalOrgPaths"] = [paths]
        return keys

    # the resource ---------------------------------------------------------------------------
    def _resource_policy(self, req: AuthzRequest, action: str, resource: str) -> tuple[str | None, Policy | None]:
        if action.lower().startswith("sts:assumerole"):
            from cloudlet.services.iam import principals

            found = principals.trust_policy(self.gateway, resource)
            return (found[0], found[1]) if found else (None, None)
        hook = _policy_hook(req.service)
        if hook is None or resource == "*":
            return None, None
        found = hook(self.gateway, req.region, resource)
        if found is None:
            return None, None
        owner, text = found
        return owner, (parse(text, "resource") if text else None)


_ALLOW_ALL = parse('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
                   "identity")


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag_keys(keys: dict[str, Any], tags: Mapping[str, str]) -> None:
    for k, v in tags.items():
        keys[f"aws:PrincipalTag/{k}"] = v


def _managed(gateway: "Gateway", account: str, arns: tuple[str, ...]) -> list[Policy]:
    from cloudlet.services.iam import principals

    out = []
    for arn in arns:
        policy = principals.managed_policy(gateway, account, arn)
        if policy is not None:
            out.append(policy)
    return out


def _scps(gateway: "Gateway", principal: Principal) -> Any:
    if principal.kind in ("service", "anonymous") or not principal.account:
        return None
    from cloudlet.services.organizations import scps

    return scps.control_policies(gateway, principal.account, "SERVICE_CONTROL_POLICY")


def _rcps(gateway: "Gateway", resource_account: str, principal: Principal) -> Any:
    if principal.kind == "service" or not resource_account:
        return None
    from cloudlet.services.organizations import scps

    return scps.control_policies(gateway, resource_account, "RESOURCE_CONTROL_POLICY")


def _arn_account(resource: str) -> str | None:
    arn = parse_arn(resource) if resource.startswith("arn:") else None
    return arn.account if arn is not None and arn.account else None


@lru_cache(maxsize=None)
def _policy_hook(service: str) -> Callable[..., tuple[str, str | None] | None] | None:
    pkg = registry.package(service)
    return getattr(pkg, "resource_policy", None) if pkg is not None else None


# the refusal ----------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _denied_shape(service: str) -> tuple[str, int]:
    """Each service's AccessDenied: its code and status as its SDKs see them."""
    if service == "sns":
        return "AuthorizationError", 403
    if service == "ec2":
        return "UnauthorizedOperation", 403
    protocol = load_service(service).protocol
    if protocol in ("rest-xml", "query") or service in ("sqs",):
        return "AccessDenied", 403
    return "AccessDeniedException", 400 if service in ("dynamodb",) else 403


def access_denied(req: AuthzRequest, principal: Principal, action: str, resource: str,
                  decision: Decision) -> ServiceError:
    """AWS's current wording: who, what, on which resource, and which kind of policy said no."""
    code, status = _denied_shape(req.service)
    who = "Anonymous" if principal.kind == "anonymous" else principal.arn
    on = f'"{resource}"' if req.service == "s3" else resource
    because = _BECAUSE.get(decision.reason, "because no identity-based policy allows the {action} action")
    message = f"User: {who} is not authorized to perform: {action} on resource: {on} {because.format(action=action)}"
    if principal.kind == "anonymous" and req.service == "s3":
        message = "Access Denied"  # S3 gives anonymous callers no detail
    if code == "UnauthorizedOperation":
        from cloudlet.services.sts.authmessages import encode_authorization_message

        token = encode_authorization_message({
            "allowed": False, "explicitDeny": decision.reason.startswith("explicit"),
            "context": {"principal": {"arn": principal.arn}, "action": action, "resource": resource}})
        message = f"You are not authorized to perform this operation. Encoded authorization failure message: {token}"
    return ServiceError(code, message, status)
