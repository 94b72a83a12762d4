"""KeyConditionExpression (and legacy KeyConditions) as the range a Query reads.

A key condition is checked in two steps, as DynamoDB does: its shape before the table is
known (``KeySpec``: only ``=``, ``<``, ``<=``, ``>``, ``>=``, BETWEEN and begins_with, one
plain attribute per condition, at most two conditions), then against the key schema of the
table or index (``KeySpec.bind``), which gives the ``KeyCondition`` a range scan needs.
"""

from __future__ import annotations

from typing import Any

from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.expressions import errors
from cloudlet.services.dynamodb.expressions.ast import And, Between, Call, Compare, In, Node, Not, Or, Path, Value, unwrap
from cloudlet.services.dynamodb.expressions.evaluate import Binder, bind_condition, bind_path
from cloudlet.services.dynamodb.expressions.legacy import checked_condition
from cloudlet.services.dynamodb.expressions.parser import Parsed
from cloudlet.services.dynamodb.expressions.usage import Usage

AV = dict[str, Any]
_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_LEGACY_OPS = {"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=", "BETWEEN": "BETWEEN", "BEGINS_WITH": "begins_with"}


class KeyCondition:
    """What a Query reads: the partition's ``hash_value``, and optionally a sort key condition
    ``range_op`` (``=``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``, ``begins_with``) with its
    ``range_values`` (two for BETWEEN, else one). ``matches`` tests an item's key."""

    __slots__ = ("hash_key", "hash_value", "range_key", "range_op", "range_values")

    def __init__(
        self, hash_key: str, hash_value: AV, range_key: str | None, range_op: str | None, range_values: list[AV]
    ) -> None:
        self.hash_key, self.hash_value = hash_key, hash_value
        self.range_key, self.range_op, self.range_values = range_key, range_op, range_values

    def matches(self, item: dict[str, AV]) -> bool:
        h = item.get(self.hash_key)
        if h is None or not V.equal(h, self.hash_value):
            return False
        if self.range_op is None:
            return True
        assert self.range_key is not None
        r = item.get(self.range_key)
        if r is None:
            return False
        first = self.range_values[0]
        if self.range_op == "begins_with":
            (kr, vr), = r.items()
            (kf, vf), = first.items()
            return kr == kf and kr in ("S", "B") and vr[: len(vf)] == vf
        c = V.compare(r, first)
        if c is None:
            return False
        op = self.range_op
        if op == "=":
            return c == 0
        if op == "<":
            return c < 0
        if op == "<=":
            return c <= 0
        if op == ">":
            return c > 0
        if op == ">=":
            return c >= 0
        hi = V.compare(r, self.range_values[1])
        return c >= 0 and hi is not None and hi <= 0

    def __repr__(self) -> str:
        return f"KeyCondition({self.hash_key}={self.hash_value}, {self.range_key} {self.range_op} {self.range_values})"


class KeySpec:
    """A key condition checked for shape, not yet for a key schema: ``conditions`` are
    ``(attribute, op, values)`` with the attribute on the left (``:v <= sk`` is ``sk >= :v``)."""

    __slots__ = ("conditions", "legacy")

    def __init__(self, conditions: list[tuple[str, str, list[AV]]], legacy: bool = False) -> None:
        self.conditions, self.legacy = conditions, legacy

    def bind(self, hash_key: str, range_key: str | None, key_types: dict[str, str] | None = None) -> KeyCondition:
        """The condition against the key schema (``key_types`` maps key attributes to S, N
        or B, for the type check)."""
        conds = self.conditions
        if self.legacy:
            for _, op, _ in conds:
                if op not in _LEGACY_OPS.values():
                    raise errors.invalid("Attempted conditional constraint is not an indexable operation")
        if len(conds) > (1 if range_key is None else 2):
            raise errors.invalid("Query key condition not supported")
        by_attr = {attr: (op, vals) for attr, op, vals in conds}
        if hash_key not in by_attr:
            raise errors.invalid(f"Query condition missed key schema element: {hash_key}")
        if key_types:
            for attr, _, vals in conds:
                wanted = key_types.get(attr)
                if wanted is not None and any(V.type_of(v) != wanted for v in vals):
                    raise errors.invalid(
                        "One or more parameter values were invalid: Condition parameter type does not match schema type"
                    )
        op, vals = by_attr[hash_key]
        if op != "=":
            raise errors.invalid("Query key condition not supported")
        rest = [c for c in conds if c[0] != hash_key]
        if not rest:
            return KeyCondition(hash_key, vals[0], range_key, None, [])
        attr, op, vals = rest[0]
        if attr != range_key:
            raise errors.invalid(f"Query condition missed key schema element: {range_key}")
        return KeyCondition(hash_key, by_attr[hash_key][1][0], range_key, op, vals)


def _invalid_operator(node: Node) -> str | None:
    node = unwrap(node)
    if isinstance(node, Or):
        return "OR"
    if isinstance(node, Not):
        return "NOT"
    if isinstance(node, In):
        return "IN"
    if isinstance(node, Compare) and node.op == "<>":
        return "<>"
    if isinstance(node, Call) and node.name != "begins_with":
        return node.name
    if isinstance(node, And):
        return _invalid_operator(node.left) or _invalid_operator(node.right)
    return None


def _flatten(node: Node, out: list[Node]) -> list[Node]:
    node = unwrap(node)
    if isinstance(node, And):
        _flatten(node.left, out)
        _flatten(node.right, out)
    else:
        out.append(node)
    return out


def bind_key_condition(parsed: Parsed, usage: Usage) -> KeySpec:
    kind = parsed.kind
    bind_condition(parsed, usage)  # the checks every condition gets come first
    assert parsed.root is not None
    bad = _invalid_operator(parsed.root)
    if bad is not None:
        raise errors.invalid(f"Invalid operator used in KeyConditionExpression: {bad}")
    binder = Binder(kind, usage)
    conditions: list[tuple[str, str, list[AV]]] = []
    for cond in _flatten(parsed.root, []):
        if isinstance(cond, Compare):
            op, operands = cond.op, [cond.left, cond.right]
        elif isinstance(cond, Between):
            op, operands = "BETWEEN", [cond.subject, cond.low, cond.high]
        else:
            assert isinstance(cond, Call)
            op, operands = "begins_with", list(cond.args)
        if op in ("BETWEEN", "begins_with") and not isinstance(unwrap(operands[0]), Path):
            raise errors.invalid(
                f"Invalid condition in KeyConditionExpression: {op} operator must have the key attribute as its first operand"
            )
        attr: str | None = None
        values: list[AV] = []
        for i, operand in enumerate(operands):
            operand = unwrap(operand)
            if isinstance(operand, Call):
                raise errors.invalid("KeyConditionExpressions cannot contain nested operations")
            if isinstance(operand, Path):
                if attr is not None:
                    raise errors.invalid(
                        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
                    )
                if len(operand.elems) > 1:
                    raise errors.invalid("KeyConditionExpressions cannot have conditions on nested attributes")
                attr = str(bind_path(operand, kind, usage)[0])
                if i == 1 and op in _FLIP:
                    op = _FLIP[op]
            else:
                assert isinstance(operand, Value)
                values.append(binder.operand(operand).const)  # type: ignore[arg-type]
        if attr is None:
            raise errors.invalid("Invalid condition in KeyConditionExpression: No key attribute specified")
        conditions.append((attr, op, values))
    seen: set[str] = set()
    for attr, _, _ in conditions:
        if attr in seen:
            raise errors.invalid("KeyConditionExpressions must only contain one condition per key")
        seen.add(attr)
    if len(conditions) > 2:
        raise errors.invalid("Conditions can be of length 1 or 2 only")
    return KeySpec(conditions)


def key_conditions(spec: dict[str, dict[str, Any]]) -> KeySpec:
    """Legacy KeyConditions as a KeySpec."""
    if not 1 <= len(spec) <= 2:
        raise errors.invalid("Conditions can be of length 1 or 2 only")
    conditions = []
    for attr, cond in spec.items():
        op, vals = checked_condition(attr, cond, key=True)
        conditions.append((attr, _LEGACY_OPS.get(op, op), vals))
    return KeySpec(conditions, legacy=True)
