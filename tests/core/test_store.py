"""The store's promises, checked on the same API in memory (``--ephemeral``) and on disk.

Every test taking ``store`` runs twice, like CPython's PyTest/CTest pairs: the in-memory
store must behave exactly as the one under a data directory.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cloudlet.core.datadir import Store
from cloudlet.core.store import Conflict, decode, encode

ACCOUNT, OTHER_ACCOUNT = "111111111111", "222222222222"
REGION, OTHER_REGION = "us-east-1", "eu-west-1"


@pytest.fixture(params=["memory", "disk"])
def store(request, tmp_path):
    s = Store(None if request.param == "memory" else str(tmp_path / "data"))
    yield s
    s.close()


def tx(store: Store, account: str = ACCOUNT, region: str = REGION):
    return store.tx("svc", account, region)


def keys(records) -> list:
    return [r.key for r in records]


class Boom(Exception):
    pass


# records -------------------------------------------------------------------------------


def test_put_get_delete_and_versions(store):
    with tx(store) as t:
        assert t.get("thing", "a") is None
        assert t.put("thing", "a", {"n": 1}) == 1
    with tx(store) as t:
        assert t.put("thing", "a", {"n": 2}) == 2
        rec = t.get("thing", "a")
    assert (rec.key, rec.value, rec.version) == ("a", {"n": 2}, 2)
    with tx(store) as t:
        assert t.delete("thing", "a") is True
        assert t.delete("thing", "a") is False
        assert t.get("thing", "a") is None
        assert t.put("thing", "a", "again") == 1  # a deleted record starts over


def test_kinds_are_separate_namespaces(store):
    with tx(store) as t:
        t.put("queue", "x", 1)
        t.put("message", "x", 2)
        assert t.get("queue", "x").value == 1
        assert t.get("message", "x").value == 2
        assert t.count("queue") == 1
        t.delete("queue", "x")
        assert t.get("message", "x").value == 2


def test_text_and_bytes_keys_are_different_keys(store):
    with tx(store) as t:
        t.put("k", "a", "text")
        t.put("k", b"a", "bytes")
        assert t.get("k", "a").value == "text"
        assert t.get("k", b"a").value == "bytes"
        assert [type(k) for k in keys(t.scan("k"))] == [str, bytes]  # text sorts first


def test_expect_makes_a_write_conditional(store):
    with tx(store) as t:
        assert t.put("k", "a", 1, expect=0) == 1
        with pytest.raises(Conflict) as err:
            t.put("k", "a", 2, expect=0)  # "must not exist"
        assert (err.value.expected, err.value.found) == (0, 1)
        with pytest.raises(Conflict) as err:
            t.put("k", "a", 2, expect=5)
        assert (err.value.expected, err.value.found) == (5, 1)
        with pytest.raises(Conflict) as err:
            t.put("k", "missing", 2, expect=1)
        assert (err.value.expected, err.value.found) == (1, 0)
        assert t.put("k", "a", 2, expect=1) == 2
        with pytest.raises(Conflict):
            t.delete("k", "a", expect=1)
        with pytest.raises(Conflict):
            t.delete("k", "missing", expect=1)
        assert t.get("k", "a").value == 2  # failed conditions changed nothing
        assert t.delete("k", "a", expect=2) is True


def test_a_conflict_that_escapes_the_transaction_rolls_it_back(store):
    with tx(store) as t:
        t.put("k", "a", 1)
    with pytest.raises(Conflict):
        with tx(store) as t:
            t.put("k", "b", 1)
            t.put("k", "a", 9, expect=0)
    with tx(store) as t:
        assert t.get("k", "b") is None
        assert t.get("k", "a").value == 1


def test_data_on_disk_survives_close_and_reopen(tmp_path):
    root = str(tmp_path / "data")
    s = Store(root)
    with s.tx("svc", ACCOUNT, REGION) as t:
        t.put("k", "a", {"v": [1, 2]}, attrs={"color": "red"})
        t.put("k", "a", {"v": [1, 2, 3]}, attrs={"color": "red"})
    s.close()
    s = Store(root)
    with s.tx("svc", ACCOUNT, REGION) as t:
        rec = t.get("k", "a")
        assert (rec.value, rec.version) == ({"v": [1, 2, 3]}, 2)
        assert keys(t.find("k", "color", "red")) == ["a"]
    assert s.services() == ["svc"]
    s.close()


def test_durability_settings_reach_sqlite(tmp_path):
    for durability, level in (("commit", 1), ("fsync", 2)):  # NORMAL, FULL
        s = Store(str(tmp_path / durability), durability)
        db = s.db("svc")
        assert db._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db._con.execute("PRAGMA synchronous").fetchone()[0] == level
        with s.tx("svc", ACCOUNT, REGION) as t:
            blob = t.put_blob(b"payload")
        with s.tx("svc", ACCOUNT, REGION) as t, t.open_blob(blob) as f:
            assert f.read() == b"payload"
        s.close()
    with pytest.raises(ValueError):
        Store(None, "sometimes")


# scan ----------------------------------------------------------------------------------

TEXT_KEYS = ["b", "a", "ab", "a\U0010ffff", "a\U0010ffffz", "\ud7ff", "\ue000", "é", "\U0001f600", "`", ""]
BYTES_KEYS = [b"a", b"a\xfe", b"a\xff", b"a\xff\x00", b"a\xff\xff", b"b", b"\xff", b"\xff\xff", b"\xfe\xff", b"\x00", b""]


def fill(store: Store, kind: str, ks: list) -> None:
    with tx(store) as t:
        for k in ks:
            t.put(kind, k, repr(k))


def test_scan_orders_text_keys_by_code_point(store):
    fill(store, "t", TEXT_KEYS)
    with tx(store) as t:
        assert keys(t.scan("t")) == sorted(TEXT_KEYS)
        assert keys(t.scan("t", reverse=True)) == sorted(TEXT_KEYS, reverse=True)
        assert [r.value for r in t.scan("t")] == [repr(k) for k in sorted(TEXT_KEYS)]


def test_scan_orders_bytes_keys_bytewise(store):
    fill(store, "b", BYTES_KEYS)
    with tx(store) as t:
        assert keys(t.scan("b")) == sorted(BYTES_KEYS)
        assert keys(t.scan("b", reverse=True)) == sorted(BYTES_KEYS, reverse=True)


@pytest.mark.parametrize(
    "prefix",
    ["a", "a\U0010ffff", "\U0010ffff", "\ud7ff", "é", "zz"],
    ids=repr,
)
def test_scan_text_prefix(store, prefix):
    fill(store, "mixed", TEXT_KEYS + BYTES_KEYS)
    with tx(store) as t:
        assert keys(t.scan("mixed", prefix)) == sorted(k for k in TEXT_KEYS if k.startswith(prefix))


@pytest.mark.parametrize("prefix", [b"a", b"a\xff", b"\xff", b"\xff\xff", b"\xfe", b"zz"], ids=repr)
def test_scan_bytes_prefix_including_ones_ending_in_0xff(store, prefix):
    fill(store, "mixed", TEXT_KEYS + BYTES_KEYS)
    with tx(store) as t:
        assert keys(t.scan("mixed", prefix)) == sorted(k for k in BYTES_KEYS if k.startswith(prefix))


def test_scan_pages_with_after_and_limit_forward_and_backward(store):
    ks = [f"k{i:03d}" for i in range(25)]
    fill(store, "p", ks)
    with tx(store) as t:
        for reverse in (False, True):
            seen, after = [], None
            while True:
                page = t.scan("p", after=after, reverse=reverse, limit=7)
                seen += keys(page)
                if len(page) < 7:
                    break
                after = page[-1].key
            assert seen == sorted(ks, reverse=reverse)
        assert keys(t.scan("p", "k01", after="k013", limit=3)) == ["k014", "k015", "k016"]
        assert keys(t.scan("p", "k01", after="k013", reverse=True)) == ["k012", "k011", "k010"]
        assert t.scan("p", limit=0) == []


def test_scan_matches_a_model(tmp_path):
    """Any keys, prefix, after, direction and limit: scan agrees with sorting in Python."""
    s = Store(None)
    counter = iter(range(10**9))
    text = st.text(st.sampled_from("a\x00\ud7ff\ue000\U0010ffff"), max_size=4)
    blob = st.binary(max_size=4).map(lambda b: bytes(x if x in (0, 0x61, 0xFE, 0xFF) else 0xFF for x in b))

    @settings(max_examples=200, deadline=None)
    @given(
        st.one_of(
            st.tuples(st.lists(text, unique=True, max_size=12), st.none() | text, st.none() | text),
            st.tuples(st.lists(blob, unique=True, max_size=12), st.none() | blob, st.none() | blob),
        ),
        st.booleans(),
        st.none() | st.integers(0, 5),
    )
    def check(case, reverse, limit):
        ks, prefix, after = case
        kind = f"k{next(counter)}"
        with s.tx("svc", ACCOUNT, REGION) as t:
            for k in ks:
                t.put(kind, k, 0)
            got = keys(t.scan(kind, prefix, after=after, reverse=reverse, limit=limit))
        want = sorted((k for k in ks if not prefix or k.startswith(prefix)), reverse=reverse)
        if after is not None:
            want = [k for k in want if (k < after if reverse else k > after)]
        assert got == want[:limit]

    check()
    s.close()


# find ----------------------------------------------------------------------------------


def test_find_by_attribute_including_lists(store):
    with tx(store) as t:
        t.put("q", "c", 3, attrs={"state": "open", "tags": ["x", "y"]})
        t.put("q", "a", 1, attrs={"state": "open", "tags": ["y"], "size": 10})
        t.put("q", "b", 2, attrs={"state": "closed", "tags": [], "size": None})
        t.put("other", "z", 0, attrs={"state": "open"})
        assert keys(t.find("q", "state", "open")) == ["a", "c"]  # key order, this kind only
        assert [r.value for r in t.find("q", "state", "open")] == [1, 3]
        assert keys(t.find("q", "tags", "y")) == ["a", "c"]
        assert keys(t.find("q", "tags", "x")) == ["c"]
        assert keys(t.find("q", "size", 10)) == ["a"]
        assert t.find("q", "state", "gone") == []
        assert t.find("q", "nope", "open") == []


def test_put_replaces_attributes_and_none_keeps_them(store):
    with tx(store) as t:
        t.put("q", "a", 1, attrs={"state": "open", "tags": ["x", "y"]})
        t.put("q", "a", 2, attrs={"state": "closed", "tags": ["y"]})
        assert t.find("q", "state", "open") == []
        assert keys(t.find("q", "state", "closed")) == ["a"]
        assert t.find("q", "tags", "x") == []
        t.put("q", "a", 3)  # attrs=None: value changes, attributes stay
        assert [(r.value, r.version) for r in t.find("q", "tags", "y")] == [(3, 3)]
        t.put("q", "a", 4, attrs={})
        assert t.find("q", "state", "closed") == [] and t.find("q", "tags", "y") == []


def test_delete_removes_attributes_so_a_new_record_starts_clean(store):
    with tx(store) as t:
        t.put("q", "a", 1, attrs={"state": "open"})
        t.delete("q", "a")
        assert t.find("q", "state", "open") == []
        t.put("q", "a", 2)
        assert t.find("q", "state", "open") == []


# transactions --------------------------------------------------------------------------


def test_inner_rollback_keeps_the_outer_work(store):
    with tx(store) as outer:
        outer.put("k", "before", 1)
        with pytest.raises(Boom):
            with tx(store) as inner:
                inner.put("k", "inner", 1)
                inner.put("k", "before", 2)
                raise Boom
        outer.put("k", "after", 1)
        with tx(store) as inner:
            inner.put("k", "kept", 1)
    with tx(store) as t:
        assert keys(t.scan("k")) == ["after", "before", "kept"]
        assert t.get("k", "before").value == 1


def test_outer_rollback_drops_released_savepoints_too(store):
    with tx(store) as t:
        t.put("k", "old", 1)
    with pytest.raises(Boom):
        with tx(store) as outer:
            outer.put("k", "a", 1)
            with tx(store) as inner:
                inner.put("k", "b", 1)
                with tx(store) as innermost:
                    innermost.delete("k", "old")
            raise Boom
    with tx(store) as t:
        assert keys(t.scan("k")) == ["old"]


def test_savepoints_nest_three_deep_with_a_middle_rollback(store):
    with tx(store) as a:
        a.put("k", "a", 1)
        with pytest.raises(Boom):
            with tx(store) as b:
                b.put("k", "b", 1)
                with tx(store) as c:
                    c.put("k", "c", 1)
                raise Boom  # drops b and c, which was released into b
        with tx(store) as d:
            d.put("k", "d", 1)
    with tx(store) as t:
        assert keys(t.scan("k")) == ["a", "d"]
    with tx(store) as t:  # the store is usable again, no transaction left open
        t.put("k", "e", 1)


# blobs ---------------------------------------------------------------------------------


def blob_files(store: Store) -> set[str]:
    return {name for name, _ in store.db("svc").blobs.ids()}


def test_blob_put_open_and_chunks(store):
    with tx(store) as t:
        one = t.put_blob(b"hello")
        two = t.put_blob(iter([b"ab", b"", b"cd" * 1000]))
        t.put("obj", "k", {"blob": two})
    with tx(store) as t:
        with t.open_blob(one) as f:
            assert f.read() == b"hello"
        with t.open_blob(t.get("obj", "k").value["blob"]) as f:
            assert f.read() == b"ab" + b"cd" * 1000
    assert store.db("svc").blob_ids() == {one, two} == blob_files(store)


def test_dropped_blob_file_goes_only_after_commit(store):
    with tx(store) as t:
        blob = t.put_blob(b"data")
    with tx(store) as t:
        t.drop_blob(blob)
        with tx(store) as inner:
            assert blob in blob_files(store)  # still readable until the outer commit
            with inner.open_blob(blob) as f:
                assert f.read() == b"data"
    assert blob not in blob_files(store)
    assert store.db("svc").blob_ids() == set()


def test_drop_in_a_rolled_back_transaction_keeps_the_blob(store):
    with tx(store) as t:
        blob = t.put_blob(b"data")
    with pytest.raises(Boom):
        with tx(store) as t:
            t.drop_blob(blob)
            raise Boom
    with tx(store):
        with pytest.raises(Boom):
            with tx(store) as inner:
                inner.drop_blob(blob)
                raise Boom
    assert store.db("svc").blob_ids() == {blob} == blob_files(store)


def test_rolled_back_blob_is_removed_with_its_transaction(store):
    with tx(store) as t:
        kept = t.put_blob(b"kept")
    with pytest.raises(Boom):
        with tx(store) as t:
            t.put_blob(b"lost")
            raise Boom
    with tx(store) as outer:
        released = outer.put_blob(b"outer")
        with pytest.raises(Boom):
            with tx(store) as inner:
                inner.put_blob(b"inner")
                raise Boom
    assert store.db("svc").blob_ids() == {kept, released} == blob_files(store)


def test_orphan_files_are_removed_at_open(tmp_path):
    """What a crash leaves: a file whose transaction never committed, a half-written
    temp file, a file whose drop committed but whose unlink never ran."""
    root = str(tmp_path / "data")
    s = Store(root)
    with s.tx("svc", ACCOUNT, REGION) as t:
        kept = t.put_blob(b"kept")
        dropped = t.put_blob(b"dropped")
    blobs = s.db("svc").blobs
    orphan, _ = blobs.write(b"never committed")
    with open(blobs.path(orphan[:2] + "f" * 30) + ".tmp", "wb") as f:
        f.write(b"half")
    with s.db("svc").tx(ACCOUNT, REGION) as t:
        t._con.execute("DELETE FROM blobs WHERE id=?", (dropped,))  # a drop whose unlink never ran
    assert {orphan, dropped, kept} <= blob_files(s)
    s.close()
    s = Store(root)
    assert blob_files(s) == {kept} == s.db("svc").blob_ids()
    s.close()


def test_wipe_removes_records_and_blob_files(store):
    with tx(store) as t:
        t.put("k", "a", 1, attrs={"x": 1})
        t.put_blob(b"x")
    with tx(store, OTHER_ACCOUNT) as t:
        t.put("k", "b", 1)
    store.reset("svc")
    with tx(store) as t:
        assert t.scan("k") == [] and t.find("k", "x", 1) == []
    with tx(store, OTHER_ACCOUNT) as t:
        assert t.scan("k") == []
    assert blob_files(store) == set()


# isolation -----------------------------------------------------------------------------


@pytest.mark.parametrize("other", [(OTHER_ACCOUNT, REGION), (ACCOUNT, OTHER_REGION), (ACCOUNT, "")])
def test_accounts_and_regions_do_not_see_each_other(store, other):
    with tx(store) as t:
        t.put("k", "shared", "mine", attrs={"tag": "t"})
        t.put("k", "only-mine", 1)
    with tx(store, *other) as t:
        assert t.get("k", "shared") is None
        assert t.scan("k") == [] and t.count("k") == 0
        assert t.find("k", "tag", "t") == []
        assert t.delete("k", "only-mine") is False
        assert t.put("k", "shared", "theirs", expect=0) == 1
    with tx(store) as t:
        assert t.get("k", "shared").value == "mine"
        assert t.count("k") == 2
    with tx(store, *other) as t:
        assert t.get("k", "shared").value == "theirs"


def test_services_do_not_see_each_other(store):
    with store.tx("sqs", ACCOUNT, REGION) as t:
        t.put("k", "a", 1)
    with store.tx("sns", ACCOUNT, REGION) as t:
        assert t.get("k", "a") is None
    store.reset("sqs")
    assert "sns" in store.services()


# migrations ----------------------------------------------------------------------------


def test_migrations_run_once_in_order_and_are_recorded(tmp_path):
    root = str(tmp_path / "data")
    ran: list[str] = []

    def m(name: str):
        def apply(con: sqlite3.Connection) -> None:
            ran.append(name)
            con.execute(f"CREATE TABLE {name} (x)")
        return name, apply

    s = Store(root)
    db = s.db("svc", [m("one"), m("two")])
    assert ran == ["one", "two"]
    assert db.migrate([m("one"), m("two")]) == []
    assert db.migrate([m("one"), m("two"), m("three")]) == ["three"]
    s.close()
    s = Store(root)
    s.db("svc", [m("one"), m("two"), m("three")])
    assert ran == ["one", "two", "three"]  # nothing ran again after reopening
    s.close()


def test_a_failing_migration_leaves_no_trace_and_runs_again(store):
    calls = []

    def bad(con: sqlite3.Connection) -> None:
        calls.append(1)
        con.execute("CREATE TABLE half (x)")
        raise Boom

    def good(con: sqlite3.Connection) -> None:
        con.execute("CREATE TABLE half (x)")  # fails if the bad one's table survived

    db = store.db("svc")
    with pytest.raises(Boom):
        db.migrate([("m1", bad)])
    assert db._con.execute("SELECT name FROM migrations").fetchall() == []
    with pytest.raises(Boom):
        db.migrate([("m1", bad)])
    assert len(calls) == 2
    assert db.migrate([("m1", good)]) == ["m1"]


def test_duplicate_migration_names_are_refused_before_any_runs(store):
    ran = []
    with pytest.raises(ValueError, match="duplicate"):
        store.db("fresh", [("a", lambda con: ran.append("a")), ("a", lambda con: ran.append("a2"))])
    assert ran == []
    db = store.db("fresh")  # a failed open is not cached half-migrated
    assert db._con.execute("SELECT name FROM migrations").fetchall() == []


# values --------------------------------------------------------------------------------

UTC = dt.timezone.utc
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.binary()
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.datetimes(timezones=st.just(UTC) | st.timezones())
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def same(a: Any, b: Any) -> bool:
    """Equal, of the same type, NaN equal to NaN, -0.0 distinct from 0.0, same UTC offset."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, Decimal):
        return (a.is_nan() and b.is_nan() and a.is_snan() == b.is_snan()) or str(a) == str(b)
    if isinstance(a, dt.datetime):  # the instant and the offset (a zone's name is not kept)
        # compared in UTC: == between zones is False for a time in a DST fold (PEP 495)
        return a.astimezone(UTC) == b.astimezone(UTC) and a.utcoffset() == b.utcoffset()
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


EDGES = [
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    dt.datetime(2024, 3, 1, 12, 0, 0, 123457, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"), Decimal("-0.00"), Decimal("1.10"),
    Decimal("1E-400"), float("nan"), -0.0, 2**64, -(2**64) - 1,
    {"": [b"", "", {}]},
]


def pinned(*edges: Any):
    """Pin each edge as an @example: the datetimes are ones an epoch float lost or broke."""
    def wrap(test):
        for edge in edges:
            test = example(edge)(test)
        return test
    return wrap


@pinned(*EDGES)
@given(values)
@settings(max_examples=300, deadline=None)
def test_values_round_trip_through_the_codec(value):
    assert same(decode(encode(value)), value)


@pytest.fixture(scope="module", params=["memory", "disk"])
def shared_store(request, tmp_path_factory):
    s = Store(None if request.param == "memory" else str(tmp_path_factory.mktemp("roundtrip")))
    yield s
    s.close()


@given(value=values, key=st.text(max_size=10) | st.binary(max_size=10))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_values_round_trip_through_the_store(shared_store, value, key):
    with shared_store.tx("svc", ACCOUNT, REGION) as t:
        version = t.put("v", key, value)
    with shared_store.tx("svc", ACCOUNT, REGION) as t:
        rec = t.get("v", key)
        assert same(rec.value, value) and rec.version == version and same(rec.key, key)
        assert any(same(r.value, value) for r in t.scan("v", key) if same(r.key, key))


def test_naive_datetimes_are_refused_and_nothing_is_written(store):
    with pytest.raises(ValueError, match="naive"):
        with tx(store) as t:
            t.put("k", "a", 1)
            t.put("k", "b", {"when": dt.datetime(2024, 1, 1)})
    with tx(store) as t:
        assert t.scan("k") == []
