"""Event source mappings: the configuration of the pollers (H4's ``esm``) that read an
SQS queue or a DynamoDB stream and invoke a function with batches.

Kept in the database's global partition (``storage.put_mapping``) so the pollers see
every account's mappings in one scan. The source must exist when the mapping is created
(checked in process with SQS GetQueueAttributes / DynamoDB Streams DescribeStream).
Sources cloudlet cannot poll (Kinesis, Kafka, MQ, DocumentDB) are refused, not faked.
With ``--enforce-iam`` the function's execution role must be allowed to read the source
(IAM's SimulatePrincipalPolicy, as AWS checks it at create and update): the pollers read
as that role.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.patterns import PatternError, compile_pattern
from cloudlet.server.config import public_url
from cloudlet.services.lambda_ import access, errors, names, storage

Input = dict[str, Any]
Output = dict[str, Any]

_STREAM_DEFAULTS = {
    "BatchSize": 100, "MaximumBatchingWindowInSeconds": 0, "ParallelizationFactor": 1,
    "MaximumRecordAgeInSeconds": -1, "BisectBatchOnFunctionError": False, "MaximumRetryAttempts": -1,
    "TumblingWindowInSeconds": 0,
}
_SETTABLE = ("BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "MaximumRecordAgeInSeconds",
             "BisectBatchOnFunctionError", "MaximumRetryAttempts", "TumblingWindowInSeconds", "FunctionResponseTypes",
             "ScalingConfig", "FilterCriteria", "DestinationConfig", "KMSKeyArn", "MetricsConfig")
_HIDDEN = ("account", "region", "kind", "tags")


def create_event_source_mapping(ctx: Context, req: Input) -> Output:
    source = req.get("EventSourceArn")
    if not source:
        raise errors.invalid("Unrecognized event source, must be an SQS queue or a DynamoDB stream ARN.")
    kind = _kind(source)
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
    _check_source(ctx, kind, source)
    _check_role(ctx, where, kind, source)
    fifo = kind == "sqs" and source.endswith(".fifo")
    mapping: dict[str, Any] = {"UUID": str(uuidlib.uuid4())}
    if kind == "sqs":
        mapping.update(BatchSize=10, MaximumBatchingWindowInSeconds=0)
    else:
        if not req.get("StartingPosition"):
            raise errors.invalid("1 validation error detected: Value null at 'startingPosition' failed to satisfy "
                                 "constraint: Member must not be null")
        if req["StartingPosition"] == "AT_TIMESTAMP":
            raise errors.invalid("Unsupported starting position for this event source: AT_TIMESTAMP")
        mapping.update(_STREAM_DEFAULTS, StartingPosition=req["StartingPosition"],
                       DestinationConfig={"OnFailure": {}})
    _apply(mapping, req, kind, fifo)
    mapping.update(
        EventSourceArn=source,
        FunctionArn=where.qualified_arn,
        LastModified=clock.now(),
        State="Enabled" if req.get("Enabled", True) else "Disabled",
        StateTransitionReason="USER_INITIATED",
        FunctionResponseTypes=mapping.get("FunctionResponseTypes") or [],
        EventSourceMappingArn=names.esm_arn(where.region, where.account, mapping["UUID"]),
        account=where.account, region=where.region, kind=kind, tags=dict(req.get("Tags") or {}),
    )
    if kind != "sqs":
        mapping["LastProcessingResult"] = "No records processed"
    with access.tx(ctx, where) as t:
        for other in storage.mappings_of_function(t, where.name):
            if other["EventSourceArn"] == source and other["FunctionArn"] == mapping["FunctionArn"]:
                raise errors.conflict(
                    f"An event source mapping with {'SQS' if kind == 'sqs' else 'event source'} arn (\" {source} \") "
                    f"and function (\" {where.name} \") already exists. Please update or delete the existing mapping "
                    f"with UUID {other['UUID']}"
                )
        storage.put_mapping(t, mapping)
    _start_pollers(ctx)
    return {**_shown(mapping), "State": "Creating"}


def get_event_source_mapping(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        mapping = access.load_mapping(t, req["UUID"])
    return _shown(mapping)


def update_event_source_mapping(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        mapping = dict(access.load_mapping(t, req["UUID"]))
    if req.get("FunctionName"):
        where = access.ref(ctx, req["FunctionName"])
        with access.tx(ctx, where) as t:
            access.load_qualified(t, where)
        _check_role(ctx, where, mapping["kind"], mapping["EventSourceArn"])
        mapping["FunctionArn"] = where.qualified_arn
    _apply(mapping, req, mapping["kind"], mapping["EventSourceArn"].endswith(".fifo"))
    if "Enabled" in req:
        mapping["State"] = "Enabled" if req["Enabled"] else "Disabled"
        mapping["StateTransitionReason"] = "USER_INITIATED"
    mapping["LastModified"] = clock.now()
    with ctx.tx() as t:
        access.load_mapping(t, req["UUID"])  # deleted meanwhile?
        storage.put_mapping(t, mapping)
    _start_pollers(ctx)
    return {**_shown(mapping), "State": "Updating"}


def delete_event_source_mapping(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        mapping = access.load_mapping(t, req["UUID"])
        storage.delete_mapping(t, req["UUID"])
    return {**_shown(mapping), "State": "Deleting"}


def list_event_source_mappings(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        found = storage.mappings_in(t)
    if req.get("EventSourceArn"):
        found = [m for m in found if m["EventSourceArn"] == req["EventSourceArn"]]
    if req.get("FunctionName"):
        where = access.ref(ctx, req["FunctionName"])
        wanted = where.qualified_arn
        found = [m for m in found if m["FunctionArn"] == wanted
                 or (not where.qualifier and m["FunctionArn"].startswith(wanted + ":"))]
    out = access.page("EventSourceMappings", found, req.get("Marker"), req.get("MaxItems") or 100)
    out["EventSourceMappings"] = [_shown(m) for m in out["EventSourceMappings"]]
    return out


def _kind(source: str) -> str:
    parts = source.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise errors.invalid(f"Unrecognized event source: {source}")
    service = parts[2]
    if service == "sqs":
        return "sqs"
    if service == "dynamodb" and "/stream/" in parts[5]:
        return "dynamodb"
    raise errors.invalid(
        f"cloudlet polls SQS queues and DynamoDB streams only; it cannot read the event source {source} "
        "(Kinesis, Kafka, Amazon MQ and DocumentDB sources are not supported)."
    )


def _check_source(ctx: Context, kind: str, source: str) -> None:
    parts = source.split(":")
    region, account, resource = parts[3], parts[4], parts[5]
    try:
        if kind == "sqs":
            assert ctx.gateway is not None
            url = f"{public_url(ctx.gateway.config)}/{account}/{resource}"
            ctx.aws("sqs", region=region).get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        else:
            ctx.aws("dynamodbstreams", region=region).describe_stream(StreamArn=source)
    except ServiceError as err:
        if kind == "sqs":
            raise errors.invalid(
                f"Error occurred while ReceiveMessage. SQS Error Code: {err.query_code or err.code}. "
                f"SQS Error Message: {err.message}"
            ) from None
        raise errors.invalid(f"Stream not found: {source}") from None


#: what the execution role needs to read each kind of source (Lambda developer guide,
#: "Execution role permissions"), in the order AWS names the first one missing
_ROLE_ACTIONS = {
    "sqs": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
    "dynamodb": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                 "dynamodb:ListStreams"),
}


def _check_role(ctx: Context, where: names.FunctionRef, kind: str, source: str) -> None:
    """With --enforce-iam, refuse a mapping whose function's execution role may not read the
    source, with AWS's messages. Without it nothing is checked: local roles often do not
    exist (the pollers then read as Lambda itself)."""
    assert ctx.gateway is not None
    if not ctx.gateway.config.enforce_iam:
        return
    from cloudlet.services.lambda_ import spec

    role = spec.role_of(ctx.gateway, where.qualified_arn)
    role_account = role.split(":")[4:5]
    try:
        out = ctx.aws("iam", principal=access.PRINCIPAL, account=role_account[0] if role_account else None,
                      quiet=True).simulate_principal_policy(
            PolicySourceArn=role, ActionNames=list(_ROLE_ACTIONS[kind]), ResourceArns=[source])
        denied = [r["EvalActionName"] for r in out.get("EvaluationResults") or () if r.get("EvalDecision") != "allowed"]
    except ServiceError:  # the role does not exist (or is malformed): it can be given nothing
        denied = list(_ROLE_ACTIONS[kind])
    if not denied:
        return
    if kind == "sqs":
        action = min(denied, key=_ROLE_ACTIONS[kind].index).split(":", 1)[1]
        raise errors.invalid(f"The provided execution role does not have permissions to call {action} on SQS")
    raise errors.invalid(f"Cannot access stream {source}. Please ensure the role can perform the GetRecords, "
                         "GetShardIterator, DescribeStream, ListShards, and ListStreams Actions on your stream in IAM.")


def _apply(mapping: dict[str, Any], req: Input, kind: str, fifo: bool) -> None:
    """The tunable members, checked against the source's limits."""
    for key in _SETTABLE:
        if key in req and req[key] is not None:
            mapping[key] = req[key]
    batch = mapping.get("BatchSize", 10)
    window = mapping.get("MaximumBatchingWindowInSeconds", 0)
    if kind == "sqs":
        for key in ("ParallelizationFactor", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError",
                    "MaximumRetryAttempts", "TumblingWindowInSeconds", "StartingPosition"):
            if req.get(key) is not None:
                raise errors.invalid(f"Unsupported {key} parameter for SQS event source mapping.")
        if req.get("DestinationConfig"):
            raise errors.invalid("Unsupported DestinationConfig parameter for SQS event source mapping.")
        limit = 10 if fifo else 10000
        if batch > limit:
            raise errors.invalid(f"BatchSize must be less than or equal to {limit}" if fifo else
                                 f"Maximum batch size is {limit}")
        if batch > 10 and window < 1:
            raise errors.invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is "
                                 "greater than 10")
        scaling = mapping.get("ScalingConfig")
        if scaling and scaling.get("MaximumConcurrency") is not None and not 2 <= scaling["MaximumConcurrency"] <= 1000:
            raise errors.invalid("MaximumConcurrency must be between 2 and 1000.")
    else:
        if batch > 10000:
            raise errors.invalid("Maximum batch size is 10000")
        if req.get("ScalingConfig"):
            raise errors.invalid("ScalingConfig is only supported for SQS event sources.")
        on_failure = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if on_failure and on_failure.split(":")[2:3] not in (["sqs"], ["sns"], ["s3"]):
            raise errors.invalid(f"The provided destination {on_failure} is invalid: it must be an SQS queue, SNS "
                                 "topic or S3 bucket ARN.")
        if ((req.get("DestinationConfig") or {}).get("OnSuccess") or {}).get("Destination"):
            raise errors.invalid("OnSuccess destinations are not supported for stream event sources.")
    if window > 300:
        raise errors.validation("maximumBatchingWindowInSeconds", window, "Member must have value less than or equal to 300")
    types = mapping.get("FunctionResponseTypes") or []
    if any(t != "ReportBatchItemFailures" for t in types):
        raise errors.invalid(f"Unsupported FunctionResponseTypes: {types}")
    filters = (mapping.get("FilterCriteria") or {}).get("Filters")
    if filters is not None:
        if len(filters) > 5:
            raise errors.invalid("The number of filters exceeds the limit of 5.")
        for f in filters:
            pattern = f.get("Pattern")
            if not isinstance(pattern, str):
                raise errors.invalid("Invalid filter pattern definition.")
            try:
                json.loads(pattern)
                compile_pattern(pattern)
            except (PatternError, ValueError):
                raise errors.invalid("Invalid filter pattern definition.") from None
        if not filters:
            mapping.pop("FilterCriteria", None)


def _start_pollers(ctx: Context) -> None:
    """The pollers (``esm``) start with the first mapping and follow every later write."""
    from cloudlet.services.lambda_ import esm

    assert ctx.gateway is not None
    esm.ensure_running(ctx.gateway)


def _shown(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in _HIDDEN}
