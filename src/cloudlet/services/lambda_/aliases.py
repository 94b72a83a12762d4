"""Aliases: named pointers to a version, optionally splitting traffic with a second
version by weight (``RoutingConfig.AdditionalVersionWeights``; ``spec.resolve`` picks)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.lambda_ import access, errors, names, storage
from cloudlet.services.lambda_.names import LATEST

Input = dict[str, Any]
Output = dict[str, Any]


def create_alias(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        access.load(t, where)
        _check_version(t, where, req["FunctionVersion"])
        routing = _routing(t, where, req["FunctionVersion"], req.get("RoutingConfig"))
        arn = names.function_arn(where.region, where.account, where.name, req["Name"])
        if storage.get(t, storage.ALIAS, where.name, req["Name"]) is not None:
            raise errors.conflict(f"Alias already exists: {arn}")
        alias: dict[str, Any] = {
            "AliasArn": arn, "Name": req["Name"], "FunctionVersion": req["FunctionVersion"],
            "Description": req.get("Description") or "", "RevisionId": access.new_revision(),
        }
        if routing:
            alias["RoutingConfig"] = routing
        storage.put(t, storage.ALIAS, where.name, req["Name"], alias)
    return alias


def get_alias(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        return dict(_load(t, where, req["Name"]))


def update_alias(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        alias = dict(_load(t, where, req["Name"]))
        access.check_revision(req.get("RevisionId"), alias["RevisionId"], "GetAlias")
        if "FunctionVersion" in req:
            _check_version(t, where, req["FunctionVersion"])
            alias["FunctionVersion"] = req["FunctionVersion"]
        if "Description" in req:
            alias["Description"] = req["Description"]
        if "RoutingConfig" in req:
            routing = _routing(t, where, alias["FunctionVersion"], req["RoutingConfig"])
            if routing:
                alias["RoutingConfig"] = routing
            else:
                alias.pop("RoutingConfig", None)
        elif alias.get("RoutingConfig"):
            _routing(t, where, alias["FunctionVersion"], alias["RoutingConfig"])
        alias["RevisionId"] = access.new_revision()
        storage.put(t, storage.ALIAS, where.name, req["Name"], alias)
    return alias


def delete_alias(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        access.load(t, where)
        if storage.delete(t, storage.ALIAS, where.name, req["Name"]):
            for kind in (storage.POLICY, storage.EIC, storage.PC):
                storage.delete(t, kind, where.name, req["Name"])
            url = storage.get(t, storage.URL, where.name, req["Name"])
            if url is not None:
                storage.delete_url_id(t, url["url_id"])
                storage.delete(t, storage.URL, where.name, req["Name"])
    return {}


def list_aliases(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        access.load(t, where)
        found = [a for _, a in storage.all_of(t, storage.ALIAS, where.name)
                 if not req.get("FunctionVersion") or a["FunctionVersion"] == req["FunctionVersion"]
                 or req["FunctionVersion"] in ((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})]
    return access.page("Aliases", found, req.get("Marker"), req.get("MaxItems") or 50)


def _load(t: Tx, where: names.FunctionRef, name: str) -> dict[str, Any]:
    """An alias of the function `where` names (which must exist first: its error comes first)."""
    access.load(t, where)
    alias = storage.get(t, storage.ALIAS, where.name, name)
    if alias is None:
        raise errors.alias_not_found(names.function_arn(where.region, where.account, where.name, name))
    return alias


def _check_version(t: Tx, where: names.FunctionRef, version: str) -> None:
    if version != LATEST and storage.get_version(t, where.name, version) is None:
        raise errors.function_not_found(names.function_arn(where.region, where.account, where.name, version))


def _routing(t: Tx, where: names.FunctionRef, primary: str, routing: dict[str, Any] | None) -> dict[str, Any] | None:
    """AdditionalVersionWeights: one other published version, weight in [0, 1]."""
    weights = dict((routing or {}).get("AdditionalVersionWeights") or {})
    if not weights:
        return None
    if len(weights) > 1:
        raise errors.invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
    if primary == LATEST:
        raise errors.invalid("$LATEST is not supported for an alias pointing to more than 1 version")
    for version, weight in weights.items():
        if not version.isdecimal():
            raise errors.invalid(f"Invalid function version {version}. Function version {version} must be a published version.")
        if version == primary:
            raise errors.invalid(
                f"Invalid function version {version}. Function version {version} is already included in routing "
                "configuration."
            )
        if not 0.0 <= float(weight) <= 1.0:
            raise errors.validation("routingConfig.additionalVersionWeights", weight,
                                    "Member must have value between 0.0 and 1.0")
        _check_version(t, where, version)
    return {"AdditionalVersionWeights": {v: float(w) for v, w in weights.items()}}
