"""Policy simulation: the engine's answer for actions on resources, given a principal's
policies (SimulatePrincipalPolicy) or the caller's own documents (SimulateCustomPolicy)."""

from __future__ import annotations

from typing import Any, Sequence

from cloudlet.core.context import Context
from cloudlet.services.iam import documents, errors, model, policies, storage

Input = dict[str, Any]
Output = dict[str, Any]


def _context(entries: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    """ContextEntries as the engine's condition keys (values typed per ContextKeyType)."""
    out: dict[str, Any] = {}
    for entry in entries or ():
        kind = (entry.get("ContextKeyType") or "string").lower()
        values = list(entry.get("ContextKeyValues") or [])
        if kind.startswith("boolean"):
            values = [v.lower() == "true" for v in values]
        elif kind.startswith("numeric"):
            try:
                values = [int(v) if v.lstrip("-").isdigit() else float(v) for v in values]
            except ValueError:
                raise errors.invalid_input(f"Invalid value for context key {entry.get('ContextKeyName')}") from None
        out[entry["ContextKeyName"]] = values if kind.endswith("list") else (values[0] if values else "")
    return out


def _decision(decision: Any) -> str:
    if decision.allowed:
        return "allowed"
    return "explicitDeny" if decision.reason.startswith("explicit-deny") else "implicitDeny"


def _run(ctx: Context, req: Input, identity: list[Any], boundary: Any, principal: Any) -> Output:
    from cloudlet.auth.policy import PolicySet, Request, evaluate

    boundaries = [documents.check(d, "boundary") for d in req.get("PermissionsBoundaryPolicyInputList") or ()]
    if boundaries:
        boundary = boundaries[0]  # AWS takes one boundary document
    resource_policy = documents.check(req["ResourcePolicy"], "resource") if req.get("ResourcePolicy") else None
    owner = req.get("ResourceOwner")
    owner_account = owner.split(":")[4] if owner and owner.startswith("arn:") else owner
    pset = PolicySet(identity=tuple(identity), resource=resource_policy, resource_account=owner_account, boundary=boundary)
    context = _context(req.get("ContextEntries"))
    results = []
    for action in req["ActionNames"]:
        for resource in req.get("ResourceArns") or ["*"]:
            decision = evaluate(Request(principal=principal, action=action, resource=resource, context=context), pset)
            results.append({
                "EvalActionName": action, "EvalResourceName": resource, "EvalDecision": _decision(decision),
                "MatchedStatements": [], "MissingContextValues": [],
            })
    indexed = list(enumerate(results))
    out = model.page(indexed, req, lambda r: f"{r[0]:08d}", "EvaluationResults")
    out["EvaluationResults"] = [r for _, r in out["EvaluationResults"]]
    return out


def simulate_custom_policy(ctx: Context, req: Input) -> Output:
    from cloudlet.auth.policy import Principal

    identity = [documents.check(d) for d in req["PolicyInputList"]]
    caller = req.get("CallerArn") or f"arn:aws:iam::{ctx.account}:user/{'simulated'}"
    principal = Principal(arn=caller, account=ctx.account, kind="user", username=caller.rsplit("/", 1)[-1])
    return _run(ctx, req, identity, None, principal)


def simulate_principal_policy(ctx: Context, req: Input) -> Output:
    from cloudlet.auth.policy import Principal, parse

    source = req["PolicySourceArn"]
    resource = source.split(":", 5)[-1]
    kind, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind not in ("user", "group", "role") or not name or source.split(":")[4:5] != [ctx.account]:
        raise errors.invalid_input(f"Invalid ARN: {source}")
    docs: list[str] = []
    boundary = None
    with ctx.tx() as t:
        rec = storage.require(t, kind, name)
        entities = [rec]
        if kind == "user":
            entities += [g for g in (storage.get(t, "group", n) for n in rec["Groups"]) if g is not None]
        for entity in entities:
            docs += list(entity["Inline"].values())
            for arn in entity["Attached"]:
                pol = policies.lookup(t, ctx.account, arn)
                if pol is not None:
                    docs.append(policies.default_document(pol))
        if rec.get("Boundary"):
            pol = policies.lookup(t, ctx.account, rec["Boundary"])
            if pol is not None:
                boundary = parse(policies.default_document(pol), "boundary")
    identity = [parse(d, "identity") for d in docs] + [documents.check(d) for d in req.get("PolicyInputList") or ()]
    caller = req.get("CallerArn") or rec["Arn"]
    if kind == "role":
        principal = Principal(arn=caller, account=ctx.account, kind="role-session", role_arn=rec["Arn"],
                              user_id=rec["Id"])
    else:
        principal = Principal(arn=caller, account=ctx.account, kind="user", user_id=rec["Id"],
                              username=rec["Name"] if kind == "user" else None)
    return _run(ctx, req, identity, boundary, principal)
