"""The log lines the engine writes, the sandbox's log file, and LoggingConfig's JSON format."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import uuid

import pytest

from cloudlet.services.lambda_.names import runtime_version_arn
from cloudlet.services.lambda_.runtime import Engine, logs
from tests.cloud import Cloud
from tests.services.lambda_.runtime_support import code, invoke, spec
from tests.services.lambda_.test_invoke import ROLE, zipped


def test_report_lines_as_aws_writes_them():
    assert logs.report_line("r1", 1.234, 2, 128, 40, 50.123) == (
        "REPORT RequestId: r1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 50.12 ms")
    assert logs.report_line("r1", 3000, 3000, 128, 40, None, "timeout") == (
        "REPORT RequestId: r1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tStatus: timeout")
    assert logs.report_line("r1", 5, 5, 128, 128, None, "error", "Runtime.OutOfMemory").endswith(
        "\tStatus: error\tError Type: Runtime.OutOfMemory")
    assert logs.start_line("r1", "3") == "START RequestId: r1 Version: 3"
    assert logs.end_line("r1") == "END RequestId: r1"


def test_billing_counts_each_started_millisecond():
    assert [logs.billed_ms(d) for d in (0.0, 0.2, 1.0, 1.01, 99.5)] == [1, 1, 1, 2, 100]


def test_stream_names():
    name = logs.stream_name("$LATEST")
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", name)
    assert logs.stream_name("$LATEST") != name


def test_the_log_file_hands_out_what_is_new_and_does_not_grow_forever(tmp_path, monkeypatch):
    f = logs.LogFile(str(tmp_path / "out.log"))
    writer = os.open(f.path, os.O_WRONLY | os.O_APPEND)  # as the runtime holds it
    os.write(writer, b"one\n")
    f.note("cloudlet: a note")
    assert f.take() == "one\ncloudlet: a note\n"
    assert f.take() == ""
    monkeypatch.setattr(logs, "_KEEP_BYTES", 10)
    os.write(writer, b"0123456789ab\n")
    assert f.take() == "0123456789ab\n"
    assert os.path.getsize(f.path) == 0
    os.write(writer, b"after\n")
    assert f.take() == "after\n"
    os.close(writer)
    f.close()
    f.close()  # twice is harmless
    assert f.take() == ""


def test_events_keep_multi_line_records_whole():
    inv = logs.Invocation()
    inv.add_output("a\n[ERROR] boom\rTraceback\r  line\n\nb\n", 5)
    assert inv.events == [(5, "a"), (5, "[ERROR] boom\nTraceback\n  line"), (5, "b")]
    assert inv.text() == "a\n[ERROR] boom\nTraceback\n  line\nb\n"


def test_lines_read_as_they_come_keep_the_time_they_were_first_seen():
    inv = logs.Invocation()
    inv.add_output("a\nhalf", 1, final=False)
    inv.add_output(" done\nb\nrest", 2, final=False)
    inv.add_output("", 3)  # the end: a cut last line is an event of its own
    assert inv.events == [(1, "a"), (1, "half done"), (2, "b"), (2, "rest")]


def test_runtime_versions_and_levels():
    assert logs.runtime_version("python3.12") == "python:3.12.v1"
    assert logs.runtime_version("nodejs20.x") == "nodejs:20.v1"
    assert logs.runtime_version("provided.al2023") == "provided:al2023.v1"
    assert logs.init_start_line("python3.12", "arn:x") == (
        "INIT_START Runtime Version: python:3.12.v1\tRuntime Version ARN: arn:x")
    assert logs.level_allows("WARN", "ERROR") and logs.level_allows("INFO", "INFO")
    assert not logs.level_allows("WARN", "INFO")


# the engine ------------------------------------------------------------------------------
LOGGING = '''
import logging, time
logger = logging.getLogger("app")
def handler(event, context):
    print("first")
    time.sleep(event.get("sleep", 0))
    print("second")
    logger.info("an info")
    logger.warning("a warning")
    logging.getLogger().error("an error")
    return "ok"
'''


@pytest.fixture(scope="module")
def engine():
    e = Engine(None, endpoint_url="http://127.0.0.1:4599")
    yield e
    e.shutdown()


def test_a_cold_start_writes_init_start_and_each_line_its_own_time(engine, tmp_path):
    s = spec(code(tmp_path, {"app.py": LOGGING}))
    r = invoke(engine, s, b'{"sleep": 0.4}')
    assert r.function_error is None, r.payload
    first, start = r.log_events[0], r.log_events[1]
    assert first[1] == logs.init_start_line(s.runtime, runtime_version_arn("us-east-1", s.runtime))
    assert start[1].startswith("START RequestId: ") and first[0] <= start[0]
    at = {m: t for t, m in r.log_events}
    # read while the invocation ran: the line printed after the sleep is stamped later
    assert at["second"] - at["first"] >= 250, r.log_events
    assert [t for t, _ in r.log_events] == sorted(t for t, _ in r.log_events)
    assert "Init Duration: " in r.log_events[-1][1]
    warm = invoke(engine, s)
    assert not any(m.startswith("INIT_START") for _, m in warm.log_events)
    assert "Init Duration" not in warm.log_text


def test_json_log_format_writes_records_and_filters_levels(engine, tmp_path):
    s = dataclasses.replace(spec(code(tmp_path, {"app.py": LOGGING})), logging_config=(
        ("ApplicationLogLevel", "WARN"), ("LogFormat", "JSON"), ("SystemLogLevel", "INFO")))
    r = invoke(engine, s)
    assert r.function_error is None, r.payload
    messages = [m for _, m in r.log_events]
    assert "first" in messages and "second" in messages  # print() stays text, as on AWS
    records = [json.loads(m) for m in messages if m.startswith("{")]
    types = [d.get("type") for d in records]
    assert types[0] == "platform.initStart" and types[1] == "platform.start" and types[-1] == "platform.report"
    assert records[0]["record"]["runtimeVersionArn"] == runtime_version_arn("us-east-1", s.runtime)
    assert records[1]["record"] == {"requestId": r.request_id, "functionArn": s.function_arn, "version": "$LATEST"}
    report = records[-1]["record"]
    assert report["requestId"] == r.request_id and report["status"] == "success"
    assert set(report["metrics"]) == {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB",
                                      "initDurationMs"}
    app = [d for d in records if "level" in d]
    assert [(d["level"], d["message"], d["logger"]) for d in app] == [
        ("WARNING", "a warning", "app"), ("ERROR", "an error", "root")]
    assert all(d["requestId"] == r.request_id and d["timestamp"].endswith("Z") for d in app)
    assert not any(m.startswith(("START ", "END ", "REPORT ")) for m in messages)

    quiet = dataclasses.replace(s, key=s.key + "-quiet", logging_config=(
        ("ApplicationLogLevel", "ERROR"), ("LogFormat", "JSON"), ("SystemLogLevel", "WARN")))
    r = invoke(engine, quiet)
    records = [json.loads(m) for _, m in r.log_events if m.startswith("{")]
    assert [d.get("level") for d in records] == ["ERROR"]  # no platform records below WARN


def test_json_log_format_over_http_with_boto3():
    cloud = Cloud()
    try:
        lam = cloud.client("lambda")
        name = f"logs-{uuid.uuid4().hex[:8]}"
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": zipped(LOGGING)},
                            LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
        out = lam.invoke(FunctionName=name, LogType="Tail")
        assert json.loads(out["Payload"].read()) == "ok"
        lines = base64.b64decode(out["LogResult"]).decode().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        types = [d["type"] for d in records if "type" in d]
        assert types == ["platform.initStart", "platform.start", "platform.report"]
        assert records[-1]["record"]["requestId"] == out["ResponseMetadata"]["RequestId"]
        levels = [d["level"] for d in records if "level" in d]
        assert levels == ["WARNING", "ERROR"]  # INFO filtered by ApplicationLogLevel WARN
        assert "first" in lines
    finally:
        cloud.kill()
