"""The pure rules: batch classification at its boundaries, tokens, ARNs."""

from __future__ import annotations

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.logs import model

NOW = 1_800_000_000_000
DAY, HOUR = model.DAY_MS, model.HOUR_MS


def test_classify_boundaries_are_inclusive_of_the_limits():
    assert model.classify([NOW - 14 * DAY, NOW - 14 * DAY + 1], NOW, None).rejected == {}
    assert model.classify([NOW, NOW + 2 * HOUR], NOW, None).rejected == {}
    b = model.classify([NOW - 14 * DAY - 1, NOW, NOW + 2 * HOUR + 1], NOW, None)
    assert (b.lo, b.hi) == (1, 2)
    assert b.rejected == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}


def test_classify_expired_by_retention():
    b = model.classify([NOW - 3 * DAY - 1, NOW - 3 * DAY, NOW - 3 * DAY + 5], NOW, 3)
    assert (b.lo, b.hi, b.rejected) == (1, 3, {"expiredLogEventEndIndex": 1})


def test_span_counts_only_accepted_events():
    with pytest.raises(ServiceError) as err:
        model.classify([NOW - DAY - 1, NOW], NOW, None)
    assert "cannot span more than 24 hours" in err.value.message
    assert model.classify([NOW - DAY, NOW], NOW, None).hi == 2
    assert model.classify([NOW - 20 * DAY, NOW - 2 * HOUR, NOW + 30 * HOUR], NOW, None).rejected == {
        "tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}


def test_check_batch_size_counts_26_bytes_per_event():
    fits = [{"timestamp": 1, "message": "é" * ((model.MAX_BATCH_BYTES - 26) // 2)}]
    assert len(model.check_batch(fits)[0]) == model.MAX_BATCH_BYTES - 26
    with pytest.raises(ServiceError) as err:
        model.check_batch(fits + [{"timestamp": 1, "message": "x"}])
    assert err.value.message == "Upload too large: 1048603 bytes exceeds limit of 1048576"


def test_stream_tokens_round_trip_and_refuse_garbage():
    token = model.stream_token("f", NOW, 42)
    assert token.startswith("f/") and token.endswith("/s") and len(token) == 60
    assert model.parse_stream_token(token) == ("f", NOW, 42)
    for bad in ("f/12", "x/" + "0" * 56 + "/s", "f/" + "a" * 56, ""):
        with pytest.raises(ServiceError):
            model.parse_stream_token(bad)
    assert model.parse_opaque_token(model.opaque_token({"a": "b"})) == {"a": "b"}
    with pytest.raises(ServiceError):
        model.parse_opaque_token("%%%")


def test_group_arns():
    assert model.group_from_arn("arn:aws:logs:us-east-1:123456789012:log-group:/a/b:*") == ("us-east-1", "123456789012", "/a/b")
    assert model.group_from_arn("arn:aws:logs:us-east-1:123456789012:log-group:/a/b") == ("us-east-1", "123456789012", "/a/b")
    assert model.group_from_arn("arn:aws:s3:::bucket") is None
    assert model.event_id(NOW, 7, 3).isdigit() and len(model.event_id(NOW, 7, 3)) == 56
