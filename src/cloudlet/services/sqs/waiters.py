"""Long polling: receivers waiting on a queue, woken the moment something may be there.

A waiting ReceiveMessage registers an ``asyncio.Event`` for its queue; whatever makes a
message receivable (a send, a visibility set to 0, a move into the queue) calls
``notify`` after its transaction commits. Senders usually run on the same event loop;
the scheduler's thread (message move tasks) does too, so a waiter is always woken on its
own loop with ``call_soon_threadsafe``.

Time passing makes messages receivable too (a delay or visibility timeout ending, or
the clock being moved forward). The waiter sleeps until the earliest such time it knows
of, and at most ``RECHECK_S`` of real time, then looks at the cloudlet clock again: a
jump of the clock ends a wait at its deadline on the cloudlet clock, not the wall's. A
waiter reads the queue again only when notified, when the clock jumped or when a time it
waited for came: the re-check itself costs a clock read.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Hashable

#: the longest a waiter sleeps without looking at the cloudlet clock again
RECHECK_S = 1.0

_lock = threading.Lock()
_waiting: dict[Hashable, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}


class Waiter:
    """One receiver's registration on one queue (a context manager)."""

    __slots__ = ("key", "event", "_entry")

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.event = asyncio.Event()
        self._entry = (asyncio.get_running_loop(), self.event)

    def __enter__(self) -> "Waiter":
        with _lock:
            _waiting.setdefault(self.key, set()).add(self._entry)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            entries = _waiting.get(self.key)
            if entries is not None:
                entries.discard(self._entry)
                if not entries:
                    del _waiting[self.key]

    async def sleep(self, seconds: float) -> bool:
        """Until notified (True) or `seconds` of real time, capped at RECHECK_S, have passed."""
        try:
            await asyncio.wait_for(self.event.wait(), max(0.0, min(seconds, RECHECK_S)))
            woken = True
        except asyncio.TimeoutError:
            woken = False
        self.event.clear()
        return woken


def notify(key: Hashable) -> None:
    """Wake every receiver waiting on `key`; safe from any thread."""
    with _lock:
        entries = list(_waiting.get(key, ()))
    if not entries:
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for loop, event in entries:
        if loop is running:
            event.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


def waiting(key: Hashable) -> int:
    with _lock:
        return len(_waiting.get(key, ()))
