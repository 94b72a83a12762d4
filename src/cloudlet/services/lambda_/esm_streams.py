"""The DynamoDB Streams poller: read each shard in order, invoke with batches, checkpoint.

As AWS does it (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html): records of a
shard are handed to the function in sequence order, one batch at a time; the position
after the last record handled is checkpointed (here: in Lambda's store, so a restart
resumes there). A failed batch is retried, blocking its shard, until MaximumRetryAttempts
or MaximumRecordAgeInSeconds (-1: until the record leaves the stream); then its metadata
goes to the OnFailure destination (SQS queue or SNS topic) and the shard moves on.
BisectBatchOnFunctionError splits a failed batch in two (not counted as a retry);
ReportBatchItemFailures checkpoints before the lowest failed sequence number and retries
from there. Throttles are retried without counting. Records that match no filter are
passed over. Each batch records ``IteratorAge`` (the age of its last record).

TumblingWindowInSeconds: records fall in windows aligned on multiples of the window's
length (by their creation time); each invocation carries the window and the state the
function returned last (an answer without ``state`` is a failure), and once the window is
over, a final invocation with ``isFinalInvokeForWindow`` and no records; the open window's
state is kept with the checkpoint, so a restart goes on with it.

Kinesis has the same shape (shards, sequence numbers, KinesisBatchInfo); cloudlet has no
Kinesis yet, and ``esm.worker_for`` answers None for it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from cloudlet.core.arns import parse_arn
from cloudlet.core.errors import ServiceError
from cloudlet.core.ids import request_id
from cloudlet.services.lambda_ import esm
from cloudlet.services.lambda_.esm_filters import compile_filters
from cloudlet.services.lambda_.esm_sqs import queue_url

log = logging.getLogger("cloudlet.lambda.esm")

SOURCE = "aws:dynamodb"
MAX_GET = 1000  # GetRecords' limit
DESCRIBE_EVERY_S = 5.0  # real time between looks for new shards
RETRY_PAUSE_S = 0.2  # real time between retries of a failed batch
THROTTLE_PAUSE_S = 0.5
MAX_WINDOW_STATE = 1024 * 1024  # a tumbling window's state per shard; larger ends the window early


def jsonable(value: Any) -> Any:
    """A GetRecords record as Lambda's event carries it: times as epoch seconds, binary
    attribute values in base64."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        ts = value.timestamp()
        return int(ts) if ts == int(ts) else ts
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value


def to_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    out = jsonable(raw)
    out["eventSourceARN"] = stream_arn
    return out


def _seq(rec: dict[str, Any]) -> str:
    return rec["dynamodb"]["SequenceNumber"]


def _created(rec: dict[str, Any]) -> float:
    when = rec["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(when, dt.datetime):
        return when.timestamp()
    return float(when or 0)


def _epoch(when: Any) -> float | None:
    if isinstance(when, dt.datetime):
        return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return float(when)
    return None


def _iso(seconds: float, millis: bool = False) -> str:
    t = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    if millis:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Shard:
    """What the poller knows about one shard: its iterator and the records read ahead of
    the checkpoint, and the retry state of the batch at their head."""

    id: str
    iterator: str | None = None
    buffer: list[dict[str, Any]] = field(default_factory=list)  # raw records after the checkpoint
    closed: bool = False  # read to its end (no NextShardIterator)
    attempts: int = 0  # failed invocations of the head batch
    invocations: int = 0  # all invocations of the head batch (approximateInvokeCount)
    sizes: deque[int] = field(default_factory=deque)  # sub-batch sizes left after a bisect
    first_seen: float | None = None  # monotonic time the oldest buffered record was read (batching window)
    skip_before: float | None = None  # StartingPosition LATEST: records created before this are passed over
    skipped: bool = False  # the last read passed over records (more may follow at once)
    window_start: float | None = None  # the open tumbling window (epoch seconds), None: none open
    state: Any = None  # the tumbling window's state, as the function last returned it
    terminated_early: bool = False  # the state outgrew its limit: end this window's state now


class StreamWorker(esm.Worker):
    def __init__(self, env: esm.Env, mapping: dict[str, Any]) -> None:
        super().__init__(env, mapping)
        self.arn = mapping["EventSourceArn"]
        parsed = parse_arn(self.arn)
        self.region = parsed.region if parsed is not None else mapping["region"]
        self.filters = compile_filters(mapping.get("FilterCriteria"), "dynamodb")
        self.batch_size = int(mapping.get("BatchSize") or 100)
        self.window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        retries = mapping.get("MaximumRetryAttempts")
        self.max_retries = -1 if retries is None else int(retries)
        age = mapping.get("MaximumRecordAgeInSeconds")
        self.max_age = -1 if age is None else int(age)
        self.bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        self.starting = mapping.get("StartingPosition") or "TRIM_HORIZON"
        # LATEST means "what is written from the mapping's creation on", however soon after
        # CreateEventSourceMapping the poller first asks: read from the oldest record and pass
        # over those created (to the second, as the stream stamps them) before the mapping
        self.not_before = _epoch(mapping.get("LastModified")) if self.starting == "LATEST" else None
        self.tumbling = int(mapping.get("TumblingWindowInSeconds") or 0)
        self.shards: dict[str, Shard] = {}
        self._described: float | None = None
        self._missing_logged = False

    # one round ----------------------------------------------------------------------------
    def poll(self) -> bool:
        now = esm.monotonic()
        if self._described is None or now - self._described >= DESCRIBE_EVERY_S:
            self._describe()
            self._described = now
        busy = False
        for shard in list(self.shards.values()):
            if self.stopping:
                break
            busy = self._poll_shard(shard) or busy
        return busy

    def _target(self) -> Any:
        try:
            target = self.env.resolve(self.mapping["FunctionArn"])
        except ServiceError as err:
            if not self._missing_logged:
                log.warning("event source mapping %s: %s", self.mapping["UUID"], err.message)
                self._missing_logged = True
            return None
        self._missing_logged = False
        return target

    def _streams(self) -> Any:
        return self.env.client("dynamodbstreams", self.mapping, region=self.region)

    def _describe(self) -> None:
        try:
            desc = self._streams().describe_stream(StreamArn=self.arn)["StreamDescription"]
        except ServiceError as err:
            if not self.refused(err, "DescribeStream", "the stream"):
                log.debug("event source mapping %s: %s", self.mapping["UUID"], err.message)
            return
        for s in desc.get("Shards") or []:
            if s["ShardId"] not in self.shards:
                shard = self.shards[s["ShardId"]] = Shard(s["ShardId"])
                if self.tumbling:  # a window left open by the last run goes on
                    saved = self.env.window(self.mapping["UUID"], shard.id)
                    if saved is not None:
                        shard.window_start, shard.state = saved["start"], saved.get("state")

    # reading ------------------------------------------------------------------------------
    def _iterator(self, shard: Shard) -> str | None:
        streams = self._streams()
        params: dict[str, Any] = {"StreamArn": self.arn, "ShardId": shard.id}
        after = _seq(shard.buffer[-1]) if shard.buffer else self.env.checkpoint(self.mapping["UUID"], shard.id)
        try:
            if after is not None:
                try:
                    return streams.get_shard_iterator(**params, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                                      SequenceNumber=after)["ShardIterator"]
                except ServiceError as err:
                    if err.code != "TrimmedDataAccessException":
                        raise
                    # the records after the checkpoint left the stream: go on from the oldest kept
                    return streams.get_shard_iterator(**params, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            kind = "LATEST" if self.starting == "LATEST" and self.not_before is None else "TRIM_HORIZON"
            shard.skip_before = self.not_before
            return streams.get_shard_iterator(**params, ShardIteratorType=kind)["ShardIterator"]
        except ServiceError as err:
            if not self.refused(err, "GetShardIterator", "the stream"):
                log.debug("event source mapping %s: no iterator: %s", self.mapping["UUID"], err.message)
            return None

    def _read(self, shard: Shard, want: int) -> None:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
            if shard.iterator is None:
                return
        try:
            out = self._streams().get_records(ShardIterator=shard.iterator, Limit=min(MAX_GET, max(want, 1)))
        except ServiceError as err:
            shard.iterator = None  # expired or trimmed: the next round asks again from what we hold
            if not self.refused(err, "GetRecords", "the stream"):
                log.debug("event source mapping %s: GetRecords: %s", self.mapping["UUID"], err.message)
            return
        self.permitted()
        records = out.get("Records") or []
        self.env.count(self.mapping, "PolledEventCount", len(records))
        if shard.skip_before is not None and records:
            old = [r for r in records if _created(r) < int(shard.skip_before)]
            records = records[len(old):]
            if old:  # passed over for good: a restart does not read them again
                self.env.save_checkpoint(self.mapping["UUID"], shard.id, _seq(old[-1]))
                shard.skipped = True
            if records:
                shard.skip_before = None
        if records and not shard.buffer:
            shard.first_seen = esm.monotonic()
        shard.buffer.extend(records)
        nxt = out.get("NextShardIterator")
        shard.iterator = nxt
        if nxt is None:
            shard.closed = True

    def _poll_shard(self, shard: Shard) -> bool:
        size = shard.sizes[0] if shard.sizes else self.batch_size
        if len(shard.buffer) < size and not shard.closed:
            self._read(shard, size - len(shard.buffer))
        if self.tumbling and self._window_due(shard):
            return self._close_window(shard)
        if not shard.buffer:
            skipped, shard.skipped = shard.skipped, False
            return skipped
        if (self.window > 0 and len(shard.buffer) < size and not shard.closed and shard.first_seen is not None
                and esm.monotonic() - shard.first_seen < self.window):
            return False  # the batching window is still open
        target = self._target()  # per batch, not per poll: an idle shard costs one GetRecords
        if target is None:
            return False
        batch = shard.buffer[:size]
        if self.tumbling:  # a batch never spans two windows
            start = self._window_of(batch[0])
            batch = [r for r in batch if self._window_of(r) == start]
            if shard.window_start is None:
                shard.window_start, shard.state = start, {}
        expired = self._expired(batch)
        if expired:
            self._give_up(shard, target, batch[:expired], "RecordAgeExceeded", None)
            return True
        kept = [r for r in batch if self.filters.matches(to_record(r, self.arn))] if self.filters else batch
        if len(kept) < len(batch) and not shard.invocations:  # counted once, not on every retry
            self.env.count(self.mapping, "FilteredOutEventCount", len(batch) - len(kept))
        if not kept:
            self._commit(shard, batch)
            return True
        event: dict[str, Any] = {"Records": [to_record(r, self.arn) for r in kept]}
        if self.tumbling:
            event.update(self._window_members(shard, final=False))
        ids = [_seq(r) for r in kept]
        outcome = esm.invoke_batch(self.env, self.mapping, target, event, ids, SOURCE, stateful=bool(self.tumbling))
        if outcome.ok and self.tumbling:
            shard.state = outcome.state
            shard.terminated_early = len(json.dumps(outcome.state, default=str)) > MAX_WINDOW_STATE
        if outcome.throttled:
            esm.backoff(self._stop, THROTTLE_PAUSE_S)
            return True
        shard.invocations += 1
        self._age_metric(target, batch[-1])
        self.env.count(self.mapping, "InvokedEventCount", len(kept))
        if outcome.ok and not outcome.failed_ids:
            self._commit(shard, batch)  # first: a mapping that shows OK has its checkpoint saved
            self.env.update(self.mapping, LastProcessingResult=esm.OK)
            return True
        self.env.update(self.mapping, LastProcessingResult=esm.FAILED)
        self.env.count(self.mapping, "FailedInvokeEventCount", len(outcome.failed_ids) if outcome.ok else len(kept))
        if outcome.ok:  # a partial batch response: what comes before the lowest failure is done
            failed = set(outcome.failed_ids)
            first = next(i for i, r in enumerate(batch) if _seq(r) in failed)
            if first:
                self._commit(shard, batch[:first], keep_retries=True)
                batch = batch[first:]
        self._failed(shard, target, batch, outcome)
        return True

    # outcomes -----------------------------------------------------------------------------
    # tumbling windows ------------------------------------------------------------------------
    def _window_of(self, rec: dict[str, Any]) -> float:
        """The window a record falls in: windows are aligned on multiples of their length."""
        created = _created(rec)
        return created - created % self.tumbling

    def _window_due(self, shard: Shard) -> bool:
        """The open window ends: its time is up with nothing of it left to read, the next
        record belongs to a later window, or its state outgrew the limit."""
        if shard.window_start is None:
            return False
        if shard.terminated_early:
            return True
        if shard.buffer:
            return self._window_of(shard.buffer[0]) != shard.window_start
        return self.env.now() >= shard.window_start + self.tumbling

    def _window_members(self, shard: Shard, final: bool) -> dict[str, Any]:
        start = shard.window_start or 0.0
        return {
            "window": {"start": _iso(start), "end": _iso(start + self.tumbling)},
            "state": shard.state if shard.state is not None else {},
            "shardId": shard.id,
            "eventSourceARN": self.arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": final and shard.terminated_early,
        }

    def _close_window(self, shard: Shard) -> bool:
        """The window's final invocation, with its state and no records; retried until it
        succeeds (the shard waits meanwhile, as in AWS)."""
        target = self._target()
        if target is None:
            return False
        event = {"Records": [], **self._window_members(shard, final=True)}
        outcome = esm.invoke_batch(self.env, self.mapping, target, event, [], SOURCE, stateful=False)
        if outcome.throttled or not outcome.ok:
            self.env.update(self.mapping, LastProcessingResult=esm.OK if outcome.throttled else esm.FAILED)
            esm.backoff(self._stop, THROTTLE_PAUSE_S if outcome.throttled else RETRY_PAUSE_S)
            return True
        if shard.terminated_early:  # the same window goes on with a fresh state
            shard.terminated_early = False
            shard.state = {}
            self.env.save_window(self.mapping["UUID"], shard.id, {"start": shard.window_start, "state": {}})
        else:
            shard.window_start, shard.state = None, None
            self.env.save_window(self.mapping["UUID"], shard.id, None)
        self.env.update(self.mapping, LastProcessingResult=esm.OK)
        return True

    # outcomes -----------------------------------------------------------------------------
    def _commit(self, shard: Shard, done: list[dict[str, Any]], keep_retries: bool = False) -> None:
        """The records are handled: checkpoint past them and drop them from the buffer."""
        if self.tumbling and shard.window_start is not None:  # the state that goes with the position
            self.env.save_window(self.mapping["UUID"], shard.id, {"start": shard.window_start, "state": shard.state})
        self.env.save_checkpoint(self.mapping["UUID"], shard.id, _seq(done[-1]))
        del shard.buffer[:len(done)]
        shard.first_seen = esm.monotonic() if shard.buffer else None
        if not keep_retries:
            shard.attempts = 0
            shard.invocations = 0
            if shard.sizes:
                shard.sizes.popleft()

    def _failed(self, shard: Shard, target: Any, batch: list[dict[str, Any]], outcome: esm.Outcome) -> None:
        if self.bisect and len(batch) > 1:
            half = (len(batch) + 1) // 2
            if shard.sizes:
                shard.sizes.popleft()
            shard.sizes.extendleft([len(batch) - half, half])  # the first half comes first
            return
        shard.attempts += 1
        if self.max_retries >= 0 and shard.attempts > self.max_retries:
            self._give_up(shard, target, batch, "RetryAttemptsExhausted", outcome)
            return
        esm.backoff(self._stop, RETRY_PAUSE_S)

    def _expired(self, batch: list[dict[str, Any]]) -> int:
        """How many records at the head of the batch are older than MaximumRecordAgeInSeconds."""
        if self.max_age < 0:
            return 0
        now = self.env.now()
        n = 0
        for r in batch:
            if now - _created(r) <= self.max_age:
                break
            n += 1
        return n

    def _give_up(self, shard: Shard, target: Any, batch: list[dict[str, Any]], condition: str,
                 outcome: esm.Outcome | None) -> None:
        """Send the batch's metadata to the OnFailure destination (if any) and move on."""
        destination = ((self.mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        delivered = False
        if destination:
            delivered = self._send_failure(destination, shard, target, batch, condition, outcome)
        self.env.count(self.mapping, "OnFailureDestinationDeliveredEventCount" if delivered else "DroppedEventCount",
                       len(batch))
        self._commit(shard, batch)

    def _send_failure(self, destination: str, shard: Shard, target: Any, batch: list[dict[str, Any]],
                      condition: str, outcome: esm.Outcome | None) -> bool:
        """True when the destination took the record; a failure counts in DestinationDeliveryFailures."""
        body = json.dumps(self.invocation_record(shard, target, batch, condition, outcome))
        arn = parse_arn(destination)
        try:
            if arn is not None and arn.service == "sqs":
                client = self.env.client("sqs", self.mapping, region=arn.region, quiet=False)
                client.send_message(QueueUrl=queue_url(getattr(self.env, "gateway", None), destination),
                                    MessageBody=body)
                return True
            if arn is not None and arn.service == "sns":
                self.env.client("sns", self.mapping, region=arn.region, quiet=False).publish(TopicArn=destination, Message=body)
                return True
            log.warning("event source mapping %s: cloudlet cannot send failures to %s", self.mapping["UUID"],
                        destination)
        except ServiceError as err:
            log.warning("event source mapping %s: on-failure destination %s refused: %s",
                        self.mapping["UUID"], destination, err.message)
        try:
            self.env.metric(target, "DestinationDeliveryFailures", 1.0, "Count")
        except Exception:
            log.debug("DestinationDeliveryFailures not recorded", exc_info=True)
        return False

    def invocation_record(self, shard: Shard, target: Any, batch: list[dict[str, Any]], condition: str,
                          outcome: esm.Outcome | None) -> dict[str, Any]:
        """AWS's stream invocation record for a batch given up on."""
        result = outcome.result if outcome is not None else None
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": getattr(target, "version", "$LATEST")}
        if result is not None and getattr(result, "function_error", None):
            response["functionError"] = result.function_error
        return {
            "requestContext": {
                "requestId": getattr(result, "request_id", None) or request_id(),
                "functionArn": getattr(target, "invoked_arn", self.mapping["FunctionArn"]),
                "condition": condition,
                "approximateInvokeCount": shard.invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(self.env.now(), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": shard.id,
                "startSequenceNumber": _seq(batch[0]),
                "endSequenceNumber": _seq(batch[-1]),
                "approximateArrivalOfFirstRecord": _iso(_created(batch[0])),
                "approximateArrivalOfLastRecord": _iso(_created(batch[-1])),
                "batchSize": len(batch),
                "streamArn": self.arn,
            },
        }

    def _age_metric(self, target: Any, last: dict[str, Any]) -> None:
        age_ms = max(0.0, (self.env.now() - _created(last)) * 1000)
        try:
            self.env.metric(target, "IteratorAge", age_ms, "Milliseconds")
        except Exception:  # metrics are approximate; never a reason to stop a shard
            log.debug("IteratorAge not recorded", exc_info=True)
