"""On-demand backups: CreateBackup, DescribeBackup, DeleteBackup, ListBackups,
RestoreTableFromBackup.

A backup is a copy, taken in one transaction, of every item of the table and of its
settings (``history`` keeps the records), so it answers for the table as it was however
the table changes or even after it is deleted; a restore builds a new table from it with
its indexes rebuilt.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import history, storage

Input = dict[str, Any]
Output = dict[str, Any]

#: backups per ListBackups page when the request sets no Limit (AWS pages at 1 MB)
_DEFAULT_PAGE = 1000
_SCAN = 200


def create_backup(ctx: Context, req: Input) -> Output:
    name = storage.table_name(req["TableName"])
    with ctx.tx() as t:
        table = storage.find_table(t, name)
        if table is None:
            raise history.table_not_found(name)
        backup = history.take_backup(t, table, req["BackupName"], "USER", clock.time_s())
    return {"BackupDetails": history.details(backup)}


def _backup(t: Tx, arn: str) -> dict[str, Any]:
    backup = history.find_backup(t, arn, clock.time_s())
    if backup is None:
        raise history.backup_not_found(arn)
    return backup


def describe_backup(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        backup = _backup(t, req["BackupArn"])
    return {"BackupDescription": history.description(backup)}


def delete_backup(ctx: Context, req: Input) -> Output:
    arn = req["BackupArn"]
    with ctx.tx() as t:
        backup = _backup(t, arn)
        if backup["type"] == "SYSTEM":  # DynamoDB keeps these for their 35 days
            raise ServiceError("ValidationException", f"Backups of type SYSTEM cannot be deleted: {arn}", 400)
        history.delete_backup(t, backup)
    return {"BackupDescription": history.description(backup, status="DELETED")}


def list_backups(ctx: Context, req: Input) -> Output:
    limit = req.get("Limit") or _DEFAULT_PAGE
    wanted = req.get("BackupType") or "USER"
    lower = req["TimeRangeLowerBound"].timestamp() if req.get("TimeRangeLowerBound") else None
    upper = req["TimeRangeUpperBound"].timestamp() if req.get("TimeRangeUpperBound") else None
    prefix = None
    if req.get("TableName"):
        ref = req["TableName"]
        arn = ref if ref.startswith("arn:") else (
            f"arn:{ctx.partition}:dynamodb:{ctx.region}:{ctx.account}:table/{ref}")
        prefix = arn + "/backup/"
    after = req.get("ExclusiveStartBackupArn")
    now = clock.time_s()
    found: list[dict[str, Any]] = []
    with ctx.tx() as t:
        while len(found) <= limit:
            recs = t.scan(history.BACKUP, prefix, after=after, limit=_SCAN)
            for r in recs:
                b = r.value
                if history.expired(b, now):
                    history.delete_backup(t, b)  # SYSTEM backups go when their 35 days are up
                    continue
                if wanted != "ALL" and b["type"] != wanted:
                    continue
                if (lower is not None and b["created"] < lower) or (upper is not None and b["created"] >= upper):
                    continue
                found.append(b)
                if len(found) > limit:
                    break
            if len(recs) < _SCAN:
                break
            after = recs[-1].key
    out: Output = {"BackupSummaries": [history.summary(b) for b in found[:limit]]}
    if len(found) > limit:
        out["LastEvaluatedBackupArn"] = found[limit - 1]["arn"]
    return out


def restore_table_from_backup(ctx: Context, req: Input) -> Output:
    arn = req["BackupArn"]
    with ctx.tx() as t:
        backup = _backup(t, arn)
        target = history.create_target(ctx, t, backup["table"], req)
        count = 0
        for item in history.backup_items(t, backup):
            storage.write_item(t, target, None, item)
            count += 1
        desc = history.finish_restore(t, target, {
            "SourceBackupArn": arn,
            "SourceTableArn": backup["table"]["arn"],
            "RestoreDateTime": backup["created"],
        }, count)
    return {"TableDescription": desc}
