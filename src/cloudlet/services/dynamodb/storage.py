"""The DynamoDB record layout, per account and region.

- ``t``  table name -> the table (schema, indexes, settings, its random ``id``)
- ``i``  ``id + enc(pk) + enc(sk)`` (bytes) -> the item, as the wire's AttributeValue map
- ``x``  ``id + index number + enc(index pk) + enc(index sk) + enc(pk) + enc(sk)`` -> the
  projected item, for each secondary index the item appears in

Keys are ``keys.encode``d so a Query is one range scan in DynamoDB's order. A table's
records start with its random id, so a re-created table never sees an old one's items.
"""

from __future__ import annotations

import os
import weakref
from typing import Any, Iterable

from cloudlet.core.errors import ServiceError
from cloudlet.core.store import ServiceDB, Tx
from cloudlet.services.dynamodb import keys

Table = dict[str, Any]
Item = dict[str, Any]


def not_found(name: str | None = None) -> ServiceError:
    message = "Requested resource not found"
    if name is not None:
        message += f": Table: {name} not found"
    return ServiceError("ResourceNotFoundException", message, 400)


def find_table(t: Tx, name: str) -> Table | None:
    rec = t.get("t", name)
    return None if rec is None else rec.value


def get_table(t: Tx, name: str, *, describe: bool = False) -> Table:
    table = find_table(t, name)
    if table is None:
        raise not_found(name if describe else None)
    return table


_TABLES: "weakref.WeakKeyDictionary[ServiceDB, dict[tuple[str, str, str], tuple[tuple[int, ...], Table]]]" = (
    weakref.WeakKeyDictionary())


def item_table(t: Tx, name: str) -> Table:
    """`get_table` for the item operations, which only read the table: the decoded record is
    kept until a table record of this database is written or a transaction rolls back
    (``ServiceDB.generation``), so a PutItem or GetItem reads no table record. The caller
    must not change the dict it gets."""
    db = t.db
    gen = db.generation("t")
    cache = _TABLES.get(db)
    if cache is None:
        cache = _TABLES[db] = {}
    key = (t.account, t.region, name)
    hit = cache.get(key)
    if hit is not None and hit[0] == gen:
        return hit[1]
    table = get_table(t, name)
    if len(cache) > 1000:
        cache.clear()
    cache[key] = (gen, table)
    return table


def table_name(ref: str) -> str:
    """A table given by name or ARN."""
    if ref.startswith("arn:"):
        return ref.rsplit("/", 1)[-1] if ":table/" in ref else ref
    return ref


def put_table(t: Tx, table: Table) -> None:
    t.put("t", table["name"], table)


def new_id() -> bytes:
    return os.urandom(8)


# keys -----------------------------------------------------------------------------------
def key_names(schema: list[dict[str, str]]) -> tuple[str, str | None]:
    hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def item_key(table: Table, item: Item) -> bytes:
    """The record key of an item (its key attributes already validated)."""
    h, r = table["keys"]
    k = table["id"] + keys.encode(item[h])
    if r is not None:
        k += keys.encode(item[r])
    return k


def partition_prefix(table: Table, hash_value: dict[str, Any]) -> bytes:
    return table["id"] + keys.encode(hash_value)


def index_prefix(table: Table, index_no: int) -> bytes:
    return table["id"] + bytes([index_no])


def index_key(table: Table, index: dict[str, Any], item: Item, rk: bytes | None = None) -> bytes | None:
    """Where an item sits in a secondary index, or None if it lacks the index's keys (sparse).
    `rk` is the item's record key when the caller has it."""
    h, r = index["keys"]
    hv = item.get(h)
    if hv is None or _key_type(hv) != index["types"][0]:
        return None
    k = index_prefix(table, index["no"]) + keys.encode(hv)
    if r is not None:
        rv = item.get(r)
        if rv is None or _key_type(rv) != index["types"][1]:
            return None
        k += keys.encode(rv)
    return k + (rk or item_key(table, item))[len(table["id"]):]


def _key_type(value: dict[str, Any]) -> str:
    return next(iter(value))


def project(index: dict[str, Any], table: Table, item: Item) -> Item:
    """The attributes an index keeps of an item (ALL, KEYS_ONLY or INCLUDE)."""
    projection = index["Projection"]
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return item
    wanted = {a for a in (*table["keys"], *index["keys"]) if a}
    if kind == "INCLUDE":
        wanted.update(projection.get("NonKeyAttributes") or ())
    return {k: v for k, v in item.items() if k in wanted}


def write_item(t: Tx, table: Table, old: Item | None, new: Item | None, rk: bytes | None = None) -> None:
    """Store `new` (or delete when None) and keep every secondary index in step. `rk` is
    the item's record key when the caller has it (both items have the same key)."""
    ref = new if new is not None else old
    assert ref is not None
    key = rk or item_key(table, ref)
    if new is None:
        t.delete("i", key)
    else:
        t.put("i", key, new)
    for index in table.get("indexes") or ():  # backfilling ones too: the backfill only adds
        before = index_key(table, index, old, key) if old is not None else None
        after = index_key(table, index, new, key) if new is not None else None
        if before is not None and before != after:
            t.delete("x", before)
        if after is not None:
            t.put("x", after, project(index, table, new))


def get_item(t: Tx, table: Table, key_item: Item, rk: bytes | None = None) -> Item | None:
    rec = t.get("i", rk or item_key(table, key_item))
    return None if rec is None else rec.value


def get_item_bounded(t: Tx, table: Table, key_item: Item, rk: bytes | None = None) -> tuple[Item | None, int]:
    """The item and a bound on its DynamoDB size: its stored CBOR is never shorter (every
    name, string, number and binary is there whole, plus headers and type tags), so a
    write whose new item is at least that large need not size the old one."""
    found = t.get_sized("i", rk or item_key(table, key_item))
    return (None, 0) if found is None else found


def drop_table_records(t: Tx, table: Table, batch: int = 1000) -> None:
    """Remove every item and index entry of a deleted table."""
    for kind in ("i", "x", "rp"):  # items, index entries, resource-policy slots
        drop_records(t, kind, table["id"], batch)


def drop_records(t: Tx, kind: str, prefix: bytes, batch: int = 1000) -> None:
    """Delete every record of `kind` under `prefix`, reading bounded batches."""
    while True:
        recs = t.scan(kind, prefix, limit=batch)
        for r in recs:
            t.delete(kind, r.key)
        if len(recs) < batch:
            return


def scan_range(t: Tx, kind: str, lo: bytes, hi: bytes, *, after: bytes | None, reverse: bool,
               limit: int) -> Iterable[Any]:
    return t.scan(kind, None, after=after, reverse=reverse, limit=limit, lo=lo, hi=hi)
