"""The audit trail of DynamoDB calls keeps keys and names, never item values (as CloudTrail)."""

from __future__ import annotations

from cloudlet.services.dynamodb.auditing import audited

ACCOUNT = "510987654321"


def test_put_item_event_names_the_attributes_without_their_values(cloud):
    ddb = cloud.client("dynamodb", key=ACCOUNT)
    ddb.create_table(TableName="audited", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.put_item(TableName="audited", Item={"pk": {"S": "k1"}, "secret": {"S": "hunter2"}})
    ddb.put_item(TableName="audited", Item={"pk": {"S": "k1"}, "secret": {"S": "hunter3"}}, ReturnValues="ALL_OLD")
    events = cloud.admin("GET", f"audit?eventName=PutItem&account={ACCOUNT}&limit=5")["events"]
    assert len(events) == 2
    for ev in events:
        assert ev["requestParameters"]["TableName"] == "audited"
        assert ev["requestParameters"]["Item"] == ["pk", "secret"]
        assert ev["responseElements"] is None
        assert "hunter" not in str(ev)
    tables = cloud.admin("GET", f"audit?eventName=CreateTable&account={ACCOUNT}&limit=1")["events"]
    assert tables[0]["responseElements"]["TableDescription"]["TableName"] == "audited"  # control plane kept


def test_batches_and_transactions_keep_keys_and_names():
    params = {
        "RequestItems": {"t": [{"PutRequest": {"Item": {"pk": {"S": "a"}, "v": {"N": "1"}}}},
                               {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]},
    }
    kept, out = audited("BatchWriteItem", params, {"UnprocessedItems": {}})
    assert kept == {"RequestItems": {"t": [{"PutRequest": {"Item": ["pk", "v"]}},
                                           {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]}}
    assert out is None
    tx = {"TransactItems": [{"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}},
                                        "UpdateExpression": "SET v = :v",
                                        "ExpressionAttributeValues": {":v": {"S": "private"}}}}]}
    kept, _ = audited("TransactWriteItems", tx, {})
    assert kept["TransactItems"][0]["Update"]["ExpressionAttributeValues"] == [":v"]
    assert kept["TransactItems"][0]["Update"]["Key"] == {"pk": {"S": "a"}}
    kept, _ = audited("ExecuteStatement", {"Statement": "INSERT INTO t VALUE {'pk': ?}", "Parameters": [{"S": "x"}]}, {})
    assert "x" not in str(kept["Parameters"])
    assert audited("CreateTable", {"TableName": "t"}, {"TableDescription": {}}) == ({"TableName": "t"}, {"TableDescription": {}})
