"""Reserved concurrency (a function's share of the account's 1,000, which the engine
enforces through ``Target.reserved_concurrency``) and provisioned concurrency configs.

Provisioned concurrency is stored and reported READY at once: cloudlet's sandboxes start
in milliseconds, so there is nothing to pre-warm that changes what a caller sees.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.lambda_ import access, errors, names, storage
from cloudlet.services.lambda_.functions import CONCURRENCY_LIMIT
from cloudlet.services.lambda_.names import LATEST

Input = dict[str, Any]
Output = dict[str, Any]

#: the unreserved pool AWS never lets reservations shrink below
MIN_UNRESERVED = 100


def put_function_concurrency(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    wanted = req["ReservedConcurrentExecutions"]
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        others = sum(f.get("reserved") or 0 for f in storage.functions(t) if f["config"]["FunctionName"] != where.name)
        if CONCURRENCY_LIMIT - others - wanted < MIN_UNRESERVED:
            raise errors.invalid(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )
        fn["reserved"] = wanted
        storage.put_function(t, where.name, fn)
    return {"ReservedConcurrentExecutions": wanted}


def get_function_concurrency(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
    return {} if fn.get("reserved") is None else {"ReservedConcurrentExecutions": fn["reserved"]}


def delete_function_concurrency(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        fn["reserved"] = None
        storage.put_function(t, where.name, fn)
    return {}


def put_provisioned_concurrency_config(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req["Qualifier"])
    if where.qualifier in (None, LATEST):
        raise errors.invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    wanted = req["ProvisionedConcurrentExecutions"]
    with access.tx(ctx, where) as t:
        fn = access.load_qualified(t, where)
        reserved = fn.get("reserved")
        if reserved is not None and wanted > reserved:
            raise errors.invalid(
                f"Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for "
                f"function, reservedConcurrentExecution: {reserved}, ProvisionedConcurrentExecutions: {wanted}"
            )
        config = {
            "RequestedProvisionedConcurrentExecutions": wanted,
            "AvailableProvisionedConcurrentExecutions": wanted,
            "AllocatedProvisionedConcurrentExecutions": wanted,
            "Status": "READY",
            "LastModified": access.last_modified(),
        }
        storage.put(t, storage.PC, where.name, where.qualifier, config)
    return config


def get_provisioned_concurrency_config(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req["Qualifier"])
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        config = storage.get(t, storage.PC, where.name, where.qualifier)
    if config is None:
        raise errors.provisioned_not_found()
    return dict(config)


def delete_provisioned_concurrency_config(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req["Qualifier"])
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        if not storage.delete(t, storage.PC, where.name, where.qualifier):
            raise errors.provisioned_not_found()
    return {}


def list_provisioned_concurrency_configs(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        access.load(t, where)
        found = [{"FunctionArn": names.function_arn(where.region, where.account, where.name, q), **c}
                 for q, c in storage.all_of(t, storage.PC, where.name)]
    return access.page("ProvisionedConcurrencyConfigs", found, req.get("Marker"), req.get("MaxItems") or 50)
