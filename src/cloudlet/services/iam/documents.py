"""Policy documents as IAM accepts them: validated by the engine, sized per AWS's quotas."""

from __future__ import annotations

from typing import Any

from cloudlet.services.iam import errors, model

#: inline policy quotas: the aggregate of an entity's inline policies, whitespace not counted
INLINE_QUOTA = {"user": 2048, "group": 5120, "role": 10240}
MANAGED_QUOTA = 6144
TRUST_QUOTA = 2048


def check(doc: str, kind: str = "identity") -> Any:
    """Parse `doc` as the engine does (cached by text); a bad one is MalformedPolicyDocument."""
    from cloudlet.auth.policy import PolicyError, parse

    try:
        return parse(doc, kind)  # type: ignore[arg-type]
    except PolicyError as err:
        raise errors.malformed_policy(err.message) from None


def check_inline_quota(entity_kind: str, entity_name: str, inline: dict[str, str]) -> None:
    quota = INLINE_QUOTA[entity_kind]
    if sum(model.policy_size(d) for d in inline.values()) > quota:
        raise errors.limit_exceeded(
            f"Maximum policy size of {quota} bytes exceeded for {entity_kind} {entity_name}"
        )


def check_managed_quota(doc: str) -> None:
    if model.policy_size(doc) > MANAGED_QUOTA:
        raise errors.limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_QUOTA}")


def check_trust(doc: str) -> Any:
    if model.policy_size(doc) > TRUST_QUOTA:
        raise errors.limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_QUOTA}")
    return check(doc, "trust")
