"""Mobile push: platform applications and their endpoints.

cloudlet talks to no push service (APNs, FCM...): an application keeps its attributes
(the credential is stored, never returned), an endpoint its device token, and a publish
to an endpoint, directly or through an ``application`` subscription, lands in the
outbox with the text for the endpoint's platform. A disabled endpoint refuses direct
publishes with ``EndpointDisabled``, as AWS does.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.sns import endpoints, errors, model

Input = dict[str, Any]
Output = dict[str, Any]

APP, ENDPOINT = endpoints.APP, endpoints.ENDPOINT
PLATFORMS = ("ADM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "GCM", "MPNS", "WNS")
_HIDDEN = frozenset({"PlatformCredential", "PlatformPrincipal"})
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
PAGE = 100


def create_platform_application(ctx: Context, req: Input) -> Output:
    name, platform = req["Name"], req["Platform"]
    if not _NAME.fullmatch(name):
        raise errors.invalid("Invalid platform application name")
    if platform not in PLATFORMS:
        raise errors.invalid("Platform Reason: Platform must be one of " + ", ".join(PLATFORMS))
    attrs = {k: str(v) for k, v in (req.get("Attributes") or {}).items()}
    key = f"{platform}/{name}"
    with ctx.tx() as tx:
        rec = tx.get(APP, key)
        app: dict[str, Any] = rec.value if rec is not None else {"key": key, "attrs": {"Enabled": "true"}}
        app["attrs"].update(attrs)
        tx.put(APP, key, app)
    return {"PlatformApplicationArn": endpoints.arn_of(ctx, f"app/{key}")}


def get_platform_application_attributes(ctx: Context, req: Input) -> Output:
    key = endpoints.app_key(ctx, req["PlatformApplicationArn"])
    with ctx.tx() as tx:
        app = endpoints.load_app(tx, key)
    return {"Attributes": {k: v for k, v in app["attrs"].items() if k not in _HIDDEN}}


def set_platform_application_attributes(ctx: Context, req: Input) -> Output:
    key = endpoints.app_key(ctx, req["PlatformApplicationArn"])
    with ctx.tx() as tx:
        app = endpoints.load_app(tx, key)
        app["attrs"].update({k: str(v) for k, v in req["Attributes"].items()})
        tx.put(APP, key, app)
    return {}


def list_platform_applications(ctx: Context, req: Input) -> Output:
    after = model.page_after(req.get("NextToken"))
    with ctx.tx() as tx:
        found = tx.scan(APP, after=after, limit=PAGE + 1)
    page = found[:PAGE]
    out: Output = {"PlatformApplications": [
        {"PlatformApplicationArn": endpoints.arn_of(ctx, f"app/{r.value['key']}"),
         "Attributes": {k: v for k, v in r.value["attrs"].items() if k not in _HIDDEN}}
        for r in page
    ]}
    if len(found) > PAGE:
        out["NextToken"] = model.page_token(page[-1].value["key"])
    return out


def delete_platform_application(ctx: Context, req: Input) -> Output:
    """Its endpoints go with it; deleting one that does not exist is not an error."""
    key = endpoints.app_key(ctx, req["PlatformApplicationArn"])
    with ctx.tx() as tx:
        for rec in tx.find(ENDPOINT, "app", key):
            tx.delete(ENDPOINT, rec.key)
        tx.delete(APP, key)
    return {}


def create_platform_endpoint(ctx: Context, req: Input) -> Output:
    """Idempotent on the device token: the same token (and attributes) is the same endpoint."""
    key = endpoints.app_key(ctx, req["PlatformApplicationArn"])
    token = req["Token"]
    attrs = {k: str(v) for k, v in (req.get("Attributes") or {}).items()}
    if req.get("CustomUserData") is not None:
        attrs["CustomUserData"] = req["CustomUserData"]
    with ctx.tx() as tx:
        endpoints.load_app(tx, key)
        existing = tx.find(ENDPOINT, "token", f"{key} {token}")
        if existing:
            ep = existing[0].value
            if any(ep["attrs"].get(k) != v for k, v in attrs.items()):
                arn = endpoints.arn_of(ctx, f"endpoint/{key}/{ep['id']}")
                raise errors.invalid(
                    f"Token Reason: Endpoint {arn} already exists with the same Token, but different attributes."
                )
        else:
            ep = {"id": str(uuid.uuid4()), "app": key, "attrs": {"Enabled": "true", **attrs, "Token": token}}
            endpoints.put(tx, ep)
    return {"EndpointArn": endpoints.arn_of(ctx, f"endpoint/{key}/{ep['id']}")}


def get_endpoint_attributes(ctx: Context, req: Input) -> Output:
    endpoint_id = endpoints.endpoint_id_of(ctx, req["EndpointArn"])
    with ctx.tx() as tx:
        ep = endpoints.load_endpoint(tx, endpoint_id)
    return {"Attributes": dict(ep["attrs"])}


def set_endpoint_attributes(ctx: Context, req: Input) -> Output:
    endpoint_id = endpoints.endpoint_id_of(ctx, req["EndpointArn"])
    with ctx.tx() as tx:
        ep = endpoints.load_endpoint(tx, endpoint_id)
        for k, v in req["Attributes"].items():
            if k == "Enabled":
                v = str(v).lower()
                if v not in ("true", "false"):
                    raise errors.invalid("Attributes Reason: Enabled must be true or false")
            ep["attrs"][k] = str(v)
        endpoints.put(tx, ep)
    return {}


def list_endpoints_by_platform_application(ctx: Context, req: Input) -> Output:
    key = endpoints.app_key(ctx, req["PlatformApplicationArn"])
    after = model.page_after(req.get("NextToken"))
    with ctx.tx() as tx:
        endpoints.load_app(tx, key)
        eps = [r.value for r in tx.find(ENDPOINT, "app", key)]
    eps = [e for e in sorted(eps, key=lambda e: e["id"]) if after is None or e["id"] > after]
    page = eps[:PAGE]
    out: Output = {"Endpoints": [
        {"EndpointArn": endpoints.arn_of(ctx, f"endpoint/{key}/{e['id']}"), "Attributes": dict(e["attrs"])} for e in page
    ]}
    if len(eps) > PAGE:
        out["NextToken"] = model.page_token(page[-1]["id"])
    return out


def delete_endpoint(ctx: Context, req: Input) -> Output:
    endpoint_id = endpoints.endpoint_id_of(ctx, req["EndpointArn"])
    with ctx.tx() as tx:
        tx.delete(ENDPOINT, endpoint_id)
    return {}
