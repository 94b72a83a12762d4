"""Event source pollers' logic with fakes: batches, partial failures, filters, retries,
bisecting, checkpoints and the on-failure record. The real thing runs in test_esm.py."""

from __future__ import annotations

import datetime as dt
import json
import threading
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.lambda_ import esm
from cloudlet.services.lambda_.esm_filters import PatternError, compile_filters
from cloudlet.services.lambda_.esm_sqs import SqsWorker, to_record
from cloudlet.services.lambda_.esm_streams import StreamWorker, jsonable

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:work"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-28T00:00:00.000"
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def result(payload: Any = None, error: str | None = None) -> SimpleNamespace:
    body = b"" if payload is None else json.dumps(payload).encode()
    return SimpleNamespace(payload=body, function_error="Unhandled" if error else None, error_type=error,
                           request_id="req-1")


class FakeClient:
    def __init__(self, env: "FakeEnv", service: str) -> None:
        self.env, self.service = env, service

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(**params: Any) -> Any:
            self.env.calls.append((self.service, name, params))
            handler = self.env.handlers.get((self.service, name))
            return handler(**params) if handler else {}
        return call


class FakeEnv:
    def __init__(self, fn: Callable[[dict[str, Any]], Any]) -> None:
        self.fn = fn
        self.events: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.handlers: dict[tuple[str, str], Callable[..., Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self.checkpoints: dict[tuple[str, str], str] = {}
        self.metrics: list[tuple[str, float]] = []
        self.counts: dict[str, int] = {}
        self.windows: dict[tuple[str, str], dict[str, Any]] = {}
        self.stopping = threading.Event()
        self.clock = 1_800_000_000.0

    def resolve(self, arn: str) -> Any:
        return SimpleNamespace(function_arn=arn, invoked_arn=arn, version="$LATEST", account="123456789012",
                               region="us-east-1")

    def run(self, target: Any, payload: bytes, source: str, trace: str | None = None) -> Any:
        event = json.loads(payload)
        self.events.append(event)
        return self.fn(event)

    def client(self, service: str, mapping: dict[str, Any], region: str | None = None, quiet: bool = True) -> FakeClient:
        return FakeClient(self, service)

    def update(self, mapping: dict[str, Any], **fields: Any) -> None:
        mapping.update(fields)
        self.updates.append(fields)

    def checkpoint(self, uuid: str, shard: str) -> str | None:
        return self.checkpoints.get((uuid, shard))

    def save_checkpoint(self, uuid: str, shard: str, seq: str) -> None:
        self.checkpoints[(uuid, shard)] = seq

    def drop_checkpoints(self, uuid: str) -> None:
        pass

    def window(self, uuid: str, shard: str) -> dict[str, Any] | None:
        return self.windows.get((uuid, shard))

    def save_window(self, uuid: str, shard: str, window: dict[str, Any] | None) -> None:
        if window is None:
            self.windows.pop((uuid, shard), None)
        else:
            self.windows[(uuid, shard)] = window

    def metric(self, target: Any, name: str, value: float, unit: str) -> None:
        self.metrics.append((name, value))

    def count(self, mapping: dict[str, Any], name: str, events: int) -> None:
        if events:
            self.counts[name] = self.counts.get(name, 0) + events

    def now(self) -> float:
        return self.clock

    def deleted(self) -> list[str]:
        return [e["ReceiptHandle"] for s, op, p in self.calls if op == "delete_message_batch" for e in p["Entries"]]


def sqs_mapping(**extra: Any) -> dict[str, Any]:
    return {"UUID": "u-1", "account": "123456789012", "region": "us-east-1", "EventSourceArn": QUEUE_ARN,
            "FunctionArn": FN_ARN, "BatchSize": 10, "State": "Enabled", **extra}


def messages(*bodies: str) -> list[dict[str, Any]]:
    return [{"MessageId": f"m{i}", "ReceiptHandle": f"rh{i}", "Body": b, "MD5OfBody": "x",
             "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"}} for i, b in enumerate(bodies)]


# -- partial batch responses --------------------------------------------------------------------
@pytest.mark.parametrize("payload, expected", [
    (b"", ()),
    (b"null", ()),
    (b"{}", ()),
    (b'{"batchItemFailures": []}', ()),
    (b'{"batchItemFailures": null}', ()),
    (b'"done"', ()),
    (b'{"batchItemFailures": [{"itemIdentifier": "a"}]}', ("a",)),
    (b"not json", None),
    (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None),
    (b'{"batchItemFailures": [{"itemIdentifier": null}]}', None),
    (b'{"batchItemFailures": [{"id": "a"}]}', None),
    (b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', None),
    (b'{"batchItemFailures": "a"}', None),
])
def test_partial_batch_response_follows_aws_rules(payload: bytes, expected: Any) -> None:
    assert esm.batch_failures(payload, ["a", "b"]) == expected


# -- filters ----------------------------------------------------------------------------------
def test_filters_match_json_bodies_as_json_and_other_bodies_as_text() -> None:
    f = compile_filters({"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'},
                                     {"Pattern": '{"body": ["ping"]}'}]}, "sqs")
    assert f.matches({"body": '{"kind": "order", "n": 1}'})
    assert not f.matches({"body": '{"kind": "refund"}'})
    assert f.matches({"body": "ping"})
    assert not f.matches({"body": "{not json"})
    assert compile_filters(None, "sqs").matches({"body": "anything"})


def test_filters_refuse_an_invalid_pattern() -> None:
    with pytest.raises(PatternError):
        compile_filters({"Filters": [{"Pattern": '{"body": "not-a-list"}'}]}, "sqs")


# -- SQS --------------------------------------------------------------------------------------
def test_sqs_record_has_the_event_shape() -> None:
    msg = messages("hi")[0]
    msg["MessageAttributes"] = {"a": {"DataType": "String", "StringValue": "v"},
                                "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    rec = to_record(msg, QUEUE_ARN, "us-east-1")
    assert rec == {
        "messageId": "m0", "receiptHandle": "rh0", "body": "hi",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {
            "a": {"stringValue": "v", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
            "b": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        },
        "md5OfBody": "x", "eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN, "awsRegion": "us-east-1",
    }


def test_sqs_success_deletes_the_batch() -> None:
    env = FakeEnv(lambda e: result({"ok": True}))
    w = SqsWorker(env, sqs_mapping())  # type: ignore[arg-type]
    w.process(env.resolve(FN_ARN), messages("a", "b", "c"))
    assert [r["body"] for r in env.events[0]["Records"]] == ["a", "b", "c"]
    assert env.deleted() == ["rh0", "rh1", "rh2"]


def test_sqs_function_error_leaves_every_message() -> None:
    env = FakeEnv(lambda e: result({"errorMessage": "boom"}, error="Exception"))
    w = SqsWorker(env, sqs_mapping(FunctionResponseTypes=["ReportBatchItemFailures"]))  # type: ignore[arg-type]
    w.process(env.resolve(FN_ARN), messages("a", "b"))
    assert env.deleted() == []


def test_sqs_partial_failures_leave_only_the_named_messages() -> None:
    env = FakeEnv(lambda e: result({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}))
    w = SqsWorker(env, sqs_mapping(FunctionResponseTypes=["ReportBatchItemFailures"]))  # type: ignore[arg-type]
    w.process(env.resolve(FN_ARN), messages("a", "b", "c", "d", "e"))
    assert env.deleted() == ["rh0", "rh2", "rh4"]
    assert env.counts == {"InvokedEventCount": 5, "FailedInvokeEventCount": 2}  # the fake deletes nothing


def test_sqs_partial_response_ignored_without_report_batch_item_failures() -> None:
    env = FakeEnv(lambda e: result({"batchItemFailures": [{"itemIdentifier": "m1"}]}))
    w = SqsWorker(env, sqs_mapping())  # type: ignore[arg-type]
    w.process(env.resolve(FN_ARN), messages("a", "b"))
    assert env.deleted() == ["rh0", "rh1"]


def test_sqs_invalid_item_identifier_fails_the_whole_batch() -> None:
    env = FakeEnv(lambda e: result({"batchItemFailures": [{"itemIdentifier": "nope"}]}))
    w = SqsWorker(env, sqs_mapping(FunctionResponseTypes=["ReportBatchItemFailures"]))  # type: ignore[arg-type]
    w.process(env.resolve(FN_ARN), messages("a", "b"))
    assert env.deleted() == []


def test_sqs_filtered_out_messages_are_deleted_without_an_invocation() -> None:
    env = FakeEnv(lambda e: result(None))
    mapping = sqs_mapping(FilterCriteria={"Filters": [{"Pattern": '{"body": {"keep": [true]}}'}]})
    w = SqsWorker(env, mapping)  # type: ignore[arg-type]
    w.process(env.resolve(FN_ARN), messages('{"keep": false}', "plain"))
    assert env.events == []
    assert env.deleted() == ["rh0", "rh1"]
    w.process(env.resolve(FN_ARN), messages('{"keep": true}', "plain"))
    assert [r["body"] for r in env.events[0]["Records"]] == ['{"keep": true}']
    assert sorted(env.deleted()) == ["rh0", "rh0", "rh1", "rh1"]


def test_sqs_gathers_up_to_the_batch_size_in_one_receive_without_a_window() -> None:
    env = FakeEnv(lambda e: result(None))
    env.handlers[("sqs", "receive_message")] = lambda **p: {"Messages": messages(*["x"] * p["MaxNumberOfMessages"])}
    w = SqsWorker(env, sqs_mapping(BatchSize=4))  # type: ignore[arg-type]
    got = w.gather()
    assert len(got) == 4
    receives = [p for s, op, p in env.calls if op == "receive_message"]
    assert len(receives) == 1
    assert receives[0]["AttributeNames"] == ["All"] and receives[0]["MessageAttributeNames"] == ["All"]


# -- DynamoDB Streams -------------------------------------------------------------------------
def stream_record(seq: int, event: str = "INSERT", created: float = 1_800_000_000.0) -> dict[str, Any]:
    return {
        "eventID": f"e{seq}", "eventName": event, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {"ApproximateCreationDateTime": dt.datetime.fromtimestamp(created, dt.timezone.utc),
                     "Keys": {"pk": {"S": f"k{seq}"}}, "NewImage": {"pk": {"S": f"k{seq}"}, "b": {"B": b"\x01"}},
                     "SequenceNumber": f"{seq:021d}", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"},
    }


class FakeStream:
    """One shard; GetRecords reads after a position."""

    def __init__(self, env: FakeEnv, records: list[dict[str, Any]]) -> None:
        self.records = records
        env.handlers[("dynamodbstreams", "describe_stream")] = lambda **p: {
            "StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}
        env.handlers[("dynamodbstreams", "get_shard_iterator")] = self.iterator
        env.handlers[("dynamodbstreams", "get_records")] = self.get

    def iterator(self, **p: Any) -> dict[str, Any]:
        if p["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER":
            return {"ShardIterator": p["SequenceNumber"]}
        if p["ShardIteratorType"] == "LATEST":
            return {"ShardIterator": self.records[-1]["dynamodb"]["SequenceNumber"] if self.records else "0"}
        return {"ShardIterator": "0"}

    def get(self, **p: Any) -> dict[str, Any]:
        after = int(p["ShardIterator"])
        out = [r for r in self.records if int(r["dynamodb"]["SequenceNumber"]) > after][:p["Limit"]]
        nxt = out[-1]["dynamodb"]["SequenceNumber"] if out else p["ShardIterator"]
        return {"Records": out, "NextShardIterator": nxt}


def stream_mapping(**extra: Any) -> dict[str, Any]:
    return {"UUID": "u-2", "account": "123456789012", "region": "us-east-1", "EventSourceArn": STREAM_ARN,
            "FunctionArn": FN_ARN, "BatchSize": 100, "StartingPosition": "TRIM_HORIZON", "State": "Enabled",
            **extra}


def drain(w: StreamWorker, rounds: int = 50) -> None:
    for _ in range(rounds):
        if not w.poll():
            return


def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(esm, "backoff", lambda stop, s: None)


def test_stream_delivers_in_order_and_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result(None))
    FakeStream(env, [stream_record(1), stream_record(2, "MODIFY"), stream_record(3, "REMOVE")])
    w = StreamWorker(env, stream_mapping(BatchSize=2))  # type: ignore[arg-type]
    drain(w)
    assert [[r["eventName"] for r in e["Records"]] for e in env.events] == [["INSERT", "MODIFY"], ["REMOVE"]]
    rec = env.events[0]["Records"][0]
    assert rec["eventSourceARN"] == STREAM_ARN
    assert rec["dynamodb"]["ApproximateCreationDateTime"] == 1_800_000_000
    assert rec["dynamodb"]["NewImage"]["b"] == {"B": "AQ=="}
    assert env.checkpoints[("u-2", "shard-1")] == f"{3:021d}"
    assert env.updates[-1] == {"LastProcessingResult": "OK"}
    assert ("IteratorAge", 0.0) in env.metrics


def test_stream_resumes_after_its_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result(None))
    FakeStream(env, [stream_record(1), stream_record(2), stream_record(3)])
    env.checkpoints[("u-2", "shard-1")] = f"{2:021d}"
    w = StreamWorker(env, stream_mapping())  # type: ignore[arg-type]
    drain(w)
    assert [[r["eventID"] for r in e["Records"]] for e in env.events] == [["e3"]]


def test_stream_retries_then_sends_the_batch_to_the_on_failure_destination(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result({"errorMessage": "x"}, error="Exception"))
    FakeStream(env, [stream_record(1), stream_record(2)])
    dlq = "arn:aws:sqs:us-east-1:123456789012:failures"
    w = StreamWorker(env, stream_mapping(MaximumRetryAttempts=1, DestinationConfig={  # type: ignore[arg-type]
        "OnFailure": {"Destination": dlq}}))
    drain(w)
    assert len(env.events) == 2  # the first try and one retry
    sent = [p for s, op, p in env.calls if op == "send_message"]
    assert len(sent) == 1 and sent[0]["QueueUrl"].endswith("/123456789012/failures")
    doc = json.loads(sent[0]["MessageBody"])
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert doc["requestContext"]["approximateInvokeCount"] == 2
    assert doc["requestContext"]["functionArn"] == FN_ARN
    assert doc["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert doc["version"] == "1.0"
    assert doc["DDBStreamBatchInfo"] == {
        "shardId": "shard-1", "startSequenceNumber": f"{1:021d}", "endSequenceNumber": f"{2:021d}",
        "approximateArrivalOfFirstRecord": "2027-01-15T08:00:00Z",
        "approximateArrivalOfLastRecord": "2027-01-15T08:00:00Z", "batchSize": 2, "streamArn": STREAM_ARN}
    assert env.checkpoints[("u-2", "shard-1")] == f"{2:021d}"  # given up on: the shard moves on
    assert env.counts == {"PolledEventCount": 2, "InvokedEventCount": 4, "FailedInvokeEventCount": 4,
                          "OnFailureDestinationDeliveredEventCount": 2}
    assert {"LastProcessingResult": "PROBLEM: Function call failed"} in env.updates


def test_stream_bisects_a_failing_batch_down_to_the_bad_record(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)

    def fn(event: dict[str, Any]) -> Any:
        bad = any(r["eventID"] == "e3" for r in event["Records"])
        return result({"errorMessage": "bad"}, error="Exception") if bad else result(None)

    env = FakeEnv(fn)
    FakeStream(env, [stream_record(i) for i in range(1, 5)])
    w = StreamWorker(env, stream_mapping(BisectBatchOnFunctionError=True, MaximumRetryAttempts=0))  # type: ignore[arg-type]
    drain(w)
    sizes = [[r["eventID"] for r in e["Records"]] for e in env.events]
    assert sizes == [["e1", "e2", "e3", "e4"], ["e1", "e2"], ["e3", "e4"], ["e3"], ["e4"]]
    assert env.checkpoints[("u-2", "shard-1")] == f"{4:021d}"


def test_stream_partial_failure_checkpoints_before_the_lowest_failed_record(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    calls = []

    def fn(event: dict[str, Any]) -> Any:
        calls.append([r["eventID"] for r in event["Records"]])
        if len(calls) == 1:
            return result({"batchItemFailures": [{"itemIdentifier": event["Records"][2]["dynamodb"]["SequenceNumber"]}]})
        return result(None)

    env = FakeEnv(fn)
    FakeStream(env, [stream_record(i) for i in range(1, 5)])
    w = StreamWorker(env, stream_mapping(FunctionResponseTypes=["ReportBatchItemFailures"]))  # type: ignore[arg-type]
    drain(w)
    assert calls == [["e1", "e2", "e3", "e4"], ["e3", "e4"]]


def test_stream_filters_pass_over_records_without_invoking(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result(None))
    FakeStream(env, [stream_record(1, "INSERT"), stream_record(2, "REMOVE")])
    w = StreamWorker(env, stream_mapping(FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]}))  # type: ignore[arg-type]
    drain(w)
    assert [[r["eventID"] for r in e["Records"]] for e in env.events] == [["e2"]]
    env2 = FakeEnv(lambda e: result(None))
    FakeStream(env2, [stream_record(1, "INSERT")])
    w2 = StreamWorker(env2, stream_mapping(FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]}))  # type: ignore[arg-type]
    drain(w2)
    assert env2.events == [] and env2.checkpoints[("u-2", "shard-1")] == f"{1:021d}"


def test_stream_records_older_than_the_maximum_age_go_to_the_destination(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result(None))
    env.clock = 1_800_000_000.0 + 120
    FakeStream(env, [stream_record(1), stream_record(2, created=env.clock)])
    w = StreamWorker(env, stream_mapping(MaximumRecordAgeInSeconds=60, DestinationConfig={  # type: ignore[arg-type]
        "OnFailure": {"Destination": "arn:aws:sns:us-east-1:123456789012:t"}}))
    drain(w)
    published = [json.loads(p["Message"]) for s, op, p in env.calls if op == "publish"]
    assert [d["requestContext"]["condition"] for d in published] == ["RecordAgeExceeded"]
    assert published[0]["DDBStreamBatchInfo"]["batchSize"] == 1
    assert [[r["eventID"] for r in e["Records"]] for e in env.events] == [["e2"]]


def test_stream_keeps_retrying_while_retries_are_unlimited(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result({"errorMessage": "x"}, error="Exception"))
    FakeStream(env, [stream_record(1)])
    w = StreamWorker(env, stream_mapping())  # type: ignore[arg-type]
    for _ in range(10):
        w.poll()
    assert len(env.events) == 10
    assert ("u-2", "shard-1") not in env.checkpoints


def test_jsonable_turns_times_and_bytes_into_json() -> None:
    when = dt.datetime(2026, 11, 28, 10, 0, 0, tzinfo=dt.timezone.utc)
    assert jsonable({"t": when, "b": b"\xff", "l": [b"\x00"]}) == {"t": int(when.timestamp()), "b": "/w==", "l": ["AA=="]}


def test_unresolvable_function_invokes_nothing_and_deletes_nothing() -> None:
    env = FakeEnv(lambda e: result(None))

    def gone(arn: str) -> Any:
        raise ServiceError("ResourceNotFoundException", "Function not found: " + arn, 404)

    env.resolve = gone  # type: ignore[method-assign]
    env.handlers[("sqs", "receive_message")] = lambda **p: {"Messages": messages("x")}
    w = SqsWorker(env, sqs_mapping(ScalingConfig={"MaximumConcurrency": 2}))  # type: ignore[arg-type]
    assert w.poll() is False
    assert env.events == [] and env.deleted() == []  # the message waits out its visibility timeout


# -- the supervisor ----------------------------------------------------------------------------
def test_supervisor_follows_mapping_writes_and_a_reset() -> None:
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway
    from cloudlet.services.lambda_ import storage

    gw = Gateway(Config(ephemeral=True))
    env = FakeEnv(lambda e: result(None))
    env.gateway = gw  # type: ignore[attr-defined]
    pollers = esm.Pollers(gw, env_factory=lambda g: env)  # type: ignore[arg-type,return-value]

    def put(mapping: dict[str, Any]) -> None:
        with gw.db("lambda").tx(mapping["account"], mapping["region"]) as tx:
            storage.put_mapping(tx, mapping)

    def workers() -> dict[str, esm.Worker]:
        return pollers.workers()

    try:
        put(sqs_mapping(UUID="a"))
        put(sqs_mapping(UUID="b", State="Disabled"))
        pollers.ensure_running()
        wait(lambda: set(workers()) == {"a"})
        first = workers()["a"]
        put(sqs_mapping(UUID="a", LastProcessingResult="OK"))  # not a setting: the worker stays
        put(sqs_mapping(UUID="b"))  # enabled
        wait(lambda: set(workers()) == {"a", "b"})
        assert workers()["a"] is first
        put(sqs_mapping(UUID="a", BatchSize=5))  # a new setting: a new worker
        wait(lambda: workers().get("a") not in (None, first))
        assert first.stopping
        gw.reset()
        wait(lambda: workers() == {})
    finally:
        pollers.shutdown()
    assert pollers.workers() == {}


def wait(check: Callable[[], bool], timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_iterator_age_lands_in_aws_lambda_metrics() -> None:
    from cloudlet.core import clock, metrics
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway

    gw = Gateway(Config(ephemeral=True))
    target = SimpleNamespace(function_name="f", function_arn=FN_ARN, invoked_arn=FN_ARN, account="123456789012",
                             region="us-east-1")
    esm.Env(gw).metric(target, "IteratorAge", 1500.0, "Milliseconds")
    now = clock.now()
    points = metrics.query(gw, "123456789012", "us-east-1", "AWS/Lambda", "IteratorAge", {"FunctionName": "f"},
                           now - dt.timedelta(minutes=2), now + dt.timedelta(minutes=2), 60)
    assert [(p.maximum, p.unit) for p in points] == [(1500.0, "Milliseconds")]


def test_sqs_batching_window_gathers_several_receives_into_one_batch() -> None:
    env = FakeEnv(lambda e: result(None))
    pool = messages(*[f"m{i}" for i in range(15)])

    def receive(**p: Any) -> dict[str, Any]:
        got = pool[:p["MaxNumberOfMessages"]]
        del pool[:len(got)]
        return {"Messages": got} if got else {}

    env.handlers[("sqs", "receive_message")] = receive
    w = SqsWorker(env, sqs_mapping(BatchSize=20, MaximumBatchingWindowInSeconds=0.3))  # type: ignore[arg-type]
    assert [m["Body"] for m in w.gather()] == [f"m{i}" for i in range(15)]
    assert w.gather() == []  # an empty queue does not hold a window open


def test_stream_latest_starts_at_the_mapping_creation_not_at_the_first_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result(None))
    created = 1_800_000_000.0
    stream = FakeStream(env, [stream_record(1, created=created - 10)])
    mapping = stream_mapping(StartingPosition="LATEST",
                             LastModified=dt.datetime.fromtimestamp(created, dt.timezone.utc))
    # written after CreateEventSourceMapping answered, before the poller first looked
    stream.records.append(stream_record(2, created=created + 1))
    w = StreamWorker(env, mapping)  # type: ignore[arg-type]
    drain(w)
    assert [[r["eventID"] for r in e["Records"]] for e in env.events] == [["e2"]]
    env2 = FakeEnv(lambda e: result(None))
    FakeStream(env2, [stream_record(1, created=created - 10)])
    drain(StreamWorker(env2, mapping))  # type: ignore[arg-type]
    assert env2.events == [] and env2.checkpoints[("u-2", "shard-1")] == f"{1:021d}"


def test_stream_batch_given_up_without_a_destination_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result({"errorMessage": "x"}, error="Exception"))
    FakeStream(env, [stream_record(1)])
    drain(StreamWorker(env, stream_mapping(MaximumRetryAttempts=0)))  # type: ignore[arg-type]
    assert len(env.events) == 1 and env.counts["DroppedEventCount"] == 1
    assert env.checkpoints[("u-2", "shard-1")] == f"{1:021d}"


def test_event_count_metrics_only_when_the_mapping_asks_for_them() -> None:
    from cloudlet.core import clock, metrics
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway

    gw = Gateway(Config(ephemeral=True))
    env = esm.Env(gw)
    env.count(sqs_mapping(UUID="quiet"), "PolledEventCount", 3)
    env.count(sqs_mapping(UUID="loud", MetricsConfig={"Metrics": ["EventCount"]}), "PolledEventCount", 3)
    now = clock.now()

    def points(uuid: str) -> list[float]:
        found = metrics.query(gw, "123456789012", "us-east-1", "AWS/Lambda", "PolledEventCount",
                              {"EventSourceMappingUUID": uuid}, now - dt.timedelta(minutes=2),
                              now + dt.timedelta(minutes=2), 60)
        return [p.sum for p in found]

    assert points("quiet") == [] and points("loud") == [3.0]


def counting(event: dict[str, Any]) -> Any:
    """A tumbling window aggregator: counts the records of its window."""
    if event["isFinalInvokeForWindow"]:
        return result(None)
    return result({"state": {"n": event["state"].get("n", 0) + len(event["Records"])}})


def test_tumbling_windows_carry_state_and_end_with_a_final_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(counting)
    t0 = 1_800_000_000.0  # a multiple of 60: a window starts there
    FakeStream(env, [stream_record(1, created=t0 + 1), stream_record(2, created=t0 + 59),
                     stream_record(3, created=t0 + 61)])
    env.clock = t0 + 62
    w = StreamWorker(env, stream_mapping(TumblingWindowInSeconds=60, BatchSize=1))  # type: ignore[arg-type]
    drain(w)
    seen = [(len(e["Records"]), e["state"], e["window"]["start"], e["isFinalInvokeForWindow"]) for e in env.events]
    assert seen == [
        (1, {}, "2027-01-15T08:00:00Z", False),
        (1, {"n": 1}, "2027-01-15T08:00:00Z", False),
        (0, {"n": 2}, "2027-01-15T08:00:00Z", True),
        (1, {}, "2027-01-15T08:01:00Z", False),
    ]
    assert env.events[0]["window"]["end"] == "2027-01-15T08:01:00Z"
    assert env.events[0]["shardId"] == "shard-1" and env.events[0]["eventSourceARN"] == STREAM_ARN
    assert env.windows[("u-2", "shard-1")] == {"start": t0 + 60, "state": {"n": 1}}  # kept for a restart
    env.clock = t0 + 120  # the second window's time is up: its final invocation follows
    drain(w)
    assert [(e["isFinalInvokeForWindow"], e["state"]) for e in env.events[4:]] == [(True, {"n": 1})]
    assert ("u-2", "shard-1") not in env.windows


def test_tumbling_window_answer_without_state_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    quick(monkeypatch)
    env = FakeEnv(lambda e: result({"ok": True}))
    FakeStream(env, [stream_record(1)])
    drain(StreamWorker(env, stream_mapping(TumblingWindowInSeconds=60, MaximumRetryAttempts=1)))  # type: ignore[arg-type]
    assert len(env.events) == 2 and env.counts["DroppedEventCount"] == 1
