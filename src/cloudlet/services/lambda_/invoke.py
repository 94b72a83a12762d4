"""Invoke, InvokeAsync and InvokeWithResponseStream.

A RequestResponse Invoke over HTTP returns a coroutine the gateway awaits: the server's
event loop keeps serving while the function runs (the engine has its own thread and
loop). An in-process call (``ctx.aws("lambda").invoke``: Step Functions, the scheduler)
cannot await, so it blocks its own thread on the engine instead. Event invocations are
queued durably by ``asyncq`` and answered 202; DryRun only checks (authorization has
already run) and answers 204.

InvokeWithResponseStream answers with the event stream AWS uses (PayloadChunk events,
then InvokeComplete). The engine hands back a function's response whole, so the payload
comes as one chunk at the end: what AWS sends for a handler that does not stream
(streaming handlers, ``awslambda.streamifyResponse``, are not supported).

``run`` (the blocking invocation for event source pollers) lives in ``invocation`` and is
re-exported here, where callers look for it.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.lambda_ import asyncq, invocation, invokepolicy
from cloudlet.services.lambda_.invocation import run  # noqa: F401  (the contract: invoke.run)

if TYPE_CHECKING:
    from cloudlet.services.lambda_.runtime import Result
    from cloudlet.services.lambda_.spec import Target

Input = dict[str, Any]
Output = dict[str, Any]


def invoke(ctx: Context, params: Input) -> Any:
    kind = params.get("InvocationType") or "RequestResponse"
    sync = kind != "Event"
    payload = invocation.check_payload(params.get("Payload"), sync=sync)
    context = invocation.client_context(params.get("ClientContext"))
    target = _target(ctx, params)
    if kind == "DryRun":
        return {"StatusCode": 204}
    if kind == "Event":
        asyncq.enqueue(ctx, target, payload, client_context=context)
        return {"StatusCode": 202}
    if kind != "RequestResponse":
        raise ServiceError(
            "InvalidParameterValueException",
            f"1 validation error detected: Value '{kind}' at 'invocationType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            400,
            fields={"Type": "User"},
        )
    tail = params.get("LogType") == "Tail"
    if _may_await(ctx):
        return _invoke_awaited(ctx, target, payload, context, tail)
    return _output(target, _run_blocking(ctx, target, payload, context), tail)


def invoke_async(ctx: Context, params: Input) -> Output:
    """The deprecated InvokeAsync: an Event invocation by another name."""
    args = params.get("InvokeArgs")
    data = args.read_all() if args is not None and hasattr(args, "read_all") else args
    payload = invocation.check_payload(bytes(data) if isinstance(data, (bytes, bytearray)) else None, sync=False)
    target = _target(ctx, {"FunctionName": params["FunctionName"]})
    asyncq.enqueue(ctx, target, payload)
    return {"Status": 202}


def invoke_with_response_stream(ctx: Context, params: Input) -> Any:
    kind = params.get("InvocationType") or "RequestResponse"
    if kind not in ("RequestResponse", "DryRun"):
        raise ServiceError(
            "InvalidParameterValueException",
            f"1 validation error detected: Value '{kind}' at 'invocationType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [RequestResponse, DryRun]",
            400,
            fields={"Type": "User"},
        )
    payload = invocation.check_payload(params.get("Payload"), sync=True)
    context = invocation.client_context(params.get("ClientContext"))
    target = _target(ctx, params)
    if kind == "DryRun":
        return {"StatusCode": 204}
    tail = params.get("LogType") == "Tail"
    if _may_await(ctx):
        return _stream_awaited(ctx, target, payload, context, tail)
    return _stream_output(target, _run_blocking(ctx, target, payload, context), tail)


# helpers --------------------------------------------------------------------------------
def _target(ctx: Context, params: Input) -> "Target":
    from cloudlet.services.lambda_ import spec

    target = spec.resolve(ctx, params["FunctionName"], params.get("Qualifier"))
    invokepolicy.check_target(ctx, target.invoked_arn)
    invocation.check_active(target)
    return target


def _may_await(ctx: Context) -> bool:
    """An HTTP request on the server's loop awaits; an in-process caller cannot."""
    if ctx.internal:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def _as_refusals(ctx: Context, target: "Target") -> Iterator[None]:
    """A recursive loop is refused before the run; the engine's refusals (throttled, no
    runtime) become Invoke's errors. Serves the blocking and the awaited run alike."""
    invocation.check_loop(ctx.gateway, target, ctx.trace_header)
    try:
        yield
    except Exception as err:
        refused = invocation.refusal(err)
        if refused is None:
            raise
        raise refused from None


def _run_blocking(ctx: Context, target: "Target", payload: bytes, context: str | None) -> "Result":
    with _as_refusals(ctx, target):
        return invocation.run(ctx.gateway, target, payload, source="invoke", client_context=context,
                              request_id=ctx.request_id, trace=ctx.trace_header)


async def _run_awaited(ctx: Context, target: "Target", payload: bytes, context: str | None) -> "Result":
    with _as_refusals(ctx, target):
        return await invocation.run_async(ctx.gateway, target, payload, source="invoke", client_context=context,
                                          request_id=ctx.request_id, trace=ctx.trace_header)


async def _invoke_awaited(ctx: Context, target: "Target", payload: bytes, context: str | None, tail: bool) -> Output:
    return _output(target, await _run_awaited(ctx, target, payload, context), tail)


async def _stream_awaited(ctx: Context, target: "Target", payload: bytes, context: str | None, tail: bool) -> Output:
    return _stream_output(target, await _run_awaited(ctx, target, payload, context), tail)


def _output(target: "Target", result: "Result", tail: bool) -> Output:
    out: Output = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": target.version}
    if result.function_error is not None:
        out["FunctionError"] = result.function_error
    if tail:
        out["LogResult"] = invocation.tail(result)
    return out


def _stream_output(target: "Target", result: "Result", tail: bool) -> Output:
    complete: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    if result.function_error is None:
        if result.payload:
            events.append({"PayloadChunk": {"Payload": result.payload}})
    else:
        complete["ErrorCode"] = result.error_type or result.function_error
        complete["ErrorDetails"] = result.payload.decode(errors="replace")
    if tail:
        complete["LogResult"] = invocation.tail(result)
    events.append({"InvokeComplete": complete})
    return {"StatusCode": 200, "ExecutedVersion": target.version, "EventStream": events}
