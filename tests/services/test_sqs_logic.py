"""SQS's rules and its message state machine, called directly (no server).

The state machine is driven by Hypothesis through random sends, receives, deletes,
visibility changes and clock steps on an in-memory store, against a plain model of what
SQS promises: exact counts, FIFO order per group, and a group locked while a message of
it is in flight.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from cloudlet.core.errors import ServiceError
from cloudlet.core.datadir import Store
from cloudlet.services.sqs import model, storage


# pure rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, parsed",
    [
        ("http://localhost:4566/000000000000/q", ("000000000000", "q")),
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo", ("123456789012", "jobs.fifo")),
        ("/123456789012/q/", ("123456789012", "q")),
        ("http://localhost:4566/q", None),
        ("http://localhost:4566/a/b/c", None),
        ("q", None),
    ],
)
def test_queue_urls_are_read_from_their_path(url, parsed):
    assert model.parse_queue_url(url) == parsed


def test_receipt_handles_round_trip_and_garbage_is_none():
    handle = model.receipt_handle("qid", "000000000000001.000000000001", "abc")
    assert model.parse_receipt(handle) == model.Receipt("qid", "000000000000001.000000000001", "abc")
    for junk in ("", "!!!", "aGVsbG8=", "a b"):
        assert model.parse_receipt(junk) is None


def test_task_handles_round_trip():
    assert model.parse_task_handle(model.task_handle("arn:aws:sqs:us-east-1:1:q", "t1")) == ("arn:aws:sqs:us-east-1:1:q", "t1")
    assert model.parse_task_handle("bm9wZQ==") is None


def test_attributes_are_normalized():
    got = model.normalize_attributes(
        {"VisibilityTimeout": " 60", "ContentBasedDeduplication": "TRUE", "FifoQueue": "true"}, fifo=True, creating=True
    )
    assert got == {"VisibilityTimeout": "60", "ContentBasedDeduplication": "true", "FifoQueue": "true"}
    policy = model.normalize_redrive_policy('{"maxReceiveCount": "3", "deadLetterTargetArn": "arn:aws:sqs:r:1:d"}')
    assert policy == '{"deadLetterTargetArn":"arn:aws:sqs:r:1:d","maxReceiveCount":3}'


@pytest.mark.parametrize(
    "given, code",
    [
        ({"VisibilityTimeout": "-1"}, "InvalidAttributeValue"),
        ({"FifoQueue": "true"}, "InvalidAttributeName"),  # on a standard queue
        ({"ApproximateNumberOfMessages": "3"}, "InvalidAttributeName"),
        ({"SqsManagedSseEnabled": "true", "KmsMasterKeyId": "k"}, "InvalidAttributeValue"),
        ({"RedrivePolicy": "[]"}, "InvalidParameterValue"),
    ],
)
def test_bad_attributes(given, code):
    with pytest.raises(ServiceError) as err:
        model.normalize_attributes(given, fifo=False, creating=True)
    assert err.value.code == code


def test_attribute_selection_for_receive():
    attrs = {"a.x": 1, "a.y": 2, "b": 3}
    assert model.select_attributes(attrs, ["All"]) == attrs
    assert model.select_attributes(attrs, [".*"]) == attrs
    assert model.select_attributes(attrs, ["a.*"]) == {"a.x": 1, "a.y": 2}
    assert model.select_attributes(attrs, ["b", "missing"]) == {"b": 3}
    assert model.select_attributes(attrs, None) == {}


def test_list_attribute_values_have_their_own_transport_bytes():
    """String list (3) and binary list (4) digests differ from a single value's (1, 2)."""
    single = model.md5_of_attributes({"n": {"DataType": "String", "StringValue": "v"}})
    listed = model.md5_of_attributes({"n": {"DataType": "String", "StringListValues": ["v"]}})
    assert single != listed and model.md5_of_attributes({}) is None


def test_redrive_allow_policy():
    assert model.redrive_allows({}, "arn:src")
    deny = {"RedriveAllowPolicy": model.normalize_redrive_allow_policy('{"redrivePermission": "denyAll"}')}
    assert not model.redrive_allows(deny, "arn:src")
    by = {"RedriveAllowPolicy": model.normalize_redrive_allow_policy(
        '{"redrivePermission": "byQueue", "sourceQueueArns": ["arn:src"]}')}
    assert model.redrive_allows(by, "arn:src") and not model.redrive_allows(by, "arn:other")


# the state machine ---------------------------------------------------------------------------


def _queue(fifo: bool) -> storage.Queue:
    attrs = {**model.DEFAULTS, **(model.FIFO_DEFAULTS if fifo else {})}
    return storage.Queue("123456789012", "us-east-1", "aws", "q.fifo" if fifo else "q", "qid", fifo, attrs)


def _message(body: str, group: str | None, now: int) -> storage.Msg:
    return {"id": body, "body": body, "grp": group, "rc": 0, "frc": None, "enq": None, "sent": now}


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from(["a", "b", "c"]), st.sampled_from([0, 0, 0, 5])),
        st.tuples(st.just("receive"), st.integers(1, 4), st.sampled_from([0, 3, 10])),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("hide"), st.integers(0, 50), st.sampled_from([0, 7])),
        st.tuples(st.just("tick"), st.integers(1, 12)),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS, fifo=st.booleans())
def test_state_machine_keeps_sqs_promises(ops, fifo):
    db = Store(None).db("sqs")
    q = _queue(fifo)
    now = 1_000_000_000_000
    sent: dict[str, tuple[str, int, int]] = {}  # body -> (group, index in group, visible from)
    groups: dict[str, list[str]] = {}
    deleted: set[str] = set()
    flight: dict[str, tuple[str, int, str]] = {}  # body -> (mid, visible again at, nonce)
    n = 0
    for op in ops:
        with db.tx(q.account, q.region) as tx:
            storage.settle(tx, q, now)
            if op[0] == "send":
                _, group, delay = op
                if fifo:
                    delay = 0  # FIFO queues take no per-message delay
                n += 1
                body = f"m{n}"
                groups.setdefault(group, []).append(body)
                sent[body] = (group, len(groups[group]) - 1, now + delay * 1000)
                storage.enqueue(tx, q, _message(body, group, now), now, delay)
            elif op[0] == "receive":
                _, count, vis = op
                got = storage.take(tx, q, now, count, vis, None, lambda _: None)
                batch: list[str] = []
                for mid, m in got:
                    body = m["body"]
                    group = sent[body][0]
                    assert body not in deleted and sent[body][2] <= now
                    assert not (body in flight and flight[body][1] > now)  # never twice in flight
                    if fifo:  # strict order: everything before it in its group is deleted
                        earlier = groups[group][: sent[body][1]]
                        assert all(b in deleted or b in batch for b in earlier)
                        others = [b for b, f in flight.items() if f[1] > now and sent[b][0] == group and b not in deleted]
                        assert all(b in batch for b in others)  # its group was not locked
                    flight[body] = (mid, now + vis * 1000, m["rh"])
                    batch.append(body)
            elif op[0] in ("delete", "hide"):
                live = [b for b in flight if b not in deleted and flight[b][1] > now]
                if live:
                    body = live[op[1] % len(live)]
                    mid, until, nonce = flight[body]
                    m = storage.get_message(tx, q, mid)
                    assert m is not None and storage.in_flight(m, now) and m["rh"] == nonce
                    if op[0] == "delete":
                        storage.remove(tx, q, mid, m)
                        deleted.add(body)
                    else:
                        storage.change_visibility(tx, q, mid, m, now, op[2])
                        flight[body] = (mid, now + op[2] * 1000, nonce)
            else:
                now += op[1] * 1000
                storage.settle(tx, q, now)
            storage.settle(tx, q, now)  # as GetQueueAttributes does before counting
            visible, hidden, delayed = storage.counts(tx, q)
            alive = [b for b in sent if b not in deleted]
            in_flight = {b for b in alive if b in flight and flight[b][1] > now}
            delayed_now = {b for b in alive if b not in flight and sent[b][2] > now}
            assert (hidden, delayed) == (len(in_flight), len(delayed_now))
            assert visible == len(alive) - len(in_flight) - len(delayed_now)
    # in the end every message still there comes out, each group in order
    now += 10**7
    with db.tx(q.account, q.region) as tx:
        storage.settle(tx, q, now)
        drained: list[str] = []
        while True:
            got = storage.take(tx, q, now, 10, 0, None, lambda _: None)
            if not got:
                break
            for mid, m in got:
                drained.append(m["body"])
                storage.remove(tx, q, mid, m)
        assert sorted(drained) == sorted(b for b in sent if b not in deleted)
        if fifo:
            for members in groups.values():
                order = [b for b in drained if b in members]
                assert order == [b for b in members if b not in deleted]
        assert storage.counts(tx, q) == (0, 0, 0)


def _fresh(fifo: bool = False):
    return Store(None).db("sqs"), _queue(fifo)


def test_settle_moves_every_due_entry_however_many_came_due():
    db, q = _fresh()
    now = 1_000_000_000_000
    with db.tx(q.account, q.region) as tx:
        for i in range(150):
            storage.enqueue(tx, q, _message(f"m{i}", None, now), now, 30)
        assert storage.counts(tx, q) == (0, 0, 150)
        storage.settle(tx, q, now + 30_000)
        assert storage.counts(tx, q) == (150, 0, 0)


@pytest.mark.parametrize("fifo", [False, True])
def test_a_visibility_change_moves_the_message_not_copies_it(fifo):
    db, q = _fresh(fifo)
    now = 1_000_000_000_000
    with db.tx(q.account, q.region) as tx:
        storage.enqueue(tx, q, _message("m", "g", now), now, 0)
        ((mid, m),) = storage.take(tx, q, now, 1, 10, None, lambda _: None)
        storage.change_visibility(tx, q, mid, m, now, 30)
        storage.settle(tx, q, now + 11_000)
        assert storage.counts(tx, q) == (0, 1, 0)
        assert storage.take(tx, q, now + 11_000, 10, 10, None, lambda _: None) == []
        storage.settle(tx, q, now + 31_000)
        assert storage.counts(tx, q) == (1, 0, 0)
