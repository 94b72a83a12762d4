"""Events arriving on a bus: the bus's policy decides whether another account may put
them there, its enabled rules decide which targets get them, its archives keep those
matching their patterns. Shared by PutEvents, replays and bus-to-bus forwarding.

The bus's records are read and the archives written in one transaction; deliveries run
after it commits (a delivery calls other services, and no call leaves while holding
EventBridge's database).
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.events import archiving, arns, delivery, matching, policy, storage
from cloudlet.services.events.delivery import Delivery

DENIED = None


def arrive(
    ctx: Context,
    ref: arns.BusRef,
    events: list[dict[str, Any]],
    *,
    archive: bool = True,
    only_rules: frozenset[str] | None = None,
) -> list[Delivery] | None:
    """Put `events` (already enveloped) on the bus `ref` for the caller in `ctx`; returns
    the deliveries they cause (not yet made), or None when the bus's policy refuses a
    caller from another account (or the bus is not there to ask). A missing bus of the
    caller's own account takes the events and drops them, as AWS does."""
    now = clock.time_s()
    bus_arn = ref.arn(ctx.partition)
    out: list[Delivery] = []
    with ctx.tx(account=ref.account, region=ref.region) as tx:
        bus = tx.get(storage.BUS, ref.name)
        bus_value = bus.value if bus is not None else (storage.bus(tx, ref.name, now) if ref.name == arns.DEFAULT_BUS else None)
        if ref.account != ctx.account:
            text = bus_value.get("policy") if bus_value else None
            if not policy.allows(text, ctx.account, ctx.principal_arn, "events:PutEvents", bus_arn):
                return DENIED
        if bus_value is None:
            return out
        rules = storage.rules(tx, ref.name)
        archives = [a for a in storage.archives_of(tx, bus_arn) if a.get("state") == "ENABLED"] if archive else []
        for event in events:
            for rule in matching.rules_for(rules, event):
                rule_arn = arns.rule_arn(ctx.partition, ref.region, ref.account, ref.name, rule["name"])
                if only_rules is not None and rule_arn not in only_rules:
                    continue
                for target in rule["targets"]:
                    out.append(Delivery(ref.account, ref.region, rule_arn, rule["name"], target, event, now))
            for a in archives:
                if matching.matches(a.get("EventPattern"), event):
                    archiving.append(tx, a, event, now)
    return out


def deliver_all(ctx: Context, deliveries: list[Delivery], *, in_job: bool = False) -> None:
    owners: dict[tuple[str, str], Context] = {}
    for d in deliveries:
        owner = owners.get((d.account, d.region))
        if owner is None:
            owner = owners[(d.account, d.region)] = delivery.owner_context(ctx, d.account, d.region)
        delivery.deliver(owner, d, in_job=in_job)
