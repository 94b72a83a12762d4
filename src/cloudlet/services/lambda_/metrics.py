"""The CloudWatch metrics Lambda publishes (namespace ``AWS/Lambda``).

Each invocation that ran records ``Invocations``, ``Errors`` (0 or 1, so Average is the
error rate, as AWS documents), ``Duration`` (ms); a throttled one records ``Throttles``;
each start samples ``ConcurrentExecutions`` (how many of the function's invocations run
at that moment, so the minute's Maximum is the peak). AWS publishes every metric three
times: per ``FunctionName``, per ``FunctionName`` + ``Resource`` (``name:qualifier``) when
invoked through a version or alias, and for the whole account (no dimension), and so do we.
Asynchronous invocation adds ``AsyncEventsReceived``, ``AsyncEventsDropped``,
``DeadLetterErrors`` and ``DestinationDeliveryFailures``; an event dropped as part of a
recursive loop (``lineage``) records ``RecursiveInvocationsDropped``.

Recording goes to core/metrics' in-memory buffer: microseconds, never the store on the
invocation's path.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from cloudlet.core import clock, metrics

if TYPE_CHECKING:
    from cloudlet.services.lambda_.spec import Target

NAMESPACE = "AWS/Lambda"
COUNT, MS = "Count", "Milliseconds"

_lock = threading.Lock()
_running: Counter[tuple[Any, ...]] = Counter()  # per function ARN, and per account+region: running now


def dimension_sets(target: "Target") -> list[dict[str, str]]:
    """The series one invocation of `target` lands in: function, qualified resource, account."""
    sets: list[dict[str, str]] = [{"FunctionName": target.function_name}]
    qualifier = _qualifier(target)
    if qualifier is not None:
        sets.append({"FunctionName": target.function_name, "Resource": f"{target.function_name}:{qualifier}"})
    sets.append({})
    return sets


def _qualifier(target: "Target") -> str | None:
    """The qualifier the caller named (an alias or version), None when unqualified."""
    if target.invoked_arn == target.function_arn:
        return None
    return target.invoked_arn.rsplit(":", 1)[1]


def _put(gateway: Any, target: "Target", samples: list[tuple[str, float, str]]) -> None:
    now = clock.now()
    for dims in dimension_sets(target):
        metrics.record_many(gateway, target.account, target.region, NAMESPACE, dims, samples, now)


def _keys(gateway: Any, target: "Target") -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    return (id(gateway), target.function_arn), (id(gateway), target.account, target.region)


def started(gateway: Any, target: "Target") -> None:
    """An invocation of `target` begins: sample the function's and the account's concurrency."""
    fn_key, account_key = _keys(gateway, target)
    with _lock:
        _running[fn_key] += 1
        _running[account_key] += 1
        mine, everyone = _running[fn_key], _running[account_key]
    now = clock.now()
    for dims in dimension_sets(target):
        value = everyone if not dims else mine
        metrics.record_many(gateway, target.account, target.region, NAMESPACE, dims,
                            [("ConcurrentExecutions", float(value), COUNT)], now)


def _ended(gateway: Any, target: "Target") -> None:
    with _lock:
        for key in _keys(gateway, target):
            _running[key] -= 1
            if _running[key] <= 0:
                del _running[key]


def finished(gateway: Any, target: "Target", duration_ms: float, error: bool) -> None:
    """An invocation ran to its end (a function error included)."""
    _ended(gateway, target)
    _put(gateway, target, [
        ("Invocations", 1.0, COUNT),
        ("Errors", 1.0 if error else 0.0, COUNT),
        ("Duration", float(duration_ms), MS),
    ])


def abandoned(gateway: Any, target: "Target") -> None:
    """An invocation that `started` but never ran (the engine refused it): not counted."""
    _ended(gateway, target)


def throttled(gateway: Any, target: "Target") -> None:
    _put(gateway, target, [("Throttles", 1.0, COUNT)])


def async_received(gateway: Any, target: "Target") -> None:
    _put(gateway, target, [("AsyncEventsReceived", 1.0, COUNT)])


def async_dropped(gateway: Any, target: "Target") -> None:
    _put(gateway, target, [("AsyncEventsDropped", 1.0, COUNT)])


def recursion_dropped(gateway: Any, target: "Target", events: int = 1) -> None:
    _put(gateway, target, [("RecursiveInvocationsDropped", float(events), COUNT)])


def delivery_failed(gateway: Any, target: "Target", dead_letter: bool) -> None:
    _put(gateway, target, [("DeadLetterErrors" if dead_letter else "DestinationDeliveryFailures", 1.0, COUNT)])
