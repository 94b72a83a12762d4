"""Exports to S3: the export record, and the job that writes the files.

An export (kind ``ex``, key its id ``<14-digit ms>-<8 hex>``, so a reverse scan is newest
first) starts ``IN_PROGRESS``; a scheduler job due at once reads the table as it was at
the export time from the point-in-time-recovery log (``history``: the base snapshot with
the logged changes up to that time applied, a real reconstruction rather than a copy of
the present), writes the data and manifest files into the bucket through the in-process
S3 client as ``dynamodb.amazonaws.com``, and marks the export ``COMPLETED`` with its item
count, billed size and manifest key, or ``FAILED`` with the S3 error's code
(``S3NoSuchBucket``, ``S3AccessDenied``, ...), as AWS reports a bucket problem: the
request is accepted and the export fails later.

Files, under ``<S3Prefix>/AWSDynamoDB/<ExportId>/``: ``_started`` (empty, written first: it
shows the bucket is writable), ``data/<random>.json.gz`` (gzip, one ``{"Item": {...}}`` per
line; ``.ion.gz`` with one ``$ion_1_0 {Item:{...}}`` per line for ION), and
``manifest-files.json`` (a JSON line per data file: itemCount, md5Checksum, etag,
dataFileS3Key), ``manifest-summary.json`` (the export's summary) with a ``.checksum``
beside each manifest (its MD5, hex).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import logging
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import ddbjson, history, storage, values

if TYPE_CHECKING:
    from cloudlet.core.scheduler import Job, Scheduler

KIND, TOKENS = "ex", "ext"
JOB = "dynamodb.export"
SERVICE = "dynamodb.amazonaws.com"
ITEMS_PER_FILE = 100_000

Export = dict[str, Any]

log = logging.getLogger("cloudlet.dynamodb.export")


def register(scheduler: "Scheduler") -> None:
    scheduler.register(JOB, _run)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _iso(seconds: float) -> str:
    return _utc(seconds).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(seconds * 1000) % 1000:03d}Z"


def new_id(now: float) -> str:
    return f"{int(now * 1000):014d}-{os.urandom(4).hex()}"


def describe(e: Export) -> dict[str, Any]:
    """ExportDescription: what is known so far (counts and manifest once completed)."""
    d: dict[str, Any] = {
        "ExportArn": e["arn"],
        "ExportStatus": e["status"],
        "StartTime": _utc(e["start"]),
        "TableArn": e["table_arn"],
        "TableId": e["table_id"],
        "ExportTime": _utc(e["time"]),
        "ClientToken": e["token"],
        "S3Bucket": e["bucket"],
        "S3SseAlgorithm": e["sse"],
        "ExportFormat": e["format"],
    }
    for member, field in (("S3BucketOwner", "owner"), ("S3Prefix", "prefix"), ("S3SseKmsKeyId", "kms")):
        if e.get(field):
            d[member] = e[field]
    if e.get("end") is not None:
        d["EndTime"] = _utc(e["end"])
    if e["status"] == "COMPLETED":
        d["ExportManifest"] = e["manifest"]
        d["ItemCount"] = e["items"]
        d["BilledSizeBytes"] = e["billed"]
    if e["status"] == "FAILED":
        d["FailureCode"] = e["failure_code"]
        d["FailureMessage"] = e["failure_message"]
    return d


def summary(e: Export) -> dict[str, Any]:
    return {"ExportArn": e["arn"], "ExportStatus": e["status"], "ExportType": e["type"]}


def start(ctx: Context, t: Tx, e: Export) -> None:
    """Keep a new export and queue its job (in the request's transaction)."""
    t.put(KIND, e["id"], e)
    t.put(TOKENS, e["token"], e["id"])
    queue(ctx, t, JOB, e["id"])


def queue(ctx: Context, t: Tx, job: str, record_id: str) -> None:
    """Schedule `job` at once for the export or import `record_id` of t's account and region."""
    if ctx.gateway is not None:
        ctx.gateway.scheduler.at(f"{job}/{t.account}/{t.region}/{record_id}", clock.time_s(), job,
                                 {"account": t.account, "region": t.region, "id": record_id})


# the job ---------------------------------------------------------------------------------
def _run(job: "Job") -> None:
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    with ctx.tx() as t:
        e = in_progress(t, KIND, p["id"])
        if e is None:
            return
        try:
            files = _snapshot(t, e)
        except ServiceError as err:
            _finish(t, e, failure=(err.code, err.message))
            return
    try:
        manifest, count, billed = _write(ctx, e, files)
    except ServiceError as err:
        with ctx.tx() as t:
            _finish(t, e, failure=(failure_code(err), s3_message(err)))
        return
    except Exception:  # our own failure: say so in the export, not only in the log
        log.exception("export %s failed", e["arn"])
        with ctx.tx() as t:
            _finish(t, e, failure=("InternalServerError", "The export failed with an internal error."))
        return
    with ctx.tx() as t:
        e.update(manifest=manifest, items=count, billed=billed)
        _finish(t, e)


def in_progress(t: Tx, kind: str, record_id: str) -> dict[str, Any] | None:
    """The export or import a job is for, unless it has ended (or is gone)."""
    rec = t.get(kind, record_id)
    return rec.value if rec is not None and rec.value["status"] == "IN_PROGRESS" else None


def _finish(t: Tx, e: Export, failure: tuple[str, str] | None = None) -> None:
    e["end"] = clock.time_s()
    e["status"] = "COMPLETED" if failure is None else "FAILED"
    if failure is not None:
        e["failure_code"], e["failure_message"] = failure
    t.put(KIND, e["id"], e)


def failure_code(err: ServiceError) -> str:
    if err.code == "NoSuchBucket":
        return "S3NoSuchBucket"
    if err.code in ("AccessDenied", "AllAccessDisabled"):
        return "S3AccessDenied"
    if err.code.startswith("KMS") or err.code in ("NotFoundException", "KmsNotFoundException"):
        return "KmsNotFoundException"
    return err.code


def s3_message(err: ServiceError) -> str:
    """An S3 error as DynamoDB quotes it in a FailureMessage."""
    return f"{err.message} (Service: Amazon S3; Status Code: {err.status}; Error Code: {err.code})"


def items_at(t: Tx, table: storage.Table, at: float) -> Iterator[storage.Item]:
    """The table's items as they were at `at`: the PITR base snapshot with every logged
    change made by then applied (the last one per item wins, in log order)."""
    latest: dict[bytes, Any] = {}
    for r in history.scan_all(t, history.HISTORY, table["id"]):
        if r.value["time"] <= at:
            latest[r.value["key"]] = r.value["item"]
    for r in history.scan_all(t, history.BASE, table["id"]):
        item = latest.pop(r.key) if r.key in latest else r.value
        if item is not None:
            yield item
    for item in latest.values():
        if item is not None:
            yield item


def _snapshot(t: Tx, e: Export) -> list[tuple[bytes, int, int]]:
    """The data files: (gzip bytes, item count, item bytes) each, at least one."""
    table = storage.find_table(t, e["table"])
    if table is None or table["id"] != e["tid"] or not history.pitr_enabled(table):
        raise ServiceError("TableNotFoundException", f"Table not found: {e['table_arn']}", 400)
    line = ddbjson.ion_line if e["format"] == "ION" else ddbjson.item_line
    files: list[tuple[bytes, int, int]] = []
    buf, gz, count, size = _open_file()
    for item in items_at(t, table, e["time"]):
        gz.write(line(item))
        count += 1
        size += values.item_size(item)
        if count == ITEMS_PER_FILE:
            gz.close()
            files.append((buf.getvalue(), count, size))
            buf, gz, count, size = _open_file()
    gz.close()
    if count or not files:
        files.append((buf.getvalue(), count, size))
    return files


def _open_file() -> tuple[io.BytesIO, gzip.GzipFile, int, int]:
    buf = io.BytesIO()
    return buf, gzip.GzipFile(fileobj=buf, mode="wb", mtime=0), 0, 0


def _bucket_region(s3: Any, bucket: str) -> str:
    loc = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc)


def s3_client(ctx: Context, bucket: str) -> Any:
    """The in-process S3 client DynamoDB uses for `bucket`, in the bucket's region."""
    return ctx.aws("s3", principal=SERVICE, region=_bucket_region(ctx.aws("s3", principal=SERVICE), bucket))


def _write(ctx: Context, e: Export, files: list[tuple[bytes, int, int]]) -> tuple[str, int, int]:
    """Put the export's objects; returns the summary manifest's key, items and bytes."""
    s3 = s3_client(ctx, e["bucket"])
    base = (e["prefix"].rstrip("/") + "/" if e.get("prefix") else "") + f"AWSDynamoDB/{e['id']}/"
    sse: dict[str, Any] = {"ServerSideEncryption": "aws:kms" if e["sse"] == "KMS" else "AES256"}
    if e.get("kms"):
        sse["SSEKMSKeyId"] = e["kms"]

    def put(key: str, body: bytes) -> str:
        return s3.put_object(Bucket=e["bucket"], Key=key, Body=body, **sse)["ETag"].strip('"')

    put(base + "_started", b"")
    ext = ".ion.gz" if e["format"] == "ION" else ".json.gz"
    entries = []
    count = billed = 0
    for data, n, size in files:
        key = base + "data/" + base64.b32encode(os.urandom(16)).decode().rstrip("=").lower() + ext
        etag = put(key, data)
        entries.append(ddbjson.json_text({
            "itemCount": n, "md5Checksum": base64.b64encode(hashlib.md5(data).digest()).decode(),
            "etag": etag, "dataFileS3Key": key}))
        count += n
        billed += size
    manifest_files = b"".join(line + b"\n" for line in entries)
    put(base + "manifest-files.json", manifest_files)
    put(base + "manifest-files.checksum", hashlib.md5(manifest_files).hexdigest().encode())
    summary_doc = ddbjson.json_text({
        "version": "2020-06-30",
        "exportArn": e["arn"],
        "startTime": _iso(e["start"]),
        "endTime": _iso(clock.time_s()),
        "tableArn": e["table_arn"],
        "tableId": e["table_id"],
        "exportTime": _iso(e["time"]),
        "s3Bucket": e["bucket"],
        "s3Prefix": e.get("prefix"),
        "s3SseAlgorithm": e["sse"],
        "s3SseKmsKeyId": e.get("kms"),
        "manifestFilesS3Key": base + "manifest-files.json",
        "billedSizeBytes": billed,
        "itemCount": count,
        "outputFormat": e["format"],
        "exportType": e["type"],
    })
    put(base + "manifest-summary.json", summary_doc)
    put(base + "manifest-summary.checksum", hashlib.md5(summary_doc).hexdigest().encode())
    return base + "manifest-summary.json", count, billed
