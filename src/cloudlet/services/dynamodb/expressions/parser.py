"""Parse condition, update and projection expressions, and run the checks DynamoDB makes on
an expression's text alone, in DynamoDB's order: syntax, redundant parentheses, function
names, functions used in the wrong place, reserved words, and (updates) sections used twice.
Checks that need the request's names and values come later, when the tree is bound.

Conditions (ConditionExpression, FilterExpression, KeyConditionExpression)::

    cond     := or
    or       := and (OR and)*
    and      := not (AND not)*
    not      := NOT not | predicate
    predicate:= operand (comparator operand | BETWEEN operand AND operand
                         | IN "(" operand ("," operand)* ")")?   -- a lone operand must be a call
    operand  := path | :value | name "(" operand ("," operand)* ")" | "(" or ")"

Precedence is DynamoDB's: comparisons bind tightest, then NOT, AND, OR.
"""

from __future__ import annotations

import functools
from typing import Callable

from cloudlet.services.dynamodb.expressions import errors
from cloudlet.services.dynamodb.expressions.ast import (
    Action,
    And,
    Arith,
    Between,
    Call,
    Compare,
    Elem,
    Group,
    In,
    Node,
    Not,
    Or,
    Path,
    Value,
    is_bare_operand,
    is_condition,
)
from cloudlet.services.dynamodb.expressions.lexer import (
    EOF,
    NAME,
    NAMEREF,
    NUMBER,
    OP,
    VALREF,
    Token,
    syntax_error,
    tokenize,
)
from cloudlet.services.dynamodb.expressions.reserved import RESERVED

COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
SECTIONS = ("SET", "REMOVE", "ADD", "DELETE")
UPDATE_KEYWORDS = CONDITION_KEYWORDS | frozenset(SECTIONS)

# functions that are conditions, and those that compute an operand
CONDITION_FUNCTIONS = frozenset({"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"})
CONDITION_OPERAND_FUNCTIONS = frozenset({"size"})
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
FUNCTIONS = CONDITION_FUNCTIONS | CONDITION_OPERAND_FUNCTIONS | UPDATE_FUNCTIONS


class Parsed:
    """An expression's tree and what the later checks need from its text: the placeholders
    in order of appearance (DynamoDB reports the first undefined one)."""

    __slots__ = ("kind", "root", "actions", "paths", "refs", "operators", "__weakref__")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.operators = 0  # conditions: how many operators and functions (at most 300)
        self.root: Node | None = None  # conditions
        self.actions: list[Action] = []  # updates
        self.paths: list[Path] = []  # projections
        self.refs: list[str] = []


class _Parser:
    def __init__(self, text: str, kind: str, keywords: frozenset[str]) -> None:
        self.text, self.kind, self.keywords = text, kind, keywords
        self.tokens = tokenize(text)
        self.i = 0
        self.names: list[Token] = []  # unquoted attribute names, in order
        self.calls: list[tuple[Call, bool]] = []  # (call, used as a condition)
        self.sections: list[str] = []

    # tokens ---------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.i]

    def keyword(self, tok: Token) -> str | None:
        if tok.kind == NAME:
            upper = tok.text.upper()
            if upper in self.keywords:
                return upper
        return None

    def error(self, i: int | None = None) -> Exception:
        return syntax_error(self.kind, self.text, self.tokens, self.i if i is None else i)

    def expect_op(self, text: str) -> Token:
        tok = self.peek()
        if not tok.is_op(text):
            raise self.error()
        self.i += 1
        return tok

    def expect_eof(self) -> None:
        if self.peek().kind != EOF:
            raise self.error()

    # conditions -------------------------------------------------------------------------
    def condition(self) -> Node:
        node = self.or_(False)
        self.expect_eof()
        return node

    def or_(self, in_group: bool) -> Node:
        return self.chain("OR", Or, self.and_, in_group)

    def and_(self, in_group: bool) -> Node:
        return self.chain("AND", And, self.not_, in_group)

    def chain(
        self,
        word: str,
        make: Callable[[Node, Node, int], Node],
        side: Callable[[bool], Node],
        in_group: bool,
    ) -> Node:
        """A left-associative run of `side (word side)*`; a bare operand may not follow the word."""
        left = side(in_group)
        while self.keyword(self.peek()) == word:
            start = self.peek().start
            self.i += 1
            right = side(in_group)
            if is_bare_operand(right):
                raise self.error()
            left = make(left, right, start)
        return left

    def not_(self, in_group: bool) -> Node:
        tok = self.peek()
        if self.keyword(tok) == "NOT":
            self.i += 1
            inner = self.not_(in_group)
            if is_bare_operand(inner):
                raise self.error()
            return Not(inner, tok.start)
        return self.predicate(in_group)

    def predicate(self, in_group: bool) -> Node:
        left = self.operand()
        tok = self.peek()
        if tok.kind == OP and tok.text in COMPARATORS:
            at = self.i
            if is_condition(left):
                raise self.error(at)
            self.i += 1
            right = self.operand()
            if is_condition(right):
                raise self.error()
            return Compare(tok.text, left, right, tok.start)
        word = self.keyword(tok)
        if word == "BETWEEN":
            if is_condition(left):
                raise self.error()
            self.i += 1
            low = self.operand()
            if self.keyword(self.peek()) != "AND":
                raise self.error()
            self.i += 1
            high = self.operand()
            if is_condition(low) or is_condition(high):
                raise self.error()
            return Between(left, low, high, tok.start)
        if word == "IN":
            if is_condition(left):
                raise self.error()
            self.i += 1
            self.expect_op("(")
            items = [self.operand()]
            while self.peek().is_op(","):
                self.i += 1
                items.append(self.operand())
            self.expect_op(")")
            if any(is_condition(x) for x in items):
                raise self.error()
            return In(left, items, tok.start)
        if not is_bare_operand(left) or (in_group and tok.is_op(")")):
            return left
        raise self.error()

    def operand(self) -> Node:
        return self.primary(lambda: self.or_(True), self.operand)

    def primary(self, grouped: Callable[[], Node], argument: Callable[[], Node]) -> Node:
        """A parenthesised `grouped`, a call with `argument`s, a path or a value."""
        tok = self.peek()
        if tok.is_op("("):
            self.i += 1
            inner = grouped()
            self.expect_op(")")
            return Group(inner, tok.start)
        if tok.kind == NAME and self.keyword(tok) is None:
            if self.tokens[self.i + 1].is_op("("):
                return self.call(argument)
            return self.path()
        if tok.kind == NAMEREF:
            return self.path()
        if tok.kind == VALREF:
            self.i += 1
            return Value(tok.text, tok.start)
        raise self.error()

    def call(self, argument: Callable[[], Node]) -> Call:
        tok = self.peek()
        self.i += 2
        args: list[Node] = []
        if not self.peek().is_op(")"):
            args.append(argument())
            while self.peek().is_op(","):
                self.i += 1
                args.append(argument())
        self.expect_op(")")
        return Call(tok.text, args, tok.start)

    def path(self) -> Path:
        tok = self.peek()
        start = tok.start
        elems: list[Elem] = [self.path_name(tok)]
        self.i += 1
        while True:
            tok = self.peek()
            if tok.is_op("."):
                self.i += 1
                tok = self.peek()
                if tok.kind not in (NAME, NAMEREF) or self.keyword(tok) is not None:
                    raise self.error()
                elems.append(self.path_name(tok))
                self.i += 1
            elif tok.is_op("["):
                self.i += 1
                tok = self.peek()
                if tok.kind != NUMBER:
                    raise self.error()
                self.i += 1
                self.expect_op("]")
                elems.append(("index", int(tok.text)))
            else:
                return Path(elems, start)

    def path_name(self, tok: Token) -> Elem:
        if tok.kind == NAMEREF:
            return ("ref", tok.text)
        self.names.append(tok)
        return ("name", tok.text)

    # updates ----------------------------------------------------------------------------
    def update(self) -> list[Action]:
        actions: list[Action] = []
        sections: list[str] = []
        while True:
            word = self.keyword(self.peek())
            if word not in SECTIONS:
                raise self.error()
            sections.append(word)
            self.i += 1
            while True:
                actions.append(self.action(word))
                if not self.peek().is_op(","):
                    break
                self.i += 1
            if self.peek().kind == EOF:
                break
        self.sections = sections
        return actions

    def action(self, section: str) -> Action:
        tok = self.peek()
        if tok.kind == NAMEREF or (tok.kind == NAME and self.keyword(tok) is None):
            path = self.path()
        else:
            raise self.error()
        if section == "SET":
            self.expect_op("=")
            return Action("SET", path, self.set_value())
        if section == "REMOVE":
            return Action("REMOVE", path, None)
        tok = self.peek()
        if tok.kind != VALREF:
            raise self.error()
        self.i += 1
        return Action(section, path, Value(tok.text, tok.start))

    def set_value(self) -> Node:
        left = self.set_operand()
        tok = self.peek()
        if tok.kind == OP and tok.text in ("+", "-"):
            self.i += 1
            return Arith(tok.text, left, self.set_operand(), tok.start)
        return left

    def set_operand(self) -> Node:
        return self.primary(self.set_value, self.set_operand)

    # projections ------------------------------------------------------------------------
    def projection(self) -> list[Path]:
        paths = []
        while True:
            tok = self.peek()
            if not (tok.kind == NAMEREF or (tok.kind == NAME and self.keyword(tok) is None)):
                raise self.error()
            paths.append(self.path())
            if not self.peek().is_op(","):
                break
            self.i += 1
        self.expect_eof()
        return paths

    # checks on the text ---------------------------------------------------------------
    def check_parentheses(self) -> None:
        """DynamoDB refuses parentheses that only wrap another pair: ``((a = :v))``. Call and
        IN-list parentheses are not groups, so ``f((a))`` is fine."""
        toks = self.tokens
        match: dict[int, int] = {}
        stack: list[int] = []
        for i, tok in enumerate(toks):
            if tok.is_op("("):
                stack.append(i)
            elif tok.is_op(")"):
                if not stack:
                    return  # unbalanced: the parser will say where
                match[stack.pop()] = i
        if stack:
            return
        for i, j in match.items():
            if self.grouping(i) and toks[i + 1].is_op("(") and match.get(i + 1) == j - 1:
                raise errors.redundant_parens(self.kind)

    def grouping(self, i: int) -> bool:
        if i == 0:
            return True
        before = self.tokens[i - 1]
        if before.kind == NAME:
            return self.keyword(before) not in (None, "IN")
        return True

    def check_calls(self, update: bool) -> None:
        calls = sorted(self.calls, key=lambda c: c[0].start)
        for call, _ in calls:
            if call.name not in FUNCTIONS:
                raise errors.bad_function(self.kind, call.name)
        for call, as_condition in calls:
            if update:
                ok = call.name in UPDATE_FUNCTIONS
            elif as_condition:
                ok = call.name in CONDITION_FUNCTIONS
            else:
                ok = call.name in CONDITION_OPERAND_FUNCTIONS
            if not ok:
                raise errors.misused_function(self.kind, call.name)

    def check_reserved(self) -> None:
        for tok in self.names:
            if tok.text.upper() in RESERVED:
                raise errors.reserved(self.kind, tok.text)

    def collect_calls(self, node: Node, as_condition: bool) -> None:
        """Record each call with where it is used, for the misuse check."""
        if isinstance(node, Call):
            self.calls.append((node, as_condition))
            for arg in node.args:
                self.collect_calls(arg, False)
        elif isinstance(node, Group):
            self.collect_calls(node.inner, as_condition)
        elif isinstance(node, (And, Or)):
            self.collect_calls(node.left, True)
            self.collect_calls(node.right, True)
        elif isinstance(node, Not):
            self.collect_calls(node.operand, True)
        elif isinstance(node, Compare):
            self.collect_calls(node.left, False)
            self.collect_calls(node.right, False)
        elif isinstance(node, Between):
            for x in (node.subject, node.low, node.high):
                self.collect_calls(x, False)
        elif isinstance(node, In):
            self.collect_calls(node.subject, False)
            for x in node.items:
                self.collect_calls(x, False)
        elif isinstance(node, Arith):
            self.collect_calls(node.left, False)
            self.collect_calls(node.right, False)

    def refs(self) -> list[str]:
        return [t.text for t in self.tokens if t.kind in (NAMEREF, VALREF)]


def count_operators(node: Node) -> int:
    while isinstance(node, Group):
        node = node.inner
    if isinstance(node, (And, Or, Compare, Arith)):
        return 1 + count_operators(node.left) + count_operators(node.right)
    if isinstance(node, Not):
        return 1 + count_operators(node.operand)
    if isinstance(node, Between):
        return 1 + sum(count_operators(x) for x in (node.subject, node.low, node.high))
    if isinstance(node, In):
        return 1 + count_operators(node.subject) + sum(count_operators(x) for x in node.items)
    if isinstance(node, Call):
        return 1 + sum(count_operators(x) for x in node.args)
    return 0


def _start(text: str, kind: str, keywords: frozenset[str]) -> _Parser:
    if text == "":
        raise errors.empty(kind)
    return _Parser(text, kind, keywords)


@functools.lru_cache(maxsize=2048)
def parse_condition(text: str, kind: str, check_parens: bool = True) -> Parsed:
    """A condition-like expression (Condition, Filter or KeyCondition) checked on its text.
    KeyConditionExpressions do not get the redundant-parentheses check: DynamoDB accepts
    ``((pk = :v))`` there."""
    p = _start(text, kind, CONDITION_KEYWORDS)
    if check_parens:
        p.check_parentheses()
    root = p.condition()
    p.collect_calls(root, True)
    p.check_calls(update=False)
    p.check_reserved()
    out = Parsed(kind)
    out.root, out.refs = root, p.refs()
    out.operators = count_operators(root)
    return out


@functools.lru_cache(maxsize=2048)
def parse_update(text: str) -> Parsed:
    kind = "UpdateExpression"
    p = _start(text, kind, UPDATE_KEYWORDS)
    p.check_parentheses()
    actions = p.update()
    for action in actions:
        if action.value is not None:
            p.collect_calls(action.value, False)
    p.check_calls(update=True)
    p.check_reserved()
    seen: set[str] = set()
    for word in p.sections:
        if word in seen:
            raise errors.expr_error(kind, f'The "{word}" section can only be used once in an update expression;')
        seen.add(word)
    out = Parsed(kind)
    out.actions, out.refs = actions, p.refs()
    return out


@functools.lru_cache(maxsize=2048)
def parse_projection(text: str) -> Parsed:
    kind = "ProjectionExpression"
    p = _start(text, kind, CONDITION_KEYWORDS)
    paths = p.projection()
    p.check_reserved()
    out = Parsed(kind)
    out.paths, out.refs = paths, p.refs()
    return out
