"""Tables: create, describe, update, delete, list; limits, endpoints, tags, TTL settings."""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import schema, storage
from cloudlet.services.dynamodb.storage import Table
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]

MAX_GSIS = 20
MAX_LSIS = 5


def _arn(ctx: Context, name: str) -> str:
    return f"arn:{ctx.partition}:dynamodb:{ctx.region}:{ctx.account}:table/{name}"


def create_table(ctx: Context, req: Input) -> Output:
    name = req["TableName"]
    defined = {a["AttributeName"]: a["AttributeType"] for a in req["AttributeDefinitions"]}
    if len(defined) != len(req["AttributeDefinitions"]):
        raise invalid("Cannot have two attributes with the same name")
    schema.check_key_schema(req["KeySchema"], defined)
    billing = req.get("BillingMode") or "PROVISIONED"
    throughput = schema.throughput(req, billing)
    table_keys = storage.key_names(req["KeySchema"])
    indexes = []
    names = set()
    for local, specs in ((True, req.get("LocalSecondaryIndexes") or []), (False, req.get("GlobalSecondaryIndexes") or [])):
        if local and specs and table_keys[1] is None:
            raise invalid("One or more parameter values were invalid: Table KeySchema does not have a range key, "
                          "which is required when specifying a LocalSecondaryIndex")
        for spec in specs:
            if spec["IndexName"] in names:
                raise invalid("One or more parameter values were invalid: Duplicate index name: " + spec["IndexName"])
            names.add(spec["IndexName"])
            indexes.append(schema.index_spec(spec, defined, len(indexes) + 1, billing, local, table_keys))
    if len([i for i in indexes if i["local"]]) > MAX_LSIS or len([i for i in indexes if not i["local"]]) > MAX_GSIS:
        raise invalid("One or more parameter values were invalid: Number of indexes exceeds the limit")
    used = {a for i in indexes for a in i["keys"] if a} | {a for a in table_keys if a}
    if set(defined) - used:
        raise invalid(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match "
            "number of attributes defined in AttributeDefinitions"
        )
    now = clock.time_s()
    table: Table = {
        "name": name,
        "id": storage.new_id(),
        "arn": _arn(ctx, name),
        "table_id": _uuid(),
        "created": now,
        "status": "ACTIVE",
        "KeySchema": req["KeySchema"],
        "AttributeDefinitions": req["AttributeDefinitions"],
        "keys": table_keys,
        "billing": billing,
        "throughput": throughput,
        "indexes": indexes,
        "stream": _stream_spec(req.get("StreamSpecification")),
        "sse": req.get("SSESpecification") or None,
        "class": req.get("TableClass") or "STANDARD",
        "protection": bool(req.get("DeletionProtectionEnabled")),
        "tags": {t["Key"]: t["Value"] for t in req.get("Tags") or []},
        "ttl": None,
        "warm": req.get("WarmThroughput"),
        "on_demand": req.get("OnDemandThroughput"),
    }
    if table["stream"] and table["stream"].get("StreamEnabled"):
        schema.enable_stream(table, now)
    with ctx.tx() as t:
        if storage.find_table(t, name) is not None:
            raise ServiceError("ResourceInUseException", f"Table already exists: {name}", 400)
        storage.put_table(t, table)
        _on_table_change(ctx, t, table)
    desc = schema.describe(table, counts=(0, 0))
    desc["TableStatus"] = "CREATING"  # as AWS answers; DescribeTable reports ACTIVE once created
    for g in desc.get("GlobalSecondaryIndexes", []):
        g["IndexStatus"] = "CREATING"
    return {"TableDescription": desc}


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def _stream_spec(spec: Input | None) -> Input | None:
    """A StreamSpecification as DynamoDB accepts it: a view type exactly when enabled."""
    if not spec:
        return None
    if spec.get("StreamEnabled") and not spec.get("StreamViewType"):
        raise invalid("1 validation error detected: StreamViewType is required when StreamEnabled is true")
    if not spec.get("StreamEnabled") and spec.get("StreamViewType"):
        raise invalid("One or more parameter values were invalid: StreamViewType cannot be specified when "
                             "StreamEnabled is false")  # wording approximates DynamoDB's
    return spec


def _on_table_change(ctx: Context, t: Any, table: Table) -> None:
    """What follows a table's settings, in the same transaction: its stream descriptor
    (``streamlog``) and its TTL sweep (``ttl``). Both treat a table passed with status
    DELETING as gone (and notice a deleted table on their own otherwise)."""
    from cloudlet.services.dynamodb import streamlog, ttl

    streamlog.on_table_change(ctx, t, table)
    ttl.on_table_change(ctx, t, table)


def describe_table(ctx: Context, req: Input) -> Output:
    name = storage.table_name(req["TableName"])
    with ctx.tx() as t:
        table = storage.get_table(t, name, describe=True)
        counts = (t.count("i", table["id"]), 0)
    return {"Table": schema.describe(table, counts)}


def list_tables(ctx: Context, req: Input) -> Output:
    limit = req.get("Limit") or 100
    start = req.get("ExclusiveStartTableName")
    with ctx.tx() as t:
        recs = t.scan("t", None, after=start, limit=limit + 1)
    names = [r.key for r in recs]
    out: Output = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out


def delete_table(ctx: Context, req: Input) -> Output:
    name = storage.table_name(req["TableName"])
    with ctx.tx() as t:
        table = storage.get_table(t, name)
        if table["protection"]:
            raise ServiceError(
                "ValidationException",
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion "
                "protection first.",
                400,
            )
        counts = (t.count("i", table["id"]), 0)
        t.delete("t", name)
        from cloudlet.services.dynamodb import history

        history.on_table_deleted(ctx, t, table)
        _on_table_change(ctx, t, {**table, "status": "DELETING"})
        from cloudlet.services.dynamodb import replicas

        replicas.on_table_deleted(ctx, t, table)
        storage.drop_table_records(t, table)
    desc = schema.describe(table, counts)
    desc["TableStatus"] = "DELETING"
    return {"TableDescription": desc}


def update_table(ctx: Context, req: Input) -> Output:
    from cloudlet.services.dynamodb import replicas

    if req.get("ReplicaUpdates") is not None:
        return replicas.update(ctx, req)
    name = storage.table_name(req["TableName"])
    with ctx.tx() as t:
        table = storage.get_table(t, name)
        changed = False
        if req.get("BillingMode") and req["BillingMode"] != table["billing"]:
            table["billing"] = req["BillingMode"]
            changed = True
        if req.get("BillingMode") or req.get("ProvisionedThroughput"):
            table["throughput"] = schema.throughput(req, table["billing"])
            changed = True
        if "DeletionProtectionEnabled" in req:
            table["protection"] = bool(req["DeletionProtectionEnabled"])
            changed = True
        if req.get("TableClass"):
            table["class"] = req["TableClass"]
            changed = True
        if req.get("StreamSpecification") is not None:
            spec = _stream_spec(req["StreamSpecification"]) or {"StreamEnabled": False}
            replicas.check_stream_change(table, spec)
            if spec.get("StreamEnabled"):
                if table.get("stream") and table["stream"].get("StreamEnabled"):
                    raise invalid("Table already has an enabled stream: " + table["arn"])
                table["stream"] = spec
                schema.enable_stream(table, clock.time_s())
            else:
                if not (table.get("stream") and table["stream"].get("StreamEnabled")):
                    raise invalid("Table already has no stream enabled")  # wording approximates AWS
                table["stream"] = {"StreamEnabled": False}
            changed = True
        if req.get("AttributeDefinitions"):
            known = {a["AttributeName"]: a for a in table["AttributeDefinitions"]}
            known.update({a["AttributeName"]: a for a in req["AttributeDefinitions"]})
            table["AttributeDefinitions"] = list(known.values())
        for update in req.get("GlobalSecondaryIndexUpdates") or []:
            _index_update(t, table, update)
            changed = True
        if req.get("GlobalSecondaryIndexUpdates") and replicas.members(table):
            replicas.replicate_index_updates(ctx, table, req["GlobalSecondaryIndexUpdates"],
                                             req.get("AttributeDefinitions"))
        if table.get("pending_backfills"):
            from cloudlet.services.dynamodb import indexes

            indexes.schedule_backfills(ctx, table)
        if not changed and not req.get("AttributeDefinitions"):
            raise invalid("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                          "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
        storage.put_table(t, table)
        _on_table_change(ctx, t, table)
        counts = (t.count("i", table["id"]), 0)
    return {"TableDescription": schema.describe(table, counts)}


def _index_update(t: Any, table: Table, update: Input) -> None:
    from cloudlet.services.dynamodb import indexes

    indexes.apply_update(t, table, update)


# tags -------------------------------------------------------------------------------------
def _table_by_arn(t: Any, arn: str) -> Table:
    table = storage.find_table(t, storage.table_name(arn))
    if table is None or table["arn"] != arn:
        raise ServiceError("ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn} not found", 400)
    return table


def tag_resource(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        table = _table_by_arn(t, req["ResourceArn"])
        table["tags"].update({tag["Key"]: tag["Value"] for tag in req["Tags"]})
        if len(table["tags"]) > 50:
            raise invalid("One or more parameter values were invalid: The number of tags exceeds the limit of 50")
        storage.put_table(t, table)
    return {}


def untag_resource(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        table = _table_by_arn(t, req["ResourceArn"])
        for k in req["TagKeys"]:
            table["tags"].pop(k, None)
        storage.put_table(t, table)
    return {}


def list_tags_of_resource(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        table = _table_by_arn(t, req["ResourceArn"])
    return {"Tags": [{"Key": k, "Value": v} for k, v in table["tags"].items()]}


# account ----------------------------------------------------------------------------------
def describe_limits(ctx: Context, req: Input) -> Output:
    return {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }


def describe_endpoints(ctx: Context, req: Input) -> Output:
    return {"Endpoints": [{"Address": f"dynamodb.{ctx.region}.amazonaws.com", "CachePeriodInMinutes": 1440}]}


# time to live -------------------------------------------------------------------------------
def update_time_to_live(ctx: Context, req: Input) -> Output:
    spec = req["TimeToLiveSpecification"]
    with ctx.tx() as t:
        table = storage.get_table(t, storage.table_name(req["TableName"]))
        current = table.get("ttl")
        if spec["Enabled"]:
            if current and current.get("enabled"):
                raise invalid("TimeToLive is already enabled")
        elif not (current and current.get("enabled")):
            raise invalid("TimeToLive is already disabled")
        table["ttl"] = {"AttributeName": spec["AttributeName"], "enabled": bool(spec["Enabled"])}
        storage.put_table(t, table)
        _on_table_change(ctx, t, table)
        _ttl_to_replicas(ctx, table)
    return {"TimeToLiveSpecification": spec}


def _ttl_to_replicas(ctx: Context, table: Table) -> None:
    """A global table's TTL setting is the same in every replica (AWS applies it to all)."""
    from dataclasses import replace

    from cloudlet.services.dynamodb import replicas

    for member in replicas.members(table):
        there = replace(ctx, region=member["region"])
        with there.tx() as t:  # a savepoint of the caller's transaction: same database
            replica = storage.find_table(t, table["name"])
            if replica is None:
                continue
            replica["ttl"] = dict(table["ttl"])
            storage.put_table(t, replica)
            _on_table_change(there, t, replica)


def describe_time_to_live(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        table = storage.get_table(t, storage.table_name(req["TableName"]))
    ttl = table.get("ttl")
    if not ttl:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {
        "TimeToLiveStatus": "ENABLED" if ttl["enabled"] else "DISABLED",
        "AttributeName": ttl["AttributeName"],
    }}
