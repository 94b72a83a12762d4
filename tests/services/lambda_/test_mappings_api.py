"""Event source mappings over HTTP: CRUD against a real SQS queue and DynamoDB stream,
defaults per source, and validation."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.test_functions import _code, _create


def _queue(cloud, fifo: bool = False) -> str:
    sqs = cloud.client("sqs")
    name = "src-" + uuid.uuid4().hex[:8] + (".fifo" if fifo else "")
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"} if fifo else {})["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_sqs_mapping_life_cycle(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    queue = _queue(cloud)
    pattern = json.dumps({"body": {"kind": ["order"]}})
    out = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=queue,
                                          FilterCriteria={"Filters": [{"Pattern": pattern}]},
                                          FunctionResponseTypes=["ReportBatchItemFailures"],
                                          ScalingConfig={"MaximumConcurrency": 5})
    assert out["State"] == "Creating" and out["BatchSize"] == 10 and out["MaximumBatchingWindowInSeconds"] == 0
    assert out["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert out["EventSourceMappingArn"].endswith(f":event-source-mapping:{out['UUID']}")
    assert "StartingPosition" not in out
    uid = out["UUID"]
    got = lam.get_event_source_mapping(UUID=uid)
    assert got["State"] == "Enabled" and got["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    assert got["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName=name, EventSourceArn=queue)
    assert _code(err)[0::2] == ("ResourceConflictException", 409)
    upd = lam.update_event_source_mapping(UUID=uid, Enabled=False, BatchSize=50, MaximumBatchingWindowInSeconds=5)
    assert upd["State"] == "Updating" and upd["BatchSize"] == 50
    got = lam.get_event_source_mapping(UUID=uid)
    assert (got["State"], got["BatchSize"], got["MaximumBatchingWindowInSeconds"]) == ("Disabled", 50, 5)
    listed = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uid]
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=queue)["EventSourceMappings"]] == [uid]
    assert lam.delete_event_source_mapping(UUID=uid)["State"] == "Deleting"
    with pytest.raises(ClientError) as err:
        lam.get_event_source_mapping(UUID=uid)
    assert _code(err) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)


def test_disabled_at_creation(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    uid = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=_queue(cloud), Enabled=False)["UUID"]
    assert lam.get_event_source_mapping(UUID=uid)["State"] == "Disabled"


def test_dynamodb_stream_mapping(cloud):
    ddb = cloud.client("dynamodb")
    lam = cloud.client("lambda")
    table = "t-" + uuid.uuid4().hex[:8]
    stream = ddb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    name = _create(lam)["FunctionName"]
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName=name, EventSourceArn=stream)
    assert _code(err)[0] == "InvalidParameterValueException"  # StartingPosition is required for streams
    out = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=stream, StartingPosition="TRIM_HORIZON",
                                          MaximumRetryAttempts=2, BisectBatchOnFunctionError=True,
                                          DestinationConfig={"OnFailure": {"Destination": _queue(cloud)}})
    assert (out["BatchSize"], out["StartingPosition"], out["MaximumRetryAttempts"]) == (100, "TRIM_HORIZON", 2)
    assert out["BisectBatchOnFunctionError"] is True and out["ParallelizationFactor"] == 1
    got = lam.get_event_source_mapping(UUID=out["UUID"])
    assert got["State"] == "Enabled" and got["LastProcessingResult"] == "No records processed"
    missing = stream.replace(table, table + "x")
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName=name, EventSourceArn=missing, StartingPosition="LATEST")
    assert _code(err)[0] == "InvalidParameterValueException"


def test_validation(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    queue = _queue(cloud)
    cases = [
        dict(EventSourceArn=queue.replace(queue.rsplit(":", 1)[1], "missing")),  # the queue must exist
        dict(EventSourceArn=queue, BatchSize=100),  # > 10 needs a batching window
        dict(EventSourceArn=queue, FilterCriteria={"Filters": [{"Pattern": "{not json"}]}),
        dict(EventSourceArn=queue, FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": "scalar"})}]}),
        dict(EventSourceArn=queue, StartingPosition="LATEST"),
        dict(EventSourceArn=_queue(cloud, fifo=True), BatchSize=11, MaximumBatchingWindowInSeconds=1),
        dict(EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/s", StartingPosition="LATEST"),
    ]
    for extra in cases:
        with pytest.raises(ClientError) as err:
            lam.create_event_source_mapping(FunctionName=name, **extra)
        assert _code(err)[0::2] == ("InvalidParameterValueException", 400), extra
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName="no-such-fn", EventSourceArn=queue)
    assert _code(err)[0] == "ResourceNotFoundException"


def test_missing_queue_message_names_sqs_error(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName=name,
                                        EventSourceArn="arn:aws:sqs:us-east-1:000000000000:does-not-exist")
    assert _code(err)[1].startswith("Error occurred while ReceiveMessage. SQS Error Code: ")
