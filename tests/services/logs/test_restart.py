"""Acknowledged log events survive kill -9, and a retention sweep scheduled before the
crash still runs after the restart."""

from __future__ import annotations

from tests.cloud import Cloud
from tests.services.logs.helpers import server_ms


def test_events_and_retention_survive_a_crash(tmp_path):
    first = Cloud("--data-dir", str(tmp_path))
    try:
        logs = first.client("logs")
        logs.create_log_group(logGroupName="/aws/lambda/durable")
        logs.create_log_stream(logGroupName="/aws/lambda/durable", logStreamName="s")
        now = server_ms(first)
        logs.put_log_events(logGroupName="/aws/lambda/durable", logStreamName="s",
                            logEvents=[{"timestamp": now + i, "message": f"e{i}"} for i in range(10)])
        logs.put_retention_policy(logGroupName="/aws/lambda/durable", retentionInDays=1)
    finally:
        first.kill()
    second = Cloud("--data-dir", str(tmp_path))
    try:
        logs = second.client("logs")
        got = logs.get_log_events(logGroupName="/aws/lambda/durable", logStreamName="s", startFromHead=True)
        assert [e["message"] for e in got["events"]] == [f"e{i}" for i in range(10)]
        second.advance(days=3)
        assert logs.filter_log_events(logGroupName="/aws/lambda/durable")["events"] == []
        assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 0  # the sweep ran
    finally:
        second.stop()
