"""A function's log becomes PutLogEvents calls that stay within CloudWatch Logs' limits."""

from cloudlet.services.lambda_.logsink import BATCH, BATCH_BYTES, EVENT_OVERHEAD, batches


def test_batches_split_by_bytes_counting_the_per_event_overhead():
    events = [(1000 + i, "x" * 300_000) for i in range(10)]
    out = list(batches(events))
    assert [len(b) for b in out] == [3, 3, 3, 1]
    for b in out:
        assert sum(len(e["message"].encode()) + EVENT_OVERHEAD for e in b) <= BATCH_BYTES
    assert [e["timestamp"] for b in out for e in b] == [1000 + i for i in range(10)]  # order kept


def test_batches_split_by_count():
    out = list(batches([(1, "a")] * (2 * BATCH + 5)))
    assert [len(b) for b in out] == [BATCH, BATCH, 5]


def test_multibyte_messages_count_their_utf8_bytes():
    # 200,000 three-byte characters: 600,026 bytes each, so two cannot share a call
    out = list(batches([(1, "€" * 200_000), (2, "€" * 200_000)]))
    assert [len(b) for b in out] == [1, 1]


def test_nothing_to_ship_makes_no_call():
    assert list(batches([])) == []
