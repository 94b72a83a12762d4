"""Amazon DynamoDB: tables with global and local secondary indexes (added ones backfilled),
items with the whole expression language and its legacy parameters, queries and scans in
DynamoDB's key order from an order-preserving key encoding, batches, transactions
(all-or-nothing, cancellation reasons, idempotency tokens), PartiQL, streams
(``dynamodbstreams``), TTL expiry on the cloudlet clock, on-demand backups and
point-in-time recovery to any second, global tables (2019.11.21) with last-writer-wins
replication, export to and import from S3, resource policies, and provisioned capacity
that throttles, with CloudWatch metrics.

Module map: handlers in ``MODULES``; ``storage`` (the record layout), ``keys`` (the
order-preserving encoding), ``schema`` (table checks and descriptions), ``itemkeys``,
``exprs`` over ``expressions/`` (the language), ``values`` (numbers, sets, sizes),
``capacity``, ``throttle``, ``metrics``, ``changes`` (every write's change record, for
``streamlog`` and ``history``), ``history`` (backups and the PITR log), ``indexes``
(backfills), ``ttl``, ``replicas``, ``exportjobs`` / ``importjobs`` / ``ddbjson``,
``partiql/``.
"""

from __future__ import annotations

from typing import Any

MODULES = ["tables", "items", "queries", "batches", "backups", "pitr", "transactions", "partiql.statements",
           "globaltables", "exports", "policies"]


def audit(operation: str, params: dict[str, Any] | None, output: dict[str, Any] | None) -> tuple[Any, Any]:
    """What the audit trail keeps of a call (no item values: ``auditing``)."""
    global _audited
    if _audited is None:  # imported on first use, not with the package (start-up)
        from cloudlet.services.dynamodb.auditing import audited

        _audited = audited
    return _audited(operation, params, output)


_audited: Any = None


def register_jobs(scheduler: Any) -> None:
    from cloudlet.services.dynamodb import exportjobs, importjobs, indexes, replicas, streamlog, ttl

    exportjobs.register(scheduler)
    importjobs.register(scheduler)
    replicas.register(scheduler)
    indexes.register(scheduler)
    streamlog.register(scheduler)
    ttl.register(scheduler)


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> list[str]:
    """The table (or index, or each table of a batch or transaction) a call acts on, for IAM."""
    base = f"arn:{ctx.partition}:dynamodb:{ctx.region}:{ctx.account}:table/"

    def arn(name: str, index: str | None = None) -> str:
        if name.startswith("arn:"):
            return name
        return base + name + (f"/index/{index}" if index else "")

    if params.get("TableName"):
        return [arn(params["TableName"], params.get("IndexName"))]
    if params.get("ResourceArn"):
        return [params["ResourceArn"]]
    if params.get("TableArn"):
        return [params["TableArn"]]
    if isinstance(params.get("RequestItems"), dict):
        return [arn(name) for name in params["RequestItems"]]
    if params.get("TransactItems"):
        names = []
        for item in params["TransactItems"]:
            for spec in item.values():
                if isinstance(spec, dict) and spec.get("TableName") and arn(spec["TableName"]) not in names:
                    names.append(arn(spec["TableName"]))
        return names or ["*"]
    if params.get("BackupArn"):
        return [params["BackupArn"]]
    return ["*"]
