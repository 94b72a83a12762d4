"""DynamoDB Streams over HTTP: the records each write leaves (per view type), the iterator
types, paging, iterator expiry, the 24-hour trim, disabled and re-enabled streams; and the
in-process reader a Lambda event source mapping will use."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from cloudlet.core.context import Context
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.dynamodb import streamlog
from cloudlet.services.dynamodb import iterators
from tests.services.dynamodb.helpers import code, create_table, unique

VIEWS = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


def make_table(ddb, view: str | None = "NEW_AND_OLD_IMAGES", name: str | None = None) -> tuple[str, str | None]:
    """A table keyed by pk (S) and sk (N); returns its name and stream ARN."""
    name = name or unique("st")
    return name, create_table(ddb, name, sk="N", stream=view).get("LatestStreamArn")


def key(pk: str, sk: int = 1) -> dict:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def shard_of(streams, arn: str) -> str:
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return shard["ShardId"]


def iterator(streams, arn: str, kind: str = "TRIM_HORIZON", seq: str | None = None) -> str:
    extra = {"SequenceNumber": seq} if seq is not None else {}
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType=kind,
                                      **extra)["ShardIterator"]


def read_all(streams, it: str, limit: int = 1000) -> list[dict]:
    out = []
    while it:
        page = streams.get_records(ShardIterator=it, Limit=limit)
        out += page["Records"]
        if not page["Records"]:
            break
        it = page.get("NextShardIterator")
    return out


@pytest.fixture(scope="module")
def streams(cloud):
    return cloud.client("dynamodbstreams")


@pytest.mark.parametrize("view", VIEWS)
def test_each_write_leaves_one_record_with_the_images_its_view_type_shows(ddb, streams, view):
    name, arn = make_table(ddb, view)
    v1 = {**key("a"), "v": {"N": "1"}}
    v2 = {**key("a"), "v": {"N": "2"}, "tags": {"SS": ["x", "y"]}}
    ddb.put_item(TableName=name, Item=v1)
    ddb.put_item(TableName=name, Item=v2)
    ddb.put_item(TableName=name, Item=v2)  # changes nothing: no record
    ddb.delete_item(TableName=name, Key=key("a"))
    ddb.delete_item(TableName=name, Key=key("a"))  # nothing to delete: no record

    records = read_all(streams, iterator(streams, arn))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    images = [(r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in records]
    new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    assert images == [(None, v1 if new else None), (v1 if old else None, v2 if new else None),
                      (v2 if old else None, None)]
    for r in records:
        assert (r["eventVersion"], r["eventSource"], r["awsRegion"]) == ("1.1", "aws:dynamodb", "us-east-1")
        assert re.fullmatch(r"[0-9a-f]{32}", r["eventID"])
        assert "userIdentity" not in r
        body = r["dynamodb"]
        assert body["Keys"] == key("a") and body["StreamViewType"] == view
        assert re.fullmatch(r"\d{21,40}", body["SequenceNumber"])
        assert body["ApproximateCreationDateTime"].microsecond == 0  # rounded down to the second
    # Keys are pk "a" (2 + 1 bytes) and sk 1 (2 + 2: a number is 1 byte + 1 per 2 digits);
    # v1 adds "v" 1 (1 + 2); the images count as DynamoDB sizes items
    sizes = [r["dynamodb"]["SizeBytes"] for r in records]
    assert sizes[0] == 7 + (10 if new else 0)
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert len({r["eventID"] for r in records}) == 3


def test_list_and_describe_a_stream(ddb, streams):
    name, arn = make_table(ddb, "NEW_IMAGE")
    other, _ = make_table(ddb, None)
    assert arn and arn.startswith(f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}/stream/")
    label = arn.rsplit("/", 1)[1]
    listed = streams.list_streams(TableName=name)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": name, "StreamLabel": label}]
    assert streams.list_streams(TableName=other)["Streams"] == []
    assert arn in [s["StreamArn"] for s in streams.list_streams()["Streams"]]
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert (d["StreamArn"], d["StreamLabel"], d["StreamStatus"], d["StreamViewType"], d["TableName"]) == (
        arn, label, "ENABLED", "NEW_IMAGE", name)
    assert d["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    (shard,) = d["Shards"]
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["ShardId"])
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]  # open while the stream is enabled
    assert ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"] == arn

    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=arn + "9")
    assert code(e) == "ResourceNotFoundException" and "Stream" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        streams.list_streams(TableName=unique("missing"))
    assert code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-00000000",
                                   ShardIteratorType="LATEST")
    assert code(e) == "ResourceNotFoundException"


def test_paging_with_limit_returns_every_record_once_in_order(ddb, streams):
    name, arn = make_table(ddb, "KEYS_ONLY")
    for i in range(5):
        ddb.put_item(TableName=name, Item=key("p", i))
    it, pages = iterator(streams, arn), []
    for _ in range(3):
        page = streams.get_records(ShardIterator=it, Limit=2)
        pages.append([int(r["dynamodb"]["Keys"]["sk"]["N"]) for r in page["Records"]])
        it = page["NextShardIterator"]  # an open shard always gives the next iterator
    assert pages == [[0, 1], [2, 3], [4]]
    assert streams.get_records(ShardIterator=it)["Records"] == []
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it, Limit=1001)
    assert code(e) == "LimitExceededException"


def test_latest_sees_only_records_written_after_it(ddb, streams):
    name, arn = make_table(ddb)
    ddb.put_item(TableName=name, Item=key("old"))
    latest = iterator(streams, arn, "LATEST")
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    ddb.put_item(TableName=name, Item=key("new"))
    page = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["new"]
    ddb.put_item(TableName=name, Item=key("newer"))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, page["NextShardIterator"])] == ["newer"]


def test_at_and_after_a_sequence_number(ddb, streams):
    name, arn = make_table(ddb)
    for pk in ("a", "b", "c"):
        ddb.put_item(TableName=name, Item=key(pk))
    seqs = [r["dynamodb"]["SequenceNumber"] for r in read_all(streams, iterator(streams, arn))]
    pks = lambda it: [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, it)]  # noqa: E731
    assert pks(iterator(streams, arn, "AT_SEQUENCE_NUMBER", seqs[1])) == ["b", "c"]
    assert pks(iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", seqs[1])) == ["c"]
    assert pks(iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", seqs[2])) == []
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn),
                                   ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator="not-an-iterator")
    assert code(e) == "ValidationException"


def test_an_iterator_expires_after_15_minutes(cloud, ddb, streams):
    name, arn = make_table(ddb)
    ddb.put_item(TableName=name, Item=key("a"))
    it = iterator(streams, arn)
    cloud.advance(14 * 60)
    page = streams.get_records(ShardIterator=it)  # still fresh; its next iterator is new
    assert len(page["Records"]) == 1
    cloud.advance(2 * 60)
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it)
    assert code(e) == "ExpiredIteratorException"
    assert streams.get_records(ShardIterator=page["NextShardIterator"])["Records"] == []


def test_records_older_than_24_hours_are_trimmed(cloud, ddb, streams):
    name, arn = make_table(ddb)
    pks = lambda records: [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]  # noqa: E731
    ddb.put_item(TableName=name, Item=key("old"))
    (old,) = read_all(streams, iterator(streams, arn))
    cloud.advance(12 * 3600)
    ddb.put_item(TableName=name, Item=key("mid"))
    cloud.advance(12 * 3600 + 60)
    ddb.put_item(TableName=name, Item=key("new"))
    assert pks(read_all(streams, iterator(streams, arn))) == ["mid", "new"]
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, "AT_SEQUENCE_NUMBER", old["dynamodb"]["SequenceNumber"])
    assert code(e) == "TrimmedDataAccessException"

    cloud.advance(12 * 3600 - 60 - 300)  # "mid" is 5 minutes from leaving the window
    mid = next(r for r in read_all(streams, iterator(streams, arn)) if r["dynamodb"]["Keys"]["pk"]["S"] == "mid")
    at_mid = iterator(streams, arn, "AT_SEQUENCE_NUMBER", mid["dynamodb"]["SequenceNumber"])
    cloud.advance(600)  # the iterator is still fresh, but its next record was trimmed meanwhile
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=at_mid)
    assert code(e) == "TrimmedDataAccessException"
    assert pks(read_all(streams, iterator(streams, arn))) == ["new"]


def test_a_disabled_stream_closes_and_a_new_one_starts(cloud, ddb, streams):
    name, first = make_table(ddb, "NEW_IMAGE")
    ddb.put_item(TableName=name, Item=key("a"))
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=name, Item=key("off"))  # no stream: no record anywhere
    d = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert d["StreamStatus"] == "DISABLED"
    (shard,) = d["Shards"]
    page = streams.get_records(ShardIterator=iterator(streams, first))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["a"]
    assert shard["SequenceNumberRange"]["EndingSequenceNumber"] == page["Records"][0]["dynamodb"]["SequenceNumber"]
    assert "NextShardIterator" not in page  # the closed shard is read to its end

    second = ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
                              )["TableDescription"]["LatestStreamArn"]
    assert second != first
    ddb.put_item(TableName=name, Item=key("b"))
    assert {s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]} == {first, second}
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, iterator(streams, first))] == ["a"]
    (b,) = read_all(streams, iterator(streams, second))
    assert (b["dynamodb"]["Keys"]["pk"]["S"], b["dynamodb"]["StreamViewType"]) == ("b", "KEYS_ONLY")
    assert "NewImage" not in b["dynamodb"]

    cloud.advance(86_400 + 3600)  # a disabled stream is kept 24 hours
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [second]
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=first)
    assert code(e) == "ResourceNotFoundException"


def test_a_deleted_tables_stream_is_disabled_but_readable(ddb, streams):
    name, arn = make_table(ddb)
    ddb.put_item(TableName=name, Item=key("a"))
    ddb.delete_table(TableName=name)
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
    page = streams.get_records(ShardIterator=iterator(streams, arn))
    assert [r["eventName"] for r in page["Records"]] == ["INSERT"] and "NextShardIterator" not in page


# in process ------------------------------------------------------------------------------
def test_read_since_serves_a_stream_in_process():
    gw = Gateway(Config(ephemeral=True))
    ctx = Context(account="111122223333", region="eu-west-1", principal_arn="arn:aws:iam::111122223333:root",
                  access_key="AKID", request_id="r", service="lambda", operation="CreateEventSourceMapping", gateway=gw)
    ddb = ctx.aws("dynamodb")
    name, arn = make_table(ddb)
    for i in range(3):
        ddb.put_item(TableName=name, Item=key("k", i))
    first = streamlog.read_since(gw, "111122223333", "eu-west-1", arn, None, 2)
    assert [r["dynamodb"]["Keys"]["sk"]["N"] for r in first] == ["0", "1"]
    rest = streamlog.read_since(gw, "111122223333", "eu-west-1", arn, int(first[-1]["dynamodb"]["SequenceNumber"]), 10)
    assert [r["dynamodb"]["Keys"]["sk"]["N"] for r in rest] == ["2"] and rest[0]["awsRegion"] == "eu-west-1"
    with pytest.raises(Exception) as e:
        streamlog.read_since(gw, "444455556666", "eu-west-1", arn, None, 10)  # another account's view
    assert getattr(e.value, "code", None) == "ResourceNotFoundException"


def test_iterators_round_trip_and_refuse_garbage():
    it = iterators.Iterator("arn:aws:dynamodb:us-east-1:1:table/t/stream/2024-01-01T00:00:00.000", "shardId-1", 42, 1e9)
    text = iterators.encode(it)
    assert text.startswith(it.arn + "|1|") and iterators.decode(text) == it
    assert iterators.stream_arn(text) == it.arn
    for bad in ("", "x|1|y", it.arn + "|2|" + text.rsplit("|", 1)[1], it.arn + "|1|!!!", it.arn + "|1|WzFd"):
        with pytest.raises(Exception) as e:
            iterators.decode(bad)
        assert e.value.code == "ValidationException"
