"""Global tables (2019.11.21) over HTTP: adding a replica creates the table in the other
region and copies its items, writes in any region reach the others (through the stream of
each), concurrent writes converge on the last writer, a replica can be dropped, the errors
answer as DynamoDB's do, and the legacy 2017 API answers as DynamoDB does today."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from botocore.exceptions import ClientError

from cloudlet.core import scheduler
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.dynamodb import items, replicas, tables
from tests.services.dynamodb.helpers import code, create_table, message, unique

EU, AP = "eu-west-1", "ap-southeast-2"


@pytest.fixture(scope="module")
def us(cloud):
    return cloud.client("dynamodb")


@pytest.fixture(scope="module")
def eu(cloud):
    return cloud.client("dynamodb", region=EU)


@pytest.fixture(scope="module")
def ap(cloud):
    return cloud.client("dynamodb", region=AP)


def make_table(ddb, name: str, **extra) -> None:
    create_table(ddb, name, attributes={"g": "S"},
                 GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                          "Projection": {"ProjectionType": "ALL"}}],
                 **extra)


def put(ddb, name: str, pk: str, v: str, g: str = "x") -> None:
    ddb.put_item(TableName=name, Item={"pk": {"S": pk}, "v": {"S": v}, "g": {"S": g}})


def get(ddb, name: str, pk: str) -> dict | None:
    return ddb.get_item(TableName=name, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def add_replica(cloud, ddb, name: str, region: str) -> dict:
    out = ddb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": region}}])
    cloud.advance(seconds=1)
    return out["TableDescription"]


def replica_states(ddb, name: str) -> dict[str, str]:
    table = ddb.describe_table(TableName=name)["Table"]
    return {r["RegionName"]: r["ReplicaStatus"] for r in table.get("Replicas", [])}


def test_a_new_replica_gets_the_table_and_its_items(cloud, us, eu):
    name = unique()
    make_table(us, name)
    put(us, name, "a", "1", g="red")
    put(us, name, "b", "2")
    desc = add_replica(cloud, us, name, EU)
    assert desc["TableStatus"] == "UPDATING"
    assert desc["GlobalTableVersion"] == "2019.11.21"
    assert {r["RegionName"]: r["ReplicaStatus"] for r in desc["Replicas"]} == {EU: "CREATING"}
    # the stream was off: adding a replica turns it on, as AWS does
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

    assert replica_states(us, name) == {EU: "ACTIVE"}
    there = eu.describe_table(TableName=name)["Table"]
    assert there["TableStatus"] == "ACTIVE"
    assert there["GlobalTableVersion"] == "2019.11.21"
    assert {r["RegionName"] for r in there["Replicas"]} == {"us-east-1"}
    assert there["TableArn"].startswith(f"arn:aws:dynamodb:{EU}:")
    assert [g["IndexName"] for g in there["GlobalSecondaryIndexes"]] == ["by-g"]
    assert get(eu, name, "a") == {"pk": {"S": "a"}, "v": {"S": "1"}, "g": {"S": "red"}}
    assert get(eu, name, "b")["v"] == {"S": "2"}
    # the copy is a real table: its index answers queries
    got = eu.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                   ExpressionAttributeValues={":g": {"S": "red"}})["Items"]
    assert [i["pk"]["S"] for i in got] == ["a"]
    # items carry no replication bookkeeping
    assert set(eu.scan(TableName=name)["Items"][0]) == {"pk", "v", "g"}


def test_writes_in_either_region_reach_the_other(cloud, us, eu):
    name = unique()
    make_table(us, name)
    add_replica(cloud, us, name, EU)
    put(us, name, "from-us", "1")
    put(eu, name, "from-eu", "2")
    cloud.advance(seconds=1)
    assert get(eu, name, "from-us")["v"] == {"S": "1"}
    assert get(us, name, "from-eu")["v"] == {"S": "2"}

    eu.update_item(TableName=name, Key={"pk": {"S": "from-us"}}, UpdateExpression="SET v = :v",
                   ExpressionAttributeValues={":v": {"S": "changed in eu"}})
    us.delete_item(TableName=name, Key={"pk": {"S": "from-eu"}})
    cloud.advance(seconds=1)
    assert get(us, name, "from-us")["v"] == {"S": "changed in eu"}
    assert get(eu, name, "from-eu") is None
    assert sorted(i["pk"]["S"] for i in us.scan(TableName=name)["Items"]) == ["from-us"]
    assert sorted(i["pk"]["S"] for i in eu.scan(TableName=name)["Items"]) == ["from-us"]


def test_transactions_and_batches_replicate_too(cloud, us, eu):
    name = unique()
    make_table(us, name)
    add_replica(cloud, us, name, EU)
    us.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {"pk": {"S": "t1"}, "v": {"S": "x"}}}},
        {"Put": {"TableName": name, "Item": {"pk": {"S": "t2"}, "v": {"S": "y"}}}},
    ])
    eu.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}, "v": {"S": "z"}}}}
                                             for i in range(3)]})
    cloud.advance(seconds=1)
    assert sorted(i["pk"]["S"] for i in eu.scan(TableName=name)["Items"]) == ["b0", "b1", "b2", "t1", "t2"]
    assert sorted(i["pk"]["S"] for i in us.scan(TableName=name)["Items"]) == ["b0", "b1", "b2", "t1", "t2"]


def test_replicated_writes_show_in_the_replicas_stream(cloud, us, eu):
    name = unique()
    make_table(us, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    add_replica(cloud, us, name, EU)
    put(us, name, "k", "1")
    cloud.advance(seconds=1)
    streams = cloud.client("dynamodbstreams", region=EU)
    arn = eu.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert arn.startswith(f"arn:aws:dynamodb:{EU}:")
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [(r["eventName"], r["awsRegion"], r["dynamodb"]["NewImage"]["v"]["S"]) for r in records] == [
        ("INSERT", EU, "1")]
    assert "userIdentity" not in records[0]  # 2019.11.21 marks nothing on replicated writes
    # the stream cannot be turned off while the table has replicas
    with pytest.raises(ClientError) as exc:
        us.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert message(exc) == ("One or more parameter values were invalid: Disabling Stream is not allowed for a "
                            "Global Table replica.")


def test_a_third_replica_joins_the_group_and_writes_reach_all(cloud, us, eu, ap):
    name = unique()
    make_table(us, name)
    add_replica(cloud, us, name, EU)
    put(eu, name, "before", "1")
    cloud.advance(seconds=1)
    add_replica(cloud, eu, name, AP)  # any member may add one
    assert replica_states(us, name) == {EU: "ACTIVE", AP: "ACTIVE"}
    assert replica_states(eu, name) == {"us-east-1": "ACTIVE", AP: "ACTIVE"}
    assert replica_states(ap, name) == {"us-east-1": "ACTIVE", EU: "ACTIVE"}
    assert get(ap, name, "before")["v"] == {"S": "1"}
    put(ap, name, "from-ap", "3")
    cloud.advance(seconds=1)
    assert get(us, name, "from-ap") and get(eu, name, "from-ap")


def test_deleting_a_replica_removes_its_table_and_stops_replication(cloud, us, eu):
    name = unique()
    make_table(us, name)
    add_replica(cloud, us, name, EU)
    out = us.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": EU}}])["TableDescription"]
    assert {r["RegionName"]: r["ReplicaStatus"] for r in out["Replicas"]} == {EU: "DELETING"}
    with pytest.raises(ClientError) as exc:
        eu.describe_table(TableName=name)
    assert code(exc) == "ResourceNotFoundException"
    after = us.describe_table(TableName=name)["Table"]
    assert "Replicas" not in after and "GlobalTableVersion" not in after
    assert after["StreamSpecification"]["StreamEnabled"]  # the stream stays on
    put(us, name, "k", "1")
    cloud.advance(seconds=1)
    with pytest.raises(ClientError):
        eu.get_item(TableName=name, Key={"pk": {"S": "k"}})
    # a plain table again: its stream may now be turned off
    us.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})


def test_a_replica_deleted_in_its_own_region_leaves_the_group(cloud, us, eu):
    name = unique()
    make_table(us, name)
    add_replica(cloud, us, name, EU)
    eu.delete_table(TableName=name)
    put(us, name, "k", "1")  # replication finds the replica gone
    cloud.advance(seconds=1)
    assert "Replicas" not in us.describe_table(TableName=name)["Table"]


def test_a_replica_update_changes_that_region_only(cloud, us, eu):
    name = unique()
    make_table(us, name)
    add_replica(cloud, us, name, EU)
    us.update_table(TableName=name, ReplicaUpdates=[{"Update": {
        "RegionName": EU, "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}}])
    assert eu.describe_table(TableName=name)["Table"]["TableClassSummary"] == {
        "TableClass": "STANDARD_INFREQUENT_ACCESS"}
    assert "TableClassSummary" not in us.describe_table(TableName=name)["Table"]


def test_index_changes_reach_every_replica(cloud, us, eu):
    name = unique()
    make_table(us, name)
    add_replica(cloud, us, name, EU)
    put(us, name, "k", "1")
    cloud.advance(seconds=1)
    us.update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "v", "AttributeType": "S"}],
                    GlobalSecondaryIndexUpdates=[{"Create": {
                        "IndexName": "by-v", "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    cloud.advance(seconds=1)
    got = eu.query(TableName=name, IndexName="by-v", KeyConditionExpression="v = :v",
                   ExpressionAttributeValues={":v": {"S": "1"}})["Items"]
    assert got == [{"pk": {"S": "k"}, "v": {"S": "1"}}]


@pytest.mark.parametrize("updates,expected", [
    ([{"Create": {"RegionName": "us-east-1"}}],
     "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable "
     "as required."),
    ([{"Create": {"RegionName": "us-fake-1"}}],
     "Region us-fake-1 is not supported. The latest version of global tables are only supported in the following "
     "regions: ["),
    ([{"Delete": {"RegionName": EU}}],
     "Update global table operation failed because one or more replicas were not part of the global table. Please "
     f"retry the request without these replicas: [{EU}]."),
    ([{"Update": {"RegionName": EU}}], "There are no actions specified in the Replica Update Action of the request."),
    ([{"Create": {"RegionName": EU}, "Delete": {"RegionName": AP}}],
     "Update table operation with more than one type of replica actions not allowed."),
    ([{"Create": {"RegionName": EU}}, {"Create": {"RegionName": AP}}],
     "Update table operation with more than one create or delete replica actions not allowed"),
])
def test_replica_update_errors(us, updates, expected):
    name = unique()
    make_table(us, name)
    with pytest.raises(ClientError) as exc:
        us.update_table(TableName=name, ReplicaUpdates=updates)
    assert code(exc) == "ValidationException"
    assert message(exc).startswith(expected)


def test_replica_updates_must_be_alone_and_need_a_free_name(cloud, us, eu):
    name = unique()
    make_table(us, name)
    with pytest.raises(ClientError) as exc:
        us.update_table(TableName=name, DeletionProtectionEnabled=True,
                        ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert message(exc) == ("One or more parameter values were invalid: Replica modification must be the only "
                            "operation in the request")
    make_table(eu, name)  # a table of that name already in the region
    with pytest.raises(ClientError) as exc:
        us.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert message(exc) == (f"Failed to create a the new replica of table with name: \u2018{name}\u2019 because one "
                            "or more replicas already existed as tables.")
    provisioned = unique()
    us.create_table(TableName=provisioned, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    with pytest.raises(ClientError) as exc:
        us.update_table(TableName=provisioned, ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert message(exc) == "Table write capacity should either be Pay-Per-Request or AutoScaled."


def test_the_legacy_api_answers_as_dynamodb_does_today(us):
    name = unique()
    make_table(us, name)
    with pytest.raises(ClientError) as exc:
        us.create_global_table(GlobalTableName=name, ReplicationGroup=[{"RegionName": "us-east-1"}])
    assert code(exc) == "ValidationException"
    assert "version 2017.11.29 is not supported" in message(exc)
    with pytest.raises(ClientError) as exc:
        us.describe_global_table(GlobalTableName=name)
    assert code(exc) == "GlobalTableNotFoundException"
    assert message(exc) == f"Global table not found: Global table with name: '{name}' does not exist."
    with pytest.raises(ClientError) as exc:
        us.update_global_table(GlobalTableName=name, ReplicaUpdates=[{"Delete": {"RegionName": EU}}])
    assert code(exc) == "GlobalTableNotFoundException"
    with pytest.raises(ClientError) as exc:
        us.describe_global_table_settings(GlobalTableName=name)
    assert code(exc) == "GlobalTableNotFoundException"
    assert us.list_global_tables()["GlobalTables"] == []


# last writer wins, in process: the replication jobs run when and in the order the test says
def _context(gw: Gateway, region: str) -> Context:
    return Context(account="123456789012", region=region, principal_arn="arn:aws:iam::123456789012:root",
                   access_key="AKID", request_id="r", service="dynamodb", operation="Test", gateway=gw)


def _run_replication(gw: Gateway, first_region: str | None = None) -> None:
    """Run the queued replication jobs (the gateway's scheduler thread is not started),
    those of `first_region` first."""
    jobs = {replicas.DRAIN: replicas._drain, replicas.SEED: replicas._seed}
    db = gw.db("dynamodb")
    while True:
        with db.tx(*scheduler.SCOPE) as tx:
            due = [r for r in tx.scan(scheduler.KIND) if r.value["fn"] in jobs]
        if not due:
            return
        due.sort(key=lambda r: r.value["payload"].get("region") != first_region)
        for r in due:
            with db.tx(*scheduler.SCOPE) as tx:
                tx.delete(scheduler.KIND, r.key)
            now = r.value["due"]
            jobs[r.value["fn"]](scheduler.Job(
                key=r.key, fn=r.value["fn"], now=dt.datetime.fromtimestamp(now, dt.timezone.utc), now_s=now,
                payload=r.value["payload"], runs=1, period=None, gateway=gw))


@pytest.fixture
def group():
    """A table in us-east-1 with a replica in eu-west-1, and a writer per region."""
    gw = Gateway(Config(ephemeral=True))
    us_ctx, eu_ctx = _context(gw, "us-east-1"), _context(gw, EU)
    tables.create_table(us_ctx, {
        "TableName": "t", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
    tables.update_table(us_ctx, {"TableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": EU}}]})
    _run_replication(gw)

    def put_in(ctx: Context, pk: str, v: str) -> None:
        items.put_item(ctx, {"TableName": "t", "Item": {"pk": {"S": pk}, "v": {"S": v}}})

    def delete_in(ctx: Context, pk: str) -> None:
        items.delete_item(ctx, {"TableName": "t", "Key": {"pk": {"S": pk}}})

    def read(ctx: Context, pk: str) -> str | None:
        got = items.get_item(ctx, {"TableName": "t", "Key": {"pk": {"S": pk}}}).get("Item")
        return None if got is None else got["v"]["S"]

    return gw, us_ctx, eu_ctx, put_in, delete_in, read


@pytest.mark.parametrize("first", ["us-east-1", EU])
def test_concurrent_writes_converge_on_the_last_writer(group, first):
    gw, us_ctx, eu_ctx, put_in, delete_in, read = group
    # both regions write the same items before either change is replicated
    put_in(us_ctx, "k", "us first")
    put_in(eu_ctx, "k", "eu later")
    put_in(eu_ctx, "j", "eu first")
    put_in(us_ctx, "j", "us later")
    assert (read(us_ctx, "k"), read(eu_ctx, "k")) == ("us first", "eu later")
    _run_replication(gw, first_region=first)  # whichever region's changes arrive first
    for ctx in (us_ctx, eu_ctx):
        assert read(ctx, "k") == "eu later"
        assert read(ctx, "j") == "us later"


@pytest.mark.parametrize("first", ["us-east-1", EU])
def test_a_later_delete_beats_an_earlier_write_it_never_saw(group, first):
    gw, us_ctx, eu_ctx, put_in, delete_in, read = group
    put_in(eu_ctx, "k", "there before")
    _run_replication(gw)
    put_in(us_ctx, "k", "older")
    delete_in(eu_ctx, "k")  # later, though eu never saw the us write
    _run_replication(gw, first_region=first)
    for ctx in (us_ctx, eu_ctx):
        assert read(ctx, "k") is None


def test_replicated_writes_are_not_sent_on_again(group, monkeypatch):
    gw, us_ctx, eu_ctx, put_in, delete_in, read = group
    sent = []
    original = replicas.on_write
    monkeypatch.setattr(replicas, "on_write", lambda ctx, t, *a: (sent.append(t.region), original(ctx, t, *a)))
    put_in(us_ctx, "k", "1")
    _run_replication(gw)
    assert read(eu_ctx, "k") == "1"
    assert sent == ["us-east-1"]  # the write in eu-west-1 that replication made is not queued
    for region in ("us-east-1", EU):
        with gw.db("dynamodb").tx("123456789012", region) as t:
            assert t.scan(replicas.QUEUE) == []
    with gw.db("dynamodb").tx(*scheduler.SCOPE) as tx:
        assert [r.key for r in tx.scan(scheduler.KIND) if r.value["fn"] == replicas.DRAIN] == []


def test_a_replayed_change_is_applied_once(group):
    gw, us_ctx, eu_ctx, put_in, delete_in, read = group
    put_in(us_ctx, "k", "1")
    with gw.db("dynamodb").tx("123456789012", "us-east-1") as t:
        queued = [r.value for r in t.scan(replicas.QUEUE)]
    _run_replication(gw)
    put_in(eu_ctx, "k", "2")
    _run_replication(gw)
    with gw.db("dynamodb").tx("123456789012", EU) as t:  # the old change delivered again
        table = tables.storage.get_table(t, "t")
        assert replicas._apply(eu_ctx, t, table, queued[0]) is False
    assert read(eu_ctx, "k") == "2"


def test_a_second_replica_change_waits_for_the_first():
    gw = Gateway(Config(ephemeral=True))
    ctx = _context(gw, "us-east-1")
    tables.create_table(ctx, {
        "TableName": "t", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
    tables.update_table(ctx, {"TableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": EU}}]})
    with pytest.raises(ServiceError) as exc:  # the seed job has not run: still CREATING
        tables.update_table(ctx, {"TableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": AP}}]})
    assert exc.value.code == "ResourceInUseException"
    _run_replication(gw)
    tables.update_table(ctx, {"TableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": AP}}]})


def test_ttl_settings_apply_to_every_replica(cloud):
    home, away = cloud.client("dynamodb"), cloud.client("dynamodb", region="eu-west-1")
    name = f"ttlg-{uuid.uuid4().hex[:10]}"
    home.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                      BillingMode="PAY_PER_REQUEST")
    home.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    cloud.advance(1)
    home.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    desc = away.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert desc == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
