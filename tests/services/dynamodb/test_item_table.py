"""Item operations read their table through a cache (`storage.item_table`): a change to the
table is seen by the very next write."""

from __future__ import annotations


def _table(ddb, name: str, key_type: str = "S") -> None:
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": key_type}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])


def test_a_stream_enabled_between_two_puts_records_the_second(ddb, cloud):
    _table(ddb, "cached-stream")
    ddb.put_item(TableName="cached-stream", Item={"pk": {"S": "before"}})
    arn = ddb.update_table(TableName="cached-stream", StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]["LatestStreamArn"]
    ddb.put_item(TableName="cached-stream", Item={"pk": {"S": "after"}})
    streams = cloud.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["after"]


def test_a_recreated_table_is_read_with_its_new_key_schema(ddb):
    _table(ddb, "cached-recreate")
    ddb.put_item(TableName="cached-recreate", Item={"pk": {"S": "a"}})
    ddb.delete_table(TableName="cached-recreate")
    _table(ddb, "cached-recreate", key_type="N")
    ddb.put_item(TableName="cached-recreate", Item={"pk": {"N": "7"}})
    assert ddb.get_item(TableName="cached-recreate", Key={"pk": {"N": "7"}})["Item"] == {"pk": {"N": "7"}}
    assert "Item" not in ddb.get_item(TableName="cached-recreate", Key={"pk": {"N": "8"}})
