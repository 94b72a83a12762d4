"""Values: the leaf tests a field's alternatives compile to (numbers, CIDR, wildcards, text)."""

from __future__ import annotations

import ipaddress
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Callable, Iterable

from cloudlet.core.patterns.common import NUMERIC_LIMIT, WILDCARD_COMPLEXITY_LIMIT, _Invalid

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


