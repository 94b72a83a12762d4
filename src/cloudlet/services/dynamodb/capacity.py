"""Consumed capacity, with DynamoDB's arithmetic: a write costs one unit per started KB of
the larger of the old and new item, a read one unit per started 4 KB (half for an
eventually consistent read), transactions twice that."""

from __future__ import annotations

import math
from typing import Any, Iterable

from cloudlet.services.dynamodb import values

Item = dict[str, Any]


def write_units(old: Item | None, new: Item | None, new_size: int | None = None,
                old_bound: int | None = None) -> float:
    """`new_size` when the caller has sized `new` already (``values.check_item`` does);
    `old_bound`, an upper bound on `old`'s size, spares sizing it when it cannot matter."""
    if new_size is None:
        new_size = values.item_size(new) if new else 0
    units = max(1, math.ceil(new_size / 1024))
    if old and (old_bound is None or old_bound > units * 1024):
        units = max(units, math.ceil(values.item_size(old) / 1024))
    return float(units)


def read_units(items: Iterable[Item], consistent: bool) -> float:
    size = sum(values.item_size(i) for i in items)
    units = max(1, math.ceil(size / 4096))
    return float(units if consistent else units / 2)


def item_read_units(item: Item | None, consistent: bool) -> float:
    """`read_units` of one item (or none): GetItem's, without the list."""
    return size_read_units(values.item_size(item) if item is not None else 0, consistent)


def size_read_units(size: int, consistent: bool) -> float:
    """`read_units` of items whose sizes add up to `size` (a page already summed them)."""
    units = max(1, math.ceil(size / 4096))
    return float(units if consistent else units / 2)


def consumed(req: dict[str, Any], table: dict[str, Any], units: float, index: str | None = None,
             kind: str = "") -> dict[str, Any] | None:
    """The ConsumedCapacity member for ``ReturnConsumedCapacity`` TOTAL or INDEXES."""
    mode = req.get("ReturnConsumedCapacity") or "NONE"
    if mode == "NONE":
        return None
    out: dict[str, Any] = {"TableName": table["name"], "CapacityUnits": units}
    if kind:
        out[kind] = units
    if mode == "INDEXES":
        if index is None:
            out["Table"] = {"CapacityUnits": units, **({kind: units} if kind else {})}
        else:
            out["Table"] = {"CapacityUnits": 0.0}
            member = "LocalSecondaryIndexes" if _is_local(table, index) else "GlobalSecondaryIndexes"
            out[member] = {index: {"CapacityUnits": units, **({kind: units} if kind else {})}}
    return out


def _is_local(table: dict[str, Any], name: str) -> bool:
    return any(i["IndexName"] == name and i["local"] for i in table.get("indexes") or ())


def write(out: dict[str, Any], req: dict[str, Any], table: dict[str, Any], old: Item | None, new: Item | None,
          units: float | None = None) -> None:
    """`units` when the caller has them (``throttle`` sized the items already)."""
    if not req.get("ReturnConsumedCapacity") or req["ReturnConsumedCapacity"] == "NONE":
        return  # sizing the items costs more than the rest of a small write
    c = consumed(req, table, write_units(old, new) if units is None else units, kind="WriteCapacityUnits")
    if c is not None:
        out["ConsumedCapacity"] = c


def read(out: dict[str, Any], req: dict[str, Any], table: dict[str, Any], items: list[Item], consistent: bool,
         index: str | None = None, units: float | None = None) -> None:
    if not req.get("ReturnConsumedCapacity") or req["ReturnConsumedCapacity"] == "NONE":
        return
    c = consumed(req, table, read_units(items, consistent) if units is None else units, index,
                 kind="ReadCapacityUnits")
    if c is not None:
        out["ConsumedCapacity"] = c


def read_write(mode: str, name: str, read: float, write: float) -> dict[str, Any]:
    """One table's ConsumedCapacity for a request that may both read and write it
    (transactions, PartiQL batches): the read and write parts shown only when spent."""
    units: dict[str, float] = {"CapacityUnits": read + write}
    if read:
        units["ReadCapacityUnits"] = read
    if write:
        units["WriteCapacityUnits"] = write
    out: dict[str, Any] = {"TableName": name, **units}
    if mode == "INDEXES":
        out["Table"] = dict(units)
    return out
