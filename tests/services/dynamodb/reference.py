"""A plain model of DynamoDB's item semantics, for the differential test.

Written from AWS's documentation and facts observed on the real service, independently of
``cloudlet.services.dynamodb`` (nothing is imported from it): items are wire AttributeValue
maps, a table is a dict keyed by (partition value, sort number), and expressions are small
syntax trees (the test renders them to expression text for the server; the model evaluates the
trees directly, so the server's parser is checked too).

What the model follows (each rule is a behaviour of DynamoDB, not of any emulator):

- Comparisons: ``=`` needs both operands present and of one type (sets compare as sets,
  numbers by value); ``<>`` is true when either operand is missing; ``< <= > >=`` and
  ``BETWEEN`` compare only N, S (UTF-8 bytes) and B (unsigned bytes) of one type, anything
  else is false; ``IN`` is equality with any option.
- Functions: ``begins_with`` on S/S or B/B; ``contains`` is a substring test for S/S and
  B/B, membership for a set (of the operand's type) or a list (any element equal);
  ``size`` is defined for S, B, sets, L and M, and is missing (so any comparison but ``<>``
  is false) for other types or a missing path.
- Projections: each path that resolves is kept in the item's shape; list elements keep
  their order and close up (``a[0], a[2]`` gives two elements); an item with none is ``{}``.
- Updates: every right-hand side is read from the item as it was before the update; list
  indexes in SET and REMOVE refer to the original positions; SET past a list's end appends
  (in index order); REMOVE of a missing leaf or past a list's end does nothing, but a missing
  or mistyped parent is an error, except when the item does not exist at all; ADD creates or
  adds numbers and unites sets; DELETE subtracts sets, and removes the attribute once empty.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, Iterable, Union

AV = dict[str, Any]
Item = dict[str, AV]
PathT = tuple[Union[str, int], ...]

CONDITION_FAILED = "The conditional request failed"
MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
BAD_OPERAND = "An operand in the update expression has an incorrect data type"
BAD_PATH = "The document path provided in the update expression is invalid for update"

ARITHMETIC = Context(prec=38)  # DynamoDB's numbers: 38 significant digits
TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")


class RefError(Exception):
    """The error DynamoDB answers with; `messages` holds every message it may give (when an
    update has several faults, which one it reports first is not documented)."""

    def __init__(self, code: str, *messages: str) -> None:
        super().__init__(code, messages)
        self.code = code
        self.messages = set(messages)


# --- expression trees ---------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    steps: PathT  # first a top-level name, then map keys (str) and list indexes (int)


@dataclass(frozen=True)
class Const:
    value: AV


@dataclass(frozen=True)
class Size:
    path: Path


Operand = Union[Path, Const, Size]


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True)
class In:
    subject: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True)
class Func:
    name: str  # attribute_exists attribute_not_exists attribute_type begins_with contains
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class And:
    left: "Cond"
    right: "Cond"


@dataclass(frozen=True)
class Or:
    left: "Cond"
    right: "Cond"


@dataclass(frozen=True)
class Not:
    inner: "Cond"


Cond = Union[Compare, Between, In, Func, And, Or, Not]


@dataclass(frozen=True)
class IfNotExists:
    path: Path
    default: Operand


@dataclass(frozen=True)
class ListAppend:
    left: "Value"
    right: "Value"


@dataclass(frozen=True)
class Arith:
    op: str  # + or -
    left: "Value"
    right: "Value"


Value = Union[Path, Const, IfNotExists, ListAppend, Arith]


@dataclass(frozen=True)
class Update:
    set: tuple[tuple[Path, Value], ...] = ()
    remove: tuple[Path, ...] = ()
    add: tuple[tuple[str, AV], ...] = ()
    delete: tuple[tuple[str, AV], ...] = ()


# --- values -------------------------------------------------------------------------------


def tag(value: AV) -> str:
    return next(iter(value))


def number(text: str) -> Decimal:
    return Decimal(text)


def equal(a: AV, b: AV) -> bool:
    ta, tb = tag(a), tag(b)
    if ta != tb:
        return False
    x, y = a[ta], b[tb]
    if ta == "N":
        return number(x) == number(y)
    if ta == "NS":
        return {number(v) for v in x} == {number(v) for v in y}
    if ta in ("SS", "BS"):
        return set(x) == set(y)
    if ta == "L":
        return len(x) == len(y) and all(equal(p, q) for p, q in zip(x, y))
    if ta == "M":
        return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    return bool(x == y)


def _ordered(a: AV) -> Any:
    t = tag(a)
    if t == "N":
        return number(a["N"])
    if t == "S":
        return a["S"].encode("utf-8")
    return bytes(a["B"])


def compare(a: AV | None, b: AV | None) -> int | None:
    """-1/0/1 for two present values of one orderable type (N, S, B), else None."""
    if a is None or b is None or tag(a) != tag(b) or tag(a) not in ("N", "S", "B"):
        return None
    x, y = _ordered(a), _ordered(b)
    return (x > y) - (x < y)


def size(value: AV | None) -> AV | None:
    if value is None:
        return None
    t = tag(value)
    if t in ("S", "B", "SS", "NS", "BS", "L", "M"):
        return {"N": str(len(value[t]))}
    return None


def resolve(item: Item, path: PathT) -> AV | None:
    current = item.get(str(path[0]))  # the first step is always a name
    for step in path[1:]:
        if current is None:
            return None
        if isinstance(step, int):
            elements = current.get("L")
            if elements is None or step >= len(elements):
                return None
            current = elements[step]
        else:
            members = current.get("M")
            if members is None:
                return None
            current = members.get(step)
    return current


# --- conditions ---------------------------------------------------------------------------


def operand(item: Item, op: Operand) -> AV | None:
    if isinstance(op, Const):
        return op.value
    if isinstance(op, Path):
        return resolve(item, op.steps)
    return size(resolve(item, op.path.steps))


def holds(cond: Cond, item: Item) -> bool:
    """Whether `cond` is true of `item` ({} for an item that does not exist)."""
    if isinstance(cond, And):
        return holds(cond.left, item) and holds(cond.right, item)
    if isinstance(cond, Or):
        return holds(cond.left, item) or holds(cond.right, item)
    if isinstance(cond, Not):
        return not holds(cond.inner, item)
    if isinstance(cond, Compare):
        a, b = operand(item, cond.left), operand(item, cond.right)
        if cond.op == "=":
            return a is not None and b is not None and equal(a, b)
        if cond.op == "<>":
            return a is None or b is None or not equal(a, b)
        c = compare(a, b)
        if c is None:
            return False
        return {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[cond.op]
    if isinstance(cond, Between):
        x = operand(item, cond.subject)
        lo, hi = compare(x, operand(item, cond.low)), compare(x, operand(item, cond.high))
        return lo is not None and hi is not None and lo >= 0 and hi <= 0
    if isinstance(cond, In):
        x = operand(item, cond.subject)
        if x is None:
            return False
        return any(v is not None and equal(x, v) for v in (operand(item, o) for o in cond.options))
    return _function(cond, item)


def _function(cond: Func, item: Item) -> bool:
    args = [operand(item, a) for a in cond.args]
    if cond.name == "attribute_exists":
        return args[0] is not None
    if cond.name == "attribute_not_exists":
        return args[0] is None
    if cond.name == "attribute_type":
        return args[0] is not None and tag(args[0]) == args[1]["S"]  # type: ignore[index]
    a, b = args
    if a is None or b is None:
        return False
    ta, tb = tag(a), tag(b)
    if cond.name == "begins_with":
        return ta == tb and ta in ("S", "B") and a[ta].startswith(b[tb])
    if cond.name == "contains":
        if ta == tb and ta in ("S", "B"):
            return b[tb] in a[ta]
        if ta in ("SS", "NS", "BS") and tb == ta[0]:
            return any(equal({tb: member}, b) for member in a[ta])
        if ta == "L":
            return any(equal(element, b) for element in a["L"])
        return False
    raise ValueError(f"unknown function {cond.name}")


# --- projections --------------------------------------------------------------------------


def project(item: Item, paths: Iterable[Path]) -> Item:
    """The parts of `item` a ProjectionExpression names, in the item's own shape: a path that
    does not resolve adds nothing, and list elements keep their order but close up
    (``a[0], a[2]`` gives a two-element list)."""
    tree: dict[Any, Any] = {}
    for path in paths:
        value = resolve(item, path.steps)
        if value is None:
            continue
        node = tree
        for step in path.steps[:-1]:
            node = node.setdefault(step, {})  # paths never overlap or conflict: no leaf in the way
        node[path.steps[-1]] = ("leaf", value)
    return {name: _built(sub) for name, sub in tree.items()}


def _built(node: Any) -> AV:
    if isinstance(node, tuple):
        return copy.deepcopy(node[1])
    if all(isinstance(k, int) for k in node):
        return {"L": [_built(node[k]) for k in sorted(node)]}
    return {"M": {k: _built(v) for k, v in node.items()}}


# --- updates ------------------------------------------------------------------------------


def evaluate(item: Item, value: Value) -> AV:
    """A SET right-hand side, read from the item as it was before the update."""
    if isinstance(value, Const):
        return value.value
    if isinstance(value, Path):
        found = resolve(item, value.steps)
        if found is None:
            raise RefError("ValidationException", MISSING_ATTRIBUTE)
        return found
    if isinstance(value, IfNotExists):
        found = resolve(item, value.path.steps)
        return found if found is not None else evaluate(item, value.default)  # type: ignore[arg-type]
    if isinstance(value, ListAppend):
        a, b = evaluate(item, value.left), evaluate(item, value.right)  # type: ignore[arg-type]
        if tag(a) != "L" or tag(b) != "L":
            raise RefError("ValidationException", BAD_OPERAND)
        return {"L": a["L"] + b["L"]}
    a, b = evaluate(item, value.left), evaluate(item, value.right)
    if tag(a) != "N" or tag(b) != "N":
        raise RefError("ValidationException", BAD_OPERAND)
    x, y = number(a["N"]), number(b["N"])
    return {"N": str(ARITHMETIC.add(x, y) if value.op == "+" else ARITHMETIC.subtract(x, y))}


def _container(item: Item, parent: PathT, leaf: str | int) -> Any:
    """The map members or list elements a path's last step goes into, or None."""
    holder = resolve(item, parent)
    if holder is None:
        return None
    return holder.get("L") if isinstance(leaf, int) else holder.get("M")


def apply(old: Item | None, key: Item, update: Update) -> Item:
    """The item after `update`, or RefError (the item is then unchanged)."""
    before = old if old is not None else dict(key)
    work: Item = copy.deepcopy(before)
    errors: set[str] = set()
    sets: list[tuple[Any, str | int, AV]] = []
    for path, value in update.set:
        try:
            result = evaluate(before, value)
        except RefError as err:
            errors |= err.messages
        steps = path.steps
        if len(steps) == 1:
            box: Any = work
        else:
            box = _container(work, steps[:-1], steps[-1])
            if box is None:
                errors.add(BAD_PATH)
        if not errors:
            sets.append((box, steps[-1], result))
    removes: list[tuple[Any, str | int]] = []
    for path in update.remove:
        steps = path.steps
        if len(steps) == 1:
            removes.append((work, steps[0]))
            continue
        box = _container(work, steps[:-1], steps[-1])
        if box is None:
            if old is not None:  # on an item that does not exist, REMOVE never fails
                errors.add(BAD_PATH)
        else:
            removes.append((box, steps[-1]))
    for name, amount in update.add:
        current = work.get(name)
        if current is None:
            continue
        t = tag(amount)
        if tag(current) != t or t not in ("N", "SS", "NS", "BS"):
            errors.add(BAD_OPERAND)
    for name, members in update.delete:
        current = work.get(name)
        if current is not None and tag(current) != tag(members):
            errors.add(BAD_OPERAND)
    if errors:
        raise RefError("ValidationException", *errors)
    # list targets in index order, so appends past the end keep it; containers were found
    # before anything changed, so every index is an original position
    for box, leaf, result in sorted(sets, key=lambda s: s[1] if isinstance(s[1], int) else -1):
        if isinstance(leaf, int):
            if leaf < len(box):
                box[leaf] = result
            else:
                box.append(result)
        else:
            box[leaf] = result
    for box, leaf in sorted(removes, key=lambda r: r[1] if isinstance(r[1], int) else -1, reverse=True):
        if isinstance(leaf, int):
            if leaf < len(box):
                del box[leaf]
        else:
            box.pop(leaf, None)
    for name, amount in update.add:
        current = work.get(name)
        t = tag(amount)
        if current is None:
            work[name] = copy.deepcopy(amount)
        elif t == "N":
            work[name] = {"N": str(ARITHMETIC.add(number(current["N"]), number(amount["N"])))}
        else:
            work[name] = {t: _union(t, current[t], amount[t])}
    for name, members in update.delete:
        current = work.get(name)
        if current is None:
            continue
        t = tag(members)
        left = [m for m in current[t] if not any(equal({t[0]: m}, {t[0]: d}) for d in members[t])]
        if left:
            work[name] = {t: left}
        else:
            del work[name]
    return work


def _union(t: str, a: list[Any], b: list[Any]) -> list[Any]:
    out = list(a)
    for member in b:
        if not any(equal({t[0]: member}, {t[0]: m}) for m in out):
            out.append(member)
    return out


# --- the table ----------------------------------------------------------------------------


@dataclass
class Page:
    items: list[Item]
    scanned: int
    last_key: Item | None
    # a page that stopped at Limit exactly on the last item may or may not carry a key
    # (DynamoDB stops at the limit without looking further)
    last_key_optional: bool = False


@dataclass
class Outcome:
    """One answer DynamoDB may give to a write (a value, or a RefError), and what the table
    holds afterwards at the written key (None: unchanged)."""

    answer: Any
    state: tuple[tuple[str, Decimal], Item | None] | None = None  # an item of None: deleted


@dataclass
class Table:
    """A table keyed by `hash_key` (S) and `range_key` (N)."""

    hash_key: str = "pk"
    range_key: str = "sk"
    items: dict[tuple[str, Decimal], Item] = field(default_factory=dict)

    def key_of(self, item: Item) -> tuple[str, Decimal]:
        return item[self.hash_key]["S"], number(item[self.range_key]["N"])

    def get(self, key: Item) -> Item | None:
        return self.items.get(self.key_of(key))

    def put(self, item: Item, condition: Cond | None = None) -> list[Outcome]:
        """PutItem with ReturnValues=ALL_OLD: the answer is the old item (or None)."""
        old = self.get(item)
        if condition is not None and not holds(condition, old or {}):
            return [Outcome(RefError("ConditionalCheckFailedException", CONDITION_FAILED))]
        return [Outcome(old, (self.key_of(item), copy.deepcopy(item)))]

    def update(self, key: Item, update: Update, condition: Cond | None = None) -> list[Outcome]:
        """UpdateItem with ReturnValues=ALL_NEW: the answer is the new item (None when an
        update that only removes leaves a missing item missing)."""
        old = self.get(key)
        at = self.key_of(key)
        failed = condition is not None and not holds(condition, old or {})
        try:
            new = apply(old, key, update)
        except RefError as err:
            if failed:  # which of the two DynamoDB reports is not documented: either will do
                return [Outcome(RefError("ConditionalCheckFailedException", CONDITION_FAILED)), Outcome(err)]
            return [Outcome(err)]
        if failed:
            return [Outcome(RefError("ConditionalCheckFailedException", CONDITION_FAILED))]
        if old is None and not update.set and not update.add:
            return [Outcome(None)]  # removing from an item that does not exist does not create it
        outcomes = [Outcome(new, (at, new))]
        if old is None and any(len(p.steps) > 1 for p in update.remove):
            # REMOVE x.y alone on a missing item is ignored; beside a SET that creates the item,
            # DynamoDB's answer is not known: the error an existing item would get is let through
            outcomes.append(Outcome(RefError("ValidationException", BAD_PATH)))
        return outcomes

    def delete(self, key: Item, condition: Cond | None = None) -> list[Outcome]:
        """DeleteItem with ReturnValues=ALL_OLD: the answer is the old item (or None)."""
        old = self.get(key)
        if condition is not None and not holds(condition, old or {}):
            return [Outcome(RefError("ConditionalCheckFailedException", CONDITION_FAILED))]
        return [Outcome(old, (self.key_of(key), None))]

    def commit(self, outcome: Outcome) -> None:
        if outcome.state is not None:
            at, item = outcome.state
            if item is None:
                self.items.pop(at, None)
            else:
                self.items[at] = item

    def query(self, partition: str, range_cond: tuple[str, list[AV]] | None, filter: Cond | None,
              forward: bool = True, limit: int | None = None, start: Item | None = None,
              projection: tuple[Path, ...] = ()) -> Page:
        rows = sorted(((k[1], v) for k, v in self.items.items() if k[0] == partition), key=lambda r: r[0],
                      reverse=not forward)
        if range_cond is not None:
            op, values = range_cond
            bounds = [number(v["N"]) for v in values]
            test = {
                "=": lambda x: x == bounds[0], "<": lambda x: x < bounds[0], "<=": lambda x: x <= bounds[0],
                ">": lambda x: x > bounds[0], ">=": lambda x: x >= bounds[0],
                "BETWEEN": lambda x: bounds[0] <= x <= bounds[1],
            }[op]
            rows = [r for r in rows if test(r[0])]
        if start is not None:
            s = number(start[self.range_key]["N"])
            rows = [r for r in rows if (r[0] > s if forward else r[0] < s)]
        return self._page([v for _, v in rows], filter, limit, projection)

    def scan(self, filter: Cond | None, projection: tuple[Path, ...] = ()) -> Page:
        return self._page(list(self.items.values()), filter, None, projection)

    def _page(self, rows: list[Item], filter: Cond | None, limit: int | None, projection: tuple[Path, ...]) -> Page:
        read = rows if limit is None else rows[:limit]
        kept = [project(i, projection) if projection else copy.deepcopy(i)
                for i in read if filter is None or holds(filter, i)]
        last = None
        optional = False
        if limit is not None and len(read) == limit and read:
            last = {k: read[-1][k] for k in (self.hash_key, self.range_key)}
            optional = len(rows) == limit
        return Page(kept, len(read), last, optional)


def canonical(value: Any) -> Any:
    """A value with numbers by value and sets unordered, for comparing two answers."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in TYPES:
        t = tag(value)
        v = value[t]
        if t == "N":
            return ("N", _num(v))
        if t == "NS":
            return ("NS", tuple(sorted(_num(x) for x in v)))
        if t in ("SS", "BS"):
            return (t, tuple(sorted(bytes(x) if t == "BS" else x for x in v)))
        if t == "L":
            return ("L", tuple(canonical(x) for x in v))
        if t == "M":
            return ("M", tuple(sorted((k, canonical(x)) for k, x in v.items())))
        if t == "B":
            return ("B", bytes(v))
        return (t, v)
    if isinstance(value, dict):
        return tuple(sorted((k, canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def _num(text: str) -> Decimal:
    d = number(text)
    return Decimal(0) if d == 0 else d.normalize()


def canonical_items(items: Iterable[Item]) -> list[Any]:
    return [canonical(i) for i in items]
