"""The parsed forms of expressions, before placeholders are bound to a request's names and
values. Parsing depends only on an expression's text, so these trees are cached by text and
bound anew for each request.

Path elements are ``("name", text)``, ``("ref", "#x")`` or ``("index", n)``; a bound path is
a tuple of ``str`` (map keys, the first the attribute) and ``int`` (list indexes).
"""

from __future__ import annotations

from typing import Union

Elem = tuple[str, Union[str, int]]


class Node:
    __slots__ = ("start",)


class Path(Node):
    __slots__ = ("elems",)

    def __init__(self, elems: list[Elem], start: int) -> None:
        self.elems, self.start = elems, start


class Value(Node):
    __slots__ = ("ref",)

    def __init__(self, ref: str, start: int) -> None:
        self.ref, self.start = ref, start


class Call(Node):
    __slots__ = ("name", "args")

    def __init__(self, name: str, args: list[Node], start: int) -> None:
        self.name, self.args, self.start = name, args, start


class Group(Node):
    """Parentheses: kept so a group can be told apart from what it holds."""

    __slots__ = ("inner",)

    def __init__(self, inner: Node, start: int) -> None:
        self.inner, self.start = inner, start


class Arith(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node, start: int) -> None:
        self.op, self.left, self.right, self.start = op, left, right, start


class Compare(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node, start: int) -> None:
        self.op, self.left, self.right, self.start = op, left, right, start


class Between(Node):
    __slots__ = ("subject", "low", "high")

    def __init__(self, subject: Node, low: Node, high: Node, start: int) -> None:
        self.subject, self.low, self.high, self.start = subject, low, high, start


class In(Node):
    __slots__ = ("subject", "items")

    def __init__(self, subject: Node, items: list[Node], start: int) -> None:
        self.subject, self.items, self.start = subject, items, start


class And(Node):
    __slots__ = ("left", "right")

    def __init__(self, left: Node, right: Node, start: int) -> None:
        self.left, self.right, self.start = left, right, start


class Or(Node):
    __slots__ = ("left", "right")

    def __init__(self, left: Node, right: Node, start: int) -> None:
        self.left, self.right, self.start = left, right, start


class Not(Node):
    __slots__ = ("operand",)

    def __init__(self, operand: Node, start: int) -> None:
        self.operand, self.start = operand, start


# update actions ----------------------------------------------------------------------------
class Action:
    """One action of an UpdateExpression: ``op`` is SET, REMOVE, ADD or DELETE; ``value`` is
    the SET operand or the ADD/DELETE value (a ``Value``), None for REMOVE."""

    __slots__ = ("op", "path", "value")

    def __init__(self, op: str, path: Path, value: Node | None) -> None:
        self.op, self.path, self.value = op, path, value


def unwrap(node: Node) -> Node:
    while isinstance(node, Group):
        node = node.inner
    return node


def is_bare_operand(node: Node) -> bool:
    """A path or value (perhaps in parentheses): never a condition on its own."""
    node = unwrap(node)
    return isinstance(node, (Path, Value, Arith))


def is_condition(node: Node) -> bool:
    node = unwrap(node)
    return isinstance(node, (Compare, Between, In, And, Or, Not))
