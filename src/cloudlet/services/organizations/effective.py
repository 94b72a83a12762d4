"""The effective policy of a management policy type (tag, backup, AI opt-out...): the
documents attached from the root down to the account, merged with the inheritance
operators of AWS's management-policy syntax.

- ``@@assign`` replaces the inherited value, ``@@append`` adds values to an inherited
  list, ``@@remove`` takes values out of it; a plain value counts as ``@@assign``.
- ``@@operators_allowed_for_child_policies`` on a node limits which of those operators
  policies attached lower in the tree may use on it and below (``@@none``: none).
- The result carries values only, no operators, as DescribeEffectivePolicy shows it.

Policies attached at the same level are applied in policy-id order; a restriction
written at one level binds only the levels below it.
"""

from __future__ import annotations

from typing import Any, Sequence

VALUE_OPS = ("@@assign", "@@append", "@@remove")
CHILD_OPS = "@@operators_allowed_for_child_policies"

Path = tuple[str, ...]


def merge(levels: Sequence[Sequence[dict]]) -> dict:
    """`levels`: the parsed policy documents per level, root first."""
    tree: dict[str, Any] = {}
    allowed: dict[Path, frozenset[str]] = {}
    for docs in levels:
        inherited = dict(allowed)  # restrictions from above this level
        for doc in docs:
            _apply(tree, doc, (), inherited, allowed)
    return tree


def _permitted(path: Path, op: str, inherited: dict[Path, frozenset[str]]) -> bool:
    for i in range(len(path), -1, -1):
        ops = inherited.get(path[:i])
        if ops is not None:
            return "@@all" in ops or op in ops
    return True


def _apply(tree: dict, node: dict, path: Path, inherited: dict, allowed: dict) -> None:
    for key, value in node.items():
        if key.startswith("@@"):
            continue
        here = path + (key,)
        if isinstance(value, dict):
            if CHILD_OPS in value:
                ops = value[CHILD_OPS]
                allowed[here] = frozenset(ops if isinstance(ops, list) else [ops])
            if any(op in value for op in VALUE_OPS):
                _set_value(tree, key, value, here, inherited)
            else:
                sub = tree.get(key)
                if not isinstance(sub, dict):
                    sub = tree[key] = {}
                _apply(sub, value, here, inherited, allowed)
        elif _permitted(here, "@@assign", inherited):
            tree[key] = value


def _set_value(tree: dict, key: str, ops: dict, path: Path, inherited: dict) -> None:
    if "@@assign" in ops and _permitted(path, "@@assign", inherited):
        tree[key] = ops["@@assign"]
    if "@@append" in ops and _permitted(path, "@@append", inherited):
        current = tree.get(key)
        items = list(current) if isinstance(current, list) else ([] if current is None else [current])
        for v in ops["@@append"] if isinstance(ops["@@append"], list) else [ops["@@append"]]:
            if v not in items:
                items.append(v)
        tree[key] = items
    if "@@remove" in ops and _permitted(path, "@@remove", inherited):
        gone = ops["@@remove"] if isinstance(ops["@@remove"], list) else [ops["@@remove"]]
        current = tree.get(key)
        if isinstance(current, list):
            tree[key] = [v for v in current if v not in gone]
        elif current in gone or "*" in gone:
            tree.pop(key, None)
