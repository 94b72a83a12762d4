"""What a service keeps for the life of one gateway, in memory: a thread pool, a buffer,
an index of what it already created. Tests run several gateways in one process, so such
state hangs off the gateway, never off a module global."""

from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_lock = threading.Lock()


def get(gateway: Any, name: str, make: Callable[[], T]) -> T:
    """The gateway's `name` attribute, made by `make` on first use (once, however many
    threads ask at the same time)."""
    value = getattr(gateway, name, None)
    if value is None:
        with _lock:
            value = getattr(gateway, name, None)
            if value is None:
                value = make()
                setattr(gateway, name, value)
    return value
