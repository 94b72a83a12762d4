"""The legacy global tables API (version 2017.11.29): CreateGlobalTable, UpdateGlobalTable,
DescribeGlobalTable, ListGlobalTables, DescribeGlobalTableSettings,
UpdateGlobalTableSettings.

DynamoDB no longer creates version 2017.11.29 global tables: creating one, or adding a
replica to one, is refused with the message below, and every other call answers as for a
global table that does not exist (a 2019.11.21 table, managed with UpdateTable's
ReplicaUpdates in ``replicas``, is not one of them: DescribeGlobalTable does not know it,
and ListGlobalTables lists none). cloudlet answers the same way.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError

Input = dict[str, Any]
Output = dict[str, Any]

_LEGACY = ("One or more parameter values were invalid: DynamoDB global tables version 2017.11.29 is not supported. "
           "We recommend using DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy).")


def _not_found(name: str, prefix: bool = False) -> ServiceError:
    message = f"Global table with name: '{name}' does not exist."
    return ServiceError("GlobalTableNotFoundException", ("Global table not found: " if prefix else "") + message, 400)


def create_global_table(ctx: Context, req: Input) -> Output:
    raise ServiceError("ValidationException", _LEGACY, 400)


def update_global_table(ctx: Context, req: Input) -> Output:
    updates = req["ReplicaUpdates"]
    if not updates:
        raise ServiceError("ValidationException", "One or more parameter values were invalid", 400)
    if any(u.get("Create") for u in updates):  # refused before the table is even looked up
        raise ServiceError("ValidationException", _LEGACY, 400)
    raise _not_found(req["GlobalTableName"])


def describe_global_table(ctx: Context, req: Input) -> Output:
    raise _not_found(req["GlobalTableName"], prefix=True)


def list_global_tables(ctx: Context, req: Input) -> Output:
    return {"GlobalTables": []}


def describe_global_table_settings(ctx: Context, req: Input) -> Output:
    raise _not_found(req["GlobalTableName"])


def update_global_table_settings(ctx: Context, req: Input) -> Output:
    raise _not_found(req["GlobalTableName"])
