"""AWS Lambda without Docker: functions run as local processes behind the real Lambda
Runtime API (``python3.x`` on the machine's matching interpreter or the nearest one,
``nodejs*`` on Node, ``provided*`` with the function's ``bootstrap``), with boto3 and the
execution role's credentials inside pointing back at cloudlet; zip packages (inline or
from S3) and layers, versions and weighted aliases, timeouts and memory limits, warm
sandboxes, reserved concurrency that throttles, RequestResponse/Event/DryRun invocations
with async retries, destinations and dead-letter queues on the cloudlet clock, SQS and
DynamoDB Streams event source mappings (batching windows, partial batch failures,
filters, bisection, checkpoints that survive restarts), S3/SNS/EventBridge triggers
checked against the function's resource policy, function URLs (payload 2.0, IAM auth,
CORS), code signing configs (unsigned code refused under Enforce), START/END/REPORT logs in
CloudWatch Logs and AWS/Lambda metrics.

Module map: ``functions`` (function life cycle, versions), ``aliases``, ``layers``,
``permissions`` (resource policies), ``concurrency``, ``urls`` (function URL configs),
``eventconfig`` (event invoke configs), ``mappings`` (event source mappings), ``tags``,
``codesigning`` (code signing configs; ``signing`` judges each deployment against them),
``runtimemgmt`` (runtime management configs), ``recursion`` (recursive loop detection
configs; ``lineage`` stops the loops), ``invoke`` (Invoke); ``storage`` is the
store layout, ``code`` zips and their unpacked trees, ``spec`` turns a function version
into what the ``runtime`` engine runs, ``invokepolicy`` who may invoke, ``asyncq`` the queue of asynchronous invocations, ``esm`` the event source pollers,
``funcurl`` serves function URLs, ``logsink`` ships logs to CloudWatch Logs.
"""

from __future__ import annotations

from typing import Any

MODULES: list[str] = [
    "functions", "layers", "invoke", "aliases", "permissions", "concurrency", "urls", "eventconfig", "mappings", "tags",
    "codesigning", "runtimemgmt", "recursion",
]


def register_jobs(scheduler: Any) -> None:
    """Called by the scheduler the first time a Lambda job is due (e.g. after a restart)."""
    from cloudlet.services.lambda_ import asyncq

    asyncq.register(scheduler)


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> list[str]:
    """The function, layer or mapping ARN a call acts on, for IAM (qualified when the call
    names a version or alias, as AWS authorizes it)."""
    from cloudlet.core.errors import ServiceError
    from cloudlet.services.lambda_ import names

    region, account = ctx.region, ctx.account
    if params.get("FunctionName"):
        try:
            ref = names.parse(params["FunctionName"], account, region, params.get("Qualifier"))
        except ServiceError:  # a malformed name: the handler reports it; IAM judges "*"
            return ["*"]
        return [ref.qualified_arn]
    if params.get("LayerName"):
        acct, reg, name = names.parse_layer(params["LayerName"], account, region)
        version = params.get("VersionNumber")
        return [names.layer_arn(reg, acct, name, int(version) if version is not None else None)]
    if operation == "GetLayerVersionByArn" and params.get("Arn"):
        return [params["Arn"]]
    if params.get("Resource"):  # tags
        return [params["Resource"]]
    if params.get("UUID"):
        return [names.esm_arn(region, account, params["UUID"])]
    if params.get("CodeSigningConfigArn"):
        return [params["CodeSigningConfigArn"]]
    return ["*"]


def resource_policy(gateway: Any, region: str, arn: str) -> tuple[str, str | None] | None:
    """A function's owner and resource policy (the qualifier's own policy for a qualified
    ARN), for IAM; None when the function does not exist."""
    from cloudlet.core.errors import ServiceError
    from cloudlet.services.lambda_ import names, storage

    parts = arn.split(":")
    if len(parts) not in (7, 8) or parts[0] != "arn" or parts[2] != "lambda" or parts[5] != "function":
        return None
    try:
        ref = names.parse(arn, parts[4], parts[3])
    except ServiceError:
        return None
    with gateway.db("lambda").tx(ref.account, ref.region) as t:
        if storage.get_function(t, ref.name) is None:
            return None
        return ref.account, storage.policy_text(t, ref.name, ref.qualifier)


#: what audit events leave out: payloads and code are data (CloudTrail keeps neither), and
#: a 50 MB zip or a 6 MB payload must not sit in the in-memory ring of 50,000 events
_UNAUDITED_INPUT = ("Payload", "InvokeArgs", "ClientContext", "ZipFile")
_UNAUDITED_OUTPUT = ("Payload", "EventStream", "LogResult")


def audit(operation: str, params: dict[str, Any] | None, output: dict[str, Any] | None) -> tuple[Any, Any]:
    """An audit event's view of a call: without payloads, logs and zip bytes."""
    if params:
        params = {k: v for k, v in params.items() if k not in _UNAUDITED_INPUT}
        for member in ("Code", "Content"):  # CreateFunction's Code, PublishLayerVersion's Content
            if isinstance(params.get(member), dict) and "ZipFile" in params[member]:
                params[member] = {k: v for k, v in params[member].items() if k != "ZipFile"}
    if output:
        output = {k: v for k, v in output.items() if k not in _UNAUDITED_OUTPUT}
    return params, output
