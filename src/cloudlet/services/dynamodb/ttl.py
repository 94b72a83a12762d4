"""Time to Live: DynamoDB deletes items whose TTL attribute, a Number of epoch seconds, is
in the past.

One scheduler job per table with TTL enabled (``dynamodb.ttl/<account>/<region>/<table
id>``), put by ``on_table_change`` in the transaction that enables TTL, so it survives
restarts; it ends itself when TTL is disabled or the table is deleted (a re-created table
has another id, hence another job). AWS deletes expired items "typically within a few
days"; cloudlet sweeps every minute of cloudlet time, so a test that moves the clock past
an expiry sees the item gone.

Each deletion is DynamoDB's own: it goes through ``storage.write_item`` (indexes follow)
and is recorded for the stream as made by the service (``userIdentity`` of
``dynamodb.amazonaws.com``). Until the sweep runs, an expired item is still read, queried
and scanned, as in AWS. Only a top-level Number counts; any other type, a missing
attribute, or a time more than five years before the sweep leaves the item alone, as AWS
documents.

Clock jumps: the job declares catch-up, so a jump runs it once at the last missed minute
with ``job.runs`` missed sweeps; an item counts as expired if it was in any of them, so
the five-year limit is taken from the first missed sweep (a 10-year jump still deletes what
expired in its first year).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import changes, storage

if TYPE_CHECKING:
    from cloudlet.core.scheduler import Job, Scheduler

JOB = "dynamodb.ttl"
PERIOD = 60.0
BATCH = 500  # items read per transaction
MAX_AGE = 5 * 365 * 86_400.0  # items expired longer ago than this are never deleted


def register(scheduler: "Scheduler") -> None:
    scheduler.register(JOB, run)


def job_key(account: str, region: str, table: storage.Table) -> str:
    return f"{JOB}/{account}/{region}/{table['id'].hex()}"


def enabled(table: storage.Table) -> bool:
    ttl = table.get("ttl")
    return bool(ttl and ttl.get("enabled")) and table.get("status") != "DELETING"


def on_table_change(ctx: Context, t: Tx, table: storage.Table) -> None:
    """Schedule the sweep when TTL is enabled, drop it when disabled (inside the change's tx).
    Enabling again keeps a running schedule."""
    if ctx.gateway is None:
        raise RuntimeError("TTL needs the gateway's scheduler")
    scheduler = ctx.gateway.scheduler
    key = job_key(t.account, t.region, table)
    if enabled(table):
        scheduler.every(key, PERIOD, JOB, catch_up=True,
                        payload={"account": t.account, "region": t.region, "table": table["name"],
                                 "id": table["id"].hex()})
    else:
        scheduler.cancel(key)


def expired(value: Any, since: float, until: float) -> bool:
    """Whether a TTL attribute's value is an expiry time in ``[since - 5 years, until)``."""
    if not isinstance(value, dict) or set(value) != {"N"}:
        return False
    try:
        at = Decimal(value["N"])
    except (InvalidOperation, TypeError):
        return False
    return at.is_finite() and since - MAX_AGE <= at < until


def run(job: "Job") -> None:
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    until = job.now_s
    since = until - (job.runs - 1) * (job.period or PERIOD)
    cursor: bytes | None = None
    while True:
        with ctx.tx() as t:
            table = storage.find_table(t, p["table"])
            if table is None or table["id"].hex() != p["id"] or not enabled(table):
                live = False
            else:
                live = True
                attr = table["ttl"]["AttributeName"]
                recs = t.scan("i", table["id"], after=cursor, limit=BATCH)
                for rec in recs:
                    item = rec.value
                    if expired(item.get(attr), since, until):
                        storage.write_item(t, table, item, None)
                        changes.record(ctx, t, table, item, None, by_service=True)
        if not live:
            job.gateway.scheduler.cancel(job.key)
            return
        if len(recs) < BATCH:
            return
        cursor = recs[-1].key  # type: ignore[assignment]
