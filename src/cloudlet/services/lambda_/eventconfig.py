"""Event invoke configs: how asynchronous invocations of a function (or a version/alias)
are retried, how old an event may get, and where results go (destinations). H3's
``asyncq`` reads them through ``spec.Target.event_invoke_config``."""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.lambda_ import access, errors, names, storage
from cloudlet.services.lambda_.names import LATEST

Input = dict[str, Any]
Output = dict[str, Any]

#: what a destination may be (OnFailure may also be an S3 bucket)
_SERVICES = {"OnSuccess": ("sqs", "sns", "lambda", "events"), "OnFailure": ("sqs", "sns", "lambda", "events", "s3")}


def put_function_event_invoke_config(ctx: Context, req: Input) -> Output:
    where, qualifier = _where(ctx, req)
    config = {
        "MaximumRetryAttempts": req.get("MaximumRetryAttempts"),
        "MaximumEventAgeInSeconds": req.get("MaximumEventAgeInSeconds"),
        "DestinationConfig": _destinations(req.get("DestinationConfig")),
    }
    return _save(ctx, where, qualifier, config)


def update_function_event_invoke_config(ctx: Context, req: Input) -> Output:
    where, qualifier = _where(ctx, req)
    changes: dict[str, Any] = {}
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if key in req:
            changes[key] = req[key]
    if "DestinationConfig" in req:
        changes["DestinationConfig"] = _destinations(req["DestinationConfig"])
    return _save(ctx, where, qualifier, changes, merge=True)


def get_function_event_invoke_config(ctx: Context, req: Input) -> Output:
    where, qualifier = _where(ctx, req)
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        config = storage.get(t, storage.EIC, where.name, qualifier)
    if config is None:
        raise errors.not_found(f"The function {_arn(where, qualifier)} doesn't have an EventInvokeConfig")
    return _shown(config)


def delete_function_event_invoke_config(ctx: Context, req: Input) -> Output:
    where, qualifier = _where(ctx, req)
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        if not storage.delete(t, storage.EIC, where.name, qualifier):
            raise errors.not_found(f"The function {_arn(where, qualifier)} doesn't have an EventInvokeConfig")
    return {}


def list_function_event_invoke_configs(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        access.load(t, where)
        found = [_shown(c) for _, c in storage.all_of(t, storage.EIC, where.name)]
    return access.page("FunctionEventInvokeConfigs", found, req.get("Marker"), req.get("MaxItems") or 50)


def _where(ctx: Context, req: Input) -> tuple[names.FunctionRef, str]:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    return where, where.qualifier or LATEST


def _arn(where: names.FunctionRef, qualifier: str) -> str:
    return names.function_arn(where.region, where.account, where.name, qualifier)


def _save(ctx: Context, where: names.FunctionRef, qualifier: str, config: dict[str, Any], *,
          merge: bool = False) -> Output:
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        current = storage.get(t, storage.EIC, where.name, qualifier)
        if merge and current is None:
            raise errors.not_found(f"The function {_arn(where, qualifier)} doesn't have an EventInvokeConfig")
        value = {**(current or {}), **config} if merge else dict(config)
        value = {k: v for k, v in value.items() if v is not None}
        value["FunctionArn"] = _arn(where, qualifier)
        value["LastModified"] = clock.now()
        value.setdefault("DestinationConfig", {"OnSuccess": {}, "OnFailure": {}})
        storage.put(t, storage.EIC, where.name, qualifier, value)
    return _shown(value)


def _destinations(given: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"OnSuccess": {}, "OnFailure": {}}
    for when in ("OnSuccess", "OnFailure"):
        arn = ((given or {}).get(when) or {}).get("Destination")
        if not arn:
            continue
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] not in _SERVICES[when]:
            raise errors.invalid(
                f"The provided destination config DestinationConfig({when}={arn}) is invalid: the destination must be "
                f"the ARN of {', '.join(_SERVICES[when])} resource."
            )
        out[when] = {"Destination": arn}
    return out


def _shown(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in ("LastModified", "FunctionArn", "MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                   "DestinationConfig") if k in config}
