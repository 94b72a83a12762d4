"""ListStreams, DescribeStream, GetShardIterator, GetRecords.

Each stream has one shard, open while the stream is enabled and closed (an
EndingSequenceNumber, then no NextShardIterator once read to its end) after it is
disabled or its table deleted; a closed stream stays readable for 24 hours.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import storage, streamlog
from cloudlet.services.dynamodb.streamlog import Stream
from cloudlet.services.dynamodb import iterators

Input = dict[str, Any]
Output = dict[str, Any]

MAX_STREAMS = 100
MAX_RECORDS = 1000


def _tx(ctx: Context) -> AbstractContextManager[Tx]:
    # Streams is DynamoDB's own API surface over DynamoDB's data (botocore just models it as
    # a separate service), so it reads the dynamodb database directly, in the caller's scope.
    if ctx.gateway is None:
        raise RuntimeError("this context has no gateway")
    return ctx.gateway.db("dynamodb").tx(ctx.account, ctx.region)


def _too_large(value: int, member: str, most: int) -> ServiceError:
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must have value less than or equal to {most}",
        400,
    )


def list_streams(ctx: Context, req: Input) -> Output:
    limit = req.get("Limit") or MAX_STREAMS
    if limit > MAX_STREAMS:
        raise _too_large(limit, "limit", MAX_STREAMS)
    name = req.get("TableName")
    prefix = f"arn:{ctx.partition}:dynamodb:{ctx.region}:{ctx.account}:table/"
    if name:
        prefix += f"{name}/stream/"
    now = clock.time_s()
    with _tx(ctx) as t:
        streams = streamlog.listed(t, prefix, req.get("ExclusiveStartStreamArn"), limit + 1, now)
        if name and not streams and storage.find_table(t, name) is None:
            raise storage.not_found(name)
    out: Output = {"Streams": [
        {"StreamArn": s["arn"], "TableName": s["table"], "StreamLabel": s["label"]} for s in streams[:limit]
    ]}
    if len(streams) > limit:
        out["LastEvaluatedStreamArn"] = streams[limit - 1]["arn"]
    return out


def describe_stream(ctx: Context, req: Input) -> Output:
    limit = req.get("Limit") or MAX_STREAMS
    if limit > MAX_STREAMS:
        raise _too_large(limit, "limit", MAX_STREAMS)
    arn = req["StreamArn"]
    now = clock.time_s()
    with _tx(ctx) as t:
        stream = streamlog.require(t, arn, now)
        status = streamlog.status(t, stream)
        shard = _shard(t, stream, status)
    shard_filter = req.get("ShardFilter")
    shards = [shard]
    if req.get("ExclusiveStartShardId") == shard["ShardId"]:
        shards = []
    if shard_filter and shard_filter.get("Type") == "CHILD_SHARDS":
        shards = []  # a stream's one shard never splits, so no shard has children
    desc: Output = {
        "StreamArn": arn,
        "StreamLabel": stream["label"],
        "StreamStatus": status,
        "StreamViewType": stream["view"],
        "CreationRequestDateTime": datetime.fromtimestamp(stream["start"] / 1_000_000, timezone.utc),
        "TableName": stream["table"],
        "KeySchema": stream["keys"],
        "Shards": shards,
    }
    return {"StreamDescription": desc}


def _shard(t: Tx, stream: Stream, status: str) -> Output:
    rng: Output = {"StartingSequenceNumber": streamlog.seq_text(stream["start"])}
    if status == streamlog.DISABLED:
        last = _last_seq(t, stream)
        rng["EndingSequenceNumber"] = streamlog.seq_text(last if last is not None else stream["start"])
    return {"ShardId": streamlog.shard_id(stream), "SequenceNumberRange": rng}


def _last_seq(t: Tx, stream: Stream) -> int | None:
    """The stream's newest record (a closed stream is followed only by later streams' records)."""
    after: bytes | None = None
    while True:
        recs = t.scan("s", stream["tid"], after=after, reverse=True, limit=streamlog.BATCH)
        for rec in recs:
            label = rec.value["label"]
            if label == stream["label"]:
                return rec.value["seq"]
            if label is not None and label < stream["label"]:
                return None
        if len(recs) < streamlog.BATCH:
            return None
        after = recs[-1].key  # type: ignore[assignment]


def get_shard_iterator(ctx: Context, req: Input) -> Output:
    arn, shard, kind = req["StreamArn"], req["ShardId"], req["ShardIteratorType"]
    seq_text = req.get("SequenceNumber")
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and seq_text is None:
        raise ServiceError("ValidationException", f"Must provide SequenceNumber for ShardIteratorType {kind}", 400)
    now = clock.time_s()
    with _tx(ctx) as t:
        stream = streamlog.require(t, arn, now)
        if shard != streamlog.shard_id(stream):
            raise ServiceError("ResourceNotFoundException",
                               f"Requested resource not found: Shard: {shard} in Stream: {arn} not found", 400)
        after: int | None
        if kind == "TRIM_HORIZON":
            after = None
        elif kind == "LATEST":
            after = streamlog.latest(t, stream)
        else:
            seq = streamlog.parse_seq(seq_text or "")
            after = seq if kind == "AFTER_SEQUENCE_NUMBER" else max(seq - 1, 0)
            streamlog.check_position(stream, after, now)
    return {"ShardIterator": iterators.encode(iterators.Iterator(arn, shard, after, now))}


def get_records(ctx: Context, req: Input) -> Output:
    limit = req.get("Limit") or MAX_RECORDS
    if limit > MAX_RECORDS:
        # the model documents this case under LimitExceededException
        raise ServiceError("LimitExceededException",
                           f"Limit must be less than or equal to {MAX_RECORDS}, but was {limit}", 400)
    it = iterators.decode(req["ShardIterator"])
    now = clock.time_s()
    iterators.check_fresh(it, now)
    with _tx(ctx) as t:
        stream = streamlog.require(t, it.arn, now)
        if it.shard != streamlog.shard_id(stream):
            raise ServiceError("ResourceNotFoundException", "Invalid ShardId in ShardIterator", 400)
        found, closed = streamlog.read(t, stream, it.after, limit, now)
    out: Output = {"Records": [streamlog.to_wire(c, stream, ctx.region) for c in found]}
    if not closed:
        after = found[-1]["seq"] if found else it.after
        out["NextShardIterator"] = iterators.encode(iterators.Iterator(it.arn, it.shard, after, now))
    return out
