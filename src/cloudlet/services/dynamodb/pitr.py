"""Point-in-time recovery: UpdateContinuousBackups, DescribeContinuousBackups,
RestoreTableToPointInTime.

Enabling PITR snapshots the table and from then on every write logs its change in its own
transaction (``history``); a restore replays the log over the snapshot up to the asked
second into a new table, so the result is the table as it really was then.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import history, storage
from cloudlet.services.dynamodb.storage import Table
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _description(table: Table, now: float) -> Output:
    """ContinuousBackupsDescription. Continuous backups (on-demand) are on for every table."""
    if not history.pitr_enabled(table):
        return {"ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    earliest, latest = history.window(table, now)
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": {
        "PointInTimeRecoveryStatus": "ENABLED",
        "RecoveryPeriodInDays": table["pitr"]["days"],
        "EarliestRestorableDateTime": _utc(earliest),
        "LatestRestorableDateTime": _utc(latest),
    }}


def update_continuous_backups(ctx: Context, req: Input) -> Output:
    name = storage.table_name(req["TableName"])
    spec = req["PointInTimeRecoverySpecification"]
    days = spec.get("RecoveryPeriodInDays")
    if days is not None and not 1 <= days <= 35:
        raise invalid("1 validation error detected: Value '" + str(days) + "' at "
                      "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: "
                      "Member must have value between 1 and 35")
    now = clock.time_s()
    with ctx.tx() as t:
        table = storage.find_table(t, name)
        if table is None:
            raise history.table_not_found(name)
        if spec["PointInTimeRecoveryEnabled"]:
            if history.pitr_enabled(table):
                if days is not None:  # a shorter period drops what falls out of it as writes go on
                    table["pitr"]["days"] = days
            else:
                history.enable(t, table, days or history.DEFAULT_DAYS, now)
        else:
            history.disable(t, table)
        storage.put_table(t, table)
    return {"ContinuousBackupsDescription": _description(table, now)}


def describe_continuous_backups(ctx: Context, req: Input) -> Output:
    name = storage.table_name(req["TableName"])
    now = clock.time_s()
    with ctx.tx() as t:
        table = storage.find_table(t, name)
    if table is None:
        raise history.table_not_found(name)
    return {"ContinuousBackupsDescription": _description(table, now)}


def restore_table_to_point_in_time(ctx: Context, req: Input) -> Output:
    arn, name = req.get("SourceTableArn"), req.get("SourceTableName")
    if arn is None and name is None:
        raise invalid("Either SourceTableArn or SourceTableName must be specified")
    if arn is not None and name is not None:
        raise invalid("Only one of SourceTableArn or SourceTableName can be specified")
    use_latest = bool(req.get("UseLatestRestorableTime"))
    when = req.get("RestoreDateTime")
    if use_latest and when is not None:
        raise invalid("Only one of RestoreDateTime or UseLatestRestorableTime can be specified")
    if not use_latest and when is None:
        raise invalid("Either RestoreDateTime or UseLatestRestorableTime must be specified")
    source_name = storage.table_name(arn) if arn is not None else str(name)
    now = clock.time_s()
    with ctx.tx() as t:
        source = storage.find_table(t, source_name)
        if source is None or (arn is not None and source["arn"] != arn):
            raise history.table_not_found(source_name)
        if not history.pitr_enabled(source):
            raise ServiceError("PointInTimeRecoveryUnavailableException",
                               f"Point in time recovery is not enabled for table '{source_name}'", 400)
        earliest, latest = history.window(source, now)
        at = latest if when is None else when.timestamp()
        # Restore times travel in whole seconds (boto3 sends epoch seconds): the second the
        # window opens in is restorable, to the state the window opens with.
        if at < math.floor(earliest) or at > latest:
            raise ServiceError("InvalidRestoreTimeException",
                               "RestoreDateTime must be between EarliestRestorableDateTime and "
                               "LatestRestorableDateTime", 400)
        target = history.create_target(ctx, t, source, req)
        count = history.replay(t, source, target, at)
        desc = history.finish_restore(t, target, {"SourceTableArn": source["arn"], "RestoreDateTime": at}, count)
    return {"TableDescription": desc}
