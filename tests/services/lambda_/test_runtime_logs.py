"""The log lines the engine writes, and the sandbox's log file."""

from __future__ import annotations

import os
import re

from cloudlet.services.lambda_.runtime import logs


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
