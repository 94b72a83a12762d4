"""API destinations: an HTTP endpoint, a method and the connection that authorizes calls to
it. A rule target naming one sends its events there over HTTP (``http``), from the
scheduler thread."""

from __future__ import annotations

import uuid
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.events import arns, errors, paging, storage

Input = dict[str, Any]
Output = dict[str, Any]


def create_api_destination(ctx: Context, req: Input) -> Output:
    name = req["Name"]
    now = clock.time_s()
    uid = str(uuid.uuid4())
    dest: dict[str, Any] = {
        "name": name, "uid": uid, "arn": arns.destination_arn(ctx.partition, ctx.region, ctx.account, name, uid),
        "connection": req["ConnectionArn"], "endpoint": req["InvocationEndpoint"], "method": req["HttpMethod"],
        "rate": req.get("InvocationRateLimitPerSecond") or 300, "state": "ACTIVE", "created": now, "modified": now,
    }
    if req.get("Description") is not None:
        dest["Description"] = req["Description"]
    with ctx.tx() as tx:
        if storage.get(tx, storage.DESTINATION, name) is not None:
            raise errors.exists(f"Api destination {name} already exists.")
        _connection(tx, ctx, req["ConnectionArn"])
        tx.put(storage.DESTINATION, name, dest)
    return _state(dest)


def describe_api_destination(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        dest = _load(tx, req["Name"])
    return _view(dest)


def list_api_destinations(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        found = storage.named(tx, storage.DESTINATION, req.get("NamePrefix"))
    found = [d for d in found if not req.get("ConnectionArn") or d["connection"] == req["ConnectionArn"]]
    chosen, token = paging.page(found, lambda d: d["name"], req.get("Limit"), req.get("NextToken"))
    out: Output = {"ApiDestinations": [_view(d, full=False) for d in chosen]}
    if token:
        out["NextToken"] = token
    return out


def update_api_destination(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        dest = _load(tx, req["Name"])
        if req.get("ConnectionArn"):
            _connection(tx, ctx, req["ConnectionArn"])
            dest["connection"] = req["ConnectionArn"]
        for member, key in (("InvocationEndpoint", "endpoint"), ("HttpMethod", "method"),
                            ("InvocationRateLimitPerSecond", "rate"), ("Description", "Description")):
            if req.get(member) is not None:
                dest[key] = req[member]
        dest["modified"] = clock.time_s()
        tx.put(storage.DESTINATION, dest["name"], dest)
    return _state(dest)


def delete_api_destination(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        dest = _load(tx, req["Name"])
        tx.delete(storage.DESTINATION, dest["name"])
    return {}


def _connection(tx: Tx, ctx: Context, arn: str) -> None:
    parsed = arns.parse(arn)
    name = parsed.rest.split("/")[0] if parsed is not None else arn
    conn = storage.get(tx, storage.CONNECTION, name) if parsed is not None and parsed.account == ctx.account else None
    if conn is None or conn["arn"] != arn:
        raise errors.not_found(f"Connection '{name}' does not exist.")


def _load(tx: Tx, name: str) -> dict[str, Any]:
    dest = storage.get(tx, storage.DESTINATION, name)
    if dest is None:
        raise errors.not_found(f"An api-destination '{name}' does not exist.")
    return dest


def _state(dest: dict[str, Any]) -> Output:
    return {"ApiDestinationArn": dest["arn"], "ApiDestinationState": dest["state"], "CreationTime": dest["created"],
            "LastModifiedTime": dest["modified"]}


def _view(dest: dict[str, Any], full: bool = True) -> Output:
    out = {
        **_state(dest), "Name": dest["name"], "ConnectionArn": dest["connection"], "InvocationEndpoint": dest["endpoint"],
        "HttpMethod": dest["method"], "InvocationRateLimitPerSecond": dest["rate"],
    }
    if full and dest.get("Description") is not None:
        out["Description"] = dest["Description"]
    return out
