"""What an invocation runs: a function name (any form) and qualifier resolved to one
version's configuration, and the engine's ``SandboxSpec`` built from it.

The contract H3 (Invoke, async queue, URLs) and H4 (pollers) call: ``resolve`` for a
request's context, ``resolve_arn`` for work with no request (scheduler jobs, pollers).
An alias with ``RoutingConfig`` picks its version by weight on every call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.lambda_ import access, code, errors, names, storage
from cloudlet.services.lambda_.names import LATEST
from cloudlet.services.lambda_.runtime import SandboxSpec

PRINCIPAL = access.PRINCIPAL


@dataclass(frozen=True, slots=True)
class Target:
    function_name: str
    function_arn: str  # unqualified ARN
    invoked_arn: str  # the ARN as invoked (qualified when a qualifier/alias was given)
    version: str  # the executed version: "$LATEST" or "1", "2"...
    alias: str | None
    config: dict[str, Any]  # FunctionConfiguration exactly as GetFunctionConfiguration returns it
    spec: SandboxSpec  # what the engine runs
    reserved_concurrency: int | None
    event_invoke_config: dict[str, Any] | None  # MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig
    dead_letter_arn: str | None
    account: str
    region: str


def resolve(ctx: Context, function_name: str, qualifier: str | None = None, *, pick: float | None = None) -> Target:
    """The version a FunctionName/Qualifier runs. Raises AWS's errors (ResourceNotFound:
    "Function not found: arn:..."), so a handler can let them through."""
    where = names.parse(function_name, ctx.account, ctx.region, qualifier)
    return _resolve(ctx.gateway, where, pick)


def resolve_arn(gateway: Any, function_arn: str, *, pick: float | None = None) -> Target:
    """`resolve` for a full function ARN, without a request (pollers, async queue)."""
    parts = function_arn.split(":")
    if len(parts) not in (7, 8) or parts[0] != "arn" or parts[5] != "function":
        raise errors.invalid(f"Invalid function ARN: {function_arn}")
    where = names.parse(function_arn, parts[4], parts[3])
    return _resolve(gateway, where, pick)


def _resolve(gateway: Any, where: names.FunctionRef, pick: float | None) -> Target:
    with gateway.db("lambda").tx(where.account, where.region) as t:
        fn = access.load(t, where)
        version, alias = access.version_of(t, where, fn)
        if alias is not None:
            version = _route(storage.get(t, storage.ALIAS, where.name, alias) or {}, version, pick)
        rec = access.record_of(t, where, fn, version)
        eic = storage.get(t, storage.EIC, where.name, where.qualifier or LATEST)
    config = dict(rec["config"])
    code_dir = code.tree(gateway, rec["code"]["sha_hex"])
    # each version holds its layers' zips (functions._hold_layers): a layer version deleted
    # since still runs for the functions that use it, as in AWS
    layer_dirs = tuple(code.tree(gateway, layer["sha_hex"], layer=True) for layer in rec.get("layers") or ())
    versioned_arn = names.function_arn(where.region, where.account, where.name, version)
    sandbox = SandboxSpec(
        key=f"{versioned_arn}#{config['RevisionId']}",
        function_name=where.name,
        function_arn=where.arn,
        version=version,
        account=where.account,
        region=where.region,
        runtime=config.get("Runtime") or "provided.al2023",
        handler=config.get("Handler") or "",
        code_dir=code_dir,
        layer_dirs=layer_dirs,
        environment=tuple(((config.get("Environment") or {}).get("Variables") or {}).items()),
        memory_mb=config["MemorySize"],
        timeout_s=config["Timeout"],
        ephemeral_storage_mb=(config.get("EphemeralStorage") or {}).get("Size", 512),
        role_arn=config["Role"],
        log_group=(config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{where.name}",
        architecture=(config.get("Architectures") or ["x86_64"])[0],
        credentials=_credentials(gateway, where.account, where.region, config["Role"], where.name),
        logging_config=tuple(sorted((config.get("LoggingConfig") or {}).items())),
    )
    return Target(
        function_name=where.name,
        function_arn=where.arn,
        invoked_arn=where.qualified_arn,
        version=version,
        alias=alias,
        config=config,
        spec=sandbox,
        reserved_concurrency=fn.get("reserved"),
        event_invoke_config=None if eic is None else {
            k: eic[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig") if k in eic
        },
        dead_letter_arn=(config.get("DeadLetterConfig") or {}).get("TargetArn"),
        account=where.account,
        region=where.region,
    )


def _route(alias: dict[str, Any], primary: str, pick: float | None) -> str:
    """An alias's version for one invocation: the additional version with its weight's
    probability, else the primary."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    roll = random.random() if pick is None else pick
    acc = 0.0
    for version, weight in weights.items():
        acc += float(weight)
        if roll < acc:
            return str(version)
    return primary


def _credentials(gateway: Any, account: str, region: str, role: str, name: str) -> Callable[[], tuple[str, str, str]]:
    def credentials() -> tuple[str, str, str]:
        assumed = assume_execution_role(gateway, account, region, role, name)
        if assumed is None:
            # The role cannot be assumed (most often: it was never created, as in local tests
            # without IAM). Fall back to the account's root: a 12-digit key id is that
            # account's root with secret "test" (auth/credentials.py), so the function's own
            # SDK calls still reach cloudlet as its account; no session token.
            return account, "test", ""
        return assumed
    return credentials


def assume_execution_role(gateway: Any, account: str, region: str, role: str, name: str) -> tuple[str, str, str] | None:
    """(key id, secret, session token) of a new session of the function's execution role,
    assumed as ``lambda.amazonaws.com`` (as Lambda does); None when STS refuses."""
    ctx = access.service_context(gateway, account, region, "Invoke", "cloudlet-lambda")
    try:
        # Lambda names the session after the function (STS wants 2 to 64 characters)
        session = name[:64].ljust(2, "_")
        out = ctx.aws("sts", principal=PRINCIPAL).assume_role(RoleArn=role, RoleSessionName=session)
    except ServiceError:
        return None
    c = out["Credentials"]
    return c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]


def role_of(gateway: Any, function_arn: str) -> str:
    """The execution role of the version a function ARN names (an alias: its primary
    version), read without building a Target: pollers ask often. Raises ServiceError
    when the function is gone."""
    parts = function_arn.split(":")
    if len(parts) not in (7, 8) or parts[0] != "arn" or parts[5] != "function":
        raise errors.invalid(f"Invalid function ARN: {function_arn}")
    where = names.parse(function_arn, parts[4], parts[3])
    with gateway.db("lambda").tx(where.account, where.region) as t:
        fn = access.load(t, where)
        version, _ = access.version_of(t, where, fn)
        return access.record_of(t, where, fn, version)["config"]["Role"]
