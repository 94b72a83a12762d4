"""CloudWatch Logs through the AWS CLI (v1, ``python -m awscli``), as people read logs.

``aws logs tail`` is a CLI v2 command (v1 has none); what it sends is FilterLogEvents with
``logGroupName``, ``interleaved``, ``startTime`` (default: 10 minutes ago) and the
paginator, which ``test_what_aws_logs_tail_sends`` replays with boto3 and the
``filter-log-events`` command here sends through the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.services.logs.helpers import fresh_account, logs_client, server_ms


def aws(cloud, account: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    proc = subprocess.run([sys.executable, "-m", "awscli", *args, "--endpoint-url", cloud.endpoint],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, f"aws {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_cli_writes_and_reads_a_lambda_style_log(cloud):
    account = fresh_account()
    group, stream = "/aws/lambda/orders", "2026/11/28/[$LATEST]0123456789abcdef0123456789abcdef"
    aws(cloud, account, "logs", "create-log-group", "--log-group-name", group)
    aws(cloud, account, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", stream)
    now = server_ms(cloud)
    lines = ["START RequestId: r1 Version: $LATEST", "hello from the handler", "END RequestId: r1"]
    events = json.dumps([{"timestamp": now + i, "message": m} for i, m in enumerate(lines)])
    aws(cloud, account, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", stream,
        "--log-events", events)
    out = json.loads(aws(cloud, account, "logs", "filter-log-events", "--log-group-name", group, "--interleaved",
                         "--start-time", str(now - 600_000)))
    assert [e["message"] for e in out["events"]] == lines
    assert {e["logStreamName"] for e in out["events"]} == {stream}
    text = aws(cloud, account, "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream,
               "--start-from-head", "--output", "text")
    assert "hello from the handler" in text
    groups = json.loads(aws(cloud, account, "logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/"))
    assert [g["logGroupName"] for g in groups["logGroups"]] == [group]
    matched = json.loads(aws(cloud, account, "logs", "filter-log-events", "--log-group-name", group,
                             "--filter-pattern", "hello"))
    assert [e["message"] for e in matched["events"]] == ["hello from the handler"]


def test_what_aws_logs_tail_sends(cloud):
    """The calls of CLI v2's ``aws logs tail <group>`` (NoFollowLogEventsGenerator), then one
    round of ``--follow`` (a repeat from the newest timestamp, deduplicated by eventId)."""
    logs = logs_client(cloud)
    logs.create_log_group(logGroupName="/aws/lambda/tail")
    now = server_ms(cloud)
    for s in ("a", "b"):
        logs.create_log_stream(logGroupName="/aws/lambda/tail", logStreamName=s)
    logs.put_log_events(logGroupName="/aws/lambda/tail", logStreamName="a",
                        logEvents=[{"timestamp": now - 20 * 60_000, "message": "too early"},
                                   {"timestamp": now - 1000, "message": "a1"}])
    logs.put_log_events(logGroupName="/aws/lambda/tail", logStreamName="b",
                        logEvents=[{"timestamp": now - 500, "message": "b1"}])
    kwargs = {"logGroupName": "/aws/lambda/tail", "interleaved": True, "startTime": now - 10 * 60_000}
    shown = [e for page in logs.get_paginator("filter_log_events").paginate(**kwargs) for e in page["events"]]
    assert [(e["logStreamName"], e["message"]) for e in shown] == [("a", "a1"), ("b", "b1")]
    seen = {e["eventId"] for e in shown}
    logs.put_log_events(logGroupName="/aws/lambda/tail", logStreamName="a", logEvents=[{"timestamp": now, "message": "a2"}])
    again = logs.filter_log_events(**{**kwargs, "startTime": max(e["timestamp"] for e in shown)})["events"]
    assert [e["message"] for e in again if e["eventId"] not in seen] == ["a2"]
