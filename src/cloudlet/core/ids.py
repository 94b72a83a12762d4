"""Identifiers AWS hands out: request ids and the like."""

from __future__ import annotations

import os
import uuid


def request_id() -> str:
    """A UUID-shaped request id, as most AWS services return."""
    return str(uuid.UUID(bytes=os.urandom(16), version=4))
