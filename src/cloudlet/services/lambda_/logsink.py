"""Ships each invocation's log to CloudWatch Logs, as the Lambda service does.

The events go to the function's log group (``spec.log_group``, ``/aws/lambda/<name>``
unless its LoggingConfig says otherwise) and the sandbox's stream (``Result.log_stream``),
through the in-process Logs client as ``lambda.amazonaws.com``: PutLogEvents, creating the
group and stream the first time they are missing. A group or stream seen once is
remembered, so a warm invocation costs one PutLogEvents.

Where cloudlet has no CloudWatch Logs yet, the last ``KEEP`` lines of each function stay
in memory, readable at ``GET /_cloudlet/lambda/logs?function=<name>`` (optionally
``&account=`` and ``&region=``). A log that cannot be shipped is dropped with a warning:
in AWS too an invocation never fails for its logs.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import parse_qs

import orjson

from cloudlet.core import pergateway
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request, Response
from cloudlet.services import registry
from cloudlet.services.lambda_ import access

if TYPE_CHECKING:
    from cloudlet.services.lambda_.runtime import Result
    from cloudlet.services.lambda_.spec import Target

log = logging.getLogger("cloudlet.lambda.logs")

PRINCIPAL = access.PRINCIPAL
KEEP = 1000  # lines per function kept in memory while Logs is missing
BATCH = 10_000  # PutLogEvents' most events per call
BATCH_BYTES = 1_048_576  # ... and most bytes, counting each message's UTF-8 plus
EVENT_OVERHEAD = 26  # bytes per event

_lock = threading.Lock()


def ship(gateway: Any, target: "Target", result: "Result") -> None:
    """Deliver `result`'s log events; never raises."""
    events = result.log_events
    if not events:
        return
    group, stream = target.spec.log_group, result.log_stream
    try:
        if registry.handler_for("logs", "PutLogEvents") is None:
            _keep(gateway, target, events)
            return
        ctx = access.service_context(gateway, target.account, target.region, "Invoke", "cloudlet-lambda-logs")
        # quiet: one PutLogEvents per invocation is a data event CloudTrail leaves out
        client = ctx.aws("logs", principal=PRINCIPAL, source_arn=target.function_arn, quiet=True)
        known = _known(gateway)
        if (target.account, target.region, group, stream) not in known:
            _ensure(client, group, stream)
            with _lock:
                known.add((target.account, target.region, group, stream))
        for batch in batches(events):
            try:
                client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
            except ServiceError as err:
                if err.code != "ResourceNotFoundException":
                    raise
                _ensure(client, group, stream)  # deleted since we saw it
                client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
    except ServiceError as err:
        log.warning("log of %s not shipped to %s: %s %s", target.function_name, group, err.code, err.message)
    except Exception:  # a bug elsewhere must not fail the invocation: say so loudly
        log.exception("log of %s not shipped to %s", target.function_name, group)


def batches(events: list[tuple[int, str]]) -> Iterator[list[dict[str, Any]]]:
    """`events` as PutLogEvents calls within its limits (a function may print megabytes)."""
    batch: list[dict[str, Any]] = []
    size = 0
    for ms, msg in events:
        n = len(msg.encode()) + EVENT_OVERHEAD
        if batch and (len(batch) == BATCH or size + n > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append({"timestamp": int(ms), "message": msg})
        size += n
    if batch:
        yield batch


def _ensure(client: Any, group: str, stream: str) -> None:
    for call, params in (
        (client.create_log_group, {"logGroupName": group}),
        (client.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
    ):
        try:
            call(**params)
        except ServiceError as err:
            if err.code != "ResourceAlreadyExistsException":
                raise


def _known(gateway: Any) -> set[tuple[str, str, str, str]]:
    return pergateway.get(gateway, "_lambda_log_streams", set)


# in memory, until CloudWatch Logs lands -------------------------------------------------
def _rings(gateway: Any) -> dict[tuple[str, str, str], deque[tuple[int, str]]]:
    return pergateway.get(gateway, "_lambda_log_rings", dict)


def _keep(gateway: Any, target: "Target", events: list[tuple[int, str]]) -> None:
    rings = _rings(gateway)
    key = (target.account, target.region, target.function_name)
    with _lock:
        ring = rings.get(key)
        if ring is None:
            ring = rings[key] = deque(maxlen=KEEP)
        ring.extend(events)


def lines(gateway: Any, function_name: str, account: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
    """The kept lines of a function (every account and region unless named), oldest first."""
    with _lock:
        found = [
            (ms, msg, acct, reg)
            for (acct, reg, name), ring in _rings(gateway).items()
            if name == function_name and account in (None, acct) and region in (None, reg)
            for ms, msg in ring
        ]
    found.sort(key=lambda e: e[0])
    return [{"timestamp": ms, "message": msg, "account": acct, "region": reg} for ms, msg, acct, reg in found]


def admin_logs(gateway: Any, req: Request) -> Response:
    """``GET /_cloudlet/lambda/logs?function=<name>[&account=][&region=]``."""
    q = {k: v[-1] for k, v in parse_qs(req.query).items()}
    name = q.get("function")
    if not name:
        raise ValueError("name the function: /_cloudlet/lambda/logs?function=<name>")
    body = {"function": name, "events": lines(gateway, name, q.get("account"), q.get("region"))}
    return Response(200, [("content-type", "application/json")], orjson.dumps(body))
