"""Event patterns: EventBridge rules and SNS subscription filter policies.

One engine serves both because AWS runs both on the same rule language (the open-source
event-ruler): the same operators, the same error texts, the same quirks. The two dialects differ
only in what they accept around it (SNS: no wildcards, at most five keys, at most 150
combinations, no nesting on the ``MessageAttributes`` scope) and in how errors are worded.

    matcher = compile_pattern('{"source": ["aws.ec2"]}')           # parse + validate once
    matcher.matches({"source": "aws.ec2", "detail": {}})             # then only closures run

Semantics (as AWS documents them, and as its engine behaves where the documents are silent):

* a pattern names *leaf* fields by path; each lists alternatives, any of which may match; all
  fields must match (``$or`` lists alternative sets of fields);
* the event is seen as its leaves: arrays are flattened (any element may match), objects are
  not leaves (``exists`` on an object is false), empty arrays have no leaves, ``null`` is a leaf;
* two fields matched inside objects that are different elements of the same array do not
  match together (array consistency);
* keys are joined with dots, so ``{"a": {"b": [1]}}`` and ``{"a.b": [1]}`` name the same field
  in patterns and events alike ("Considerations when creating event patterns");
* numbers compare by value (``[300]`` matches ``3.0e2``); EventBridge compares numerically only
  within +-5.0e9 with at most six decimals, as its engine does.

Errors carry AWS's wording, including the parser location AWS appends
(``\\n at [Source: (String)"..."; line: 1, column: 10]``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Callable, Iterable

__all__ = ["PatternError", "Matcher", "compile_pattern"]

EVENTBRIDGE = "eventbridge"
SNS = "sns"
#: SNS FilterPolicyScope values
MESSAGE_ATTRIBUTES = "MessageAttributes"
MESSAGE_BODY = "MessageBody"

SNS_MAX_KEYS = 5
SNS_MAX_COMBINATIONS = 150
#: EventBridge compares numbers only inside this range, to six decimals (event-ruler)
NUMERIC_LIMIT = 5e9
#: simultaneously live wildcard states one field may have (event-ruler's complexity check)
WILDCARD_COMPLEXITY_LIMIT = 10
#: $or alternatives multiply out; past this a pattern is refused as too complex (our guard:
#: AWS documents no number, and the expansion is exponential in nested $or)
MAX_BRANCHES = 1000

_EB_PREFIX = "Event pattern is not valid. Reason: "
_SNS_PREFIX = "Invalid parameter: "
_SNS_SUBSCRIBE_PREFIX = "Invalid parameter: Attributes Reason: "
_TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
    "sequences after a wildcard character"
)
#: names that may not be fields inside a "$or" branch (event-ruler reserves them)
_OR_RESERVED = frozenset(
    "exactly equals-ignore-case prefix suffix anything-but exists wildcard numeric cidr "
    "= < <= > >= regex not-wildcard not-equals-ignore-case date-after date-on-or-after "
    "date-before date-on-or-before in-date-range ip-address-in-range "
    "ip-address-not-in-range".split()
)


class PatternError(ValueError):
    """An invalid pattern; str(err) is the message AWS gives (EventBridge: InvalidEventPatternException's message; SNS: the InvalidParameter message for FilterPolicy).

    ``reason`` is the text after AWS's prefix. SNS words the prefix differently for Subscribe
    (``Invalid parameter: Attributes Reason: ...``) than for SetSubscriptionAttributes
    (``Invalid parameter: ...``, the default ``str``): use ``subscribe_message`` there.
    """

    def __init__(self, message: str, reason: str, subscribe_message: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.subscribe_message = subscribe_message or message


class _Invalid(Exception):
    """Internal: a rule-language error before the dialect wraps it."""

    def __init__(self, reason: str, kind: str = "policy", located: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # "policy" (FilterPolicy: ...) or "scope" (SNS nesting message)
        self.located = located  # reason already ends with the parser location


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


# ------------------------------------------------------------------------------------------
# Values: the leaf tests a field's alternatives compile to
# ------------------------------------------------------------------------------------------


class _Field:
    """One field's alternatives, grouped by the event value type each can match."""

    __slots__ = ("exact_str", "exact_num", "literals", "str_tests", "num_tests", "any_tests",
                 "absent_ok", "wildcards")

    def __init__(self) -> None:
        self.exact_str: set[str] = set()
        self.exact_num: set[float] = set()
        self.literals: list[Any] = []  # True / False / None matched by identity
        self.str_tests: list[Callable[[str], bool]] = []
        self.num_tests: list[Callable[[float], bool]] = []
        self.any_tests: list[Callable[[Any], bool]] = []  # exists:true, anything-but
        self.absent_ok = False  # exists:false
        self.wildcards: list[str] = []  # raw wildcard texts, for the complexity check

    def test(self) -> Callable[[Any], bool]:
        """One closure for the leaf test; the common single-kind shapes get a direct one."""
        exact_str = frozenset(self.exact_str)
        exact_num = frozenset(self.exact_num)
        literals = tuple(self.literals)
        str_tests = tuple(self.str_tests)
        num_tests = tuple(self.num_tests)
        any_tests = tuple(self.any_tests)
        if not (exact_num or literals or str_tests or num_tests or any_tests):
            return lambda v: v.__class__ is str and v in exact_str

        def test(v: Any) -> bool:
            cls = v.__class__
            if cls is str:
                if v in exact_str:
                    return True
                for string_test in str_tests:
                    if string_test(v):
                        return True
            elif cls is int or cls is float:
                if v in exact_num:
                    return True
                for number_test in num_tests:
                    if number_test(v):
                        return True
            else:
                for lit in literals:
                    if v is lit:
                        return True
            for any_test in any_tests:
                if any_test(v):
                    return True
            return False

        return test


_EXACT = Context(prec=10_000, rounding=ROUND_HALF_UP)  # BigDecimal's arithmetic: no rounding


def _decimal(text: str) -> Decimal:
    return _EXACT.create_decimal(text)


def _exact_number(text: str) -> int | float:
    """A pattern number for equality: integers stay ints, so long account numbers compare exactly."""
    d = _decimal(text)
    if d == d.to_integral_value() and abs(d) < 10**30:
        return int(d)  # ints and floats compare by value
    return float(d)


def _comparable_text(text: str) -> float:
    """A pattern number as event-ruler accepts it for numeric matching, or _Invalid."""
    number = _EXACT.normalize(_decimal(text))
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        rounded = number.quantize(Decimal("0.000001"), context=_EXACT)
        raise _Invalid(f"Only values upto 6 decimals are supported{number} {text} {_java_hex(float(rounded))}")
    if not -NUMERIC_LIMIT <= number <= NUMERIC_LIMIT:
        raise _Invalid("Value must be between -5.0E9 and 5.0E9, inclusive")
    return float(number)


def _java_hex(x: float) -> str:
    """Java's Double.toHexString for a finite double."""
    if x == 0:
        return "-0x0.0p0" if str(x).startswith("-") else "0x0.0p0"
    h = float.hex(x)  # e.g. '0x1.8000000000000p+3'
    sign = "-" if h.startswith("-") else ""
    mant, exp = h.lstrip("-")[2:].split("p")
    whole, frac = mant.split(".")
    frac = frac.rstrip("0") or "0"
    return f"{sign}0x{whole}.{frac}p{int(exp)}"


def _event_comparable(v: float) -> bool:
    """Whether an event number takes part in numeric matching (event-ruler's limits)."""
    if v.__class__ is int:
        return -5_000_000_000 <= v <= 5_000_000_000
    return -NUMERIC_LIMIT <= v <= NUMERIC_LIMIT and round(v, 6) == v


def _range_test(lo: float | None, lo_open: bool, hi: float | None, hi_open: bool,
                limited: bool) -> Callable[[float], bool]:
    def test(v: float) -> bool:
        if lo is not None and (v <= lo if lo_open else v < lo):
            return False
        if hi is not None and (v >= hi if hi_open else v > hi):
            return False
        return not limited or _event_comparable(v)

    return test


# IP addresses, parsed the way event-ruler does (Java's InetAddress behind two regexes) -------

_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


def _ip(text: str) -> tuple[int, int] | None:
    """(version, integer) for an IP literal, None for anything else."""
    if _IPV4.fullmatch(text):
        parts = [int(p) for p in text.split(".")]
        if any(p > 255 for p in parts):
            return None
        return 4, (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
    if _IPV6.fullmatch(text):
        try:
            addr = ipaddress.IPv6Address(text)
        except ValueError:
            return None
        if addr.ipv4_mapped is not None:  # Java hands these back as IPv4 addresses
            return 4, int(addr.ipv4_mapped)
        return 6, int(addr)
    return None


def _cidr(text: str) -> Callable[[str], bool]:
    slashed = text.split("/")
    if len(slashed) != 2 or not slashed[1]:
        raise _Invalid("Malformed CIDR, one '/' required")
    try:
        bits = int(slashed[1])
    except ValueError:
        raise _Invalid("Malformed CIDR, mask bits must be an integer") from None
    if bits < 0:
        raise _Invalid("Malformed CIDR, mask bits must not be negative")
    ip = _ip(slashed[0])
    if ip is None:
        if _IPV4.fullmatch(slashed[0]) or _IPV6.fullmatch(slashed[0]):
            raise _Invalid(f"Invalid IP address: {slashed[0]}")
        raise _Invalid(f"Nonstandard IP address: {slashed[0]}")
    version, base = ip
    width = 32 if version == 4 else 128
    if bits > width - 1:
        raise _Invalid(f"IPv{version} mask bits must be < {width}")
    top = base | ((1 << (width - bits)) - 1)  # the bottom is the address as given, unmasked

    def test(v: str) -> bool:
        got = _ip(v)
        return got is not None and got[0] == version and base <= got[1] <= top

    return test


# wildcards ------------------------------------------------------------------------------------

_STAR = object()


def _wildcard_tokens(text: str) -> list[Any]:
    """Characters and _STAR; raises _Invalid the way event-ruler's parser does (byte positions
    count the opening quote event-ruler puts around the value)."""
    out: list[Any] = []
    data = text.encode("utf-8")
    i, n = 0, len(data)
    chars = iter(text)
    while i < n:
        ch = next(chars)
        size = len(ch.encode("utf-8"))
        if ch == "*":
            if i + 1 < n and data[i + 1] == 0x2A:
                raise _Invalid(f"Consecutive wildcard characters at pos {i + 1}")
            out.append(_STAR)
        elif ch == "\\":
            nxt = data[i + 1] if i + 1 < n else None
            if nxt not in (0x2A, 0x5C):
                raise _Invalid(f"Invalid escape character at pos {i + 1}")
            out.append(next(chars))
            i += 1
        else:
            out.append(ch)
        i += size
    return out


def _wildcard_regex(text: str) -> re.Pattern[str]:
    parts = [".*" if t is _STAR else re.escape(t) for t in _wildcard_tokens(text)]
    return re.compile("".join(parts), re.DOTALL)


def _wildcard_complexity(texts: Iterable[str]) -> int:
    """Most NFA positions that can be live at once over all wildcard values of one field.

    event-ruler refuses a rule when a worst-case input would keep too many wildcard prefixes
    alive; this counts live positions of a position automaton over the quoted value, which puts
    AWS's documented cases on the right side of WILDCARD_COMPLEXITY_LIMIT.
    """
    autos = []
    alphabet: set[str] = set()
    for text in texts:
        toks = ['"', *_wildcard_tokens(text), '"']
        alphabet.update(t for t in toks if t is not _STAR)
        autos.append(toks)
    if not autos:
        return 0
    start = frozenset((a, 0) for a in range(len(autos)))

    def close(states: frozenset[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        out = set(states)
        todo = list(states)
        while todo:
            a, i = todo.pop()
            toks = autos[a]
            if i < len(toks) and toks[i] is _STAR and (a, i + 1) not in out:
                out.add((a, i + 1))
                todo.append((a, i + 1))
        return frozenset(out)

    def live(states: frozenset[tuple[int, int]]) -> int:
        return sum(1 for a, i in states if i < len(autos[a]) and (autos[a][i] is _STAR or i > 0))

    seen = {close(start)}
    todo = list(seen)
    worst = 0
    symbols = [*alphabet, None]  # None: any byte no value names
    while todo and worst <= WILDCARD_COMPLEXITY_LIMIT:
        cur = todo.pop()
        for sym in symbols:
            nxt = set()
            for a, i in cur:
                toks = autos[a]
                if i >= len(toks):
                    continue
                if toks[i] is _STAR:
                    nxt.add((a, i))
                elif toks[i] == sym:
                    nxt.add((a, i + 1))
            if not nxt:
                continue
            state = close(frozenset(nxt))
            worst = max(worst, live(state))
            if state not in seen and len(seen) < 5000:
                seen.add(state)
                todo.append(state)
    return worst


# ------------------------------------------------------------------------------------------
# The rule compiler: event-ruler's grammar, walked over the tokens
# ------------------------------------------------------------------------------------------

Branch = dict[str, "_Field"]  # one $or alternative: dotted field name -> its alternatives


class _Compiler:
    def __init__(self, text: str, dialect: str) -> None:
        self.lex = _Lexer(text)
        self.dialect = dialect
        self.limited = dialect == EVENTBRIDGE  # EventBridge's numeric range/precision limits

    def compile(self) -> list[Branch]:
        lex = self.lex
        if lex.next() != "{":
            raise lex.fail("Filter is not an object")
        rules: list[Branch] = []
        self.parse_object(rules, [], in_or=False)
        return rules

    # objects -----------------------------------------------------------------------------
    def parse_object(self, rules: list[Branch], path: list[str], in_or: bool) -> None:
        lex = self.lex
        present = False
        while lex.next() != "}":
            present = True
            name = lex.name
            if name == "$or":
                self.parse_or(rules, path)
                continue
            if in_or and name in _OR_RESERVED:
                raise lex.fail(f"{name} is Ruler reserved fieldName which cannot be used inside $or.")
            tok = lex.next()
            if tok == "{":
                self.parse_object(rules, [*path, name], in_or)
            elif tok == "[":
                self.write_rules(rules, ".".join([*path, name]))
            else:
                raise lex.fail(f'"{name}" must be an object or an array')
        if not present:
            raise lex.fail("Empty objects are not allowed")

    def parse_or(self, rules: list[Branch], path: list[str]) -> None:
        lex = self.lex
        current = [dict(r) for r in rules]
        rules.clear()
        if lex.next() != "[":
            raise lex.fail("It must be an Array followed with $or.")
        count = 0
        while lex.next() != "]":
            count += 1
            if lex.tok != "{":
                raise lex.fail("Only JSON object is allowed in array of $or relationship.")
            branch_rules = [dict(r) for r in current] or [{}]
            self.parse_object(branch_rules, path, in_or=True)
            rules.extend(branch_rules)
        if count < 2:
            raise lex.fail("There must have at least 2 Objects in $or relationship.")
        if len(rules) > MAX_BRANCHES:
            raise _Invalid(_TOO_COMPLEX)

    def write_rules(self, rules: list[Branch], name: str) -> None:
        lex = self.lex
        field = _Field()
        count = 0
        while lex.next() != "]":
            count += 1
            tok = lex.tok
            if tok == "{":
                self.match_expression(field)
            elif tok == "str":
                self.exact_string(field, lex.text())
            elif tok == "num":
                field.exact_num.add(_exact_number(lex.num_text))
            elif tok in ("true", "false", "null"):
                field.literals.append(lex.value)
            else:
                raise lex.fail("Match value must be String, number, true, false, or null")
        if not count:
            raise lex.fail("Empty arrays are not allowed")
        if not rules:
            rules.append({})
        for rule in rules:
            rule[name] = field

    @staticmethod
    def exact_string(field: _Field, text: str) -> None:
        field.exact_str.add(text)
        ip = _ip(text)
        if ip is not None:  # event-ruler turns IP literals into ranges: equal addresses match
            field.str_tests.append(lambda v: _ip(v) == ip)

    # match expressions -------------------------------------------------------------------
    def match_expression(self, field: _Field) -> None:
        lex = self.lex
        if lex.next() != "name":
            raise lex.fail("Match expression name not found")
        op = lex.name
        if op == "exactly":
            field.exact_str.add(self.string_operand("exact match pattern must be a string"))
            self.close_expression()
        elif op in ("prefix", "suffix"):
            self.prefix_suffix(field, op)
        elif op == "numeric":
            if lex.next() != "[":
                raise lex.fail("Value of numeric must be an array.")
            field.num_tests.append(self.numeric())
            if lex.next() != "}":
                raise lex.fail("Too many elements in numeric expression")
        elif op == "anything-but":
            self.anything_but(field)
        elif op == "exists":
            tok = lex.next()
            if tok not in ("true", "false"):
                raise lex.fail("exists match pattern must be either true or false.")
            if tok == "true":
                field.any_tests.append(_always)
            else:
                field.absent_ok = True
            self.close_expression()
        elif op == "cidr":
            if lex.next() != "str":
                raise lex.fail("prefix match pattern must be a string")
            field.str_tests.append(_cidr(lex.text()))  # event-ruler reports these without a location
            self.close_expression()
        elif op == "equals-ignore-case":
            text = self.string_operand("equals-ignore-case match pattern must be a string")
            field.str_tests.append(_ignore_case(text, "equals"))
            self.close_expression()
        elif op == "wildcard" and self.dialect == EVENTBRIDGE:
            text = self.string_operand("wildcard match pattern must be a string")
            try:
                regex = _wildcard_regex(text)
            except _Invalid as err:
                raise lex.fail(err.reason) from None
            field.str_tests.append(_fullmatch(regex))
            field.wildcards.append(text)
            self.close_expression()
        else:
            raise lex.fail(f"Unrecognized match type {op}")

    def string_operand(self, message: str) -> str:
        if self.lex.next() != "str":
            raise self.lex.fail(message)
        return self.lex.text()

    def close_expression(self) -> None:
        if self.lex.next() != "}":
            raise self.lex.fail("Only one key allowed in match expression")

    def prefix_suffix(self, field: _Field, op: str) -> None:
        lex = self.lex
        tok = lex.next()
        if tok == "{":
            title = op.capitalize()
            if lex.next() != "name":
                raise lex.fail(f"{title} expression name not found")
            if lex.name != "equals-ignore-case":
                raise lex.fail(f"Unsupported {op} pattern: {lex.name}")
            text = self.string_operand("equals-ignore-case match pattern must be a string")
            field.str_tests.append(_ignore_case(text, op))
            self.close_expression()
            self.close_expression()
            return
        if tok != "str":
            raise lex.fail(f"{op} match pattern must be a string")
        text = lex.text()
        field.str_tests.append(_starts(text) if op == "prefix" else _ends(text))
        self.close_expression()

    def numeric(self) -> Callable[[float], bool]:
        lex = self.lex
        if lex.next() != "str":
            raise lex.fail(f"Invalid member in numeric match: {lex.text()}")
        op = lex.text()
        tok = lex.next()
        try:
            if op == "=":
                if tok != "num":
                    raise lex.fail("Value of equals must be numeric")
                text = lex.num_text
                if lex.next() != "]":
                    raise lex.fail("Too many elements in numeric expression")
                value = self.number(text)
                return _range_test(value, False, value, False, self.limited)
            if op in (">=", ">"):
                if tok != "num":
                    raise lex.fail(f"Value of {op} must be numeric")
                bottom = lex.num_text
                tok = lex.next()
                if tok == "]":
                    return _range_test(self.number(bottom), op == ">", None, False, self.limited)
                return self.numeric_range(tok, bottom, op == ">")
            if op in ("<=", "<"):
                if tok != "num":
                    raise lex.fail(f"Value of {op} must be numeric")
                top = lex.num_text
                if lex.next() != "]":
                    raise lex.fail("Too many elements in numeric expression")
                return _range_test(None, False, self.number(top), op == "<", self.limited)
            raise lex.fail(f"Unrecognized numeric range operator: {op}")
        except _Invalid as err:
            if err.located:
                raise
            raise lex.fail(err.reason) from None

    def numeric_range(self, tok: str | None, bottom: str, open_bottom: bool) -> Callable[[float], bool]:
        lex = self.lex
        if tok != "str":
            raise lex.fail(f"Bad value in numeric range: {lex.text()}")
        op = lex.text()
        if op not in ("<", "<="):
            raise lex.fail(f"Bad numeric range operator: {op}")
        if lex.next() != "num":
            raise lex.fail(f"Value of {op} must be numeric")
        top = lex.num_text
        if lex.next() != "]":
            raise lex.fail("Too many terms in numeric range expression")
        lo, hi = self.number(bottom), self.number(top)
        if _decimal(bottom) >= _decimal(top):
            raise _Invalid("Bottom must be less than top")
        return _range_test(lo, open_bottom, hi, op == "<", self.limited)

    def number(self, text: str) -> float:
        if self.limited:
            return _comparable_text(text)
        return float(_decimal(text))

    def anything_but(self, field: _Field) -> None:
        lex = self.lex
        kind = "values"
        tok = lex.next()
        if tok == "{":
            if lex.next() != "name":
                raise lex.fail("Anything-But expression name not found")
            sub = lex.name
            allowed = {"equals-ignore-case", "prefix", "suffix"}
            if self.dialect == EVENTBRIDGE:
                allowed.add("wildcard")
            if sub not in allowed:
                raise lex.fail(f"Unsupported anything-but pattern: {sub}")
            kind = sub
            tok = lex.next()
        if tok not in ("[", "str", "num"):
            raise lex.fail("Value of anything-but must be an array or single string/number value.")
        if kind == "values":
            test = self.anything_but_values(tok)
        else:
            test = self.anything_but_set(tok, kind, field)
        field.any_tests.append(test)
        if lex.next() != "}":
            raise lex.fail("Too many elements in numeric expression")
        if kind != "values" and lex.next() != "}":
            raise lex.fail("Too many elements in numeric expression")

    def anything_but_values(self, tok: str | None) -> Callable[[Any], bool]:
        lex = self.lex
        strings: set[str] = set()
        numbers: set[float] = set()
        if tok == "[":
            while True:
                try:
                    tok = lex.next()
                    if tok == "]":
                        break
                    if tok == "str":
                        strings.add(lex.text())
                    elif tok == "num":
                        numbers.add(self.anything_but_number(lex.num_text))
                    else:
                        raise lex.fail("Inside anything but list, start|null|boolean is not supported.")
                except _Invalid as err:  # event-ruler re-reports these, location and all
                    raise lex.fail(err.reason) from None
            if bool(strings) == bool(numbers):
                raise lex.fail(
                    "Inside anything but list, either all values are number or string, mixed "
                    "type is not supported"
                )
        elif tok == "str":
            strings.add(lex.text())
        else:
            numbers.add(self.anything_but_number(lex.num_text))
        if strings:
            frozen = frozenset(strings)
            return lambda v: not (v.__class__ is str and v in frozen)
        nums = frozenset(numbers)
        return lambda v: not ((v.__class__ is int or v.__class__ is float) and v in nums)

    def anything_but_number(self, text: str) -> float:
        if self.limited:
            _comparable_text(text)
        return _exact_number(text)

    def anything_but_set(self, tok: str | None, kind: str, field: _Field) -> Callable[[Any], bool]:
        lex = self.lex
        if kind == "equals-ignore-case":
            type_error = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
        elif kind == "wildcard":
            type_error = "wildcard match pattern must be a string"
        else:
            type_error = "prefix/suffix match pattern must be a string"
        values: list[str] = []

        def take() -> None:
            if lex.tok != "str":
                raise lex.fail(type_error)
            text = lex.text()
            if kind in ("prefix", "suffix") and not text:
                raise lex.fail("Null prefix/suffix not allowed")
            values.append(text)

        if tok == "[":
            while True:
                try:
                    if lex.next() == "]":
                        break
                    take()
                except _Invalid as err:
                    raise lex.fail(err.reason) from None
        else:
            take()
        if kind == "equals-ignore-case":
            lowered = frozenset(v.lower() for v in values)
            uppered = frozenset(v.upper() for v in values)
            return lambda v: not (v.__class__ is str and (v.lower() in lowered or v.upper() in uppered))
        if kind == "prefix":
            prefixes = tuple(values)
            return lambda v: not (v.__class__ is str and v.startswith(prefixes))
        if kind == "suffix":
            suffixes = tuple(values)
            return lambda v: not (v.__class__ is str and v.endswith(suffixes))
        regexes = []
        for text in values:
            try:
                regexes.append(_wildcard_regex(text).fullmatch)
            except _Invalid as err:
                raise lex.fail(err.reason) from None
        field.wildcards.extend(values)
        return lambda v: not (v.__class__ is str and any(m(v) for m in regexes))


def _always(v: Any) -> bool:
    return True


def _starts(text: str) -> Callable[[str], bool]:
    return lambda v: v.startswith(text)


def _ends(text: str) -> Callable[[str], bool]:
    return lambda v: v.endswith(text)


def _fullmatch(regex: re.Pattern[str]) -> Callable[[str], bool]:
    match = regex.fullmatch
    return lambda v: match(v) is not None


def _ignore_case(text: str, how: str) -> Callable[[str], bool]:
    """Case-insensitive equals/prefix/suffix; a character matches its lower or upper case."""
    low, up = text.lower(), text.upper()
    if how == "equals":
        return lambda v: v.lower() == low or v.upper() == up
    if how == "prefix":
        return lambda v: v.lower().startswith(low) or v.upper().startswith(up)
    return lambda v: v.lower().endswith(low) or v.upper().endswith(up)


# ------------------------------------------------------------------------------------------
# SNS limits, counted on the parsed policy
# ------------------------------------------------------------------------------------------


def _sns_limits(policy: Any, scope: str) -> None:
    if not isinstance(policy, dict):
        return
    if len(policy) > SNS_MAX_KEYS:
        raise _Invalid(f"Filter policy can not have more than {SNS_MAX_KEYS} keys")
    if scope == MESSAGE_ATTRIBUTES and _nested(policy):
        raise _Invalid("Filter policy scope MessageAttributes does not support nested filter policy", "scope")
    if _combinations(policy, 1) > SNS_MAX_COMBINATIONS:
        raise _Invalid("Filter policy is too complex")


def _nested(obj: dict[str, Any]) -> bool:
    for key, value in obj.items():
        if isinstance(value, dict):
            return True
        if key == "$or" and isinstance(value, list):
            if any(isinstance(b, dict) and _nested(b) for b in value):
                return True
    return False


def _combinations(obj: dict[str, Any], depth: int) -> int:
    """SNS's count: values x depth per key, multiplied; $or branches add up."""
    total = 1
    for key, value in obj.items():
        if key == "$or" and isinstance(value, list):
            total *= sum(_combinations(b, depth) for b in value if isinstance(b, dict)) or 1
        elif isinstance(value, dict):
            total *= _combinations(value, depth + 1)
        elif isinstance(value, list):
            total *= len(value) * depth or 1
    return total


# ------------------------------------------------------------------------------------------
# Matching: walk only the paths a pattern names
# ------------------------------------------------------------------------------------------

_MISSING = object()
_SLOW = object()
_END = -1
Membership = tuple[tuple[int, int], ...]  # (id of an event array, element index) for each array
Leaves = list[tuple[Any, Membership]]
Plan = list[tuple[tuple[str, int], ...]]
Field = tuple[Plan, Callable[[Any], bool], bool]  # walk plan, leaf test, exists:false


def _plan(name: str) -> Plan:
    """For each dot position in the field name, the event keys that may continue it there.

    ``a.b.c`` at offset 0 may be key ``a`` (then ``b.c``), ``a.b`` (then ``c``) or ``a.b.c``.
    Returned as a list indexed by step, each step's candidates pointing at the next step.
    """
    segments = name.split(".")
    n = len(segments)
    steps: list[tuple[tuple[str, int], ...]] = []
    for i in range(n):
        cands = []
        for j in range(i + 1, n + 1):
            cands.append((".".join(segments[i:j]), j if j < n else _END))
        steps.append(tuple(cands))
    return steps


def _collect(node: Any, plan: Plan, step: int, memb: Membership, out: Leaves) -> None:
    """Append (leaf, array membership) for every leaf the field name reaches in ``node``."""
    cls = node.__class__
    if step == _END:
        if cls is list:
            _crush(node, memb, out)
        elif cls is not dict:
            out.append((node, memb))
        return
    if cls is dict:
        for key, nxt in plan[step]:
            child = node.get(key, _MISSING)
            if child is not _MISSING:
                _collect(child, plan, nxt, memb, out)
    elif cls is list:
        ident = id(node)
        for idx, item in enumerate(node):
            _collect(item, plan, step, (*memb, (ident, idx)), out)


def _crush(items: list[Any], memb: Membership, out: Leaves) -> None:
    ident = id(items)
    for idx, item in enumerate(items):
        cls = item.__class__
        if cls is list:
            _crush(item, (*memb, (ident, idx)), out)
        elif cls is not dict:
            out.append((item, (*memb, (ident, idx))))


def _merge(acc: dict[int, int], memb: Membership) -> dict[int, int] | None:
    """Join array memberships; None when the leaf sits in another element of a shared array."""
    if not memb:
        return acc
    merged = None
    for ident, idx in memb:
        have = acc.get(ident)
        if have is None:
            if merged is None:
                merged = dict(acc)
            merged[ident] = idx
        elif have != idx:
            return None
    return acc if merged is None else merged


def _getter(name: str) -> Callable[[Any], Any]:
    """The fast walk to one field: its value (a scalar or a list of them), _MISSING, or _SLOW
    when an array of objects or a dotted event key lies on the way (the general walk decides)."""
    segments = name.split(".")
    if len(segments) == 1:
        key = name

        def get_top(node: Any) -> Any:
            if node.__class__ is not dict:
                return _MISSING
            value = node.get(key, _MISSING)
            return _MISSING if value.__class__ is dict else value

        return get_top
    n = len(segments)
    chain = tuple(
        (seg, tuple(".".join(segments[i:j]) for j in range(i + 2, n + 1)))
        for i, seg in enumerate(segments)
    )

    def get(node: Any) -> Any:
        for seg, dotted in chain:
            cls = node.__class__
            if cls is not dict:
                return _SLOW if cls is list else _MISSING
            for key in dotted:
                if key in node:
                    return _SLOW
            node = node.get(seg, _MISSING)
            if node is _MISSING:
                return _MISSING
        return _MISSING if node.__class__ is dict else node

    return get


def _scalars(items: list[Any]) -> list[Any]:
    """The leaves of a list value: nested lists flattened, objects skipped."""
    out = []
    for item in items:
        cls = item.__class__
        if cls is list:
            out.extend(_scalars(item))
        elif cls is not dict:
            out.append(item)
    return out


def _branch_matcher(branch: Branch) -> Callable[[Any], bool]:
    """A closure testing one $or branch: every field in it, array-consistently."""
    names = sorted(branch)  # event-ruler visits fields in name order; exists:false depends on it
    fields: list[Field] = [(_plan(n), branch[n].test(), branch[n].absent_ok) for n in names]
    fast = [(_getter(n), test, absent_ok) for n, (_, test, absent_ok) in zip(names, fields)]

    def match(event: Any) -> bool:
        for get, test, absent_ok in fast:
            value = get(event)
            if value.__class__ is list:
                for leaf in _scalars(value):
                    if test(leaf):
                        break
                else:
                    if absent_ok and not _scalars(value):
                        continue
                    return False
            elif value is _MISSING:
                if not absent_ok:
                    return False
            elif value is _SLOW:
                return _general(fields, event)
            elif not test(value):
                return False
        return True

    return match


def _general(fields: list[Field], event: Any) -> bool:
    """Every field's leaves with their array memberships, then a consistent choice of them."""
    found = []
    for plan, _, absent_ok in fields:
        out: Leaves = []
        _collect(event, plan, 0, (), out)
        if not out and not absent_ok:
            return False
        found.append(out)
    return _search(fields, found, 0, {})


def _search(fields: list[Field], found: list[Leaves], k: int, acc: dict[int, int]) -> bool:
    if k == len(fields):
        return True
    _, test, absent_ok = fields[k]
    leaves = found[k]
    if absent_ok and all(_merge(acc, memb) is None for _, memb in leaves):
        if _search(fields, found, k + 1, acc):
            return True
    for leaf, memb in leaves:
        if test(leaf):
            merged = _merge(acc, memb)
            if merged is not None and _search(fields, found, k + 1, merged):
                return True
    return False


class Matcher:
    """A compiled pattern: parsing and validation happened once; ``matches`` runs closures."""

    __slots__ = ("_test", "dialect", "text")

    def __init__(self, test: Callable[[Any], bool], dialect: str, text: str) -> None:
        self._test = test
        self.dialect = dialect
        self.text = text

    def matches(self, event: dict[str, Any]) -> bool:
        """True when the event (a plain dict, as parsed from JSON) satisfies the pattern."""
        return self._test(event)


def compile_pattern(pattern: dict[str, Any] | str, *, dialect: str = "eventbridge",
                    scope: str = MESSAGE_ATTRIBUTES) -> Matcher:
    """Parse and validate once (JSON text or dict); dialect "eventbridge" or "sns".

    ``scope`` is SNS's FilterPolicyScope (``MessageAttributes``, the AWS default, refuses
    nested policies; ``MessageBody`` allows them); EventBridge ignores it.
    Raises PatternError with AWS's message for the dialect.
    """
    if dialect not in (EVENTBRIDGE, SNS):
        raise ValueError(f"unknown dialect {dialect!r}")
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    try:
        branches = _Compiler(text, dialect).compile()  # AWS reports grammar errors first
        if dialect == SNS:
            start = len(text) - len(text.lstrip())
            _sns_limits(json.JSONDecoder().raw_decode(text, start)[0], scope)  # text after it is ignored
        else:
            _check_wildcards(branches)
    except _Invalid as err:
        raise _error(err, dialect) from None
    matchers = [_branch_matcher(b) for b in branches]
    if len(matchers) == 1:
        return Matcher(matchers[0], dialect, text)
    return Matcher(lambda event: any(m(event) for m in matchers), dialect, text)


def _check_wildcards(branches: list[Branch]) -> None:
    per_field: dict[str, list[str]] = {}
    seen: set[int] = set()
    for branch in branches:
        for name, field in branch.items():
            if field.wildcards and id(field) not in seen:
                seen.add(id(field))
                per_field.setdefault(name, []).extend(field.wildcards)
    for texts in per_field.values():
        if _wildcard_complexity(texts) > WILDCARD_COMPLEXITY_LIMIT:
            raise _Invalid(_TOO_COMPLEX)


def _error(err: _Invalid, dialect: str) -> PatternError:
    if dialect == EVENTBRIDGE:
        return PatternError(_EB_PREFIX + err.reason, err.reason)
    tail = err.reason if err.kind == "scope" else "FilterPolicy: " + err.reason
    return PatternError(_SNS_PREFIX + tail, err.reason, _SNS_SUBSCRIBE_PREFIX + tail)
