"""Finding the log group (and stream) a call names: by name, or by ``logGroupIdentifier``
(a name or an ARN), with AWS's errors when it is missing or named twice."""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.logs import errors, model, storage


def now_ms() -> int:
    return int(clock.time_s() * 1000)


def group_name(ctx: Context, params: dict[str, Any]) -> str:
    """The group a read names with ``logGroupName`` or ``logGroupIdentifier`` (exactly one)."""
    name, ident = params.get("logGroupName"), params.get("logGroupIdentifier")
    if name and ident:
        raise errors.invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if ident:
        if ident.startswith("arn:"):
            parsed = model.group_from_arn(ident)
            if parsed is None:
                raise errors.invalid(f"Invalid log group identifier: {ident}")
            region, account, name = parsed
            if region != ctx.region or account != ctx.account:
                raise errors.group_not_found()  # no cross-account observability here
            return name
        return ident
    if not name:
        raise errors.invalid("Should provide either name or ARN of the log group.")
    return name


def require_group(tx: Tx, name: str) -> storage.Group:
    g = storage.get_group(tx, name)
    if g is None:
        raise errors.group_not_found()
    return g


def require_stream(tx: Tx, g: storage.Group, name: str) -> storage.Stream:
    s = storage.get_stream(tx, g, name)
    if s is None:
        raise errors.stream_not_found()
    return s
