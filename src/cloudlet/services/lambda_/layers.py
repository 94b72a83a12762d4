"""Layers: immutable, numbered versions of a zip that functions add to their runtime
environment (unpacked under ``/opt`` by the engine), with their own resource policy.

Version numbers are never reused, even after a delete (``layerctr`` keeps the last one).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.lambda_ import access, code, errors, names, storage

Input = dict[str, Any]
Output = dict[str, Any]

_PUBLIC = ("LayerVersionArn", "Version", "Description", "CreatedDate", "CompatibleRuntimes", "LicenseInfo",
           "CompatibleArchitectures")


def publish_layer_version(ctx: Context, req: Input) -> Any:
    if not ctx.internal:
        return asyncio.to_thread(_publish_layer_version, ctx, req)  # checking and unpacking off the loop
    return _publish_layer_version(ctx, req)


def _publish_layer_version(ctx: Context, req: Input) -> Output:
    account, region, name = names.parse_layer(req["LayerName"], ctx.account, ctx.region)
    if (account, region) != (ctx.account, ctx.region):
        raise errors.invalid("Layers can only be published in the caller's own account and region.")
    pkg = code.package_from(ctx, req["Content"], operation="PublishLayerVersion")
    code.tree(ctx.gateway, pkg.sha_hex, layer=True, data=pkg.data)
    with ctx.tx() as t:
        ctr = t.get(storage.LAYERCTR, name)
        version = (ctr.value if ctr else 0) + 1
        t.put(storage.LAYERCTR, name, version)
        layer = {
            "Content": {"Location": access.code_location(ctx.gateway, pkg.sha_hex), "CodeSha256": pkg.sha256, "CodeSize": pkg.size},
            "LayerArn": names.layer_arn(ctx.region, ctx.account, name),
            "LayerVersionArn": names.layer_arn(ctx.region, ctx.account, name, version),
            "Description": req.get("Description") or "",
            "CreatedDate": access.last_modified(),
            "Version": version,
        }
        for key in ("CompatibleRuntimes", "CompatibleArchitectures"):
            if req.get(key):
                layer[key] = list(req[key])
        if req.get("LicenseInfo") is not None:
            layer["LicenseInfo"] = req["LicenseInfo"]
        code.keep(t, pkg)
        t.put(storage.LAYER, storage.vkey(name, version),
              {**layer, "sha_hex": pkg.sha_hex, "unzipped": pkg.unzipped, "policy": [], "RevisionId": access.new_revision()})
    return layer


def get_layer_version(ctx: Context, req: Input) -> Output:
    account, region, name = names.parse_layer(req["LayerName"], ctx.account, ctx.region)
    return _public(_load(ctx, account, region, name, req["VersionNumber"]))


def get_layer_version_by_arn(ctx: Context, req: Input) -> Output:
    parts = names.parse_layer_version_arn(req["Arn"])
    if parts is None:
        raise errors.invalid(f"Invalid layer version arn: {req['Arn']}")
    account, region, name, version = parts
    return _public(_load(ctx, account, region, name, version))


def list_layers(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rows = [r.value for r in t.scan(storage.LAYER)]
    latest: dict[str, dict[str, Any]] = {}
    for layer in rows:  # ascending by name, then version: the last match wins
        if _matches(layer, req):
            latest[layer["LayerArn"]] = layer
    items = [{"LayerName": arn.rsplit(":", 1)[1], "LayerArn": arn, "LatestMatchingVersion": _item(layer)}
             for arn, layer in latest.items()]
    return access.page("Layers", items, req.get("Marker"), req.get("MaxItems") or 50)


def list_layer_versions(ctx: Context, req: Input) -> Output:
    account, region, name = names.parse_layer(req["LayerName"], ctx.account, ctx.region)
    with ctx.tx(account=account, region=region) as t:
        rows = [r.value for r in t.scan(storage.LAYER, f"{name}:", reverse=True)]
    items = [_item(layer) for layer in rows if _matches(layer, req)]
    return access.page("LayerVersions", items, req.get("Marker"), req.get("MaxItems") or 50)


def delete_layer_version(ctx: Context, req: Input) -> Output:
    """Idempotent, as AWS: deleting a missing version succeeds."""
    account, region, name = names.parse_layer(req["LayerName"], ctx.account, ctx.region)
    with ctx.tx(account=account, region=region) as t:
        key = storage.vkey(name, req["VersionNumber"])
        rec = t.get(storage.LAYER, key)
        if rec is not None:
            t.delete(storage.LAYER, key)
            code.release(t, rec.value["sha_hex"])
    return {}


def add_layer_version_permission(ctx: Context, req: Input) -> Output:
    account, region, name = names.parse_layer(req["LayerName"], ctx.account, ctx.region)
    if req["Action"] != "lambda:GetLayerVersion":
        raise errors.invalid(f"Action {req['Action']} is not supported for layers. Only lambda:GetLayerVersion is supported.")
    principal = req["Principal"]
    if not (principal == "*" or _is_account(principal) or principal.startswith("arn:")):
        raise errors.invalid(f"The principal {principal} is invalid. The principal must be an AWS account ID, an "
                             "IAM ARN or *.")
    if req.get("OrganizationId") and principal != "*":
        raise errors.invalid("OrganizationId can only be specified when the principal is *.")
    with ctx.tx(account=account, region=region) as t:
        key = storage.vkey(name, req["VersionNumber"])
        layer = _version(t, account, region, name, req["VersionNumber"])
        access.check_revision(req.get("RevisionId"), layer["RevisionId"], "GetLayerPolicy")
        if any(s["Sid"] == req["StatementId"] for s in layer["policy"]):
            raise errors.conflict(f"The statement id ({req['StatementId']}) provided already exists. Please provide "
                                  "a new statement id, or remove the existing statement.")
        statement: dict[str, Any] = {
            "Sid": req["StatementId"], "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": principal if principal.startswith("arn:") else
                                                       f"arn:aws:iam::{principal}:root"},
            "Action": "lambda:GetLayerVersion", "Resource": layer["LayerVersionArn"],
        }
        if req.get("OrganizationId"):
            statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": req["OrganizationId"]}}
        layer["policy"] = [*layer["policy"], statement]
        layer["RevisionId"] = access.new_revision()
        t.put(storage.LAYER, key, layer)
    return {"Statement": json.dumps(statement, separators=(",", ":")), "RevisionId": layer["RevisionId"]}


def remove_layer_version_permission(ctx: Context, req: Input) -> Output:
    account, region, name = names.parse_layer(req["LayerName"], ctx.account, ctx.region)
    with ctx.tx(account=account, region=region) as t:
        key = storage.vkey(name, req["VersionNumber"])
        layer = _version(t, account, region, name, req["VersionNumber"])
        access.check_revision(req.get("RevisionId"), layer["RevisionId"], "GetLayerPolicy")
        kept = [s for s in layer["policy"] if s["Sid"] != req["StatementId"]]
        if len(kept) == len(layer["policy"]):
            raise errors.not_found(f"Statement {req['StatementId']} is not found in resource policy.")
        layer["policy"] = kept
        layer["RevisionId"] = access.new_revision()
        t.put(storage.LAYER, key, layer)
    return {}


def get_layer_version_policy(ctx: Context, req: Input) -> Output:
    account, region, name = names.parse_layer(req["LayerName"], ctx.account, ctx.region)
    layer = _load(ctx, account, region, name, req["VersionNumber"])
    if not layer["policy"]:
        raise errors.not_found("No policy is associated with the given resource.")
    doc = {"Version": "2012-10-17", "Id": "default", "Statement": layer["policy"]}
    return {"Policy": json.dumps(doc, separators=(",", ":")), "RevisionId": layer["RevisionId"]}


def _is_account(text: str) -> bool:
    return len(text) == 12 and text.isdecimal()


def _load(ctx: Context, account: str, region: str, name: str, version: int) -> dict[str, Any]:
    with ctx.tx(account=account, region=region) as t:
        return _version(t, account, region, name, version)


def _version(t: Tx, account: str, region: str, name: str, version: int) -> dict[str, Any]:
    """A layer version's record, or AWS's not-found."""
    rec = t.get(storage.LAYER, storage.vkey(name, version))
    if rec is None:
        raise errors.not_found(_missing(account, region, name, version))
    return rec.value


def _missing(account: str, region: str, name: str, version: int) -> str:
    return "The resource you requested does not exist."


def _public(layer: dict[str, Any]) -> dict[str, Any]:
    out = {k: layer[k] for k in ("Content", "LayerArn", *_PUBLIC) if k in layer}
    return out


def _item(layer: dict[str, Any]) -> dict[str, Any]:
    return {k: layer[k] for k in _PUBLIC if k in layer}


def _matches(layer: dict[str, Any], req: Input) -> bool:
    runtime = req.get("CompatibleRuntime")
    arch = req.get("CompatibleArchitecture")
    if runtime and runtime not in (layer.get("CompatibleRuntimes") or ()):
        return False
    if arch and arch not in (layer.get("CompatibleArchitectures") or ()):
        return False
    return True

