"""PutLogEvents, GetLogEvents and FilterLogEvents over HTTP with boto3: limits, rejected
events, both-way tokens, merged paging across streams, filter patterns, retention."""

from __future__ import annotations

import json

import pytest

from tests.services.logs.helpers import error, logs_client, server_ms

HOUR = 3_600_000
DAY = 24 * HOUR


@pytest.fixture
def logs(cloud):
    client = logs_client(cloud)
    client.create_log_group(logGroupName="g")
    client.create_log_stream(logGroupName="g", logStreamName="s")
    return client


def put(logs, events, stream="s", group="g"):
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_put_then_get_in_order_with_ingestion_time(logs, cloud):
    now = server_ms(cloud)
    out = put(logs, [{"timestamp": now - 50 + i, "message": f"m{i}"} for i in range(10)])
    assert "rejectedLogEventsInfo" not in out and len(out["nextSequenceToken"]) == 56
    # a sequence token is accepted and ignored, as AWS does now
    put(logs, [{"timestamp": now, "message": "again"}])
    logs.put_log_events(logGroupName="g", logStreamName="s", sequenceToken="whatever",
                        logEvents=[{"timestamp": now, "message": "third"}])
    got = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)
    assert [e["message"] for e in got["events"]] == [f"m{i}" for i in range(10)] + ["again", "third"]
    assert all(e["ingestionTime"] >= now for e in got["events"])
    assert got["nextForwardToken"].startswith("f/") and got["nextBackwardToken"].startswith("b/")


def test_missing_group_or_stream(logs):
    ev = [{"timestamp": 1, "message": "x"}]
    assert error(logs.put_log_events, logGroupName="nope", logStreamName="s", logEvents=ev) == {
        "Code": "ResourceNotFoundException", "Message": "The specified log group does not exist.", "Status": 400}
    assert error(logs.put_log_events, logGroupName="g", logStreamName="nope", logEvents=ev) == {
        "Code": "ResourceNotFoundException", "Message": "The specified log stream does not exist.", "Status": 400}
    assert error(logs.get_log_events, logGroupName="g", logStreamName="nope")["Code"] == "ResourceNotFoundException"
    assert error(logs.filter_log_events, logGroupName="nope")["Code"] == "ResourceNotFoundException"


def test_batch_rules(logs, cloud):
    now = server_ms(cloud)
    err = error(put, logs, [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}])
    assert err == {"Code": "InvalidParameterException", "Status": 400,
                   "Message": "Log events in a single PutLogEvents request must be in chronological order."}
    err = error(put, logs, [{"timestamp": now - DAY - 2, "message": "a"}, {"timestamp": now, "message": "b"}])
    assert err["Message"] == "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    big = "x" * (1_048_576 - 26 * 2 - 10)
    err = error(put, logs, [{"timestamp": now, "message": big}, {"timestamp": now, "message": "y" * 11}])
    assert err["Code"] == "InvalidParameterException"
    assert err["Message"] == "Upload too large: 1048577 bytes exceeds limit of 1048576"
    err = error(put, logs, [{"timestamp": now + i, "message": "x"} for i in range(10_001)])
    assert err["Code"] == "InvalidParameterException"
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []  # nothing half-written


def test_too_old_too_new_and_expired_are_reported_and_the_rest_kept(logs, cloud):
    now = server_ms(cloud)
    events = [{"timestamp": now - 15 * DAY, "message": "ancient"}, {"timestamp": now - 10, "message": "ok1"},
              {"timestamp": now, "message": "ok2"}, {"timestamp": now + 3 * HOUR, "message": "future"}]
    out = put(logs, events)
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 3}
    got = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["ok1", "ok2"]
    logs.put_retention_policy(logGroupName="g", retentionInDays=1)
    out = put(logs, [{"timestamp": now - 2 * DAY, "message": "expired"}, {"timestamp": now, "message": "ok3"}])
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    # the rejected ones do not count toward the 24-hour span
    out = put(logs, [{"timestamp": now - 15 * DAY, "message": "a"}, {"timestamp": now, "message": "b"}])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "expiredLogEventEndIndex": 1}


def test_get_log_events_tokens_both_ways(logs, cloud):
    now = server_ms(cloud)
    put(logs, [{"timestamp": now - 100 + i, "message": f"e{i}"} for i in range(10)])

    def msgs(resp):
        return [e["message"] for e in resp["events"]]

    tail = logs.get_log_events(logGroupName="g", logStreamName="s", limit=3)
    assert msgs(tail) == ["e7", "e8", "e9"]  # from the end unless startFromHead
    back = logs.get_log_events(logGroupName="g", logStreamName="s", limit=3, nextToken=tail["nextBackwardToken"])
    assert msgs(back) == ["e4", "e5", "e6"]
    head = logs.get_log_events(logGroupName="g", logStreamName="s", limit=4, startFromHead=True)
    assert msgs(head) == ["e0", "e1", "e2", "e3"]
    seen, token = msgs(head), head["nextForwardToken"]
    while True:
        page = logs.get_log_events(logGroupName="g", logStreamName="s", limit=4, nextToken=token)
        if page["nextForwardToken"] == token:  # the end: AWS hands the same token back
            assert page["events"] == []
            break
        seen += msgs(page)
        token = page["nextForwardToken"]
    assert seen == [f"e{i}" for i in range(10)]
    # new events appear after the end token
    put(logs, [{"timestamp": now, "message": "late"}])
    assert msgs(logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=token)) == ["late"]
    # time window: start inclusive, end exclusive
    window = logs.get_log_events(logGroupName="g", logStreamName="s", startTime=now - 98, endTime=now - 95, startFromHead=True)
    assert msgs(window) == ["e2", "e3", "e4"]
    assert error(logs.get_log_events, logGroupName="g", logStreamName="s", nextToken="f/123")["Code"] == (
        "InvalidParameterException")


def test_filter_merges_streams_in_time_order_and_pages(logs, cloud):
    now = server_ms(cloud)
    logs.create_log_stream(logGroupName="g", logStreamName="t")
    put(logs, [{"timestamp": now - 100 + 2 * i, "message": f"s{i}"} for i in range(5)], stream="s")
    put(logs, [{"timestamp": now - 99 + 2 * i, "message": f"t{i}"} for i in range(5)], stream="t")
    every = logs.filter_log_events(logGroupName="g")["events"]
    assert [e["message"] for e in every] == [m for i in range(5) for m in (f"s{i}", f"t{i}")]
    assert {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"} <= set(every[0])
    assert len({e["eventId"] for e in every}) == 10
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName="g", PaginationConfig={"PageSize": 3})
    assert [e["message"] for p in pages for e in p["events"]] == [e["message"] for e in every]
    only_t = logs.filter_log_events(logGroupName="g", logStreamNames=["t"], startTime=now - 97, endTime=now - 95)
    assert [e["message"] for e in only_t["events"]] == ["t1", "t2"]  # both ends inclusive
    assert [e["message"] for e in logs.filter_log_events(logGroupName="g", logStreamNamePrefix="s",
                                                         filterPattern="s3")["events"]] == ["s3"]
    assert error(logs.filter_log_events, logGroupName="g", logStreamNames=["t", "missing"]) == {
        "Code": "ResourceNotFoundException", "Message": "The specified log stream does not exist.", "Status": 400}
    err = error(logs.filter_log_events, logGroupName="g", logStreamNames=["s"], logStreamNamePrefix="s")
    assert err["Code"] == "InvalidParameterException"


def test_filter_patterns_over_http(logs, cloud):
    now = server_ms(cloud)
    lines = [json.dumps({"level": "ERROR", "latency": 250}), json.dumps({"level": "INFO", "latency": 20}),
             "ERROR plain text", "WARN disk 91%", "INFO Retry ok"]
    put(logs, [{"timestamp": now, "message": m} for m in lines])

    def found(pattern):
        return [e["message"] for e in logs.filter_log_events(logGroupName="g", filterPattern=pattern)["events"]]

    assert found('{ $.level = "ERROR" }') == [lines[0]]
    assert found("{ $.latency > 100 }") == [lines[0]]
    assert found('{ $.level = "INFO" || $.latency > 200 }') == lines[:2]
    assert found("?WARN ?Retry") == lines[3:]
    assert found('ERROR -"{"') == ["ERROR plain text"]
    assert found("[level = ERROR || level = WARN, ...]") == lines[2:4]
    err = error(logs.filter_log_events, logGroupName="g", filterPattern="{ $.level = }")
    assert err["Code"] == "InvalidParameterException"


def test_retention_hides_then_deletes_events_after_the_clock_moves(cloud):
    logs = logs_client(cloud)
    logs.create_log_group(logGroupName="/aws/lambda/ret")
    logs.create_log_stream(logGroupName="/aws/lambda/ret", logStreamName="s")
    now = server_ms(cloud)
    logs.put_log_events(logGroupName="/aws/lambda/ret", logStreamName="s",
                        logEvents=[{"timestamp": now, "message": "hello world"}])
    logs.put_retention_policy(logGroupName="/aws/lambda/ret", retentionInDays=3)
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 11
    cloud.advance(days=2)
    assert len(logs.filter_log_events(logGroupName="/aws/lambda/ret")["events"]) == 1
    cloud.advance(days=2)
    assert logs.filter_log_events(logGroupName="/aws/lambda/ret")["events"] == []
    assert logs.get_log_events(logGroupName="/aws/lambda/ret", logStreamName="s", startFromHead=True)["events"] == []
    # the daily sweep deleted them (not only hid them)
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 0
    stream = logs.describe_log_streams(logGroupName="/aws/lambda/ret")["logStreams"][0]
    assert "firstEventTimestamp" not in stream


def test_a_group_without_retention_keeps_events(cloud):
    logs = logs_client(cloud)
    logs.create_log_group(logGroupName="keep")
    logs.create_log_stream(logGroupName="keep", logStreamName="s")
    logs.put_log_events(logGroupName="keep", logStreamName="s", logEvents=[{"timestamp": server_ms(cloud), "message": "x"}])
    cloud.advance(days=40)
    assert len(logs.filter_log_events(logGroupName="keep")["events"]) == 1
