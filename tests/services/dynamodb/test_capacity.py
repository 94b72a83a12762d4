"""Provisioned capacity that throttles, and the CloudWatch metrics DynamoDB publishes.

Over HTTP against the shared server (boto3 with retries off, so a throttle reaches the
test). A 1-unit table holds 300 units of burst; one write of a ~350 KB item costs 342
units and leaves the bucket 42 units in debt, which the refill (1 unit per second of the
cloudlet clock) pays back only after `cloud.advance`: the tests never depend on how long a
request takes. The token bucket itself and the index write rules are tested directly.
"""

from __future__ import annotations

import datetime as dt
import os
import types
import uuid
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from cloudlet.core import metrics as core_metrics
from cloudlet.core.store import BlobFiles, ServiceDB
from cloudlet.services.dynamodb import throttle
from tests.cloud import Cloud

TABLE_MESSAGE = ("The level of configured provisioned throughput for the table was exceeded. Consider increasing "
                 "your provisioning level with the UpdateTable API.")
INDEX_MESSAGE = ("The level of configured provisioned throughput for one or more global secondary indexes of the "
                 "table was exceeded. Consider increasing your provisioning level for the under-provisioned global "
                 "secondary indexes with the UpdateTable API.")
BIG = "x" * 350_000  # an item with it: 342 write units, 86 strongly consistent read units


def unique(prefix: str = "cap") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client(cloud: Cloud, key: str = "test"):
    """No retries at all: botocore retries a throttle by itself (and the legacy
    ``max_attempts: 1`` of ``cloud.client`` still means one retry)."""
    return boto3.client("dynamodb", endpoint_url=cloud.endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key="test", config=BotoConfig(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def ddb(cloud):
    return client(cloud)


def provisioned(ddb, rcu: int = 1, wcu: int = 1, gsi: dict[str, Any] | None = None) -> str:
    """A table keyed by pk (S), optionally with a GSI on g (S)."""
    name = unique()
    extra: dict[str, Any] = {}
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if gsi is not None:
        attrs.append({"AttributeName": "g", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [{
            "IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": gsi.get("projection", {"ProjectionType": "ALL"}),
            "ProvisionedThroughput": {"ReadCapacityUnits": gsi.get("rcu", 1), "WriteCapacityUnits": gsi.get("wcu", 1)},
        }]
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], AttributeDefinitions=attrs,
                     ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}, **extra)
    return name


def on_demand(ddb) -> str:
    name = unique()
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return name


def put(ddb, table: str, pk: str, **attrs: str) -> dict:
    return ddb.put_item(TableName=table, Item={"pk": {"S": pk}, **{k: {"S": v} for k, v in attrs.items()}})


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return err.value.response


def throttled(call, *args, **kwargs) -> dict:
    response = refused(call, *args, **kwargs)
    assert response["Error"]["Code"] == "ProvisionedThroughputExceededException", response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return response


def spend_writes(ddb, table: str, pk: str = "big") -> None:
    """Leave the table's 1-WCU bucket 42 units in debt (one 342-unit write is let in)."""
    put(ddb, table, pk, blob=BIG)


def item(ddb, table: str, pk: str) -> dict | None:
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}).get("Item")


# writes ---------------------------------------------------------------------------------------
def test_writes_beyond_the_burst_are_refused_until_the_refill_pays_the_debt(cloud, ddb):
    table = provisioned(ddb, rcu=100, wcu=1)
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    spend_writes(ddb, table)  # a 342-unit write on a 300-unit burst still goes through, as in AWS
    response = throttled(put, ddb, table, "small", v="1")
    assert response["Error"]["Message"] == TABLE_MESSAGE
    assert response["ThrottlingReasons"] == [{"reason": "TableWriteProvisionedThroughputExceeded", "resource": arn}]
    assert item(ddb, table, "small") is None  # a throttled request changes nothing
    throttled(ddb.update_item, TableName=table, Key={"pk": {"S": "big"}}, UpdateExpression="SET v = :v",
              ExpressionAttributeValues={":v": {"S": "x"}})
    throttled(ddb.delete_item, TableName=table, Key={"pk": {"S": "big"}})
    assert "v" not in item(ddb, table, "big")
    cloud.advance(30)  # 1 unit a second: still 12 short
    throttled(put, ddb, table, "small", v="1")
    cloud.advance(20)
    put(ddb, table, "small", v="1")
    assert item(ddb, table, "small") == {"pk": {"S": "small"}, "v": {"S": "1"}}


def test_a_throttle_comes_before_the_condition_and_a_failed_condition_still_consumes(ddb):
    table = provisioned(ddb, rcu=100, wcu=2)  # 600 units of burst
    put(ddb, table, "big", blob=BIG)  # 600 - 342 = 258 left
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=table, Item={"pk": {"S": "big"}}, ConditionExpression="attribute_not_exists(pk)")
    # the failed write read the 342-unit item it compared: 258 - 342 leaves the bucket in debt
    throttled(put, ddb, table, "small")
    throttled(ddb.put_item, TableName=table, Item={"pk": {"S": "big"}}, ConditionExpression="attribute_not_exists(pk)")


def test_reads_have_their_own_bucket(cloud, ddb):
    table = provisioned(ddb, rcu=1, wcu=1000)
    put(ddb, table, "big", blob=BIG)
    for _ in range(4):  # 86 units each (strongly consistent): 300 -> 42, then let in into debt: -44
        ddb.get_item(TableName=table, Key={"pk": {"S": "big"}}, ConsistentRead=True)
    response = throttled(ddb.get_item, TableName=table, Key={"pk": {"S": "big"}})
    assert response["ThrottlingReasons"][0]["reason"] == "TableReadProvisionedThroughputExceeded"
    throttled(ddb.query, TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "big"}})
    throttled(ddb.scan, TableName=table)
    put(ddb, table, "small")  # writes are not affected
    cloud.advance(50)
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "small"}})["Item"] == {"pk": {"S": "small"}}


def test_update_table_changes_the_rate_at_once(cloud, ddb):
    table = provisioned(ddb, rcu=100, wcu=1)
    spend_writes(ddb, table)
    throttled(put, ddb, table, "small")
    ddb.update_table(TableName=table, ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 100})
    cloud.advance(1)  # 100 units a second now: the 42-unit debt is paid
    put(ddb, table, "small")
    cloud.advance(300)  # a full burst at 100 WCU: 30,000 units
    # lowering the rate also lowers what the bucket may hold: 300 units at 1 WCU
    ddb.update_table(TableName=table, ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 1})
    put(ddb, table, "big2", blob=BIG)  # 300 - 342 < 0
    throttled(put, ddb, table, "small2")


def test_pay_per_request_tables_never_throttle_and_switching_to_it_lifts_a_throttle(ddb):
    table = on_demand(ddb)
    for n in range(3):
        put(ddb, table, f"big{n}", blob=BIG)
    for _ in range(5):
        ddb.get_item(TableName=table, Key={"pk": {"S": "big0"}}, ConsistentRead=True)
    spent = provisioned(ddb, rcu=1, wcu=1)
    spend_writes(ddb, spent)
    throttled(put, ddb, spent, "small")
    ddb.update_table(TableName=spent, BillingMode="PAY_PER_REQUEST")
    put(ddb, spent, "small")


# global secondary indexes ---------------------------------------------------------------------
def test_a_gsi_out_of_write_capacity_throttles_the_writes_that_change_it(ddb):
    table = provisioned(ddb, rcu=100, wcu=1000,
                        gsi={"wcu": 1, "projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["blob"]}})
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    put(ddb, table, "big", g="a", blob=BIG)  # the GSI's entry holds the blob: 342 of its 300 units
    response = throttled(put, ddb, table, "small", g="b")
    assert response["Error"]["Message"] == INDEX_MESSAGE
    assert response["ThrottlingReasons"] == [{"reason": "IndexWriteProvisionedThroughputExceeded",
                                              "resource": f"{arn}/index/byg"}]
    assert item(ddb, table, "small") is None
    put(ddb, table, "sparse", other="no g: the index is not written")
    # an attribute the index does not project: the index entry is not rewritten
    ddb.update_item(TableName=table, Key={"pk": {"S": "big"}}, UpdateExpression="SET #o = :o",
                    ExpressionAttributeNames={"#o": "other"}, ExpressionAttributeValues={":o": {"S": "not projected"}})
    throttled(ddb.update_item, TableName=table, Key={"pk": {"S": "big"}}, UpdateExpression="SET #b = :b",
              ExpressionAttributeNames={"#b": "blob"}, ExpressionAttributeValues={":b": {"S": "projected"}})


def test_a_gsi_has_its_own_read_capacity(ddb):
    table = provisioned(ddb, rcu=1000, wcu=1000, gsi={"rcu": 1})
    put(ddb, table, "big", g="a", blob="y" * 250_000)  # a GSI query reads it for 31 units (eventually consistent)
    query = {"TableName": table, "IndexName": "byg", "KeyConditionExpression": "g = :g",
             "ExpressionAttributeValues": {":g": {"S": "a"}}}
    for _ in range(10):  # 300 -> -10
        assert ddb.query(**query)["Count"] == 1
    response = throttled(ddb.query, **query)
    assert response["Error"]["Message"] == INDEX_MESSAGE
    assert response["ThrottlingReasons"][0]["reason"] == "IndexReadProvisionedThroughputExceeded"
    assert ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "big"}})["Count"] == 1  # the table's reads are its own


# batches --------------------------------------------------------------------------------------
def test_batch_write_returns_what_a_spent_table_could_not_take(ddb):
    spent, healthy = provisioned(ddb, rcu=100, wcu=1), on_demand(ddb)
    spend_writes(ddb, spent)
    writes = {spent: [{"PutRequest": {"Item": {"pk": {"S": f"s{n}"}}}} for n in range(2)],
              healthy: [{"PutRequest": {"Item": {"pk": {"S": f"h{n}"}}}} for n in range(2)]}
    out = ddb.batch_write_item(RequestItems=writes)
    assert out["UnprocessedItems"] == {spent: writes[spent]}
    assert item(ddb, healthy, "h1") is not None and item(ddb, spent, "s0") is None
    # all of it refused: the exception, and nothing written
    response = throttled(ddb.batch_write_item, RequestItems={spent: writes[spent]})
    assert response["Error"]["Message"] == TABLE_MESSAGE
    # within one table: what comes before the bucket runs dry goes through
    fresh = provisioned(ddb, rcu=100, wcu=1)
    batch = [{"PutRequest": {"Item": {"pk": {"S": "big"}, "blob": {"S": BIG}}}},
             {"PutRequest": {"Item": {"pk": {"S": "a"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]
    out = ddb.batch_write_item(RequestItems={fresh: batch})
    assert out["UnprocessedItems"] == {fresh: batch[1:]}
    assert item(ddb, fresh, "big") is not None and item(ddb, fresh, "a") is None


def test_batch_get_returns_the_keys_a_spent_table_could_not_read(ddb):
    table = provisioned(ddb, rcu=1, wcu=1000)
    for n in range(4):
        put(ddb, table, f"big{n}", blob=BIG)
    put(ddb, table, "small")
    keys = [{"pk": {"S": f"big{n}"}} for n in range(4)] + [{"pk": {"S": "small"}}]
    spec = {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "pk"}
    out = ddb.batch_get_item(RequestItems={table: spec}, ReturnConsumedCapacity="TOTAL")
    # 86 units per big item, each rounded on its own: 300 -> 214 -> 128 -> 42 -> -44, then refused
    assert sorted(i["pk"]["S"] for i in out["Responses"][table]) == ["big0", "big1", "big2", "big3"]
    assert out["UnprocessedKeys"] == {table: {**spec, "Keys": [{"pk": {"S": "small"}}]}}
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 344.0, "ReadCapacityUnits": 344.0}]
    response = throttled(ddb.batch_get_item, RequestItems={table: {"Keys": [{"pk": {"S": "small"}}]}})
    assert response["Error"]["Message"] == TABLE_MESSAGE


# transactions and PartiQL ---------------------------------------------------------------------
def test_a_transaction_on_a_spent_table_is_cancelled_and_writes_nothing(ddb):
    spent, healthy = provisioned(ddb, rcu=1, wcu=1), on_demand(ddb)
    spend_writes(ddb, spent)
    response = refused(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": healthy, "Item": {"pk": {"S": "h"}}}},
        {"Put": {"TableName": spent, "Item": {"pk": {"S": "s"}}}},
    ])
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {"Code": "None"}, {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_MESSAGE}]
    assert item(ddb, healthy, "h") is None
    for _ in range(4):  # 1 RCU: 86 units a read
        ddb.get_item(TableName=spent, Key={"pk": {"S": "big"}}, ConsistentRead=True)
    response = refused(ddb.transact_get_items, TransactItems=[{"Get": {"TableName": spent, "Key": {"pk": {"S": "big"}}}}])
    assert response["CancellationReasons"] == [{"Code": "ProvisionedThroughputExceeded", "Message": TABLE_MESSAGE}]


def test_a_transactional_write_consumes_twice_its_units(ddb):
    table = provisioned(ddb, rcu=100, wcu=1)
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {
        "pk": {"S": "t"}, "blob": {"S": "z" * 200_000}}}}])  # 196 units, twice: 300 -> -92 (once would leave 104)
    throttled(put, ddb, table, "small")


def test_partiql_statements_are_throttled_like_the_item_api(ddb):
    table = provisioned(ddb, rcu=1, wcu=1)
    spend_writes(ddb, table)
    throttled(ddb.execute_statement, Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'p'}}")
    out = ddb.batch_execute_statement(Statements=[{"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'q'}}"}])
    assert out["Responses"][0]["Error"]["Code"] == "ProvisionedThroughputExceeded"
    for _ in range(4):
        ddb.get_item(TableName=table, Key={"pk": {"S": "big"}}, ConsistentRead=True)
    throttled(ddb.execute_statement, Statement=f"SELECT pk FROM \"{table}\" WHERE pk = 'big'")


# the setting and the bucket -------------------------------------------------------------------
def test_no_throttle_is_a_serve_flag(monkeypatch):
    from cloudlet import cli
    from cloudlet.server import run

    seen = []
    monkeypatch.setattr(run, "run", lambda config: seen.append(config) or 0)
    cli.main(["serve", "--ephemeral"])
    cli.main(["serve", "--ephemeral", "--no-throttle"])
    assert [c.throttle for c in seen] == [True, False]


def test_with_throttling_off_a_provisioned_table_takes_everything():
    from cloudlet.core.context import Context
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway

    gw = Gateway(Config(ephemeral=True, throttle=False))

    def call(op: str, **params: Any) -> dict:
        ctx = Context(account="123456789012", region="us-east-1", principal_arn="arn:aws:iam::123456789012:root",
                      access_key="test", request_id=uuid.uuid4().hex, service="dynamodb", operation=op, gateway=gw)
        return gw.dispatch(ctx, params)

    call("CreateTable", TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
         ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    for n in range(3):
        call("PutItem", TableName="t", Item={"pk": {"S": str(n)}, "blob": {"S": BIG}})
    assert call("GetItem", TableName="t", Key={"pk": {"S": "2"}})["Item"]["blob"]["S"] == BIG


def test_a_bucket_refills_at_its_rate_up_to_300_seconds_of_it():
    b = throttle.Buckets()
    key = ("a", "r", b"id", "", "w")
    assert b.draw(key, 2.0, 500.0, now=0.0)  # starts full: 600
    assert b.level(key, 2.0, 0.0) == 100.0
    assert b.draw(key, 2.0, 150.0, now=0.0)  # above zero: let in, into debt
    assert not b.draw(key, 2.0, 1.0, now=10.0)  # -50 + 20
    assert b.level(key, 2.0, 10.0) == -30.0  # a refusal takes nothing
    assert not b.draw(key, 2.0, 1.0, now=24.0)
    assert b.draw(key, 2.0, 1.0, now=26.0)
    assert b.level(key, 2.0, 10_000.0) == 600.0  # never more than 300 seconds' worth
    assert b.level(key, 1.0, 10_000.0) == 300.0  # a lower rate holds less


def test_index_writes_follow_dynamodbs_rules():
    index = {"IndexName": "i", "keys": ("g", None), "types": ("S", None), "no": 1, "local": False,
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["p"]}}
    table = {"id": b"12345678", "keys": ("pk", None), "indexes": [index]}

    def units(old: dict | None, new: dict | None) -> float:
        lsi, gsis = throttle.index_writes(table, old, new)
        assert lsi == 0.0
        return sum(n for _, n in gsis)

    base = {"pk": {"S": "k"}, "g": {"S": "a"}, "p": {"S": "x" * 1500}}
    assert units(None, base) == 2  # put an entry: its size, in KB started
    assert units(base, None) == 2  # delete it
    assert units(base, {**base, "g": {"S": "b"}}) == 4  # move it: a delete and a put
    assert units(base, {**base, "p": {"S": "y"}}) == 2  # rewrite it: the larger of the two
    assert units(base, {**base, "q": {"S": "not projected"}}) == 0  # the entry is unchanged
    assert units({"pk": {"S": "k"}}, {"pk": {"S": "k"}, "q": {"S": "v"}}) == 0  # never in the index
    assert units(base, {"pk": {"S": "k"}, "g": {"N": "1"}}) == 2  # a key of the wrong type leaves the index


# metrics --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Cloud, str]]:
    root = str(tmp_path_factory.mktemp("ddbmetrics"))
    cloud = Cloud("--data-dir", root)
    try:
        yield cloud, root
    finally:
        cloud.stop()


def stat(served: tuple[Cloud, str], acct: str, metric: str, dims: dict[str, str]) -> dict[str, Any]:
    """A series' datapoints summed into one, read from the server's data directory after
    asking it to write what it has buffered."""
    cloud, root = served
    cloud.admin("POST", "flush")
    db = ServiceDB("cloudwatch", os.path.join(root, "state", "cloudwatch.db"), BlobFiles(None, False), False)
    try:
        reader = types.SimpleNamespace(db=lambda _name: db)
        now = dt.datetime.now(dt.timezone.utc)
        points = core_metrics.query(reader, acct, "us-east-1", "AWS/DynamoDB", metric, dims,  # type: ignore[arg-type]
                                    now - dt.timedelta(days=2), now + dt.timedelta(days=2), 60)
    finally:
        db.close()
    if not points:
        return {}
    return {"n": sum(p.sample_count for p in points), "sum": sum(p.sum for p in points), "unit": points[0].unit}


def test_requests_publish_consumption_latency_and_errors(served):
    cloud, _ = served
    acct = f"7{uuid.uuid4().int % 10**11:011d}"
    ddb = client(cloud, acct)
    table = provisioned(ddb, rcu=10, wcu=10, gsi={"projection": {"ProjectionType": "KEYS_ONLY"}})
    t, op = {"TableName": table}, lambda name: {"TableName": table, "Operation": name}
    gsi = {"TableName": table, "GlobalSecondaryIndexName": "byg"}
    put(ddb, table, "a", g="x", v="1")
    put(ddb, table, "b", v="not in the index")
    ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
    ddb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ConsistentRead=True)
    ddb.query(TableName=table, IndexName="byg", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "x"}})
    ddb.scan(TableName=table)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.get_item(TableName=unique("missing"), Key={"pk": {"S": "a"}})

    assert stat(served, acct, "ConsumedWriteCapacityUnits", t) == {"n": 3, "sum": 3.0, "unit": "Count"}
    assert stat(served, acct, "ConsumedWriteCapacityUnits", gsi) == {"n": 1, "sum": 1.0, "unit": "Count"}
    assert stat(served, acct, "ConsumedReadCapacityUnits", t)["sum"] == 0.5 + 1 + 0.5  # get, get, scan
    assert stat(served, acct, "ConsumedReadCapacityUnits", gsi) == {"n": 1, "sum": 0.5, "unit": "Count"}
    latency = stat(served, acct, "SuccessfulRequestLatency", op("GetItem"))
    assert latency["n"] == 2 and latency["unit"] == "Milliseconds" and latency["sum"] > 0
    assert stat(served, acct, "SuccessfulRequestLatency", op("PutItem"))["n"] == 2  # not the failed one
    assert stat(served, acct, "ReturnedItemCount", op("Query"))["sum"] == 1
    assert stat(served, acct, "ReturnedItemCount", op("Scan"))["sum"] == 2
    assert stat(served, acct, "ConditionalCheckFailedRequests", t)["sum"] == 1
    assert stat(served, acct, "UserErrors", {})["sum"] == 1  # the missing table; not the failed condition


def test_throttles_publish_events_and_throttled_requests(served):
    cloud, _ = served
    acct = f"7{uuid.uuid4().int % 10**11:011d}"
    ddb = client(cloud, acct)
    table = provisioned(ddb, rcu=100, wcu=1)
    spend_writes(ddb, table)
    throttled(put, ddb, table, "a")
    out = ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]} | {
        on_demand(ddb): [{"PutRequest": {"Item": {"pk": {"S": "c"}}}}]})
    assert table in out["UnprocessedItems"]
    t = {"TableName": table}
    assert stat(served, acct, "WriteThrottleEvents", t)["sum"] == 2
    assert stat(served, acct, "ThrottledRequests", {"TableName": table, "Operation": "PutItem"})["sum"] == 1
    assert stat(served, acct, "ThrottledRequests", {"TableName": table, "Operation": "BatchWriteItem"}) == {}
    assert stat(served, acct, "UserErrors", {}) == {}
