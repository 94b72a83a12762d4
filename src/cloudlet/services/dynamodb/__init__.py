"""Amazon DynamoDB: tables with global and local secondary indexes, items with the whole
expression language, queries and scans in DynamoDB's key order from an order-preserving
key encoding, batches, and the change records behind streams, kept in the store.

Module map: ``tables``, ``items``, ``queries``, ``batches`` (handlers); ``storage`` (the
record layout), ``keys`` (the order-preserving encoding), ``exprs`` (requests'
expressions and legacy parameters, compiled by ``expressions/``), ``values`` (numbers,
sets, sizes), ``capacity``, ``changes`` (stream records), ``replicas`` (global tables:
replica membership and write replication; ``globaltables`` answers the legacy API),
``exports`` (handlers) over ``exportjobs`` / ``importjobs`` (export to and import from
S3, with ``ddbjson`` for the file formats), ``policies`` (resource policies).
"""

from __future__ import annotations

from typing import Any

MODULES = ["tables", "items", "queries", "batches", "backups", "pitr", "transactions", "partiql.statements",
           "globaltables", "exports", "policies"]


def register_jobs(scheduler: Any) -> None:
    from cloudlet.services.dynamodb import exportjobs, importjobs, indexes, replicas, streamlog, ttl

    exportjobs.register(scheduler)
    importjobs.register(scheduler)
    replicas.register(scheduler)
    indexes.register(scheduler)
    streamlog.register(scheduler)
    ttl.register(scheduler)
