"""AWS Systems Manager: Parameter Store, kept in the store, SecureStrings encrypted at rest.

Every other SSM operation answers 501 NotImplemented from the gateway.
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["parameters", "queries", "labels", "tags"]

_BY_NAME = {
    "PutParameter", "GetParameter", "DeleteParameter", "GetParameterHistory", "LabelParameterVersion",
    "UnlabelParameterVersion",
}


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The parameter ARNs a call acts on, for IAM: ``parameter/<name>`` without any selector."""
    from cloudlet.services.ssm.model import arn

    def of(name: str) -> str:
        if name.startswith("arn:"):
            return ":".join(name.strip().split(":")[:6])  # drop a selector after the ARN
        return arn(ctx.partition, ctx.region, ctx.account, name.strip().split(":", 1)[0])

    if operation in _BY_NAME:
        return [of(params["Name"])]
    if operation in ("GetParameters", "DeleteParameters"):
        return [of(n) for n in params["Names"]]
    if operation == "GetParametersByPath":
        return [of(params["Path"].rstrip("/") or "/")]
    if operation in ("AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource"):
        if params.get("ResourceType") == "Parameter":
            return [of(params["ResourceId"])]
    return ["*"]
