"""Recursive loop detection configs (Put/GetFunctionRecursionConfig): ``Terminate`` (the
default) lets ``lineage`` stop a loop, ``Allow`` lets it run. The setting is the ``fn``
record's ``recursion`` field, kept only when it is ``Allow``; it belongs to the function,
not to a version, as in AWS."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.lambda_ import access, errors, lineage, storage

Input = dict[str, Any]
Output = dict[str, Any]


def put_function_recursion_config(ctx: Context, req: Input) -> Output:
    where = _unqualified(ctx, req["FunctionName"])
    wanted = req["RecursiveLoop"]
    if wanted not in (lineage.ALLOW, lineage.TERMINATE):
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{wanted}' at 'recursiveLoop' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Allow, Terminate]",
            400,
        )
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        if wanted == lineage.ALLOW:
            fn[lineage.FIELD] = wanted
        else:
            fn.pop(lineage.FIELD, None)
        storage.put_function(t, where.name, fn)
    return {"RecursiveLoop": wanted}


def get_function_recursion_config(ctx: Context, req: Input) -> Output:
    where = _unqualified(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
    return {"RecursiveLoop": fn.get(lineage.FIELD, lineage.TERMINATE)}


def _unqualified(ctx: Context, name: str) -> Any:
    where = access.ref(ctx, name)
    if where.qualifier is not None:  # the setting is the function's, not a version's
        raise errors.invalid(f"Unsupported qualifier {where.qualifier} for FunctionName {name}")
    return where
