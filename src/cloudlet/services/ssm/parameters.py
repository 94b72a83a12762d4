"""PutParameter, GetParameter(s), DeleteParameter(s): one parameter record at a time.

Each write is one transaction, committed before the handler answers.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.ssm import crypto, errors, model, records

Input = dict[str, Any]
Output = dict[str, Any]


def put_parameter(ctx: Context, req: Input) -> Output:
    """A new parameter, or (with Overwrite) a new version of one."""
    name = model.check_new_name(req["Name"])
    _check_request(req)
    tags = _tags(req.get("Tags"))
    now = clock.now()
    with ctx.tx() as tx:
        record = records.get(tx, name)
        if record is not None and not req.get("Overwrite"):
            raise errors.already_exists()
        prev = records.current(record) if record is not None else None
        version = _next_version(tx, req, prev)
        versions = _make_room(name, record["versions"] if record is not None else [])
        if version["key_id"] is not None:  # a SecureString: only its ciphertext is stored
            with ctx.tx(region="") as ktx:
                version["value"] = crypto.encrypt(crypto.master_key(ktx), name, version["key_id"], version["value"])
        version.update(version=prev["version"] + 1 if prev else 1, modified=now, user=ctx.principal_arn)
        records.put(tx, {"name": name, "versions": [*versions, version], "tags": record["tags"] if record else tags})
    return {"Version": version["version"], "Tier": version["tier"]}


def _check_request(req: Input) -> None:
    """What can be refused before looking at the store."""
    if req["Value"] == "":
        raise errors.empty_value()
    if req.get("Overwrite") and req.get("Tags"):
        raise errors.tags_with_overwrite()
    if req.get("Type") is not None and req["Type"] not in model.TYPES:
        raise errors.enum(req["Type"], "type", model.TYPES)
    if req.get("Tier") is not None and req["Tier"] not in model.TIERS:
        raise errors.enum(req["Tier"], "tier", model.TIERS)
    if req.get("Policies"):
        raise errors.not_implemented("parameter policies (PutParameter Policies)")


def _next_version(tx: Tx, req: Input, prev: records.Version | None) -> records.Version:
    """The new version, checked. What an overwrite leaves out (description, pattern, key,
    data type, tier) carries over from the last version."""
    value = req["Value"]
    ptype = req.get("Type") or (prev["type"] if prev else None)
    if ptype is None:
        raise errors.type_required()
    key_id = _key_id(req.get("KeyId"), ptype, prev)
    description = req["Description"] if "Description" in req else (prev["description"] if prev else None)
    pattern = req["AllowedPattern"] if "AllowedPattern" in req else (prev["allowed_pattern"] if prev else None)
    data_type = req.get("DataType") or (prev["data_type"] if prev else "text")
    model.check_data_type(data_type, prev["data_type"] if prev else None, ptype, value)
    if pattern:
        model.check_allowed_pattern(pattern, value)
    intelligent = req.get("Tier") == "Intelligent-Tiering"
    tier = model.choose_tier(
        req.get("Tier"), prev["tier"] if prev else None, model.value_size(value), intelligent and _standard_full(tx, prev)
    )
    if prev is None or prev["tier"] != tier:
        _check_quota(tx, tier)
    return {
        "type": ptype, "value": value, "key_id": key_id, "description": description, "allowed_pattern": pattern,
        "tier": tier, "data_type": data_type, "labels": [],
    }


def _make_room(name: str, versions: list[records.Version]) -> list[records.Version]:
    """At 100 versions the oldest goes, unless a label holds it."""
    if len(versions) < model.MAX_VERSIONS:
        return versions
    oldest = versions[0]
    if oldest["labels"]:
        raise errors.max_versions(name, oldest["version"])
    return versions[1:]


def _tags(raw: list[dict[str, str]] | None) -> dict[str, str]:
    tags = {t["Key"]: t["Value"] for t in raw or ()}
    if len(tags) > model.MAX_TAGS:
        raise errors.too_many_tags()
    return tags


def _key_id(requested: str | None, ptype: str, prev: dict[str, Any] | None) -> str | None:
    if ptype != "SecureString":
        if requested is not None:
            raise errors.key_id_without_secure_string()
        return None
    if requested is not None:
        return requested
    if prev is not None and prev["key_id"] is not None:
        return str(prev["key_id"])
    return model.DEFAULT_KEY_ID


def _standard_full(tx: Tx, prev: dict[str, Any] | None) -> bool:
    """Whether a new standard parameter would pass the quota (counted only when the total
    could reach it, so the usual put costs one indexed count)."""
    if prev is not None and prev["tier"] == "Standard":
        return False
    if tx.count(records.KIND) < model.STANDARD_COUNT:
        return False
    return _count_tier(tx, "Standard") >= model.STANDARD_COUNT


def _check_quota(tx: Tx, tier: str) -> None:
    limit = model.STANDARD_COUNT if tier == "Standard" else model.ADVANCED_COUNT
    if tx.count(records.KIND) < limit:
        return
    if _count_tier(tx, tier) >= limit:
        raise errors.standard_limit(limit) if tier == "Standard" else errors.advanced_limit(limit)


def _count_tier(tx: Tx, tier: str) -> int:
    return sum(1 for r in tx.scan(records.KIND) if records.current(r.value)["tier"] == tier)


def get_parameter(ctx: Context, req: Input) -> Output:
    """The latest version, or the one a ``:version`` / ``:label`` selector names."""
    raw = req["Name"]
    if model.parse_arn(model.clean_name(raw)) is None:
        model.check_format(model.parse_reference(raw).name)
    values = records.Values(ctx, bool(req.get("WithDecryption")))
    with ctx.tx() as tx:
        record, ref = records.locate(ctx, tx, raw)
        if record is None:
            raise errors.not_found()
        ver = records.select(record, ref)
        return {"Parameter": records.parameter_view(ctx, record["name"], ver, values.of(record["name"], ver), ref.selector)}


def get_parameters(ctx: Context, req: Input) -> Output:
    """Up to ten at once; a name that does not resolve (missing parameter, version or
    label, or an invalid name) is listed in InvalidParameters as it was asked for."""
    values = records.Values(ctx, bool(req.get("WithDecryption")))
    found: list[dict[str, Any]] = []
    invalid: list[str] = []
    seen: set[str] = set()
    with ctx.tx() as tx:
        for raw in req["Names"]:
            if raw in seen:
                continue
            seen.add(raw)
            try:
                record, ref = records.locate(ctx, tx, raw)
                if record is None:
                    invalid.append(raw)
                    continue
                ver = records.select(record, ref)
            except ServiceError:
                invalid.append(raw)
                continue
            found.append(records.parameter_view(ctx, record["name"], ver, values.of(record["name"], ver), ref.selector))
    return {"Parameters": found, "InvalidParameters": invalid}


def delete_parameter(ctx: Context, req: Input) -> Output:
    """The parameter and its whole history go; a new one by that name starts at version 1."""
    with ctx.tx() as tx:
        if not tx.delete(records.KIND, model.clean_name(req["Name"])):
            raise errors.not_found()
    return {}


def delete_parameters(ctx: Context, req: Input) -> Output:
    deleted: list[str] = []
    invalid: list[str] = []
    with ctx.tx() as tx:
        for raw in req["Names"]:
            (deleted if tx.delete(records.KIND, model.clean_name(raw)) else invalid).append(raw)
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}
