"""Bind a parsed condition to a request's names and values, check it as DynamoDB does, and
compile it into closures over an item.

Semantics are DynamoDB's: a comparison with a missing attribute is false (``<>`` is the
negation of ``=``, so it is true); values of different types are never equal or ordered,
which makes such a comparison false, never an error; numbers compare by value, strings and
binaries by bytes, sets without order.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any, Callable

from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.expressions import errors
from cloudlet.services.dynamodb.expressions.ast import (
    And,
    Group,
    Between,
    Call,
    Compare,
    In,
    Node,
    Not,
    Or,
    Path,
    Value,
    unwrap,
)
from cloudlet.services.dynamodb.expressions.parser import Parsed
from cloudlet.services.dynamodb.expressions.paths import BoundPath, display, getter
from cloudlet.services.dynamodb.expressions.usage import Usage

AV = dict[str, Any]
Item = dict[str, AV]
Getter = Callable[[Item], "AV | None"]
Test = Callable[[Item], bool]

MAX_OPERATORS = 300
MAX_IN_OPERANDS = 100
TYPE_NAMES = ("B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M")
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
_ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
    "if_not_exists": 2,
    "list_append": 2,
}


class Condition:
    """A compiled condition. ``matches(item)`` is DynamoDB's verdict on an item (``{}`` for
    none); ``paths`` are the document paths it reads, for the key-attribute checks."""

    __slots__ = ("matches", "paths")

    def __init__(self, matches: Test, paths: list[BoundPath]) -> None:
        self.matches = matches
        self.paths = paths

    def check_keys(self, keys: tuple[str | None, ...] | list[str], index_keys: tuple[str, ...] | list[str] = ()) -> None:
        """DynamoDB refuses a nested path into a key attribute in a condition or filter."""
        check_scalar_keys(self.paths, keys, index_keys)


def check_scalar_keys(paths: list[BoundPath], keys: Any, index_keys: Any = ()) -> None:
    for path in paths:
        if len(path) > 1:
            if path[0] in keys:
                raise errors.invalid(
                    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
                    f"allowed: Key: {path[0]}"
                )
            if path[0] in index_keys:
                raise errors.invalid(
                    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
                    f"allowed: IndexKey: {path[0]}"
                )


class Operand:
    """A bound operand: ``fn(item)`` gives its value or None; ``type`` is known for values
    and size(); ``path`` is set for document paths; ``const`` for expression values."""

    __slots__ = ("fn", "type", "path", "const")

    def __init__(self, fn: Getter, type_: str | None, path: BoundPath | None = None, const: AV | None = None) -> None:
        self.fn, self.type, self.path, self.const = fn, type_, path, const


def bind_path(node: Path, kind: str, usage: Usage) -> BoundPath:
    out: list[str | int] = []
    for tag, v in node.elems:
        if tag == "ref":
            out.append(usage.name(v, kind))  # type: ignore[arg-type]
        else:
            out.append(v)
    return tuple(out)


class Binder:
    """Walks a condition tree children first, checking each node as DynamoDB does and
    building its closure."""

    def __init__(self, kind: str, usage: Usage) -> None:
        self.kind, self.usage = kind, usage
        self.paths: list[BoundPath] = []

    # operands ---------------------------------------------------------------------------
    def operand(self, node: Node) -> Operand:
        while type(node) is Group:
            node = node.inner
        if type(node) is Path:
            path = bind_path(node, self.kind, self.usage)
            self.paths.append(path)
            return Operand(getter(path), None, path)
        if type(node) is Value:
            const = self.usage.value(node.ref, self.kind)
            return Operand(lambda item: const, V.type_of(const), const=const)
        assert isinstance(node, Call) and node.name == "size", node
        self.arity(node)
        arg = self.operand(node.args[0])
        if arg.type in ("N", "BOOL", "NULL"):
            raise errors.operand_type(self.kind, "size", arg.type)
        return Operand(size_of(arg.fn), "N")

    def arity(self, node: Call) -> None:
        if len(node.args) != _ARITY[node.name]:
            raise errors.operand_count(self.kind, node.name, len(node.args))

    def distinct(self, op: str, first: Operand, rest: list[Operand]) -> None:
        if first.path is not None:
            for other in rest:
                if other.path == first.path:
                    raise errors.not_distinct(self.kind, op, display(first.path))

    # conditions -------------------------------------------------------------------------
    def cond(self, node: Node) -> Test:
        node = unwrap(node)
        if isinstance(node, And):
            a, b = self.cond(node.left), self.cond(node.right)
            return lambda item: a(item) and b(item)
        if isinstance(node, Or):
            a, b = self.cond(node.left), self.cond(node.right)
            return lambda item: a(item) or b(item)
        if isinstance(node, Not):
            a = self.cond(node.operand)
            return lambda item: not a(item)
        if isinstance(node, Compare):
            left, right = self.operand(node.left), self.operand(node.right)
            self.distinct(node.op, left, [right])
            return compare_test(node.op, left, right)
        if isinstance(node, Between):
            subject, low, high = self.operand(node.subject), self.operand(node.low), self.operand(node.high)
            self.distinct("BETWEEN", subject, [low, high])
            check_bounds(self.kind, low.const, high.const)
            return between_test(subject.fn, low.fn, high.fn)
        if isinstance(node, In):
            if len(node.items) > MAX_IN_OPERANDS:
                raise errors.expr_error(
                    self.kind, f"The IN operator is provided with too many operands; number of operands: {len(node.items)}"
                )
            subject = self.operand(node.subject)
            items = [self.operand(x) for x in node.items]
            self.distinct("IN", subject, items)
            return in_test(subject.fn, [x.fn for x in items])
        assert isinstance(node, Call), node
        return self.function(node)

    def function(self, node: Call) -> Test:
        name = node.name
        self.arity(node)
        args = [self.operand(a) for a in node.args]
        if name in ("attribute_exists", "attribute_not_exists"):
            if args[0].path is None:
                raise errors.needs_path(self.kind, name)
            get = args[0].fn
            if name == "attribute_exists":
                return lambda item: get(item) is not None
            return lambda item: get(item) is None
        if name == "attribute_type":
            target, wanted = args
            if target.path is None:
                raise errors.needs_path(self.kind, name)
            self.distinct(name, target, [wanted])
            if wanted.const is None:
                raise errors.operand_type(self.kind, name, wanted.type or "PATH")
            if wanted.type != "S":
                raise errors.operand_type(self.kind, name, wanted.type or "")
            type_name = wanted.const["S"]
            if type_name not in TYPE_NAMES:
                raise errors.expr_error(
                    self.kind,
                    f"Invalid attribute type name found; type: {type_name}, valid types: {{{','.join(TYPE_NAMES)}}}",
                )
            get = target.fn
            return lambda item: (v := get(item)) is not None and type_name in v
        if name == "begins_with":
            for arg in args:
                if arg.type is not None and arg.type not in ("S", "B"):
                    raise errors.operand_type(self.kind, name, arg.type)
            self.distinct(name, args[0], args[1:])
            return begins_with_test(args[0].fn, args[1].fn)
        assert name == "contains", name
        self.distinct(name, args[0], args[1:])
        return contains_test(args[0].fn, args[1].fn)


def check_bounds(kind: str, low: AV | None, high: AV | None) -> None:
    """BETWEEN with two constant bounds: same type, and low <= high."""
    if low is None or high is None:
        return
    if V.type_of(low) != V.type_of(high):
        raise errors.expr_error(
            kind,
            "The BETWEEN operator requires same data type for lower and upper bounds; "
            f"lower bound operand: AttributeValue: {V.show(low)}, upper bound operand: AttributeValue: {V.show(high)}",
        )
    order = V.compare(low, high)
    if order is not None and order > 0:
        raise errors.expr_error(
            kind,
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
            f"lower bound operand: AttributeValue: {V.show(low)}, upper bound operand: AttributeValue: {V.show(high)}",
        )


def bind_condition(parsed: Parsed, usage: Usage) -> Condition:
    """The second half of compiling a condition: placeholders, per-node checks, closures."""
    kind = parsed.kind
    usage.resolve(parsed.refs, kind)
    assert parsed.root is not None
    if parsed.operators > MAX_OPERATORS:
        raise errors.expr_error(kind, f"The expression contains too many operators; operator count: {parsed.operators}")
    binder = Binder(kind, usage)
    return Condition(binder.cond(parsed.root), binder.paths)


# closures ---------------------------------------------------------------------------------
def utf16_length(text: str) -> int:
    """Java's String.length(), which size() reports for strings."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def size_of(get: Getter) -> Getter:
    def size(item: Item) -> AV | None:
        v = get(item)
        if v is None:
            return None
        (kind, x), = v.items()
        if kind == "S":
            return {"N": str(utf16_length(x))}
        if kind in ("B", "SS", "NS", "BS", "L", "M"):
            return {"N": str(len(x))}
        return None

    return size


def eq_test(get: Getter, const: AV) -> Test:
    """``path = :value`` without the generic comparison: checked values are canonical, so
    equal scalars are equal dicts."""
    kind, raw = next(iter(const.items()))
    if kind in ("S", "B", "BOOL", "NULL"):
        return lambda item: get(item) == const
    if kind == "N":
        number = Decimal(raw)

        def eq_number(item: Item) -> bool:
            v = get(item)
            if v is None:
                return False
            if v == const:
                return True
            n = v.get("N")
            return n is not None and Decimal(n) == number

        return eq_number

    def eq_other(item: Item) -> bool:
        v = get(item)
        return v is not None and V.equal(v, const)

    return eq_other


def order_test(get: Getter, op: str, const: AV) -> Test:
    """``path < :value`` and friends, the constant converted once."""
    kind, raw = next(iter(const.items()))
    conv: Callable[[Any], Any]
    if kind == "N":
        conv = Decimal
    elif kind == "S":
        conv = str
    elif kind == "B":
        conv = bytes
    else:
        return lambda item: False
    key, test = conv(raw), _ORDER[op]

    def ordered(item: Item) -> bool:
        v = get(item)
        if v is None:
            return False
        x = v.get(kind)
        return x is not None and test(conv(x), key)

    return ordered


def compare_test(op: str, left: Operand, right: Operand) -> Test:
    if right.const is not None and left.const is None:
        get, const = left.fn, right.const
    elif left.const is not None and right.const is None:
        get, const, op = right.fn, left.const, _FLIP[op]
    else:
        return generic_compare(op, left.fn, right.fn)
    if op == "=":
        return eq_test(get, const)
    if op == "<>":
        eq = eq_test(get, const)
        return lambda item: not eq(item)
    return order_test(get, op, const)


def generic_compare(op: str, lf: Getter, rf: Getter) -> Test:
    if op in ("=", "<>"):
        want = op == "="

        def eq(item: Item) -> bool:
            a, b = lf(item), rf(item)
            return (a is not None and b is not None and V.equal(a, b)) == want

        return eq
    test = _ORDER[op]

    def ordered(item: Item) -> bool:
        a, b = lf(item), rf(item)
        if a is None or b is None:
            return False
        c = V.compare(a, b)
        return c is not None and test(c, 0)

    return ordered


def between_test(subject: Getter, low: Getter, high: Getter) -> Test:
    def between(item: Item) -> bool:
        x = subject(item)
        if x is None:
            return False
        lo, hi = low(item), high(item)
        if lo is None or hi is None:
            return False
        c = V.compare(x, lo)
        if c is None or c < 0:
            return False
        c = V.compare(x, hi)
        return c is not None and c <= 0

    return between


def in_test(subject: Getter, items: list[Getter]) -> Test:
    def within(item: Item) -> bool:
        x = subject(item)
        if x is None:
            return False
        for f in items:
            v = f(item)
            if v is not None and V.equal(x, v):
                return True
        return False

    return within


def begins_with_test(target: Getter, prefix: Getter) -> Test:
    def begins(item: Item) -> bool:
        a, b = target(item), prefix(item)
        if a is None or b is None:
            return False
        (ka, va), = a.items()
        (kb, vb), = b.items()
        if ka != kb:
            return False
        if ka == "S":
            return va.startswith(vb)  # type: ignore[no-any-return]
        if ka == "B":
            return bytes(va).startswith(bytes(vb))
        return False

    return begins


def contains(a: AV, b: AV) -> bool:
    """DynamoDB's contains(a, b): substring, subsequence of bytes, set member, list element."""
    (ka, va), = a.items()
    (kb, vb), = b.items()
    if ka == "S":
        return kb == "S" and vb in va
    if ka == "B":
        return kb == "B" and bytes(vb) in bytes(va)
    if ka == "SS":
        return kb == "S" and vb in va
    if ka == "NS":
        if kb != "N":
            return False
        if vb in va:
            return True
        d = Decimal(vb)
        return any(Decimal(x) == d for x in va)
    if ka == "BS":
        return kb == "B" and bytes(vb) in {bytes(x) for x in va}
    if ka == "L":
        return any(V.equal(x, b) for x in va)
    return False


def contains_test(target: Getter, member: Getter) -> Test:
    def test(item: Item) -> bool:
        a, b = target(item), member(item)
        return a is not None and b is not None and contains(a, b)

    return test
