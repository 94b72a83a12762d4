"""What a Key or an item must be for a table: its key attributes, with their declared types."""

from __future__ import annotations

from cloudlet.services.dynamodb import values
from cloudlet.services.dynamodb.storage import Item, Table
from cloudlet.services.dynamodb.errors import invalid


def check_key(table: Table, key: Item) -> None:
    """A Key names exactly the table's key attributes, with their declared types."""
    h, r = table["keys"]
    wanted = [h] if r is None else [h, r]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    if set(key) != set(wanted) or any(next(iter(key[k])) != types[k] for k in wanted):
        raise invalid("The provided key element does not match the schema")
    for k in wanted:
        values.check_key_value(k, key[k])


def check_item_keys(table: Table, item: Item) -> None:
    """An item to store carries the table's key attributes (and those of its indexes) with
    their declared types."""
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    for k in table["keys"]:
        if k is None:
            continue
        v = item.get(k)
        if v is None:
            raise invalid(f"One or more parameter values were invalid: Missing the key {k} in the item")
        if next(iter(v)) != types[k]:
            raise invalid(
                "One or more parameter values were invalid: Type mismatch for key "
                f"{k} expected: {types[k]} actual: {next(iter(v))}"
            )
        values.check_key_value(k, v)
    for index in table.get("indexes") or ():
        for k, kind in zip(index["keys"], index["types"]):
            if k is None or k not in item:
                continue
            actual = next(iter(item[k]))
            if actual != kind:
                raise invalid(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{k} Expected: {kind} Actual: {actual} IndexName: {index['IndexName']}"
                )
            values.check_key_value(k, item[k], index=index["IndexName"])


def key_of(table: Table, item: Item) -> Item:
    return {k: item[k] for k in table["keys"] if k is not None}

