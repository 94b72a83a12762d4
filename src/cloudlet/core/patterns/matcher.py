"""Matching: walk only the paths a pattern names; and the public entry points."""

from __future__ import annotations

import json
from typing import Any, Callable

from cloudlet.core.patterns.common import EVENTBRIDGE, MESSAGE_ATTRIBUTES, PatternError, SNS, WILDCARD_COMPLEXITY_LIMIT, _EB_PREFIX, _Invalid, _SNS_PREFIX, _SNS_SUBSCRIBE_PREFIX, _TOO_COMPLEX
from cloudlet.core.patterns.compiler import Branch, _Compiler
from cloudlet.core.patterns.limits import _sns_limits
from cloudlet.core.patterns.values import _wildcard_complexity

# ------------------------------------------------------------------------------------------
# Matching: walk only the paths a pattern names
# ------------------------------------------------------------------------------------------

_MISSING = object()
_SLOW = object()
_END = -1
Membership = tuple[tuple[int, int], ...]  # (id of an event array, element index) for each array
Leaves = list[tuple[Any, Membership]]
Plan = list[tuple[tuple[str, int], ...]]
Field = tuple[Plan, Callable[[Any], bool], bool]  # walk plan, leaf test, exists:false


def _plan(name: str) -> Plan:
    """For each dot position in the field name, the event keys that may continue it there.

    ``a.b.c`` at offset 0 may be key ``a`` (then ``b.c``), ``a.b`` (then ``c``) or ``a.b.c``.
    Returned as a list indexed by step, each step's candidates pointing at the next step.
    """
    segments = name.split(".")
    n = len(segments)
    steps: list[tuple[tuple[str, int], ...]] = []
    for i in range(n):
        cands = []
        for j in range(i + 1, n + 1):
            cands.append((".".join(segments[i:j]), j if j < n else _END))
        steps.append(tuple(cands))
    return steps


def _collect(node: Any, plan: Plan, step: int, memb: Membership, out: Leaves) -> None:
    """Append (leaf, array membership) for every leaf the field name reaches in ``node``."""
    cls = node.__class__
    if step == _END:
        if cls is list:
            _crush(node, memb, out)
        elif cls is not dict:
            out.append((node, memb))
        return
    if cls is dict:
        for key, nxt in plan[step]:
            child = node.get(key, _MISSING)
            if child is not _MISSING:
                _collect(child, plan, nxt, memb, out)
    elif cls is list:
        ident = id(node)
        for idx, item in enumerate(node):
            _collect(item, plan, step, (*memb, (ident, idx)), out)


def _crush(items: list[Any], memb: Membership, out: Leaves) -> None:
    ident = id(items)
    for idx, item in enumerate(items):
        cls = item.__class__
        if cls is list:
            _crush(item, (*memb, (ident, idx)), out)
        elif cls is not dict:
            out.append((item, (*memb, (ident, idx))))


def _merge(acc: dict[int, int], memb: Membership) -> dict[int, int] | None:
    """Join array memberships; None when the leaf sits in another element of a shared array."""
    if not memb:
        return acc
    merged = None
    for ident, idx in memb:
        have = acc.get(ident)
        if have is None:
            if merged is None:
                merged = dict(acc)
            merged[ident] = idx
        elif have != idx:
            return None
    return acc if merged is None else merged


def _getter(name: str) -> Callable[[Any], Any]:
    """The fast walk to one field: its value (a scalar or a list of them), _MISSING, or _SLOW
    when an array of objects or a dotted event key lies on the way (the general walk decides)."""
    segments = name.split(".")
    if len(segments) == 1:
        key = name

        def get_top(node: Any) -> Any:
            if node.__class__ is not dict:
                return _MISSING
            value = node.get(key, _MISSING)
            return _MISSING if value.__class__ is dict else value

        return get_top
    n = len(segments)
    chain = tuple(
        (seg, tuple(".".join(segments[i:j]) for j in range(i + 2, n + 1)))
        for i, seg in enumerate(segments)
    )

    def get(node: Any) -> Any:
        for seg, dotted in chain:
            cls = node.__class__
            if cls is not dict:
                return _SLOW if cls is list else _MISSING
            for key in dotted:
                if key in node:
                    return _SLOW
            node = node.get(seg, _MISSING)
            if node is _MISSING:
                return _MISSING
        return _MISSING if node.__class__ is dict else node

    return get


def _scalars(items: list[Any]) -> list[Any]:
    """The leaves of a list value: nested lists flattened, objects skipped."""
    out = []
    for item in items:
        cls = item.__class__
        if cls is list:
            out.extend(_scalars(item))
        elif cls is not dict:
            out.append(item)
    return out


def _branch_matcher(branch: Branch) -> Callable[[Any], bool]:
    """A closure testing one $or branch: every field in it, array-consistently."""
    names = sorted(branch)  # event-ruler visits fields in name order; exists:false depends on it
    fields: list[Field] = [(_plan(n), branch[n].test(), branch[n].absent_ok) for n in names]
    fast = [(_getter(n), test, absent_ok) for n, (_, test, absent_ok) in zip(names, fields)]

    def match(event: Any) -> bool:
        for get, test, absent_ok in fast:
            value = get(event)
            if value.__class__ is list:
                for leaf in _scalars(value):
                    if test(leaf):
                        break
                else:
                    if absent_ok and not _scalars(value):
                        continue
                    return False
            elif value is _MISSING:
                if not absent_ok:
                    return False
            elif value is _SLOW:
                return _general(fields, event)
            elif not test(value):
                return False
        return True

    return match


def _general(fields: list[Field], event: Any) -> bool:
    """Every field's leaves with their array memberships, then a consistent choice of them."""
    found = []
    for plan, _, absent_ok in fields:
        out: Leaves = []
        _collect(event, plan, 0, (), out)
        if not out and not absent_ok:
            return False
        found.append(out)
    return _search(fields, found, 0, {})


def _search(fields: list[Field], found: list[Leaves], k: int, acc: dict[int, int]) -> bool:
    if k == len(fields):
        return True
    _, test, absent_ok = fields[k]
    leaves = found[k]
    if absent_ok and all(_merge(acc, memb) is None for _, memb in leaves):
        if _search(fields, found, k + 1, acc):
            return True
    for leaf, memb in leaves:
        if test(leaf):
            merged = _merge(acc, memb)
            if merged is not None and _search(fields, found, k + 1, merged):
                return True
    return False


class Matcher:
    """A compiled pattern: parsing and validation happened once; ``matches`` runs closures."""

    __slots__ = ("_test", "dialect", "text")

    def __init__(self, test: Callable[[Any], bool], dialect: str, text: str) -> None:
        self._test = test
        self.dialect = dialect
        self.text = text

    def matches(self, event: dict[str, Any]) -> bool:
        """True when the event (a plain dict, as parsed from JSON) satisfies the pattern."""
        return self._test(event)


def compile_pattern(pattern: dict[str, Any] | str, *, dialect: str = "eventbridge",
                    scope: str = MESSAGE_ATTRIBUTES) -> Matcher:
    """Parse and validate once (JSON text or dict); dialect "eventbridge" or "sns".

    ``scope`` is SNS's FilterPolicyScope (``MessageAttributes``, the AWS default, refuses
    nested policies; ``MessageBody`` allows them); EventBridge ignores it.
    Raises PatternError with AWS's message for the dialect.
    """
    if dialect not in (EVENTBRIDGE, SNS):
        raise ValueError(f"unknown dialect {dialect!r}")
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    try:
        branches = _Compiler(text, dialect).compile()  # AWS reports grammar errors first
        if dialect == SNS:
            start = len(text) - len(text.lstrip())
            _sns_limits(json.JSONDecoder().raw_decode(text, start)[0], scope)  # text after it is ignored
        else:
            _check_wildcards(branches)
    except _Invalid as err:
        raise _error(err, dialect) from None
    matchers = [_branch_matcher(b) for b in branches]
    if len(matchers) == 1:
        return Matcher(matchers[0], dialect, text)
    return Matcher(lambda event: any(m(event) for m in matchers), dialect, text)


def _check_wildcards(branches: list[Branch]) -> None:
    per_field: dict[str, list[str]] = {}
    seen: set[int] = set()
    for branch in branches:
        for name, field in branch.items():
            if field.wildcards and id(field) not in seen:
                seen.add(id(field))
                per_field.setdefault(name, []).extend(field.wildcards)
    for texts in per_field.values():
        if _wildcard_complexity(texts) > WILDCARD_COMPLEXITY_LIMIT:
            raise _Invalid(_TOO_COMPLEX)


def _error(err: _Invalid, dialect: str) -> PatternError:
    if dialect == EVENTBRIDGE:
        return PatternError(_EB_PREFIX + err.reason, err.reason)
    tail = err.reason if err.kind == "scope" else "FilterPolicy: " + err.reason
    return PatternError(_SNS_PREFIX + tail, err.reason, _SNS_SUBSCRIBE_PREFIX + tail)

