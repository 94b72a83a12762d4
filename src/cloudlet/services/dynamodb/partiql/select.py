"""SELECT: range scans of the store in key order, the WHERE as a filter.

A WHERE that pins the partition key (``pk = v``, ``pk IN [...]``, or an OR of such)
reads only those partitions, in the order written (or sorted by ``ORDER BY pk``), each
forward or backward (``ORDER BY sk DESC``); any other WHERE reads the whole table or
index. The whole WHERE is then the filter, compiled by ``exprs`` from its translation,
so a key condition never needs a second implementation. A page stops after ``Limit``
items read (before the filter, as DynamoDB counts) or 1 MB read; ``NextToken`` says
which partition and key to go on from, and which statement it belongs to.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Iterator

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import capacity, exprs, keys, storage, values
from cloudlet.services.dynamodb.partiql import ast, literals, translate
from cloudlet.services.dynamodb.partiql.parser import output_name
from cloudlet.services.dynamodb.storage import Item, Table
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]
PAGE_BYTES = 1024 * 1024
_BATCH = 200
KEY_TYPE = "Key attribute's data type should match its data type in table's schema"


def find_index(table: Table, name: str | None) -> dict[str, Any] | None:
    if name is None:
        return None
    for index in table.get("indexes") or ():
        if index["IndexName"] == name:
            if index.get("backfilling"):
                raise invalid(f"Cannot read from backfilling global secondary index: {name}")
            return index
    raise invalid(f"The table does not have the specified index: {name}")


def key_type(table: Table, index: dict[str, Any] | None, name: str) -> str:
    if index is not None and name in index["keys"]:
        return str(index["types"][list(index["keys"]).index(name)])
    return next(a["AttributeType"] for a in table["AttributeDefinitions"] if a["AttributeName"] == name)


def resolve(item: Item, path: ast.Path) -> dict[str, Any] | None:
    """The value at a document path, or None when the item has nothing there."""
    value: Any = item.get(path.name)
    for step in path.steps[1:]:
        if value is None:
            return None
        if isinstance(step, int):
            seq = value.get("L")
            value = seq[step] if seq is not None and step < len(seq) else None
        else:
            members = value.get("M")
            value = members.get(step) if members is not None else None
    return value


def project(item: Item, paths: tuple[ast.Path, ...] | None) -> Item:
    if paths is None:
        return item
    out: Item = {}
    for path in paths:
        value = resolve(item, path)
        if value is not None:
            out[output_name(path)] = value
    return out


def run(ctx: Context, stmt: ast.Select, params: list[dict[str, Any]], req: Input) -> Output:
    consistent = bool(req.get("ConsistentRead"))
    with ctx.tx() as t:
        table = storage.get_table(t, storage.table_name(stmt.table))
        index = find_index(table, stmt.index)
        hash_key, range_key = index["keys"] if index is not None else table["keys"]
        if consistent and index is not None and not index["local"]:
            raise invalid("Consistent reads are not supported on global secondary indexes")
        _check_projection(table, index, stmt.projection)
        keep = None
        if stmt.where is not None:
            ph = translate.Placeholders(params)
            spec = ph.into({"TableName": table["name"], "FilterExpression": translate.condition(stmt.where, ph)})
            keep = translate.strip_prefix(exprs.for_scan, spec).filter
        bases, forward = _plan(table, index, stmt, params, hash_key, range_key)
        start = _read_token(req.get("NextToken"), _digest(req))
        out = _page(t, table, index, stmt, bases, forward, start, keep, req)
    capacity.read(out, req, table, out.pop("_read"), consistent, index["IndexName"] if index else None)
    return out


def _plan(table: Table, index: dict[str, Any] | None, stmt: ast.Select, params: list[dict[str, Any]],
          hash_key: str, range_key: str | None) -> tuple[list[bytes], bool]:
    """The key ranges to read (one per partition, or the whole table or index) and the
    direction."""
    root = table["id"] if index is None else storage.index_prefix(table, index["no"])
    found = translate.partitions(stmt.where, hash_key)
    bases: list[bytes] = []
    if found is not None:
        wanted = key_type(table, index, hash_key)
        for expr in found:
            value = literals.bind(expr, params)
            if next(iter(value)) != wanted:
                raise invalid(KEY_TYPE)
            values.check_key_value(hash_key, value)
            base = root + keys.encode(value)
            if base not in bases:
                bases.append(base)
    forward = True
    for name, desc in stmt.order:
        if found is None:
            raise invalid("Must have WHERE clause in the statement when using ORDER BY clause.")
        if name == range_key:
            forward = not desc
        elif name == hash_key:
            bases.sort(reverse=desc)
        else:
            raise invalid(f"Order by is supported only on the key attributes; attribute: {name}")
    return (bases if found is not None else [root]), forward


def _check_projection(table: Table, index: dict[str, Any] | None, paths: tuple[ast.Path, ...] | None) -> None:
    """A global index answers only with what it projects (a local one reaches the table)."""
    if index is None or index["local"] or paths is None:
        return
    projection = index["Projection"]
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return
    kept = {k for k in (*table["keys"], *index["keys"]) if k}
    if kind == "INCLUDE":
        kept.update(projection.get("NonKeyAttributes") or ())
    missing = list(dict.fromkeys(p.name for p in paths if p.name not in kept))
    if missing:
        raise invalid(f"One or more parameter values were invalid: Global secondary index {index['IndexName']} "
                      f"does not project [{', '.join(missing)}]")


def _rows(t: Tx, kind: str, base: bytes, after: bytes | None, forward: bool) -> Iterator[tuple[bytes, Item]]:
    hi = keys.successor(base)
    last = after
    while True:
        recs = t.scan(kind, None, after=last, reverse=not forward, limit=_BATCH, lo=base, hi=hi)
        for r in recs:
            assert isinstance(r.key, bytes)
            yield r.key, r.value
            last = r.key
        if len(recs) < _BATCH:
            return


def _page(t: Tx, table: Table, index: dict[str, Any] | None, stmt: ast.Select, bases: list[bytes], forward: bool,
          start: tuple[int, bytes] | None, keep: Any, req: Input) -> Output:
    limit = req.get("Limit")
    kind = "i" if index is None else "x"
    partial = index is not None and index["local"] and index["Projection"].get("ProjectionType", "ALL") != "ALL"
    found: list[Item] = []
    read: list[Item] = []
    size = 0
    first, after = start if start is not None else (0, None)
    last: tuple[int, bytes, Item] | None = None
    more = False
    for part in range(first, len(bases)):
        for key, item in _rows(t, kind, bases[part], after if part == first else None, forward):
            if (limit is not None and len(read) >= limit) or size >= PAGE_BYTES:
                more = True
                break
            read.append(item)
            size += values.item_size(item)
            last = (part, key, item)
            whole = (storage.get_item(t, table, item) or item) if partial else item
            if keep is not None and not keep.matches(whole):
                continue
            found.append(project(whole if stmt.projection is not None else item, stmt.projection))
        if more:
            break
    out: Output = {"Items": found, "_read": read}
    if more and last is not None:
        part, key, item = last
        out["NextToken"] = _token(_digest(req), part, key)
        names = [k for k in (*table["keys"], *(index["keys"] if index else ())) if k]
        out["LastEvaluatedKey"] = {k: item[k] for k in dict.fromkeys(names) if k in item}
    return out


def _digest(req: Input) -> str:
    body = json.dumps([req["Statement"], req.get("Parameters") or []], sort_keys=True, default=_text)
    return hashlib.sha256(body.encode()).hexdigest()[:24]


def _text(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode()


def _token(digest: str, part: int, key: bytes) -> str:
    raw = json.dumps({"d": digest, "p": part, "k": key.hex()}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _read_token(token: str | None, digest: str) -> tuple[int, bytes] | None:
    if token is None:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
        part, key, owner = int(body["p"]), bytes.fromhex(body["k"]), body["d"]
    except (ValueError, KeyError, TypeError):
        raise invalid("Invalid NextToken") from None
    if owner != digest:
        raise invalid("The provided starting key is invalid")
    return part, key
