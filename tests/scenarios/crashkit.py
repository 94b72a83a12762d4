"""What the kill -9 tests share: let writers run until a seeded number of acknowledgements,
then SIGKILL the server with requests in flight."""

from __future__ import annotations

import threading
from typing import Any, Protocol

from tests.cloud import Cloud


class Acks(Protocol):
    failures: list[str]
    round_count: int
    cond: threading.Condition


def kill_after(cloud: Cloud, threads: list[threading.Thread], acks: Acks, target: int, stop: threading.Event, seed: Any) -> None:
    """Start `threads`, SIGKILL `cloud` once `target` writes were acknowledged this round
    (or a writer failed, or all stopped), then stop and join the writers."""
    with acks.cond:
        acks.round_count = 0
    for t in threads:
        t.start()
    try:
        with acks.cond:
            acks.cond.wait_for(
                lambda: acks.round_count >= target or acks.failures or not any(t.is_alive() for t in threads),
                timeout=30,
            )
    finally:
        cloud.kill()
        stop.set()
        for t in threads:
            t.join(30)
    assert not acks.failures, f"seed {seed}: {acks.failures[:3]}"
    assert cloud.proc.returncode == -9
