"""Serving function URLs: ``http://<url-id>.lambda-url.<region>.localhost:<port>/...``.

A request to a function URL is not an AWS API call: the gateway hands any request whose
Host contains ``.lambda-url.`` here before routing. The URL id finds the function (the
``urlid`` index ``urls`` keeps), the request becomes the API Gateway payload format 2.0
event, the function runs (awaited: the server's loop keeps serving), and its answer is
mapped back to HTTP as AWS documents (urls-invocation.html):

- an object with ``statusCode`` gives status, ``headers``, ``body`` (base64-decoded when
  ``isBase64Encoded``) and ``cookies`` (one ``set-cookie`` each);
- anything else (a string, a number, an object without ``statusCode``) is a 200
  ``application/json`` whose body is the function's JSON as returned.

``AuthType AWS_IAM`` refuses an unsigned request with 403 ``{"Message":"Forbidden"}``; a
signed one is checked as any API call is (signature when ``--verify-signatures``, and
``lambda:InvokeFunctionUrl`` on the function when ``--enforce-iam``). A Cors config adds
its headers to answers for a matching Origin and answers preflights (OPTIONS) itself.
A function error is 502 ``{"Message":"Internal Server Error"}``, a throttle 429.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import orjson

from cloudlet.core import clock
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request, Response
from cloudlet.server.logs import log_request

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway
    from cloudlet.services.lambda_.runtime import Result

log = logging.getLogger("cloudlet.lambda.url")

_HOST = re.compile(r"^([a-z0-9]+)\.lambda-url\.([a-z0-9-]+)\.(?:localhost|on\.aws)(?::\d+)?$")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "+json", "+xml")
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


def url_host(host: str) -> tuple[str, str] | None:
    """(url id, region) of a function URL host, None when `host` is not one."""
    m = _HOST.match(host.strip().lower())
    return (m.group(1), m.group(2)) if m else None


def _plain(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("content-type", "application/json"), ("x-amzn-requestid", str(uuid.uuid4())),
                             *(headers or [])], orjson.dumps({"Message": message}))


async def serve(gw: "Gateway", req: Request, client_ip: str = "127.0.0.1") -> Response | None:
    """Answer a function URL request; None when the host is not a function URL's."""
    parsed = url_host(req.host)
    if parsed is None:
        return None
    start = time.perf_counter()
    resp = await _serve(gw, req, client_ip, *parsed)
    log_request(req.method, "lambda", "InvokeFunctionUrl", resp.status, start)
    return resp


async def _serve(gw: "Gateway", req: Request, client_ip: str, url_id: str, region: str) -> Response:
    from cloudlet.services.lambda_ import access, invocation, spec, storage

    where = storage.url_target(gw, url_id)
    if where is None or where["region"] != region:
        return _plain(403, "Forbidden")
    with gw.db("lambda").tx(where["account"], where["region"]) as tx:
        config = storage.get(tx, storage.URL, where["name"], where["qualifier"])
    if config is None:
        return _plain(403, "Forbidden")
    cors = config.get("Cors") or None
    origin = req.headers.get("origin")
    if (cors and req.method == "OPTIONS" and origin is not None
            and "access-control-request-method" in req.headers):
        return _preflight(cors, origin, req)
    body = req.body_bytes()
    caller: dict[str, Any] | None = None
    if config.get("AuthType") == "AWS_IAM":
        function_arn = f"arn:aws:lambda:{where['region']}:{where['account']}:function:{where['name']}"
        caller = _authorized(gw, req, function_arn, where)
        if caller is None:
            return _plain(403, "Forbidden", _cors_headers(cors, origin))
    elif not _public(gw, where, client_ip):
        return _plain(403, "Forbidden", _cors_headers(cors, origin))
    try:
        ctx = access.service_context(gw, where["account"], where["region"], "InvokeFunctionUrl",
                                     req.headers.get("user-agent", ""), source_ip=client_ip)
        target = spec.resolve(ctx, where["name"], where["qualifier"])
        invocation.check_active(target)
    except ServiceError as err:
        log.info("function URL %s: %s %s", url_id, err.code, err.message)
        return _plain(502 if err.status >= 500 else 403 if err.status == 404 else 409, err.message or err.code)
    event = orjson.dumps(build_event(req, body, url_id, region, where["account"], client_ip, ctx.request_id, caller))
    if len(event) > invocation.MAX_SYNC_PAYLOAD:  # the event, not just the body, must fit Invoke's limit
        return _plain(413, "Request Entity Too Large", _cors_headers(cors, origin))
    try:
        result = await invocation.run_async(gw, target, event, source="function-url",
                                            request_id=ctx.request_id)
    except Exception as err:
        refused = invocation.refusal(err)
        if refused is None:
            raise
        if refused.code == "TooManyRequestsException":
            return _plain(429, "Rate Exceeded.", _cors_headers(cors, origin))
        return _plain(502, "Internal Server Error", _cors_headers(cors, origin))
    resp = response_for(result)
    resp.headers.append(("x-amzn-requestid", ctx.request_id))
    if cors and origin is not None:
        cors_h = _cors_headers(cors, origin)
        names = {k.lower() for k, _ in cors_h}
        resp.headers = [(k, v) for k, v in resp.headers if k.lower() not in names] + cors_h
    if req.method == "HEAD":
        resp.body = b""
    return resp


# the event --------------------------------------------------------------------------------
def _is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return any(t in ct for t in _TEXT_TYPES)


def build_event(req: Request, body: bytes, url_id: str, region: str, account: str, source_ip: str,
                request_id: str, caller: dict[str, Any] | None = None) -> dict[str, Any]:
    """The payload format 2.0 event of one request."""
    now = clock.now()
    headers = {k: v for k, v in req.headers.items() if k != "cookie"}
    # what AWS's front end adds on its way to the function
    headers.setdefault("x-forwarded-for", source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-forwarded-port", req.host.rpartition(":")[2] if ":" in req.host else "80")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(clock.time_s()):08x}-{uuid.uuid4().hex[:24]}")
    cookies = [c.strip() for c in req.headers.get("cookie", "").split(";") if c.strip()]
    path = unquote(req.path) or "/"
    host = req.host.split(":")[0].lower()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": req.query,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if req.query:
        params: dict[str, str] = {}
        for k, v in parse_qsl(req.query, keep_blank_values=True):
            params[k] = f"{params[k]},{v}" if k in params else v
        event["queryStringParameters"] = params
    event["requestContext"] = {
        # AWS names the owner for IAM-authorized calls and "anonymous" for public URLs
        "accountId": account if caller is not None else "anonymous",
        "apiId": url_id,
        "authorizer": {"iam": caller} if caller is not None else None,
        "domainName": host,
        "domainPrefix": url_id,
        "http": {
            "method": req.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": req.headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": now.astimezone(dt.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if event["requestContext"]["authorizer"] is None:
        del event["requestContext"]["authorizer"]
    if body:
        if _is_text(req.headers.get("content-type", "")):
            try:
                event["body"] = body.decode()
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


# the answer -------------------------------------------------------------------------------
def response_for(result: "Result") -> Response:
    """The HTTP answer for what the function returned."""
    if result.function_error is not None:
        return _plain(502, "Internal Server Error")
    try:
        value = orjson.loads(result.payload) if result.payload else None
    except orjson.JSONDecodeError:
        return Response(200, [("content-type", "application/json")], result.payload)
    if not isinstance(value, dict) or "statusCode" not in value:
        return Response(200, [("content-type", "application/json")], result.payload)
    try:
        status = int(value["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(status)
    except (TypeError, ValueError):
        return _plain(502, "Internal Server Error")
    headers: list[tuple[str, str]] = []
    for k, v in (value.get("headers") or {}).items():
        if str(k).lower() not in _HOP_HEADERS:
            headers.append((str(k).lower(), _header_value(v)))
    for k, vs in (value.get("multiValueHeaders") or {}).items():
        if str(k).lower() not in _HOP_HEADERS and isinstance(vs, list):
            headers.extend((str(k).lower(), _header_value(v)) for v in vs)
    for cookie in value.get("cookies") or ():
        headers.append(("set-cookie", str(cookie)))
    if not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    raw = value.get("body")
    if raw is None:
        body = b""
    elif isinstance(raw, str):
        body = raw.encode()
        if value.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw, validate=False)
            except ValueError:
                return _plain(502, "Internal Server Error")
    else:
        body = orjson.dumps(raw)
    return Response(status, headers, body)


def _header_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# CORS -------------------------------------------------------------------------------------
def _origin_allowed(cors: dict[str, Any], origin: str) -> str | None:
    allowed = cors.get("AllowOrigins") or []
    if "*" in allowed:
        return "*" if not cors.get("AllowCredentials") else origin
    return origin if origin in allowed else None


def _cors_headers(cors: dict[str, Any] | None, origin: str | None) -> list[tuple[str, str]]:
    if not cors or origin is None:
        return []
    allow = _origin_allowed(cors, origin)
    if allow is None:
        return []
    out = [("access-control-allow-origin", allow), ("vary", "Origin")]
    if cors.get("AllowCredentials"):
        out.append(("access-control-allow-credentials", "true"))
    if cors.get("ExposeHeaders"):
        out.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    return out


def _preflight(cors: dict[str, Any], origin: str, req: Request) -> Response:
    """A CORS preflight, answered from the URL's Cors config without running the function."""
    headers = _cors_headers(cors, origin)
    method = req.headers.get("access-control-request-method", "").upper()
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    if headers and ("*" in methods or method in methods):
        headers.append(("access-control-allow-methods", ",".join(methods)))
        if cors.get("AllowHeaders"):
            headers.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"])))
        if cors.get("MaxAge") is not None:
            headers.append(("access-control-max-age", str(cors["MaxAge"])))
    else:
        headers = [("vary", "Origin")]
    headers.append(("x-amzn-requestid", str(uuid.uuid4())))
    return Response(200, headers, b"")


def _public(gw: "Gateway", where: dict[str, Any], client_ip: str) -> bool:
    """AuthType NONE: whether the function's (or its qualifier's) policy grants the public
    ``lambda:InvokeFunctionUrl``, as AWS requires before a URL answers anyone."""
    from cloudlet.auth.authenticate import ANONYMOUS_ARN
    from cloudlet.core.context import Context
    from cloudlet.services.lambda_ import invokepolicy

    arn = f"arn:aws:lambda:{where['region']}:{where['account']}:function:{where['name']}"
    if where.get("qualifier"):
        arn += f":{where['qualifier']}"
    anonymous = Context(account="", region=where["region"], principal_arn=ANONYMOUS_ARN, access_key="",
                        request_id="", service="lambda", operation="InvokeFunctionUrl", source_ip=client_ip,
                        gateway=gw)
    return invokepolicy.public_url_allowed(anonymous, arn)


# AWS_IAM ----------------------------------------------------------------------------------
def _authorized(gw: "Gateway", req: Request, function_arn: str, where: dict[str, Any]) -> dict[str, Any] | None:
    """The caller of a signed request, as the event's ``authorizer.iam`` names it; None when
    the request is unsigned or refused."""
    from cloudlet.auth.authenticate import authenticate
    from cloudlet.auth.scope import credential_scope

    scope = credential_scope(req)
    if scope is None:
        return None
    try:
        identity, _ = authenticate(req, req, "lambda", "rest-json", gw.credentials, gw.config.verify_signatures,
                                   scope, strict=gw.config.enforce_iam)
        if identity is None:
            return None
        if gw.config.enforce_iam:
            from cloudlet.auth.authorizer import AuthzRequest
            from cloudlet.core.context import Context
            from cloudlet.server.gateway import condition_keys

            ctx = Context(account=where["account"], region=where["region"], principal_arn=identity.arn,
                          access_key=identity.access_key, request_id="", service="lambda",
                          operation="InvokeFunctionUrl", user_agent=req.headers.get("user-agent", ""), gateway=gw)
            # URLs made since October 2025 need both actions (AWS, "Control access to Lambda function URLs")
            gw.authorizer.authorize(AuthzRequest(
                principal_arn=identity.arn, account=where["account"], service="lambda",
                operation="InvokeFunctionUrl", actions=("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"),
                resources=(function_arn,),
                conditions=condition_keys(ctx), region=where["region"], access_key=identity.access_key,
                principal_account=identity.account_id,
                service_keys={"lambda:FunctionUrlAuthType": "AWS_IAM", "lambda:InvokedViaFunctionUrl": "true"},
            ))
    except ServiceError as err:
        log.info("function URL call refused: %s %s", err.code, err.message)
        return None
    return {
        "accessKey": identity.access_key,
        "accountId": identity.account_id,
        "callerId": identity.arn.rsplit("/", 1)[-1],
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": identity.arn,
        "userId": identity.arn.rsplit("/", 1)[-1],
    }
