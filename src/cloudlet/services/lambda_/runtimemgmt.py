"""Runtime management configs: when a function version moves to a newer version of its
runtime (``Auto``, the default; ``FunctionUpdate``; or ``Manual``, pinned to one
``RuntimeVersionArn``), per $LATEST and per published version.

cloudlet has exactly one version of each runtime (the interpreter it finds), whose ARN
``names.runtime_version_arn`` derives from the runtime's name; FunctionConfiguration's
``RuntimeVersionConfig`` reports it. The mode is stored and answered as set, and a Manual
pin is kept as given (an ARN of the function's region, as AWS requires), but every mode
runs that one version: there is no other to move to or stay on.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.lambda_ import access, errors, names, storage
from cloudlet.services.lambda_.names import LATEST

Input = dict[str, Any]
Output = dict[str, Any]

_MODES = ("Auto", "FunctionUpdate", "Manual")


def put_runtime_management_config(ctx: Context, req: Input) -> Output:
    mode = req["UpdateRuntimeOn"]
    if mode not in _MODES:
        raise errors.validation("updateRuntimeOn", mode, "Member must satisfy enum value set: [Auto, FunctionUpdate, Manual]")
    arn = req.get("RuntimeVersionArn")
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    if mode == "Manual":
        if not arn:
            raise errors.invalid("RuntimeVersionArn must be specified when UpdateRuntimeOn is Manual.")
        parts = arn.split(":")
        if len(parts) < 7 or parts[3] != where.region or parts[4] != "" or parts[5] != "runtime":
            raise errors.invalid(f"The runtime version {arn} is not available in {where.region}.")
    elif arn:
        raise errors.invalid(f"RuntimeVersionArn can only be specified when UpdateRuntimeOn is Manual, not {mode}.")
    record: dict[str, Any] = {"UpdateRuntimeOn": mode}
    if mode == "Manual":
        record["RuntimeVersionArn"] = arn
    with access.tx(ctx, where) as t:
        version = _version(t, where)
        storage.put(t, storage.RTM, where.name, None if version == LATEST else version, record)
    return _shown(where, version, record)


def get_runtime_management_config(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    with access.tx(ctx, where) as t:
        version = _version(t, where)
        record = storage.get(t, storage.RTM, where.name, None if version == LATEST else version)
    return _shown(where, version, record or {"UpdateRuntimeOn": "Auto"})


def _version(t: Any, where: names.FunctionRef) -> str:
    """The version a qualifier names ($LATEST or a number; an alias its version): configs
    belong to versions."""
    fn = access.load(t, where)
    version, _ = access.version_of(t, where, fn)
    return version


def _shown(where: names.FunctionRef, version: str, record: dict[str, Any]) -> Output:
    """AWS answers RuntimeVersionArn only for a Manual pin."""
    out: Output = {
        "UpdateRuntimeOn": record["UpdateRuntimeOn"],
        "FunctionArn": names.function_arn(where.region, where.account, where.name, None if version == LATEST else version),
    }
    if record.get("RuntimeVersionArn"):
        out["RuntimeVersionArn"] = record["RuntimeVersionArn"]
    return out
