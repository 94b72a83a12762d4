"""Replays: an archive's events received between two times sent back to the archive's bus
(optionally only to some of its rules), each carrying ``replay-name``. StartReplay answers
STARTING; the scheduler runs the replay at once, off the request path, to COMPLETED (or
CANCELLED when CancelReplay came first). Replayed events are not archived again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.events import arns, errors, paging, storage

Input = dict[str, Any]
Output = dict[str, Any]

REPLAY_JOB = "events.replay"
_ACTIVE = ("STARTING", "RUNNING")


def start_replay(ctx: Context, req: Input) -> Output:
    name = req["ReplayName"]
    start, end = _seconds(req["EventStartTime"]), _seconds(req["EventEndTime"])
    source = arns.parse(req["EventSourceArn"])
    archive_name = source.rest if source is not None and source.kind == "archive" else ""
    dest = req["Destination"]
    dest_arn = arns.parse(dest["Arn"])
    if dest_arn is None or dest_arn.service != "events" or dest_arn.kind != "event-bus" or not dest_arn.rest:
        raise errors.bad_parameter("Destination.Arn", "Must contain an event bus ARN.")
    now = clock.time_s()
    with ctx.tx() as tx:
        if storage.get(tx, storage.REPLAY, name) is not None:
            raise errors.exists(f"Replay {name} already exists.")
        archive = storage.get(tx, storage.ARCHIVE, archive_name) if archive_name else None
        if archive is None or (source is not None and source.account != ctx.account):
            raise errors.bad_parameter("EventSourceArn", f"Archive {archive_name or req['EventSourceArn']} does not exist.")
        if dest["Arn"] != archive["source"]:
            if dest_arn.account == ctx.account and storage.bus(tx, dest_arn.rest, now) is None:
                raise errors.bus_not_found(dest_arn.rest)
            raise errors.bad_parameter("Destination.Arn", "Cross event bus replay is not permitted.")
        if end <= start:
            raise errors.bad_parameter("EventEndTime", "EventStartTime must be before EventEndTime.")
        for rule_arn in dest.get("FilterArns") or []:
            parsed = arns.rule_of(rule_arn)
            if parsed is None or parsed[2] != dest_arn.rest or parsed[0] != ctx.account:
                raise errors.bad_parameter("Destination.FilterArns", "Rule must be on the destination event bus.")
            if storage.rule(tx, parsed[2], parsed[3]) is None:
                raise errors.rule_not_found(parsed[3], parsed[2])
        replay: dict[str, Any] = {
            "name": name, "archive": req["EventSourceArn"], "archive_name": archive_name, "start": start, "end": end,
            "destination": dest, "state": "STARTING", "started": now,
        }
        if req.get("Description") is not None:
            replay["Description"] = req["Description"]
        tx.put(storage.REPLAY, name, replay)
        if ctx.gateway is not None:
            ctx.gateway.scheduler.at(f"{REPLAY_JOB}/{ctx.account}/{ctx.region}/{name}", now, REPLAY_JOB,
                                     {"account": ctx.account, "region": ctx.region, "name": name})
    return {"ReplayArn": _arn(ctx, name), "State": "STARTING", "ReplayStartTime": now}


def describe_replay(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        replay = _load(tx, req["ReplayName"])
    out = _view(ctx, replay)
    out["ReplayArn"] = _arn(ctx, replay["name"])
    out["Destination"] = replay["destination"]
    if replay.get("Description") is not None:
        out["Description"] = replay["Description"]
    return out


def list_replays(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        found = storage.named(tx, storage.REPLAY, req.get("NamePrefix"))
    found = [r for r in found if (not req.get("State") or r["state"] == req["State"])
             and (not req.get("EventSourceArn") or r["archive"] == req["EventSourceArn"])]
    chosen, token = paging.page(found, lambda r: r["name"], req.get("Limit"), req.get("NextToken"))
    out: Output = {"Replays": [_view(ctx, r) for r in chosen]}
    if token:
        out["NextToken"] = token
    return out


def cancel_replay(ctx: Context, req: Input) -> Output:
    name = req["ReplayName"]
    with ctx.tx() as tx:
        replay = _load(tx, name)
        if replay["state"] not in _ACTIVE:
            raise errors.illegal_status(f"Replay {name} is not in a valid state for this operation.")
        replay["state"] = "CANCELLING"
        tx.put(storage.REPLAY, name, replay)
    return {"ReplayArn": _arn(ctx, name), "State": "CANCELLING"}


def _load(tx: Tx, name: str) -> dict[str, Any]:
    replay = storage.get(tx, storage.REPLAY, name)
    if replay is None:
        raise errors.not_found(f"Replay {name} does not exist.")
    return replay


def _arn(ctx: Context, name: str) -> str:
    return arns.replay_arn(ctx.partition, ctx.region, ctx.account, name)


def _seconds(when: dt.datetime | float) -> float:
    return when.timestamp() if isinstance(when, dt.datetime) else float(when)


def _view(ctx: Context, replay: dict[str, Any]) -> Output:
    out: Output = {
        "ReplayName": replay["name"], "EventSourceArn": replay["archive"], "State": replay["state"],
        "EventStartTime": replay["start"], "EventEndTime": replay["end"], "ReplayStartTime": replay["started"],
    }
    for key, member in (("reason", "StateReason"), ("last", "EventLastReplayedTime"), ("ended", "ReplayEndTime")):
        if replay.get(key) is not None:
            out[member] = replay[key]
    return out
