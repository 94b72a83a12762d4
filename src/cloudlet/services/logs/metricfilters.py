"""Metric filters: what a filter makes of a log event, and the data points recorded when
events are ingested (through ``core.metrics``, where CloudWatch reads them).

Kept as records ``mf:<gid>`` (key: filter name) beside the group; the handlers are in
``metricfilterops``. A transformation's ``metricValue`` is a number or a field: ``$.a.b``
from a JSON event, ``$name`` from a space-delimited pattern's named field; a dimension's
value is a field the same way. An event that does not match records ``defaultValue`` when
the filter has one; a matching event whose value field is missing or not a number records
nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from cloudlet.core import metrics
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.logs import errors, filterpattern, storage

MAX_FILTERS = 100  # per log group
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?\Z")
_UTC = dt.timezone.utc


def kind(g: storage.Group) -> str:
    return f"mf:{g.id}"


def for_group(tx: Tx, g: storage.Group) -> list[dict[str, Any]]:
    """The group's metric filters (their stored records), by name."""
    return [r.value for r in tx.scan(kind(g))]


def check_transformation(t: dict[str, Any]) -> None:
    value = t["metricValue"]
    if not (_NUMBER.match(value) or _is_field(value)):
        raise errors.invalid(f"Invalid metric value: {value}")
    for name, ref in (t.get("dimensions") or {}).items():
        if not _is_field(ref):
            raise errors.invalid(f"Invalid dimension value for {name}: {ref}. Dimension values must be fields.")
    if t.get("dimensions") and t.get("defaultValue") is not None:
        raise errors.invalid("Metric transformations with dimensions cannot have a default value.")


def _is_field(ref: str) -> bool:
    return ref.startswith("$") and len(ref) > 1


def extracted(pattern: str, message: str) -> dict[str, str]:
    """TestMetricFilter's extractedValues: ``$name`` -> value of a space-delimited pattern's fields."""
    return {f"${k}": v for k, v in filterpattern.compile_fields(pattern)(message).items()}


def _field(ref: str, message: str, fields: dict[str, str], doc: Any) -> Any:
    if ref.startswith("$."):
        if doc is None:
            return None
        cur = doc
        for step in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", ref[1:]):
            name, index = step
            if name:
                cur = cur.get(name) if isinstance(cur, dict) else None
            else:
                cur = cur[int(index)] if isinstance(cur, list) and int(index) < len(cur) else None
            if cur is None:
                return None
        return cur
    return fields.get(ref[1:])


def samples(f: dict[str, Any], message: str) -> tuple[list[tuple[str, float, dict[str, str]]], bool]:
    """(metric name, value, dimensions) this filter records for one event, and whether it matched."""
    out = []
    matched = filterpattern.compile_pattern(f["filterPattern"])(message)
    doc: Any = None
    fields: dict[str, str] = {}
    if matched:
        text = message.strip()
        if text.startswith("{"):
            try:
                doc = json.loads(text)
            except ValueError:
                doc = None
        fields = filterpattern.compile_fields(f["filterPattern"])(message)
    for t in f["metricTransformations"]:
        if not matched:
            if t.get("defaultValue") is not None:
                out.append((t["metricName"], float(t["defaultValue"]), {}))
            continue
        raw = t["metricValue"]
        value: Any = float(raw) if _NUMBER.match(raw) else _field(raw, message, fields, doc)
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        dims = {}
        for name, ref in (t.get("dimensions") or {}).items():
            v = _field(ref, message, fields, doc)
            if v is None:
                break
            dims[name] = v if isinstance(v, str) else json.dumps(v)
        else:
            out.append((t["metricName"], number, dims))
    return out, matched


def publish(ctx: Context, filters: list[dict[str, Any]], events: list[tuple[int, str]]) -> None:
    """Record the data points the filters make of `events` (timestamp ms, message), each
    at its event's time, in the filter's namespace (off the caller's commit: ``core.metrics``
    buffers them)."""
    for f in filters:
        units = {t["metricName"]: t.get("unit") or "None" for t in f["metricTransformations"]}
        namespaces = {t["metricName"]: t["metricNamespace"] for t in f["metricTransformations"]}
        for ts, message in events:
            at = dt.datetime.fromtimestamp(ts / 1000, _UTC)
            for metric, value, dims in samples(f, message)[0]:
                metrics.record_many(ctx.gateway, ctx.account, ctx.region, namespaces[metric], dims,
                                    [(metric, value, units[metric])], at)
