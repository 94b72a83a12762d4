"""TransactWriteItems and TransactGetItems over HTTP: all or nothing, cancellation reasons
in request order, client tokens on the cloudlet clock, DynamoDB's limits and wording."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.services.dynamodb.helpers import create_table, unique

CANCELLED = "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]"


@pytest.fixture(scope="module")
def table(ddb) -> str:
    """A table keyed by pk (S), with a stream."""
    name = unique("tx")
    create_table(ddb, name, stream="NEW_AND_OLD_IMAGES")
    return name


@pytest.fixture(scope="module")
def other(ddb) -> str:
    """A second table, keyed by pk (S) and sk (N)."""
    name = unique("tx")
    create_table(ddb, name, sk="N")
    return name


def put(ddb, table: str, pk: str, **attrs) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, **attrs})


def get(ddb, table: str, pk: str) -> dict | None:
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def key(pk: str) -> dict:
    return {"pk": {"S": pk}}


def refusal(ddb, **req) -> ClientError:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(**req)
    return err.value


def test_every_action_applies_together(ddb, table, other):
    a, b, c, d = (unique("k") for _ in range(4))
    put(ddb, table, a, n={"N": "1"})
    put(ddb, table, b, v={"S": "gone soon"})
    put(ddb, table, d, state={"S": "open"})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": key(a), "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": table, "Key": key(b)}},
        {"Put": {"TableName": other, "Item": {"pk": {"S": c}, "sk": {"N": "7"}, "x": {"BOOL": True}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"ConditionCheck": {"TableName": table, "Key": key(d), "ConditionExpression": "#s = :open",
                            "ExpressionAttributeNames": {"#s": "state"},
                            "ExpressionAttributeValues": {":open": {"S": "open"}}}},
    ])
    assert get(ddb, table, a)["n"] == {"N": "2"}
    assert get(ddb, table, b) is None
    assert ddb.get_item(TableName=other, Key={"pk": {"S": c}, "sk": {"N": "7"}})["Item"]["x"] == {"BOOL": True}
    assert get(ddb, table, d) == {"pk": {"S": d}, "state": {"S": "open"}}


def test_one_failed_condition_cancels_everything_with_reasons_in_order(ddb, table, other):
    a, b, c, d = (unique("k") for _ in range(4))
    put(ddb, table, a, v={"N": "1"})
    put(ddb, table, b, v={"N": "1"})
    err = refusal(ddb, TransactItems=[
        {"Update": {"TableName": table, "Key": key(a), "UpdateExpression": "SET v = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": c}}}},
        {"Update": {"TableName": table, "Key": key(b), "UpdateExpression": "SET v = :two",
                    "ConditionExpression": "v = :five", "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    "ExpressionAttributeValues": {":two": {"N": "2"}, ":five": {"N": "5"}}}},
        {"ConditionCheck": {"TableName": table, "Key": key(d), "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Delete": {"TableName": other, "Key": {"pk": {"S": d}, "sk": {"N": "1"}}, "ConditionExpression": "x = :x",
                    "ExpressionAttributeValues": {":x": {"S": "no such item"}}}},
    ])
    assert err.response["Error"]["Code"] == "TransactionCanceledException"
    assert err.response["Error"]["Message"] == CANCELLED.format(
        "None, None, ConditionalCheckFailed, None, ConditionalCheckFailed")
    reasons = err.response["CancellationReasons"]
    assert reasons == [
        {"Code": "None"},
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"pk": {"S": b}, "v": {"N": "1"}}},
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    assert get(ddb, table, a)["v"] == {"N": "1"}
    assert get(ddb, table, b)["v"] == {"N": "1"}
    assert get(ddb, table, c) is None


def test_an_update_that_cannot_apply_is_a_validation_error_reason(ddb, table):
    a, b = unique("k"), unique("k")
    put(ddb, table, a, s={"S": "text"})
    err = refusal(ddb, TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": b}}}},
        {"Update": {"TableName": table, "Key": key(a), "UpdateExpression": "ADD s :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    reasons = err.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValidationError"]
    assert "incorrect data type" in reasons[1]["Message"]
    assert get(ddb, table, b) is None


def test_key_errors_cancel_but_an_empty_key_is_refused_outright(ddb, table):
    err = refusal(ddb, TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"N": "5"}}}}])
    assert err.response["Error"]["Code"] == "TransactionCanceledException"
    assert err.response["CancellationReasons"] == [{
        "Code": "ValidationError",
        "Message": "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"}]
    err = refusal(ddb, TransactItems=[{"Delete": {"TableName": table, "Key": {"pk": {"N": "5"}}}}])
    assert err.response["CancellationReasons"][0]["Message"] == "The provided key element does not match the schema"
    err = refusal(ddb, TransactItems=[{"Delete": {"TableName": table, "Key": {"pk": {"S": ""}}}}])
    assert err.response["Error"] == {
        "Code": "ValidationException",
        "Message": "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
                   "contain an empty string value. Key: pk"}


def test_one_item_twice_is_refused(ddb, table):
    a = unique("k")
    err = refusal(ddb, TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": a}}}},
        {"ConditionCheck": {"TableName": table, "Key": key(a), "ConditionExpression": "attribute_exists(pk)"}},
    ])
    assert err.response["Error"] == {"Code": "ValidationException",
                                     "Message": "Transaction request cannot include multiple operations on one item"}
    assert get(ddb, table, a) is None


def test_limits_and_shapes(ddb, table):
    many = [{"Put": {"TableName": table, "Item": {"pk": {"S": f"many-{i}"}}}} for i in range(101)]
    assert refusal(ddb, TransactItems=many).response["Error"]["Code"] == "ValidationException"
    assert get(ddb, table, "many-0") is None
    both = {"Put": {"TableName": table, "Item": {"pk": {"S": "x"}}}, "Delete": {"TableName": table, "Key": key("x")}}
    assert refusal(ddb, TransactItems=[both]).response["Error"]["Message"] == (
        "TransactItems can only contain one of Check, Put, Update or Delete")
    missing = refusal(ddb, TransactItems=[{"Put": {"TableName": unique("absent"), "Item": key("x")}}])
    assert missing.response["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}
    bad = refusal(ddb, TransactItems=[{"ConditionCheck": {"TableName": unique("absent"), "Key": key("x"),
                                                         "ConditionExpression": "attribute_not_exists("}}])
    assert bad.response["Error"]["Code"] == "ValidationException"  # the expression before the table
    assert bad.response["Error"]["Message"].startswith("Invalid ConditionExpression: Syntax error")
    exactly_100 = [{"Put": {"TableName": table, "Item": {"pk": {"S": f"hundred-{i}"}}}} for i in range(100)]
    ddb.transact_write_items(TransactItems=exactly_100)
    assert get(ddb, table, "hundred-99") is not None


def test_client_token_answers_once_for_ten_minutes(cloud, ddb, table):
    a = unique("k")
    put(ddb, table, a, n={"N": "0"})
    token = uuid.uuid4().hex
    req = {"TransactItems": [{"Update": {"TableName": table, "Key": key(a), "UpdateExpression": "ADD n :one",
                                         "ExpressionAttributeValues": {":one": {"N": "1"}}}}],
           "ClientRequestToken": token}
    ddb.transact_write_items(**req)
    ddb.transact_write_items(**req)
    assert get(ddb, table, a)["n"] == {"N": "1"}
    changed = {**req, "TransactItems": [{"Update": {**req["TransactItems"][0]["Update"],
                                                    "ExpressionAttributeValues": {":one": {"N": "2"}}}}]}
    err = refusal(ddb, **changed)
    assert err.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    cloud.advance(601)
    ddb.transact_write_items(**req)  # the token has expired: a new transaction
    assert get(ddb, table, a)["n"] == {"N": "2"}


def test_a_cancelled_transaction_does_not_spend_its_token(ddb, table):
    a = unique("k")
    token = uuid.uuid4().hex
    req = {"TransactItems": [{"Put": {"TableName": table, "Item": {"pk": {"S": a}},
                                      "ConditionExpression": "attribute_exists(pk)"}}],
           "ClientRequestToken": token}
    assert refusal(ddb, **req).response["Error"]["Code"] == "TransactionCanceledException"
    put(ddb, table, a, v={"S": "now it exists"})
    ddb.transact_write_items(**req)
    assert get(ddb, table, a) == {"pk": {"S": a}}


def test_capacity_is_doubled(ddb, table, other):
    a, b = unique("k"), unique("k")
    put(ddb, table, b)
    out = ddb.transact_write_items(ReturnConsumedCapacity="TOTAL", TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": a}, "blob": {"S": "x" * 1500}}}},
        {"ConditionCheck": {"TableName": table, "Key": key(b), "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": other, "Item": {"pk": {"S": a}, "sk": {"N": "1"}}}},
    ])
    assert out["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 6.0, "ReadCapacityUnits": 2.0, "WriteCapacityUnits": 4.0},
        {"TableName": other, "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
    ]


def test_writes_reach_the_stream(cloud, ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = cloud.client("dynamodbstreams")
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    a, b = unique("k"), unique("k")
    put(ddb, table, b)
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                    ShardIteratorType="LATEST")["ShardIterator"]
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": a}}}},
        {"Delete": {"TableName": table, "Key": key(b)}},
    ])
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [("INSERT", a), ("REMOVE", b)]


def test_resource_client_sends_plain_python_values(cloud, table):
    res = boto3.resource("dynamodb", endpoint_url=cloud.endpoint, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test",
                         config=BotoConfig(retries={"max_attempts": 1}))
    a = unique("k")
    res.meta.client.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": a, "n": 3, "tags": {"x", "y"}}}},
    ])
    got = res.Table(table).get_item(Key={"pk": a}, ConsistentRead=True)["Item"]
    assert got == {"pk": a, "n": 3, "tags": {"x", "y"}}
    with pytest.raises(ClientError) as err:
        res.meta.client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": a}, "UpdateExpression": "SET n = :n",
                        "ConditionExpression": "n = :old", "ExpressionAttributeValues": {":n": 4, ":old": 99}}},
        ])
    assert [r["Code"] for r in err.value.response["CancellationReasons"]] == ["ConditionalCheckFailed"]


def test_transact_get_items_reads_one_snapshot(ddb, table, other):
    a, b, missing = unique("k"), unique("k"), unique("k")
    put(ddb, table, a, n={"N": "1"}, m={"M": {"x": {"S": "deep"}, "y": {"N": "2"}}})
    ddb.put_item(TableName=other, Item={"pk": {"S": b}, "sk": {"N": "3"}, "z": {"S": "zed"}})
    out = ddb.transact_get_items(ReturnConsumedCapacity="TOTAL", TransactItems=[
        {"Get": {"TableName": table, "Key": key(a), "ProjectionExpression": "#m.x, n",
                 "ExpressionAttributeNames": {"#m": "m"}}},
        {"Get": {"TableName": table, "Key": key(missing)}},
        {"Get": {"TableName": other, "Key": {"pk": {"S": b}, "sk": {"N": "3"}}}},
    ])
    assert out["Responses"] == [
        {"Item": {"n": {"N": "1"}, "m": {"M": {"x": {"S": "deep"}}}}},
        {},
        {"Item": {"pk": {"S": b}, "sk": {"N": "3"}, "z": {"S": "zed"}}},
    ]
    assert out["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 4.0, "ReadCapacityUnits": 4.0},
        {"TableName": other, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0},
    ]


def test_transact_get_items_refusals(ddb, table):
    a = unique("k")
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key(a)}},
                                              {"Get": {"TableName": table, "Key": key(a)}}])
    assert err.value.response["Error"]["Message"] == "Transaction request cannot include multiple operations on one item"
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {}}}])
    assert err.value.response["Error"]["Message"] == CANCELLED.format("ValidationError")
    assert err.value.response["CancellationReasons"][0]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": unique("absent"), "Key": key(a)}}])
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
