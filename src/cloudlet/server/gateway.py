"""The request path, as one straight function: route, authenticate, decode, validate,
authorize, dispatch, encode; then one audit event and one log line.

Each step returns a value; the context is built once, frozen, after the steps that
decide what goes in it.
"""

from __future__ import annotations

import inspect
import os
from functools import lru_cache
import logging
import time
from typing import Any, Callable

from cloudlet.auth.authenticate import authenticate, may_skip_signature, unsigned_refusal
from cloudlet.auth.actions import iam_actions
from cloudlet.auth.authorizer import AllowAll, Authorizer, AuthzRequest
from cloudlet.auth.credentials import CredentialStore, Identity
from cloudlet.auth.scope import credential_scope
from cloudlet.core import clock, metrics
from cloudlet.core.audit import AuditLog, Event
from cloudlet.core.audit import read_only as audit_read_only
from cloudlet.core.context import Context
from cloudlet.core.datadir import Store
from cloudlet.core.scheduler import Scheduler
from cloudlet.core.store import ServiceDB
from cloudlet.core.errors import ServiceError, not_implemented
from cloudlet.core.ids import request_id as new_request_id
from cloudlet.protocol import codec
from cloudlet.protocol.http import Request, Response
from cloudlet.protocol.model import OperationModel, load_service
from cloudlet.protocol.validate import validator
from cloudlet.server import routing
from cloudlet.server.config import Config
from cloudlet.server.logs import log_request
from cloudlet.services import registry

log = logging.getLogger("cloudlet.gateway")


class Gateway:
    """Everything a request needs that outlives it: settings, keys, the authorizer, the
    store and the audit log."""

    def __init__(
        self,
        config: Config,
        credentials: CredentialStore | None = None,
        authorizer: Authorizer | None = None,
        audit: AuditLog | None = None,
        store: Store | None = None,
    ) -> None:
        self.config = config
        self.credentials = credentials or CredentialStore()
        self.authorizer: Authorizer = authorizer or _authorizer(self, config)
        # keys IAM and STS issue live in their stores; asked only for their prefixes
        self.credentials.add_resolver(self._issued_key)
        self.audit = audit or AuditLog()
        self.store = store or Store(None if config.ephemeral else config.data_dir, config.durability)
        self.started = time.time()
        self.spool_dir = _spool_dir(None if config.ephemeral else config.data_dir)
        self.scheduler = Scheduler(self)  # its thread starts with the server (app.create_app)

    def _issued_key(self, access_key: str) -> Identity | None:
        if access_key.startswith("AKIA"):
            from cloudlet.services.iam import principals

            return principals.lookup_access_key(self, access_key)
        if access_key.startswith("ASIA"):
            from cloudlet.services.sts import sessions

            return sessions.lookup_session(self, access_key)
        return None

    def db(self, service: str) -> ServiceDB:
        """A service's database, its migrations applied on first use."""
        pkg = registry.package(service)
        return self.store.db(service, getattr(pkg, "MIGRATIONS", ()) if pkg is not None else ())

    async def handle(self, req: Request, client_ip: str = "127.0.0.1") -> Response:
        if req.method == "POST" and _is_form_upload(req):  # S3 browser upload: no model operation
            from cloudlet.services.s3 import postobject

            return await postobject.handle(self, req, client_ip)
        host = req.headers.get("host", "")
        if "s3-website" in host:  # an S3 website endpoint: not the API
            from cloudlet.services.s3 import website

            bucket = website.website_bucket(req.host)
            if bucket is not None:
                return website.serve_website(self, req, bucket)
        if ".lambda-url." in host:  # a Lambda function URL: not the API
            from cloudlet.services.lambda_ import funcurl

            served = await funcurl.serve(self, req, client_ip)
            if served is not None:
                return served
        start = time.perf_counter()
        rid = new_request_id()
        scope = credential_scope(req)
        route = routing.route(req, scope)
        if req.method == "OPTIONS" and (route is None or route.service == "s3"):  # a CORS preflight: unsigned
            from cloudlet.services.s3 import cors

            preflight = cors.preflight(self, route.request if route is not None else req)
            if preflight is not None:
                log_request(req.method, "s3", "PreflightRequest", preflight.status, start)
                return preflight
        if route is None:
            resp = _unroutable(req, rid)
            log_request(req.method, "-", "-", resp.status, start)
            return resp
        service = route.service
        protocol = route.protocol
        if req.stream is not None and service not in STREAMING_SERVICES:
            req = _materialized(req, route)
        enc = codec.encoder(service, protocol)
        op: OperationModel | None = None
        params: dict[str, Any] | None = None
        output: dict[str, Any] | None = None
        error: ServiceError | None = None
        identity = None
        try:
            identity, body_req = authenticate(
                req, route.request, service, protocol, self.credentials, self.config.verify_signatures, scope,
                strict=self.config.enforce_iam,
            )
            op, params = codec.decoder(service, protocol).decode(body_req)
            if identity is None:
                if not may_skip_signature(service, op.name, op.auth_type):
                    raise unsigned_refusal(service, protocol)
                identity = self.credentials.identity_for(None)
            ctx = Context(
                account=identity.account_id,
                region=route.region,
                principal_arn=identity.arn,
                access_key=identity.access_key,
                request_id=rid,
                service=service,
                operation=op.name,
                source_ip=client_ip,
                user_agent=req.headers.get("user-agent", ""),
                trace_header=req.headers.get("x-amzn-trace-id"),
                gateway=self,
            )
            output = self.dispatch(ctx, params)
            if inspect.isawaitable(output):
                output = await output
            resp = enc.encode(op, output or {}, rid)
        except ServiceError as err:
            error = err
            resp = enc.encode_error(op, err, rid)
        except Exception:  # a bug, never bad input: say where, answer 500
            log.exception("internal error in %s %s (request id %s)", service, op.name if op else "-", rid)
            error = ServiceError("InternalFailure", f"Internal error; request id {rid}.", 500)
            resp = enc.encode_error(op, error, rid)
        if service == "s3" and "origin" in req.headers:
            resp.headers.extend(_s3_cors(self, route.request, req))
        if req.method == "HEAD":
            resp.body = b""
            if resp.stream is not None:
                resp.stream.close()
                resp.stream = None
        if identity is None:
            identity = self.credentials.identity_for(scope.access_key if scope else None)
        self.record(
            service, route.region, op, params, output, error, rid,
            identity.account_id, identity.arn, identity.access_key, client_ip, req.headers.get("user-agent", ""),
        )
        log_request(req.method, service, op.name if op else "-", resp.status, start)
        return resp

    def dispatch(self, ctx: Context, params: dict[str, Any]) -> Any:
        """Validate, authorize and run the handler: the part HTTP and internal calls share.

        Returns the handler's output, or an awaitable of it for an async handler.
        """
        validator(ctx.service, ctx.operation)(params)
        self._authorize(ctx, ctx.operation, params)
        handler = registry.handler_for(ctx.service, ctx.operation)
        if handler is None:
            raise not_implemented(ctx.service, ctx.operation)
        return handler(ctx, params)

    def reset(self, service: str | None = None) -> None:
        """Wipe state (one service's, or all of it). The clock is kept: time never goes back."""
        metrics.flush(self)  # buffered samples land first, so the wipe takes them too
        self.store.reset(service)
        # caches of what the store held go with it
        for name in ([service] if service else ["sts", "iam", "organizations"]):
            pkg = registry.package(name)
            forget = getattr(pkg, "reset_caches", None) if pkg is not None else None
            if forget is not None:
                forget(self)
        if service is None:
            self.audit.clear()
        if service in (None, "lambda"):  # running sandboxes belong to the wiped functions
            from cloudlet.services.lambda_.runtime import existing_engine

            engine = existing_engine(self)
            if engine is not None:
                engine.shutdown()

    def _authorize(self, ctx: Context, operation: str, params: dict[str, Any]) -> None:
        if isinstance(self.authorizer, AllowAll):
            return  # the default allows all: skip building the request, keep the hot path lean
        pkg = registry.package(ctx.service)
        resolve = getattr(pkg, "resources", None) if pkg is not None else None
        resources = tuple(resolve(ctx, operation, params)) if resolve else ("*",)
        keys = _condition_hook(ctx.service)
        self.authorizer.authorize(
            AuthzRequest(
                principal_arn=ctx.principal_arn,
                account=ctx.account,
                service=ctx.service,
                operation=operation,
                actions=iam_actions(ctx.service, operation),
                resources=resources,
                conditions=condition_keys(ctx),
                region=ctx.region,
                access_key=ctx.access_key,
                principal_account=_principal_account(ctx.principal_arn) or ctx.account,
                service_keys={**_request_tags(params), **(keys(ctx, operation, params) if keys is not None else {})},
            )
        )

    def record(
        self,
        service: str,
        region: str,
        op: OperationModel | None,
        params: dict[str, Any] | None,
        output: dict[str, Any] | None,
        error: ServiceError | None,
        rid: str,
        account: str,
        principal_arn: str,
        access_key: str,
        source_ip: str,
        user_agent: str,
        internal: bool = False,
    ) -> None:
        """One audit event for one call (HTTP or internal)."""
        params, output = _audited(service, op, params, None if error else output)
        self.audit.record(
            Event(
                time=clock.time_s(),
                event_source=_event_source(service),
                event_name=op.name if op else "-",
                region=region,
                account=account,
                principal_arn=principal_arn,
                access_key=access_key,
                source_ip=source_ip,
                user_agent=user_agent,
                request_id=rid,
                request_parameters=params,
                response_elements=output,
                error_code=error.code if error else None,
                error_message=error.message if error else None,
                internal=internal,
            )
        )


@lru_cache(maxsize=None)
def _event_source(service: str) -> str:
    return f"{load_service(service).endpoint_prefix}.amazonaws.com"


def _request_tags(params: dict[str, Any]) -> dict[str, Any]:
    """aws:RequestTag/<key> and aws:TagKeys from the tags a call sets (a list of Key/Value
    pairs, or a map, as services differ)."""
    tags = params.get("Tags") or params.get("tags")
    if not tags:
        return {}
    if isinstance(tags, dict):
        pairs = [(str(k), str(v)) for k, v in tags.items()]
    elif isinstance(tags, list):
        pairs = [(t.get("Key") or t.get("key") or "", t.get("Value") or t.get("value") or "")
                 for t in tags if isinstance(t, dict)]
    else:
        return {}
    keys: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in pairs}
    keys["aws:TagKeys"] = [k for k, _ in pairs]
    return keys


def _principal_account(arn: str) -> str | None:
    """The account in an IAM or STS principal ARN (None for a service principal)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[2] in ("iam", "sts") and parts[4] else None


def condition_keys(ctx: Context) -> dict[str, Any]:
    """The global condition keys every request carries."""
    return {
        "aws:CurrentTime": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(clock.time_s()),
        "aws:SourceIp": ctx.source_ip,
        "aws:SecureTransport": False,
        "aws:RequestedRegion": ctx.region,
        "aws:UserAgent": ctx.user_agent,
        "aws:PrincipalArn": ctx.principal_arn,
        "aws:PrincipalAccount": ctx.account,
        **_source_keys(ctx),
    }


def _source_keys(ctx: Context) -> dict[str, Any]:
    """A service acting for a resource (an S3 notification, an EventBridge target) names it:
    resource policies match on aws:SourceArn / aws:SourceAccount."""
    if not ctx.source_arn:
        return {}
    parts = ctx.source_arn.split(":")
    account = parts[4] if len(parts) > 4 and parts[4] else ctx.account
    return {"aws:SourceArn": ctx.source_arn, "aws:SourceAccount": account}


def _authorizer(gateway: Gateway, config: Config) -> Authorizer:
    if not config.enforce_iam:
        return AllowAll()
    from cloudlet.auth.enforce import IamAuthorizer

    return IamAuthorizer(gateway)


@lru_cache(maxsize=None)
def _condition_hook(service: str) -> Callable[..., dict[str, Any]] | None:
    """A service's ``condition_keys(ctx, operation, params)``: its own IAM condition keys."""
    pkg = registry.package(service)
    return getattr(pkg, "condition_keys", None) if pkg is not None else None


@lru_cache(maxsize=None)
def _audit_hook(service: str) -> Callable[..., tuple[Any, Any]] | None:
    """A service's ``audit(operation, params, output)``: what its events keep of a call."""
    pkg = registry.package(service)
    return getattr(pkg, "audit", None) if pkg is not None else None


def _audited(service: str, op: OperationModel | None, params: dict[str, Any] | None,
             output: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """What an audit event keeps: no streamed payloads, no answer of a read-only call, and
    whatever the service's own hook leaves out."""
    if op is None:
        return params, None
    if audit_read_only(op.name):
        output = None
    hook = _audit_hook(service)
    if hook is not None:
        params, output = hook(op.name, params, output)
    return (_without_streams(op.input_shape, params, op.has_streaming_input),
            _without_streams(op.output_shape, output, op.has_streaming_output))


def _without_streams(shape: Any, values: dict[str, Any] | None, streaming: bool) -> dict[str, Any] | None:
    """Keep no large payloads alive in the audit ring: drop a streaming payload member."""
    if not streaming or values is None:
        return values
    name = shape.serialization.get("payload")
    if name and name in values:
        return {k: v for k, v in values.items() if k != name}
    return values


def _s3_cors(gw: Gateway, routed: Request, req: Request) -> list[tuple[str, str]]:
    """The CORS headers a browser needs on an S3 answer (errors included)."""
    from urllib.parse import unquote

    from cloudlet.services.s3 import cors

    bucket = unquote(routed.path.lstrip("/").split("/", 1)[0])
    return cors.cors_headers(gw, bucket, req.headers["origin"], req.method) if bucket else []


def _is_form_upload(req: Request) -> bool:
    return req.headers.get("content-type", "")[:19].lower() == "multipart/form-data"


#: Services whose operations take payloads too large to hold in memory (see app.SPOOL_AT)
STREAMING_SERVICES = frozenset({"s3"})


def _materialized(req: Request, route: routing.Route) -> Request:
    """Other services read their (document) bodies whole, as before."""
    body = req.stream.read_all() if req.stream is not None else req.body
    if route.request is not req and route.request.stream is req.stream:
        route.request.body, route.request.stream = body, None
    req.body, req.stream = body, None
    return req


def _spool_dir(data_dir: str | None) -> str | None:
    """Where large bodies are spooled: ``<data-dir>/tmp`` (emptied at start: what is left
    there was never acknowledged), or the system's temp directory when ephemeral."""
    if data_dir is None:
        return None
    path = os.path.join(data_dir, "tmp")
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        try:
            os.unlink(os.path.join(path, name))
        except OSError:
            pass
    return path


def _unroutable(req: Request, rid: str) -> Response:
    body = (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>UnknownService</Code>"
        "<Message>cloudlet could not tell which AWS service this request is for: sign it with "
        "SigV4, or send X-Amz-Target, an Action parameter, or a service path.</Message>"
        f"<RequestId>{rid}</RequestId></Error>"
    ).encode()
    return Response(400, [("content-type", "application/xml"), ("x-amzn-requestid", rid)], body)

