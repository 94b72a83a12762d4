"""Log events: PutLogEvents, GetLogEvents, FilterLogEvents."""

from __future__ import annotations

import heapq
from typing import Any, Iterator

from cloudlet.core.context import Context
from cloudlet.services.logs import errors, filterpattern, metricfilters, model, storage
from cloudlet.services.logs.lookup import group_name, now_ms, require_group, require_stream

Params = dict[str, Any]

#: events FilterLogEvents examines in one call before it answers with what it found and a
#: nextToken (AWS also answers a long search in pages, some of them empty)
SCAN_BUDGET = 100_000
_TS_MAX = 10**15 - 1
_SEQ_MAX = 10**storage.SEQ_DIGITS - 1


def put_log_events(ctx: Context, params: Params) -> Params:
    """One transaction for the batch: the events, the stream's times and the group's size."""
    events = params["logEvents"]
    encoded = model.check_batch(events)
    now = now_ms()
    filters: list[dict[str, Any]] = []
    with ctx.tx() as tx:
        g = require_group(tx, params["logGroupName"])
        s = require_stream(tx, g, params["logStreamName"])
        batch = model.classify([e["timestamp"] for e in events], now, g.retention)
        accepted = [(e["timestamp"], e["message"]) for e in events[batch.lo:batch.hi]]
        if accepted:
            storage.add_events(tx, s, accepted, now)
            storage.put_stream(tx, g, s)
            g.stored += sum(len(b) for b in encoded[batch.lo:batch.hi])
            storage.put_group(tx, g)
            filters = metricfilters.for_group(tx, g)
    if accepted and filters:
        metricfilters.publish(ctx, filters, accepted)
    out: Params = {"nextSequenceToken": model.sequence_token(s.id, s.n)}
    if batch.rejected:
        out["rejectedLogEventsInfo"] = batch.rejected
    return out


def _window(params: Params, retention: int | None, now: int) -> tuple[int, int | None]:
    """[start, end) of a read: the caller's times, never before the retention cutoff."""
    start = max(params.get("startTime") or 0, model.retention_cutoff(retention, now))
    end = params.get("endTime")
    return min(start, _TS_MAX), (None if end is None else min(end, _TS_MAX))


def get_log_events(ctx: Context, params: Params) -> Params:
    name = group_name(ctx, params)
    limit = params.get("limit") or model.MAX_READ_EVENTS
    token = params.get("nextToken")
    if token:
        direction, tts, tseq = model.parse_stream_token(token)
        pos: str | None = storage.ekey(min(tts, _TS_MAX), min(tseq, _SEQ_MAX))
    else:
        direction, pos = ("f" if params.get("startFromHead") else "b"), None
    with ctx.tx() as tx:
        g = require_group(tx, name)
        s = require_stream(tx, g, params["logStreamName"])
        start, end = _window(params, g.retention, now_ms())
        lo, hi = storage.ekey(start, 0), (None if end is None else storage.ekey(end, 0))
        if direction == "f":
            rows = storage.scan_events(tx, s, max(lo, pos) if pos else lo, hi, limit=limit)
            rows = _fit(rows)
        else:
            top = hi if pos is None else (pos if hi is None else min(hi, pos))
            rows = _fit(storage.scan_events(tx, s, lo, top, reverse=True, limit=limit))
            rows.reverse()
    if rows:
        fwd = model.stream_token("f", rows[-1][0], rows[-1][1] + 1)
        back = model.stream_token("b", rows[0][0], rows[0][1])
    elif token:  # nothing further that way: the same token comes back, as AWS does
        digits = token[1:]
        fwd, back = (token, "b" + digits) if direction == "f" else ("f" + digits, token)
    else:
        fwd, back = model.stream_token("f", start, 0), model.stream_token("b", start, 0)
    return {
        "events": [{"timestamp": ts, "message": msg, "ingestionTime": ing} for ts, _, msg, ing in rows],
        "nextForwardToken": fwd,
        "nextBackwardToken": back,
    }


def _fit(rows: list[tuple[int, int, str, int]]) -> list[tuple[int, int, str, int]]:
    """As many rows as fit in a 1 MB response (messages plus the per-event overhead)."""
    size = 0
    for i, row in enumerate(rows):
        size += len(row[2].encode("utf-8", "surrogatepass")) + model.EVENT_OVERHEAD
        if size > model.MAX_RESPONSE_BYTES:
            return rows[:max(i, 1)]
    return rows


def filter_log_events(ctx: Context, params: Params) -> Params:
    """Events of many streams merged in (timestamp, stream, order) order; each stream is
    one lazy range scan, and streams whose events all fall outside the window are skipped
    without a read. The nextToken is the last position examined."""
    name = group_name(ctx, params)
    names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
    if names and prefix:
        raise errors.invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
    try:
        match = filterpattern.compile_pattern(params.get("filterPattern") or "")
    except filterpattern.PatternError as err:
        raise errors.invalid(str(err)) from None
    limit = params.get("limit") or model.MAX_READ_EVENTS
    mark = _filter_mark(params["nextToken"]) if params.get("nextToken") else None
    out: list[Params] = []
    more = False
    last: tuple[int, str, int] | None = None
    with ctx.tx() as tx:
        g = require_group(tx, name)
        start, end = _window(params, g.retention, now_ms())
        if names:  # a named stream that does not exist fails the call, as in AWS
            chosen = [require_stream(tx, g, n) for n in dict.fromkeys(names)]
        else:
            chosen = storage.streams(tx, g, prefix)
        # FilterLogEvents' endTime is inclusive (GetLogEvents' is not)
        chosen = [s for s in chosen if s.first is not None and s.last is not None and s.last >= start
                  and (end is None or s.first <= end)]
        hi = None if end is None else storage.ekey(min(end + 1, _TS_MAX), 0)
        merged = heapq.merge(*(_walk(tx, s, start, hi, mark) for s in chosen))
        size = scanned = 0
        for ts, stream, seq, message, ingested, sid in merged:
            if len(out) == limit or scanned == SCAN_BUDGET:
                more = True
                break
            if match(message):
                size += len(message.encode("utf-8", "surrogatepass")) + model.EVENT_OVERHEAD
                if size > model.MAX_RESPONSE_BYTES and out:
                    more = True
                    break
                out.append({"logStreamName": stream, "timestamp": ts, "message": message,
                            "ingestionTime": ingested, "eventId": model.event_id(ts, sid, seq)})
            scanned += 1
            last = (ts, stream, seq)
    result: Params = {"events": out, "searchedLogStreams": []}
    if more and last is not None:
        result["nextToken"] = model.opaque_token({"t": last[0], "s": last[1], "q": last[2]})
    return result


def _filter_mark(token: str) -> tuple[int, str, int]:
    state = model.parse_opaque_token(token)
    try:
        return int(state["t"]), str(state["s"]), int(state["q"])
    except (KeyError, TypeError, ValueError):
        raise errors.bad_token() from None


def _walk(tx: Any, s: storage.Stream, start: int, hi: str | None,
          mark: tuple[int, str, int] | None) -> Iterator[tuple[int, str, int, str, int, int]]:
    """One stream's events from where the merge resumes: after ``mark`` in (timestamp,
    stream name, sequence) order."""
    lo = storage.ekey(start, 0)
    if mark is not None:
        t, name, q = mark
        resume = storage.ekey(min(t + 1, _TS_MAX), 0) if s.name < name else (
            storage.ekey(t, min(q + 1, _SEQ_MAX)) if s.name == name else storage.ekey(t, 0))
        lo = max(lo, resume)
    for ts, seq, message, ingested in storage.iter_events(tx, s, lo, hi):
        yield ts, s.name, seq, message, ingested, s.id
