"""Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter, TestMetricFilter."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.logs import errors, filterpattern, metricfilters, model, storage
from cloudlet.services.logs.lookup import now_ms, require_group

Params = dict[str, Any]


def _pattern(text: str) -> None:
    try:
        filterpattern.compile_pattern(text)
    except filterpattern.PatternError as err:
        raise errors.invalid(str(err)) from None


def put_metric_filter(ctx: Context, params: Params) -> Params:
    _pattern(params["filterPattern"])
    for t in params["metricTransformations"]:
        metricfilters.check_transformation(t)
    with ctx.tx() as tx:
        g = require_group(tx, params["logGroupName"])
        k = metricfilters.kind(g)
        old = tx.get(k, params["filterName"])
        if old is None and tx.count(k) >= metricfilters.MAX_FILTERS:
            raise errors.limit_exceeded("Resource limit exceeded.")
        record = {
            "filterName": params["filterName"], "filterPattern": params["filterPattern"],
            "metricTransformations": params["metricTransformations"],
            "creationTime": old.value["creationTime"] if old is not None else now_ms(),
            "logGroupName": g.name,
        }
        if params.get("applyOnTransformedLogs") is not None:
            record["applyOnTransformedLogs"] = params["applyOnTransformedLogs"]
        tx.put(k, params["filterName"], record)
    return {}


def delete_metric_filter(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        g = require_group(tx, params["logGroupName"])
        if not tx.delete(metricfilters.kind(g), params["filterName"]):
            raise errors.resource_not_found("The specified metric filter does not exist.")
    return {}


def describe_metric_filters(ctx: Context, params: Params) -> Params:
    name, prefix = params.get("logGroupName"), params.get("filterNamePrefix")
    metric, namespace = params.get("metricName"), params.get("metricNamespace")
    if prefix and not name:
        raise errors.invalid("logGroupName is required when filterNamePrefix is specified.")
    if bool(metric) != bool(namespace):
        raise errors.invalid("metricName and metricNamespace must be specified together.")
    limit = params.get("limit") or 50
    mark = model.parse_opaque_token(params["nextToken"]) if params.get("nextToken") else None
    if mark is not None and not (isinstance(mark, list) and len(mark) == 2 and all(isinstance(x, str) for x in mark)):
        raise errors.bad_token()
    out: list[Params] = []
    more = False
    with ctx.tx() as tx:
        groups = [require_group(tx, name)] if name else storage.groups(tx)
        for g in groups:
            if mark is not None and g.name < mark[0]:
                continue
            for rec in tx.scan(metricfilters.kind(g), prefix or None):
                f = rec.value
                if mark is not None and (g.name, f["filterName"]) <= (mark[0], mark[1]):
                    continue
                if metric and not any(t["metricName"] == metric and t["metricNamespace"] == namespace
                                      for t in f["metricTransformations"]):
                    continue
                if len(out) == limit:
                    more = True
                    break
                out.append(f)
            if more:
                break
    result: Params = {"metricFilters": out}
    if more:
        result["nextToken"] = model.opaque_token([out[-1]["logGroupName"], out[-1]["filterName"]])
    return result


def test_metric_filter(ctx: Context, params: Params) -> Params:
    pattern = params["filterPattern"]
    _pattern(pattern)
    match = filterpattern.compile_pattern(pattern)
    matches = [
        {"eventNumber": i, "eventMessage": m, "extractedValues": metricfilters.extracted(pattern, m)}
        for i, m in enumerate(params["logEventMessages"], 1) if match(m)
    ]
    return {"matches": matches}
