"""Tokens of DynamoDB's expression language, with their offsets in the text.

Offsets matter because DynamoDB's syntax errors quote the source around the bad token:
``near`` is the text from the token before it to the token after it (``"hits : incr"``).
A character the language has no use for becomes an ``ERROR`` token, so the parser reports
it where it stands, in order with other errors.
"""

from __future__ import annotations

import re

from cloudlet.services.dynamodb.expressions import errors

NAME, NAMEREF, VALREF, NUMBER, OP, ERROR, EOF = "NAME", "NAMEREF", "VALREF", "NUMBER", "OP", "ERROR", "EOF"

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n\f]+)"
    r"|(?P<NAMEREF>\#[A-Za-z0-9_]+)"
    r"|(?P<VALREF>:[A-Za-z0-9_]+)"
    r"|(?P<NAME>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<NUMBER>[0-9]+)"
    r"|(?P<OP><>|<=|>=|[=<>()\[\],.+\-])"
)


class Token:
    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind, self.text, self.start, self.end = kind, text, start, end

    def is_op(self, text: str) -> bool:
        return self.kind == OP and self.text == text

    def __repr__(self) -> str:
        return f"{self.kind}({self.text!r}@{self.start})"


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with one EOF token."""
    out: list[Token] = []
    pos, n = 0, len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            out.append(Token(ERROR, text[pos], pos, pos + 1))
            pos += 1
            continue
        kind = m.lastgroup
        if kind != "ws":
            out.append(Token(kind or ERROR, m.group(), pos, m.end()))
        pos = m.end()
    out.append(Token(EOF, "<EOF>", n, n))
    return out


def syntax_error(kind: str, text: str, tokens: list[Token], i: int) -> Exception:
    """DynamoDB's syntax error for the token at index `i`."""
    tok = tokens[i]
    start = tokens[i - 1].start if i > 0 else tok.start
    after = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].kind != EOF else None
    end = after.end if after is not None else (tok.end if tok.kind != EOF else tokens[i - 1].end if i > 0 else tok.end)
    return errors.syntax(kind, tok.text, text[start:end])
