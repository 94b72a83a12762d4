"""Log streams: CreateLogStream, DeleteLogStream, DescribeLogStreams."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.logs import errors, model, storage
from cloudlet.services.logs.lookup import group_name, now_ms, require_group, require_stream

Params = dict[str, Any]


def create_log_stream(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        g = require_group(tx, params["logGroupName"])
        name = params["logStreamName"]
        if storage.get_stream(tx, g, name) is not None:
            raise errors.stream_exists()
        storage.put_stream(tx, g, storage.Stream(name=name, id=storage.new_id(), created=now_ms()))
    return {}


def delete_log_stream(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        g = require_group(tx, params["logGroupName"])
        s = require_stream(tx, g, params["logStreamName"])
        removed = storage.drop_stream(tx, g, s)
        if removed:
            g.stored = max(0, g.stored - removed)
            storage.put_group(tx, g)
    return {}


def describe_log_streams(ctx: Context, params: Params) -> Params:
    model.check_enum("orderBy", params.get("orderBy"), ("LogStreamName", "LastEventTime"))
    name = group_name(ctx, params)
    prefix = params.get("logStreamNamePrefix")
    by_time = params.get("orderBy") == "LastEventTime"
    descending = bool(params.get("descending"))
    limit = params.get("limit") or 50
    if by_time and prefix:
        raise errors.invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    state = model.listing_state(params.get("nextToken"))
    with ctx.tx() as tx:
        g = require_group(tx, name)
        if by_time:
            # no index by time: a group's streams are read and sorted (streams with no
            # event yet sort as time 0, then by name)
            found = sorted(storage.streams(tx, g), key=lambda s: (s.last or 0, s.name), reverse=descending)
            if state is not None:
                mark = (state.get("t") or 0, state["a"])
                found = [s for s in found if ((s.last or 0, s.name) < mark if descending else (s.last or 0, s.name) > mark)]
            page, more = found[:limit], len(found) > limit
        elif descending:
            found = [s for s in reversed(storage.streams(tx, g, prefix)) if state is None or s.name < state["a"]]
            page, more = found[:limit], len(found) > limit
        else:
            found = storage.streams(tx, g, prefix, after=state["a"] if state else None, limit=limit + 1)
            page, more = found[:limit], len(found) > limit
    out: Params = {"logStreams": [_describe(ctx, g, s) for s in page]}
    if more:
        last = page[-1]
        out["nextToken"] = model.opaque_token({"a": last.name, "t": last.last or 0} if by_time else {"a": last.name})
    return out


def _describe(ctx: Context, g: storage.Group, s: storage.Stream) -> Params:
    d: Params = {"logStreamName": s.name, "creationTime": s.created}
    if s.first is not None:
        d["firstEventTimestamp"] = s.first
    if s.last is not None:
        d["lastEventTimestamp"] = s.last
    if s.ingested is not None:
        d["lastIngestionTime"] = s.ingested
        d["uploadSequenceToken"] = model.sequence_token(s.id, s.n)
    d["arn"] = model.stream_arn(ctx.partition, ctx.region, ctx.account, g.name, s.name)
    d["storedBytes"] = 0  # deprecated: AWS reports 0 for streams
    return d
