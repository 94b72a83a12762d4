"""Wildcards (``*`` ``?``) and policy variables (``${aws:username}``) turned into regexes.

Everything that can be done once per policy text is done at compile time; what depends on the
request (a variable's value) goes through small LRU caches keyed by the final regex text, so a
given user's resolved pattern compiles once, not once per request.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Pattern

# A template part: ("lit", text) wildcards active | ("chr", c) a literal character from ${*}
# ${?} ${$} | ("var", lower-case key, default or None).
Part = tuple

_VAR = re.compile(r"\$\{([^}]*)\}")
_VAR_BODY = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$")


def glob_fragment(text: str) -> str:
    """Regex text for a glob: ``*`` any run, ``?`` any one character, the rest literal."""
    out: list[str] = []
    for ch in text:
        if ch == "*":
            if out and out[-1] == ".*":
                continue  # "**" is "*"; keeps the regex free of stacked quantifiers
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def compile_regex(regex: str, ignore_case: bool = False) -> Pattern[str]:
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_regex(text: str, ignore_case: bool = False) -> Pattern[str]:
    return compile_regex(glob_fragment(text), ignore_case)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def parse_template(text: str) -> tuple[Part, ...] | None:
    """Split a value holding ``${...}`` into parts; None when it holds no variable."""
    if "${" not in text:
        return None
    parts: list[Part] = []
    pos = 0
    found = False
    for m in _VAR.finditer(text):
        body = m.group(1)
        if body in ("*", "?", "$"):
            piece: Part = ("chr", body)
        else:
            bm = _VAR_BODY.match(body)
            if not bm:
                continue  # not a variable: stays literal text
            piece = ("var", bm.group(1).lower(), bm.group(2))
        found = True
        if m.start() > pos:
            parts.append(("lit", text[pos : m.start()]))
        parts.append(piece)
        pos = m.end()
    if not found:
        return None
    if pos < len(text):
        parts.append(("lit", text[pos:]))
    return tuple(parts)


Lookup = Callable[[str], object]


def _var_value(part: Part, lookup: Lookup) -> str | None:
    v = lookup(part[1])
    if v is None or isinstance(v, (list, tuple, set, frozenset)):
        return part[2]  # the default, or None: the element cannot match
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def resolve_string(parts: tuple[Part, ...], lookup: Lookup) -> str | None:
    """The template with variables replaced (wildcards keep no special meaning here)."""
    out = []
    for p in parts:
        if p[0] == "var":
            v = _var_value(p, lookup)
            if v is None:
                return None
            out.append(v)
        else:
            out.append(p[1])
    return "".join(out)


def resolve_glob(parts: tuple[Part, ...], lookup: Lookup, ignore_case: bool = False) -> Pattern[str] | None:
    """A glob template as a compiled regex: variable values and ${*} ${?} ${$} are literal."""
    out = []
    for p in parts:
        if p[0] == "lit":
            out.append(glob_fragment(p[1]))
        elif p[0] == "chr":
            out.append(re.escape(p[1]))
        else:
            v = _var_value(p, lookup)
            if v is None:
                return None
            out.append(re.escape(v))
    return compile_regex("".join(out), ignore_case)


def resolve_glob_ci(parts: tuple[Part, ...], lookup: Lookup) -> Pattern[str] | None:
    return resolve_glob(parts, lookup, True)


def arn_fragment(pieces: list[tuple[bool, str]]) -> str:
    """ArnLike: each of the six colon-separated parts is matched on its own, so a wildcard in
    the first five cannot run over a colon; the resource part (the sixth) may hold colons.
    ``pieces`` are (is_glob, text) so that variable values stay literal."""
    out = []
    colons = 0
    for is_glob, text in pieces:
        for ch in text:
            if ch == ":":
                colons += 1
                out.append(":")
            elif is_glob and ch == "*":
                out.append(".*" if colons >= 5 else "[^:]*")
            elif is_glob and ch == "?":
                out.append("." if colons >= 5 else "[^:]")
            else:
                out.append(re.escape(ch))
    return "".join(out)


def arn_regex(text: str) -> Pattern[str]:
    return compile_regex(arn_fragment([(True, text)]))


def resolve_arn(parts: tuple[Part, ...], lookup: Lookup) -> Pattern[str] | None:
    pieces: list[tuple[bool, str]] = []
    for p in parts:
        if p[0] == "lit":
            pieces.append((True, p[1]))
        elif p[0] == "chr":
            pieces.append((False, p[1]))
        else:
            v = _var_value(p, lookup)
            if v is None:
                return None
            pieces.append((False, v))
    return compile_regex(arn_fragment(pieces))


class Template:
    """A value with policy variables, resolved per request and memoised by the variables'
    values: a user's own ``arn:aws:s3:::home/${aws:username}/*`` builds its regex once."""

    __slots__ = ("parts", "keys", "_memo", "_build")

    def __init__(self, parts: tuple[Part, ...], build: Callable[[tuple[Part, ...], Lookup], object]) -> None:
        self.parts = parts
        self.keys = tuple(p[1] for p in parts if p[0] == "var")
        self._memo: dict[tuple, object] = {}
        self._build = build

    def resolve(self, lookup: Lookup) -> object:
        vals = []
        for k in self.keys:
            v = lookup(k)
            if isinstance(v, (list, set, frozenset)):
                v = None  # multivalued: no single value to put in (the default applies)
            vals.append(v)
        key = tuple(vals)
        memo = self._memo
        try:
            return memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value
            return self._build(self.parts, lookup)
        out = self._build(self.parts, lookup)
        if len(memo) > 1024:
            memo.clear()
        memo[key] = out
        return out
