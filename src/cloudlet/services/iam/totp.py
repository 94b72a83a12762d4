"""RFC 6238 time-based one-time passwords (HMAC-SHA1, 6 digits, 30 s steps), as virtual
MFA devices compute them."""

from __future__ import annotations

import hashlib
import hmac
import struct

STEP_S = 30
DIGITS = 6


def code_at(secret: bytes, counter: int) -> str:
    """The code for one time step (RFC 4226 HOTP with dynamic truncation)."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def counter_at(epoch_s: float) -> int:
    return int(epoch_s // STEP_S)


def match(secret: bytes, code: str, epoch_s: float, window: int = 1) -> int | None:
    """The time step `code` belongs to, within ±`window` steps of now; None if none."""
    now = counter_at(epoch_s)
    for counter in range(now - window, now + window + 1):
        if hmac.compare_digest(code_at(secret, counter), code):
            return counter
    return None
