"""Scalar readers shared by the decoders: text (query, headers, URI, XML) to Python values.

Every protocol ends in the same leaves (an integer in a header, a timestamp in a form
field, a base64 blob in XML text), so the coercions live here once. They raise
:class:`Malformed`, which the decoder turns into the protocol's 400; nothing here knows
about HTTP. Timestamps are read leniently (ISO 8601, HTTP date or epoch seconds, whatever
the trait says) because SDKs disagree on the form and AWS accepts all three.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from cloudlet.core.errors import ServiceError

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

Reader = Callable[[Any], Any]


class Malformed(Exception):
    """Input that cannot be read as the model says; `path` names the member, outermost first."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []

    def at(self, name: str) -> "Malformed":
        self.path.insert(0, name)
        return self

    def describe(self) -> str:
        if not self.path:
            return self.message
        return f"Invalid value for {'.'.join(self.path)}: {self.message}"


# -- timestamps ------------------------------------------------------------------------

_NUMERIC = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?\Z")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_HTTP_DATE = re.compile(r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.\d+)? (?:GMT|UTC|\+0000)\Z")


def epoch_to_datetime(seconds: int | float | Decimal) -> dt.datetime:
    """Epoch seconds to an aware UTC datetime, exact to the microsecond for ints and text."""
    try:
        if isinstance(seconds, int):
            return EPOCH + dt.timedelta(seconds=seconds)
        if isinstance(seconds, float):
            if seconds != seconds or seconds in (float("inf"), float("-inf")):
                raise Malformed("a timestamp must be a finite number")
            # round to microseconds: the float's error is far below one at epoch scale
            return EPOCH + dt.timedelta(microseconds=round(seconds * 1_000_000))
        return EPOCH + dt.timedelta(microseconds=int(seconds * 1_000_000))
    except (OverflowError, ValueError, InvalidOperation):
        raise Malformed(f"timestamp out of range: {seconds}") from None


def timestamp_from_text(text: str) -> dt.datetime:
    """ISO 8601, an HTTP date or epoch seconds: told apart by their first characters."""
    s = text.strip()
    if not s:
        raise Malformed("empty timestamp")
    if _NUMERIC.match(s):
        if len(s) > 40:
            raise Malformed(f"timestamp out of range: {s[:40]}")
        return epoch_to_datetime(Decimal(s) if ("." in s or "e" in s or "E" in s) else int(s))
    if s[0].isalpha() or (s[0].isdigit() and len(s) > 2 and not s[2].isdigit()):
        return _http_date(s)
    try:
        value = dt.datetime.fromisoformat(s)
    except ValueError:
        raise Malformed(f"not a timestamp: {s[:64]!r}") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _http_date(s: str) -> dt.datetime:
    m = _HTTP_DATE.match(s)
    if m is not None:
        month = _MONTHS.get(m.group(2).lower())
        if month is not None:
            try:
                return dt.datetime(int(m.group(3)), month, int(m.group(1)), int(m.group(4)), int(m.group(5)), int(m.group(6)), tzinfo=UTC)
            except ValueError:
                raise Malformed(f"not a timestamp: {s[:64]!r}") from None
    try:  # the rarer RFC 2822 spellings (other zones, no weekday)
        value = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        raise Malformed(f"not a timestamp: {s[:64]!r}") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# -- text leaves -------------------------------------------------------------------------


def _text_string(s: str) -> str:
    return s


def _text_int(s: str) -> int:
    try:
        return int(s)
    except ValueError:
        raise Malformed(f"expected an integer, got {s[:64]!r}") from None


def _text_float(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise Malformed(f"expected a number, got {s[:64]!r}") from None


def _text_bool(s: str) -> bool:
    low = s.strip().lower()
    if low == "true":
        return True
    if low == "false":
        return False
    raise Malformed(f"expected true or false, got {s[:64]!r}")


def blob_from_base64(s: str | bytes) -> bytes:
    """Standard base64; whitespace (line-wrapped encoders) and missing padding tolerated."""
    if isinstance(s, str):
        try:
            raw = s.encode("ascii")
        except UnicodeEncodeError:
            raise Malformed("invalid base64") from None
    else:
        raw = s
    if b" " in raw or b"\n" in raw or b"\r" in raw or b"\t" in raw:
        raw = b"".join(raw.split())
    if len(raw) % 4:
        raw += b"=" * (-len(raw) % 4)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed("invalid base64") from None


def json_from_base64(s: str) -> Any:
    """A ``jsonvalue`` header: base64 of JSON text (that is how botocore sends it)."""
    try:
        return orjson.loads(blob_from_base64(s))
    except orjson.JSONDecodeError:
        raise Malformed("invalid JSON in a base64 JSON value") from None


def _json_text(s: str) -> Any:
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError:
        raise Malformed("invalid JSON value") from None


_TEXT_READERS: dict[str, Reader] = {
    "string": _text_string,
    "character": _text_string,
    "integer": _text_int,
    "long": _text_int,
    "short": _text_int,
    "byte": _text_int,
    "bigInteger": _text_int,
    "float": _text_float,
    "double": _text_float,
    "bigDecimal": _text_float,
    "boolean": _text_bool,
    "timestamp": timestamp_from_text,
    "blob": blob_from_base64,
}


def text_reader(type_name: str, *, jsonvalue: bool = False) -> Reader:
    """The reader turning one text value into the shape's Python type."""
    if jsonvalue:
        return json_from_base64
    reader = _TEXT_READERS.get(type_name)
    if reader is None:
        raise TypeError(f"no text form for shape type {type_name}")
    return reader


def text_reader_for(shape: Any) -> Reader:
    """`text_reader` for a botocore shape (documents in text are JSON)."""
    if shape.type_name == "structure" and getattr(shape, "is_document_type", False):
        return _json_text
    return text_reader(shape.type_name)


def read_present(fields: list[tuple[str, str, Reader]], get: Callable[[str], str | None], out: dict[str, Any]) -> None:
    """Fill ``out[name]`` from each ``(key, name, reader)`` whose text `get(key)` finds
    (a header, an XML attribute); a bad value is reported at its member."""
    for key, name, read in fields:
        text = get(key)
        if text is not None:
            try:
                out[name] = read(text)
            except Malformed as err:
                raise err.at(name) from None


def bad_input(code: str, err: Malformed | RecursionError | str, what: str = "Input") -> ServiceError:
    """The protocol's 400 for input that could not be read.

    A RecursionError is input nested deeper than the readers recurse: it says so of
    `what` ("JSON", "Parameters"...), so every decoder reports it the same way.
    """
    if isinstance(err, Malformed):
        message = err.describe()
    elif isinstance(err, RecursionError):
        message = f"{what} nested too deeply"
    else:
        message = err
    return ServiceError(code, message, 400)
