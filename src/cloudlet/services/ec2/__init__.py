"""Amazon EC2: no operations yet (each answers 501 naming itself). What is here is what IAM
needs to judge a call before that answer: the resources and condition keys of the calls
that service control policies and identity policies commonly restrict, so an SCP that
forbids ``ec2:RunInstances`` for some instance types refuses exactly those requests."""

from __future__ import annotations

from typing import Any, Iterable

MODULES: list[str] = []


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """RunInstances is judged on the instance it would create (where ``ec2:InstanceType`` lives)."""
    if operation == "RunInstances":
        return [f"arn:{ctx.partition}:ec2:{ctx.region}:{ctx.account}:instance/*"]
    ids = params.get("InstanceIds")
    if ids:
        return [f"arn:{ctx.partition}:ec2:{ctx.region}:{ctx.account}:instance/{i}" for i in ids]
    return ["*"]


def condition_keys(ctx: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if params.get("InstanceType"):
        keys["ec2:InstanceType"] = params["InstanceType"]
    if operation == "RunInstances":
        if params.get("ImageId"):
            keys["ec2:ImageId"] = params["ImageId"]
        tags = [t for spec in params.get("TagSpecifications") or () for t in spec.get("Tags") or ()]
        for tag in tags:
            keys[f"aws:RequestTag/{tag['Key']}"] = tag.get("Value", "")
        if tags:
            keys["aws:TagKeys"] = [t["Key"] for t in tags]
    return keys
