"""The SQS poller: receive, invoke with a batch, delete what the function handled.

As AWS does it (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): messages are
received with every attribute, gathered up to BatchSize within the batching window, and
deleted only once the function returned; a function error leaves the whole batch in the
queue, where the visibility timeout brings it back and the queue's redrive policy moves it
to its dead-letter queue after maxReceiveCount (SQS does that on receive). With
ReportBatchItemFailures only the messages the function names stay. Messages that match no
filter are deleted without an invocation. Up to ScalingConfig.MaximumConcurrency batches
run at once; a FIFO queue hands out no message of a group with one in flight, so batches
keep each group's order.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cloudlet.core.arns import parse_arn
from cloudlet.core.errors import ServiceError
from cloudlet.services.lambda_ import esm, lineage
from cloudlet.services.lambda_.esm_filters import compile_filters

log = logging.getLogger("cloudlet.lambda.esm")

DEFAULT_CONCURRENCY = 5  # batches in flight per mapping when ScalingConfig says nothing
MAX_RECEIVE = 10  # ReceiveMessage's limit
MAX_MESSAGE = 256 * 1024
SOURCE = "aws:sqs"


def queue_url(gateway: Any, arn_text: str) -> str:
    """SQS accepts any host in a queue URL; this is the one cloudlet hands out."""
    from cloudlet.server.config import public_url

    arn = parse_arn(arn_text)
    if arn is None:
        raise ValueError(f"not a queue ARN: {arn_text}")
    base = public_url(gateway.config) if gateway is not None else "http://localhost:4566"
    return f"{base}/{arn.account}/{arn.resource}"


def to_record(msg: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    """A received message as the SQS event's record."""
    return {
        "messageId": msg["MessageId"],
        "receiptHandle": msg["ReceiptHandle"],
        "body": msg.get("Body", ""),
        "attributes": dict(msg.get("Attributes") or {}),
        "messageAttributes": {name: _attribute(v) for name, v in (msg.get("MessageAttributes") or {}).items()},
        "md5OfBody": msg.get("MD5OfBody", ""),
        "eventSource": SOURCE,
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def _attribute(v: dict[str, Any]) -> dict[str, Any]:
    """A message attribute in the event's camel case; binary values in base64."""
    out: dict[str, Any] = {}
    if v.get("StringValue") is not None:
        out["stringValue"] = v["StringValue"]
    if v.get("BinaryValue") is not None:
        out["binaryValue"] = _b64(v["BinaryValue"])
    out["stringListValues"] = list(v.get("StringListValues") or [])
    out["binaryListValues"] = [_b64(b) for b in v.get("BinaryListValues") or []]
    out["dataType"] = v.get("DataType", "String")
    return out


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes) else value


class SqsWorker(esm.Worker):
    def __init__(self, env: esm.Env, mapping: dict[str, Any]) -> None:
        super().__init__(env, mapping)
        self.arn = mapping["EventSourceArn"]
        parsed = parse_arn(self.arn)
        self.region = parsed.region if parsed is not None else mapping["region"]
        self.url = queue_url(getattr(env, "gateway", None), self.arn)
        self.filters = compile_filters(mapping.get("FilterCriteria"), "sqs")
        self.batch_size = int(mapping.get("BatchSize") or 10)
        self.window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        self.concurrency = int((mapping.get("ScalingConfig") or {}).get("MaximumConcurrency") or DEFAULT_CONCURRENCY)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._pool: ThreadPoolExecutor | None = None
        self._missing_logged = False

    # one round ----------------------------------------------------------------------------
    def poll(self) -> bool:
        if not self._slots.acquire(timeout=esm.IDLE_S):
            return True  # every slot busy: we waited already
        handed_off = False
        try:
            messages = self.gather()
            if not messages:
                return False
            # resolved per batch, not per poll: an idle queue costs one receive
            target = self._target()
            if target is None:
                return False  # the messages come back after their visibility timeout
            if self.concurrency == 1:
                self.process(target, messages)
                return True
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="cloudlet-esm-sqs")
            self._pool.submit(self._process_and_release, target, messages)
            handed_off = True
            return True
        finally:
            if not handed_off:
                self._slots.release()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _process_and_release(self, target: Any, messages: list[dict[str, Any]]) -> None:
        try:
            self.process(target, messages)
        except Exception:
            log.exception("event source mapping %s: batch failed", self.mapping["UUID"])
        finally:
            self._slots.release()

    def _target(self) -> Any:
        try:
            target = self.env.resolve(self.mapping["FunctionArn"])
        except ServiceError as err:
            if not self._missing_logged:  # the function is gone: the messages stay in the queue
                log.warning("event source mapping %s: %s", self.mapping["UUID"], err.message)
                self._missing_logged = True
            return None
        self._missing_logged = False
        return target

    def gather(self) -> list[dict[str, Any]]:
        """Receive up to BatchSize messages: one receive without a batching window, else
        until the batch is full, the window ends or the payload nears its 6 MB limit."""
        sqs = self.env.client("sqs", self.mapping, region=self.region)
        got: list[dict[str, Any]] = []
        size = 0
        deadline = esm.monotonic() + self.window
        while len(got) < self.batch_size and not self.stopping:
            want = min(MAX_RECEIVE, self.batch_size - len(got))
            if size + want * MAX_MESSAGE > esm.MAX_PAYLOAD and got:
                break
            try:
                out = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=want, AttributeNames=["All"],
                                          MessageAttributeNames=["All"], WaitTimeSeconds=0)
            except ServiceError as err:  # the queue is gone or refuses us: try again later
                if not self.refused(err, "ReceiveMessage", "SQS"):
                    log.debug("event source mapping %s: receive failed: %s", self.mapping["UUID"], err.message)
                break
            self.permitted()
            new = out.get("Messages") or []
            self.env.count(self.mapping, "PolledEventCount", len(new))
            got.extend(new)
            size += sum(len(m.get("Body", "")) for m in new)
            left = deadline - esm.monotonic()
            if self.window <= 0 or left <= 0 or (not got):
                break
            if not new:
                esm.backoff(self._stop, min(esm.IDLE_S, left))
        return got

    def process(self, target: Any, messages: list[dict[str, Any]]) -> None:
        """Invoke with one batch and settle its messages."""
        records = [to_record(m, self.arn, self.region) for m in messages]
        if self.filters:
            kept = [r for r in records if self.filters.matches(r)]
            dropped = [r for r in records if not self.filters.matches(r)]
            self.env.count(self.mapping, "FilteredOutEventCount", len(dropped))
            self._delete(dropped)
            records = kept
        if not records:
            return
        trace = lineage.highest([r["attributes"].get("AWSTraceHeader") for r in records], target.function_arn)
        if trace is not None and lineage.loops(self.env.gateway, target, trace):
            self._drop_loop(target, messages, records)
            return
        ids = [r["messageId"] for r in records]
        outcome = esm.invoke_batch(self.env, self.mapping, target, {"Records": records}, ids, SOURCE, trace=trace)
        if outcome.throttled:
            # the messages come back after their visibility timeout; slow down meanwhile
            esm.backoff(self._stop, 1.0)
            return
        self.env.count(self.mapping, "InvokedEventCount", len(records))
        if not outcome.ok:
            self.env.count(self.mapping, "FailedInvokeEventCount", len(records))
            return  # all of them stay: retried after the visibility timeout, then the DLQ
        failed = set(outcome.failed_ids)
        self.env.count(self.mapping, "FailedInvokeEventCount", len(failed))
        self._delete([r for r in records if r["messageId"] not in failed])

    def _drop_loop(self, target: Any, messages: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
        """A batch of a recursive loop is not run: its messages go to the queue's
        dead-letter queue when its redrive policy names one, else they are dropped."""
        from cloudlet.services.lambda_ import metrics

        sqs = self.env.client("sqs", self.mapping, region=self.region)
        try:
            attrs = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["RedrivePolicy"]).get("Attributes")
            policy = (attrs or {}).get("RedrivePolicy")
            dlq = json.loads(policy)["deadLetterTargetArn"] if policy else None
        except (ServiceError, ValueError, KeyError, TypeError) as err:
            log.warning("event source mapping %s: no redrive policy read: %s", self.mapping["UUID"], err)
            return  # the messages come back after their visibility timeout, and are judged again
        if dlq is not None:
            by_id = {m["MessageId"]: m for m in messages}
            dlq_client = self.env.client("sqs", self.mapping, region=self.region, quiet=False)
            moved = []
            for r in records:
                msg = by_id[r["messageId"]]
                entry: dict[str, Any] = {"QueueUrl": queue_url(self.env.gateway, dlq), "MessageBody": msg.get("Body", "")}
                if msg.get("MessageAttributes"):
                    entry["MessageAttributes"] = msg["MessageAttributes"]
                try:
                    dlq_client.send_message(**entry)
                except ServiceError as err:  # kept in the source queue: judged again after its visibility timeout
                    log.warning("event source mapping %s: dead-letter queue refused a message: %s",
                                self.mapping["UUID"], err.message)
                    continue
                moved.append(r)
            records = moved
        metrics.recursion_dropped(self.env.gateway, target, len(records))
        log.warning("event source mapping %s: a recursive loop through %s stopped (%d messages dropped)",
                    self.mapping["UUID"], target.function_name, len(records))
        self._delete(records)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        sqs = self.env.client("sqs", self.mapping, region=self.region)
        for i in range(0, len(records), MAX_RECEIVE):
            chunk = records[i:i + MAX_RECEIVE]
            entries = [{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(chunk)]
            try:
                out = sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
            except ServiceError as err:  # the messages come back after their visibility timeout
                if not self.refused(err, "DeleteMessage", "SQS"):
                    log.warning("event source mapping %s: delete failed: %s", self.mapping["UUID"], err.message)
                continue
            self.env.count(self.mapping, "DeletedEventCount", len(out.get("Successful") or []))
            for f in out.get("Failed") or []:
                log.warning("event source mapping %s: could not delete a message: %s", self.mapping["UUID"],
                            f.get("Message") or f.get("Code"))
