"""Secondary indexes over HTTP: a GSI added to a table with items is backfilled, then
queryable; deleting one; sparse indexes; what each projection returns; an LSI fetching
what it does not project; key type checks.

The states in between (CREATING and Backfilling, queries refused, writes landing in an
index still being filled) last as long as the backfill job takes to start on the server's
scheduler thread, so over HTTP only the UpdateTable answer shows them deterministically;
`test_the_backfill_in_between_states` holds them still on an in-process gateway whose
scheduler has not been started, then lets the job run.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from tests.services.dynamodb.helpers import create_table, unique

BACKFILLING = "Cannot read from backfilling global secondary index: {}"


def keys(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "KeyType": "HASH" if i == 0 else "RANGE"} for i, n in enumerate(names)]


def attrs(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def gsi(name: str, *key: str, projection: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"IndexName": name, "KeySchema": keys(*key), "Projection": projection or {"ProjectionType": "ALL"}}


def table_with_items(ddb, n: int) -> str:
    """pk (S) only; item i has g = "g<i % 3>" (S) unless i % 10 == 0, and v = i."""
    name = unique()
    create_table(ddb, name)
    rows = []
    for i in range(n):
        row = {"pk": {"S": f"p{i:04d}"}, "v": {"N": str(i)}}
        if i % 10:
            row["g"] = {"S": f"g{i % 3}"}
        rows.append({"PutRequest": {"Item": row}})
    for start in range(0, n, 25):
        ddb.batch_write_item(RequestItems={name: rows[start:start + 25]})
    return name


def query_all(ddb, **req: Any) -> list[dict]:
    items, start = [], {}
    while True:
        page = ddb.query(**req, **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def index_status(ddb, table: str, index: str) -> dict[str, Any]:
    for g in ddb.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", []):
        if g["IndexName"] == index:
            return g
    raise AssertionError(f"no index {index}")


def error(call, **req: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as err:
        call(**req)
    return err.value.response["Error"]


# backfill -------------------------------------------------------------------------------------
def test_a_gsi_added_to_a_table_with_items_is_backfilled_then_queryable(cloud, ddb):
    table = table_with_items(ddb, 1100)  # more than two of the backfill's 500-item batches
    out = ddb.update_table(TableName=table, AttributeDefinitions=attrs(g="S"),
                           GlobalSecondaryIndexUpdates=[{"Create": gsi("byg", "g")}])
    (created,) = out["TableDescription"]["GlobalSecondaryIndexes"]
    assert created["IndexStatus"] == "CREATING" and created["Backfilling"] is True
    query = {"TableName": table, "IndexName": "byg", "KeyConditionExpression": "g = :g",
             "ExpressionAttributeValues": {":g": {"S": "g1"}}}
    try:  # the backfill may already be done: then the index must be complete
        early = query_all(ddb, **query)
    except ClientError as err:
        assert err.response["Error"] == {"Code": "ValidationException", "Message": BACKFILLING.format("byg")}
    else:
        assert index_status(ddb, table, "byg")["IndexStatus"] == "ACTIVE"
        assert len(early) == sum(1 for i in range(1100) if i % 10 and i % 3 == 1)
    cloud.advance(1)  # runs the jobs that are due
    status = index_status(ddb, table, "byg")
    assert status["IndexStatus"] == "ACTIVE" and "Backfilling" not in status
    for part in range(3):
        got = query_all(ddb, **{**query, "ExpressionAttributeValues": {":g": {"S": f"g{part}"}}})
        assert sorted(int(i["v"]["N"]) for i in got) == [i for i in range(1100) if i % 10 and i % 3 == part]


def test_existing_items_with_an_index_key_of_another_type_are_left_out(cloud, ddb):
    table = unique()
    create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "s"}, "g": {"S": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "g": {"N": "1"}})
    ddb.update_table(TableName=table, AttributeDefinitions=attrs(g="S"),
                     GlobalSecondaryIndexUpdates=[{"Create": gsi("byg", "g")}])
    cloud.advance(1)
    assert [i["pk"]["S"] for i in ddb.scan(TableName=table, IndexName="byg")["Items"]] == ["s"]
    # a new write of the wrong type is refused instead
    assert error(ddb.put_item, TableName=table, Item={"pk": {"S": "m"}, "g": {"N": "2"}})["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: byg")


def test_the_backfill_in_between_states():
    gw = Gateway(Config(ephemeral=True))  # its scheduler is not running: the backfill waits

    def call(op: str, **params: Any) -> dict:
        ctx = Context(account="123456789012", region="us-east-1", principal_arn="arn:aws:iam::123456789012:root",
                      access_key="test", request_id=uuid.uuid4().hex, service="dynamodb", operation=op, gateway=gw)
        return gw.dispatch(ctx, params)

    call("CreateTable", TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=keys("pk"),
         AttributeDefinitions=attrs(pk="S"))
    for pk, g in (("a", "x"), ("b", "x"), ("c", "y")):
        call("PutItem", TableName="t", Item={"pk": {"S": pk}, "g": {"S": g}})
    call("UpdateTable", TableName="t", AttributeDefinitions=attrs(g="S"),
         GlobalSecondaryIndexUpdates=[{"Create": gsi("byg", "g")}])
    (status,) = call("DescribeTable", TableName="t")["Table"]["GlobalSecondaryIndexes"]
    assert status["IndexStatus"] == "CREATING" and status["Backfilling"] is True
    query = {"TableName": "t", "IndexName": "byg", "KeyConditionExpression": "g = :g",
             "ExpressionAttributeValues": {":g": {"S": "x"}}}
    with pytest.raises(ServiceError) as refused:
        call("Query", **query)
    assert (refused.value.code, refused.value.message) == ("ValidationException", BACKFILLING.format("byg"))
    with pytest.raises(ServiceError):
        call("Scan", TableName="t", IndexName="byg")
    # writes while the backfill waits: a new item, an item moved to another key, one removed
    call("PutItem", TableName="t", Item={"pk": {"S": "d"}, "g": {"S": "x"}})
    call("UpdateItem", TableName="t", Key={"pk": {"S": "c"}}, UpdateExpression="SET g = :g",
         ExpressionAttributeValues={":g": {"S": "x"}})
    call("DeleteItem", TableName="t", Key={"pk": {"S": "a"}})
    gw.scheduler.start()
    try:
        clock.advance(0)  # returns once the overdue backfill has run
    finally:
        gw.scheduler.stop()
    (status,) = call("DescribeTable", TableName="t")["Table"]["GlobalSecondaryIndexes"]
    assert status["IndexStatus"] == "ACTIVE"
    assert sorted(i["pk"]["S"] for i in call("Query", **query)["Items"]) == ["b", "c", "d"]
    assert call("Query", **{**query, "ExpressionAttributeValues": {":g": {"S": "y"}}})["Items"] == []


# deleting -------------------------------------------------------------------------------------
def test_a_deleted_gsi_is_gone_and_a_new_one_of_its_name_starts_empty(cloud, ddb):
    table = unique()
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", KeySchema=keys("pk"),
                     AttributeDefinitions=attrs(pk="S", g="S"), GlobalSecondaryIndexes=[gsi("idx", "g")])
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "g": {"S": "1"}, "h": {"S": "2"}})
    out = ddb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "idx"}}])
    assert "GlobalSecondaryIndexes" not in out["TableDescription"]
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=table)["Table"]
    assert error(ddb.query, TableName=table, IndexName="idx", KeyConditionExpression="g = :g",
                 ExpressionAttributeValues={":g": {"S": "1"}}) == {
        "Code": "ValidationException", "Message": "The table does not have the specified index: idx"}
    # the name again, on another attribute: none of the old entries come back
    ddb.update_table(TableName=table, AttributeDefinitions=attrs(h="S"),
                     GlobalSecondaryIndexUpdates=[{"Create": gsi("idx", "h")}])
    cloud.advance(1)
    assert ddb.scan(TableName=table, IndexName="idx")["Items"] == [{"pk": {"S": "a"}, "g": {"S": "1"}, "h": {"S": "2"}}]
    assert ddb.query(TableName=table, IndexName="idx", KeyConditionExpression="h = :h",
                     ExpressionAttributeValues={":h": {"S": "2"}})["Count"] == 1
    assert error(ddb.update_table, TableName=table,
                 GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}])["Code"] == "ResourceNotFoundException"


# sparse indexes and projections ---------------------------------------------------------------
@pytest.fixture(scope="module")
def shop(ddb) -> str:
    """Orders: pk (S) + sk (N); GSIs by status (ALL), by customer (KEYS_ONLY), by day (INCLUDE
    total); an LSI by day (KEYS_ONLY)."""
    name = unique("shop")
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=keys("pk", "sk"),
        AttributeDefinitions=attrs(pk="S", sk="N", status="S", customer="S", day="S"),
        GlobalSecondaryIndexes=[
            gsi("by_status", "status"),
            gsi("by_customer", "customer", projection={"ProjectionType": "KEYS_ONLY"}),
            gsi("by_day", "day", "sk", projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]}),
        ],
        LocalSecondaryIndexes=[{"IndexName": "lsi_day", "KeySchema": keys("pk", "day"),
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}],
    )
    orders = [
        {"pk": {"S": "o"}, "sk": {"N": "1"}, "status": {"S": "open"}, "customer": {"S": "ann"}, "day": {"S": "mon"},
         "total": {"N": "10"}, "note": {"S": "ring twice"}},
        {"pk": {"S": "o"}, "sk": {"N": "2"}, "customer": {"S": "bob"}, "day": {"S": "tue"}, "total": {"N": "20"}},
        {"pk": {"S": "o"}, "sk": {"N": "3"}, "status": {"S": "open"}, "total": {"N": "30"}},
    ]
    for order in orders:
        ddb.put_item(TableName=name, Item=order)
    return name


def test_a_sparse_index_holds_only_items_with_its_keys(ddb, shop):
    q = {"TableName": shop, "IndexName": "by_status", "KeyConditionExpression": "#s = :s",
         "ExpressionAttributeNames": {"#s": "status"}}
    open_orders = ddb.query(**q, ExpressionAttributeValues={":s": {"S": "open"}})["Items"]
    assert sorted(int(i["sk"]["N"]) for i in open_orders) == [1, 3]
    assert ddb.scan(TableName=shop, IndexName="by_status")["Count"] == 2
    # gaining the key puts the item in; changing it moves it; losing it takes it out
    key2, key3 = {"pk": {"S": "o"}, "sk": {"N": "2"}}, {"pk": {"S": "o"}, "sk": {"N": "3"}}
    ddb.update_item(TableName=shop, Key=key2, UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": "shipped"}})
    ddb.update_item(TableName=shop, Key=key3, UpdateExpression="REMOVE #s", ExpressionAttributeNames={"#s": "status"})
    try:
        assert [i["sk"]["N"] for i in ddb.query(**q, ExpressionAttributeValues={":s": {"S": "open"}})["Items"]] == ["1"]
        assert [i["sk"]["N"] for i in ddb.query(**q, ExpressionAttributeValues={":s": {"S": "shipped"}})["Items"]] == ["2"]
        assert ddb.scan(TableName=shop, IndexName="by_status")["Count"] == 2
    finally:  # the module's other tests see the table as it was
        ddb.update_item(TableName=shop, Key=key2, UpdateExpression="REMOVE #s", ExpressionAttributeNames={"#s": "status"})
        ddb.update_item(TableName=shop, Key=key3, UpdateExpression="SET #s = :s",
                        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "open"}})


def test_each_projection_returns_its_attributes(ddb, shop):
    everything = ddb.query(TableName=shop, IndexName="by_status", KeyConditionExpression="#s = :s",
                           ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "open"}})
    assert {"note", "total", "day", "customer"} <= set(everything["Items"][0])
    keys_only = ddb.query(TableName=shop, IndexName="by_customer", KeyConditionExpression="customer = :c",
                          ExpressionAttributeValues={":c": {"S": "ann"}})["Items"]
    assert keys_only == [{"pk": {"S": "o"}, "sk": {"N": "1"}, "customer": {"S": "ann"}}]
    included = ddb.query(TableName=shop, IndexName="by_day", KeyConditionExpression="#d = :d",
                         ExpressionAttributeNames={"#d": "day"}, ExpressionAttributeValues={":d": {"S": "tue"}})["Items"]
    assert included == [{"pk": {"S": "o"}, "sk": {"N": "2"}, "day": {"S": "tue"}, "total": {"N": "20"}}]
    # a projection expression only sees what the index holds
    assert ddb.query(TableName=shop, IndexName="by_customer", KeyConditionExpression="customer = :c",
                     ExpressionAttributeValues={":c": {"S": "ann"}}, ProjectionExpression="customer, note")["Items"] == [
        {"customer": {"S": "ann"}}]
    assert error(ddb.query, TableName=shop, IndexName="by_customer", Select="ALL_ATTRIBUTES",
                 KeyConditionExpression="customer = :c", ExpressionAttributeValues={":c": {"S": "ann"}}) == {
        "Code": "ValidationException",
        "Message": "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global "
                   "secondary index by_customer because its projection type is not ALL"}


def test_an_lsi_fetches_what_it_does_not_project_when_asked_for_all_attributes(ddb, shop):
    q = {"TableName": shop, "IndexName": "lsi_day", "KeyConditionExpression": "pk = :p AND #d = :d",
         "ExpressionAttributeNames": {"#d": "day"}, "ExpressionAttributeValues": {":p": {"S": "o"}, ":d": {"S": "mon"}}}
    assert ddb.query(**q)["Items"] == [{"pk": {"S": "o"}, "sk": {"N": "1"}, "day": {"S": "mon"}}]
    (full,) = ddb.query(**q, Select="ALL_ATTRIBUTES")["Items"]
    assert full["note"] == {"S": "ring twice"} and full["total"] == {"N": "10"} and full["customer"] == {"S": "ann"}
    # the LSI is sparse too: the order without a day is not in it
    assert ddb.query(TableName=shop, IndexName="lsi_day", KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "o"}})["Count"] == 2


def test_index_keys_must_have_their_declared_types(ddb, shop):
    mismatch = ("One or more parameter values were invalid: Type mismatch for Index Key {} Expected: S Actual: {} "
                "IndexName: {}")
    bad = error(ddb.put_item, TableName=shop, Item={"pk": {"S": "o"}, "sk": {"N": "9"}, "customer": {"N": "7"}})
    assert bad == {"Code": "ValidationException", "Message": mismatch.format("customer", "N", "by_customer")}
    bad = error(ddb.update_item, TableName=shop, Key={"pk": {"S": "o"}, "sk": {"N": "1"}},
                UpdateExpression="SET #d = :d", ExpressionAttributeNames={"#d": "day"},
                ExpressionAttributeValues={":d": {"B": b"x"}})
    assert bad["Code"] == "ValidationException" and "Type mismatch for Index Key day Expected: S Actual: B" in bad["Message"]
    assert ddb.get_item(TableName=shop, Key={"pk": {"S": "o"}, "sk": {"N": "9"}}).get("Item") is None
    assert ddb.get_item(TableName=shop, Key={"pk": {"S": "o"}, "sk": {"N": "1"}})["Item"]["day"] == {"S": "mon"}
