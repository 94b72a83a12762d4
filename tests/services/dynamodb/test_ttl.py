"""Time to Live over HTTP: expired items are deleted by DynamoDB itself once the clock
passes their TTL (a REMOVE in the stream with the service's identity), only Number
attributes count, disabling TTL stops it, and the sweep survives a restart and a jump of
years; plus the expiry rule at its boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from cloudlet.services.dynamodb import ttl
from tests.cloud import Cloud
from tests.services.dynamodb.test_streams import iterator, key, make_table, read_all

YEAR = 365 * 86_400
SERVICE = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


def now_s(cloud) -> float:
    return dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00")).timestamp()


def enable_ttl(ddb, name: str, attr: str = "exp") -> None:
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": attr, "Enabled": True})


def present(ddb, name: str, pks: list[str]) -> list[str]:
    return [pk for pk in pks if "Item" in ddb.get_item(TableName=name, Key=key(pk), ConsistentRead=True)]


def test_expired_items_are_deleted_by_the_service_and_streamed(cloud):
    ddb, streams = cloud.client("dynamodb"), cloud.client("dynamodbstreams")
    name, arn = make_table(ddb, "NEW_AND_OLD_IMAGES")
    enable_ttl(ddb, name)
    now = now_s(cloud)
    items = {
        "soon": {"exp": {"N": str(int(now) + 600)}},
        "past": {"exp": {"N": str(int(now) - 30)}},  # already expired: still read until the sweep
        "later": {"exp": {"N": str(int(now) + 30 * 86_400)}},
        "text": {"exp": {"S": str(int(now) - 600)}},  # not a Number: never expires
        "set": {"exp": {"NS": [str(int(now) - 600)]}},
        "none": {"other": {"N": str(int(now) - 600)}},
        "ancient": {"exp": {"N": str(int(now) - 6 * YEAR)}},  # more than five years ago: ignored
    }
    for pk, attrs in items.items():
        ddb.put_item(TableName=name, Item={**key(pk), **attrs})
    # "past" may already be swept: the job runs every cloudlet minute, also in real time
    assert [k for k in present(ddb, name, list(items)) if k != "past"] == [k for k in items if k != "past"]

    cloud.advance(3600)
    assert present(ddb, name, list(items)) == ["later", "text", "set", "none", "ancient"]
    removes = [r for r in read_all(streams, iterator(streams, arn)) if r["eventName"] == "REMOVE"]
    assert sorted(r["dynamodb"]["Keys"]["pk"]["S"] for r in removes) == ["past", "soon"]
    for r in removes:
        assert r["userIdentity"] == SERVICE
        pk = r["dynamodb"]["Keys"]["pk"]["S"]
        assert r["dynamodb"]["OldImage"] == {**key(pk), **items[pk]}
    inserts = [r for r in read_all(streams, iterator(streams, arn)) if r["eventName"] == "INSERT"]
    assert len(inserts) == len(items) and all("userIdentity" not in r for r in inserts)

    cloud.advance(31 * 86_400)
    assert present(ddb, name, list(items)) == ["text", "set", "none", "ancient"]


def test_an_update_that_moves_the_ttl_keeps_the_item_and_disabling_stops_the_sweep(cloud):
    ddb = cloud.client("dynamodb")
    name, _ = make_table(ddb, None)
    enable_ttl(ddb, name, "expires")
    now = now_s(cloud)
    ddb.put_item(TableName=name, Item={**key("moved"), "expires": {"N": str(int(now) + 60)}})
    ddb.put_item(TableName=name, Item={**key("moved"), "expires": {"N": str(int(now) + 7200)}})
    ddb.put_item(TableName=name, Item={**key("kept"), "expires": {"N": str(int(now) + 60)}})
    cloud.advance(600)
    assert present(ddb, name, ["moved", "kept"]) == ["moved"]

    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": "expires", "Enabled": False})
    cloud.advance(7200)
    assert present(ddb, name, ["moved"]) == ["moved"]  # expired, but TTL is off


def test_the_sweep_survives_a_restart_and_a_jump_of_years(tmp_path):
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        ddb = cloud.client("dynamodb")
        name, arn = make_table(ddb, "KEYS_ONLY", name="ttl-restart")
        enable_ttl(ddb, name)
        now = now_s(cloud)
        ddb.put_item(TableName=name, Item={**key("a"), "exp": {"N": str(int(now) + 120)}})
        ddb.put_item(TableName=name, Item={**key("b"), "exp": {"N": str(int(now) + 2 * YEAR)}})
        ddb.put_item(TableName=name, Item={**key("c"), "exp": {"N": str(int(now) + 20 * YEAR)}})
    finally:
        cloud.stop()
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        ddb, streams = cloud.client("dynamodb"), cloud.client("dynamodbstreams")
        assert present(ddb, name, ["a", "b", "c"]) == ["a", "b", "c"]
        # one catch-up sweep covers the whole jump: "a" expired 10 years before it runs, yet
        # within five years of the first sweep it stands for, so it goes as daily sweeps would
        cloud.advance(10 * YEAR)
        assert present(ddb, name, ["a", "b", "c"]) == ["c"]
        assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
        records = read_all(streams, iterator(streams, arn))  # the inserts aged out of the stream long ago
        assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], r["userIdentity"]) for r in records] == [
            ("REMOVE", "a", SERVICE), ("REMOVE", "b", SERVICE)]
    finally:
        cloud.stop()


@pytest.mark.parametrize("value, expired", [
    ({"N": "999"}, True),
    ({"N": "1000"}, False),  # not less than now
    ({"N": "999.999"}, True),
    ({"N": str(1000 - ttl.MAX_AGE)}, True),
    ({"N": str(1000 - ttl.MAX_AGE - 1)}, False),  # more than five years before the sweep
    ({"S": "1"}, False),
    ({"NS": ["1"]}, False),
    ({"L": [{"N": "1"}]}, False),
    (None, False),
])
def test_expiry_rule(value, expired):
    assert ttl.expired(value, 1000.0, 1000.0) is expired


def test_a_catch_up_sweep_reaches_back_from_its_first_missed_run():
    assert ttl.expired({"N": "10"}, 10.0 + ttl.MAX_AGE, 10.0 + 2 * ttl.MAX_AGE)
    assert not ttl.expired({"N": "9"}, 10.0 + ttl.MAX_AGE, 10.0 + 2 * ttl.MAX_AGE)
