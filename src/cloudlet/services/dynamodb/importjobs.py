"""Imports from S3: the import record, and the job that creates the table and loads it.

An import (kind ``im``, key its id ``<14-digit ms>-<8 hex>``; while it runs it carries a
``pending`` attribute naming its table, so a second import of that name is refused)
starts ``IN_PROGRESS`` with its table's ARN and TableId fixed. A scheduler job due at once
lists the objects under the prefix through the in-process S3 client as
``dynamodb.amazonaws.com`` (a missing bucket fails the import with ``S3NoSuchBucket`` and
creates no table), creates the table through CreateTable's own path, and loads each
object in key order: DynamoDB JSON (one ``{"Item": ...}`` per line) or CSV (a header row,
or ``HeaderList``; key attributes typed by the table's definitions, every other column a
String), gzip-compressed or not. Blank lines are skipped. As in DynamoDB, the first line
that cannot become an item ends its object (one error; the items before it stay), and an
import with any error ends ``FAILED`` (``ItemValidationError``) while keeping the table and
everything that was loaded. The counters (processed, imported, errors, uncompressed bytes)
appear when the import ends; imported items are written directly (no stream records or
capacity, as for an import).
"""

from __future__ import annotations

import gzip
import logging
import uuid
import zlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.protocol.http import read_all
from cloudlet.services.dynamodb import ddbjson, exportjobs, storage

if TYPE_CHECKING:
    from cloudlet.core.scheduler import Job, Scheduler

KIND, TOKENS = "im", "imt"
JOB = "dynamodb.import"
_BATCH = 500
_VALIDATION = ("Some of the items failed validation checks and were not imported. Please check CloudWatch error logs "
               "for more details.")

log = logging.getLogger("cloudlet.dynamodb.import")

Import = dict[str, Any]


def register(scheduler: "Scheduler") -> None:
    scheduler.register(JOB, _run)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


class _Rollback(Exception):
    pass


def check_table(ctx: Context, t: Tx, params: dict[str, Any]) -> None:
    """Refuse TableCreationParameters CreateTable would refuse (an existing table first),
    by creating the table in a savepoint that is rolled back."""
    from cloudlet.services.dynamodb import tables

    try:
        with ctx.tx():
            tables.create_table(ctx, dict(params))
            raise _Rollback
    except _Rollback:
        pass


def pending(t: Tx, name: str) -> bool:
    return bool(t.find(KIND, "pending", name))


def new(ctx: Context, req: dict[str, Any]) -> Import:
    now = clock.time_s()
    import_id = exportjobs.new_id(now)
    name = req["TableCreationParameters"]["TableName"]
    table_arn = f"arn:{ctx.partition}:dynamodb:{ctx.region}:{ctx.account}:table/{name}"
    return {
        "id": import_id,
        "arn": f"{table_arn}/import/{import_id}",
        "status": "IN_PROGRESS",
        "table_arn": table_arn,
        "table_id": str(uuid.uuid4()),
        "token": req.get("ClientToken") or "",
        "source": req["S3BucketSource"],
        "format": req["InputFormat"],
        "options": req.get("InputFormatOptions"),
        "compression": req.get("InputCompressionType") or "NONE",
        "params": req["TableCreationParameters"],
        "start": now,
        "end": None,
        "processed": 0,
        "imported": 0,
        "errors": 0,
        "size": 0,
    }


def start(ctx: Context, t: Tx, imp: Import) -> None:
    t.put(KIND, imp["id"], imp, attrs={"pending": imp["params"]["TableName"]})
    if imp["token"]:
        t.put(TOKENS, imp["token"], imp["id"])
    exportjobs.queue(ctx, t, JOB, imp["id"])


def describe(imp: Import) -> dict[str, Any]:
    """ImportTableDescription (the counters stay 0 until the import ends, as in DynamoDB)."""
    d: dict[str, Any] = {
        "ImportArn": imp["arn"],
        "ImportStatus": imp["status"],
        "TableArn": imp["table_arn"],
        "TableId": imp["table_id"],
        "ClientToken": imp["token"],
        "S3BucketSource": imp["source"],
        "InputFormat": imp["format"],
        "InputCompressionType": imp["compression"],
        "TableCreationParameters": imp["params"],
        "StartTime": _utc(imp["start"]),
        "ProcessedItemCount": imp["processed"],
        "ImportedItemCount": imp["imported"],
        "ErrorCount": imp["errors"],
    }
    if imp.get("options"):
        d["InputFormatOptions"] = imp["options"]
    if imp["end"] is not None:
        d["EndTime"] = _utc(imp["end"])
    if imp["size"]:
        d["ProcessedSizeBytes"] = imp["size"]
    if imp["status"] == "FAILED":
        d["FailureCode"] = imp["failure_code"]
        d["FailureMessage"] = imp["failure_message"]
    return d


_SUMMARY = ("ImportArn", "ImportStatus", "TableArn", "S3BucketSource", "InputFormat", "StartTime", "EndTime")


def summary(imp: Import) -> dict[str, Any]:
    """ImportSummary: the description's fields that ListImports shows."""
    d = describe(imp)
    return {k: d[k] for k in _SUMMARY if k in d}


# the job ---------------------------------------------------------------------------------
def _run(job: "Job") -> None:
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    with ctx.tx() as t:
        imp = exportjobs.in_progress(t, KIND, p["id"])
    if imp is None:
        return
    try:
        _load(ctx, imp)
    except ServiceError as err:
        code = exportjobs.failure_code(err)
        _finish(ctx, imp, (code, exportjobs.s3_message(err) if code.startswith(("S3", "Kms")) else err.message))
        return
    except Exception:  # our own failure: say so in the import, not only in the log
        log.exception("import %s failed", imp["arn"])
        _finish(ctx, imp, ("InternalServerError", "The import failed with an internal error."))
        return
    _finish(ctx, imp, None if imp["errors"] == 0 else ("ItemValidationError", _VALIDATION))


def _finish(ctx: Context, imp: Import, failure: tuple[str, str] | None) -> None:
    imp["end"] = clock.time_s()
    imp["status"] = "COMPLETED" if failure is None else "FAILED"
    if failure is not None:
        imp["failure_code"], imp["failure_message"] = failure
    with ctx.tx() as t:
        t.put(KIND, imp["id"], imp, attrs={})
        table = storage.find_table(t, imp["params"]["TableName"])
        if table is not None and table["table_id"] == imp["table_id"] and table["status"] == "CREATING":
            table["status"] = "ACTIVE"
            storage.put_table(t, table)


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    token = None
    while True:
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, **({"ContinuationToken": token} if token else {}))
        keys += [o["Key"] for o in page.get("Contents") or () if not (o["Key"].endswith("/") and o["Size"] == 0)]
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return keys


def _body(s3: Any, bucket: str, key: str) -> bytes:
    return read_all(s3.get_object(Bucket=bucket, Key=key)["Body"])


def _load(ctx: Context, imp: Import) -> None:
    from cloudlet.services.dynamodb import tables

    source = imp["source"]
    bucket = source["S3Bucket"]
    s3 = exportjobs.s3_client(ctx, bucket)
    keys = _keys(s3, bucket, source.get("S3KeyPrefix") or "")
    name = imp["params"]["TableName"]
    with ctx.tx() as t:
        tables.create_table(ctx, dict(imp["params"]))
        table = storage.get_table(t, name)
        table["table_id"] = imp["table_id"]  # fixed when the import was accepted
        table["status"] = "CREATING"
        storage.put_table(t, table)
    for key in keys:
        data = _body(s3, bucket, key)
        if imp["compression"] == "GZIP":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                imp["errors"] += 1
                imp["processed"] += 1
                continue
        imp["size"] += len(data)
        items: list[storage.Item] = []
        for item in _items(table, imp, data):
            items.append(item)
            if len(items) == _BATCH:
                _write(ctx, imp, items)
                items = []
        _write(ctx, imp, items)


def _items(table: storage.Table, imp: Import, data: bytes) -> Iterator[storage.Item]:
    """The items of one object, counted; the first bad line ends the object."""
    try:
        if imp["format"] == "CSV":
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                imp["processed"] += 1
                raise ddbjson.BadLine("not UTF-8") from None
            csv_options = (imp.get("options") or {}).get("Csv") or {}
            rows = ddbjson.csv_rows(text, csv_options.get("Delimiter") or ",", csv_options.get("HeaderList"))
            for header, row in rows:
                imp["processed"] += 1
                yield ddbjson.csv_item(table, header, row)
        else:
            for line in data.split(b"\n"):
                if not line.strip():
                    continue
                imp["processed"] += 1
                yield ddbjson.parse_json_line(table, line)
    except ddbjson.BadLine:
        imp["errors"] += 1


def _write(ctx: Context, imp: Import, items: list[storage.Item]) -> None:
    if not items:
        return
    with ctx.tx() as t:
        table = storage.get_table(t, imp["params"]["TableName"])
        for item in items:
            storage.write_item(t, table, storage.get_item(t, table, item), item)
    imp["imported"] += len(items)
