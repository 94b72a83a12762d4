"""UpdateExpression (and legacy AttributeUpdates) bound to a request and applied to items.

Every right-hand side reads the item as it was before the update (``SET a = b, b = a``
swaps), then the writes are made on a copy: SETs in path order, so ``SET l[5] = :x,
l[3] = :y`` past the end of a list appends ``:y`` then ``:x``; REMOVEs of list elements last
and from the highest index down, so indexes name the elements of the original list.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any, Callable, Union

from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.expressions import errors
from cloudlet.services.dynamodb.expressions.ast import Arith, Call, Node, Path, Value, unwrap
from cloudlet.services.dynamodb.expressions.evaluate import bind_path, check_scalar_keys
from cloudlet.services.dynamodb.expressions.parser import Parsed
from cloudlet.services.dynamodb.expressions.paths import BoundPath, check_distinct, get, getter, project, tree
from cloudlet.services.dynamodb.expressions.usage import Usage

AV = dict[str, Any]
Item = dict[str, AV]
KIND = "UpdateExpression"

# what an action computes: a value to write, or one of these
REMOVE = object()  # remove the path
CHECK = object()  # nothing to write, but the path must still lead somewhere
Result = Union[AV, object]
Compute = Callable[[Item], Result]

_LONG_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}
_EXACT = Context(prec=400)  # exact for any two in-range 38-digit numbers


class Update:
    """A compiled update. ``apply(item)`` returns the new item (the argument is left as it
    was); ``updated(item)`` projects an item onto the updated paths (ReturnValues
    UPDATED_OLD / UPDATED_NEW); ``paths`` are the paths written, in the request's order.
    ``only_removes`` says the update has no SET or ADD (PUT or ADD when legacy): DynamoDB
    does not create a missing item for such an update."""

    __slots__ = ("actions", "paths", "reads", "shape", "only_removes")

    def __init__(self, actions: list[tuple[BoundPath, Compute]], reads: list[BoundPath], ops: list[str]) -> None:
        self.actions = actions
        self.paths = [p for p, _ in actions]
        self.reads = reads
        self.shape = tree(self.paths)
        self.only_removes = all(op in ("REMOVE", "DELETE") for op in ops)

    def updated_paths(self) -> list[BoundPath]:
        return list(self.paths)

    def updated(self, item: Item) -> Item:
        return project(item, self.shape)

    def check_keys(self, keys: Any, index_keys: Any = ()) -> None:
        """Key attributes cannot be updated, and no path may reach inside a key attribute."""
        for path in self.paths:
            if path[0] in keys:
                raise errors.invalid(
                    f"One or more parameter values were invalid: Cannot update attribute {path[0]}. "
                    "This attribute is part of the key"
                )
        check_scalar_keys(self.paths + self.reads, keys, index_keys)

    def apply(self, item: Item) -> Item:
        results = [(path, compute(item)) for path, compute in self.actions]
        new = dict(item)
        for path, _ in results:
            if len(path) > 1:
                top = path[0]
                if top in new and new[top] is item.get(top):
                    new[top] = V.copy_value(new[top])
        writes = [(p, r) for p, r in results if r is not REMOVE and r is not CHECK]
        writes.sort(key=lambda pr: _order(pr[0]))
        for path, value in writes:
            container, last = _parent(new, path)
            if type(last) is int:
                if last < len(container):
                    container[last] = value
                else:
                    container.append(value)
            else:
                container[last] = value
        for path, r in results:
            if r is CHECK:
                _parent(new, path)
        removes = sorted((p for p, r in results if r is REMOVE), key=_order, reverse=True)
        for path in removes:
            container, last = _parent(new, path)
            if type(last) is int:
                if last < len(container):
                    del container[last]
            else:
                container.pop(last, None)
        return new


def _order(path: BoundPath) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, e, "") if type(e) is int else (1, 0, e) for e in path)  # type: ignore[misc]


def _parent(item: Item, path: BoundPath) -> tuple[Any, Any]:
    """The container holding the last step of `path` (a dict of attributes or map entries,
    or a list), after checking every step before it exists with the right type."""
    if len(path) == 1:
        return item, path[0]
    value = item.get(path[0])  # type: ignore[arg-type]
    for elem in path[1:-1]:
        if value is None:
            raise errors.bad_path()
        if type(elem) is int:
            seq = value.get("L")
            value = seq[elem] if seq is not None and elem < len(seq) else None
        else:
            m = value.get("M")
            value = m.get(elem) if m is not None else None
    if value is None:
        raise errors.bad_path()
    container = value.get("L") if type(path[-1]) is int else value.get("M")
    if container is None:
        raise errors.bad_path()
    return container, path[-1]


# set arithmetic shared by ADD / DELETE (expressions) and the legacy actions -----------------
def _members(value: AV) -> tuple[str, list[Any]]:
    (kind, members), = value.items()
    return kind, members


def _key(kind: str) -> Callable[[Any], Any]:
    return bytes if kind == "BS" else (lambda m: m)


def add_values(current: AV | None, value: AV, mismatch: Callable[[], Exception]) -> AV:
    if current is None:
        return value
    kind, members = _members(value)
    ckind, cmembers = _members(current)
    if ckind != kind:
        raise mismatch()
    if kind == "N":
        return V.number_result(_EXACT.add(Decimal(cmembers), Decimal(members)))  # type: ignore[arg-type]
    if kind == "L":
        return {"L": list(cmembers) + list(members)}
    key = _key(kind)
    seen = {key(m) for m in cmembers}
    return {kind: list(cmembers) + [m for m in members if key(m) not in seen]}


def delete_values(current: AV, value: AV, mismatch: Callable[[], Exception]) -> AV | None:
    kind, members = _members(value)
    ckind, cmembers = _members(current)
    if ckind != kind:
        raise mismatch()
    key = _key(kind)
    gone = {key(m) for m in members}
    kept = [m for m in cmembers if key(m) not in gone]
    return {kind: kept} if kept else None


def _adder(path: BoundPath, value: AV, mismatch: Callable[[], Exception]) -> Compute:
    return lambda item: add_values(get(item, path), value, mismatch)


def _deleter(path: BoundPath, value: AV, mismatch: Callable[[], Exception]) -> Compute:
    def delete(item: Item) -> Result:
        current = get(item, path)
        if current is None:
            return CHECK
        kept = delete_values(current, value, mismatch)
        return REMOVE if kept is None else kept

    return delete


# binding ------------------------------------------------------------------------------------
class _SetBinder:
    """Compiles a SET right-hand side, checking it children first as DynamoDB does."""

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self.reads: list[BoundPath] = []

    def value(self, node: Node) -> tuple[Callable[[Item], AV], str | None]:
        node = unwrap(node)
        if isinstance(node, Path):
            path = bind_path(node, KIND, self.usage)
            self.reads.append(path)
            read = getter(path)

            def present(item: Item) -> AV:
                v = read(item)
                if v is None:
                    raise errors.missing_operand()
                return v

            return present, None
        if isinstance(node, Value):
            const = self.usage.value(node.ref, KIND)
            return (lambda item: const), V.type_of(const)
        if isinstance(node, Arith):
            (lf, lt), (rf, rt) = self.value(node.left), self.value(node.right)
            for t in (lt, rt):
                if t is not None and t != "N":
                    raise errors.operand_type(KIND, node.op, t)
            combine = _EXACT.add if node.op == "+" else _EXACT.subtract

            def arith(item: Item) -> AV:
                a, b = lf(item), rf(item)
                if "N" not in a or "N" not in b:
                    raise errors.wrong_operand_type()
                return V.number_result(combine(Decimal(a["N"]), Decimal(b["N"])))

            return arith, "N"
        assert isinstance(node, Call), node
        if len(node.args) != 2:
            raise errors.operand_count(KIND, node.name, len(node.args))
        if node.name == "if_not_exists":
            target = unwrap(node.args[0])
            if not isinstance(target, Path):
                raise errors.needs_path(KIND, node.name)
            path = bind_path(target, KIND, self.usage)
            self.reads.append(path)
            read = getter(path)
            default, _ = self.value(node.args[1])

            def if_not_exists(item: Item) -> AV:
                v = read(item)
                return v if v is not None else default(item)

            return if_not_exists, None  # either operand's type: not known before the item
        (af, at), (bf, bt) = self.value(node.args[0]), self.value(node.args[1])
        for t in (at, bt):
            if t is not None and t != "L":
                raise errors.operand_type(KIND, node.name, t)

        def list_append(item: Item) -> AV:
            a, b = af(item), bf(item)
            if "L" not in a or "L" not in b:
                raise errors.wrong_operand_type()
            return {"L": a["L"] + b["L"]}

        return list_append, "L"


def bind_update(parsed: Parsed, usage: Usage) -> Update:
    usage.resolve(parsed.refs, KIND)
    paths = [bind_path(a.path, KIND, usage) for a in parsed.actions]
    check_distinct(KIND, paths)
    for action in parsed.actions:
        if action.op in ("ADD", "DELETE"):
            assert isinstance(action.value, Value)
            kind = V.type_of(usage.value(action.value.ref, KIND))
            allowed = ("N", "SS", "NS", "BS") if action.op == "ADD" else ("SS", "NS", "BS")
            if kind not in allowed:
                raise errors.expr_error(
                    KIND,
                    "Incorrect operand type for operator or function; "
                    f"operator: {action.op}, operand type: {_LONG_NAMES[kind]}",
                )
    binder = _SetBinder(usage)
    actions: list[tuple[BoundPath, Compute]] = []
    for action, path in zip(parsed.actions, paths):
        if action.op == "SET":
            assert action.value is not None
            fn, _ = binder.value(action.value)
            actions.append((path, fn))
        elif action.op == "REMOVE":
            actions.append((path, lambda item: REMOVE))
        else:
            assert isinstance(action.value, Value)
            const = usage.value(action.value.ref, KIND)
            make = _adder if action.op == "ADD" else _deleter
            actions.append((path, make(path, const, errors.wrong_operand_type)))
    return Update(actions, binder.reads, [a.op for a in parsed.actions])


# legacy AttributeUpdates --------------------------------------------------------------------
def _legacy_mismatch() -> Exception:
    return errors.invalid("Type mismatch for attribute to update")


def attribute_updates(updates: dict[str, dict[str, Any]]) -> Update:
    """AttributeUpdates (PUT, ADD, DELETE on top-level attributes) as an Update."""
    prefix = "One or more parameter values were invalid: "
    actions: list[tuple[BoundPath, Compute]] = []
    ops: list[str] = []
    for name, spec in updates.items():
        op = spec.get("Action") or "PUT"
        ops.append("SET" if op == "PUT" else op)
        value = spec.get("Value")
        if value is None:
            if op != "DELETE":
                raise errors.invalid(prefix + "Only DELETE action is allowed when no attribute value is specified")
            actions.append(((name,), lambda item: REMOVE))
            continue
        V.check_value(value)
        kind = V.type_of(value)
        path: BoundPath = (name,)
        if op == "PUT":
            actions.append((path, (lambda v: lambda item: v)(value)))
        elif op == "ADD":
            if kind not in ("N", "SS", "NS", "BS", "L"):
                raise errors.invalid(prefix + f"ADD action is not supported for the type {kind}")
            actions.append((path, _adder(path, value, _legacy_mismatch)))
        else:
            if kind not in ("SS", "NS", "BS"):
                raise errors.invalid(prefix + f"DELETE action with value is not supported for the type {kind}")
            actions.append((path, _deleter(path, value, _legacy_mismatch)))
    return Update(actions, [], ops)
