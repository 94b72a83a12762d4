"""JSON tokens, positioned the way AWS's parser (Jackson) reports them, so errors carry its columns."""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core.patterns.common import _Invalid

# ------------------------------------------------------------------------------------------
# JSON tokens, positioned the way AWS's parser (Jackson) reports them
# ------------------------------------------------------------------------------------------

_WS = frozenset(" \t\r\n")
_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _Lexer:
    """A pull tokenizer that consumes input exactly as Jackson does, so error columns agree.

    Jackson reads a field name together with the start of its value (the opening quote of a
    string, a whole number or literal); a string's body is consumed only when its text is read.
    """

    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.stack: list[list[Any]] = []  # [kind, entries, line, col] per open container
        self.pending: str | None = None  # value token read along with a field name
        self.open_string = False  # a string token whose body is not consumed yet
        self.tok: str | None = None
        self.name = ""
        self.value: Any = None
        self.num_text = ""

    # locations ---------------------------------------------------------------------------
    def source(self) -> str:
        """Jackson's source description: the text, cut at 500 characters."""
        src = self.src
        if len(src) <= 500:
            return f'[Source: (String)"{src}"'
        return f'[Source: (String)"{src[:500]}"[truncated {len(src) - 500} chars]'

    def location(self, back: int = 0) -> str:
        col = self.pos - self.line_start + 1 - back
        return f"\n at {self.source()}; line: {self.line}, column: {col}]"

    def fail(self, reason: str, back: int = 0) -> _Invalid:
        return _Invalid(reason + self.location(back), located=True)

    def _unexpected(self, ch: str, comment: str) -> _Invalid:
        return self.fail(f"Unexpected character ({_char_desc(ch)}): {comment}", back=1)

    # reading -----------------------------------------------------------------------------
    def _read(self) -> str | None:
        """Next non-blank character, consumed; None at the end."""
        src, n = self.src, len(self.src)
        while self.pos < n:
            ch = src[self.pos]
            self.pos += 1
            if ch in _WS:
                if ch == "\n":
                    self.line += 1
                    self.line_start = self.pos
                continue
            return ch
        return None

    def text(self) -> str:
        """The current token's text, finishing a string (Jackson's getText)."""
        if self.tok == "str":
            if self.open_string:
                self.value = self._string_body()
                self.open_string = False
            return str(self.value)
        if self.tok == "name":
            return self.name
        if self.tok == "num":
            return self.num_text
        return self.tok or ""  # brackets and literals are their own text

    def next(self) -> str | None:
        self.tok = self._next()
        return self.tok

    def _next(self) -> str | None:
        if self.pending is not None:
            tok, self.pending = self.pending, None
            if tok in ("{", "["):
                self.stack.append([tok, 0, self.line, self.pos - self.line_start])
            return tok
        if self.open_string:
            self._string_body()
            self.open_string = False
        ch = self._read()
        if ch is None:
            raise self._eof(": expected close marker for {what} (start marker at {start})")
        ctx = self.stack[-1] if self.stack else None
        if ch in "]}" and ctx is not None:
            if ctx[0] == ("[" if ch == "]" else "{"):
                self.stack.pop()
                return ch
            kind, _, line, col = ctx
            want, what = ("]", "Array") if kind == "[" else ("}", "Object")
            raise self.fail(
                f"Unexpected close marker '{ch}': expected '{want}' (for {what} starting at "
                f"{self.source()}; line: {line}, column: {col}])"
            )
        if ctx is not None:
            if ctx[1]:
                where = "Object" if ctx[0] == "{" else "Array"
                if ch != ",":
                    raise self._unexpected(ch, f"was expecting comma to separate {where} entries")
                ch = self._read()
                if ch is None:
                    raise self._eof(f" within/between {where} entries")
            ctx[1] += 1
            if ctx[0] == "{":
                if ch != '"':
                    raise self._unexpected(ch, "was expecting double-quote to start field name")
                self.name = self._string_body()
                ch = self._read()
                if ch != ":":
                    if ch is None:
                        raise self._eof(": expected close marker for {what} (start marker at {start})")
                    raise self._unexpected(ch, "was expecting a colon to separate field name and value")
                ch = self._read()
                if ch is None:
                    raise self._eof(" within/between Object entries")
                self.pending = self._start_value(ch)
                return "name"
        tok = self._start_value(ch)
        if tok in ("{", "["):
            self.stack.append([tok, 0, self.line, self.pos - self.line_start])
        return tok

    def _eof(self, template: str) -> _Invalid:
        kind, _, line, col = self.stack[-1] if self.stack else ("{", 0, 1, 1)
        what = "OBJECT" if kind == "{" else "ARRAY"
        start = f"{self.source()}; line: {line}, column: {col}]"
        return self.fail("Unexpected end-of-input" + template.format(what=what, start=start))

    def _start_value(self, ch: str) -> str:
        if ch == '"':
            self.open_string = True
            return "str"
        if ch in "{[":
            return ch
        if ch == "-" or ch in _DIGITS:
            return self._number(ch)
        if ch in _LITERALS:
            word, val = _LITERALS[ch]
            end = self.pos - 1 + len(word)
            if self.src[self.pos - 1 : end] == word and not _ident(self.src, end):
                self.pos = end
                self.value = val
                return word
            return self._bad_token()
        if ch.isalpha() or ch == "_" or ch == "$":
            return self._bad_token()
        raise self._unexpected(
            ch, "expected a valid value (JSON String, Number, Array, Object or token 'null', "
            "'true' or 'false')"
        )

    def _bad_token(self) -> str:
        start = self.pos - 1
        end = self.pos
        while _ident(self.src, end):
            end += 1
        self.pos = end
        word = self.src[start:end]
        raise self.fail(
            f"Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object or "
            "token 'null', 'true' or 'false')"
        )

    def _number(self, first: str) -> str:
        src, start = self.src, self.pos - 1
        m = _NUMBER.match(src, start)
        assert m is not None  # the pattern matches the empty string
        text = m.group(0)
        end = start + len(text)
        nxt = src[end] if end < len(src) else ""
        if not m.group(1):
            self.pos = end + 1
            if not nxt:
                raise self.fail("Unexpected end-of-input in numeric value")
            raise self._unexpected(
                nxt, "expected digit (0-9) to follow minus sign, for valid numeric value"
            )
        if len(m.group(1)) > 1 and m.group(1)[0] == "0":
            self.pos = start + (text[0] == "-") + 1
            raise self.fail("Invalid numeric value: Leading zeroes not allowed")
        if nxt in (".", "e", "E") and nxt:
            self.pos = end + 1
            after = src[end + 1] if end + 1 < len(src) else ""
            what = "Decimal point" if nxt == "." else "Exponent indicator"
            if not after:
                raise self.fail("Unexpected end-of-input in numeric value")
            self.pos += 1
            raise self._unexpected(after, f"{what} not followed by a digit")
        self.pos = end
        self.num_text = text
        return "num"

    def _string_body(self) -> str:
        src, n = self.src, len(self.src)
        out: list[str] = []
        i = self.pos
        while True:
            j = i
            while j < n and src[j] != '"' and src[j] != "\\" and src[j] >= " ":
                j += 1
            out.append(src[i:j])
            if j >= n:
                self.pos = n
                raise self.fail("Unexpected end-of-input: was expecting closing quote for a string value")
            ch = src[j]
            if ch == '"':
                self.pos = j + 1
                return "".join(out)
            if ch < " ":
                self.pos = j + 1
                raise self.fail(
                    f"Illegal unquoted character ((CTRL-CHAR, code {ord(ch)})): has to be escaped "
                    "using backslash to be included in string value",
                    back=1,
                )
            esc = src[j + 1] if j + 1 < n else ""
            if esc == "u":
                hexd = src[j + 2 : j + 6]
                if len(hexd) < 4 or any(c not in "0123456789abcdefABCDEF" for c in hexd):
                    self.pos = j + 2
                    raise self.fail("Unexpected character in hex escape: expected a hex-digit", back=1)
                out.append(chr(int(hexd, 16)))
                i = j + 6
            elif esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                i = j + 2
            else:
                self.pos = j + 2
                raise self.fail(f"Unrecognized character escape {_char_desc(esc)}", back=1)


_NUMBER = re.compile(r"-?([0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DIGITS = frozenset("0123456789")


def _ident(src: str, i: int) -> bool:
    return i < len(src) and (src[i].isalnum() or src[i] in "_$")


def _char_desc(ch: str) -> str:
    code = ord(ch) if ch else -1
    if code < 32:
        return f"CTRL-CHAR, code {code}"
    return f"'{ch}' (code {code})" + ("" if code < 128 else f" / 0x{code:x}")


