"""A recursive-descent parser for the statements DynamoDB's PartiQL accepts.

Statements: ``SELECT``, ``INSERT INTO ... VALUE``, ``UPDATE ... SET/REMOVE ... WHERE``
(and its FROM-first form ``FROM t WHERE ... SET ...``), ``DELETE FROM``, and
``EXISTS(SELECT ...)`` for ExecuteTransaction. Expressions, loosest first: OR, AND,
NOT, comparisons (= <> != < <= > >= BETWEEN IN IS), + and -, unary minus, terms.
Refusals use DynamoDB's wording (``Statement wasn't well formed, can't be processed:
Unexpected token after expression`` and its siblings).
"""

from __future__ import annotations

from typing import Callable

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.partiql import ast, literals
from cloudlet.services.dynamodb.partiql.lexer import RESERVED, Token, malformed, tokenize
from cloudlet.services.dynamodb.errors import invalid

_COMPARISONS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
#: keywords that continue an expression rather than start one
_OPERATOR_WORDS = frozenset({"IS", "LIKE", "IN", "BETWEEN", "AND", "OR"})
_TYPES = {
    "STRING": "S", "VARCHAR": "S", "CHAR": "S", "CHARACTER": "S", "SYMBOL": "S", "CLOB": "S",
    "INT": "N", "INTEGER": "N", "INT2": "N", "INT4": "N", "INT8": "N", "SMALLINT": "N", "BIGINT": "N",
    "DECIMAL": "N", "DEC": "N", "NUMERIC": "N", "FLOAT": "N", "REAL": "N", "DOUBLE": "N",
    "BOOL": "BOOL", "BOOLEAN": "BOOL", "BLOB": "B", "LIST": "L", "STRUCT": "M", "TUPLE": "M", "BAG": "SET",
}
ALIASING = "Aliasing is not supported"
LEFTOVER = "Unexpected token after expression"


def parse(text: str) -> ast.Parsed:
    p = _Parser(text)
    statement = p.statement()
    return ast.Parsed(statement, p.params)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.params = 0

    # tokens ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def punct(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind in ("punct", "op") and tok.text == text:
            self.pos += 1
            return True
        return False

    def keyword(self, *words: str) -> bool:
        if self.peek().keyword(*words):
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.unexpected()

    def expect_punct(self, text: str) -> None:
        if not self.punct(text):
            raise self.unexpected()

    def unexpected(self) -> ServiceError:
        """The refusal for a token where an expression (or a clause) should start."""
        tok = self.peek()
        if tok.kind == "end" or (tok.kind == "punct" and tok.text in ");,]}"):
            return malformed("Unexpected term")
        if tok.kind == "op" or tok.keyword(*_OPERATOR_WORDS):
            return malformed("Unexpected operator")
        if tok.kind == "name" and tok.upper in RESERVED:
            return malformed("Unexpected keyword")
        return malformed(LEFTOVER)

    # statements -----------------------------------------------------------------------
    def statement(self) -> ast.Statement:
        tok = self.peek()
        stmt: ast.Statement
        if tok.keyword("SELECT"):
            stmt = self.select()
        elif tok.keyword("INSERT"):
            stmt = self.insert()
        elif tok.keyword("UPDATE"):
            stmt = self.update()
        elif tok.keyword("DELETE"):
            stmt = self.delete()
        elif tok.keyword("FROM"):
            stmt = self.from_update()
        elif tok.keyword("EXISTS") and self.peek(1).text == "(":
            self.take()
            self.expect_punct("(")
            if not self.peek().keyword("SELECT"):
                raise self.unexpected()
            stmt = ast.Exists(self.select())
            self.expect_punct(")")
        elif tok.kind == "end":
            raise malformed("Unexpected term")
        else:
            raise malformed("Expected data manipulation")
        self.punct(";")
        if self.peek().kind != "end":
            raise malformed(LEFTOVER)
        return stmt

    def table(self) -> str:
        tok = self.peek()
        if tok.kind == "quoted" or (tok.kind == "name" and tok.upper not in RESERVED):
            self.take()
            return tok.text
        raise malformed("Expected identifier for simple path")

    def no_alias(self) -> None:
        tok = self.peek()
        if tok.keyword("AS") or tok.kind == "quoted" or (tok.kind == "name" and tok.upper not in RESERVED):
            raise invalid(ALIASING)

    def select(self) -> ast.Select:
        self.expect_keyword("SELECT")
        projection: tuple[ast.Path, ...] | None = None
        if not self.punct("*"):
            projection = tuple(self.projected())
        self.expect_keyword("FROM")
        tok = self.peek()
        if tok.kind not in ("name", "quoted") or (tok.kind == "name" and tok.upper in RESERVED):
            raise self.unexpected()
        table = self.table()
        index = None
        if self.punct("."):
            index = self.table()
        self.no_alias()
        where = self.expression() if self.keyword("WHERE") else None
        order: list[tuple[str, bool]] = []
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                path = self.path_or_fail()
                desc = self.keyword("DESC")
                if not desc:
                    self.keyword("ASC")
                order.append((path.name, desc))
                if not self.punct(","):
                    break
        return ast.Select(table, index, projection, where, tuple(order))

    def projected(self) -> list[ast.Path]:
        paths: list[ast.Path] = []
        seen: set[str] = set()
        while True:
            tok = self.peek()
            if tok.kind == "name" and self.peek(1).text == "(":
                raise invalid(f"Unexpected path component at {tok.at()}")
            path = self.path_or_fail()
            if self.peek().keyword("AS"):
                raise invalid(ALIASING)
            label = output_name(path)
            if label in seen:
                raise invalid(f"Duplicate identifiers in select clause: {label}")
            seen.add(label)
            paths.append(path)
            if not self.punct(","):
                return paths

    def insert(self) -> ast.Insert:
        self.expect_keyword("INSERT")
        self.expect_keyword("INTO")
        table = self.table()
        if not self.keyword("VALUE"):
            raise malformed(LEFTOVER)
        value = self.additive()
        if not isinstance(value, ast.MapValue):
            raise malformed("Expected a tuple in VALUE")
        return ast.Insert(table, value)

    def update(self) -> ast.Update:
        self.expect_keyword("UPDATE")
        table = self.table()
        self.no_alias()
        sets, removes = self.clauses()
        where = self.expression() if self.keyword("WHERE") else None
        return ast.Update(table, sets, removes, where, self.returning())

    def from_update(self) -> ast.Update:
        self.expect_keyword("FROM")
        table = self.table()
        self.no_alias()
        where = self.expression() if self.keyword("WHERE") else None
        sets, removes = self.clauses()
        return ast.Update(table, sets, removes, where, self.returning())

    def clauses(self) -> tuple[tuple[ast.Assign, ...], tuple[ast.Path, ...]]:
        sets: list[ast.Assign] = []
        removes: list[ast.Path] = []
        if not self.peek().keyword("SET", "REMOVE"):
            raise self.unexpected()
        while True:
            if self.keyword("SET"):
                while True:
                    path = self.path_or_fail()
                    if not self.punct("="):
                        raise self.unexpected()
                    sets.append(ast.Assign(path, self.additive()))
                    if not self.punct(","):
                        break
            elif self.keyword("REMOVE"):
                while True:
                    removes.append(self.path_or_fail())
                    if not self.punct(","):
                        break
            else:
                return tuple(sets), tuple(removes)

    def returning(self) -> str | None:
        if not self.keyword("RETURNING"):
            return None
        which = self.take()
        when = self.take()
        if not which.keyword("ALL", "MODIFIED") or not when.keyword("OLD", "NEW"):
            raise malformed("Unexpected term")
        self.expect_punct("*")
        return f"{which.upper} {when.upper}"

    def delete(self) -> ast.Delete:
        self.expect_keyword("DELETE")
        self.expect_keyword("FROM")
        table = self.table()
        self.no_alias()
        where = self.expression() if self.keyword("WHERE") else None
        return ast.Delete(table, where, self.returning())

    # expressions ----------------------------------------------------------------------
    def expression(self) -> ast.Expr:
        return self.disjunction()

    def infix_rhs(self, parse: Callable[[], ast.Expr]) -> ast.Expr:
        tok = self.peek()
        if tok.kind == "end" or (tok.kind == "punct" and tok.text in ");"):
            raise malformed("Missing right-hand side expression of infix operator")
        return parse()

    def disjunction(self) -> ast.Expr:
        left = self.conjunction()
        while self.keyword("OR"):
            left = ast.Or(left, self.infix_rhs(self.conjunction))
        return left

    def conjunction(self) -> ast.Expr:
        left = self.negation()
        while self.keyword("AND"):
            left = ast.And(left, self.infix_rhs(self.negation))
        return left

    def negation(self) -> ast.Expr:
        if self.keyword("NOT"):
            return ast.Not(self.negation())
        return self.comparison()

    def comparison(self) -> ast.Expr:
        left = self.additive()
        tok = self.peek()
        if tok.kind == "op" and tok.text in _COMPARISONS:
            self.take()
            return ast.Compare(_COMPARISONS[tok.text], left, self.infix_rhs(self.additive), tok)
        negated = False
        if tok.keyword("NOT") and self.peek(1).keyword("IN", "BETWEEN", "LIKE"):
            self.take()
            negated = True
            tok = self.peek()
        node: ast.Expr
        if tok.keyword("IS"):
            self.take()
            is_not = self.keyword("NOT")
            return ast.Is(left, self.type_name(), is_not, tok)
        if tok.keyword("BETWEEN"):
            self.take()
            low = self.infix_rhs(self.additive)
            self.expect_keyword("AND")
            node = ast.Between(left, low, self.infix_rhs(self.additive), tok)
        elif tok.keyword("IN"):
            self.take()
            node = ast.In(left, self.options(), tok)
        elif tok.keyword("LIKE"):
            raise invalid("Unsupported operator: LIKE")
        else:
            return left
        return ast.Not(node) if negated else node

    def type_name(self) -> str:
        tok = self.take()
        word = tok.upper
        if word in ("MISSING", "NULL"):
            return word
        if word == "DOUBLE":
            self.keyword("PRECISION")
        elif word in ("CHARACTER", "CHAR"):
            self.keyword("VARYING")
        kind = _TYPES.get(word)
        if kind is None:
            raise malformed("Expected type name")
        return kind

    def options(self) -> tuple[ast.Expr, ...]:
        close = {"[": "]", "(": ")"}.get(self.peek().text)
        if close is None or self.peek().kind != "punct":
            if self.peek().kind == "punct" and self.peek().text == "?":
                return (self.term(),)
            raise self.unexpected()
        self.take()
        items: list[ast.Expr] = []
        if not self.punct(close):
            while True:
                items.append(self.additive())
                if self.punct(close):
                    break
                self.expect_punct(",")
        return tuple(items)

    def additive(self) -> ast.Expr:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in ("+", "-"):
                self.take()
                left = ast.Arith(tok.text, left, self.infix_rhs(self.unary), tok)
            else:
                return left

    def unary(self) -> ast.Expr:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("-", "+"):
            nxt = self.peek(1)
            if nxt.kind == "number":
                self.take()
                self.take()
                literals.check_number_token(nxt.text)
                text = nxt.text if tok.text == "+" else "-" + nxt.text
                return ast.Literal({"N": text}, nxt)
        return self.term()

    def term(self) -> ast.Expr:
        tok = self.peek()
        if tok.kind == "string":
            self.take()
            return ast.Literal({"S": tok.text}, tok)
        if tok.kind == "number":
            self.take()
            literals.check_number_token(tok.text)
            return ast.Literal({"N": tok.text}, tok)
        if tok.kind == "punct":
            if tok.text == "?":
                self.take()
                self.params += 1
                return ast.Param(self.params - 1, tok)
            if tok.text == "(":
                self.take()
                inner = self.expression()
                self.expect_punct(")")
                return inner
            if tok.text == "[":
                self.take()
                return ast.ListValue(self.sequence("]"), tok)
            if tok.text == "{":
                self.take()
                return ast.MapValue(self.struct(), tok)
        if tok.kind == "op" and tok.text == "<<":
            self.take()
            return ast.SetValue(self.sequence(">>"), tok)
        if tok.kind == "name":
            if self.peek(1).kind == "punct" and self.peek(1).text == "(":
                return self.call()
            word = tok.upper
            if word in ("TRUE", "FALSE"):
                self.take()
                return ast.Literal({"BOOL": word == "TRUE"}, tok)
            if word == "NULL":
                self.take()
                return ast.Literal({"NULL": True}, tok)
        if tok.kind in ("name", "quoted"):
            return self.path_or_fail()
        raise self.unexpected()

    def sequence(self, close: str) -> tuple[ast.Expr, ...]:
        items: list[ast.Expr] = []
        if self.punct(close):
            return ()
        while True:
            items.append(self.additive())
            if self.punct(close):
                return tuple(items)
            self.expect_punct(",")

    def struct(self) -> tuple[tuple[str, ast.Expr], ...]:
        items: list[tuple[str, ast.Expr]] = []
        if self.punct("}"):
            return ()
        while True:
            key = self.take()
            if key.kind not in ("string", "quoted"):
                raise malformed("Unexpected term")
            self.expect_punct(":")
            items.append((key.text, self.additive()))
            if self.punct("}"):
                return tuple(items)
            self.expect_punct(",")

    def call(self) -> ast.Call:
        name = self.take()
        self.expect_punct("(")
        args: list[ast.Expr] = []
        if not self.punct(")"):
            while True:
                args.append(self.expression())
                if self.punct(")"):
                    break
                self.expect_punct(",")
        return ast.Call(name.text.lower(), tuple(args), name)

    def path_or_fail(self) -> ast.Path:
        tok = self.peek()
        if tok.kind not in ("name", "quoted") or (tok.kind == "name" and tok.upper in RESERVED):
            raise self.unexpected()
        self.take()
        steps: list[str | int] = [tok.text]
        while True:
            if self.punct("."):
                step = self.take()
                if step.kind == "quoted" or (step.kind == "name" and step.upper not in RESERVED):
                    steps.append(step.text)
                    continue
                raise malformed("Invalid path dot component")
            if self.peek().kind == "punct" and self.peek().text == "[":
                self.take()
                idx = self.take()
                if idx.kind == "number" and idx.text.isdigit():
                    steps.append(int(idx.text))
                elif idx.kind == "string":
                    steps.append(idx.text)
                else:
                    raise malformed("Invalid path component")
                self.expect_punct("]")
                continue
            return ast.Path(tuple(steps), tok)


def output_name(path: ast.Path) -> str:
    """The attribute a projected path comes back under: its last named step, with any
    list indexes after it (``m.k[1]`` comes back as ``k[1]``)."""
    last = max(i for i, s in enumerate(path.steps) if isinstance(s, str))
    return str(path.steps[last]) + "".join(f"[{s}]" for s in path.steps[last + 1:])
