"""Role sessions: AssumeRole, AssumeRoleWithWebIdentity, AssumeRoleWithSAML.

Whether the caller may assume the role (its trust policy, the caller's policies) is
decided by the authorizer before a handler runs; a handler checks what STS itself
checks (the role exists, durations, names, tags, session policies, the identity token)
and issues credentials that work at once.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cloudlet.auth.credentials import root_arn
from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sts import issue, saml, sessions, webidentity
from cloudlet.services.sts.sessions import Session

_CHAIN_LIMIT = 3600
_DEFAULT = 3600


def assume_role(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    parent = issue.caller_session(ctx)
    kind = issue.caller_kind(ctx, parent)
    caller_arn = parent.arn if parent is not None else ctx.principal_arn
    gw = issue.gateway(ctx)
    if kind == sessions.ROOT and gw.config.enforce_iam:
        # AWS refuses root outright; without enforcement cloudlet's default keys are roots,
        # and refusing them would make every local assume-role flow need an IAM user first
        raise issue.access_denied("Roles may not be assumed by root accounts.")
    if parent is not None and parent.kind == sessions.FEDERATED_USER:
        raise issue.access_denied("Cannot call AssumeRole with federated user credentials.")  # wording unconfirmed
    role = _role(ctx, req["RoleArn"], f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {req['RoleArn']}")
    chained = parent is not None and parent.kind == sessions.ROLE_SESSION
    seconds = _duration(req, role, chained)
    mfa = parent.mfa_authenticated if parent is not None else False
    if req.get("SerialNumber") or req.get("TokenCode"):
        mfa = _check_mfa(ctx, parent.account if parent else ctx.account, req.get("SerialNumber"), req.get("TokenCode"))
    source = _source_identity(req.get("SourceIdentity"), parent)
    return _issue_role_session(
        ctx, req, role, seconds,
        parent=parent, parent_arn=caller_arn, chained=chained, mfa=mfa, source=source,
    )


def assume_role_with_web_identity(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    gw = issue.gateway(ctx)
    if req.get("ProviderId"):
        raise webidentity.invalid(
            "cloudlet accepts OpenID Connect ID tokens only; OAuth 2.0 access tokens (ProviderId) are not supported."
        )
    token = webidentity.parse(req["WebIdentityToken"])
    iss = token.issuer
    if not iss:
        raise webidentity.invalid("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
    account, partition = _role_account(req["RoleArn"])
    provider_arn = f"arn:{partition}:iam::{account}:oidc-provider/{webidentity.provider_path(iss)}"
    try:
        provider = ctx.aws("iam", account=account, principal=root_arn(account)).get_open_id_connect_provider(
            OpenIDConnectProviderArn=provider_arn
        )
    except ServiceError as err:
        if err.code == "NoSuchEntity":
            raise webidentity.invalid(f"No OpenIDConnect provider found in your account for {iss}") from None
        raise
    keys = webidentity.registered_keys(gw, iss)
    if not keys:
        raise webidentity.invalid(
            f"cloudlet has no signing keys for issuer {webidentity.normalize_issuer(iss)} (it cannot fetch them over "
            "the network): register the issuer's JWKS with POST /_cloudlet/sts/oidc-keys "
            '{"issuer": "<iss>", "jwks": {"keys": [...]}}.'
        )
    webidentity.verify_signature(token, keys)
    now = clock.time_s()
    exp = token.claims.get("exp")
    if not isinstance(exp, (int, float)):
        raise webidentity.invalid("The ID Token provided is missing the exp claim.")  # wording unconfirmed
    if now >= exp:
        raise ServiceError(
            "ExpiredTokenException",
            f"Token expired: current date/time {int(now)} must be before the expiration date/time{int(exp)}",
            400,
        )
    nbf = token.claims.get("nbf")
    if isinstance(nbf, (int, float)) and now < nbf:
        raise webidentity.invalid("The ID Token provided is not yet valid (nbf is in the future).")  # wording unconfirmed
    client_ids = provider.get("ClientIDList") or []
    audience = next((a for a in webidentity.audiences(token) if a in client_ids), None)
    if audience is None:
        raise webidentity.invalid("Incorrect token audience")
    role = _role(ctx, req["RoleArn"], "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    seconds = _duration(req, role, chained=False)
    claim_tags = token.claims.get("https://aws.amazon.com/tags")
    tags, transitive = _claim_tags(claim_tags)
    source = token.claims.get("https://aws.amazon.com/source_identity")
    out = _issue_role_session(
        ctx, {**req, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()], "TransitiveTagKeys": transitive},
        role, seconds, parent=None, parent_arn=None, chained=False, mfa=False,
        source=source if isinstance(source, str) else None,
        provider=provider_arn, subject=str(token.claims.get("sub", "")),
    )
    out["SubjectFromWebIdentityToken"] = str(token.claims.get("sub", ""))
    out["Audience"] = audience
    out["Provider"] = iss
    return out


def assume_role_with_saml(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    assertion = saml.parse(req["SAMLAssertion"])
    account, partition = _role_account(req["RoleArn"])
    provider_arn = req["PrincipalArn"]
    try:
        provider = ctx.aws("iam", account=account, principal=root_arn(account)).get_saml_provider(
            SAMLProviderArn=provider_arn
        )
    except ServiceError as err:
        if err.code in ("NoSuchEntity", "InvalidInput"):
            raise saml.invalid(f"SAML provider {provider_arn} does not exist.") from None  # wording unconfirmed
        raise
    del provider  # the signature check against its metadata is not implemented yet (report)
    if (req["RoleArn"], provider_arn) not in assertion.roles():
        raise issue.access_denied("Not authorized to perform sts:AssumeRoleWithSAML")
    now = clock.now()
    if assertion.not_on_or_after is not None and now >= assertion.not_on_or_after:
        raise ServiceError("ExpiredTokenException", "Response is expired.", 400)  # wording unconfirmed
    if assertion.not_before is not None and now < assertion.not_before:
        raise saml.invalid("Response is not yet valid.")  # wording unconfirmed
    names = assertion.attributes.get(saml.ATTR + "RoleSessionName") or []
    name = names[0] if names else ""
    if not (2 <= len(name) <= 64) or not all(c.isalnum() or c in "_+=,.@-" for c in name):
        raise saml.invalid("Invalid RoleSessionName attribute in the SAML assertion.")  # wording unconfirmed
    role = _role(ctx, req["RoleArn"], "Not authorized to perform sts:AssumeRoleWithSAML")
    limit = int(role.get("MaxSessionDuration") or _DEFAULT)
    attr_duration = (assertion.attributes.get(saml.ATTR + "SessionDuration") or [None])[0]
    if req.get("DurationSeconds") is None and attr_duration and attr_duration.isdigit():
        req = {**req, "DurationSeconds": min(int(attr_duration), limit)}
    seconds = _duration(req, role, chained=False)
    tags = {
        k[len(saml.ATTR + "PrincipalTag:"):]: (v[0] if v else "")
        for k, v in assertion.attributes.items() if k.startswith(saml.ATTR + "PrincipalTag:")
    }
    transitive = assertion.attributes.get(saml.ATTR + "TransitiveTagKeys") or []
    source = (assertion.attributes.get(saml.ATTR + "SourceIdentity") or [None])[0]
    out = _issue_role_session(
        ctx,
        {**req, "RoleSessionName": name, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
         "TransitiveTagKeys": transitive},
        role, seconds, parent=None, parent_arn=None, chained=False, mfa=False, source=source,
        provider=provider_arn, subject=assertion.subject,
    )
    provider_name = provider_arn.rsplit("/", 1)[-1]
    qualifier = base64.b64encode(
        hashlib.sha1(f"{assertion.issuer}{account}/{provider_name}".encode()).digest()
    ).decode()
    out.update(
        Subject=assertion.subject, SubjectType=assertion.subject_type, Issuer=assertion.issuer,
        Audience=assertion.audiences[0] if assertion.audiences else "", NameQualifier=qualifier,
    )
    return out


def _issue_role_session(
    ctx: Context,
    req: dict[str, Any],
    role: dict[str, Any],
    seconds: int,
    *,
    parent: Session | None,
    parent_arn: str | None,
    chained: bool,
    mfa: bool,
    source: str | None,
    provider: str | None = None,
    subject: str | None = None,
) -> dict[str, Any]:
    policy = issue.session_policy(req.get("Policy"))
    arns = issue.policy_arns(req)
    tags, transitive = issue.session_tags(req, parent)
    packed = issue.packed_size(policy, arns, tags)
    role_arn = role["Arn"]
    account, partition = _role_account(role_arn)
    name = req["RoleSessionName"]
    session = issue.new_session(
        account, seconds,
        arn=f"arn:{partition}:sts::{account}:assumed-role/{role['RoleName']}/{name}",
        kind=sessions.ROLE_SESSION,
        user_id=f"{role['RoleId']}:{name}",
        parent_arn=parent_arn,
        role_arn=role_arn,
        role_id=role["RoleId"],
        session_name=name,
        policies=None if policy is None and not arns else ((policy,) if policy else ()),
        policy_arns=arns,
        tags=tags,
        transitive_tag_keys=transitive,
        source_identity=source,
        mfa_authenticated=mfa,
        chained=chained,
        provider=provider,
        subject=subject,
    )
    sessions.save(issue.gateway(ctx), session)
    out: dict[str, Any] = {
        "Credentials": issue.credentials(session),
        "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn},
    }
    if packed is not None:
        out["PackedPolicySize"] = packed
    if source:
        out["SourceIdentity"] = source
    return out


def _role_account(role_arn: str) -> tuple[str, str]:
    """(account, partition) of a role ARN. An ARN naming no real account is a role that
    does not exist (AccessDenied from `_role`), not malformed input."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise issue.validation(f"{role_arn} is invalid")  # wording unconfirmed
    return parts[4], parts[1] or "aws"


def _role(ctx: Context, role_arn: str, denied: str) -> dict[str, Any]:
    _role_account(role_arn)
    from cloudlet.services.iam import principals

    info = principals.role_info(issue.gateway(ctx), role_arn)
    if info is None:  # AWS does not reveal whether a role exists: it answers AccessDenied
        raise issue.access_denied(denied)
    return info


def _duration(req: dict[str, Any], role: dict[str, Any], chained: bool) -> int:
    seconds = req.get("DurationSeconds")
    seconds = _DEFAULT if seconds is None else int(seconds)
    if chained and seconds > _CHAIN_LIMIT:
        raise issue.validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
    if seconds > int(role.get("MaxSessionDuration") or _DEFAULT):
        raise issue.validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return seconds


def _check_mfa(ctx: Context, account: str, serial: str | None, code: str | None) -> bool:
    if not serial or not code:
        raise issue.validation("Both SerialNumber and TokenCode must be provided for MFA.")  # wording unconfirmed
    from cloudlet.services.iam import principals

    if not principals.verify_mfa(issue.gateway(ctx), account, serial, code):
        raise issue.access_denied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    return True


def _source_identity(requested: str | None, parent: Session | None) -> str | None:
    if parent is not None and parent.source_identity:
        if requested and requested != parent.source_identity:
            raise issue.access_denied(
                "SourceIdentity cannot be changed: the calling session already has source identity "
                f"{parent.source_identity}."  # wording unconfirmed
            )
        return parent.source_identity
    if requested and requested.lower().startswith("aws:"):
        raise issue.validation("SourceIdentity cannot begin with the prefix 'aws:'.")  # wording unconfirmed
    return requested


def _claim_tags(claim: Any) -> tuple[dict[str, str], list[str]]:
    """Session tags an IdP passes in the ``https://aws.amazon.com/tags`` claim."""
    if not isinstance(claim, dict):
        return {}, []
    tags: dict[str, str] = {}
    for key, value in (claim.get("principal_tags") or {}).items():
        if isinstance(value, list):
            value = value[0] if value else ""
        tags[str(key)] = str(value)
    transitive = [str(k) for k in claim.get("transitive_tag_keys") or []]
    return tags, transitive

