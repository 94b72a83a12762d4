"""Code signing configs (which signing profiles a function's code must be signed by, and
what happens to code that is not) and the function's choice of one.

cloudlet has no AWS Signer: every package it deploys is unsigned, so a function whose
config says ``Enforce`` cannot get new code (CodeVerificationFailedException) and one that
says ``Warn`` gets it with a ``SignatureValidationErrors`` metric; ``signing`` judges each
deployment. The config a function uses is the function's, not a version's, and a config
cannot be deleted while a function uses it.
"""

from __future__ import annotations

import secrets
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.lambda_ import access, errors, names, signing, storage

Input = dict[str, Any]
Output = dict[str, Any]

_POLICIES = (signing.WARN, signing.ENFORCE)


def create_code_signing_config(ctx: Context, req: Input) -> Output:
    policies = _policies(req.get("CodeSigningPolicies"), {"UntrustedArtifactOnDeployment": signing.WARN})
    csc_id = "csc-" + secrets.token_hex(9)[:17]
    config = {
        "CodeSigningConfigId": csc_id,
        "CodeSigningConfigArn": names.code_signing_config_arn(ctx.region, ctx.account, csc_id),
        "Description": req.get("Description") or "",
        "AllowedPublishers": {"SigningProfileVersionArns": list(req["AllowedPublishers"]["SigningProfileVersionArns"])},
        "CodeSigningPolicies": policies,
        "LastModified": access.last_modified(),
    }
    with ctx.tx() as t:
        t.put(storage.CSC, csc_id, {"config": config, "tags": dict(req.get("Tags") or {})})
    return {"CodeSigningConfig": dict(config)}


def get_code_signing_config(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = _load(t, req["CodeSigningConfigArn"])
    return {"CodeSigningConfig": dict(rec["config"])}


def update_code_signing_config(ctx: Context, req: Input) -> Output:
    arn = req["CodeSigningConfigArn"]
    with ctx.tx() as t:
        rec = _load(t, arn)
        config = dict(rec["config"])
        if "Description" in req:
            config["Description"] = req["Description"] or ""
        if "AllowedPublishers" in req:
            config["AllowedPublishers"] = {
                "SigningProfileVersionArns": list(req["AllowedPublishers"]["SigningProfileVersionArns"]),
            }
        if "CodeSigningPolicies" in req:
            config["CodeSigningPolicies"] = _policies(req["CodeSigningPolicies"], config["CodeSigningPolicies"])
        config["LastModified"] = access.last_modified()
        t.put(storage.CSC, signing.csc_id(arn), {**rec, "config": config})
    return {"CodeSigningConfig": dict(config)}


def delete_code_signing_config(ctx: Context, req: Input) -> Output:
    arn = req["CodeSigningConfigArn"]
    with ctx.tx() as t:
        _load(t, arn)
        if _users(t, arn):
            raise errors.conflict(
                f"The code signing configuration {arn} cannot be deleted because it is used by one or more functions."
            )
        t.delete(storage.CSC, signing.csc_id(arn))
    return {}


def list_code_signing_configs(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        found = [r.value["config"] for r in t.scan(storage.CSC)]
    out = access.page("CodeSigningConfigs", found, req.get("Marker"), req.get("MaxItems") or 50)
    out["CodeSigningConfigs"] = [dict(c) for c in out["CodeSigningConfigs"]]
    return out


def list_functions_by_code_signing_config(ctx: Context, req: Input) -> Output:
    arn = req["CodeSigningConfigArn"]
    with ctx.tx() as t:
        _load(t, arn)
        found = [fn["config"]["FunctionArn"] for fn in _users(t, arn)]
    return access.page("FunctionArns", found, req.get("Marker"), req.get("MaxItems") or 50)


def put_function_code_signing_config(ctx: Context, req: Input) -> Output:
    """Applies to the next deployment: code already deployed is not checked again."""
    where = _unqualified(ctx, req["FunctionName"])
    arn = req["CodeSigningConfigArn"]
    signing.check_arn(arn)
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        if signing.find(t, arn) is None:
            raise signing.not_found(arn)
        fn["code_signing"] = arn
        storage.put_function(t, where.name, fn)
    return {"CodeSigningConfigArn": arn, "FunctionName": where.name}


def get_function_code_signing_config(ctx: Context, req: Input) -> Output:
    where = _unqualified(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        # a config deleted under the function (it cannot be, but a restore may) is none
        arn = fn.get("code_signing") if signing.of_function(t, fn) is not None else None
    return {"CodeSigningConfigArn": arn or "", "FunctionName": where.name}


def delete_function_code_signing_config(ctx: Context, req: Input) -> Output:
    where = _unqualified(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        if fn.pop("code_signing", None) is not None:
            storage.put_function(t, where.name, fn)
    return {}


# -- helpers ------------------------------------------------------------------------------


def _load(t: Any, arn: str) -> dict[str, Any]:
    signing.check_arn(arn)
    rec = signing.find(t, arn)
    if rec is None:
        raise errors.not_found(f"The Lambda code signing configuration {arn} can not be found.")
    return rec


def _users(t: Any, arn: str) -> list[dict[str, Any]]:
    return [fn for fn in storage.functions(t) if fn.get("code_signing") == arn]


def _policies(given: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """CodeSigningPolicies with its one member checked (the gateway leaves Lambda's enums
    to the handlers); an empty structure keeps what was there, Warn on a new config."""
    value = (given or {}).get("UntrustedArtifactOnDeployment")
    if value is None:
        return dict(current)
    if value not in _POLICIES:
        raise errors.validation("codeSigningPolicies.untrustedArtifactOnDeployment", value,
                                "Member must satisfy enum value set: [Warn, Enforce]")
    return {"UntrustedArtifactOnDeployment": value}


def _unqualified(ctx: Context, function_name: str) -> names.FunctionRef:
    """A function's code signing config is the function's: a version or alias names none."""
    where = access.ref(ctx, function_name)
    if where.qualifier is not None:
        raise errors.invalid("Code signing configuration cannot be set on a function version or alias.")
    return where

