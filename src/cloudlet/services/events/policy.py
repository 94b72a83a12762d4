"""Event bus resource policies: the statements PutPermission writes, and whether a policy
lets another account put events on the bus. Pure.

Evaluation is the resource-policy half of IAM, kept to what bus policies use: Allow and
Deny (Deny wins), ``Principal`` as ``*``, an account id, an account root or a principal
ARN, ``Action`` with wildcards, ``Resource`` with wildcards, and conditions on
``aws:PrincipalAccount``/``aws:PrincipalArn`` (StringEquals/StringLike). A condition on
a key cloudlet does not know (``aws:PrincipalOrgID``: there are no organizations yet)
does not match, so such a statement grants nothing, as for a caller outside the org.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any


def statement(sid: str, principal: str, bus_arn: str, partition: str, condition: dict[str, str] | None) -> dict[str, Any]:
    """A PutPermission statement as AWS writes it into the policy."""
    who: Any = "*" if principal == "*" else {"AWS": f"arn:{partition}:iam::{principal}:root"}
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": who, "Action": "events:PutEvents", "Resource": bus_arn}
    if condition:
        out["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    return out


def load(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def statements(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not doc:
        return []
    found = doc.get("Statement") or []
    found = [found] if isinstance(found, dict) else found
    return [s for s in found if isinstance(s, dict)]


def allows(text: str | None, account: str, principal_arn: str, action: str, resource: str) -> bool:
    """True when the policy allows `account` (calling as `principal_arn`) `action` on `resource`."""
    allowed = False
    facts = {"aws:principalaccount": account, "aws:principalarn": principal_arn}
    for s in statements(load(text)):
        if not (_principal(s.get("Principal"), account, principal_arn) and _matches(s.get("Action"), action)
                and _matches(s.get("Resource"), resource, case=True) and _conditions(s.get("Condition"), facts)):
            continue
        if s.get("Effect") == "Deny":
            return False
        if s.get("Effect") == "Allow":
            allowed = True
    return allowed


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _principal(value: Any, account: str, arn: str) -> bool:
    if value == "*":
        return True
    if not isinstance(value, dict):
        return False
    for who in _listed(value.get("AWS")):
        if who == "*" or who == account or who == arn or who.endswith(f":iam::{account}:root"):
            return True
    return False


def _matches(value: Any, wanted: str, case: bool = False) -> bool:
    for pattern in _listed(value):
        if case and fnmatch.fnmatchcase(wanted, pattern):
            return True
        if not case and fnmatch.fnmatchcase(wanted.lower(), pattern.lower()):
            return True
    return False


def _conditions(value: Any, facts: dict[str, str]) -> bool:
    if not value:
        return True
    if not isinstance(value, dict):
        return False
    for op, tests in value.items():
        if not isinstance(tests, dict):
            return False
        for key, wanted in tests.items():
            have = facts.get(key.lower())
            if have is None:
                return False
            if op == "StringEquals" and have not in _listed(wanted):
                return False
            if op == "StringLike" and not any(fnmatch.fnmatchcase(have, w) for w in _listed(wanted)):
                return False
            if op not in ("StringEquals", "StringLike"):
                return False
    return True
