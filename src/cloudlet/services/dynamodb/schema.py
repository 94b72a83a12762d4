"""Table schemas: key schema, throughput and index checks, and the TableDescription."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cloudlet.services.dynamodb import storage
from cloudlet.services.dynamodb.storage import Table
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]


def check_key_schema(schema: list[dict[str, str]], defined: dict[str, str], what: str = "") -> None:
    hashes = [k for k in schema if k["KeyType"] == "HASH"]
    ranges = [k for k in schema if k["KeyType"] == "RANGE"]
    if len(hashes) != 1 or len(ranges) > 1 or len(schema) != len(hashes) + len(ranges) or (
        schema[0]["KeyType"] != "HASH"
    ):
        raise invalid(
            "1 validation error detected: Value '" + str(schema) + "' at 'keySchema' failed to satisfy "
            "constraint: Member must have length less than or equal to 2"
            if len(schema) > 2
            else "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    missing = [k["AttributeName"] for k in schema if k["AttributeName"] not in defined]
    if missing:
        raise invalid(
            "One or more parameter values were invalid: Some index key attributes are not defined in "
            f"AttributeDefinitions. Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(defined)}]"
        )
    if len(schema) == 2 and schema[0]["AttributeName"] == schema[1]["AttributeName"]:
        raise invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name")


def throughput(req: Input, billing: str, where: str = "") -> dict[str, int] | None:
    tp = req.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST":
        if tp is not None:
            raise invalid(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits "
                "can be specified when BillingMode is PAY_PER_REQUEST"
            )
        return None
    if tp is None:
        raise invalid(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
            "specified when BillingMode is PROVISIONED"
        )
    for k in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if tp[k] < 1:
            raise invalid(f"One or more parameter values were invalid: {k} must be greater than 0")
    return {"ReadCapacityUnits": tp["ReadCapacityUnits"], "WriteCapacityUnits": tp["WriteCapacityUnits"]}


def index_spec(spec: Input, defined: dict[str, str], no: int, billing: str, local: bool, table_keys: tuple) -> dict[str, Any]:
    check_key_schema(spec["KeySchema"], defined)
    h, r = storage.key_names(spec["KeySchema"])
    if local and h != table_keys[0]:
        raise invalid("One or more parameter values were invalid: Index KeySchema does not have the same leading "
                      "hash key as table KeySchema for index: " + spec["IndexName"] + ". index hash key: " + h +
                      ", table hash key: " + table_keys[0])
    projection = spec["Projection"]
    if projection.get("ProjectionType") == "INCLUDE" and not projection.get("NonKeyAttributes"):
        raise invalid("One or more parameter values were invalid: ProjectionType is INCLUDE, but "
                      "NonKeyAttributes is not specified")
    if projection.get("NonKeyAttributes") and projection.get("ProjectionType") != "INCLUDE":
        raise invalid("One or more parameter values were invalid: ProjectionType is " +
                      str(projection.get("ProjectionType")) + ", but NonKeyAttributes is specified")
    index = {
        "IndexName": spec["IndexName"],
        "KeySchema": spec["KeySchema"],
        "Projection": projection,
        "keys": (h, r),
        "types": (defined[h], defined[r] if r else None),
        "no": no,
        "local": local,
    }
    if not local:
        index["throughput"] = throughput(spec, billing)
    return index


def enable_stream(table: Table, now: float) -> None:
    label = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    table["stream_label"] = label
    table["stream_arn"] = f"{table['arn']}/stream/{label}"


def describe(table: Table, counts: tuple[int, int] | None = None) -> Output:
    """The TableDescription DynamoDB returns."""
    items, size = counts if counts is not None else (0, 0)
    d: Output = {
        "TableName": table["name"],
        "TableStatus": table["status"],
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "CreationDateTime": datetime.fromtimestamp(table["created"], timezone.utc),
        "TableSizeBytes": size,
        "ItemCount": items,
        "TableArn": table["arn"],
        "TableId": table["table_id"],
        "DeletionProtectionEnabled": table["protection"],
    }
    tp = table["throughput"]
    d["ProvisionedThroughput"] = {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": tp["ReadCapacityUnits"] if tp else 0,
        "WriteCapacityUnits": tp["WriteCapacityUnits"] if tp else 0,
    }
    if table["billing"] == "PAY_PER_REQUEST":
        d["BillingModeSummary"] = {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": datetime.fromtimestamp(table["created"], timezone.utc),
        }
    gsis, lsis = [], []
    for index in table.get("indexes") or ():
        entry: Output = {
            "IndexName": index["IndexName"],
            "KeySchema": index["KeySchema"],
            "Projection": index["Projection"],
            "IndexSizeBytes": 0,
            "ItemCount": 0,
            "IndexArn": f"{table['arn']}/index/{index['IndexName']}",
        }
        if index["local"]:
            lsis.append(entry)
        else:
            entry["IndexStatus"] = "CREATING" if index.get("backfilling") else "ACTIVE"
            if index.get("backfilling"):
                entry["Backfilling"] = True
            itp = index.get("throughput")
            entry["ProvisionedThroughput"] = {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": itp["ReadCapacityUnits"] if itp else 0,
                "WriteCapacityUnits": itp["WriteCapacityUnits"] if itp else 0,
            }
            gsis.append(entry)
    if gsis:
        d["GlobalSecondaryIndexes"] = gsis
    if lsis:
        d["LocalSecondaryIndexes"] = lsis
    stream = table.get("stream")
    if stream:
        d["StreamSpecification"] = stream
    if table.get("stream_arn"):
        d["LatestStreamArn"] = table["stream_arn"]
        d["LatestStreamLabel"] = table["stream_label"]
    if table.get("sse") and table["sse"].get("Enabled"):
        d["SSEDescription"] = {"Status": "ENABLED", "SSEType": table["sse"].get("SSEType", "KMS"),
                               "KMSMasterKeyArn": table["sse"].get("KMSMasterKeyId", "")}
    if table["class"] != "STANDARD":
        d["TableClassSummary"] = {"TableClass": table["class"]}
    if table.get("on_demand"):
        d["OnDemandThroughput"] = table["on_demand"]
    if table.get("restore"):
        from cloudlet.services.dynamodb import history

        d["RestoreSummary"] = history.restore_summary(table["restore"])
    if table.get("replicas"):
        from cloudlet.services.dynamodb import replicas

        replicas.describe_into(d, table)
    return d

