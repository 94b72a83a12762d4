"""Query and Scan: range scans of the store in key order, 1 MB pages, filters after reads.

A Query is one range scan: the key condition becomes ``lo <= key < hi`` bounds over the
encoded keys (``keys.py``), read forward or backward in batches. Scan reads the table (or
index) in key order; parallel scans split it by a hash of the partition key. A page
stops at ``Limit`` items read (before the filter, as DynamoDB counts) or at 1 MB read.
"""

from __future__ import annotations

import zlib
from typing import Any, Iterator

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import capacity, exprs, keys, metrics, storage, throttle, values
from cloudlet.services.dynamodb.storage import Item, Table
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]

PAGE_BYTES = 1024 * 1024
_BATCH = 200


def _target(table: Table, index_name: str | None) -> tuple[dict[str, Any] | None, tuple[str, str | None]]:
    if index_name is None:
        return None, table["keys"]
    for index in table.get("indexes") or ():
        if index["IndexName"] == index_name:
            if index.get("backfilling"):
                raise invalid(f"Cannot read from backfilling global secondary index: {index_name}")
            return index, index["keys"]
    raise invalid(f"The table does not have the specified index: {index_name}")


def _select(req: Input, index: dict[str, Any] | None, compiled: Any) -> str:
    select = req.get("Select")
    if select is None:
        if compiled.projection is not None:
            return "SPECIFIC_ATTRIBUTES"
        return "ALL_PROJECTED_ATTRIBUTES" if index is not None else "ALL_ATTRIBUTES"
    if select == "SPECIFIC_ATTRIBUTES" and compiled.projection is None:
        raise invalid("Must specify the AttributesToGet or ProjectionExpression when choosing to get "
                      "SPECIFIC_ATTRIBUTES")
    if select != "SPECIFIC_ATTRIBUTES" and compiled.projection is not None:
        raise invalid("Cannot specify the AttributesToGet or ProjectionExpression when choosing to get "
                      f"{select}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise invalid("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    if select == "ALL_ATTRIBUTES" and index is not None and index["Projection"].get("ProjectionType") != "ALL":
        if not index["local"]:
            raise invalid("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
                          "supported for global secondary index " + index["IndexName"] + " because its projection "
                          "type is not ALL")
    return select


def _start_key(table: Table, index: dict[str, Any] | None, start: Item | None) -> bytes | None:
    """The record key an ExclusiveStartKey names."""
    if start is None:
        return None
    needed = [k for k in table["keys"] if k] + ([k for k in index["keys"] if k] if index else [])
    if any(k not in start for k in needed) or set(start) - set(needed):
        raise invalid("The provided starting key is invalid: The provided key element does not match the schema")
    if index is None:
        return storage.item_key(table, start)
    k = storage.index_key(table, index, start)
    if k is None:
        raise invalid("The provided starting key is invalid")
    return k


def _last_key(table: Table, index: dict[str, Any] | None, item: Item) -> Item:
    names = [k for k in table["keys"] if k] + ([k for k in index["keys"] if k] if index else [])
    return {k: item[k] for k in dict.fromkeys(names) if k in item}


def _read(t: Tx, table: Table, index: dict[str, Any] | None, lo: bytes, hi: bytes, after: bytes | None,
          forward: bool) -> Iterator[tuple[bytes, Item]]:
    kind = "i" if index is None else "x"
    last = after
    while True:
        recs = t.scan(kind, None, after=last, reverse=not forward, limit=_BATCH, lo=lo, hi=hi)
        for r in recs:
            yield r.key, r.value
        if len(recs) < _BATCH:
            return
        last = recs[-1].key


def _page(ctx: Context, t: Tx, table: Table, index: dict[str, Any] | None, rows: Iterator[tuple[bytes, Item]], req: Input,
          compiled: Any, select: str, keep: Any = None) -> Output:
    limit = req.get("Limit")
    if limit is not None and limit < 1:
        raise invalid("1 validation error detected: Value '" + str(limit) + "' at 'limit' failed to satisfy "
                      "constraint: Member must have value greater than or equal to 1")
    items: list[Item] = []
    read: list[Item] = []
    scanned = 0
    size = 0
    last: Item | None = None
    more = False
    for _key, item in rows:
        if keep is not None and not keep(item):
            continue
        if (limit is not None and scanned >= limit) or size >= PAGE_BYTES:
            more = True
            break
        scanned += 1
        size += values.item_size(item)
        read.append(item)
        last = item
        if index is not None and select == "ALL_ATTRIBUTES" and index["Projection"].get("ProjectionType") != "ALL":
            item = storage.get_item(t, table, item) or item  # an LSI fetches the rest from the table
        if compiled.filter is not None and not compiled.filter.matches(item):
            continue
        items.append(item)
    out: Output = {"Count": len(items), "ScannedCount": scanned}
    if select != "COUNT":
        out["Items"] = [compiled.projection.apply(i) for i in items] if compiled.projection is not None else items
    if more and last is not None:
        out["LastEvaluatedKey"] = _last_key(table, index, last)
    consistent = bool(req.get("ConsistentRead"))
    units = capacity.size_read_units(size, consistent)
    throttle.read(ctx, table, units, index, returned=len(items))
    capacity.read(out, req, table, read, consistent, index["IndexName"] if index else None, units=units)
    return out


@metrics.measured
def query(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        table = storage.get_table(t, storage.table_name(req["TableName"]))
        index, (hash_key, range_key) = _target(table, req.get("IndexName"))
        if req.get("ConsistentRead") and index is not None and not index["local"]:
            raise invalid("Consistent reads are not supported on global secondary indexes")
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        compiled = exprs.for_query(req, hash_key, range_key, {k: types[k] for k in (hash_key, range_key) if k})
        select = _select(req, index, compiled)
        kc = compiled.key_condition
        base = storage.partition_prefix(table, kc.hash_value) if index is None else (
            storage.index_prefix(table, index["no"]) + keys.encode(kc.hash_value)
        )
        lo, hi = _bounds(base, kc)
        forward = req.get("ScanIndexForward", True) is not False
        after = _start_key(table, index, req.get("ExclusiveStartKey"))
        rows = _read(t, table, index, lo, hi, after, forward)
        return _page(ctx, t, table, index, rows, req, compiled, select)


def _bounds(base: bytes, kc: Any) -> tuple[bytes, bytes]:
    """Key-condition bounds over the encoded keys: ``lo <= key < hi``."""
    end = keys.successor(base)
    op = kc.range_op
    if op is None:
        return base, end
    v = [keys.encode(x) for x in kc.range_values]
    if op == "=":
        return base + v[0], keys.successor(base + v[0])
    if op == "<":
        return base, base + v[0]
    if op == "<=":
        return base, keys.successor(base + v[0])
    if op == ">":
        return keys.successor(base + v[0]), end
    if op == ">=":
        return base + v[0], end
    if op == "BETWEEN":
        if v[0] > v[1]:
            raise invalid("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
                          "than or equal to lower bound; lower bound operand: AttributeValue: "
                          f"{_show(kc.range_values[0])}, upper bound operand: AttributeValue: {_show(kc.range_values[1])}")
        return base + v[0], keys.successor(base + v[1])
    if op == "begins_with":
        p = base + keys.prefix_of(kc.range_values[0])
        return p, keys.successor(p)
    raise invalid("Query key condition not supported")


def _show(value: dict[str, Any]) -> str:
    kind, v = next(iter(value.items()))
    return "{" + f"{kind}:{v}" + "}"


@metrics.measured
def scan(ctx: Context, req: Input) -> Output:
    segment, total = req.get("Segment"), req.get("TotalSegments")
    if (segment is None) != (total is None):
        raise invalid("The TotalSegments parameter is required but was not present in the request when Segment "
                      "parameter is present" if total is None else
                      "The Segment parameter is required but was not present in the request when parameter "
                      "TotalSegments is present")
    if segment is not None and segment >= total:
        raise invalid(f"The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                      f"Segment: {segment} is not less than TotalSegments: {total}")
    with ctx.tx() as t:
        table = storage.get_table(t, storage.table_name(req["TableName"]))
        index, (hash_key, _) = _target(table, req.get("IndexName"))
        compiled = exprs.for_scan(req)
        select = _select(req, index, compiled)
        base = table["id"] if index is None else storage.index_prefix(table, index["no"])
        after = _start_key(table, index, req.get("ExclusiveStartKey"))
        rows = _read(t, table, index, base, keys.successor(base), after, True)
        keep = None
        if total is not None:
            def in_segment(item: Item) -> bool:
                return zlib.crc32(keys.encode(item[hash_key])) % total == segment

            keep = in_segment
        return _page(ctx, t, table, index, rows, req, compiled, select, keep)
