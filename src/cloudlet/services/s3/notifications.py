"""Event notification configuration: Put/GetBucketNotificationConfiguration and the
legacy Put/GetBucketNotification (one destination of each kind).

A new configuration is checked as S3 checks it (``notify.validate_config``), its
destinations looked up through the in-process client — outside the S3 transaction, as
a service must not hold its lock while calling another — then stored, and each queue
and topic gets the ``s3:TestEvent``. Events themselves are sent by ``effects``.
"""

from __future__ import annotations

import copy
from typing import Any

from cloudlet.core.arns import parse_arn
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import effects, notify, storage
from cloudlet.services.s3.subresources import require_bucket

Input = dict[str, Any]
Output = dict[str, Any]

_MEMBERS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations", "EventBridgeConfiguration")
# legacy member -> (current list, the legacy ARN member, the current ARN member)
_LEGACY = {
    "TopicConfiguration": ("TopicConfigurations", "Topic", "TopicArn"),
    "QueueConfiguration": ("QueueConfigurations", "Queue", "QueueArn"),
    "CloudFunctionConfiguration": ("LambdaFunctionConfigurations", "CloudFunction", "LambdaFunctionArn"),
}


def put_bucket_notification_configuration(ctx: Context, req: Input) -> Output:
    cfg = copy.deepcopy(req.get("NotificationConfiguration") or {})
    _save(ctx, req, {k: cfg[k] for k in _MEMBERS if cfg.get(k) is not None}, bool(req.get("SkipDestinationValidation")))
    return {}


def get_bucket_notification_configuration(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        cfg = storage.get_config(t, b["name"], "notification")
    return {k: v for k, v in (cfg or {}).items() if k in _MEMBERS}


def put_bucket_notification(ctx: Context, req: Input) -> Output:
    legacy = req.get("NotificationConfiguration") or {}
    cfg: dict[str, Any] = {}
    for member, (current, old_arn, new_arn) in _LEGACY.items():
        conf = legacy.get(member)
        if not conf:
            continue
        events = list(conf.get("Events") or ([conf["Event"]] if conf.get("Event") else []))
        entry = {new_arn: conf.get(old_arn) or "", "Events": events}
        if conf.get("Id"):
            entry["Id"] = conf["Id"]
        cfg[current] = [entry]
    _save(ctx, req, cfg, False)
    return {}


def get_bucket_notification(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        cfg = storage.get_config(t, b["name"], "notification") or {}
    out: Output = {}
    for member, (current, old_arn, new_arn) in _LEGACY.items():
        confs = cfg.get(current) or []
        if confs:
            first = confs[0]
            events = first.get("Events") or []
            entry = {old_arn: first[new_arn], "Events": events}
            if first.get("Id"):
                entry["Id"] = first["Id"]
            if len(events) == 1:
                entry["Event"] = events[0]
            out[member] = entry
    return out


def _save(ctx: Context, req: Input, cfg: dict[str, Any], skip_validation: bool) -> None:
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
    notify.validate_config(cfg, lambda arn: _exists(ctx, arn, b), region=b["region"],
                           skip_destination_validation=skip_validation)
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        if cfg:
            storage.put_config(t, b["name"], "notification", cfg)
        else:
            storage.delete_config(t, b["name"], "notification")
        effects.send_test_events(ctx, b, cfg)


def _exists(ctx: Context, arn: str, b: dict[str, Any]) -> bool:
    """Whether a destination is there, asked of its own service (as the caller); a
    function must also let S3 invoke it for this bucket, as AWS checks."""
    parsed = parse_arn(arn)
    if parsed is None:
        return False
    try:
        if parsed.service == "sqs":
            ctx.aws("sqs", region=parsed.region, account=parsed.account).get_queue_url(
                QueueName=parsed.resource, QueueOwnerAWSAccountId=parsed.account)
        elif parsed.service == "sns":
            ctx.aws("sns", region=parsed.region, account=parsed.account).get_topic_attributes(TopicArn=arn)
        elif parsed.service == "lambda":
            client = ctx.aws("lambda", region=parsed.region, account=parsed.account)
            client.get_function(FunctionName=arn)
            return _s3_may_invoke(ctx, client.get_policy(FunctionName=arn)["Policy"], arn, b)
        else:
            return False
    except ServiceError:
        return False
    return True


def _s3_may_invoke(ctx: Context, policy_text: str, function_arn: str, b: dict[str, Any]) -> bool:
    """Whether the function's policy lets S3 invoke it for this bucket (the IAM engine's
    judgement of the statements ``lambda:AddPermission`` wrote)."""
    import dataclasses

    from cloudlet.auth.policy import PolicyError, is_allowed_by, parse
    from cloudlet.auth.resource_request import request

    as_s3 = dataclasses.replace(ctx, principal_arn=notify.S3_SERVICE, access_key="",
                                account=b["account"], source_arn=f"arn:{ctx.partition}:s3:::{b['name']}")
    try:
        policy = parse(policy_text, "resource")
    except PolicyError:
        return False
    return is_allowed_by(policy, request(as_s3, "lambda:InvokeFunction", function_arn)) == "Allow"
