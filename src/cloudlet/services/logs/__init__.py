"""Amazon CloudWatch Logs: log groups, streams and events kept in the store, with
retention on the cloudlet clock, tags, filter patterns and metric filters.

Lambda (and any service) writes through the in-process client: CreateLogGroup,
CreateLogStream, PutLogEvents; users read with GetLogEvents, FilterLogEvents and
``aws logs tail``. Module map: ``groups``, ``streams``, ``events``, ``tags`` (handlers);
``storage`` is the store layout, ``model`` the pure rules (ARNs, limits, tokens),
``filterpattern`` the filter pattern language, ``retention`` the daily sweep,
``lookup`` finding the group a call names, ``metricfilters`` (with ``metricfilterops``,
the handlers) what metric filters record as events arrive. Insights queries, subscription filters,
export tasks, data protection, deliveries and anomaly detection are not implemented
(the gateway answers NotImplemented).
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["groups", "streams", "events", "tags", "metricfilterops"]


def register_jobs(scheduler: Any) -> None:
    """Called by the scheduler the first time a Logs job is due (e.g. after a restart)."""
    from cloudlet.services.logs import retention

    retention.register(scheduler)


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The log group (or stream) ARN a call acts on, for IAM."""
    from cloudlet.services.logs import model

    if params.get("resourceArn"):
        return [params["resourceArn"]]
    name = params.get("logGroupName") or params.get("logGroupIdentifier")
    if not name:
        return ["*"]
    if name.startswith("arn:"):
        return [name]
    group = model.group_arn(ctx.partition, ctx.region, ctx.account, name)
    if params.get("logStreamName"):
        return [f"{group}:log-stream:{params['logStreamName']}"]
    return [f"{group}:*"]
