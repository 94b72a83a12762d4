"""GetParametersByPath, DescribeParameters, GetParameterHistory: reads over many records
or many versions, a page at a time.

Pages are in name order; a token names the last parameter (or version) returned, so a
page is a prefix scan that starts after it, and parameters written between two calls
are neither skipped nor repeated. A token is only handed out when another match exists,
so the last page never comes back empty.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.ssm import errors, model, records

Input = dict[str, Any]
Output = dict[str, Any]

_BATCH = 256
Pick = Callable[[records.Record], "records.Version | None"]


def _walk(tx: Tx, prefix: str, after: str | None) -> Iterator[records.Record]:
    while True:
        batch = tx.scan(records.KIND, prefix or None, after=after, limit=_BATCH)
        for rec in batch:
            yield rec.value
        if len(batch) < _BATCH:
            return
        after = str(batch[-1].key)


def _page(
    tx: Tx, prefix: str, after: str | None, pick: Pick, limit: int
) -> tuple[list[tuple[records.Record, records.Version]], str | None]:
    """Up to `limit` (record, version) pairs that `pick` keeps, and the name to resume
    after if one more would have been kept."""
    out: list[tuple[records.Record, records.Version]] = []
    for record in _walk(tx, prefix, after):
        ver = pick(record)
        if ver is None:
            continue
        if len(out) == limit:
            return out, out[-1][0]["name"]
        out.append((record, ver))
    return out, None


def get_parameters_by_path(ctx: Context, req: Input) -> Output:
    """The parameters one level below a path, or all below it with Recursive. A Label
    filter selects, for each parameter, the version that carries the label."""
    op = "GetParametersByPath"
    path = model.check_path(req["Path"])
    recursive = bool(req.get("Recursive"))
    filters = model.by_path_filters(req.get("ParameterFilters"))
    labels = next((f.values for f in filters if f.key == "Label"), None)
    others = [f for f in filters if f.key != "Label"]
    after = model.read_token(op, req.get("NextToken"), str)
    values = records.Values(ctx, bool(req.get("WithDecryption")))

    def pick(record: records.Record) -> records.Version | None:
        if not model.in_path(record["name"], path, recursive):
            return None
        if others and not model.matches(others, records.facts(record)):
            return None
        if labels is None:
            return records.current(record)
        return next((v for v in reversed(record["versions"]) if set(labels) & set(v["labels"])), None)

    with ctx.tx() as tx:
        page, resume = _page(tx, model.scan_prefix(path), after, pick, req.get("MaxResults") or 10)
        out: Output = {
            "Parameters": [
                records.parameter_view(ctx, rec["name"], ver, values.of(rec["name"], ver)) for rec, ver in page
            ]
        }
    if resume is not None:
        out["NextToken"] = model.make_token(op, resume)
    return out


def describe_parameters(ctx: Context, req: Input) -> Output:
    """Metadata (no values) of the parameters the filters select. ``Shared`` lists
    parameters other accounts share through RAM: none exist here, so it is empty."""
    op = "DescribeParameters"
    if req.get("Filters") and req.get("ParameterFilters"):
        raise errors.filters_and_parameter_filters()
    filters = model.legacy_filters(req.get("Filters")) + model.describe_filters(req.get("ParameterFilters"))
    after = model.read_token(op, req.get("NextToken"), str)
    if req.get("Shared"):
        return {"Parameters": []}
    paths = [f for f in filters if f.key == "Path"]
    prefix = model.scan_prefix(paths[0].values[0]) if paths and len(paths[0].values) == 1 else ""

    def pick(record: records.Record) -> records.Version | None:
        return records.current(record) if model.matches(filters, records.facts(record)) else None

    with ctx.tx() as tx:
        page, resume = _page(tx, prefix, after, pick, req.get("MaxResults") or 10)
    out: Output = {"Parameters": [records.metadata_view(ctx, rec["name"], ver) for rec, ver in page]}
    if resume is not None:
        out["NextToken"] = model.make_token(op, resume)
    return out


def get_parameter_history(ctx: Context, req: Input) -> Output:
    """Every kept version, oldest first, with its labels (SecureStrings decrypted on request)."""
    op = "GetParameterHistory"
    after = model.read_token(op, req.get("NextToken"), int) or 0
    limit = req.get("MaxResults") or 50
    values = records.Values(ctx, bool(req.get("WithDecryption")))
    with ctx.tx() as tx:
        record, ref = records.locate(ctx, tx, req["Name"])
        if ref.selector is not None:
            raise errors.invalid_name()
        if record is None:
            raise errors.not_found()
        name = record["name"]
        versions = [v for v in record["versions"] if v["version"] > after]
        page = versions[:limit]
        out: Output = {"Parameters": [records.history_view(name, v, values.of(name, v)) for v in page]}
    if len(versions) > limit:
        out["NextToken"] = model.make_token(op, page[-1]["version"])
    return out
