"""Paging never loses or repeats an event: FilterLogEvents and GetLogEvents read page by
page (any page size, equal timestamps across and within streams) give what one read gives,
and FilterLogEvents' order is (timestamp, stream, put order). In process, through the
in-process client (the path Lambda's log shipping takes)."""

from __future__ import annotations

import itertools
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlet.core.context import Context
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway

GW = Gateway(Config(ephemeral=True))
NOW = int(time.time() * 1000)
_groups = itertools.count()


def client():
    ctx = Context(account="123456789012", region="us-east-1", principal_arn="arn:aws:iam::123456789012:root",
                  access_key="AKID", request_id="r", service="lambda", operation="Invoke", gateway=GW)
    return ctx.aws("logs")


# per stream: a sorted list of small time offsets (many equal ones)
streams = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]),
                          st.lists(st.integers(0, 5), min_size=1, max_size=12).map(sorted), min_size=1)


def fill(logs, data):
    group = f"/p/{next(_groups)}"
    logs.create_log_group(logGroupName=group)
    expected = []
    for name, offsets in data.items():
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        events = [{"timestamp": NOW - 10 + o, "message": f"{name}{i}"} for i, o in enumerate(offsets)]
        logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)
        expected += [(e["timestamp"], name, i, e["message"]) for i, e in enumerate(events)]
    return group, [m for *_, m in sorted(expected)]


@settings(max_examples=60, deadline=None)
@given(data=streams, page=st.integers(1, 7), pattern=st.sampled_from(["", "a", "?b ?c", "-d"]))
def test_filter_pages_add_up_to_one_read(data, page, pattern):
    logs = client()
    group, everything = fill(logs, data)
    whole = [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]]
    from cloudlet.services.logs.filterpattern import compile_pattern

    assert whole == [m for m in everything if compile_pattern(pattern)(m)]
    got, token = [], None
    for _ in range(200):  # a paging bug must fail, not spin
        kw = {"nextToken": token} if token else {}
        out = logs.filter_log_events(logGroupName=group, filterPattern=pattern, limit=page, **kw)
        assert len(out["events"]) <= page
        got += [e["message"] for e in out["events"]]
        token = out.get("nextToken")
        if not token:
            break
    else:
        raise AssertionError(f"paging did not end: {got[:20]}")
    assert got == whole


@settings(max_examples=40, deadline=None)
@given(data=streams, page=st.integers(1, 5))
def test_get_log_events_pages_both_ways(data, page):
    logs = client()
    group, _ = fill(logs, data)
    name = sorted(data)[0]
    want = [f"{name}{i}" for i in range(len(data[name]))]
    fwd, token = [], None
    for _ in range(200):
        kw = {"nextToken": token} if token else {"startFromHead": True}
        out = logs.get_log_events(logGroupName=group, logStreamName=name, limit=page, **kw)
        if token is not None and out["nextForwardToken"] == token:
            break
        fwd += [e["message"] for e in out["events"]]
        token = out["nextForwardToken"]
    else:
        raise AssertionError(f"forward paging did not end: {fwd[:20]}")
    assert fwd == want
    back, token = [], None
    for _ in range(200):
        kw = {"nextToken": token} if token else {}
        out = logs.get_log_events(logGroupName=group, logStreamName=name, limit=page, **kw)
        if token is not None and out["nextBackwardToken"] == token:
            break
        back = [e["message"] for e in out["events"]] + back
        token = out["nextBackwardToken"]
    else:
        raise AssertionError(f"backward paging did not end: {back[:20]}")
    assert back == want
