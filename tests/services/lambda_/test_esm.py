"""Event source mappings over HTTP: SQS queues and DynamoDB streams invoke real functions.

Each function reports the events it got by sending them to an SQS queue with boto3."""

from __future__ import annotations

import json

import pytest

from tests.cloud import Cloud
from tests.services.lambda_.esm_support import counts, queue, recorded, recorder, wait_for


@pytest.fixture(scope="module")
def cloud():
    c = Cloud()  # its own server: these tests move the clock
    yield c
    c.stop()


def mapping_state(cloud: Cloud, uuid: str, state: str) -> dict:
    lam = cloud.client("lambda")
    return wait_for(lambda: (m := lam.get_event_source_mapping(UUID=uuid))["State"] == state and m,
                    f"mapping {uuid} to be {state}")


def test_sqs_partial_batch_failures_leave_exactly_the_failed_messages(cloud: Cloud) -> None:
    src_url, src_arn = queue(cloud, VisibilityTimeout="60")
    out_url, _ = queue(cloud)
    sqs = cloud.client("sqs")
    for body in ("ok-1", "fail-1", "ok-2", "fail-2", "ok-3"):
        sqs.send_message(QueueUrl=src_url, MessageBody=body)
    fn = recorder(cloud, out_url, FAIL_PREFIX="fail")
    m = cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=src_arn, FunctionName=fn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    events = recorded(cloud, out_url, 1)
    first = events[0]["Records"]
    assert sorted(r["body"] for r in first) == ["fail-1", "fail-2", "ok-1", "ok-2", "ok-3"]
    rec = first[0]
    assert rec["eventSource"] == "aws:sqs" and rec["eventSourceARN"] == src_arn and rec["awsRegion"] == "us-east-1"
    assert set(rec) >= {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody"}
    assert rec["attributes"]["ApproximateReceiveCount"] == "1"
    # the three handled messages are deleted; the two reported failures wait out their visibility timeout
    wait_for(lambda: counts(cloud, src_url) == (0, 2), "only the two failures to remain in flight")
    cloud.advance(61)
    again = recorded(cloud, out_url, 1)
    assert sorted(r["body"] for r in again[0]["Records"]) == ["fail-1", "fail-2"]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in again[0]["Records"]} == {"2"}
    cloud.client("lambda").delete_event_source_mapping(UUID=m["UUID"])


def test_sqs_failing_function_sends_messages_to_the_dead_letter_queue(cloud: Cloud) -> None:
    dlq_url, dlq_arn = queue(cloud)
    src_url, src_arn = queue(cloud, VisibilityTimeout="30",
                             RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}))
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url, FAIL="always")
    cloud.client("sqs").send_message(QueueUrl=src_url, MessageBody="poison")
    m = cloud.client("lambda").create_event_source_mapping(EventSourceArn=src_arn, FunctionName=fn, BatchSize=1)
    recorded(cloud, out_url, 1)  # first attempt failed: the message stays, invisible
    cloud.advance(31)
    recorded(cloud, out_url, 1)  # second attempt (receive count 2)
    cloud.advance(31)  # the next receive finds it past maxReceiveCount and moves it
    sqs = cloud.client("sqs")
    moved = wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"),
                     "the message to reach the dead-letter queue")
    assert moved[0]["Body"] == "poison"
    assert counts(cloud, src_url) == (0, 0)
    cloud.client("lambda").delete_event_source_mapping(UUID=m["UUID"])


def test_sqs_filter_drops_messages_that_match_no_filter(cloud: Cloud) -> None:
    src_url, src_arn = queue(cloud)
    out_url, _ = queue(cloud)
    sqs = cloud.client("sqs")
    for body in (json.dumps({"type": "drop"}), "plain text", json.dumps({"type": "keep", "n": 1})):
        sqs.send_message(QueueUrl=src_url, MessageBody=body)
    fn = recorder(cloud, out_url)
    m = cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=src_arn, FunctionName=fn, BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"type": ["keep"]}})}]})
    events = recorded(cloud, out_url, 1)
    assert [json.loads(r["body"]) for r in events[0]["Records"]] == [{"type": "keep", "n": 1}]
    wait_for(lambda: counts(cloud, src_url) == (0, 0), "the filtered-out messages to be deleted")
    cloud.client("lambda").delete_event_source_mapping(UUID=m["UUID"])


def stream_table(cloud: Cloud) -> tuple[str, str]:
    ddb = cloud.client("dynamodb")
    table = f"esm-t-{__import__('uuid').uuid4().hex[:8]}"
    desc = ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    return table, desc["LatestStreamArn"]


def test_dynamodb_stream_delivers_insert_modify_remove_in_order(cloud: Cloud) -> None:
    table, stream = stream_table(cloud)
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    lam = cloud.client("lambda")
    m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, StartingPosition="TRIM_HORIZON",
                                        BatchSize=2)
    events = recorded(cloud, out_url, 2)
    records = [r for e in events for r in e["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert [len(e["Records"]) for e in events] == [2, 1]
    first = records[0]
    assert first["eventSource"] == "aws:dynamodb" and first["eventSourceARN"] == stream
    assert first["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], (int, float))
    assert records[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs)
    wait_for(lambda: lam.get_event_source_mapping(UUID=m["UUID"]).get("LastProcessingResult") == "OK",
             "LastProcessingResult OK")
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_dynamodb_stream_latest_sees_what_is_written_after_the_mapping_is_created(cloud: Cloud) -> None:
    table, stream = stream_table(cloud)
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    cloud.advance(2)  # the stream stamps records to the second
    lam = cloud.client("lambda")
    m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, StartingPosition="LATEST")
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}})  # at once: before the poller's first look
    events = recorded(cloud, out_url, 1)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for e in events for r in e["Records"]] == ["new"]
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_dynamodb_stream_tumbling_window_keeps_state_until_its_final_invocation(cloud: Cloud) -> None:
    table, stream = stream_table(cloud)
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    ddb = cloud.client("dynamodb")
    for key in ("a", "b"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    lam = cloud.client("lambda")
    m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, StartingPosition="TRIM_HORIZON",
                                        TumblingWindowInSeconds=60)
    first = recorded(cloud, out_url, 1)[0]
    assert len(first["Records"]) == 2 and first["state"] == {} and first["isFinalInvokeForWindow"] is False
    assert set(first["window"]) == {"start", "end"} and first["shardId"]
    cloud.advance(61)  # the window is over: its final invocation carries the state
    final = recorded(cloud, out_url, 1)[0]
    assert final["isFinalInvokeForWindow"] is True and final["Records"] == [] and final["state"] == {"n": 2}
    assert final["window"] == first["window"]
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_dynamodb_stream_failure_goes_to_the_on_failure_queue_after_retries(cloud: Cloud) -> None:
    table, stream = stream_table(cloud)
    out_url, _ = queue(cloud)
    fail_url, fail_arn = queue(cloud)
    fn = recorder(cloud, out_url, FAIL="always")
    cloud.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "bad"}})
    lam = cloud.client("lambda")
    m = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=fn, StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": fail_arn}})
    sqs = cloud.client("sqs")
    got = wait_for(lambda: sqs.receive_message(QueueUrl=fail_url, WaitTimeSeconds=1).get("Messages"),
                   "the invocation record in the on-failure queue")
    doc = json.loads(got[0]["Body"])
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert doc["requestContext"]["approximateInvokeCount"] == 2
    assert doc["requestContext"]["functionArn"].startswith(fn)
    assert doc["responseContext"]["functionError"] == "Unhandled"
    info = doc["DDBStreamBatchInfo"]
    assert info["streamArn"] == stream and info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert len(recorded(cloud, out_url, 2)) == 2  # the first try and one retry
    assert lam.get_event_source_mapping(UUID=m["UUID"])["LastProcessingResult"] == "PROBLEM: Function call failed"
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_dynamodb_stream_mapping_resumes_from_its_checkpoint_after_a_restart(tmp_path) -> None:
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        table, stream = stream_table(cloud)
        out_url, _ = queue(cloud)
        fn = recorder(cloud, out_url)
        cloud.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "before"}})
        lam = cloud.client("lambda")
        m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, StartingPosition="TRIM_HORIZON")
        assert recorded(cloud, out_url, 1)[0]["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "before"}}
        wait_for(lambda: lam.get_event_source_mapping(UUID=m["UUID"]).get("LastProcessingResult") == "OK",
                 "the batch to be checkpointed")
    finally:
        cloud.stop()
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        cloud.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "after"}})
        events = recorded(cloud, out_url, 1)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for e in events for r in e["Records"]] == ["after"]
    finally:
        cloud.stop()


def test_sqs_fifo_batches_keep_each_group_in_order(cloud: Cloud) -> None:
    src_url, src_arn = queue(cloud, FifoQueue="true", ContentBasedDeduplication="true")
    out_url, _ = queue(cloud)
    sqs = cloud.client("sqs")
    for i in range(6):
        for group in ("a", "b"):
            sqs.send_message(QueueUrl=src_url, MessageBody=f"{group}{i}", MessageGroupId=group)
    fn = recorder(cloud, out_url)
    m = cloud.client("lambda").create_event_source_mapping(EventSourceArn=src_arn, FunctionName=fn, BatchSize=2,
                                                           ScalingConfig={"MaximumConcurrency": 2})
    bodies: list[str] = []
    while len(bodies) < 12:
        for e in recorded(cloud, out_url, 1):
            records = e["Records"]
            assert all(r["attributes"]["MessageGroupId"] == r["body"][0] for r in records)
            bodies += [r["body"] for r in records]
    for group in ("a", "b"):
        assert [b for b in bodies if b[0] == group] == [f"{group}{i}" for i in range(6)]
    wait_for(lambda: counts(cloud, src_url) == (0, 0), "every message to be deleted")
    cloud.client("lambda").delete_event_source_mapping(UUID=m["UUID"])


def test_sqs_throttled_function_leaves_the_messages(cloud: Cloud) -> None:
    src_url, src_arn = queue(cloud, VisibilityTimeout="30")
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    lam = cloud.client("lambda")
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    cloud.client("sqs").send_message(QueueUrl=src_url, MessageBody="later")
    m = lam.create_event_source_mapping(EventSourceArn=src_arn, FunctionName=fn)
    wait_for(lambda: counts(cloud, src_url) == (0, 1), "the poller to take the message")
    lam.delete_function_concurrency(FunctionName=fn)
    cloud.advance(31)  # the throttled message comes back and now runs
    assert recorded(cloud, out_url, 1)[0]["Records"][0]["body"] == "later"
    wait_for(lambda: counts(cloud, src_url) == (0, 0), "the message to be deleted")
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_pollers_leave_no_errors_in_the_server_log(cloud: Cloud) -> None:
    assert "Traceback" not in cloud.logs()


def test_sqs_mapping_on_an_alias_runs_the_alias_version(cloud: Cloud) -> None:
    src_url, src_arn = queue(cloud)
    out_url, _ = queue(cloud)
    fn = recorder(cloud, out_url)
    lam = cloud.client("lambda")
    version = lam.publish_version(FunctionName=fn)["Version"]
    alias = lam.create_alias(FunctionName=fn, Name="live", FunctionVersion=version)["AliasArn"]
    m = lam.create_event_source_mapping(EventSourceArn=src_arn, FunctionName=alias)
    assert m["FunctionArn"] == alias
    cloud.client("sqs").send_message(QueueUrl=src_url, MessageBody="via alias")
    assert recorded(cloud, out_url, 1)[0]["Records"][0]["body"] == "via alias"
    wait_for(lambda: counts(cloud, src_url) == (0, 0), "the message to be deleted")
    lam.delete_event_source_mapping(UUID=m["UUID"])
