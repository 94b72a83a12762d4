"""Global secondary indexes added, changed and removed by UpdateTable.

A new index starts ``CREATING`` with ``Backfilling: true``: writes from then on keep it in
step only once backfilled, so a scheduler job (due at once, after the UpdateTable commits)
copies the existing items in bounded batches and then marks the index ``ACTIVE`` — the
states a client polling DescribeTable sees on AWS. Queries on a backfilling index are
refused as AWS refuses them.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.errors import ServiceError
from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import storage
from cloudlet.services.dynamodb.errors import invalid

BACKFILL = "dynamodb.backfill"
_BATCH = 500


def register(scheduler: Scheduler) -> None:
    scheduler.register(BACKFILL, _backfill)


def apply_update(t: Tx, table: dict[str, Any], update: dict[str, Any], scheduler: Any = None) -> None:
    from cloudlet.services.dynamodb import tables

    from cloudlet.services.dynamodb import schema

    indexes = table.setdefault("indexes", [])
    if "Create" in update:
        spec = update["Create"]
        if any(i["IndexName"] == spec["IndexName"] for i in indexes):
            raise invalid(f"One or more parameter values were invalid: Index already exists: {spec['IndexName']}")
        if len([i for i in indexes if not i["local"]]) >= tables.MAX_GSIS:
            raise ServiceError("LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be "
                               "created or deleted simultaneously per table", 400)
        defined = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        no = max([i["no"] for i in indexes] + [0]) + 1
        index = schema.index_spec(spec, defined, no, table["billing"], False, table["keys"])
        index["backfilling"] = True
        indexes.append(index)
        table.setdefault("pending_backfills", []).append(spec["IndexName"])
    elif "Delete" in update:
        name = update["Delete"]["IndexName"]
        index = _find(table, name)
        indexes.remove(index)
        prefix = storage.index_prefix(table, index["no"])
        while True:
            recs = t.scan("x", prefix, limit=_BATCH)
            for r in recs:
                t.delete("x", r.key)
            if len(recs) < _BATCH:
                break
    elif "Update" in update:
        spec = update["Update"]
        index = _find(table, spec["IndexName"])
        if spec.get("ProvisionedThroughput"):
            index["throughput"] = dict(spec["ProvisionedThroughput"])


def _find(table: dict[str, Any], name: str) -> dict[str, Any]:
    for index in table.get("indexes") or ():
        if index["IndexName"] == name and not index["local"]:
            return index
    raise ServiceError("ResourceNotFoundException", f"Requested resource not found: Index: {name} not found", 400)


def schedule_backfills(ctx: Any, table: dict[str, Any]) -> None:
    """Queue a backfill for each index UpdateTable just created (in its transaction)."""
    for name in table.pop("pending_backfills", []) or []:
        ctx.gateway.scheduler.at(
            f"{BACKFILL}/{ctx.account}/{ctx.region}/{table['name']}/{name}", clock.time_s(), BACKFILL,
            {"account": ctx.account, "region": ctx.region, "table": table["name"], "index": name,
             "id": table["id"], "after": None},
        )


def _backfill(job: Job) -> None:
    """One batch of a backfill; it reschedules itself until the table is copied."""
    p = job.payload
    with job.tx(p["account"], p["region"]) as t:
        table = storage.find_table(t, p["table"])
        if table is None or table["id"] != p["id"]:
            return
        index = next((i for i in table.get("indexes") or () if i["IndexName"] == p["index"]), None)
        if index is None or not index.get("backfilling"):
            return
        recs = t.scan("i", table["id"], after=p["after"], limit=_BATCH)
        for r in recs:
            k = storage.index_key(table, index, r.value)
            if k is not None:
                t.put("x", k, storage.project(index, table, r.value))
        if len(recs) == _BATCH:
            job.gateway.scheduler.at(job.key, job.now_s, BACKFILL, {**p, "after": recs[-1].key})
            return
        index.pop("backfilling", None)
        storage.put_table(t, table)
