"""Amazon DynamoDB: tables with global and local secondary indexes, items with the whole
expression language, queries and scans in DynamoDB's key order from an order-preserving
key encoding, batches, and the change records behind streams, kept in the store.

Module map: ``tables``, ``items``, ``queries``, ``batches`` (handlers); ``storage`` (the
record layout), ``keys`` (the order-preserving encoding), ``exprs`` (requests'
expressions and legacy parameters, compiled by ``expressions/``), ``values`` (numbers,
sets, sizes), ``capacity``, ``changes`` (stream records).
"""

from __future__ import annotations

from typing import Any

MODULES = ["tables", "items", "queries", "batches", "backups", "pitr", "transactions", "partiql.statements"]


def register_jobs(scheduler: Any) -> None:
    from cloudlet.services.dynamodb import indexes, streamlog, ttl

    indexes.register(scheduler)
    streamlog.register(scheduler)
    ttl.register(scheduler)
