"""The async queue's pure parts: retry and throttle delays, the destination record."""

from __future__ import annotations

from types import SimpleNamespace

from cloudlet.services.lambda_ import asyncq
from cloudlet.services.lambda_.runtime.model import Result


def test_retry_delays_are_one_then_two_minutes():
    assert asyncq.retry_delay(1) == 60 and asyncq.retry_delay(2) == 120


def test_throttle_backoff_doubles_to_five_minutes():
    assert [asyncq.throttle_delay(n) for n in (1, 2, 3)] == [1, 2, 4]
    assert asyncq.throttle_delay(30) == 300


def target():
    return SimpleNamespace(function_arn="arn:aws:lambda:us-east-1:123456789012:function:f", version="$LATEST")


def test_success_record():
    r = Result(b'{"ok":true}', None, None, "", "s", [], 1.0, 1, 1, None, "rid")
    rec = asyncq.record(target(), "rid", {"payload": b'{"in":1}', "attempts": 1}, "Success", r)
    assert rec["version"] == "1.0" and rec["timestamp"].endswith("Z")
    assert rec["requestContext"] == {"requestId": "rid", "condition": "Success", "approximateInvokeCount": 1,
                                     "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"}
    assert rec["requestPayload"] == {"in": 1}
    assert rec["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert rec["responsePayload"] == {"ok": True}


def test_failure_record_names_the_function_error():
    last = {"payload": b'{"errorMessage":"boom","errorType":"ValueError"}', "error": "Unhandled"}
    rec = asyncq.record(target(), "rid", {"payload": b"{}", "attempts": 3}, "RetriesExhausted", None, last)
    assert rec["requestContext"]["condition"] == "RetriesExhausted"
    assert rec["requestContext"]["approximateInvokeCount"] == 3
    assert rec["responseContext"]["functionError"] == "Unhandled"
    assert rec["responsePayload"]["errorMessage"] == "boom"


def test_age_exceeded_without_any_attempt_has_no_response():
    rec = asyncq.record(target(), "rid", {"payload": b"{}", "attempts": 0}, "EventAgeExceeded", None, None)
    assert "responseContext" not in rec and "responsePayload" not in rec


def test_queue_url_from_arn():
    assert asyncq.queue_url("arn:aws:sqs:eu-west-1:123456789012:q") == "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
