"""Global tables, version 2019.11.21: replicas of a table in other regions of the account,
kept in step by replicating every write, with the last writer winning.

Membership. Each member's table record lists its fellow replicas (``table["replicas"]``:
``{"region", "status"}`` in the order they joined), so DescribeTable in any region shows
the others, as AWS does. ``UpdateTable`` with ``ReplicaUpdates`` (``update``) creates the
table in the new region through CreateTable's own path (same name, schema, indexes,
stream, encryption), adds it to every member's list as ``CREATING`` and queues a seed job
that copies the existing items in bounded batches and then marks it ``ACTIVE``; a Delete
removes the region from every list and deletes that region's table. Adding a replica turns
the table's stream on (``NEW_AND_OLD_IMAGES``) when it is off, and from then on the stream
cannot be disabled, as in AWS.

Replication. ``changes.record`` calls ``on_write`` in every local write's transaction: the
write gets a stamp (``clock.sequence``: the cloudlet clock in microseconds, strictly
increasing) kept per item outside the item (kind ``rt``: the item's record key ->
``[stamp, origin region]``, so clients never see it), and the change is queued (kind
``rq``: ``table id + stamp`` -> the change) for a drain job per table, due at once. The
job applies the queued changes to each other member in its region's scope, in the job's
own transaction (all regions share the service's database, so this never happens inside
the write's transaction), and drops them. A member applies a change only if its stamp
``(stamp, region)`` is newer than the one it holds for that key, so concurrent writes in
two regions converge on the later one everywhere; a deletion leaves its stamp behind (a
tombstone) so an older write arriving later cannot bring the item back. An applied change
is recorded like any write (the replica's stream and PITR log see it) but is not queued
again, which is what stops it from looping. Writes made before the table went global have
no stamp and count as older than any stamped write.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import changes, schema, storage
from cloudlet.services.dynamodb.storage import Item, Table
from cloudlet.services.dynamodb.errors import invalid

if TYPE_CHECKING:
    from cloudlet.core.scheduler import Job, Scheduler

VERSION = "2019.11.21"
STAMPS, QUEUE = "rt", "rq"
DRAIN, SEED = "dynamodb.replicate", "dynamodb.replica_seed"
BATCH = 500
CREATING, ACTIVE, DELETING = "CREATING", "ACTIVE", "DELETING"

Input = dict[str, Any]
Output = dict[str, Any]


def register(scheduler: "Scheduler") -> None:
    scheduler.register(DRAIN, _drain)
    scheduler.register(SEED, _seed)


def in_use() -> ServiceError:
    return ServiceError("ResourceInUseException", "The resource which you are attempting to change is in use.", 400)


# membership -------------------------------------------------------------------------------
def members(table: Table) -> list[dict[str, str]]:
    """The table's fellow replicas (other regions), in the order they joined."""
    return table.get("replicas") or []


def describe_into(d: Output, table: Table) -> None:
    """Replicas and GlobalTableVersion of a TableDescription (only for a global table)."""
    if not members(table):
        return
    d["GlobalTableVersion"] = VERSION
    d["GlobalTableSettingsReplicationMode"] = "ENABLED_WITH_OVERRIDES"
    d["Replicas"] = [
        {"RegionName": m["region"], "ReplicaStatus": m["status"],
         "GlobalTableSettingsReplicationMode": "ENABLED_WITH_OVERRIDES"}
        for m in members(table)
    ]


def _in_region(ctx: Context, region: str) -> Context:
    return dataclasses.replace(ctx, region=region)


@lru_cache(maxsize=8)
def _regions(partition: str) -> tuple[str, ...]:
    """The regions DynamoDB has in a partition, from botocore's endpoint data."""
    import botocore.session

    return tuple(botocore.session.get_session().get_available_regions("dynamodb", partition_name=partition))


def _check_region(ctx: Context, region: str) -> None:
    known = _regions(ctx.partition)
    if region not in known:
        raise invalid(f"Region {region} is not supported. The latest version of global tables are only supported in "
                      f"the following regions: [{', '.join(known)}].")
    if region == ctx.region:
        raise invalid("Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, "
                      "or UpdateTable as required.")


def _actions(updates: list[Input]) -> list[tuple[str, Input]]:
    """The ReplicaUpdates as (action, spec) pairs, refused as DynamoDB refuses them."""
    found: list[tuple[str, Input]] = []
    for update in updates:
        kinds = [k for k in ("Create", "Update", "Delete") if update.get(k) is not None]
        if not kinds:
            raise invalid("There are no actions specified in the Replica Update Action of the request.")
        if len(kinds) > 1:
            raise invalid("Update table operation with more than one type of replica actions not allowed.")
        spec = update[kinds[0]]
        if kinds[0] == "Update" and not set(spec) - {"RegionName"}:
            raise invalid("There are no actions specified in the Replica Update Action of the request.")
        if (kinds[0], spec) not in found:  # an identical repeated action counts once
            found.append((kinds[0], spec))
    if len({kind for kind, _ in found}) > 1:
        raise invalid("Update table operation with more than one type of replica actions not allowed.")
    if sum(kind in ("Create", "Delete") for kind, _ in found) > 1:
        raise invalid("Update table operation with more than one create or delete replica actions not allowed")
    return found


def update(ctx: Context, req: Input) -> Output:
    """UpdateTable with ReplicaUpdates (which must be the request's only change)."""
    others = [k for k, v in req.items() if v is not None and k not in ("TableName", "ReplicaUpdates")]
    if others:
        raise invalid("One or more parameter values were invalid: Replica modification must be the only operation "
                      "in the request")
    actions = _actions(req["ReplicaUpdates"])
    for _, spec in actions:
        _check_region(ctx, spec["RegionName"])
    name = storage.table_name(req["TableName"])
    with ctx.tx() as t:
        table = storage.get_table(t, name)
        if table["status"] != "ACTIVE" or any(m["status"] != ACTIVE for m in members(table)):
            raise in_use()
        shown: list[dict[str, str]] | None = None
        for kind, spec in actions:
            region = spec["RegionName"]
            if kind == "Create":
                _create(ctx, t, table, spec)
            elif kind == "Delete":
                shown = _delete(ctx, t, table, region)
            else:
                _update_member(ctx, table, spec)
        counts = (t.count("i", table["id"]), 0)
    desc = schema.describe(table, counts)
    if shown is not None:  # the deleted replica, as AWS shows it while it goes
        desc["TableStatus"] = "UPDATING"
        describe_into(desc, {"replicas": shown})
    return {"TableDescription": desc}


def _not_members(region: str) -> ServiceError:
    return invalid("Update global table operation failed because one or more replicas were not part of the global "
                   f"table. Please retry the request without these replicas: [{region}].")


def _create(ctx: Context, t: Tx, table: Table, spec: Input) -> None:
    name, region = table["name"], spec["RegionName"]
    if table["billing"] != "PAY_PER_REQUEST":
        # AWS wants write auto scaling on a provisioned table first; cloudlet has no
        # Application Auto Scaling to register it with, so such a table cannot be global.
        raise invalid("Table write capacity should either be Pay-Per-Request or AutoScaled.")
    there = _in_region(ctx, region)
    with there.tx() as tb:
        if storage.find_table(tb, name) is not None:
            raise invalid(f"Failed to create a the new replica of table with name: \u2018{name}\u2019 because one or "
                          "more replicas already existed as tables.")
    if spec.get("ProvisionedThroughputOverride"):
        raise invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits "
                      "can be specified when BillingMode is PAY_PER_REQUEST")
    if spec.get("GlobalSecondaryIndexes") or spec.get("KMSMasterKeyId"):
        raise invalid("cloudlet does not implement per-replica index or KMS key overrides yet")
    now = clock.time_s()
    if not changes.stream_enabled(table):  # AWS turns the stream on for replication
        table["stream"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        schema.enable_stream(table, now)
    from cloudlet.services.dynamodb import streamlog, tables

    tables.create_table(there, _create_request(table, spec))
    fellows = members(table)
    with there.tx() as tb:
        replica = storage.get_table(tb, name)
        replica["replicas"] = [{"region": ctx.region, "status": ACTIVE}] + [dict(m) for m in fellows]
        replica["status"] = "CREATING"
        storage.put_table(tb, replica)
    for m in fellows:
        _edit(ctx, m["region"], name, lambda other: other.setdefault("replicas", []).append(
            {"region": region, "status": CREATING}))
    table["replicas"] = fellows + [{"region": region, "status": CREATING}]
    table["status"] = "UPDATING"
    storage.put_table(t, table)
    streamlog.on_table_change(ctx, t, table)
    if ctx.gateway is not None:
        ctx.gateway.scheduler.at(
            f"{SEED}/{ctx.account}/{region}/{replica['id'].hex()}", now, SEED,
            {"account": ctx.account, "source": ctx.region, "target": region, "name": name,
             "sid": table["id"], "tid": replica["id"], "after": None})


def _create_request(table: Table, spec: Input) -> Input:
    """CreateTable for a new replica: the table's schema, indexes and settings."""
    req: Input = {
        "TableName": table["name"],
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": table["stream"],
        "TableClass": spec.get("TableClassOverride") or table["class"],
    }
    gsis = [{"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
            for i in table.get("indexes") or () if not i["local"]]
    lsis = [{"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
            for i in table.get("indexes") or () if i["local"]]
    if gsis:
        req["GlobalSecondaryIndexes"] = gsis
    if lsis:
        req["LocalSecondaryIndexes"] = lsis
    if table.get("sse"):
        req["SSESpecification"] = table["sse"]
    on_demand = spec.get("OnDemandThroughputOverride") or table.get("on_demand")
    if on_demand:
        req["OnDemandThroughput"] = on_demand
    return req


def _delete(ctx: Context, t: Tx, table: Table, region: str) -> list[dict[str, str]]:
    name = table["name"]
    if region not in [m["region"] for m in members(table)]:
        raise _not_members(region)
    there = _in_region(ctx, region)
    with there.tx() as tb:
        replica = storage.find_table(tb, name)
        if replica is not None and replica["protection"]:
            raise invalid(f"Cannot delete table {name} in region {region} because it has deletion protection "
                          "enabled. Disable deletion protection first.")
        if replica is not None:
            replica["replicas"] = []
            storage.put_table(tb, replica)
            _forget(tb, replica)
    shown = [dict(m, status=DELETING) if m["region"] == region else dict(m) for m in members(table)]
    for m in members(table):
        if m["region"] != region:
            _edit(ctx, m["region"], name, lambda other: _leave(other, region))
    _leave(table, region)
    if not members(table):
        _forget(t, table)
    storage.put_table(t, table)
    if replica is not None:
        from cloudlet.services.dynamodb import tables

        tables.delete_table(there, {"TableName": name})
    return shown


def _update_member(ctx: Context, table: Table, spec: Input) -> None:
    region = spec["RegionName"]
    if region not in [m["region"] for m in members(table)]:
        raise _not_members(region)
    if spec.get("ProvisionedThroughputOverride"):
        raise invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
                      "PAY_PER_REQUEST")
    if spec.get("GlobalSecondaryIndexes") or spec.get("KMSMasterKeyId"):
        raise invalid("cloudlet does not implement per-replica index or KMS key overrides yet")

    def apply(replica: Table) -> None:
        if spec.get("TableClassOverride"):
            replica["class"] = spec["TableClassOverride"]
        if spec.get("OnDemandThroughputOverride"):
            replica["on_demand"] = spec["OnDemandThroughputOverride"]

    _edit(ctx, region, table["name"], apply)


def _leave(table: Table, region: str) -> None:
    table["replicas"] = [m for m in members(table) if m["region"] != region]
    if not table["replicas"]:
        table.pop("replicas")


def _edit(ctx: Context, region: str, name: str, change: Any) -> None:
    """Change the table `name` in another region, in a nested transaction."""
    with _in_region(ctx, region).tx() as tb:
        other = storage.find_table(tb, name)
        if other is not None:
            change(other)
            storage.put_table(tb, other)


def _forget(t: Tx, table: Table) -> None:
    """Drop what replication kept for a table that is no longer global."""
    for kind in (STAMPS, QUEUE):
        storage.drop_records(t, kind, table["id"], BATCH)


def check_stream_change(table: Table, spec: Input) -> None:
    """UpdateTable's StreamSpecification on a global table: the stream stays on."""
    if members(table) and not spec.get("StreamEnabled"):
        raise invalid("One or more parameter values were invalid: Disabling Stream is not allowed for a Global "
                      "Table replica.")


def replicate_index_updates(ctx: Context, table: Table, updates: list[Input], definitions: list[Input] | None) -> None:
    """GSI creations and deletions on a global table happen in every replica (AWS keeps
    the group's indexes alike), each backfilled in its own region."""
    from cloudlet.services.dynamodb import indexes

    for m in members(table):
        there = _in_region(ctx, m["region"])
        with there.tx() as tb:
            replica = storage.find_table(tb, table["name"])
            if replica is None:
                continue
            if definitions:
                known = {a["AttributeName"]: a for a in replica["AttributeDefinitions"]}
                known.update({a["AttributeName"]: a for a in definitions})
                replica["AttributeDefinitions"] = list(known.values())
            for u in updates:
                if "Update" in u:
                    continue  # throughput is per region
                indexes.apply_update(tb, replica, u)
            if replica.get("pending_backfills"):
                indexes.schedule_backfills(there, replica)
            storage.put_table(tb, replica)


def on_table_deleted(ctx: Context, t: Tx, table: Table) -> None:
    """DeleteTable of one replica: it leaves the group (the others keep theirs), and what
    replication kept for it goes."""
    for m in members(table):
        _edit(ctx, m["region"], table["name"], lambda other: _leave(other, ctx.region))
    _forget(t, table)


# replication ------------------------------------------------------------------------------
def on_write(ctx: Context, t: Tx, table: Table, old: Item | None, new: Item | None) -> None:
    """A local write to a global table (in its transaction): stamp it and queue it."""
    ref = new if new is not None else old
    assert ref is not None
    key = storage.item_key(table, ref)
    stamp = clock.sequence()
    t.put(STAMPS, key, [stamp, t.region])
    t.put(QUEUE, table["id"] + stamp.to_bytes(8, "big"),
          {"key": key[len(table["id"]):], "item": new, "stamp": stamp, "origin": t.region})
    if ctx.gateway is not None:
        ctx.gateway.scheduler.at(
            f"{DRAIN}/{t.account}/{t.region}/{table['id'].hex()}", clock.time_s(), DRAIN,
            {"account": t.account, "region": t.region, "name": table["name"], "id": table["id"]})


def _apply(ctx: Context, t: Tx, table: Table, change: dict[str, Any], *, record: bool = True) -> bool:
    """Apply one change from another region if it is newer than what this replica has."""
    key = table["id"] + change["key"]
    incoming = [change["stamp"], change["origin"]]
    held = t.get(STAMPS, key)
    if held is not None and list(held.value) >= incoming:
        return False
    t.put(STAMPS, key, incoming)
    rec = t.get("i", key)
    old = None if rec is None else rec.value
    new = change["item"]
    if old is None and new is None:
        return True
    storage.write_item(t, table, old, new)
    if record:
        changes.record(ctx, t, table, old, new, replicated=True)
    return True


def _is_member(table: Table | None, region: str) -> bool:
    return table is not None and region in [m["region"] for m in members(table)]


def _drain(job: "Job") -> None:
    """Apply a table's queued changes to the other replicas, a batch per transaction."""
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    while True:
        with ctx.tx() as t:
            table = storage.find_table(t, p["name"])
            if table is None or table["id"] != p["id"]:
                _forget(t, {"id": p["id"]})
                return
            recs = t.scan(QUEUE, table["id"], limit=BATCH)
            gone = []
            for m in members(table):
                there = _in_region(ctx, m["region"])
                with there.tx() as tb:
                    replica = storage.find_table(tb, table["name"])
                    if not _is_member(replica, ctx.region):
                        gone.append(m["region"])  # deleted in its region, or re-created apart
                        continue
                    assert replica is not None
                    for r in recs:
                        _apply(there, tb, replica, r.value)
            for region in gone:
                _leave(table, region)
            if gone:
                storage.put_table(t, table)
            for r in recs:
                t.delete(QUEUE, r.key)
        if len(recs) < BATCH:
            return


def _seed(job: "Job") -> None:
    """Copy the source table's items into a new replica, a batch per run, then mark the
    replica ACTIVE everywhere."""
    p = job.payload
    ctx = job.context(p["account"], p["source"])
    there = _in_region(ctx, p["target"])
    with ctx.tx() as t:
        source = storage.find_table(t, p["name"])
        with there.tx() as tb:
            replica = storage.find_table(tb, p["name"])
            if source is None or replica is None or source["id"] != p["sid"] or replica["id"] != p["tid"]:
                return
            recs = t.scan("i", source["id"], after=p["after"], limit=BATCH)
            for r in recs:
                held = t.get(STAMPS, r.key)
                stamp = list(held.value) if held is not None else [0, ctx.region]
                _apply(there, tb, replica, {"key": r.key[len(source["id"]):], "item": r.value,
                                            "stamp": stamp[0], "origin": stamp[1]}, record=False)
            if len(recs) == BATCH:
                job.gateway.scheduler.at(job.key, job.now_s, SEED, {**p, "after": recs[-1].key})
                return
            replica["status"] = "ACTIVE"
            storage.put_table(tb, replica)
        for m in members(source):
            if m["region"] != p["target"]:
                _edit(ctx, m["region"], p["name"], lambda other: _activate(other, p["target"]))
        _activate(source, p["target"])
        source["status"] = "ACTIVE"
        storage.put_table(t, source)


def _activate(table: Table, region: str) -> None:
    for m in members(table):
        if m["region"] == region:
            m["status"] = ACTIVE
