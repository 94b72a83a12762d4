"""Targets of a rule: PutTargets (a target with an Id already there is replaced), with
checks that fail one entry and leave the others in; RemoveTargets; ListTargetsByRule.

A rule has at most 5 targets (AWS's quota). A target is kept as it was given and handed
back the same way.
"""

from __future__ import annotations

import json
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.events import access, arns, errors, model, paging, storage, transform

Input = dict[str, Any]
Output = dict[str, Any]


def put_targets(ctx: Context, req: Input) -> Output:
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    failed: list[dict[str, str]] = []
    accepted: list[dict[str, Any]] = []
    for target in req["Targets"]:
        if arns.parse(target["Arn"]) is None:
            raise errors.bad_parameter(target["Arn"], "Provided Arn is not in correct format.")
        problem = _problem(target)
        if problem is None:
            accepted.append(target)
        else:
            failed.append({"TargetId": target["Id"], "ErrorCode": "ValidationException", "ErrorMessage": problem})
    with ctx.tx() as tx:
        rule = access.rule(tx, bus_name, req["Rule"])
        targets = {t["Id"]: t for t in rule["targets"]}
        for target in accepted:
            targets[target["Id"]] = target
        if len(targets) > model.MAX_TARGETS_PER_RULE:
            raise errors.limit_exceeded()
        rule["targets"] = list(targets.values())
        storage.put_rule(tx, rule)
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


def remove_targets(ctx: Context, req: Input) -> Output:
    """Ids the rule does not have are ignored, as in AWS."""
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    gone = set(req["Ids"])
    with ctx.tx() as tx:
        rule = access.rule(tx, bus_name, req["Rule"])
        rule["targets"] = [t for t in rule["targets"] if t["Id"] not in gone]
        storage.put_rule(tx, rule)
    return {"FailedEntryCount": 0, "FailedEntries": []}


def list_targets_by_rule(ctx: Context, req: Input) -> Output:
    bus_name = access.own_bus(ctx, req.get("EventBusName"))
    with ctx.tx() as tx:
        rule = access.rule(tx, bus_name, req["Rule"])
    numbered = [(f"{i:04d}", t) for i, t in enumerate(rule["targets"])]
    chosen, token = paging.page(numbered, lambda p: p[0], req.get("Limit"), req.get("NextToken"))
    out: Output = {"Targets": [t for _, t in chosen]}
    if token:
        out["NextToken"] = token
    return out


def _problem(target: dict[str, Any]) -> str | None:
    """Why one target is refused (its entry fails alone), or None."""
    tid = target["Id"]
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
    if len(given) > 1:
        return f"Only one of Input, InputPath, or InputTransformer must be provided for target {tid}."
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            return f"Input for target {tid} is not valid JSON text."
    if target.get("InputPath"):
        try:
            transform.compile_path(target["InputPath"])
        except transform.PathError:
            return f"InputPath for target {tid} is invalid."
    if target.get("InputTransformer"):
        bad = transform.check_paths(target["InputTransformer"])
        if bad is not None:
            return f"InputPathsMap for target {tid} has an invalid key or path: {bad}."
    arn = arns.parse(target["Arn"])
    if arn is not None and arn.service == "sqs" and arn.resource.endswith(".fifo"):
        if not (target.get("SqsParameters") or {}).get("MessageGroupId"):
            return f"Parameter(s) SqsParameters must be specified for target: {tid}."
    try:
        model.check_dlq(target.get("DeadLetterConfig"))
    except ServiceError as err:
        return err.message
    return None
