"""Archives: the events of one bus that match the archive's pattern (all of them without
one), kept for RetentionDays on the cloudlet clock (0: forever). Create, describe, list,
update, delete; ``archiving`` keeps the events, ``replays`` sends them back."""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.events import archiving, arns, errors, matching, paging, storage

Input = dict[str, Any]
Output = dict[str, Any]

_SETTABLE = ("Description", "EventPattern", "RetentionDays", "KmsKeyIdentifier")


def create_archive(ctx: Context, req: Input) -> Output:
    name = req["ArchiveName"]
    if req.get("EventPattern"):
        matching.check(req["EventPattern"])
    source = arns.parse(req["EventSourceArn"])
    if source is None or source.kind != "event-bus" or not source.rest:
        raise errors.bad_parameter("EventSourceArn")
    now = clock.time_s()
    with ctx.tx() as tx:
        if storage.get(tx, storage.ARCHIVE, name) is not None:
            raise errors.exists(f"Archive {name} already exists.")
        if source.account != ctx.account or storage.bus(tx, source.rest, now) is None:
            raise errors.bus_not_found(source.rest)
        archive: dict[str, Any] = {
            "name": name, "source": req["EventSourceArn"], "state": "ENABLED", "created": now, "count": 0, "bytes": 0,
            "RetentionDays": req.get("RetentionDays") or 0,
        }
        for key in ("Description", "EventPattern", "KmsKeyIdentifier"):
            if req.get(key) is not None:
                archive[key] = req[key]
        storage.put_archive(tx, archive)
    return {"ArchiveArn": _arn(ctx, name), "State": "ENABLED", "CreationTime": now}


def describe_archive(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        archive = _fresh(tx, req["ArchiveName"])
    out = _view(ctx, archive)
    out["ArchiveArn"] = _arn(ctx, archive["name"])
    for key in ("Description", "EventPattern", "KmsKeyIdentifier"):
        if archive.get(key) is not None:
            out[key] = archive[key]
    return out


def list_archives(ctx: Context, req: Input) -> Output:
    filters = [k for k in ("NamePrefix", "EventSourceArn", "State") if req.get(k)]
    if len(filters) > 1:
        raise errors.validation(
            "At most one filter is allowed for ListArchives. Use either : State, EventSourceArn, or NamePrefix."
        )
    now = clock.time_s()
    with ctx.tx() as tx:
        found = storage.named(tx, storage.ARCHIVE, req.get("NamePrefix"))
        for archive in found:
            if archiving.purge(tx, archive, now):
                storage.put_archive(tx, archive)
    found = [a for a in found if (not req.get("EventSourceArn") or a["source"] == req["EventSourceArn"])
             and (not req.get("State") or a["state"] == req["State"])]
    chosen, token = paging.page(found, lambda a: a["name"], req.get("Limit"), req.get("NextToken"))
    out: Output = {"Archives": [_view(ctx, a) for a in chosen]}
    if token:
        out["NextToken"] = token
    return out


def update_archive(ctx: Context, req: Input) -> Output:
    if req.get("EventPattern"):
        matching.check(req["EventPattern"])
    with ctx.tx() as tx:
        archive = _load(tx, req["ArchiveName"])
        for key in _SETTABLE:
            if key in req:
                archive[key] = req[key]
        archiving.purge(tx, archive, clock.time_s())
        storage.put_archive(tx, archive)
    return {"ArchiveArn": _arn(ctx, archive["name"]), "State": archive["state"], "CreationTime": archive["created"]}


def delete_archive(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        _load(tx, req["ArchiveName"])
        archiving.drop_all(tx, req["ArchiveName"])
        tx.delete(storage.ARCHIVE, req["ArchiveName"])
    return {}


def _load(tx: Tx, name: str) -> dict[str, Any]:
    archive = storage.get(tx, storage.ARCHIVE, name)
    if archive is None:
        raise errors.not_found(f"Archive {name} does not exist.")
    return archive


def _fresh(tx: Tx, name: str) -> dict[str, Any]:
    """The archive with its expired events dropped (so its counts are current)."""
    archive = _load(tx, name)
    if archiving.purge(tx, archive, clock.time_s()):
        storage.put_archive(tx, archive)
    return archive


def _arn(ctx: Context, name: str) -> str:
    return arns.archive_arn(ctx.partition, ctx.region, ctx.account, name)


def _view(ctx: Context, archive: dict[str, Any]) -> Output:
    return {
        "ArchiveName": archive["name"], "EventSourceArn": archive["source"], "State": archive["state"],
        "RetentionDays": archive.get("RetentionDays") or 0, "SizeBytes": archive.get("bytes", 0),
        "EventCount": archive.get("count", 0), "CreationTime": archive["created"],
    }
