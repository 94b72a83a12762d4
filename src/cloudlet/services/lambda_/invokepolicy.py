"""Whether a caller may invoke a function, by the function's resource policy.

As on AWS, another AWS service (S3, SNS, EventBridge, Secrets Manager...) invokes a
function only where a statement of its policy (``AddPermission``) lets that service in,
conditions such as ``AWS:SourceArn`` included, and another account's principal needs the
policy too; a caller of the owner's own account is governed by IAM (``--enforce-iam``).
This holds whether or not IAM is enforced, as SNS and SQS judge their own policies: a
missing ``AddPermission`` breaks the integration here as it does on AWS.
"""

from __future__ import annotations

from cloudlet.auth.policy import PolicyError, Request, is_allowed_by, parse
from cloudlet.auth.resource_request import request
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError

#: Lambda invoking its own destinations acts with the execution role, not the policy
_SELF = "lambda.amazonaws.com"


def needs_policy(ctx: Context, owner: str) -> bool:
    """Whether the function's resource policy decides this call."""
    principal = ctx.principal_arn
    if principal.endswith(".amazonaws.com"):
        return principal != _SELF
    return ctx.account != owner


def verdict(policy_text: str | None, ctx: Context, action: str, resource: str,
            keys: dict[str, str] | None = None) -> str:
    """"Allow", "Deny" or "NotApplicable" for `ctx` doing `action` on `resource`
    (`keys`: Lambda's own condition keys, e.g. ``lambda:FunctionUrlAuthType``)."""
    if not policy_text:
        return "NotApplicable"
    try:
        policy = parse(policy_text, "resource")
    except PolicyError:
        return "NotApplicable"  # AddPermission builds every statement: only a hand-edited store gets here
    req = request(ctx, action, resource)
    if keys:
        req = Request(req.principal, req.action, req.resource, {**req.context, **keys})
    return is_allowed_by(policy, req)


def check_invoke(ctx: Context, owner: str, policy_text: str | None, resource: str,
                 action: str = "lambda:InvokeFunction") -> None:
    """Raise AWS's AccessDeniedException unless the policy lets `ctx` invoke `resource`."""
    if not needs_policy(ctx, owner):
        return
    if verdict(policy_text, ctx, action, resource) != "Allow":
        # the resource AWS names is the function's ARN as invoked
        raise ServiceError(
            "AccessDeniedException",
            f"User: {ctx.principal_arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no resource-based policy allows the {action} action",
            403,
        )


def policy_of(gateway: object, arn: str) -> tuple[str, str | None] | None:
    """The owner and policy text of the function (or its qualifier) `arn` names."""
    from cloudlet.services.lambda_ import resource_policy

    return resource_policy(gateway, arn.split(":")[3], arn)


def check_target(ctx: Context, invoked_arn: str) -> None:
    """`check_invoke` for an invocation of `invoked_arn` (the function, a version or alias)."""
    owner = invoked_arn.split(":")[4]
    if not needs_policy(ctx, owner):
        return
    found = policy_of(ctx.gateway, invoked_arn)
    check_invoke(ctx, owner, found[1] if found else None, invoked_arn)


#: what a function URL call carries to the policy: its auth type and that it came by URL
URL_KEYS = {"lambda:FunctionUrlAuthType": "NONE", "lambda:InvokedViaFunctionUrl": "true"}


def public_url_allowed(ctx: Context, invoked_arn: str) -> bool:
    """A function URL with AuthType NONE still answers only where the function's policy
    grants the public both ``lambda:InvokeFunctionUrl`` and (for URLs made since October
    2025, which every cloudlet URL is) ``lambda:InvokeFunction`` (AWS: "your function's
    resource-based policy is always in effect and must grant public access")."""
    found = policy_of(ctx.gateway, invoked_arn)
    text = found[1] if found else None
    return all(verdict(text, ctx, action, invoked_arn, URL_KEYS) == "Allow"
               for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"))
