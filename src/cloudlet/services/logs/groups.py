"""Log groups: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, retention policies."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.logs import errors, metricfilters, model, retention, storage
from cloudlet.services.logs.lookup import group_name, now_ms, require_group

Params = dict[str, Any]
CLASSES = ("STANDARD", "INFREQUENT_ACCESS", "DELIVERY")


def create_log_group(ctx: Context, params: Params) -> Params:
    name = params["logGroupName"]
    model.check_enum("logGroupClass", params.get("logGroupClass"), CLASSES)
    tags = params.get("tags") or {}
    if len(tags) > model.MAX_TAGS:
        raise errors.too_many_tags(model.group_arn(ctx.partition, ctx.region, ctx.account, name))
    with ctx.tx() as tx:
        if storage.get_group(tx, name) is not None:
            raise errors.group_exists()
        storage.put_group(tx, storage.Group(
            name=name, id=storage.new_id(), created=now_ms(), tags=dict(tags),
            log_class=params.get("logGroupClass") or "STANDARD", kms=params.get("kmsKeyId"),
            protected=bool(params.get("deletionProtectionEnabled")),
        ))
    return {}


def delete_log_group(ctx: Context, params: Params) -> Params:
    with ctx.tx() as tx:
        g = require_group(tx, params["logGroupName"])
        if g.protected:
            raise errors.deletion_protected()
        for s in storage.streams(tx, g):
            storage.drop_stream(tx, g, s)
        for rec in tx.scan(metricfilters.kind(g)):
            tx.delete(metricfilters.kind(g), rec.key)
        tx.delete(storage.GROUP, g.name)
        retention.unschedule(ctx, tx, g)
    return {}


def describe_log_groups(ctx: Context, params: Params) -> Params:
    prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
    idents = params.get("logGroupIdentifiers")
    if prefix and pattern:
        raise errors.invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    if idents and (prefix or pattern):
        raise errors.invalid("LogGroupIdentifiers and LogGroupName prefix/pattern are mutually exclusive parameters.")
    limit = params.get("limit") or 50
    state = model.listing_state(params.get("nextToken"))
    after = state["a"] if state else None
    wanted: set[str] | None = None
    if idents:
        wanted = set()
        for ident in idents:
            parsed = model.group_from_arn(ident) if ident.startswith("arn:") else (ctx.region, ctx.account, ident)
            if parsed and parsed[0] == ctx.region and parsed[1] == ctx.account:
                wanted.add(parsed[2])
    log_class = params.get("logGroupClass")
    model.check_enum("logGroupClass", log_class, CLASSES)
    out: list[Params] = []
    more = False
    with ctx.tx() as tx:
        while len(out) <= limit:
            batch = storage.groups(tx, prefix, after=after, limit=200)
            for g in batch:
                after = g.name
                if pattern and pattern not in g.name:
                    continue
                if wanted is not None and g.name not in wanted:
                    continue
                if log_class and g.log_class != log_class:
                    continue
                if len(out) == limit:
                    more = True
                    break
                out.append(_describe(ctx, g, brief=bool(pattern), filters=tx.count(metricfilters.kind(g))))
            if more or len(batch) < 200:
                break
    result: Params = {"logGroups": out}
    if more:
        result["nextToken"] = model.opaque_token({"a": out[-1]["logGroupName"]})
    return result


def _describe(ctx: Context, g: storage.Group, brief: bool, filters: int) -> Params:
    arn = model.group_arn(ctx.partition, ctx.region, ctx.account, g.name)
    if brief:  # "If you specify logGroupNamePattern ... only arn, creationTime, and logGroupName"
        return {"logGroupName": g.name, "creationTime": g.created, "arn": arn + ":*"}
    d: Params = {"logGroupName": g.name, "creationTime": g.created, "metricFilterCount": filters}
    if g.retention:
        d["retentionInDays"] = g.retention
    d.update({"arn": arn + ":*", "storedBytes": g.stored})
    if g.kms:
        d["kmsKeyId"] = g.kms
    d.update({"logGroupClass": g.log_class, "logGroupArn": arn, "deletionProtectionEnabled": g.protected})
    return d


def put_retention_policy(ctx: Context, params: Params) -> Params:
    days = params["retentionInDays"]
    model.check_retention(days)
    _set_retention(ctx, params["logGroupName"], days)
    return {}


def delete_retention_policy(ctx: Context, params: Params) -> Params:
    _set_retention(ctx, params["logGroupName"], None)
    return {}


def _set_retention(ctx: Context, name: str, days: int | None) -> None:
    """The group's retention and its daily sweep change together, in one transaction."""
    with ctx.tx() as tx:
        g = require_group(tx, name)
        g.retention = days
        storage.put_group(tx, g)
        if days is None:
            retention.unschedule(ctx, tx, g)
        else:
            retention.schedule(ctx, tx, g)


def put_log_group_deletion_protection(ctx: Context, params: Params) -> Params:
    name = group_name(ctx, {"logGroupIdentifier": params["logGroupIdentifier"]})
    with ctx.tx() as tx:
        g = require_group(tx, name)
        g.protected = bool(params["deletionProtectionEnabled"])
        storage.put_group(tx, g)
    return {}


def list_log_groups(ctx: Context, params: Params) -> Params:
    """The newer listing: ``logGroupNamePattern`` is up to five ``|``-separated terms, each a
    case-sensitive substring or, with ``^``, a prefix; tag filters AND across keys and OR
    across one key's values. cloudlet keeps no field indexes or data sources, so a filter
    on those matches no group."""
    model.check_enum("logGroupClass", params.get("logGroupClass"), CLASSES)
    terms = [t for t in (params.get("logGroupNamePattern") or "").split("|") if t]
    tag_filters = params.get("logGroupTags") or []
    limit = params.get("limit") or 50
    state = model.listing_state(params.get("nextToken"))
    after = state["a"] if state else None
    if params.get("dataSources") or params.get("fieldIndexNames"):
        return {"logGroups": []}

    def wanted(g: storage.Group) -> bool:
        if terms and not any(g.name.startswith(t[1:]) if t.startswith("^") else t in g.name for t in terms):
            return False
        if params.get("logGroupClass") and g.log_class != params["logGroupClass"]:
            return False
        for f in tag_filters:
            if f["key"] not in g.tags or (f.get("values") and g.tags[f["key"]] not in f["values"]):
                return False
        return True

    out: list[Params] = []
    more = False
    with ctx.tx() as tx:
        while not more:
            batch = storage.groups(tx, after=after, limit=200)
            for g in batch:
                after = g.name
                if not wanted(g):
                    continue
                if len(out) == limit:
                    more = True
                    break
                out.append({"logGroupName": g.name, "logGroupClass": g.log_class,
                            "logGroupArn": model.group_arn(ctx.partition, ctx.region, ctx.account, g.name)})
            if len(batch) < 200:
                break
    result: Params = {"logGroups": out}
    if more:
        result["nextToken"] = model.opaque_token({"a": out[-1]["logGroupName"]})
    return result
