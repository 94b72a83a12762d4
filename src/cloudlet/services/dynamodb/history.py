"""What restored tables are built from: on-demand backups and the point-in-time-recovery log.

Record kinds, per account and region:

- ``bk``  backup ARN -> the backup: name, type, times, counts, and the source table's record
  as it was (schema, indexes, settings), so a backup outlives its table
- ``bi``  ``backup id + enc(pk) + enc(sk)`` -> an item as it was when the backup was taken
- ``hb``  ``table id + enc(pk) + enc(sk)`` -> an item as it was at the table's PITR base time
- ``h``   ``table id + 8-byte sequence`` -> ``{"time", "key", "item"}``: one change after the
  base time (``key`` is the item's record key, ``item`` the new item or None for a deletion)

A table's PITR settings live in its record (``table["pitr"]``: enabled, days, since, base).
``hb`` is the table at ``base`` and ``h`` every change after it, so the table at any time
T >= base is ``hb`` with the changes made up to T applied in order: a real reconstruction,
not a copy of the present. As the recovery window moves on, changes older than it are
folded into ``hb`` (``base`` moves up), a bounded batch at a time on the writes that add
changes, so the log holds about one recovery period of changes.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, Iterator

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import schema, storage, values
from cloudlet.services.dynamodb.storage import Item, Table
from cloudlet.services.dynamodb.errors import invalid

HISTORY, BASE, BACKUP, BACKUP_ITEMS = "h", "hb", "bk", "bi"
DAY = 86400.0
DEFAULT_DAYS = 35
#: how long a SYSTEM backup (taken when a table with PITR is deleted) is kept
SYSTEM_BACKUP_DAYS = 35
_BATCH = 500


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def scan_all(t: Tx, kind: str, prefix: bytes, batch: int = _BATCH) -> Iterator[Any]:
    """Every record under `prefix`, read in bounded batches."""
    after = None
    while True:
        recs = t.scan(kind, prefix, after=after, limit=batch)
        yield from recs
        if len(recs) < batch:
            return
        after = recs[-1].key


# point-in-time recovery ----------------------------------------------------------------
def pitr_enabled(table: Table) -> bool:
    p = table.get("pitr")
    return bool(p and p.get("enabled"))


def record(t: Tx, table: Table, old: Item | None, new: Item | None) -> None:
    """Log one item change of a table with PITR on (called by ``changes.record`` in the
    write's transaction, so the log has a change iff the write committed)."""
    if not pitr_enabled(table):
        return
    ref = new if new is not None else old
    if ref is None:
        return
    now = clock.time_s()
    seq = clock.sequence()
    t.put(HISTORY, table["id"] + seq.to_bytes(8, "big"),
          {"time": now, "key": storage.item_key(table, ref), "item": new})
    p = table["pitr"]
    start = now - p["days"] * DAY
    if p["base"] < start - DAY:  # a day of changes has left the window: fold a batch
        fold(t, table, start, _BATCH)
        storage.put_table(t, table)


def fold(t: Tx, table: Table, upto: float, limit: int | None = None) -> None:
    """Apply logged changes made at or before `upto` to the base snapshot and drop them
    (at most `limit` of them); the base time moves up to what was folded."""
    p = table["pitr"]
    prefix = table["id"]
    done = 0
    last = None
    for r in scan_all(t, HISTORY, prefix):
        change = r.value
        if change["time"] > upto:
            p["base"] = max(p["base"], upto)
            return
        if limit is not None and done >= limit:
            p["base"] = max(p["base"], last if last is not None else p["base"])
            return
        if change["item"] is None:
            t.delete(BASE, change["key"])
        else:
            t.put(BASE, change["key"], change["item"])
        t.delete(HISTORY, r.key)
        last = change["time"]
        done += 1
    p["base"] = max(p["base"], upto)


def enable(t: Tx, table: Table, days: int, now: float) -> None:
    """Start PITR: the base snapshot is the table now, and the log starts empty."""
    storage.drop_records(t, HISTORY, table["id"], _BATCH)
    storage.drop_records(t, BASE, table["id"], _BATCH)
    for r in scan_all(t, "i", table["id"]):
        t.put(BASE, r.key, r.value)
    table["pitr"] = {"enabled": True, "days": days, "since": now, "base": now}


def disable(t: Tx, table: Table) -> None:
    """Stop PITR; what it kept is gone (re-enabling starts a new window)."""
    storage.drop_records(t, HISTORY, table["id"], _BATCH)
    storage.drop_records(t, BASE, table["id"], _BATCH)
    table["pitr"] = {"enabled": False}


def window(table: Table, now: float) -> tuple[float, float]:
    """(earliest, latest) restorable time. Latest is now: cloudlet's log is written in the
    write's transaction, so it has no replication delay to wait for (AWS: now - 5 min)."""
    p = table["pitr"]
    return max(p["base"], now - p["days"] * DAY), now


def replay(t: Tx, source: Table, target: Table, until: float) -> int:
    """Fill `target` (a new, empty table) with `source`'s items as they were at `until`;
    returns the item count."""
    id_len = len(source["id"])
    count = 0
    for r in scan_all(t, BASE, source["id"]):
        storage.write_item(t, target, None, r.value)
        count += 1
    for r in scan_all(t, HISTORY, source["id"]):
        change = r.value
        if change["time"] > until:
            continue  # the log is in commit order; later entries may still be earlier on a wall clock that stepped back
        rec = t.get("i", target["id"] + change["key"][id_len:])
        old = None if rec is None else rec.value
        if change["item"] is not None:
            storage.write_item(t, target, old, change["item"])
            if old is None:
                count += 1
        elif old is not None:
            storage.write_item(t, target, old, None)
            count -= 1
    return count


def drop_table(t: Tx, table: Table) -> None:
    """Forget a deleted table's PITR log (its backups stay)."""
    storage.drop_records(t, HISTORY, table["id"], _BATCH)
    storage.drop_records(t, BASE, table["id"], _BATCH)


def on_table_deleted(ctx: Context, t: Tx, table: Table) -> None:
    """For DeleteTable: a table with PITR on leaves a SYSTEM backup of its last state,
    named ``<table>$DeletedTableBackup`` and kept 35 days, as AWS does; its log goes."""
    if pitr_enabled(table):
        take_backup(t, table, f"{table['name']}$DeletedTableBackup", "SYSTEM", clock.time_s())
    drop_table(t, table)


# backups ---------------------------------------------------------------------------------
def table_not_found(name: str) -> ServiceError:
    """The backup and PITR operations' own not-found error (not ResourceNotFoundException)."""
    return ServiceError("TableNotFoundException", f"Table not found: {name}", 400)


def backup_not_found(arn: str) -> ServiceError:
    return ServiceError("BackupNotFoundException", f"Backup not found: {arn}", 400)


def take_backup(t: Tx, table: Table, name: str, kind: str, now: float) -> dict[str, Any]:
    """Copy every item of `table` and its settings into a new backup record."""
    backup_id = storage.new_id()
    arn = f"{table['arn']}/backup/{int(now * 1000):014d}-{os.urandom(4).hex()}"
    count = size = 0
    id_len = len(table["id"])
    for r in scan_all(t, "i", table["id"]):
        t.put(BACKUP_ITEMS, backup_id + r.key[id_len:], r.value)
        count += 1
        size += values.item_size(r.value)
    source = {k: v for k, v in table.items() if k != "pitr"}
    backup = {
        "arn": arn,
        "name": name,
        "type": kind,
        "created": now,
        "expires": now + SYSTEM_BACKUP_DAYS * DAY if kind == "SYSTEM" else None,
        "id": backup_id,
        "table": source,
        "items": count,
        "size": size,
    }
    t.put(BACKUP, arn, backup)
    return backup


def find_backup(t: Tx, arn: str, now: float) -> dict[str, Any] | None:
    rec = t.get(BACKUP, arn)
    if rec is None or expired(rec.value, now):
        return None
    return rec.value


def expired(backup: dict[str, Any], now: float) -> bool:
    return backup.get("expires") is not None and backup["expires"] <= now


def delete_backup(t: Tx, backup: dict[str, Any]) -> None:
    t.delete(BACKUP, backup["arn"])
    storage.drop_records(t, BACKUP_ITEMS, backup["id"], _BATCH)


def backup_items(t: Tx, backup: dict[str, Any]) -> Iterator[Item]:
    for r in scan_all(t, BACKUP_ITEMS, backup["id"]):
        yield r.value


def details(backup: dict[str, Any], status: str = "AVAILABLE") -> dict[str, Any]:
    """BackupDetails."""
    out = {
        "BackupArn": backup["arn"],
        "BackupName": backup["name"],
        "BackupSizeBytes": backup["size"],
        "BackupStatus": status,
        "BackupType": backup["type"],
        "BackupCreationDateTime": _utc(backup["created"]),
    }
    if backup.get("expires") is not None:
        out["BackupExpiryDateTime"] = _utc(backup["expires"])
    return out


def summary(backup: dict[str, Any]) -> dict[str, Any]:
    """BackupSummary (ListBackups)."""
    table = backup["table"]
    out = {
        "TableName": table["name"],
        "TableId": table["table_id"],
        "TableArn": table["arn"],
        **details(backup),
    }
    return out


def description(backup: dict[str, Any], status: str = "AVAILABLE") -> dict[str, Any]:
    """BackupDescription: the backup, and the table and features it was taken of."""
    table = backup["table"]
    tp = table.get("throughput")
    source: dict[str, Any] = {
        "TableName": table["name"],
        "TableId": table["table_id"],
        "TableArn": table["arn"],
        "TableSizeBytes": backup["size"],
        "KeySchema": table["KeySchema"],
        "TableCreationDateTime": _utc(table["created"]),
        "ProvisionedThroughput": {
            "ReadCapacityUnits": tp["ReadCapacityUnits"] if tp else 0,
            "WriteCapacityUnits": tp["WriteCapacityUnits"] if tp else 0,
        },
        "ItemCount": backup["items"],
        "BillingMode": table["billing"],
    }
    if table.get("on_demand"):
        source["OnDemandThroughput"] = table["on_demand"]
    features: dict[str, Any] = {}
    lsis = [i for i in table.get("indexes") or () if i["local"]]
    gsis = [i for i in table.get("indexes") or () if not i["local"]]
    if lsis:
        features["LocalSecondaryIndexes"] = [
            {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]} for i in lsis
        ]
    if gsis:
        features["GlobalSecondaryIndexes"] = [_gsi_info(i) for i in gsis]
    stream = table.get("stream")
    if stream and stream.get("StreamEnabled"):
        features["StreamDescription"] = stream
    ttl = table.get("ttl")
    if ttl:
        features["TimeToLiveDescription"] = {
            "TimeToLiveStatus": "ENABLED" if ttl.get("enabled") else "DISABLED",
            "AttributeName": ttl["AttributeName"],
        }
    sse = table.get("sse")
    if sse and sse.get("Enabled"):
        features["SSEDescription"] = {"Status": "ENABLED", "SSEType": sse.get("SSEType", "KMS"),
                                      "KMSMasterKeyArn": sse.get("KMSMasterKeyId", "")}
    return {
        "BackupDetails": details(backup, status),
        "SourceTableDetails": source,
        "SourceTableFeatureDetails": features,
    }


def _gsi_info(index: dict[str, Any]) -> dict[str, Any]:
    tp = index.get("throughput")
    return {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index["Projection"],
        "ProvisionedThroughput": {
            "ReadCapacityUnits": tp["ReadCapacityUnits"] if tp else 0,
            "WriteCapacityUnits": tp["WriteCapacityUnits"] if tp else 0,
        },
    }


# restoring -------------------------------------------------------------------------------
def table_already_exists(name: str) -> ServiceError:
    return ServiceError("TableAlreadyExistsException", f"Table already exists: {name}", 400)


def create_target(ctx: Context, t: Tx, source: Table, req: dict[str, Any]) -> Table:
    """Create the restore's target table through CreateTable's own path, with the source's
    key schema, indexes, capacity and encryption and the request's overrides. Tags,
    streams, TTL and PITR are not carried over (AWS leaves them to be set again)."""
    from cloudlet.services.dynamodb import tables

    target = req["TargetTableName"]
    if storage.find_table(t, target) is not None:
        raise table_already_exists(target)
    billing = req.get("BillingModeOverride") or source["billing"]
    throughput = req.get("ProvisionedThroughputOverride") or source.get("throughput")
    create: dict[str, Any] = {"TableName": target, "KeySchema": source["KeySchema"], "BillingMode": billing}
    if req.get("ProvisionedThroughputOverride") or (billing == "PROVISIONED" and throughput):
        create["ProvisionedThroughput"] = throughput  # CreateTable refuses it for on-demand, as AWS does
    if "GlobalSecondaryIndexOverride" in req:
        gsis = req["GlobalSecondaryIndexOverride"]
    else:
        gsis = [_gsi_spec(i, billing, throughput) for i in source.get("indexes") or () if not i["local"]]
    if "LocalSecondaryIndexOverride" in req:
        lsis = req["LocalSecondaryIndexOverride"]
    else:
        lsis = [{"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                for i in source.get("indexes") or () if i["local"]]
    if gsis:
        create["GlobalSecondaryIndexes"] = gsis
    if lsis:
        create["LocalSecondaryIndexes"] = lsis
    used = {k["AttributeName"] for spec in (create, *gsis, *lsis) for k in spec["KeySchema"]}
    known = {a["AttributeName"] for a in source["AttributeDefinitions"]}
    # the restore cannot name attribute types: an index key the source never defined is refused below
    create["AttributeDefinitions"] = [a for a in source["AttributeDefinitions"] if a["AttributeName"] in used]
    missing = sorted(used - known)
    if missing:
        raise invalid(
            "One or more parameter values were invalid: Some index key attributes are not defined in "
            f"AttributeDefinitions. Keys: [{', '.join(missing)}], AttributeDefinitions: "
            f"[{', '.join(a['AttributeName'] for a in source['AttributeDefinitions'])}]"
        )
    sse = req.get("SSESpecificationOverride") or source.get("sse")
    if sse:
        create["SSESpecification"] = sse
    on_demand = req.get("OnDemandThroughputOverride") or source.get("on_demand")
    if on_demand:
        create["OnDemandThroughput"] = on_demand
    tables.create_table(ctx, create)
    return storage.get_table(t, target)


def _gsi_spec(index: dict[str, Any], billing: str, table_throughput: dict[str, Any] | None) -> dict[str, Any]:
    spec = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
    if billing == "PROVISIONED":
        tp = index.get("throughput") or table_throughput
        if tp:
            spec["ProvisionedThroughput"] = {"ReadCapacityUnits": tp["ReadCapacityUnits"],
                                             "WriteCapacityUnits": tp["WriteCapacityUnits"]}
    return spec


def finish_restore(t: Tx, target: Table, summary: dict[str, Any], count: int) -> dict[str, Any]:
    """Keep the RestoreSummary on the new table and answer as AWS does: the table is
    CREATING with the restore in progress (DescribeTable then reports it ACTIVE)."""

    target["restore"] = summary
    storage.put_table(t, target)
    desc = schema.describe(target, counts=(count, 0))
    desc["TableStatus"] = "CREATING"
    for g in desc.get("GlobalSecondaryIndexes", []):
        g["IndexStatus"] = "CREATING"
    desc["RestoreSummary"] = {**restore_summary(summary), "RestoreInProgress": True}
    return desc


def restore_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The RestoreSummary member of a restored table's description."""
    out = {k: v for k, v in summary.items() if k != "RestoreDateTime"}
    out["RestoreDateTime"] = _utc(summary["RestoreDateTime"])
    out["RestoreInProgress"] = False
    return out
