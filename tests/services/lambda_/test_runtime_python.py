"""The engine running Python functions through cloudlet's runtime client: results, errors,
logs, environment, timeouts, memory, warm reuse."""

from __future__ import annotations

import base64
import json
import re

import pytest

from cloudlet.services.lambda_.runtime import Engine

from .runtime_support import code, invoke, spec


@pytest.fixture(scope="module")
def engine():
    e = Engine(None, endpoint_url="http://127.0.0.1:4599")
    yield e
    e.shutdown()


def test_returns_the_value_and_the_context(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        def handler(event, context):
            return {"event": event, "name": context.function_name, "version": context.function_version,
                    "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
                    "request": context.aws_request_id, "group": context.log_group_name,
                    "stream": context.log_stream_name, "left": context.get_remaining_time_in_millis()}
    """}), timeout_s=5)
    r = invoke(engine, s, b'{"a": [1, 2]}')
    assert r.function_error is None and r.error_type is None
    out = json.loads(r.payload)
    assert out["event"] == {"a": [1, 2]}
    assert (out["name"], out["version"], out["arn"], out["memory"]) == (s.function_name, "$LATEST", s.function_arn, "128")
    assert out["request"] == r.request_id
    assert out["group"] == f"/aws/lambda/{s.function_name}" and out["stream"] == r.log_stream
    assert 4000 < out["left"] <= 5000
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", r.log_stream)
    assert r.init_duration_ms is not None and r.init_duration_ms > 0


def test_the_environment_is_aws_s(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import os, sys
        def handler(event, context):
            names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                     "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
                     "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT", "TZ", "AWS_ACCESS_KEY_ID",
                     "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "MY_VAR", "_X_AMZN_TRACE_ID",
                     "HOME", "TMPDIR"]
            out = {n: os.environ.get(n) for n in names}
            out["cwd"] = os.getcwd()
            out["sdk_on_path"] = any(p.endswith("sdk") for p in sys.path)
            return out
    """}), env={"MY_VAR": "mine", "AWS_REGION": "eu-west-9"})
    r = invoke(engine, s)
    env = json.loads(r.payload)
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == s.function_name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == r.log_stream
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"  # reserved: the function's own loses
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{s.runtime}"
    assert env["_HANDLER"] == "app.handler" and env["LAMBDA_TASK_ROOT"] == s.code_dir == env["cwd"]
    assert env["TZ"] == ":UTC" and env["MY_VAR"] == "mine"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]) == (
        "ASIAFAKEKEY", "fake-secret", "fake-token")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4599"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["TMPDIR"].startswith(env["HOME"]) and env["sdk_on_path"]


def test_boto3_is_importable_without_shipping_it(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        def handler(event, context):
            import boto3
            return boto3.__file__
    """}), timeout_s=30)
    r = invoke(engine, s)
    assert r.function_error is None, r.payload
    assert "/sdk/boto3/" in json.loads(r.payload)


def test_logs_are_framed_like_aws(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import logging
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        print("loading")
        def handler(event, context):
            print("printed", event["n"])
            logger.info("two\\nlines")
            return None
    """}))
    r = invoke(engine, s, b'{"n": 1}')
    rid = r.request_id
    init_start, *lines = r.log_text.splitlines()
    assert re.fullmatch(r"INIT_START Runtime Version: python:3\.\d+\.v\d+\tRuntime Version ARN: "
                        r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", init_start)
    assert lines[0] == "loading"  # init output comes before START
    assert lines[1] == f"START RequestId: {rid} Version: $LATEST"
    assert lines[2] == "printed 1"
    assert re.fullmatch(rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\ttwo", lines[3])
    assert lines[4] == "lines"
    assert lines[5] == f"END RequestId: {rid}"
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
        r"Max Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms", lines[6])
    # the multi-line log record is one event; events carry the cloudlet clock's epoch ms
    messages = [m for _, m in r.log_events]
    assert any(m.endswith("\ttwo\nlines") for m in messages)
    assert all(ts > 1_600_000_000_000 for ts, _ in r.log_events)
    assert r.payload == b"null"
    warm = invoke(engine, s, b'{"n": 2}')
    assert warm.init_duration_ms is None and "Init Duration" not in warm.log_text
    assert "loading" not in warm.log_text and "printed 2" in warm.log_text


def test_an_exception_is_an_unhandled_function_error(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        def handler(event, context):
            raise ValueError("boom")
    """}))
    r = invoke(engine, s)
    assert (r.function_error, r.error_type) == ("Unhandled", "ValueError")
    doc = json.loads(r.payload)
    assert doc["errorMessage"] == "boom" and doc["errorType"] == "ValueError" and doc["requestId"] == r.request_id
    assert len(doc["stackTrace"]) == 1 and 'raise ValueError("boom")' in doc["stackTrace"][0]
    assert "[ERROR] ValueError: boom\nTraceback (most recent call last):" in r.log_text
    assert invoke(engine, s).error_type == "ValueError"  # the sandbox keeps serving


def test_an_unserializable_result_is_a_marshal_error(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import decimal
        def handler(event, context):
            if event.get("decimal"):
                return {"n": decimal.Decimal("1.5"), "i": decimal.Decimal("2")}
            return {1, 2}
    """}))
    r = invoke(engine, s)
    assert r.error_type == "Runtime.MarshalError"
    assert json.loads(r.payload)["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"
    assert json.loads(invoke(engine, s, b'{"decimal": true}').payload) == {"n": 1.5, "i": 2}


@pytest.mark.parametrize("files, handler, error_type, message", [
    ({"app.py": "x = 1\n"}, "nomodule.handler", "Runtime.ImportModuleError",
     "Unable to import module 'nomodule': No module named 'nomodule'"),
    ({"app.py": "x = 1\n"}, "app.missing", "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'app'"),
    ({"app.py": "x = 1\n"}, "apphandler", "Runtime.MalformedHandlerName",
     "Bad handler 'apphandler': not enough values to unpack (expected 2, got 1)"),
    ({"app.py": "def handler(:\n"}, "app.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'app'"),
    ({"app.py": "raise KeyError('cfg')\n"}, "app.handler", "KeyError", "'cfg'"),
])
def test_init_errors_are_reported_as_aws_words_them(engine, tmp_path, files, handler, error_type, message):
    s = spec(code(tmp_path, files), handler=handler)
    r = invoke(engine, s)
    assert (r.function_error, r.error_type) == ("Unhandled", error_type)
    assert json.loads(r.payload)["errorMessage"].startswith(message)
    assert f"[ERROR] {error_type}: " in r.log_text and f"Error Type: {error_type}" in r.log_text
    assert invoke(engine, s).error_type == error_type  # a failed init is tried again, and fails again


def test_a_timeout_kills_the_sandbox(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import os, time
        def handler(event, context):
            if event.get("sleep"):
                print("sleeping")
                time.sleep(30)
            return os.getpid()
    """}), timeout_s=1)
    first_pid = json.loads(invoke(engine, s).payload)
    r = invoke(engine, s, b'{"sleep": true}')
    assert (r.function_error, r.error_type) == ("Unhandled", "Sandbox.Timedout")
    assert json.loads(r.payload) == {"errorType": "Sandbox.Timedout",
                                     "errorMessage": f"RequestId: {r.request_id} Error: Task timed out after 1.00 seconds"}
    assert re.search(rf"\n\d{{4}}-\d\d-\d\dT[\d:.]+Z {r.request_id} Task timed out after 1.00 seconds\n", r.log_text)
    assert "sleeping" in r.log_text and "Status: timeout" in r.log_text
    assert r.duration_ms == 1000.0
    assert json.loads(invoke(engine, s).payload) != first_pid  # a new sandbox


def test_a_process_that_exits_is_an_exit_error(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import os
        def handler(event, context):
            print("leaving")
            os._exit(3)
    """}))
    r = invoke(engine, s)
    assert r.error_type == "Runtime.ExitError"
    assert json.loads(r.payload)["errorMessage"] == f"RequestId: {r.request_id} Error: Runtime exited with error: exit status 3"
    assert "leaving" in r.log_text and "Error Type: Runtime.ExitError" in r.log_text


def test_memory_beyond_the_limit_kills_the_sandbox(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import time
        def handler(event, context):
            hog = bytearray(200 * 1024 * 1024)
            hog[::4096] = b"x" * len(hog[::4096])  # touch every page
            time.sleep(5)
            return len(hog)
    """}), memory_mb=128, timeout_s=10)
    r = invoke(engine, s)
    assert r.error_type == "Runtime.OutOfMemory"
    assert json.loads(r.payload)["errorMessage"] == f"RequestId: {r.request_id} Error: Runtime exited with error: signal: killed"
    assert r.max_memory_used_mb == 128 and r.duration_ms < 4000


def test_warm_sandboxes_are_reused_and_retire_stops_them(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import os
        def handler(event, context):
            return os.getpid()
    """}))
    pids = {json.loads(invoke(engine, s).payload) for _ in range(3)}
    assert len(pids) == 1
    assert engine.status()["sandboxes"][s.function_arn] == {"idle": 1, "busy": 0, "pids": list(pids)}
    engine.retire(s.function_arn)
    assert json.loads(invoke(engine, s).payload) not in pids


def test_client_context_reaches_the_function(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        def handler(event, context):
            return {"custom": context.client_context.custom, "app": context.client_context.client.app_title}
    """}))
    cc = base64.b64encode(json.dumps({"client": {"app_title": "t"}, "custom": {"k": "v"}}).encode()).decode()
    assert json.loads(invoke(engine, s, client_context=cc).payload) == {"custom": {"k": "v"}, "app": "t"}


def test_a_response_over_6_mb_is_refused(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        def handler(event, context):
            return "x" * (7 * 1024 * 1024)
    """}))
    r = invoke(engine, s)
    assert r.error_type == "Function.ResponseSizeTooLarge"
    assert "(6291556 bytes)" in json.loads(r.payload)["errorMessage"]


def test_layers_are_on_the_python_path(engine, tmp_path):
    layer = code(tmp_path, {"python/shared.py": "VALUE = 'from layer'\n",
                            "python/lib/python3.99/site-packages/ignored.py": "",
                            "bin/tool": "#!/bin/sh\n"})
    s = spec(code(tmp_path, {"app.py": """
        import shared
        def handler(event, context):
            return shared.VALUE
    """}), layers=(layer,))
    assert json.loads(invoke(engine, s).payload) == "from layer"


def test_the_host_s_packages_are_not_the_function_s(engine, tmp_path):
    """Only what AWS provides (boto3 and its dependencies) is importable without shipping
    it: orjson is installed beside cloudlet, and a function must not come to rely on it."""
    s = spec(code(tmp_path, {"app.py": """
        def handler(event, context):
            try:
                import orjson
            except ImportError as e:
                return str(e)
            return "imported"
    """}))
    assert json.loads(invoke(engine, s).payload) == "No module named 'orjson'"


def test_a_retry_reuses_its_request_id_on_a_warm_sandbox(engine, tmp_path):
    """Event invocations are retried under the same request id, often on the same sandbox."""
    s = spec(code(tmp_path, {"app.py": """
        def handler(event, context):
            if event.get("fail"):
                raise ValueError("again")
            return context.aws_request_id
    """}))
    for payload, error in ((b'{"fail": true}', "ValueError"), (b'{"fail": true}', "ValueError"), (b"{}", None)):
        r = engine.invoke(s, payload, request_id="same-id", invoked_arn=s.function_arn)
        assert r.error_type == error and r.duration_ms < 1000
    assert r.payload == b'"same-id"'
