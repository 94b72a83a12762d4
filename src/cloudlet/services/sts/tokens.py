"""Credentials for a long-term identity: GetSessionToken (the caller itself, optionally
MFA-authenticated) and GetFederationToken (a federated user capped by a session policy)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.sts import issue, sessions

_DEFAULT = 43200
_ROOT_MAX = 3600  # root sessions are limited to one hour (AWS documents it for both)
_MAX = 129600


def get_session_token(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    parent = issue.caller_session(ctx)
    kind = issue.caller_kind(ctx, parent)
    if parent is not None or kind not in (sessions.ROOT, sessions.USER):
        raise issue.access_denied("Cannot call GetSessionToken with session credentials")
    seconds = _duration(req, kind)
    mfa = False
    if req.get("SerialNumber") or req.get("TokenCode"):
        if not req.get("SerialNumber") or not req.get("TokenCode"):
            raise issue.validation("Both SerialNumber and TokenCode must be provided for MFA.")  # wording unconfirmed
        from cloudlet.services.iam import principals

        if not principals.verify_mfa(issue.gateway(ctx), ctx.account, req["SerialNumber"], req["TokenCode"]):
            raise issue.access_denied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
        mfa = True
    arn = ctx.principal_arn
    user_name = arn.rsplit("/", 1)[-1] if kind == sessions.USER else None
    user_id = ctx.account if kind == sessions.ROOT else (issue.user_id_of(ctx, ctx.account, arn) or ctx.access_key)
    session = issue.new_session(
        ctx.account, seconds, arn=arn, kind=kind, user_id=user_id, parent_arn=arn,
        user_name=user_name, mfa_authenticated=mfa,
    )
    sessions.save(issue.gateway(ctx), session)
    return {"Credentials": issue.credentials(session)}


def get_federation_token(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    parent = issue.caller_session(ctx)
    kind = issue.caller_kind(ctx, parent)
    if parent is not None or kind not in (sessions.ROOT, sessions.USER):
        raise issue.access_denied("Cannot call GetFederationToken with session credentials")
    seconds = _duration(req, kind)
    policy = issue.session_policy(req.get("Policy"))
    arns = issue.policy_arns(req)
    tags, _ = issue.session_tags({"Tags": req.get("Tags")}, None)
    packed = issue.packed_size(policy, arns, tags)
    name = req["Name"]
    partition = issue.partition_of(ctx.principal_arn)
    arn = ctx.principal_arn
    session = issue.new_session(
        ctx.account, seconds,
        arn=f"arn:{partition}:sts::{ctx.account}:federated-user/{name}",
        kind=sessions.FEDERATED_USER,
        user_id=f"{ctx.account}:{name}",
        parent_arn=arn,
        session_name=name,
        user_name=arn.rsplit("/", 1)[-1] if kind == sessions.USER else None,
        # a federated user may do only what a session policy allows: none passed, nothing allowed
        policies=(policy,) if policy else (),
        policy_arns=arns,
        tags=tags,
    )
    sessions.save(issue.gateway(ctx), session)
    out: dict[str, Any] = {
        "Credentials": issue.credentials(session),
        "FederatedUser": {"FederatedUserId": session.user_id, "Arn": session.arn},
    }
    if packed is not None:
        out["PackedPolicySize"] = packed
    return out


def _duration(req: dict[str, Any], kind: str) -> int:
    seconds = req.get("DurationSeconds")
    if kind == sessions.ROOT:
        # AWS: a root user's session lasts at most an hour; a longer request is cut to it
        return min(_ROOT_MAX, _DEFAULT if seconds is None else int(seconds))
    return _DEFAULT if seconds is None else min(int(seconds), _MAX)
