"""Items: PutItem, GetItem, UpdateItem, DeleteItem.

Each is one transaction: read the current item, check the condition, write the new item
and its index entries, record the change for the stream, and answer after the commit.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import capacity, changes, exprs, itemkeys, metrics, storage, throttle, values
from cloudlet.services.dynamodb.storage import Item
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]


def _condition_failed(old: Item | None, req: Input) -> ServiceError:
    fields = {}
    if old is not None and req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
        fields["Item"] = old
    return ServiceError("ConditionalCheckFailedException", "The conditional request failed", 400, fields=fields)


def _return_values(req: Input, allowed: tuple[str, ...]) -> str:
    rv = req.get("ReturnValues") or "NONE"
    if rv not in allowed:
        raise invalid("Return values set to invalid value")
    return rv


def _write(ctx: Context, t: Tx, table: storage.Table, old: Item | None, new: Item | None,
           new_size: int | None = None, rk: bytes | None = None, old_bound: int | None = None) -> float:
    """Charge a write and make it, with its stream record; deleting nothing writes nothing.
    `new_size`, the record key `rk` and a bound on the old item's size when the caller has them."""
    units = throttle.write(ctx, table, old, new, new_size, old_bound)
    if old is not None or new is not None:
        storage.write_item(t, table, old, new, rk)
        changes.record(ctx, t, table, old, new)
    return units


def _old_attributes(rv: str, old: Item | None) -> Output:
    """The answer's Attributes for ReturnValues ALL_OLD (none when there was no item)."""
    return {"Attributes": old} if rv == "ALL_OLD" and old is not None else {}


def _checked_old(ctx: Context, t: Tx, table: storage.Table, key: Item, condition: Any, req: Input,
                 rk: bytes | None = None) -> Item | None:
    """The item a write replaces, once the write is admitted and its condition holds."""
    return _admitted(ctx, table, storage.get_item(t, table, key, rk), condition, req)


def _admitted(ctx: Context, table: storage.Table, old: Item | None, condition: Any, req: Input) -> Item | None:
    throttle.admit_write(ctx, table)
    if condition is not None and not condition.matches(old or {}):
        throttle.refused_write(ctx, table, old)
        raise _condition_failed(old, req)
    return old


@metrics.measured
def put_item(ctx: Context, req: Input) -> Output:
    item = req["Item"]
    rv = _return_values(req, ("NONE", "ALL_OLD"))
    compiled = exprs.for_write(req)
    size = values.check_item(item)
    with ctx.tx() as t:
        table = storage.item_table(t, storage.table_name(req["TableName"]))
        itemkeys.check_item_keys(table, item)
        rk = storage.item_key(table, item)
        old, bound = storage.get_item_bounded(t, table, item, rk)
        old = _admitted(ctx, table, old, compiled.condition, req)
        units = _write(ctx, t, table, old, item, size, rk, bound)
    out = _old_attributes(rv, old)
    capacity.write(out, req, table, old, item, units)
    return out


@metrics.measured
def get_item(ctx: Context, req: Input) -> Output:
    compiled = exprs.for_read(req)
    with ctx.tx() as t:
        table = storage.item_table(t, storage.table_name(req["TableName"]))
        itemkeys.check_key(table, req["Key"])
        item = storage.get_item(t, table, req["Key"])
    consistent = bool(req.get("ConsistentRead"))
    units = capacity.item_read_units(item, consistent)
    throttle.read(ctx, table, units)
    out: Output = {}
    if item is not None:
        out["Item"] = compiled.projection.apply(item) if compiled.projection is not None else item
    capacity.read(out, req, table, [item] if item is not None else [], consistent, units=units)
    return out


@metrics.measured
def delete_item(ctx: Context, req: Input) -> Output:
    rv = _return_values(req, ("NONE", "ALL_OLD"))
    compiled = exprs.for_write(req, "DeleteItem")
    with ctx.tx() as t:
        table = storage.item_table(t, storage.table_name(req["TableName"]))
        itemkeys.check_key(table, req["Key"])
        old = _checked_old(ctx, t, table, req["Key"], compiled.condition, req)
        units = _write(ctx, t, table, old, None)
    out = _old_attributes(rv, old)
    capacity.write(out, req, table, old, None, units)
    return out


@metrics.measured
def update_item(ctx: Context, req: Input) -> Output:
    rv = _return_values(req, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
    compiled = exprs.for_update(req)
    key = req["Key"]
    with ctx.tx() as t:
        table = storage.item_table(t, storage.table_name(req["TableName"]))
        itemkeys.check_key(table, key)
        table_keys = [k for k in table["keys"] if k]
        index_keys = [k for i in table.get("indexes") or () for k in i["keys"] if k]
        if compiled.update is not None:
            compiled.update.check_keys(table_keys, index_keys)
        if compiled.condition is not None:
            compiled.condition.check_keys(table_keys, index_keys)
        old = _checked_old(ctx, t, table, key, compiled.condition, req)
        if old is None and compiled.update is not None and compiled.update.only_removes:
            nothing: Output = {}  # removing from an item that is not there creates nothing
            capacity.write(nothing, req, table, None, None, units=throttle.write(ctx, table, None, None))
            return nothing
        base = dict(old) if old is not None else dict(key)
        new = compiled.update.apply(base) if compiled.update is not None else base
        for k in table["keys"]:
            if k is not None and (new.get(k) is None or not values.equal(new[k], key[k])):
                raise invalid(
                    "One or more parameter values were invalid: Cannot update attribute "
                    f"{k}. This attribute is part of the key"
                )
        size = values.check_item(new, update=True)
        itemkeys.check_item_keys(table, new)
        units = _write(ctx, t, table, old, new, size)
    out = _old_attributes(rv, old)
    if rv == "ALL_NEW":
        out["Attributes"] = new
    elif rv in ("UPDATED_OLD", "UPDATED_NEW") and compiled.update is not None:
        source = old if rv == "UPDATED_OLD" else new
        if source is not None:
            attrs = compiled.update.updated(source)
            if attrs:
                out["Attributes"] = attrs
    capacity.write(out, req, table, old, new, units)
    return out
