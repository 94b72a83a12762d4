"""One invocation, from any caller: the Invoke handler, the async queue, function URLs
and the event source pollers all run a function through here, so each one is metered
(``metrics``) and logged (``logsink``) the same way.

``run`` blocks (for threads: the scheduler, pollers, in-process calls); ``run_async``
awaits (for the server's event loop, which must never block on a function that may run
for 15 minutes). The engine's refusals come out as AWS's errors via ``refusal``.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING, Any

import orjson

from cloudlet.core.errors import ServiceError
from cloudlet.core.ids import request_id as new_request_id
from cloudlet.services.lambda_ import lineage, logsink, metrics

if TYPE_CHECKING:
    from cloudlet.services.lambda_.runtime import Result
    from cloudlet.services.lambda_.spec import Target

log = logging.getLogger("cloudlet.lambda.invoke")

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # 6291456: RequestResponse
MAX_ASYNC_PAYLOAD = 256 * 1024  # 262144: Event
MAX_CLIENT_CONTEXT = 3583  # bytes of the base64 ClientContext header
TAIL_BYTES = 4096  # LogType Tail: the last 4 KB of the log


# input checks ------------------------------------------------------------------------------
def check_payload(payload: bytes | None, *, sync: bool) -> bytes:
    """The event to hand the function: AWS's size limits, and it must be JSON.
    An empty payload is the event ``{}``, as AWS passes it."""
    data = payload or b""
    limit = MAX_SYNC_PAYLOAD if sync else MAX_ASYNC_PAYLOAD
    if len(data) > limit:
        if sync:
            raise ServiceError(
                "RequestEntityTooLargeException",
                f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation",
                413,
                fields={"Type": "User"},
            )
        raise ServiceError(
            "RequestEntityTooLargeException",
            f"{len(data)} byte payload is too large for the Event invocation type (limit {MAX_ASYNC_PAYLOAD} bytes)",
            413,
            fields={"Type": "User"},
        )
    if not data.strip():
        return b"{}"
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise ServiceError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {err}",
            400,
            fields={"Type": "User"},
        ) from None
    return data


def client_context(header: str | None) -> str | None:
    """The ClientContext header (base64 of a JSON object), checked; the engine gets it as
    sent and hands the runtime the JSON."""
    if not header:
        return None
    if len(header) > MAX_CLIENT_CONTEXT:
        raise ServiceError(
            "InvalidParameterValueException",
            f"Client context must be smaller than {MAX_CLIENT_CONTEXT} bytes.",
            400,
            fields={"Type": "User"},
        )
    try:
        if not isinstance(orjson.loads(base64.b64decode(header, validate=True)), dict):
            raise ValueError("not an object")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ServiceError(
            "InvalidRequestContentException",
            "Client context must be a valid Base64-encoded JSON object.",
            400,
            fields={"Type": "User"},
        ) from None
    return header


def check_active(target: "Target") -> None:
    """Only an Active function runs; Pending/Failed/Inactive ones are AWS's 409."""
    state = target.config.get("State", "Active")
    if state not in ("Active", "Inactive"):  # an Inactive function wakes on invoke in AWS
        raise ServiceError(
            "ResourceConflictException",
            f"The operation cannot be performed at this time. The function is currently in the following state: {state}",
            409,
            fields={"Type": "User"},
        )


def refusal(err: Exception) -> ServiceError | None:
    """AWS's error for the engine refusing to start an invocation, None if `err` is not one."""
    from cloudlet.services.lambda_ import runtime

    if isinstance(err, runtime.Throttled):
        return ServiceError(
            "TooManyRequestsException",
            "Rate Exceeded.",
            429,
            fields={"Type": "User", "Reason": err.reason},
            headers={"Retry-After": "1"},
        )
    if isinstance(err, runtime.RuntimeUnavailable):
        return ServiceError("InvalidRuntimeException", str(err), 502, fields={"Type": "User"})
    return None


def tail(result: "Result") -> str:
    """LogType Tail: base64 of the last 4 KB of this invocation's log."""
    return base64.b64encode(result.log_text.encode()[-TAIL_BYTES:]).decode()


# running --------------------------------------------------------------------------------
def _kwargs(target: "Target", request_id: str | None, context: str | None, trace: str | None) -> dict[str, Any]:
    return {
        "request_id": request_id or new_request_id(),
        "invoked_arn": target.invoked_arn,
        "client_context": context,
        "limit": target.reserved_concurrency,
        "trace_id": lineage.next_header(trace, target.function_arn),
    }


def run(gateway: Any, target: "Target", payload: bytes, *, source: str,
        client_context: str | None = None, request_id: str | None = None, trace: str | None = None) -> "Result":
    """Run one invocation to its end on this thread. Raises ``runtime.Throttled`` (and
    ``RuntimeUnavailable``) when the engine refuses it; a function's own error is a Result.
    `trace`: the incoming X-Ray header, whose Lineage the function's own header continues."""
    from cloudlet.services.lambda_ import runtime

    engine = runtime.engine_for(gateway)
    metrics.started(gateway, target)
    try:
        result = engine.invoke(target.spec, payload, **_kwargs(target, request_id, client_context, trace))
    except BaseException as err:
        _refused(gateway, target, err)
        raise
    finished(gateway, target, result, source)
    return result


async def run_async(gateway: Any, target: "Target", payload: bytes, *, source: str,
                    client_context: str | None = None, request_id: str | None = None,
                    trace: str | None = None) -> "Result":
    """``run`` for the server's event loop: awaits the engine instead of blocking."""
    from cloudlet.services.lambda_ import runtime

    engine = runtime.engine_for(gateway)
    metrics.started(gateway, target)
    try:
        result = await engine.invoke_async(target.spec, payload, **_kwargs(target, request_id, client_context, trace))
    except BaseException as err:
        _refused(gateway, target, err)
        raise
    finished(gateway, target, result, source)
    return result


def check_loop(gateway: Any, target: "Target", trace: str | None) -> None:
    """A synchronous Invoke of a function its own chain has run ``lineage.LIMIT`` times:
    AWS's RecursiveInvocationException (unless the function allows recursion)."""
    if lineage.loops(gateway, target, trace):
        metrics.recursion_dropped(gateway, target)
        raise ServiceError(
            "RecursiveInvocationException",
            "Lambda has detected your function being invoked in a recursive loop with other AWS resources "
            "and stopped your function's invocation.",
            400,
            fields={"Type": "User"},
        )


def _refused(gateway: Any, target: "Target", err: BaseException) -> None:
    from cloudlet.services.lambda_ import runtime

    metrics.abandoned(gateway, target)
    if isinstance(err, runtime.Throttled):
        metrics.throttled(gateway, target)


def finished(gateway: Any, target: "Target", result: "Result", source: str) -> None:
    """What follows every invocation that ran: its metrics and its log."""
    metrics.finished(gateway, target, result.duration_ms, result.function_error is not None)
    logsink.ship(gateway, target, result)
    if result.function_error is not None:
        log.debug("%s (%s) failed: %s", target.invoked_arn, source, result.error_type)
