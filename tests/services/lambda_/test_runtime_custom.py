"""Node.js functions and custom runtimes (provided.*: the function's own bootstrap)."""

from __future__ import annotations

import json
import shutil

import pytest

from cloudlet.services.lambda_.runtime import Engine

from .runtime_support import code, invoke, spare_for, spec

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@pytest.fixture(scope="module")
def engine():
    e = Engine(None, endpoint_url="http://127.0.0.1:4599")
    yield e
    e.shutdown()


@needs_node
def test_node_async_and_callback_handlers(engine, tmp_path):
    root = code(tmp_path, {
        "index.js": """
            exports.handler = async (event, context) => {
              console.log("got", event);
              return { sum: event.a + event.b, name: context.functionName, id: context.awsRequestId,
                       left: context.getRemainingTimeInMillis() > 0, region: process.env.AWS_REGION };
            };
            exports.cb = (event, context, callback) => { setTimeout(() => callback(null, "called back"), 5); };
        """,
        "esm.mjs": "export const handler = async (event) => ({ esm: true, event });\n",
    })
    s = spec(root, runtime="nodejs20.x", handler="index.handler")
    r = invoke(engine, s, b'{"a": 1, "b": 2}')
    assert r.function_error is None, r.payload
    assert json.loads(r.payload) == {"sum": 3, "name": s.function_name, "id": r.request_id, "left": True,
                                     "region": "us-east-1"}
    assert f"\t{r.request_id}\tINFO\tgot {{ a: 1, b: 2 }}" in r.log_text
    assert r.log_text.startswith("INIT_START Runtime Version: nodejs:20.v1\t")
    assert f"\nSTART RequestId: {r.request_id}" in r.log_text and "\nREPORT RequestId: " in r.log_text
    assert json.loads(invoke(engine, spec(root, runtime="nodejs20.x", handler="index.cb")).payload) == "called back"
    assert json.loads(invoke(engine, spec(root, runtime="nodejs20.x", handler="esm.handler"), b"[1]").payload) == {
        "esm": True, "event": [1]}


@needs_node
@needs_node
def test_a_node_spare_becomes_the_next_sandbox(engine, tmp_path):
    """A Node runtime is started ahead of need; the next cold start takes it and it behaves
    as a fresh one: the function's variables, directory, layers' NODE_PATH, argv, its log."""
    layer = code(tmp_path, {"nodejs/node_modules/greet/index.js": "exports.hi = () => 'hi from layer';\n"})
    root = code(tmp_path, {"index.js": """
        console.log("init output");
        const greet = require("greet");
        exports.handler = async () => { console.log("in handler"); return {
          pid: process.pid, cwd: process.cwd(), argv: process.argv.length, fn: process.env.AWS_LAMBDA_FUNCTION_NAME,
          greet: greet.hi(), tz: process.env.TZ, json: process.env.AWS_LAMBDA_LOG_FORMAT || null }; };
    """})
    first = spec(root, runtime="nodejs20.x", handler="index.handler", layers=(layer,))
    assert json.loads(invoke(engine, first).payload)["greet"] == "hi from layer"
    key = (engine.interpreter("nodejs20.x").path, False)
    spare = spare_for(engine, "nodejs20.x")
    assert spare is not None
    s = spec(root, runtime="nodejs20.x", handler="index.handler", layers=(layer,))
    r = invoke(engine, s)
    assert r.function_error is None, r.payload
    assert json.loads(r.payload) == {"pid": spare.pid, "cwd": root, "argv": 2, "fn": s.function_name,
                                     "greet": "hi from layer", "tz": ":UTC", "json": None}
    lines = r.log_text.splitlines()
    assert lines[0].startswith("INIT_START ") and lines[1].endswith("\tINFO\tinit output")
    assert lines[2].startswith("START ") and lines[3].endswith("\tINFO\tin handler")
    # a function setting NODE_* variables gets a fresh process (node reads them at its start)
    ready = spare_for(engine, "nodejs20.x")
    assert ready is not None
    own = spec(root, runtime="nodejs20.x", handler="index.handler", layers=(layer,), env={"NODE_OPTIONS": ""})
    assert json.loads(invoke(engine, own).payload)["pid"] != ready.pid
    assert engine._spares.get(key) is ready


def test_node_errors(engine, tmp_path):
    root = code(tmp_path, {"index.js": """
        exports.handler = async () => { throw new TypeError("bad input"); };
    """})
    r = invoke(engine, spec(root, runtime="nodejs20.x", handler="index.handler"))
    assert (r.function_error, r.error_type) == ("Unhandled", "TypeError")
    doc = json.loads(r.payload)
    assert doc["errorMessage"] == "bad input" and doc["trace"][0] == "TypeError: bad input"
    assert "\tERROR\tInvoke Error \t" in r.log_text
    missing = invoke(engine, spec(root, runtime="nodejs20.x", handler="index.nothere"))
    assert missing.error_type == "Runtime.HandlerNotFound"
    assert json.loads(missing.payload)["errorMessage"] == "index.nothere is undefined or not exported"
    nomod = invoke(engine, spec(root, runtime="nodejs20.x", handler="nope.handler"))
    assert nomod.error_type == "Runtime.ImportModuleError"


@needs_node
def test_node_init_errors_and_streamed_responses(engine, tmp_path):
    root = code(tmp_path, {
        "broken.js": "throw new RangeError('at load');\n",
        "stream.mjs": """
            export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
              responseStream.setContentType("text/plain");
              responseStream.write("part 1, ");
              await new Promise((r) => setTimeout(r, 5));
              responseStream.write("part 2");
              responseStream.end();
            });
        """,
    })
    r = invoke(engine, spec(root, runtime="nodejs20.x", handler="broken.handler"))
    assert (r.function_error, r.error_type) == ("Unhandled", "RangeError")
    assert "\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"RangeError\",\"errorMessage\":\"at load\"" in r.log_text
    streamed = invoke(engine, spec(root, runtime="nodejs20.x", handler="stream.handler"))
    assert streamed.function_error is None and streamed.payload == b"part 1, part 2"


@needs_node
def test_node_uncaught_errors_fail_the_invocation(engine, tmp_path):
    root = code(tmp_path, {"index.js": """
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        exports.rejects = async () => { Promise.reject(new Error("nobody waits")); await sleep(2000); return "late"; };
        exports.throws = async () => { setTimeout(() => { throw new SyntaxError("in a timer"); }, 1); await sleep(2000); };
    """})
    r = invoke(engine, spec(root, runtime="nodejs20.x", handler="index.rejects"))
    assert r.error_type == "Runtime.UnhandledPromiseRejection"
    assert json.loads(r.payload)["errorMessage"] == "Error: nobody waits"
    r = invoke(engine, spec(root, runtime="nodejs20.x", handler="index.throws"))
    assert (r.error_type, json.loads(r.payload)["errorMessage"]) == ("SyntaxError", "in a timer")
    assert "\tERROR\tUncaught Exception \t" in r.log_text


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_bash_bootstrap_using_curl(engine, tmp_path):
    root = code(tmp_path, {
        "bootstrap": """
            #!/bin/bash
            set -euo pipefail
            source "$LAMBDA_TASK_ROOT/$(echo $_HANDLER | cut -d. -f1).sh"
            while true; do
              HEADERS="$(mktemp)"
              EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
              REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
              RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
              curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE" >/dev/null
            done
        """,
        "function.sh": """
            function handler () {
              EVENT_DATA=$1
              echo "$EVENT_DATA" 1>&2;
              echo "{\\"echo\\": $EVENT_DATA, \\"big\\": \\"$(head -c 3000 /dev/zero | tr '\\0' x)\\"}"
            }
        """,
    }, mode={"bootstrap": 0o755})
    s = spec(root, runtime="provided.al2023", handler="function.handler")
    r = invoke(engine, s, b'{"k": "v"}')
    assert r.function_error is None, r.log_text
    out = json.loads(r.payload)
    assert out["echo"] == {"k": "v"} and len(out["big"]) == 3000  # over 1 KiB: curl's Expect: 100-continue
    assert '{"k": "v"}' in r.log_text
    assert json.loads(invoke(engine, s, b'{"k": 2}').payload)["echo"] == {"k": 2}


def test_a_bootstrap_without_its_executable_bit_runs_through_its_shebang(engine, tmp_path):
    root = code(tmp_path, {"bootstrap": f"""
        #!{shutil.which("python3")}
        import os, urllib.request
        api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
        while True:
            with urllib.request.urlopen(api + "next") as r:
                rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
            urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=b'"shebang"'))
    """}, mode={"bootstrap": 0o644})
    assert json.loads(invoke(engine, spec(root, runtime="provided")).payload) == "shebang"


def test_a_missing_bootstrap_is_an_invalid_entrypoint(engine, tmp_path):
    root = code(tmp_path, {"readme.txt": "no bootstrap"})
    r = invoke(engine, spec(root, runtime="provided.al2"))
    assert (r.function_error, r.error_type) == ("Unhandled", "Runtime.InvalidEntrypoint")
    assert "Couldn't find valid bootstrap(s): [" in json.loads(r.payload)["errorMessage"]


def test_a_layer_s_bootstrap_serves_when_the_code_has_none(engine, tmp_path):
    layer = code(tmp_path, {"bootstrap": """
        #!/bin/bash
        while true; do
          H="$(mktemp)"
          curl -sS -D "$H" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next" >/dev/null
          ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
          curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/error" \\
            -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" \\
            -d '{"errorMessage": "custom failed", "errorType": "Custom.Failure"}' >/dev/null
        done
    """}, mode={"bootstrap": 0o755})
    r = invoke(engine, spec(code(tmp_path, {"x.txt": ""}), runtime="provided.al2023", layers=(layer,)))
    assert (r.function_error, r.error_type) == ("Unhandled", "Custom.Failure")
    assert json.loads(r.payload) == {"errorMessage": "custom failed", "errorType": "Custom.Failure"}
