"""What every credential-issuing operation shares: who is calling, parameter checks as
STS makes them, the packed size of session policies and tags, and the answer's
``Credentials``. Not a handler module (helpers live here so handler modules hold only
operations)."""

from __future__ import annotations

import datetime as dt
import json
import math
import zlib
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sts import sessions
from cloudlet.services.sts.sessions import Session

#: the plaintext limit AWS documents for inline + managed session policies together
SESSION_POLICY_PLAINTEXT = 2048
MAX_POLICY_ARNS = 10
#: the packed (compressed) budget PackedPolicySize is a percentage of; AWS does not publish
#: its own, this one makes ~2 KB of typical policy or ~50 short tags fit
PACKED_BUDGET = 2048


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message, 403)


def gateway(ctx: Context) -> Any:
    if ctx.gateway is None:
        raise RuntimeError("STS needs the gateway (its sessions live in the store)")
    return ctx.gateway


def caller_session(ctx: Context) -> Session | None:
    """The session the caller signed with, if its key is temporary credentials."""
    key = ctx.access_key
    if not key or not key.startswith("ASIA"):
        return None
    return sessions.session_info(gateway(ctx), key)


def caller_kind(ctx: Context, session: Session | None) -> str:
    if session is not None:
        return session.kind
    arn = ctx.principal_arn
    if arn.endswith(":root"):
        return sessions.ROOT
    if ":user/" in arn:
        return sessions.USER
    if ":assumed-role/" in arn:
        return sessions.ROLE_SESSION
    if ":federated-user/" in arn:
        return sessions.FEDERATED_USER
    return "other"


def user_id_of(ctx: Context, account: str, arn: str) -> str | None:
    """The AIDA… id of an IAM user, from IAM (None if IAM cannot tell)."""
    try:
        from cloudlet.services.iam import principals
    except ImportError:  # IAM not present: the caller falls back
        return None
    try:
        found = principals.identity_policies(gateway(ctx), account, arn)
    except Exception:  # noqa: BLE001 - an unknown user: IAM's own answer is "no such user"
        return None
    return getattr(found, "user_id", None) if found is not None else None


def session_policy(text: str | None) -> str | None:
    """Validate an inline session policy as STS does; returns the text to keep."""
    if text is None:
        return None
    if len(text) > SESSION_POLICY_PLAINTEXT:
        raise validation(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            f"Member must have length less than or equal to {SESSION_POLICY_PLAINTEXT}"
        )
    from cloudlet.auth.policy import PolicyError, parse

    try:
        parse(text, "session")
    except PolicyError as err:
        raise ServiceError("MalformedPolicyDocument", err.message, 400) from None
    return text


def policy_arns(req: dict[str, Any]) -> tuple[str, ...]:
    items = req.get("PolicyArns") or []
    if len(items) > MAX_POLICY_ARNS:
        raise validation(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_POLICY_ARNS}"
        )
    arns = tuple(p["arn"] for p in items if p.get("arn"))
    for arn in arns:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("policy/"):
            raise validation(f"The policy ARN {arn} is invalid.")  # wording unconfirmed
    return arns


def session_tags(
    req: dict[str, Any], parent: Session | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Tags and transitive keys of a new session: the request's plus the parent's
    transitive ones (role chaining), which the request may not overwrite."""
    tags: dict[str, str] = {}
    seen: dict[str, str] = {}
    for tag in req.get("Tags") or []:
        low = tag["Key"].lower()
        if low in seen:
            raise validation("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        seen[low] = tag["Key"]
        tags[tag["Key"]] = tag.get("Value", "")
    transitive = list(req.get("TransitiveTagKeys") or [])
    for key in transitive:
        if key.lower() not in seen:
            raise validation(f"TransitiveTagKeys {key} must be a subset of the session tags.")  # wording unconfirmed
    if parent is not None:
        for key in parent.transitive_tag_keys:
            if key.lower() in seen:
                raise access_denied(
                    f"Transitive tag key {key} of the calling session cannot be overwritten."  # wording unconfirmed
                )
            tags[key] = parent.tags.get(key, "")
            transitive.append(key)
    return tags, tuple(dict.fromkeys(transitive))


def packed_size(policy: str | None, arns: tuple[str, ...], tags: dict[str, str]) -> int | None:
    """PackedPolicySize: the percentage of the packed budget policies and tags use;
    PackedPolicyTooLarge past 100 %. None when there is nothing to pack."""
    if policy is None and not arns and not tags:
        return None
    compact = json.dumps(json.loads(policy), separators=(",", ":")) if policy else ""
    blob = "\x00".join([compact, *arns, *(f"{k}={v}" for k, v in sorted(tags.items()))]).encode()
    size = math.ceil(len(zlib.compress(blob, 9)) * 100 / PACKED_BUDGET)
    if size > 100:
        raise ServiceError(
            "PackedPolicyTooLarge",
            f"Packed policy consumes {size}% of allotted space, please use smaller policy.",
            400,
        )
    return size


def duration(req: dict[str, Any], default: int, maximum: int, message: str) -> int:
    seconds = req.get("DurationSeconds")
    seconds = default if seconds is None else int(seconds)
    if seconds > maximum:
        raise validation(message)
    return seconds


def new_session(account: str, seconds: int, **fields: Any) -> Session:
    key = sessions.new_key_id("ASIA", account)
    now = clock.time_s()
    return Session(
        access_key=key,
        secret_key=sessions.new_secret(),
        session_token=sessions.new_session_token(key),
        account=account,
        issued=now,
        expires=float(int(now) + seconds),  # whole seconds: Expiration is exact
        **fields,
    )


def credentials(session: Session) -> dict[str, Any]:
    return {
        "AccessKeyId": session.access_key,
        "SecretAccessKey": session.secret_key,
        "SessionToken": session.session_token,
        "Expiration": dt.datetime.fromtimestamp(int(session.expires), dt.timezone.utc),
    }


def partition_of(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 and parts[1] else "aws"
