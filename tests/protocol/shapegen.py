"""Seeded values for any botocore shape: the inputs and outputs of the round-trip suite.

Values are what boto3 users pass and get back: dicts, lists, str, int, float, bool,
bytes, and timezone-aware datetimes (whole milliseconds, since no protocol carries more).
Strings in URI labels, query strings and headers stay within what botocore can send
there; body strings include non-ASCII text. Values are valid for the model: lengths,
sizes and numbers stay within its ``min``/``max``, and every required member is there,
also in a union cut short by the depth limit (patterns aside: no regex is written).
Limits are applied after drawing, so a seed draws the same sequence whatever they are.
"""

from __future__ import annotations

import datetime as dt
import random
import string

from botocore.model import Shape

SAFE = string.ascii_letters + string.digits + "-_.~"
HOST = string.ascii_letters + string.digits + "-."
TEXT = SAFE + " /:+=,@!*'()&$;?#%[]" + "éü✓€中"
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class ShapeGen:
    """`gen(shape)` builds one value; `rng` makes a run repeatable from its seed."""

    def __init__(self, rng: random.Random, max_depth: int = 4, optional_p: float = 0.6) -> None:
        self.rng = rng
        self.max_depth = max_depth
        self.optional_p = optional_p

    def gen(self, shape: Shape, depth: int = 0, location: str | None = None):
        method = getattr(self, "_" + shape.type_name)
        return method(shape, depth, location)

    # structures -------------------------------------------------------------
    def _structure(self, shape, depth, location):
        if shape.is_document_type:
            return self._document(depth)
        members = shape.members
        if shape.is_union if hasattr(shape, "is_union") else shape.metadata.get("union"):
            if not members:
                return {}
            if depth >= self.max_depth:
                return self._smallest(shape, ())
            name = self.rng.choice(sorted(members))
            value = self.gen(members[name], depth + 1, members[name].serialization.get("location"))
            return {name: "text" if value is None else value}  # a union's one member is never null
        required = set(shape.required_members)
        out = {}
        for name, member in members.items():
            loc = member.serialization.get("location")
            if name not in required:
                if depth >= self.max_depth or self.rng.random() > self.optional_p:
                    continue
            if member.metadata.get("idempotencyToken") and name not in required and self.rng.random() < 0.5:
                continue
            if loc == "headers" and depth > 0:
                continue
            out[name] = self.gen(member, depth + 1, loc)
        return out

    def _smallest(self, shape, stack):
        """The smallest valid value: required members only, fewest items, and a union
        member whose value ends (past the depth limit, where a union still needs one)."""
        if shape.name in stack:
            raise _Endless
        stack = stack + (shape.name,)
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return "text"
            if shape.metadata.get("union"):
                for name in sorted(shape.members, key=lambda n: (_cost(shape.members[n]), n)):
                    try:
                        return {name: self._smallest(shape.members[name], stack)}
                    except _Endless:
                        continue
                raise _Endless
            return {n: self._smallest(shape.members[n], stack) for n in shape.required_members}
        if t == "list":
            return [self._smallest(shape.member, stack) for _ in range(shape.metadata.get("min", 0))]
        if t == "map":
            out = {}
            for _ in range(shape.metadata.get("min", 0) * 3):
                if len(out) >= shape.metadata.get("min", 0):
                    break
                out[self._string(shape.key, self.max_depth, None)] = self._smallest(shape.value, stack)
            return out
        return self.gen(shape, self.max_depth)

    def _document(self, depth):
        r = self.rng.random()
        if depth >= 2 or r < 0.3:
            return self.rng.choice(["text", 1, True, None, 2.5])
        if r < 0.6:
            return [self._document(depth + 1) for _ in range(self.rng.randint(0, 2))]
        return {self._word(1, 6): self._document(depth + 1) for _ in range(self.rng.randint(0, 2))}

    def _list(self, shape, depth, location):
        lo = shape.metadata.get("min", 0)
        n = lo if depth >= self.max_depth else self.rng.randint(lo, max(lo, 3))
        member_loc = location if location in ("header", "querystring") else None
        return _at_most(shape, [self.gen(shape.member, depth + 1, member_loc) for _ in range(n)])

    def _map(self, shape, depth, location):
        lo = shape.metadata.get("min", 0)
        n = lo if depth >= self.max_depth else self.rng.randint(lo, max(lo, 3))
        out = {}
        for _ in range(n * 3):
            if len(out) >= n:
                break
            key = self._string(shape.key, depth + 1, "key" if location else None)
            if location == "headers":
                key = self._word(1, 8).lower()
            out[key] = self.gen(shape.value, depth + 1, "header" if location == "headers" else location)
        hi = shape.metadata.get("max")
        return out if hi is None else dict(list(out.items())[:hi])

    # scalars ------------------------------------------------------------------
    def _word(self, lo: int, hi: int, alphabet: str = SAFE) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(lo, hi)))

    def _string(self, shape, depth, location):
        enum = shape.metadata.get("enum")
        if enum:
            return self.rng.choice(enum)
        lo = shape.metadata.get("min", 0)
        hi = shape.metadata.get("max", lo + 12)
        hi = min(hi, max(lo, 1) + 20)
        alphabet = TEXT if location is None else SAFE
        if location in ("uri",):
            lo = max(lo, 1)
        if shape.serialization.get("hostLabel"):
            # it also goes into the host name, where botocore allows only these
            alphabet, lo = HOST, max(lo, 1)
        if shape.serialization.get("jsonvalue") and location == "header":
            # botocore takes JSON-value headers as objects; in a body they are plain strings
            return {"k": self._word(1, 5)}
        return self._word(lo, max(lo, hi), alphabet)

    def _character(self, shape, depth, location):
        return self.rng.choice(SAFE)

    def _integer(self, shape, depth, location):
        if location == "statusCode":
            # an HTTP status, and a success one: botocore reads 3xx and up as errors
            return self.rng.choice((200, 201, 202, 203, 206))
        lo = int(shape.metadata.get("min", -1000))
        hi = int(shape.metadata.get("max", 100000))
        return self.rng.randint(lo, max(lo, hi))

    def _long(self, shape, depth, location):
        lo = int(shape.metadata.get("min", -(2**40)))
        hi = int(shape.metadata.get("max", 2**53))
        return self.rng.randint(lo, max(lo, hi))

    _byte = _short = _integer

    def _float(self, shape, depth, location):
        lo = shape.metadata.get("min", -1e6)
        hi = shape.metadata.get("max", 1e6)
        # halves are exact in binary and in every text form the protocols use, but
        # rounding may step past a fractional bound
        value = round(self.rng.uniform(lo, hi) * 2) / 2 if hi - lo >= 1 else float(lo)
        return float(_clamp(shape, value))

    _double = _float

    def _boolean(self, shape, depth, location):
        return self.rng.random() < 0.5

    def _timestamp(self, shape, depth, location):
        ms = self.rng.randint(0, 30 * 365 * 86400) * 1000
        if location is None and shape.serialization.get("timestampFormat") != "rfc822":
            ms += self.rng.randint(0, 999)
        return _EPOCH + dt.timedelta(milliseconds=ms)

    def _blob(self, shape, depth, location):
        lo = shape.metadata.get("min", 0)
        n = self.rng.randint(lo, max(lo, 24))
        return _at_most(shape, bytes(self.rng.getrandbits(8) for _ in range(n)))


def _at_most(shape, items):
    hi = shape.metadata.get("max")
    return items if hi is None else items[:hi]


def _clamp(shape, value):
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    return value


class _Endless(Exception):
    """A union member whose smallest value would never end."""


def _cost(shape) -> int:
    t = shape.type_name
    if t not in ("structure", "list", "map"):
        return 0
    if t in ("list", "map"):
        return 1 if not shape.metadata.get("min") else 4
    return 3 if shape.metadata.get("union") else 2
