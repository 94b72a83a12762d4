"""Tokens of a PartiQL statement, with the line and column each starts at (errors that
name a position say ``at <line>:<column>:<length>``, counted from 1)."""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.core.errors import ServiceError

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "

#: PartiQL keeps SQL-92's reserved words (and adds its own): none may be a bare name.
RESERVED = frozenset("""
ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT AUTHORIZATION AVG BAG
BEGIN BETWEEN BIT BIT_LENGTH BLOB BOOL BOOLEAN BOTH BY CASCADE CASCADED CASE CAST CATALOG CHAR
CHARACTER CHARACTER_LENGTH CHAR_LENGTH CHECK CLOB CLOSE COALESCE COLLATE COLLATION COLUMN COMMIT
CONNECT CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT CORRESPONDING COUNT CREATE CROSS
CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DATE_ADD DATE_DIFF
DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC DESCRIBE DESCRIPTOR
DIAGNOSTICS DISCONNECT DISTINCT DOMAIN DOUBLE DROP ELSE END END-EXEC ESCAPE EXCEPT EXCEPTION
EXEC EXECUTE EXISTS EXTERNAL EXTRACT FALSE FETCH FIRST FLOAT FOR FOREIGN FOUND FROM FULL GET
GLOBAL GO GOTO GRANT GROUP HAVING HOUR IDENTITY IMMEDIATE IN INDEX INDICATOR INITIALLY INNER
INPUT INSENSITIVE INSERT INT INTEGER INTERSECT INTERVAL INTO IS ISOLATION JOIN KEY LANGUAGE LAST
LEADING LEFT LEVEL LIKE LIMIT LIST LOCAL LOWER MATCH MAX MIN MINUTE MISSING MODULE MONTH NAMES
NATIONAL NATURAL NCHAR NEXT NO NOT NULL NULLIF NUMERIC OCTET_LENGTH OF ON ONLY OPEN OPTION OR
ORDER OUTER OUTPUT OVERLAPS PAD PARTIAL PIVOT POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR
PRIVILEGES PROCEDURE PUBLIC READ REAL REFERENCES RELATIVE REMOVE RESTRICT REVOKE RIGHT ROLLBACK
ROWS SCHEMA SCROLL SECOND SECTION SELECT SESSION SESSION_USER SET SEXP SIZE SMALLINT SOME SPACE
SQL SQLCODE SQLERROR SQLSTATE STRING STRUCT SUBSTRING SUM SYMBOL SYSTEM_USER TABLE TEMPORARY
THEN TIME TIMESTAMP TIMEZONE_HOUR TIMEZONE_MINUTE TO TO_STRING TO_TIMESTAMP TRAILING TRANSACTION
TRANSLATE TRIM TRUE TUPLE TXID UNDROP UNION UNIQUE UNKNOWN UNPIVOT UPDATE UPPER USAGE USER USING
UTCNOW VALUE VALUES VARCHAR VARYING VIEW WHEN WHENEVER WHERE WITH WORK WRITE YEAR ZONE
""".split())

#: the operators, longest first so ``<=`` is never read as ``<`` then ``=``
_OPERATORS = ("<<", ">>", "<>", "!=", "<=", ">=", "||", "=", "<", ">", "+", "-", "*", "/", "%")
_PUNCTUATION = "()[]{},.:;?"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "name" | "quoted" | "string" | "number" | "op" | "punct" | "end"
    text: str
    line: int
    column: int
    length: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "name" else ""

    def keyword(self, *words: str) -> bool:
        return self.kind == "name" and self.text.upper() in words

    def at(self) -> str:
        return f"{self.line}:{self.column}:{self.length}"


def malformed(detail: str = "") -> ServiceError:
    return ServiceError("ValidationException", NOT_WELL_FORMED + detail, 400)


def tokenize(text: str) -> list[Token]:
    """The statement's tokens, ended by an ``end`` token; comments (``--`` to the end of
    the line, ``/* */``) are whitespace. A text the lexer cannot read (an unterminated
    string or comment, ``#``) is refused with nothing after the colon, as DynamoDB does."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    line, line_start = 1, 0

    def column(pos: int) -> int:
        return pos - line_start + 1

    while i < n:
        c = text[i]
        if c == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if c.isspace():
            i += 1
            continue
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise malformed()
            for j in range(i, end):
                if text[j] == "\n":
                    line, line_start = line + 1, j + 1
            i = end + 2
            continue
        start = i
        if c == "'" or c == '"':
            value, i = _quoted(text, i, c)
            tokens.append(Token("string" if c == "'" else "quoted", value, line, column(start), i - start))
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            i = _number_end(text, i)
            tokens.append(Token("number", text[start:i], line, column(start), i - start))
            continue
        if c.isalpha() or c == "_" or c == "$":
            while i < n and (text[i].isalnum() or text[i] in "_$"):
                i += 1
            tokens.append(Token("name", text[start:i], line, column(start), i - start))
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            i += len(op)
            tokens.append(Token("op", op, line, column(start), len(op)))
            continue
        if c in _PUNCTUATION:
            i += 1
            tokens.append(Token("punct", c, line, column(start), 1))
            continue
        raise malformed()
    tokens.append(Token("end", "", line, column(i), 0))
    return tokens


def _quoted(text: str, i: int, quote: str) -> tuple[str, int]:
    """A quoted string or name; a doubled quote stands for one."""
    out = []
    i += 1
    while True:
        end = text.find(quote, i)
        if end < 0:
            raise malformed()
        out.append(text[i:end])
        if text.startswith(quote * 2, end):
            out.append(quote)
            i = end + 2
            continue
        return "".join(out), end + 1


def _number_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i].isdigit():
        i += 1
    if i < n and text[i] == "." and not (i + 1 < n and text[i + 1] == "."):
        i += 1
        while i < n and text[i].isdigit():
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j].isdigit():
            while j < n and text[j].isdigit():
                j += 1
            i = j
    return i
