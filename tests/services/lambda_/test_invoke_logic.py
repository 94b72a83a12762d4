"""Invoke's pure parts: payload limits and parsing, ClientContext, the log tail, the
engine's refusals as AWS errors."""

from __future__ import annotations

import base64

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.lambda_ import invocation
from cloudlet.services.lambda_.runtime.model import Result, RuntimeUnavailable, Throttled


def test_empty_payload_is_an_empty_object():
    assert invocation.check_payload(None, sync=True) == b"{}"
    assert invocation.check_payload(b"  ", sync=False) == b"{}"


def test_payload_must_be_json():
    assert invocation.check_payload(b'"x"', sync=True) == b'"x"'
    with pytest.raises(ServiceError) as e:
        invocation.check_payload(b"not json", sync=True)
    assert e.value.code == "InvalidRequestContentException" and e.value.status == 400
    assert e.value.message.startswith("Could not parse request body into json: ")


def test_payload_limits_sync_and_async():
    big = b'"' + b"a" * (6 * 1024 * 1024 - 2) + b'"'
    assert invocation.check_payload(big, sync=True) is big
    with pytest.raises(ServiceError) as e:
        invocation.check_payload(big + b" ", sync=True)
    assert (e.value.code, e.value.status) == ("RequestEntityTooLargeException", 413)
    assert e.value.message == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    small = b'"' + b"a" * (256 * 1024 - 2) + b'"'
    assert invocation.check_payload(small, sync=False) is small
    with pytest.raises(ServiceError) as e:
        invocation.check_payload(small + b" ", sync=False)
    assert e.value.message == "262145 byte payload is too large for the Event invocation type (limit 262144 bytes)"


def test_client_context_is_decoded_json_object():
    ctx = base64.b64encode(b'{"custom":{"a":1}}').decode()
    assert invocation.client_context(ctx) == ctx
    assert invocation.client_context(None) is None
    for bad in ("not base64!", base64.b64encode(b"[1]").decode(), base64.b64encode(b"{").decode()):
        with pytest.raises(ServiceError) as e:
            invocation.client_context(bad)
        assert e.value.code == "InvalidRequestContentException"


def test_tail_is_last_4kb_base64():
    log = "START\n" + "x" * 5000 + "\nREPORT end"
    r = Result(b"", None, None, log, "s", [], 1.0, 1, 1, None, "r")
    tail = base64.b64decode(invocation.tail(r))
    assert len(tail) == 4096 and tail.endswith(b"REPORT end")


def test_refusals():
    e = invocation.refusal(Throttled("ReservedFunctionConcurrentInvocationLimitExceeded"))
    assert (e.code, e.status, e.message) == ("TooManyRequestsException", 429, "Rate Exceeded.")
    assert e.fields["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    e = invocation.refusal(RuntimeUnavailable("python3.9", "no python3.9 here"))
    assert (e.code, e.status) == ("InvalidRuntimeException", 502)
    assert invocation.refusal(ValueError("x")) is None


def test_metrics_land_in_aws_lambda_per_function_resource_and_account():
    import datetime as dt
    from types import SimpleNamespace

    from cloudlet.core import clock, metrics as core_metrics
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway
    from cloudlet.services.lambda_ import metrics

    gw = Gateway(Config(ephemeral=True))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    target = SimpleNamespace(function_name="f", function_arn=arn, invoked_arn=arn + ":live",
                             account="123456789012", region="us-east-1")
    other = SimpleNamespace(function_name="g", function_arn=arn[:-1] + "g", invoked_arn=arn[:-1] + "g",
                            account="123456789012", region="us-east-1")
    metrics.started(gw, target)
    metrics.started(gw, other)
    metrics.started(gw, target)
    metrics.abandoned(gw, other)
    metrics.finished(gw, target, 12.5, error=False)
    metrics.finished(gw, target, 7.5, error=True)
    metrics.throttled(gw, target)
    now = clock.now()

    def stat(metric: str, dims: dict[str, str]) -> core_metrics.Datapoint:
        (point,) = core_metrics.query(gw, "123456789012", "us-east-1", "AWS/Lambda", metric, dims,
                                      now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5), 600)
        return point

    for dims in ({"FunctionName": "f"}, {"FunctionName": "f", "Resource": "f:live"}, {}):
        assert stat("Invocations", dims).sum == 2
        assert stat("Errors", dims).sum == 1 and stat("Errors", dims).average == 0.5
        assert stat("Duration", dims).maximum == 12.5 and stat("Duration", dims).unit == "Milliseconds"
        assert stat("Throttles", dims).sum == 1
        assert stat("ConcurrentExecutions", dims).maximum == (3 if not dims else 2)
    assert metrics._running == {}  # everything that started ended


def test_only_active_functions_run():
    from types import SimpleNamespace

    invocation.check_active(SimpleNamespace(config={"State": "Active"}))
    for state in ("Pending", "Failed"):
        with pytest.raises(ServiceError) as e:
            invocation.check_active(SimpleNamespace(config={"State": state}))
        assert (e.value.code, e.value.status) == ("ResourceConflictException", 409)
        assert e.value.message.endswith(f"The function is currently in the following state: {state}")


def test_logs_kept_in_memory_without_cloudwatch_logs(monkeypatch):
    """Until a Logs service answers PutLogEvents, the last lines stay readable at the admin API."""
    from types import SimpleNamespace

    import orjson

    from cloudlet.protocol.http import Request
    from cloudlet.services import registry
    from cloudlet.services.lambda_ import logsink

    monkeypatch.setattr(registry, "handler_for", lambda service, op: None)
    gw = SimpleNamespace()
    target = SimpleNamespace(account="1", region="us-east-1", function_name="f", function_arn="arn",
                             spec=SimpleNamespace(log_group="/aws/lambda/f"))
    for i in range(logsink.KEEP + 5):
        logsink.ship(gw, target, Result(b"", None, None, "", "s", [(i, f"line {i}")], 1.0, 1, 1, None, "r"))
    resp = logsink.admin_logs(gw, Request("GET", "/_cloudlet/lambda/logs", "function=f"))
    events = orjson.loads(resp.body)["events"]
    assert len(events) == logsink.KEEP and events[0]["message"] == "line 5" and events[-1]["message"] == "line 1004"
    assert orjson.loads(logsink.admin_logs(gw, Request("GET", "/", "function=g")).body)["events"] == []
