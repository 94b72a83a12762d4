"""Function resource policies: AddPermission/RemovePermission/GetPolicy, per function or
per version/alias (a qualifier has a policy of its own, as in AWS).

The document is the one AWS builds: each statement has a Sid, ``Effect: Allow``, a
Principal (``{"Service": ...}``, ``{"AWS": arn}`` or ``"*"``), the Action, the (qualified)
function ARN as Resource, and Conditions from SourceArn/SourceAccount/PrincipalOrgID/
EventSourceToken/FunctionUrlAuthType. IAM enforcement reads it through
``resource_policy`` in the package's ``__init__``.
"""

from __future__ import annotations

import json
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.lambda_ import access, errors, names, storage
from cloudlet.services.lambda_.names import LATEST

Input = dict[str, Any]
Output = dict[str, Any]

MAX_POLICY = 20480


def add_permission(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    qualifier = _qualifier(where)
    statement = _statement(where, req)
    with access.tx(ctx, where) as t:
        fn = access.load_qualified(t, where)
        doc = storage.get(t, storage.POLICY, where.name, qualifier) or {"Statement": [], "RevisionId": fn["config"]["RevisionId"]}
        access.check_revision(req.get("RevisionId"), doc["RevisionId"], "GetPolicy")
        if any(s["Sid"] == req["StatementId"] for s in doc["Statement"]):
            raise errors.conflict(f"The statement id ({req['StatementId']}) provided already exists. Please provide a "
                                  "new statement id, or remove the existing statement.")
        doc = {"Statement": [*doc["Statement"], statement], "RevisionId": access.new_revision()}
        if len(storage.policy_json(doc)) > MAX_POLICY:
            raise errors.policy_too_long()
        storage.put(t, storage.POLICY, where.name, qualifier, doc)
    return {"Statement": json.dumps(statement, separators=(",", ":"))}


def remove_permission(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    qualifier = _qualifier(where)
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        doc = storage.get(t, storage.POLICY, where.name, qualifier)
        if not doc or not doc["Statement"]:
            raise errors.not_found("No policy is associated with the given resource.")
        access.check_revision(req.get("RevisionId"), doc["RevisionId"], "GetPolicy")
        kept = [s for s in doc["Statement"] if s["Sid"] != req["StatementId"]]
        if len(kept) == len(doc["Statement"]):
            raise errors.not_found(f"Statement {req['StatementId']} is not found in resource policy.")
        if kept:
            storage.put(t, storage.POLICY, where.name, qualifier, {"Statement": kept, "RevisionId": access.new_revision()})
        else:
            storage.delete(t, storage.POLICY, where.name, qualifier)
    return {}


def get_policy(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    qualifier = None if where.qualifier in (None, LATEST) else where.qualifier
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        doc = storage.get(t, storage.POLICY, where.name, qualifier)
    if not doc or not doc["Statement"]:
        raise errors.not_found()
    return {"Policy": storage.policy_json(doc), "RevisionId": doc["RevisionId"]}


def _qualifier(where: names.FunctionRef) -> str | None:
    if where.qualifier == LATEST:
        raise errors.invalid("We currently do not support adding policies for $LATEST.")
    return where.qualifier


def _principal(principal: str, partition: str) -> Any:
    if principal == "*":
        return "*"
    if len(principal) == 12 and principal.isdecimal():
        return {"AWS": f"arn:{partition}:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    if "." in principal:  # a service principal (s3.amazonaws.com, events.amazonaws.com...)
        return {"Service": principal}
    raise errors.invalid(
        f"The provided principal was invalid. Please check the principal and try again. Principal: {principal}"
    )


def _statement(where: names.FunctionRef, req: Input) -> dict[str, Any]:
    action = req["Action"]  # the model's pattern (lambda:<Name>, lambda:*, *) is checked before
    statement: dict[str, Any] = {
        "Sid": req["StatementId"],
        "Effect": "Allow",
        "Principal": _principal(req["Principal"], names.partition_of(where.region)),
        "Action": action,
        "Resource": where.qualified_arn,
    }
    equals: dict[str, str] = {}
    if req.get("SourceAccount"):
        equals["AWS:SourceAccount"] = req["SourceAccount"]
    if req.get("PrincipalOrgID"):
        equals["aws:PrincipalOrgID"] = req["PrincipalOrgID"]
    if req.get("EventSourceToken"):
        equals["lambda:EventSourceToken"] = req["EventSourceToken"]
    if req.get("FunctionUrlAuthType"):
        if action not in ("lambda:InvokeFunctionUrl", "lambda:*", "*"):
            raise errors.invalid("FunctionUrlAuthType is only supported with the lambda:InvokeFunctionUrl action.")
        equals["lambda:FunctionUrlAuthType"] = req["FunctionUrlAuthType"]
    condition: dict[str, Any] = {}
    if equals:
        condition["StringEquals"] = equals
    if req.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": req["SourceArn"]}
    if req.get("InvokedViaFunctionUrl"):
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if condition:
        statement["Condition"] = condition
    return statement
