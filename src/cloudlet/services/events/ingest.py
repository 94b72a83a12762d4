"""PutEvents: entries checked one by one (a bad entry fails alone, with AWS's per-entry
code and message), wrapped in the event envelope, put on their buses (this account's, or
another account's whose policy allows it), archived, and delivered to the targets of the
rules they match before the call returns (API destinations: by the scheduler, at once)."""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.events import arns, envelope, errors, routing
from cloudlet.services.events.delivery import PRINCIPAL

Input = dict[str, Any]
Output = dict[str, Any]


def put_events(ctx: Context, req: Input) -> Output:
    entries: list[dict[str, Any]] = req["Entries"]
    if envelope.too_large(entries):
        raise errors.validation("Total size of the entries in the request is over the limit.")
    now = clock.now()
    service_caller = ctx.principal_arn == PRINCIPAL or ctx.principal_arn.endswith(".amazonaws.com")
    results: list[dict[str, Any]] = []
    by_bus: dict[arns.BusRef, list[tuple[int, dict[str, Any]]]] = {}
    for entry in entries:
        problem = envelope.check(entry, service_caller=service_caller)
        if problem is not None:
            results.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
            continue
        ref = arns.bus_ref(entry.get("EventBusName"), ctx.account, ctx.region)
        event = envelope.build(entry, ctx.account, ctx.region, now)
        by_bus.setdefault(ref, []).append((len(results), event))
        results.append({"EventId": event["id"]})
    deliveries = []
    for ref, items in by_bus.items():
        found = routing.arrive(ctx, ref, [e for _, e in items])
        if found is None:
            for index, _ in items:
                results[index] = {"ErrorCode": "AccessDeniedException", "ErrorMessage": _denied(ctx, ref)}
            continue
        deliveries.extend(found)
    routing.deliver_all(ctx, deliveries)
    return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


def _denied(ctx: Context, ref: arns.BusRef) -> str:
    return (
        f"User: {ctx.principal_arn} is not authorized to perform: events:PutEvents on resource: "
        f"{ref.arn(ctx.partition)} because no resource-based policy allows the events:PutEvents action"
    )
