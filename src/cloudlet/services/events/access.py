"""Finding the bus and rule a request names, with AWS's not-found answers."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.events import arns, errors, storage


def own_bus(ctx: Context, name_or_arn: str | None) -> str:
    """The bus name a rule or target request means: rules live on the caller's own buses,
    so another account's bus ARN is a bus that does not exist."""
    ref = arns.bus_ref(name_or_arn, ctx.account, ctx.region)
    if ref.account != ctx.account:
        raise errors.bus_not_found(ref.name)
    return ref.name


def bus(tx: Tx, name: str, now: float) -> dict[str, Any]:
    found = storage.bus(tx, name, now)
    if found is None:
        raise errors.bus_not_found(name)
    return found


def rule(tx: Tx, bus_name: str, name: str) -> dict[str, Any]:
    found = storage.rule(tx, bus_name, name)
    if found is None:
        raise errors.rule_not_found(name, bus_name)
    return found
