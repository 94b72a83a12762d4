"""Recursive loop detection: the trace header's ``Lineage`` counts how often one chain of
events has run a function (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).

Each invocation hands its function ``_X_AMZN_TRACE_ID`` (the runtime's
``Lambda-Runtime-Trace-Id``): the caller's ``Root``, a new ``Parent`` and ``Lineage`` with
this function's entry, ``<8 hex of its ARN's hash>:<count>``, one more than the count the
incoming header had for it (entries of other functions travel unchanged, ``|``-separated).
boto3 inside the function sends that header on as ``X-Amzn-Trace-Id``; SQS keeps it as the
message's ``AWSTraceHeader``, SNS and S3 pass it to their deliveries, so the next
invocation sees the count again. When a chain arrives that has already run the function
``LIMIT`` times and the function's recursion config is ``Terminate`` (the default), Lambda
drops the event instead of running it and records ``RecursiveInvocationsDropped``.

Where a loop is stopped: SQS event source mappings and asynchronous invocations (which is
how SNS, S3 and ``InvocationType=Event`` reach a function); a synchronous Invoke only
carries the header on, as AWS does not stop request/response chains either.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from cloudlet.core import clock

#: how many times one chain may run a function; AWS stops "after approximately 16"
LIMIT = 16
ALLOW, TERMINATE = "Allow", "Terminate"
FIELD = "recursion"  # the ``fn`` record's field: "Allow", or absent for Terminate


def tag(function_arn: str) -> str:
    """The function's name in a Lineage: 8 hex of its unqualified ARN's hash."""
    return hashlib.sha256(function_arn.encode()).hexdigest()[:8]


def _fields(header: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (header or "").split(";"):
        key, eq, value = part.strip().partition("=")
        if eq and key:
            out[key] = value
    return out


def _lineage(value: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in value.split("|"):
        name, _, count = entry.strip().partition(":")
        if name and count.isdigit():
            counts[name] = max(counts.get(name, 0), int(count))
    return counts


def count(header: str | None, function_arn: str) -> int:
    """How many times the chain behind `header` has already run the function."""
    fields = _fields(header)
    return _lineage(fields.get("Lineage", "")).get(tag(function_arn), 0)


def highest(headers: list[str | None], function_arn: str) -> str | None:
    """Of a batch's headers (SQS records), the one that has run the function most."""
    best = None
    for h in headers:
        if h and (best is None or count(h, function_arn) > count(best, function_arn)):
            best = h
    return best


def next_header(incoming: str | None, function_arn: str) -> str:
    """The trace header an invocation of the function gets, continuing `incoming`."""
    fields = _fields(incoming)
    root = fields.get("Root") or f"1-{int(clock.time_s()):08x}-{secrets.token_hex(12)}"
    counts = _lineage(fields.get("Lineage", ""))
    mine = tag(function_arn)
    counts[mine] = counts.get(mine, 0) + 1
    lineage = "|".join(f"{name}:{n}" for name, n in counts.items())
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=0;Lineage={lineage}"


def loops(gateway: Any, target: Any, incoming: str | None) -> bool:
    """Whether running `target` for the chain behind `incoming` is a loop to stop: the
    count reached LIMIT and the function's config is Terminate (read only then)."""
    if count(incoming, target.function_arn) < LIMIT:
        return False
    from cloudlet.services.lambda_ import storage

    with gateway.db("lambda").tx(target.account, target.region) as t:
        fn = storage.get_function(t, target.function_name)
    return (fn or {}).get(FIELD, TERMINATE) != ALLOW
