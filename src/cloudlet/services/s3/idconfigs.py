"""Configurations a bucket keeps by id: inventory, metrics, analytics and
Intelligent-Tiering (Put/Get/Delete/List for each), stored and returned as sent.

Each is a ``cfg`` record ``<family>/<id>``; listings page 100 at a time in id order with
a continuation token. A bucket holds at most 1,000 of each family.
"""

from __future__ import annotations

from typing import Any, Callable

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import errors, storage
from cloudlet.services.s3.subresources import count_by_id, get_by_id, list_by_id, no_such_configuration, require_bucket

Input = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[Context, Input], Output]
Check = Callable[[dict[str, Any]], None]

MAX_PER_FAMILY = 1000


def _check_inventory(cfg: dict[str, Any]) -> None:
    dest = (cfg.get("Destination") or {}).get("S3BucketDestination") or {}
    if dest.get("Format") not in ("CSV", "ORC", "Parquet"):
        raise errors.malformed_xml()
    if (cfg.get("Schedule") or {}).get("Frequency") not in ("Daily", "Weekly"):
        raise errors.malformed_xml()
    if cfg.get("IncludedObjectVersions") not in ("All", "Current"):
        raise errors.malformed_xml()


def _check_tiering(cfg: dict[str, Any]) -> None:
    if cfg.get("Status") not in ("Enabled", "Disabled") or not cfg.get("Tierings"):
        raise errors.malformed_xml()
    for tiering in cfg["Tierings"]:
        if tiering.get("AccessTier") not in ("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"):
            raise errors.malformed_xml()


def _put(ctx: Context, req: Input, family: str, member: str, check: Check | None) -> Output:
    cfg = req.get(member) or {}
    if check is not None:
        check(cfg)
    config_id = req["Id"]
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        name = f"{family}/{config_id}"
        if storage.get_config(t, b["name"], name) is None and count_by_id(t, b["name"], family) >= MAX_PER_FAMILY:
            raise ServiceError(
                "TooManyConfigurations",
                "You are attempting to create a new configuration but have already reached the 1,000-configuration "
                "limit.",
                400,
            )
        storage.put_config(t, b["name"], name, cfg)
    return {}


def _get(ctx: Context, req: Input, family: str, member: str) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        return {member: get_by_id(t, b["name"], family, req["Id"])}


def _delete(ctx: Context, req: Input, family: str) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        name = f"{family}/{req['Id']}"
        if storage.get_config(t, b["name"], name) is None:
            raise no_such_configuration()
        storage.delete_config(t, b["name"], name)
    return {}


def _list(ctx: Context, req: Input, family: str, member: str) -> Output:
    token = req.get("ContinuationToken")
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        page, next_token = list_by_id(t, b["name"], family, token)
    out: Output = {"IsTruncated": next_token is not None}
    if page:
        out[member] = page
    if token:
        out["ContinuationToken"] = token
    if next_token:
        out["NextContinuationToken"] = next_token
    return out


def _family(family: str, member: str, check: Check | None = None) -> tuple[Handler, Handler, Handler, Handler]:
    """Put/Get/Delete/List handlers of one family, whose configurations the request holds
    in `member` (``<member>List`` in a listing)."""

    def put(ctx: Context, req: Input) -> Output:
        return _put(ctx, req, family, member, check)

    def get(ctx: Context, req: Input) -> Output:
        return _get(ctx, req, family, member)

    def delete(ctx: Context, req: Input) -> Output:
        return _delete(ctx, req, family)

    def list_(ctx: Context, req: Input) -> Output:
        return _list(ctx, req, family, member + "List")

    return put, get, delete, list_


# one line per family: the registry finds each handler by the name it is bound to here
(put_bucket_inventory_configuration, get_bucket_inventory_configuration, delete_bucket_inventory_configuration,
 list_bucket_inventory_configurations) = _family("inventory", "InventoryConfiguration", _check_inventory)
(put_bucket_metrics_configuration, get_bucket_metrics_configuration, delete_bucket_metrics_configuration,
 list_bucket_metrics_configurations) = _family("metrics", "MetricsConfiguration")
(put_bucket_analytics_configuration, get_bucket_analytics_configuration, delete_bucket_analytics_configuration,
 list_bucket_analytics_configurations) = _family("analytics", "AnalyticsConfiguration")
(put_bucket_intelligent_tiering_configuration, get_bucket_intelligent_tiering_configuration,
 delete_bucket_intelligent_tiering_configuration, list_bucket_intelligent_tiering_configurations) = _family(
    "intelligent-tiering", "IntelligentTieringConfiguration", _check_tiering)
