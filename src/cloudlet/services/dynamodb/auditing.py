"""What the audit trail keeps of a DynamoDB request: CloudTrail logs no non-key attribute
values of the classic API (an item is logged as its attribute names) and redacts them in
PartiQL, so cloudlet keeps neither. Besides matching CloudTrail, it keeps items out of
the in-memory audit ring (a PutItem's item was its largest retained object)."""

from __future__ import annotations

from typing import Any

# members whose values are item data: kept as the attribute (or placeholder) names
_NAMES_ONLY = ("Item", "ExpressionAttributeValues", "AttributeUpdates", "Expected")


def _redacted(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k in _NAMES_ONLY and isinstance(v, dict):
            out[k] = list(v)
        elif k == "Parameters":  # PartiQL statement parameters: values only
            out[k] = ["HIDDEN_DUE_TO_SECURITY_REASONS"] * len(v)
        elif k == "RequestItems" and isinstance(v, dict):  # BatchWriteItem / BatchGetItem
            out[k] = {t: [_nested(w) for w in ws] if isinstance(ws, list) else ws for t, ws in v.items()}
        elif k in ("TransactItems", "Statements") and isinstance(v, list):
            out[k] = [_nested(x) for x in v]
        else:
            out[k] = v
    return out


def _nested(entry: Any) -> Any:
    """One write of a batch or transaction: {"PutRequest": {...}} / {"Put": {...}} / a statement."""
    if not isinstance(entry, dict):
        return entry
    return {k: _redacted(v) if isinstance(v, dict) else v for k, v in _redacted(entry).items()}


_DATA_OPERATIONS = frozenset({
    "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
    "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction", "Query", "Scan",
})


Audited = tuple[dict[str, Any] | None, dict[str, Any] | None]


def audited(operation: str, params: dict[str, Any] | None, output: dict[str, Any] | None) -> Audited:
    """The request parameters and response elements as the audit trail keeps them: a data
    operation's answer (old or new items) is not kept at all."""
    if operation not in _DATA_OPERATIONS:
        return params, output
    return (None if params is None else _redacted(params)), None
