"""Scalar renderings shared by the encoders: timestamps, floats, blobs, XML text, headers.

Handlers return Python values (aware datetimes or epoch seconds, bytes or str blobs);
each protocol writes them in its own text form. These helpers are the one place the
forms are spelled, so every protocol agrees on rounding (whole milliseconds: no AWS
protocol carries more) and on what XML cannot carry.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from typing import Any, Callable

import orjson

_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _aware(value: Any) -> dt.datetime:
    """A UTC datetime from what a handler may return (naive datetimes are taken as UTC)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=_UTC)
        return value.astimezone(_UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _EPOCH + dt.timedelta(milliseconds=int(round(value * 1000)))
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def epoch_seconds(value: Any) -> int | float:
    """Seconds since the epoch, to the millisecond; whole seconds stay ints (shorter, exact)."""
    ms: int
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_UTC)
        delta = value - _EPOCH
        ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int):
            return value
        ms = int(round(value * 1000))
    else:
        ms = int((_aware(value) - _EPOCH).total_seconds() * 1000)
    if ms % 1000 == 0:
        return ms // 1000
    return ms / 1000


def iso8601(value: Any) -> str:
    """``2015-01-25T08:00:00Z``, with ``.123`` when there are milliseconds."""
    t = value if value.__class__ is dt.datetime and value.tzinfo is _UTC else _aware(value)
    ms = t.microsecond // 1000
    base = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{base}.{ms:03d}Z" if ms else base + "Z"


def rfc822(value: Any) -> str:
    """The HTTP date (``Wed, 21 Oct 2015 07:28:00 GMT``): whole seconds, as HTTP has."""
    t = _aware(value)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT"
    )


def text_timestamp(fmt: str | None, default: str) -> Callable[[Any], str]:
    """The text form for a `timestampFormat` trait (or the location's default)."""
    fmt = fmt or default
    if fmt == "rfc822":
        return rfc822
    if fmt == "unixTimestamp":
        return lambda v: str(epoch_seconds(v))
    return iso8601


def float_text(value: Any) -> str:
    """Floats as the text protocols spell them, including ``NaN`` and ``Infinity``."""
    value = float(value)
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value)) + ".0"
    return repr(value)


def json_float(value: Any) -> Any:
    """A float for a JSON body: JSON has no NaN/Infinity, so AWS sends them as strings."""
    if value - value == 0:  # false exactly for NaN and the infinities
        return value
    return float_text(value)


def b64(value: Any) -> str:
    """Base64 text of a blob; handlers may return str, taken as UTF-8."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


def as_bytes(value: Any) -> bytes:
    """A blob's bytes, whatever bytes-like or text form the handler used."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    read = getattr(value, "read", None)
    if read is not None:
        data = read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise TypeError(f"not a blob: {type(value).__name__}")


def json_text(value: Any) -> str:
    """A `jsonvalue` string member given as a Python object: its JSON text."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode("utf-8")


def bool_text(value: Any) -> str:
    return "true" if value else "false"


# XML -------------------------------------------------------------------------
# Characters XML 1.0 cannot carry at all, not even as references: C0 controls other
# than tab/newline/CR, lone surrogates, U+FFFE and U+FFFF. They become U+FFFD (the
# replacement character) so the document stays well-formed and the value keeps its
# length; AWS services reject or url-encode such values, so they are rare in output.
XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_SPECIAL = re.compile('[&<>"\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
_INVALID = {c: "\ufffd" for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]}
_INVALID.update({c: "\ufffd" for c in range(0xD800, 0xE000)})
_TEXT_TABLE = {**_INVALID, ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\r"): "&#13;"}
_ATTR_TABLE = {**_TEXT_TABLE, ord('"'): "&quot;", ord("\n"): "&#10;", ord("\t"): "&#9;"}


def xml_text(value: str) -> str:
    """Element text: escaped, CR kept as a reference (parsers fold a bare CR into LF)."""
    if XML_SPECIAL.search(value) is None:
        return value
    return value.translate(_TEXT_TABLE)


def xml_attr(value: str) -> str:
    """Attribute text: as element text, plus quotes and the whitespace parsers normalise."""
    if _ATTR_SPECIAL.search(value) is None:
        return value
    return value.translate(_ATTR_TABLE)


# headers -----------------------------------------------------------------------
_HEADER_BREAK = re.compile("[\r\n\x00]")


def header_text(value: str) -> str:
    """A header value that cannot split the response: CR, LF and NUL become spaces."""
    if _HEADER_BREAK.search(value) is None:
        return value
    return _HEADER_BREAK.sub(" ", value)


__all__ = [
    "as_bytes",
    "b64",
    "bool_text",
    "epoch_seconds",
    "float_text",
    "header_text",
    "iso8601",
    "json_float",
    "json_text",
    "rfc822",
    "text_timestamp",
    "xml_attr",
    "xml_text",
]
