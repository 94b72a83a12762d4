"""Streams over the change log: which streams a table has had, reading a stream's records
in order, the stream-record JSON, and trimming records older than 24 hours.

The change records themselves are written by ``changes.record`` in each write's
transaction (kind ``s``, key ``table id + 8-byte sequence``). A stream is one label of a
table's stream setting: enabling a stream after disabling it starts a new stream (a new
label and ARN) while the old one stays readable for 24 hours, so each record keeps the
label it was written under and a stream reads only its own. Labels are the enabling
time, so one table's streams follow each other in sequence order without overlapping.

Stream descriptors (kind ``ss``, key = stream ARN) are kept from the table's settings by
``on_table_change``; a descriptor remembers what the table no longer says once the
stream is disabled or the table deleted (view type, key schema, when it was disabled).

A sequence number is the record's microsecond on the cloudlet clock (``changes``), so a
record's age is its sequence number: visibility and trimming need no extra index. A
record older than 24 hours is invisible at once (reading it raises
``TrimmedDataAccessException``, as AWS does for a trimmed position); an hourly job per
stream removes them from the store, and the descriptor 24 hours after the stream ended.

``read_since`` is the in-process entry point for a Lambda event source mapping.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import changes, storage, values

if TYPE_CHECKING:
    from cloudlet.core.scheduler import Job, Scheduler
    from cloudlet.server.gateway import Gateway

KIND = "ss"
RETENTION = 86_400.0  # stream records, and a disabled stream, are kept 24 hours
TRIM_JOB = "dynamodb.stream_trim"
TRIM_PERIOD = 3_600.0
BATCH = 1_000
SERVICE_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
ENABLED, DISABLED = "ENABLED", "DISABLED"

Stream = dict[str, Any]


def trimmed() -> ServiceError:
    return ServiceError("TrimmedDataAccessException", "The data you are trying to access has been trimmed.", 400)


def stream_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found", 400)


# sequence numbers and shards -------------------------------------------------------------
def seq_text(seq: int) -> str:
    """A sequence number as the API shows it: a decimal string of at least 21 digits."""
    return f"{seq:021d}"


def parse_seq(text: str) -> int:
    if not text.isdigit() or len(text) > 40:
        raise ServiceError("ValidationException", f"Invalid SequenceNumber: {text}", 400)
    return int(text)


def horizon(now: float) -> int:
    """The oldest sequence number still in the stream at `now`."""
    return int((now - RETENTION) * 1_000_000)


def _label_us(label: str) -> int:
    when = datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return int(round(when.timestamp() * 1000)) * 1000


def shard_id(stream: Stream) -> str:
    """One shard per stream, named as AWS names shards: creation milliseconds and 8 hex digits."""
    suffix = hashlib.sha256(stream["arn"].encode()).hexdigest()[:8]
    return f"shardId-{stream['start'] // 1000:020d}-{suffix}"


# descriptors -----------------------------------------------------------------------------
def on_table_change(ctx: Context, t: Tx, table: storage.Table) -> None:
    """Keep the table's stream descriptor in step with its settings (inside the change's tx):
    a newly enabled stream gets one (and its trim job), a disabled or deleted one is dated."""
    arn = table.get("stream_arn")
    if not arn:
        return
    rec = t.get(KIND, arn)
    live = changes.stream_enabled(table) and table.get("status") != "DELETING"
    if live and rec is None:
        stream: Stream = {
            "arn": arn,
            "label": table["stream_label"],
            "table": table["name"],
            "tid": table["id"],
            "view": table["stream"].get("StreamViewType"),
            "keys": table["KeySchema"],
            "start": _label_us(table["stream_label"]),
            "disabled": None,
            "trimmed": 0,  # the newest sequence number the trim job removed
        }
        t.put(KIND, arn, stream)
        _scheduler(ctx).every(_trim_key(arn), TRIM_PERIOD, TRIM_JOB, first=clock.time_s() + TRIM_PERIOD,
                              catch_up=True, payload={"account": t.account, "region": t.region, "arn": arn})
    elif not live and rec is not None and rec.value["disabled"] is None:
        t.put(KIND, arn, {**rec.value, "disabled": clock.time_s()})


def find(t: Tx, arn: str, now: float) -> Stream | None:
    """A stream that is still readable: enabled, or ended less than 24 hours ago."""
    rec = t.get(KIND, arn)
    return rec.value if rec is not None and _readable(rec.value, now) else None


def _readable(stream: Stream, now: float) -> bool:
    return stream["disabled"] is None or stream["disabled"] > now - RETENTION


def require(t: Tx, arn: str, now: float) -> Stream:
    stream = find(t, arn, now)
    if stream is None:
        raise stream_not_found(arn)
    return stream


def status(t: Tx, stream: Stream) -> str:
    """DISABLED once the stream was turned off or its table deleted (the table's own record
    says so even before the descriptor is dated)."""
    if stream["disabled"] is not None:
        return DISABLED
    table = storage.find_table(t, stream["table"])
    if table is None or table["id"] != stream["tid"] or table.get("stream_arn") != stream["arn"]:
        return DISABLED
    return ENABLED if changes.stream_enabled(table) else DISABLED


def listed(t: Tx, prefix: str, after: str | None, limit: int, now: float) -> list[Stream]:
    """Readable streams whose ARN starts with `prefix`, in ARN order, after `after`."""
    out: list[Stream] = []
    while len(out) < limit:
        recs = t.scan(KIND, prefix, after=after, limit=BATCH)
        for rec in recs:
            if _readable(rec.value, now):
                out.append(rec.value)
                if len(out) == limit:
                    break
        if len(recs) < BATCH:
            break
        after = recs[-1].key  # type: ignore[assignment]
    return out


# positions and reading -------------------------------------------------------------------
def latest(t: Tx, stream: Stream) -> int:
    """The position just after the newest record now in the table's log (LATEST)."""
    recs = t.scan("s", stream["tid"], reverse=True, limit=1)
    newest = recs[0].value["seq"] if recs else 0
    return max(newest, stream["start"] - 1)


def check_position(stream: Stream, after: int, now: float) -> None:
    """A position inside the trimmed part of the stream is an error, as in AWS."""
    if after + 1 < horizon(now) or after < stream["trimmed"]:
        raise trimmed()


def read(t: Tx, stream: Stream, after: int | None, limit: int, now: float) -> tuple[list[dict[str, Any]], bool]:
    """The stream's change records after sequence number `after` (None: from the oldest
    untrimmed one), at most `limit`, and whether the shard is closed and fully read.

    Raises ``TrimmedDataAccessException`` when records after `after` were trimmed.
    """
    oldest = horizon(now)
    if after is None:
        after = max(oldest - 1, stream["trimmed"], stream["start"] - 1)
    elif after < stream["trimmed"]:
        raise trimmed()
    after = max(after, stream["start"] - 1)
    tid, label = stream["tid"], stream["label"]
    out: list[dict[str, Any]] = []
    cursor = tid + after.to_bytes(8, "big")
    ended = False  # the stream's own records are all read (a later stream's follow)
    while len(out) < limit and not ended:
        recs = t.scan("s", tid, after=cursor, limit=BATCH)
        for rec in recs:
            value = rec.value
            if value["label"] is not None and value["label"] < label:
                continue  # an earlier stream's record, written the same millisecond
            if value["label"] != label:
                ended = True
                break
            if value["seq"] < oldest:
                raise trimmed()
            out.append(value)
            if len(out) == limit:
                break
        if len(recs) < BATCH:
            ended = ended or len(out) < limit
            break
        cursor = recs[-1].key  # type: ignore[assignment]
    closed = ended and status(t, stream) == DISABLED
    return out, closed


def to_wire(change: dict[str, Any], stream: Stream, region: str) -> dict[str, Any]:
    """One GetRecords record, as DynamoDB Streams emits it (images per the stream's view type)."""
    view = stream["view"]
    body: dict[str, Any] = {
        # AWS rounds the creation time down to the second
        "ApproximateCreationDateTime": datetime.fromtimestamp(int(change["time"]), timezone.utc),
        "Keys": change["keys"],
    }
    if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and change.get("new") is not None:
        body["NewImage"] = change["new"]
    if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and change.get("old") is not None:
        body["OldImage"] = change["old"]
    body["SequenceNumber"] = seq_text(change["seq"])
    body["SizeBytes"] = sum(values.item_size(body[k]) for k in ("Keys", "NewImage", "OldImage") if k in body)
    body["StreamViewType"] = view
    record: dict[str, Any] = {
        "eventID": hashlib.md5(stream["tid"] + change["seq"].to_bytes(8, "big")).hexdigest(),
        "eventName": change["event"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
    }
    if change.get("service"):
        record["userIdentity"] = dict(SERVICE_IDENTITY)
    return record


def read_since(gateway: "Gateway", account: str, region: str, stream_arn: str, after_seq: int | None,
               limit: int) -> list[dict[str, Any]]:
    """Records of a stream after sequence number `after_seq` (None: from the oldest kept),
    shaped as GetRecords returns them; for a Lambda event source mapping, which continues
    from ``int(records[-1]["dynamodb"]["SequenceNumber"])``.

    Raises ``ResourceNotFoundException`` once the stream is gone and
    ``TrimmedDataAccessException`` when records after `after_seq` were trimmed.
    """
    now = clock.time_s()
    with gateway.db("dynamodb").tx(account, region) as t:
        stream = require(t, stream_arn, now)
        changes_, _closed = read(t, stream, after_seq, limit, now)
    return [to_wire(c, stream, region) for c in changes_]


# trimming --------------------------------------------------------------------------------
def register(scheduler: "Scheduler") -> None:
    scheduler.register(TRIM_JOB, trim)


def _trim_key(arn: str) -> str:
    return f"{TRIM_JOB}/{arn}"


def _scheduler(ctx: Context) -> "Scheduler":
    if ctx.gateway is None:
        raise RuntimeError("streams need the gateway's scheduler")
    return ctx.gateway.scheduler


def trim(job: "Job") -> None:
    """Remove the stream's records older than 24 hours, a batch per transaction; once the
    stream has been over for 24 hours (and so has no records left), its descriptor too."""
    p = job.payload
    arn = p["arn"]
    ctx = job.context(p["account"], p["region"])
    oldest = horizon(job.now_s)
    cursor: bytes | None = None
    done = False
    while not done:
        with ctx.tx() as t:
            rec = t.get(KIND, arn)
            if rec is None:
                break
            stream = rec.value
            tid = stream["tid"]
            if cursor is None:
                cursor = tid + max(stream["trimmed"], stream["start"] - 1).to_bytes(8, "big")
            recs = t.scan("s", tid, after=cursor, limit=BATCH)
            done = len(recs) < BATCH
            for r in recs:
                cursor = r.key  # type: ignore[assignment]
                value = r.value
                if value["label"] is not None and value["label"] < stream["label"]:
                    continue  # an earlier stream's: its own job trims it
                if value["label"] != stream["label"] or value["seq"] >= oldest:
                    done = True
                    break
                t.delete("s", r.key)
                stream["trimmed"] = value["seq"]
            t.put(KIND, arn, stream)
    ended = True
    with ctx.tx() as t:
        rec = t.get(KIND, arn)
        if rec is not None:
            stream = rec.value
            if stream["disabled"] is None and status(t, stream) == DISABLED:  # its table was deleted
                stream["disabled"] = job.now_s
                t.put(KIND, arn, stream)
            ended = not _readable(stream, job.now_s)
            if ended:
                t.delete(KIND, arn)
    if ended:
        job.gateway.scheduler.cancel(job.key)
