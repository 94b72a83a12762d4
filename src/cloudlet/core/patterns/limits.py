"""SNS limits, counted on the parsed policy."""

from __future__ import annotations

from typing import Any

from cloudlet.core.patterns.common import MESSAGE_ATTRIBUTES, SNS_MAX_COMBINATIONS, SNS_MAX_KEYS, _Invalid

# ------------------------------------------------------------------------------------------
# SNS limits, counted on the parsed policy
# ------------------------------------------------------------------------------------------


def _sns_limits(policy: Any, scope: str) -> None:
    if not isinstance(policy, dict):
        return
    if len(policy) > SNS_MAX_KEYS:
        raise _Invalid(f"Filter policy can not have more than {SNS_MAX_KEYS} keys")
    if scope == MESSAGE_ATTRIBUTES and _nested(policy):
        raise _Invalid("Filter policy scope MessageAttributes does not support nested filter policy", "scope")
    if _combinations(policy, 1) > SNS_MAX_COMBINATIONS:
        raise _Invalid("Filter policy is too complex")


def _nested(obj: dict[str, Any]) -> bool:
    for key, value in obj.items():
        if isinstance(value, dict):
            return True
        if key == "$or" and isinstance(value, list):
            if any(isinstance(b, dict) and _nested(b) for b in value):
                return True
    return False


def _combinations(obj: dict[str, Any], depth: int) -> int:
    """SNS's count: values x depth per key, multiplied; $or branches add up."""
    total = 1
    for key, value in obj.items():
        if key == "$or" and isinstance(value, list):
            total *= sum(_combinations(b, depth) for b in value if isinstance(b, dict)) or 1
        elif isinstance(value, dict):
            total *= _combinations(value, depth + 1)
        elif isinstance(value, list):
            total *= len(value) * depth or 1
    return total


