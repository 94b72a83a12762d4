"""An order-preserving byte encoding of key attribute values.

DynamoDB orders sort keys by number value (N) and by bytes (S as UTF-8, B); the store
compares record keys as bytes. So each key value is encoded into bytes whose bytewise
order is DynamoDB's order, and a Query is one range scan of the store, never a sort in
Python. Each encoding is self-delimiting, so a table's items are ``table id + enc(pk) +
enc(sk)`` and every item of one partition shares the prefix ``table id + enc(pk)``.

- S, B: the bytes with 0x00 escaped as 0x00 0x01, ended by 0x00 0x00 (a shorter string
  that is a prefix of a longer one sorts first, as in DynamoDB).
- N: a sign byte (0x01 negative, 0x02 zero, 0x03 positive), then for a positive number
  the decimal exponent (biased, 2 bytes) and the significant digits as ASCII ended by 0x00;
  a negative number stores the same bytes inverted (ended by 0xFF), so larger magnitudes
  sort first.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

_END = b"\x00\x00"
_EXACT = Context(prec=100)  # normalize() rounds to its context: never round a key (38 digits)
_BIAS = 1000


def _escape(data: bytes) -> bytes:
    return data.replace(b"\x00", b"\x00\x01")


def encode_string(text: str) -> bytes:
    return _escape(text.encode("utf-8")) + _END


def encode_binary(data: bytes) -> bytes:
    return _escape(bytes(data)) + _END


def encode_number(text: str) -> bytes:
    if text.isdigit() and text.isascii() and text[0] != "0":
        # a positive integer (the common sort key): its digits are the mantissa, trailing
        # zeros dropped as normalize() drops them, and their count the magnitude
        return b"\x03" + (len(text) + _BIAS).to_bytes(2, "big") + text.rstrip("0").encode() + b"\x00"
    d = Decimal(text)
    if d.is_zero():
        return b"\x02"
    sign, digits, exp = d.normalize(_EXACT).as_tuple()
    # value = 0.d1d2d3... x 10^(exp + len(digits)): a larger exponent is a larger magnitude
    magnitude = int(exp) + len(digits)
    body = (magnitude + _BIAS).to_bytes(2, "big") + bytes(48 + x for x in digits) + b"\x00"
    if sign:
        return b"\x01" + bytes(255 - b for b in body)
    return b"\x03" + body


def encode(value: dict[str, Any]) -> bytes:
    """One key attribute value (``{"S": ...}``, ``{"N": ...}``, ``{"B": ...}``)."""
    if "S" in value:
        return encode_string(value["S"])
    if "N" in value:
        return encode_number(value["N"])
    return encode_binary(value["B"])


def prefix_of(value: dict[str, Any]) -> bytes:
    """The encoding every key beginning with `value` starts with (``begins_with``)."""
    if "S" in value:
        return _escape(value["S"].encode("utf-8"))
    return _escape(bytes(value["B"]))


def successor(encoded: bytes) -> bytes:
    """The smallest encoding after every encoding that starts with `encoded`."""
    b = bytearray(encoded)
    while b and b[-1] == 0xFF:
        b.pop()
    if not b:
        return b"\xff" * 8
    b[-1] += 1
    return bytes(b)
