"""Export to and import from S3: ExportTableToPointInTime, DescribeExport, ListExports,
ImportTable, DescribeImport, ListImports.

The handlers check a request as DynamoDB does (synchronously: the ARN, PITR, the export
time, the table to create) and leave the work to a job (``exportjobs``, ``importjobs``),
so the answer is ``IN_PROGRESS`` and DescribeExport / DescribeImport show the end. A
ClientToken makes a request idempotent: the same request again answers with the same
export or import, a changed one is a conflict.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import exportjobs, history, importjobs, storage
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]

_MAX_PAGE = 25


def _access_denied() -> ServiceError:
    return ServiceError("AccessDeniedException", "Access is denied", 400)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(value: Any) -> float | None:
    return None if value is None else value.timestamp()


# exports ----------------------------------------------------------------------------------
def _table_of(ctx: Context, arn: str) -> str:
    """The table name a TableArn names (looked up in this region, as DynamoDB does)."""
    if not arn.startswith("arn:"):
        raise invalid("One or more parameter values were invalid: tableArn is not a valid ARN")
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/") or "/" in parts[5][6:]:
        raise invalid("Invalid Request: Table ARN is invalid.")
    if parts[4] != ctx.account:
        raise _access_denied()
    return parts[5][6:]


def _check_export_shape(req: Input) -> None:
    kind, spec = req.get("ExportType"), req.get("IncrementalExportSpecification")
    if spec is not None and kind is None:
        raise invalid("Invalid Request: Export Type expected to be Incremental Export when incremental export "
                       "specification is provided")
    if spec is not None and kind == "FULL_EXPORT":
        raise invalid("Invalid Request: When Export Type is Full Export , Incremental Export Specification should "
                       "not be provided")
    if kind == "INCREMENTAL_EXPORT":
        if spec is None:
            raise invalid("Invalid Request: Incremental Export Specification expected when export type is set as "
                           "Incremental Export")
        if spec.get("ExportFromTime") is None:
            raise invalid("Invalid Request: ExportFromTime must be provided in IncrementalExportSpecification")
    if req.get("S3SseKmsKeyId") and req.get("S3SseAlgorithm") != "KMS":
        raise invalid("Invalid Request: KMS Key Id is not supported for this encryption type")


def _fingerprint(req: Input) -> list[Any]:
    """What an export request asks for, to tell a replay from a conflicting reuse of its token."""
    spec = req.get("IncrementalExportSpecification") or {}
    return [req["TableArn"], _ts(req.get("ExportTime")), req["S3Bucket"], req.get("S3BucketOwner"),
            req.get("S3Prefix"), req.get("S3SseAlgorithm") or "AES256", req.get("S3SseKmsKeyId"),
            req.get("ExportFormat") or "DYNAMODB_JSON", req.get("ExportType") or "FULL_EXPORT",
            _ts(spec.get("ExportFromTime")), _ts(spec.get("ExportToTime")), spec.get("ExportViewType")]


def export_table_to_point_in_time(ctx: Context, req: Input) -> Output:
    arn = req["TableArn"]
    name = _table_of(ctx, arn)
    _check_export_shape(req)
    token = req.get("ClientToken") or ""
    now = clock.time_s()
    with ctx.tx() as t:
        if token:
            known = t.get(exportjobs.TOKENS, token)
            earlier = None if known is None else t.get(exportjobs.KIND, known.value)
            if earlier is not None:
                e = earlier.value
                if e["fingerprint"] != _fingerprint(req):
                    raise ServiceError("ExportConflictException",
                                       "Export conflict: Duplicate request detected with conflicting parameters", 400)
                return {"ExportDescription": exportjobs.describe(e)}
        table = storage.find_table(t, name)
        if table is None:
            raise ServiceError("TableNotFoundException", f"Table not found: {arn}", 400)
        if not history.pitr_enabled(table):
            raise ServiceError("PointInTimeRecoveryUnavailableException",
                               f"Point in time recovery is not enabled for table '{name}'", 400)
        earliest, latest = history.window(table, now)
        if req.get("ExportType") == "INCREMENTAL_EXPORT":
            _check_incremental(req["IncrementalExportSpecification"], earliest, now)
            raise invalid("cloudlet does not implement incremental exports yet (ExportType INCREMENTAL_EXPORT); "
                           "FULL_EXPORT is supported")
        at = _ts(req.get("ExportTime"))
        at = latest if at is None else at
        # export times travel in whole seconds: the second the window opens in counts
        if at > latest or at < math.floor(earliest):
            raise ServiceError("InvalidExportTimeException", "Export Time is invalid", 400)
        export_id = exportjobs.new_id(now)
        e = {
            "id": export_id,
            "arn": f"{table['arn']}/export/{export_id}",
            "status": "IN_PROGRESS",
            "table": name,
            "tid": table["id"],
            "table_arn": table["arn"],
            "table_id": table["table_id"],
            "time": min(at, now),
            "start": now,
            "end": None,
            "token": token,
            "bucket": req["S3Bucket"],
            "owner": req.get("S3BucketOwner"),
            "prefix": req.get("S3Prefix"),
            "sse": req.get("S3SseAlgorithm") or "AES256",
            "kms": req.get("S3SseKmsKeyId"),
            "format": req.get("ExportFormat") or "DYNAMODB_JSON",
            "type": req.get("ExportType") or "FULL_EXPORT",
            "fingerprint": _fingerprint(req),
        }
        exportjobs.start(ctx, t, e)
    return {"ExportDescription": exportjobs.describe(e)}


def _check_incremental(spec: Input, earliest: float, now: float) -> None:
    start = spec["ExportFromTime"].timestamp()
    end = _ts(spec.get("ExportToTime"))
    end = now if end is None else end
    if start < math.floor(earliest):
        raise ServiceError("InvalidExportTimeException", "Incremental export period from time cannot be less than "
                           f"the table creation time : {_iso(earliest)}", 400)
    if end > now:
        raise ServiceError("InvalidExportTimeException", "Incremental export period to time cannot be greater than "
                           f"the current time : {_iso(now)}", 400)
    if end - start < 15 * 60:
        raise ServiceError("InvalidExportTimeException", "Difference between export period from time and export "
                           "period to time is less than 15 minutes", 400)


def _parse_job_arn(ctx: Context, arn: str, kind: str) -> str:
    """The id in an export or import ARN (``...:table/<name>/<kind>/<id>``)."""
    what = kind.capitalize()
    parts = arn.split(":", 5)
    path = parts[5].split("/") if len(parts) == 6 else []
    if (len(parts) < 6 or parts[0] != "arn" or parts[2] != "dynamodb" or len(path) != 4 or path[0] != "table"
            or path[2] != kind or len(path[1]) < 3 or not path[3]):
        raise invalid(f"Invalid {what} ARN")
    if parts[4] != ctx.account:
        raise _access_denied()
    if parts[3] != ctx.region or parts[1] != ctx.partition:
        raise ServiceError(f"{what}NotFoundException", f"{what} not found: Invalid {kind} arn", 400)
    return path[3]


def _find_job(ctx: Context, arn: str, kind: str, record_kind: str, not_found: str) -> dict[str, Any]:
    """The export or import record `arn` names, or its NotFoundException (`not_found` is
    the message, whose wording differs between the two)."""
    job_id = _parse_job_arn(ctx, arn, kind)
    with ctx.tx() as t:
        rec = t.get(record_kind, job_id)
    if rec is None or rec.value["arn"] != arn:
        raise ServiceError(f"{kind.capitalize()}NotFoundException", not_found, 400)
    return rec.value


def describe_export(ctx: Context, req: Input) -> Output:
    arn = req["ExportArn"]
    e = _find_job(ctx, arn, "export", exportjobs.KIND, f"Export not found: Export not found: {arn}")
    return {"ExportDescription": exportjobs.describe(e)}


def _page(ctx: Context, kind: str, marker: str, token: str | None, size: int, keep: Any,
          table_arn: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of exports or imports, newest first; a NextToken is the last id returned."""
    after = None
    if token is not None:
        raw = bytes.fromhex(token) if _is_hex(token) else b""
        if not raw.startswith(marker.encode() + b":"):
            raise invalid(f"Invalid Request: Provided nextToken is invalid: {token}")
        after = raw[len(marker) + 1:].decode()
    found: list[dict[str, Any]] = []
    with ctx.tx() as t:
        while len(found) <= size:
            recs = t.scan(kind, None, after=after, reverse=True, limit=100)
            for r in recs:
                if keep(t, r.value, table_arn):
                    found.append(r.value)
                    if len(found) > size:
                        break
            if len(recs) < 100:
                break
            after = str(recs[-1].key)
    nxt = (marker + ":" + found[size - 1]["id"]).encode().hex() if len(found) > size else None
    return found[:size], nxt


def _listing(ctx: Context, req: Input, size: int, kind: str, marker: str, keep: Any, summary: Any,
             member: str) -> Output:
    """ListExports / ListImports: one page of summaries under `member`, with its NextToken."""
    found, nxt = _page(ctx, kind, marker, req.get("NextToken"), size, keep, req.get("TableArn"))
    out: Output = {member: [summary(x) for x in found]}
    if nxt is not None:
        out["NextToken"] = nxt
    return out


def _is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and all(c in "0123456789abcdef" for c in text)


def _export_of_table(t: Any, e: dict[str, Any], table_arn: str | None) -> bool:
    if table_arn is None:
        return True
    table = storage.find_table(t, storage.table_name(table_arn))
    # an export belongs to the table it was taken of: not to one re-created under its name
    return table is not None and table["arn"] == table_arn and table["id"] == e["tid"]


def list_exports(ctx: Context, req: Input) -> Output:
    return _listing(ctx, req, req.get("MaxResults") or _MAX_PAGE, exportjobs.KIND, "e", _export_of_table,
                    exportjobs.summary, "ExportSummaries")


# imports ----------------------------------------------------------------------------------
def import_table(ctx: Context, req: Input) -> Output:
    fmt = req["InputFormat"]
    options = req.get("InputFormatOptions") or {}
    if options.get("Csv") is not None and fmt != "CSV":
        raise invalid(f"Invalid Request: Unsupported InputFormatOptions for the given input format: {fmt}.")
    if fmt == "ION":
        raise invalid("cloudlet does not implement ION import yet; DYNAMODB_JSON and CSV are supported")
    if req.get("InputCompressionType") == "ZSTD":
        raise invalid("cloudlet does not implement ZSTD input compression yet; GZIP and NONE are supported")
    params = req["TableCreationParameters"]
    name = params["TableName"]
    token = req.get("ClientToken") or ""
    with ctx.tx() as t:
        importjobs.check_table(ctx, t, params)  # CreateTable's checks, "Table already exists" first
        if token:
            known = t.get(importjobs.TOKENS, token)
            earlier = None if known is None else t.get(importjobs.KIND, known.value)
            if earlier is not None:
                imp = earlier.value
                if imp["params"]["TableName"] != name:
                    raise ServiceError("ImportConflictException",
                                       "Import conflict: Duplicate request detected with conflicting parameters", 400)
                return {"ImportTableDescription": importjobs.describe(imp)}
        if importjobs.pending(t, name):
            raise ServiceError("ResourceInUseException", f"Table already exists: {name}", 400)
        imp = importjobs.new(ctx, req)
        importjobs.start(ctx, t, imp)
    return {"ImportTableDescription": importjobs.describe(imp)}


def describe_import(ctx: Context, req: Input) -> Output:
    arn = req["ImportArn"]
    imp = _find_job(ctx, arn, "import", importjobs.KIND, f"Import not found: {arn}")
    return {"ImportTableDescription": importjobs.describe(imp)}


def _import_of_table(t: Any, imp: dict[str, Any], table_arn: str | None) -> bool:
    return table_arn is None or imp["table_arn"] == table_arn


def list_imports(ctx: Context, req: Input) -> Output:
    return _listing(ctx, req, req.get("PageSize") or _MAX_PAGE, importjobs.KIND, "i", _import_of_table,
                    importjobs.summary, "ImportSummaryList")
