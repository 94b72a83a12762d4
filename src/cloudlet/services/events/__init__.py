"""Amazon EventBridge: default and custom buses with resource policies (cross-account
PutEvents), rules with event patterns (``core.patterns``) or schedules (rate and cron on
the cloudlet clock), targets (SQS incl. FIFO, SNS, other buses, API destinations over
HTTP, and the other services through their own operations) with input transformation,
retry policies and dead-letter queues, archives and replays. Schedule expressions are
parsed by ``core.schedules``.

Module map: handlers in ``buses``, ``rules``, ``targets``, ``ingest`` (PutEvents),
``archives``, ``replays``, ``connections``, ``destinations``, ``tags``. Behind them:
``envelope`` (the event as rules see it), ``routing`` (a bus receiving events),
``matching`` (patterns), ``delivery`` (targets, retries, dead letters), ``transform``
(Input/InputPath/InputTransformer), ``http`` (API destinations), ``timers`` (scheduled rules on the scheduler), ``archiving``, ``jobs``, ``policy``
(bus policies), ``storage`` (records), ``access``, ``arns``, ``paging``, ``model``,
``errors``.

Partner event sources and global endpoints are not implemented: their operations
answer NotImplemented.
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["buses", "rules", "targets", "ingest", "archives", "replays", "connections", "destinations", "tags"]


def register_jobs(scheduler: Any) -> None:
    """Called by the scheduler the first time an EventBridge job is due (e.g. after a restart)."""
    from cloudlet.services.events import jobs

    jobs.register(scheduler)


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The ARN a call acts on, for IAM."""
    from cloudlet.services.events import arns

    if params.get("ResourceARN"):
        return [params["ResourceARN"]]
    bus = arns.bus_ref(params.get("EventBusName"), ctx.account, ctx.region)
    if operation in ("PutRule", "DeleteRule", "DescribeRule", "EnableRule", "DisableRule") and params.get("Name"):
        return [arns.rule_arn(ctx.partition, bus.region, bus.account, bus.name, params["Name"])]
    if operation in ("PutTargets", "RemoveTargets", "ListTargetsByRule") and params.get("Rule"):
        return [arns.rule_arn(ctx.partition, bus.region, bus.account, bus.name, params["Rule"])]
    if operation == "PutEvents":
        refs = {arns.bus_ref(e.get("EventBusName"), ctx.account, ctx.region) for e in params.get("Entries") or []}
        return sorted(r.arn(ctx.partition) for r in refs) or ["*"]
    if operation in ("CreateEventBus", "DeleteEventBus", "DescribeEventBus", "UpdateEventBus") and params.get("Name"):
        ref = arns.bus_ref(params["Name"], ctx.account, ctx.region)
        return [ref.arn(ctx.partition)]
    return ["*"]
