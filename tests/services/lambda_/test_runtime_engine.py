"""The engine itself: concurrency limits, interpreter choice, the Runtime API's answers,
and sandboxes dying with cloudlet."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from cloudlet.services.lambda_.runtime import Engine, RuntimeUnavailable, Throttled

from .runtime_support import code, gone, invoke, spare_for, spec

SLOW = {"app.py": """
    import os, time
    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return os.getpid()
"""}


@pytest.fixture(scope="module")
def engine():
    e = Engine(None, endpoint_url="http://127.0.0.1:4599")
    yield e
    e.shutdown()


def _submit(engine, s, payload=b"{}", **kw):
    return engine.submit(s, payload, request_id=str(uuid.uuid4()), invoked_arn=s.function_arn, **kw)


def test_reserved_concurrency_throttles_in_submit(engine, tmp_path):
    s = spec(code(tmp_path, SLOW))
    busy = _submit(engine, s, b'{"sleep": 0.5}', limit=1)
    with pytest.raises(Throttled) as err:
        _submit(engine, s, limit=1)
    assert err.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    two = _submit(engine, s, limit=2)  # another sandbox beside the busy one
    assert json.loads(two.result(10).payload) != json.loads(busy.result(10).payload)
    with pytest.raises(Throttled):
        _submit(engine, s, limit=0)
    # the slots came back
    assert invoke(engine, s, limit=1).function_error is None


def test_the_account_limit_throttles(engine, tmp_path, monkeypatch):
    from cloudlet.services.lambda_.runtime import engine as engine_mod

    monkeypatch.setattr(engine_mod, "ACCOUNT_LIMIT", 1)
    s = spec(code(tmp_path, SLOW))
    busy = _submit(engine, s, b'{"sleep": 0.3}')
    with pytest.raises(Throttled) as err:
        _submit(engine, spec(s.code_dir))
    assert err.value.reason == "ConcurrentInvocationLimitExceeded"
    busy.result(10)


def test_invoke_async_from_another_loop(engine, tmp_path):
    import asyncio

    s = spec(code(tmp_path, SLOW))

    async def two():
        return await asyncio.gather(*(engine.invoke_async(s, b'{"sleep": 0.2}', request_id=str(uuid.uuid4()),
                                                          invoked_arn=s.function_arn) for _ in range(2)))

    results = asyncio.run(two())
    assert len({json.loads(r.payload) for r in results}) == 2  # ran side by side in two sandboxes


def test_a_missing_runtime_runs_on_the_nearest_with_a_note(tmp_path):
    e = Engine(None, endpoint_url="http://127.0.0.1:4599")
    try:
        s = spec(code(tmp_path, {"app.py": "import sys\ndef handler(e, c):\n    return list(sys.version_info[:2])\n"}),
                 runtime="python3.99")
        r = invoke(e, s)
        assert r.function_error is None, r.payload
        minor = json.loads(r.payload)[1]
        note = f"cloudlet: python3.99 not found on this machine; running with python3.{minor} ("
        assert r.log_text.startswith("INIT_START Runtime Version: python:3.99.v1\t")
        assert r.log_text.splitlines()[1].startswith(note)
        assert note not in invoke(e, s).log_text  # once per cold start
        status = e.status()["runtimes"]["python3.99"]
        assert status["substituted"] and status["note"].startswith(note)
    finally:
        e.shutdown()


def test_strict_runtimes_refuse_a_missing_runtime(tmp_path):
    e = Engine(None, endpoint_url="http://127.0.0.1:4599", strict=True)
    try:
        s = spec(code(tmp_path, SLOW), runtime="python3.99")
        with pytest.raises(RuntimeUnavailable) as err:
            invoke(e, s)
        assert "python3.99 is not installed on this machine" in str(err.value)
        with pytest.raises(RuntimeUnavailable):
            invoke(e, spec(s.code_dir, runtime="java21"))
        assert e.status()["runtimes"]["python3.99"]["available"] is False
    finally:
        e.shutdown()


def test_a_configured_interpreter_is_used(tmp_path):
    e = Engine(None, endpoint_url="http://127.0.0.1:4599", runtimes={"python3.99": sys.executable}, strict=True)
    try:
        s = spec(code(tmp_path, {"app.py": "import sys\ndef handler(e, c):\n    return sys.executable\n"}),
                 runtime="python3.99")
        assert os.path.realpath(json.loads(invoke(e, s).payload)) == os.path.realpath(sys.executable)
    finally:
        e.shutdown()


def test_the_first_answer_wins(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import os, urllib.request
        API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/"
        def handler(event, context):
            url = API + "invocation/" + context.aws_request_id + "/response"
            urllib.request.urlopen(urllib.request.Request(url, data=b'"early"'))
            return "late"  # the runtime client's post of this is refused (403)
    """}))
    assert invoke(engine, s).payload == b'"early"'
    assert invoke(engine, s).payload == b'"early"'  # and the sandbox keeps serving


def test_runtime_api_status_codes_seen_by_the_runtime(engine, tmp_path):
    root = code(tmp_path, {"bootstrap": f"""
        #!{sys.executable}
        import json, os, urllib.request, urllib.error
        API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/"
        def call(path, body=None, method=None):
            req = urllib.request.Request(API + path, data=body, method=method)
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, r.headers, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.headers, e.read()
        previous = None
        while True:
            status, headers, event = call("invocation/next")
            rid = headers["Lambda-Runtime-Aws-Request-Id"]
            seen = {{
                "next": [status, sorted(k for k in headers if k.startswith("Lambda-Runtime"))],
                "deadline_ahead": int(headers["Lambda-Runtime-Deadline-Ms"]) > 0,
                "unknown_id": call("invocation/nope/response", b"1")[0],
                "init_error_after_init": call("init/error", b"{{}}")[0],
                "bad_path": call("invocation/" + rid + "/other", b"1")[0],
                "wrong_method": call("invocation/" + rid + "/response", method="GET")[0],
                "previous": previous,
            }}
            status, _, body = call("invocation/" + rid + "/response", json.dumps(seen).encode())
            previous = [status, json.loads(body), call("invocation/" + rid + "/response", b"2")[0]]
    """}, mode={"bootstrap": 0o755})
    s = spec(root, runtime="provided.al2023")
    seen = json.loads(invoke(engine, s).payload)
    assert seen["next"] == [200, ["Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms",
                                  "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id"]]
    assert seen["deadline_ahead"]
    assert seen["unknown_id"] == 400 and seen["init_error_after_init"] == 403
    assert seen["bad_path"] == 404 and seen["wrong_method"] == 405
    # the answer was accepted (202); a second answer to the same invocation is refused (403)
    assert json.loads(invoke(engine, s).payload)["previous"] == [202, {"status": "OK"}, 403]


def test_sandboxes_die_with_a_killed_server(tmp_path):
    """kill -9 of the process holding the engine kills its sandboxes (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    root = code(tmp_path, {"app.py": """
        import os, time
        def handler(event, context):
            with open(event["pidfile"] + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(event["pidfile"] + ".tmp", event["pidfile"])
            time.sleep(60)  # busy: its Runtime API connection stays quiet
    """}, )
    pidfile = str(tmp_path / "pid")
    script = textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {os.getcwd()!r})
        from cloudlet.services.lambda_.runtime import Engine
        from tests.services.lambda_.runtime_support import spec
        e = Engine(None, endpoint_url="http://127.0.0.1:1")
        s = spec({root!r}, timeout_s=120)
        e.submit(s, json.dumps({{"pidfile": {pidfile!r}}}).encode(), request_id="r", invoked_arn=s.function_arn)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(500):
            if os.path.exists(pidfile):
                break
            time.sleep(0.01)
        pid = int(open(pidfile).read())
        os.kill(pid, 0)  # alive while the parent is
        parent.kill()
        parent.wait()
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the sandbox outlived its server")
    finally:
        parent.kill()


def test_shutdown_kills_every_sandbox(tmp_path):
    e = Engine(None, endpoint_url="http://127.0.0.1:4599")
    s = spec(code(tmp_path, SLOW))
    pid = json.loads(invoke(e, s).payload)
    e.shutdown()
    if not gone(pid):
        pytest.fail("shutdown left a sandbox running")
    with pytest.raises(RuntimeError):
        invoke(e, s)


def test_shutdown_answers_invocations_in_flight(tmp_path):
    e = Engine(None, endpoint_url="http://127.0.0.1:4599")
    s = spec(code(tmp_path, SLOW), timeout_s=30)
    fut = _submit(e, s, b'{"sleep": 20}')
    time.sleep(0.3)
    e.shutdown()
    r = fut.result(5)
    assert r.error_type == "Runtime.ExitError"
    assert json.loads(r.payload)["errorMessage"].endswith("Runtime exited with error: signal: killed")


def test_idle_sandboxes_are_stopped(engine, tmp_path, monkeypatch):
    from cloudlet.services.lambda_.runtime import engine as engine_mod

    s = spec(code(tmp_path, SLOW))
    pid = json.loads(invoke(engine, s).payload)
    monkeypatch.setattr(engine_mod, "IDLE_S", 0.0)
    engine.loop.call_soon_threadsafe(engine._reap)
    for _ in range(200):
        if s.function_arn not in engine.status()["sandboxes"]:
            break
        time.sleep(0.01)
    assert s.function_arn not in engine.status()["sandboxes"]
    assert json.loads(invoke(engine, s).payload) != pid


def test_a_spare_runtime_becomes_the_next_sandbox(engine, tmp_path):
    """A Python runtime is started ahead of need; the next cold start takes it and it
    behaves exactly as a fresh one (environment, directory, path, log, argv)."""
    src = {"app.py": """
        import os, sys
        print("init output")
        def handler(event, context):
            return {"pid": os.getpid(), "cwd": os.getcwd(), "argv": sys.argv[1:], "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
                    "first_path": sys.path[0], "tz": os.environ["TZ"], "stdin": sys.stdin.read()}
    """}
    first = spec(code(tmp_path, src))
    invoke(engine, first)  # starts the interpreter's spare
    spare = spare_for(engine, first.runtime)
    assert spare is not None
    s = spec(code(tmp_path, src))
    r = invoke(engine, s)
    out = json.loads(r.payload)
    assert out["pid"] == spare.pid
    assert out == {"pid": spare.pid, "cwd": s.code_dir, "argv": [], "fn": s.function_name, "first_path": s.code_dir,
                   "tz": ":UTC", "stdin": ""}
    assert r.log_text.startswith("INIT_START Runtime Version: ")
    assert r.log_text.split("\n", 1)[1].startswith("init output\nSTART RequestId: ")


def test_python_variables_of_the_function_get_a_fresh_process(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": """
        import sys
        def handler(event, context):
            return sys.flags.optimize
    """}), env={"PYTHONOPTIMIZE": "1"})
    assert json.loads(invoke(engine, s).payload) == 1
    assert json.loads(invoke(engine, spec(s.code_dir)).payload) == 0
