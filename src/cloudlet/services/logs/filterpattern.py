"""CloudWatch Logs' filter pattern language, compiled once per pattern text into a
predicate on a log message. Pure: no store, no clock.

Three forms, as AWS has them:

* **terms** (unstructured text): ``ERROR``, ``"quoted phrase"``, ``ERROR Exception``
  (both), ``?ERROR ?WARN`` (either), ``ERROR -Retry`` (not), ``%regex%``. Terms are
  case-sensitive and match anywhere in the message. Plain terms must all match, and at
  least one ``?`` term when there are any; an excluded term must not match.
* **JSON** ``{ $.level = "ERROR" }``, ``{ $.latency > 100 }``, ``{ ($.a = 1) && ($.b != "x" ||
  $.c IS TRUE) }``: selectors ``$.a.b``, ``$.list[0]``; operators ``= != < <= > >=``; string
  values quoted or bare, ``*`` a wildcard; ``IS NULL``, ``NOT EXISTS``, ``IS TRUE``,
  ``IS FALSE``; ``%regex%`` values. A message that is not a JSON object matches nothing.
* **space-delimited** ``[ip, user, ..., status = 404, size > 1000]``: the message is split
  on spaces (text in ``"..."`` or ``[...]`` is one field), ``...`` stands for any number of
  fields, and a field's condition may join comparisons of named fields with ``&&``/``||``.

Equality of strings is exact (with ``*`` wildcards); numbers compare as numbers.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Callable

Matcher = Callable[[str], bool]
Pred = Callable[[Any], bool]

_MISSING = object()


class PatternError(ValueError):
    """A pattern AWS would refuse (InvalidParameterException with this message)."""


@lru_cache(maxsize=512)
def compile_pattern(text: str) -> Matcher:
    """The predicate for `text` (cached: a pattern is compiled once per text)."""
    stripped = text.strip()
    if not stripped:
        return lambda message: True
    if stripped.startswith("{"):
        if not stripped.endswith("}"):
            raise PatternError("Invalid character(s) in term '" + stripped + "'")
        selectors: dict[str, Callable[[Any], Any]] = {}
        parser = _Parser(_lex(stripped[1:-1]), stripped, lambda name: selectors.setdefault(name, _selector(name)))
        return _json_matcher(parser.expression_only(), selectors)
    if stripped.startswith("["):
        if not stripped.endswith("]"):
            raise PatternError("Invalid character(s) in term '" + stripped + "'")
        return _delimited_matcher(stripped[1:-1], stripped)
    return _terms_matcher(stripped)


# -- terms -------------------------------------------------------------------------------

_TERM = re.compile(r'\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|%((?:[^%\\]|\\.)+)%|([^\s"]+))')


def _terms_matcher(text: str) -> Matcher:
    required: list[Pred] = []
    optional: list[Pred] = []
    excluded: list[Pred] = []
    pos = 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise PatternError(f"Invalid character(s) in term '{text[pos:].strip()}'")
            break
        pos = m.end()
        sign, quoted, regex, bare = m.groups()
        if regex is not None:
            pred = _regex(regex).search
        else:
            term = _unescape(quoted) if quoted is not None else bare
            pred = _contains(term)
        (optional if sign == "?" else excluded if sign == "-" else required).append(pred)

    def match(message: str) -> bool:
        return (all(p(message) for p in required)
                and (not optional or any(p(message) for p in optional))
                and not any(p(message) for p in excluded))

    return match


def _contains(term: str) -> Pred:
    return lambda message: term in message


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _regex(source: str) -> re.Pattern[str]:
    try:
        return re.compile(source.replace("\\%", "%"))
    except re.error as err:
        raise PatternError(f"Invalid regex: {source}: {err}") from None


# -- the expression language shared by JSON and space-delimited patterns -----------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<regex>%(?:[^%\\]|\\.)+%)
    | (?P<op>&&|\|\||<=|>=|!=|=|<|>|\(|\))
    | (?P<word>[^\s()&|<>=!"]+)
    )""",
    re.X,
)


def _lex(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise PatternError(f"Invalid character(s) in term '{text[pos:].strip()}'")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


Expr = Callable[[Callable[[str], Any]], bool]  # evaluated against a field lookup


class _Parser:
    """``or := and (|| and)*; and := unary (&& unary)*; unary := ( or ) | comparison``."""

    def __init__(self, tokens: list[tuple[str, str]], source: str,
                 on_name: Callable[[str], Any] | None = None) -> None:
        self.tokens = tokens
        self.i = 0
        self.source = source
        self.on_name = on_name  # sees each field name as it is parsed (JSON compiles selectors)

    def fail(self) -> PatternError:
        return PatternError(f"Invalid character(s) in term '{self.source}'")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise self.fail()
        self.i += 1
        return tok

    def expression_only(self) -> Expr:
        if not self.tokens:
            raise self.fail()
        e = self.or_()
        if self.peek() is not None:
            raise self.fail()
        return e

    def or_(self) -> Expr:
        parts = [self.and_()]
        while self.peek() == ("op", "||"):
            self.i += 1
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda get: any(p(get) for p in parts))

    def and_(self) -> Expr:
        parts = [self.unary()]
        while self.peek() == ("op", "&&"):
            self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda get: all(p(get) for p in parts))

    def unary(self) -> Expr:
        if self.peek() == ("op", "("):
            self.i += 1
            e = self.or_()
            if self.take() != ("op", ")"):
                raise self.fail()
            return e
        return self.comparison()

    def comparison(self) -> Expr:
        kind, name = self.take()
        if kind != "word":
            raise self.fail()
        if self.on_name is not None:
            self.on_name(name)
        tok = self.take()
        if tok[0] == "word" and tok[1].upper() in ("IS", "NOT"):
            return self._keyword(name, tok[1].upper())
        if tok[0] != "op" or tok[1] in ("(", ")", "&&", "||"):
            raise self.fail()
        value = self.take()
        if value[0] not in ("str", "word", "regex"):
            raise self.fail()
        test = _comparison(tok[1], value, self)
        return lambda get: test(get(name))

    def _keyword(self, name: str, first: str) -> Expr:
        kind, word = self.take()
        word = word.upper()
        if first == "NOT" and word == "EXISTS":
            return lambda get: get(name) is _MISSING
        if first == "IS" and word == "NULL":
            return lambda get: get(name) is None
        if first == "IS" and word in ("TRUE", "FALSE"):
            want = word == "TRUE"
            return lambda get: get(name) is want
        raise self.fail()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _glob(text: str) -> Pred:
    if "*" not in text:
        return lambda v: v == text
    rx = re.compile("".join(".*" if c == "*" else re.escape(c) for c in text) + r"\Z", re.S)
    return lambda v: rx.match(v) is not None


def _comparison(op: str, value: tuple[str, str], parser: _Parser) -> Pred:
    kind, raw = value
    if kind == "regex":
        if op not in ("=", "!="):
            raise parser.fail()
        rx = _regex(raw[1:-1])
        found: Pred = lambda v: isinstance(v, str) and rx.search(v) is not None
        return found if op == "=" else (lambda v: v is not _MISSING and v is not None and not found(v))
    text = _unescape(raw[1:-1]) if kind == "str" else raw
    num = _number(text) if kind == "word" else None
    if op in ("<", "<=", ">", ">="):
        if num is None:
            raise parser.fail()
        cmp = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}[op]
        return lambda v: (n := _as_number(v)) is not None and cmp(n, num)
    if num is not None:
        eq: Pred = lambda v: (n := _as_number(v)) is not None and n == num
    else:
        g = _glob(text)
        eq = lambda v: _as_text(v) is not None and g(_as_text(v))
    if op == "=":
        return eq
    return lambda v: v is not _MISSING and not eq(v)


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None or v is _MISSING:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        return _number(v)
    return None


def _as_text(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return None


# -- JSON --------------------------------------------------------------------------------

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _selector(path: str) -> Callable[[Any], Any]:
    if not path.startswith("$"):
        raise PatternError(f"Invalid selector: {path}")
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise PatternError(f"Invalid selector: {path}")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()

    def get(doc: Any) -> Any:
        for step in steps:
            if isinstance(step, int):
                if not isinstance(doc, list) or step >= len(doc):
                    return _MISSING
                doc = doc[step]
            else:
                if not isinstance(doc, dict) or step not in doc:
                    return _MISSING
                doc = doc[step]
        return doc

    return get


def _json_matcher(expr: Expr, selectors: dict[str, Callable[[Any], Any]]) -> Matcher:
    def match(message: str) -> bool:
        text = message.strip()
        if not text.startswith("{"):
            return False
        try:
            doc = json.loads(text)
        except ValueError:
            return False
        if not isinstance(doc, dict):
            return False
        return expr(lambda path: selectors[path](doc))

    return match


# -- space-delimited ---------------------------------------------------------------------

_FIELD = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')


def _split_fields(message: str) -> list[str]:
    return [f[1:-1] if f[:1] in '"[' and len(f) > 1 else f for f in _FIELD.findall(message)]


def _split_top(text: str) -> list[str]:
    """The pattern's fields: commas outside quotes and parentheses."""
    out, depth, quote, cur = [], 0, False, []
    for ch in text:
        if ch == '"':
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "," and not quote and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


@lru_cache(maxsize=512)
def compile_fields(text: str) -> Callable[[str], dict[str, str]]:
    """For a space-delimited pattern, the named fields a message binds (``{}`` when it does
    not fit, or for other forms): metric filters take ``$name`` values from them."""
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return lambda message: {}
    bind = _delimited_parts(stripped[1:-1], stripped)[0]
    return lambda message: bind(_split_fields(message)) or {}


def _delimited_matcher(body: str, source: str) -> Matcher:
    bind, conditions = _delimited_parts(body, source)

    def match(message: str) -> bool:
        bound = bind(_split_fields(message))
        if bound is None:
            return False
        get = lambda name: bound.get(name, _MISSING)
        return all(c(get) for c in conditions)

    return match


def _delimited_parts(body: str, source: str) -> tuple[Callable[[list[str]], dict[str, str] | None], list[Expr]]:
    specs = _split_top(body) if body.strip() else []
    names: list[str | None] = []  # None: an ellipsis
    conditions: list[Expr] = []
    for i, spec in enumerate(specs):
        if not spec:
            raise PatternError(f"Invalid character(s) in term '{source}'")
        if spec == "...":
            names.append(None)
            continue
        tokens = _lex(spec)
        if not tokens or tokens[0][0] != "word":
            raise PatternError(f"Invalid character(s) in term '{source}'")
        names.append(tokens[0][1])
        if len(tokens) > 1:
            conditions.append(_Parser(tokens, source).expression_only())
    fixed = [i for i, n in enumerate(names) if n is not None]
    ellipses = len(names) - len(fixed)

    def bind(fields: list[str]) -> dict[str, str] | None:
        if ellipses == 0:
            if len(fields) != len(names):
                return None
            return {n: f for n, f in zip(names, fields) if n is not None}
        if len(fields) < len(fixed):
            return None
        # named fields before the first ellipsis bind from the start, after the last
        # from the end; an ellipsis between two names takes what is left (greedy left)
        first = names.index(None)
        last = len(names) - 1 - names[::-1].index(None)
        bound = {}
        for i in range(first):
            bound[names[i]] = fields[i]
        tail = len(names) - 1 - last
        for j in range(tail):
            bound[names[last + 1 + j]] = fields[len(fields) - tail + j]
        middle = [n for n in names[first + 1:last] if n is not None]
        for k, n in enumerate(middle):
            bound[n] = fields[first + k]
        return bound  # type: ignore[return-value]

    return bind, conditions
