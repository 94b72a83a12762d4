"""Platform applications and endpoints in the store, and their ARNs (see ``platforms``)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sns import errors, model

APP = "app"  # key "<platform>/<name>"
ENDPOINT = "endpoint"  # key endpoint id; indexed by app and by "<app> <token>"


def app_key(ctx: Context, arn_text: str) -> str:
    arn = model.parse_arn(arn_text)
    parts = arn.resource.split("/") if arn else []
    if arn is None or arn.service != "sns" or len(parts) != 3 or parts[0] != "app" or arn.account != ctx.account:
        raise errors.invalid("PlatformApplicationArn")
    return f"{parts[1]}/{parts[2]}"


def endpoint_id_of(ctx: Context, arn_text: str) -> str:
    arn = model.parse_arn(arn_text)
    parts = arn.resource.split("/") if arn else []
    if arn is None or arn.service != "sns" or len(parts) != 4 or parts[0] != "endpoint" or arn.account != ctx.account:
        raise errors.invalid("EndpointArn")
    return parts[3]


def arn_of(ctx: Context, resource: str) -> str:
    return f"arn:{ctx.partition}:sns:{ctx.region}:{ctx.account}:{resource}"


def load_app(tx: Any, key: str) -> dict[str, Any]:
    rec = tx.get(APP, key)
    if rec is None:
        raise errors.application_not_found()
    return rec.value


def put(tx: Any, ep: dict[str, Any]) -> None:
    """An endpoint record, found by its application and by its device token."""
    tx.put(ENDPOINT, ep["id"], ep, attrs={"app": ep["app"], "token": f"{ep['app']} {ep['attrs']['Token']}"})


def load_endpoint(tx: Any, endpoint_id: str) -> dict[str, Any]:
    rec = tx.get(ENDPOINT, endpoint_id)
    if rec is None:
        raise errors.endpoint_not_found()
    return rec.value


def check_publishable(ctx: Context, tx: Any, endpoint_arn: str) -> dict[str, Any]:
    """The endpoint a direct publish goes to, or AWS's error for it."""
    try:
        endpoint_id = endpoint_id_of(ctx, endpoint_arn)
    except ServiceError:
        raise errors.invalid("TargetArn") from None
    ep = load_endpoint(tx, endpoint_id)
    if ep["attrs"].get("Enabled") != "true":
        raise ServiceError("EndpointDisabled", "Endpoint is disabled", 400)
    return ep
