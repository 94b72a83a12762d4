"""BatchGetItem and BatchWriteItem.

Every request is checked first (tables, keys, duplicates: AWS's limits and wording), then
served item by item. A key or write refused for capacity (``throttle``: a PROVISIONED
table, or a GSI of it, that is spent) comes back in ``UnprocessedKeys``/``UnprocessedItems``
for the caller to retry; only when every one of them was refused does the batch fail
with ``ProvisionedThroughputExceededException``, as DynamoDB does. Each batch commits in
one transaction: a crash loses all or none of an acknowledged batch.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import capacity, changes, exprs, itemkeys, metrics, storage, throttle, values
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]


@metrics.measured
def batch_get_item(ctx: Context, req: Input) -> Output:
    requests = req["RequestItems"]
    total = sum(len(r["Keys"]) for r in requests.values())
    if total > 100:
        raise invalid("Too many items requested for the BatchGetItem call")
    responses: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    used: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    served = 0
    with ctx.tx() as t:
        planned = []
        for ref, spec in requests.items():
            table = storage.get_table(t, storage.table_name(ref))
            compiled = exprs.for_read(spec, "BatchGetItem")
            seen = set()
            for key in spec["Keys"]:
                itemkeys.check_key(table, key)
                k = storage.item_key(table, key)
                if k in seen:
                    raise invalid("Provided list of item keys contains duplicates")
                seen.add(k)
            planned.append((ref, spec, table, compiled))
        for ref, spec, table, compiled in planned:
            consistent = bool(spec.get("ConsistentRead"))
            found = []
            skipped = []
            units = 0.0
            for key in spec["Keys"]:
                item = storage.get_item(t, table, key)
                cost = capacity.item_read_units(item, consistent)  # each item rounds up on its own
                if not throttle.try_read(ctx, table, cost):
                    skipped.append(key)
                    continue
                served += 1
                units += cost
                if item is not None:
                    found.append(item)
            responses[ref] = [compiled.projection.apply(i) if compiled.projection is not None else i for i in found]
            if skipped:
                unprocessed[ref] = {**spec, "Keys": skipped}
                refused.append(table)
            c = capacity.consumed(req, table, units, kind="ReadCapacityUnits")
            if c is not None:
                used.append(c)
    if refused and not served:
        raise throttle.exceeded(refused[0], False)
    out: Output = {"Responses": responses, "UnprocessedKeys": unprocessed}
    if used:
        out["ConsumedCapacity"] = used
    return out


@metrics.measured
def batch_write_item(ctx: Context, req: Input) -> Output:
    requests = req["RequestItems"]
    total = sum(len(r) for r in requests.values())
    if total > 25:
        raise invalid("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value "
                      "must satisfy constraint: [Member must have length less than or equal to 25, Member must have "
                      "length greater than or equal to 1]")
    used: list[dict[str, Any]] = []
    unprocessed: dict[str, list[Any]] = {}
    refused: list[ServiceError] = []
    served = 0
    with ctx.tx() as t:
        tables = []
        for ref, writes in requests.items():
            table = storage.get_table(t, storage.table_name(ref))
            seen = set()
            planned = []
            for w in writes:
                put, delete = w.get("PutRequest"), w.get("DeleteRequest")
                if (put is None) == (delete is None):
                    raise invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one "
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
                    raise invalid("Provided list of item keys contains duplicates")
                seen.add(k)
                planned.append((w, key_item, item))
            tables.append((ref, table, planned))
        for ref, table, planned in tables:
            units = 0.0
            for w, key_item, item in planned:
                old = storage.get_item(t, table, key_item)
                cost = throttle.try_write(ctx, table, old, item)
                if isinstance(cost, ServiceError):
                    unprocessed.setdefault(ref, []).append(w)
                    refused.append(cost)
                    continue
                served += 1
                units += cost
                if item is None and old is None:
                    continue
                storage.write_item(t, table, old, item)
                changes.record(ctx, t, table, old, item)
            c = capacity.consumed(req, table, units, kind="WriteCapacityUnits")
            if c is not None:
                used.append(c)
        if refused and not served:
            raise refused[0]  # inside the transaction: nothing was written
    out: Output = {"UnprocessedItems": unprocessed}
    if used:
        out["ConsumedCapacity"] = used
    return out
