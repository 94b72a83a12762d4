"""Event buses: create, describe, list, update, delete, and their resource policy
(PutPermission/RemovePermission, or a whole Policy document), which decides which other
accounts may put events on the bus."""

from __future__ import annotations

import json
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.events import arns, errors, model, paging, policy, storage

Input = dict[str, Any]
Output = dict[str, Any]


def create_event_bus(ctx: Context, req: Input) -> Output:
    name = req["Name"]
    if req.get("EventSourceName"):
        raise errors.not_found(f"Event source {req['EventSourceName']} does not exist.")
    if "/" in name:
        raise errors.bad_parameter("Name", "Only partner event buses may have a name with '/'.")
    model.check_dlq(req.get("DeadLetterConfig"))
    now = clock.time_s()
    with ctx.tx() as tx:
        storage.bus(tx, arns.DEFAULT_BUS, now)  # so the count below always includes it
        if storage.bus(tx, name, now) is not None:
            raise errors.exists(f"Event bus {name} already exists.")
        if tx.count(storage.BUS) - 1 >= model.MAX_BUSES:
            raise errors.limit_exceeded()
        bus: dict[str, Any] = {"name": name, "created": now, "modified": now, "tags": model.merge_tags({}, req.get("Tags"))}
        for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"):
            if req.get(key) is not None:
                bus[key] = req[key]
        storage.put_bus(tx, bus)
    out: Output = {"EventBusArn": arns.bus_arn(ctx.partition, ctx.region, ctx.account, name)}
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"):
        if key in bus:
            out[key] = bus[key]
    return out


def update_event_bus(ctx: Context, req: Input) -> Output:
    name = req.get("Name") or arns.DEFAULT_BUS
    model.check_dlq(req.get("DeadLetterConfig"))
    now = clock.time_s()
    with ctx.tx() as tx:
        bus = _load(tx, name, now)
        for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"):
            if key in req:
                bus[key] = req[key]
        bus["modified"] = now
        storage.put_bus(tx, bus)
    out: Output = {"Arn": arns.bus_arn(ctx.partition, ctx.region, ctx.account, name), "Name": name}
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"):
        if bus.get(key) is not None:
            out[key] = bus[key]
    return out


def delete_event_bus(ctx: Context, req: Input) -> Output:
    """Deleting a bus that does not exist succeeds (as in AWS); its rules go with it."""
    name = req["Name"]
    if name == arns.DEFAULT_BUS:
        raise errors.validation("Cannot delete event bus default.")
    with ctx.tx() as tx:
        if tx.delete(storage.BUS, name):
            for rule in storage.rules(tx, name):
                storage.delete_rule(tx, name, rule["name"])
    return {}


def describe_event_bus(ctx: Context, req: Input) -> Output:
    ref = arns.bus_ref(req.get("Name"), ctx.account, ctx.region)
    if ref.account != ctx.account:
        raise errors.bus_not_found(ref.name)
    with ctx.tx() as tx:
        bus = _load(tx, ref.name, clock.time_s())
    out = _view(ctx, bus)
    for key in ("KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"):
        if bus.get(key) is not None:
            out[key] = bus[key]
    return out


def list_event_buses(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        found = storage.buses(tx, req.get("NamePrefix"), clock.time_s())
    chosen, token = paging.page(found, lambda b: b["name"], req.get("Limit"), req.get("NextToken"))
    out: Output = {"EventBuses": [_view(ctx, b) for b in chosen]}
    if token:
        out["NextToken"] = token
    return out


def put_permission(ctx: Context, req: Input) -> Output:
    """Either a whole Policy, or one statement (Action, Principal, StatementId and an
    optional Condition) added to the bus's policy; a statement with the same id is replaced."""
    name = req.get("EventBusName") or arns.DEFAULT_BUS
    now = clock.time_s()
    text = req.get("Policy")
    if text is not None:
        if policy.load(text) is None:
            raise errors.bad_parameter("Policy", "The policy is not valid JSON.")
    else:
        action, principal, sid = req.get("Action"), req.get("Principal"), req.get("StatementId")
        if not (action and principal and sid):
            raise errors.validation("Parameter(s) Action, Principal and StatementId must be specified, or Policy.")
        if action != "events:PutEvents":
            raise errors.validation("Provided value in parameter 'action' is not supported.")
    with ctx.tx() as tx:
        bus = _load(tx, name, now)
        bus_arn = arns.bus_arn(ctx.partition, ctx.region, ctx.account, name)
        if text is None:
            doc = policy.load(bus.get("policy")) or {"Version": "2012-10-17", "Statement": []}
            kept = [s for s in policy.statements(doc) if s.get("Sid") != req["StatementId"]]
            kept.append(policy.statement(req["StatementId"], req["Principal"], bus_arn, ctx.partition, req.get("Condition")))
            doc["Statement"] = kept
            text = json.dumps(doc, separators=(",", ":"))
        if len(text.encode()) > model.MAX_POLICY_BYTES:
            raise errors.policy_too_long()
        bus["policy"] = text
        bus["modified"] = now
        storage.put_bus(tx, bus)
    return {}


def remove_permission(ctx: Context, req: Input) -> Output:
    name = req.get("EventBusName") or arns.DEFAULT_BUS
    now = clock.time_s()
    with ctx.tx() as tx:
        bus = _load(tx, name, now)
        if req.get("RemoveAllPermissions"):
            bus["policy"] = None
        else:
            sid = req.get("StatementId")
            if not sid:
                raise errors.validation("Parameter StatementId must be specified, or RemoveAllPermissions.")
            doc = policy.load(bus.get("policy"))
            if doc is None:
                raise errors.not_found("EventBus does not have a policy.")
            kept = [s for s in policy.statements(doc) if s.get("Sid") != sid]
            if len(kept) == len(policy.statements(doc)):
                raise errors.not_found("Statement with the provided id does not exist.")
            doc["Statement"] = kept
            bus["policy"] = json.dumps(doc, separators=(",", ":")) if kept else None
        bus["modified"] = now
        storage.put_bus(tx, bus)
    return {}


def _load(tx: Any, name: str, now: float) -> dict[str, Any]:
    bus = storage.bus(tx, name, now)
    if bus is None:
        raise errors.bus_not_found(name)
    return bus


def _view(ctx: Context, bus: dict[str, Any]) -> Output:
    out: Output = {"Name": bus["name"], "Arn": arns.bus_arn(ctx.partition, ctx.region, ctx.account, bus["name"])}
    if bus.get("Description") is not None:
        out["Description"] = bus["Description"]
    if bus.get("policy"):
        out["Policy"] = bus["policy"]
    out["CreationTime"] = bus["created"]
    out["LastModifiedTime"] = bus["modified"]
    return out

