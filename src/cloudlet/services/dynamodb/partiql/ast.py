"""The nodes a parsed statement is made of: plain frozen data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from cloudlet.services.dynamodb.partiql.lexer import Token


# expressions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    """A document path: a top-level name, then ``.name`` and ``[index]`` steps."""

    steps: tuple[str | int, ...]
    token: Token

    @property
    def name(self) -> str:
        return str(self.steps[0])


@dataclass(frozen=True)
class Literal:
    """A literal written in the statement, already an AttributeValue."""

    value: dict[str, Any]
    token: Token


@dataclass(frozen=True)
class Param:
    """A ``?``; `index` counts the statement's parameters from 0 in text order."""

    index: int
    token: Token


@dataclass(frozen=True)
class ListValue:
    items: tuple["Expr", ...]
    token: Token


@dataclass(frozen=True)
class MapValue:
    items: tuple[tuple[str, "Expr"], ...]
    token: Token


@dataclass(frozen=True)
class SetValue:
    items: tuple["Expr", ...]
    token: Token


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < <= > >=
    left: "Expr"
    right: "Expr"
    token: Token


@dataclass(frozen=True)
class Arith:
    op: str  # + -
    left: "Expr"
    right: "Expr"
    token: Token


@dataclass(frozen=True)
class Between:
    operand: "Expr"
    low: "Expr"
    high: "Expr"
    token: Token


@dataclass(frozen=True)
class In:
    operand: "Expr"
    options: tuple["Expr", ...]
    token: Token


@dataclass(frozen=True)
class Is:
    operand: "Expr"
    type: str  # MISSING, NULL, or a DynamoDB type code (S, N, BOOL, ...) / "SET" for a bag
    negated: bool
    token: Token


@dataclass(frozen=True)
class Call:
    name: str  # lower case
    args: tuple["Expr", ...]
    token: Token


@dataclass(frozen=True)
class And:
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Or:
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Not:
    operand: "Expr"


Expr = Union[Path, Literal, Param, ListValue, MapValue, SetValue, Compare, Arith, Between, In, Is, Call, And, Or,
             Not]


# statements -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Select:
    table: str
    index: str | None
    projection: tuple[Path, ...] | None  # None is ``*``
    where: Expr | None
    order: tuple[tuple[str, bool], ...] = ()  # (attribute, descending)


@dataclass(frozen=True)
class Insert:
    table: str
    value: Expr


@dataclass(frozen=True)
class Assign:
    path: Path
    value: Expr


@dataclass(frozen=True)
class Update:
    table: str
    sets: tuple[Assign, ...]
    removes: tuple[Path, ...]
    where: Expr | None
    returning: str | None = None  # "ALL OLD", "MODIFIED OLD", "ALL NEW", "MODIFIED NEW"


@dataclass(frozen=True)
class Delete:
    table: str
    where: Expr | None
    returning: str | None = None


@dataclass(frozen=True)
class Exists:
    """``EXISTS(SELECT ...)``: a condition check, in ExecuteTransaction only."""

    select: Select


Statement = Union[Select, Insert, Update, Delete, Exists]


@dataclass(frozen=True)
class Parsed:
    statement: Statement
    params: int = 0  # how many ``?`` the statement has
