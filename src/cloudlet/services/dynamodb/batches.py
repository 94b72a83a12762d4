"""BatchGetItem and BatchWriteItem.

Every request in a batch is served (cloudlet has no partitions to throttle), so
``UnprocessedKeys``/``UnprocessedItems`` come back empty, as DynamoDB answers when it
processed everything; the limits (100 keys, 25 writes, 16 MB) and validations are AWS's.
Each batch commits in one transaction: a crash loses all or none of an acknowledged batch.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import capacity, changes, exprs, itemkeys, storage, values

Input = dict[str, Any]
Output = dict[str, Any]


def _invalid(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def batch_get_item(ctx: Context, req: Input) -> Output:
    requests = req["RequestItems"]
    total = sum(len(r["Keys"]) for r in requests.values())
    if total > 100:
        raise _invalid("Too many items requested for the BatchGetItem call")
    responses: dict[str, list[Any]] = {}
    used: list[dict[str, Any]] = []
    with ctx.tx() as t:
        for ref, spec in requests.items():
            table = storage.get_table(t, storage.table_name(ref))
            compiled = exprs.for_read(spec, "BatchGetItem")
            seen = set()
            found = []
            for key in spec["Keys"]:
                itemkeys.check_key(table, key)
                k = storage.item_key(table, key)
                if k in seen:
                    raise _invalid("Provided list of item keys contains duplicates")
                seen.add(k)
                item = storage.get_item(t, table, key)
                if item is not None:
                    found.append(item)
            responses[ref] = [compiled.projection.apply(i) if compiled.projection is not None else i for i in found]
            c = capacity.consumed(req, table, capacity.read_units(found, bool(spec.get("ConsistentRead"))),
                                  kind="ReadCapacityUnits")
            if c is not None:
                used.append(c)
    out: Output = {"Responses": responses, "UnprocessedKeys": {}}
    if used:
        out["ConsumedCapacity"] = used
    return out


def batch_write_item(ctx: Context, req: Input) -> Output:
    requests = req["RequestItems"]
    total = sum(len(r) for r in requests.values())
    if total > 25:
        raise _invalid("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value "
                      "must satisfy constraint: [Member must have length less than or equal to 25, Member must have "
                      "length greater than or equal to 1]")
    used: list[dict[str, Any]] = []
    with ctx.tx() as t:
        for ref, writes in requests.items():
            table = storage.get_table(t, storage.table_name(ref))
            seen = set()
            units = 0.0
            planned = []
            for w in writes:
                put, delete = w.get("PutRequest"), w.get("DeleteRequest")
                if (put is None) == (delete is None):
                    raise _invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one "
                                  "of the supported datatypes")
                if put is not None:
                    item = put["Item"]
                    values.check_item(item)
                    itemkeys.check_item_keys(table, item)
                    key_item = itemkeys.key_of(table, item)
                else:
                    key_item = delete["Key"]
                    itemkeys.check_key(table, key_item)
                    item = None
                k = storage.item_key(table, key_item)
                if k in seen:
                    raise _invalid("Provided list of item keys contains duplicates")
                seen.add(k)
                planned.append((key_item, item))
            for key_item, item in planned:
                old = storage.get_item(t, table, key_item)
                if item is None and old is None:
                    units += 1
                    continue
                storage.write_item(t, table, old, item)
                changes.record(ctx, t, table, old, item)
                units += capacity.write_units(old, item)
            c = capacity.consumed(req, table, units, kind="WriteCapacityUnits")
            if c is not None:
                used.append(c)
    out: Output = {"UnprocessedItems": {}}
    if used:
        out["ConsumedCapacity"] = used
    return out
