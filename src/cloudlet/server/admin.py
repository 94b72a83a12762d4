"""The admin API under /_cloudlet/ (not AWS): health, reset, clock, audit."""

from __future__ import annotations

import datetime as dt
import time
from importlib import import_module
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from cloudlet import __version__
from cloudlet.core import clock
from cloudlet.protocol.http import Request, Response

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway

PREFIX = "/_cloudlet/"


def handle(gw: "Gateway", req: Request) -> Response:
    name = req.path[len(PREFIX) :].strip("/")
    if req.method == "GET" and name.startswith("lambda/code/"):  # GetFunction's Code.Location
        return _lambda_code(gw, name[len("lambda/code/"):])
    route = _ROUTES.get((req.method, name))
    if route is None:
        known = sorted({n for _, n in _ROUTES})
        return _json({"error": f"no admin endpoint {req.method} {req.path}", "endpoints": known}, 404)
    try:
        return route(gw, req)
    except (ValueError, TypeError, KeyError) as err:
        return _json({"error": str(err)}, 400)


def _lambda_code(gw: "Gateway", sha_hex: str) -> Response:
    """A Lambda deployment package (or layer) by its SHA-256: where GetFunction points."""
    from cloudlet.services.lambda_ import code

    data = code.read_zip(gw.db("lambda"), sha_hex) if sha_hex.isalnum() else None
    if data is None:
        return _json({"error": f"no Lambda code package {sha_hex}"}, 404)
    return Response(200, [("content-type", "application/zip")], data)


def _json(data: Any, status: int = 200) -> Response:
    return Response(status, [("content-type", "application/json")], orjson.dumps(data))


def _body(req: Request) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    try:
        data = orjson.loads(req.body)
    except orjson.JSONDecodeError as err:
        raise ValueError(f"body is not JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def health(gw: "Gateway", req: Request) -> Response:
    from cloudlet.services.registry import implemented_index

    return _json(
        {
            "status": "running",
            "version": __version__,
            "uptime_s": round(time.time() - gw.started, 3),
            "services": implemented_index(),
            "data_dir": None if gw.config.ephemeral else gw.config.data_dir,
            "ephemeral": gw.config.ephemeral,
            "verify_signatures": gw.config.verify_signatures,
            "iam": _iam_state(gw),
            "clock": _clock_state(),
            **_lambda_state(gw),
        }
    )


def _lambda_state(gw: "Gateway") -> dict[str, Any]:
    """The Lambda engine's interpreters and sandboxes, if one was started (never starts one)."""
    from cloudlet.services.lambda_.runtime import existing_engine

    engine = existing_engine(gw)
    return {"lambda": engine.status()} if engine is not None else {}


def _iam_state(gw: "Gateway") -> dict[str, Any]:
    """Whether calls are authorized, and how many were allowed and refused."""
    counters = getattr(gw.authorizer, "counters", None)
    out: dict[str, Any] = {"enforced": counters is not None}
    if counters is not None:
        out.update(allowed=counters.allowed, denied=counters.denied)
    return out


def _clock_state(gw: "Gateway | None" = None) -> dict[str, Any]:
    c = gw.scheduler.clock if gw is not None else clock.DEFAULT
    return {"now": c.now().isoformat().replace("+00:00", "Z"), "offset_s": c.offset()}


def get_clock(gw: "Gateway", req: Request) -> Response:
    return _json(_clock_state(gw))


def post_clock(gw: "Gateway", req: Request) -> Response:
    """Move the clock forward; answers once the jobs due by the new time have run (or
    after `wait` seconds, default 30: then `pending` says how many are still to run)."""
    data = _body(req)
    wait = data.get("wait", clock.DEFAULT_WAIT_S)
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait <= 3600:
        raise ValueError("wait is a number of seconds from 0 to 3600")
    c = gw.scheduler.clock
    if "advance" in data:
        c.advance(data["advance"], wait=float(wait))
    elif "set" in data:
        try:
            when = dt.datetime.fromisoformat(str(data["set"]).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"set takes an ISO-8601 time, not {data['set']!r}") from None
        c.set_to(when, wait=float(wait))
    else:
        raise ValueError('POST {"advance": seconds} or {"set": "ISO-8601 time"}')
    return _json({**_clock_state(gw), "pending": gw.scheduler.pending()})


def reset(gw: "Gateway", req: Request) -> Response:
    service = parse_qs(req.query).get("service", [None])[0]
    gw.reset(service)
    return _json({"reset": service or "all"})


def audit(gw: "Gateway", req: Request) -> Response:
    q = {k: v[-1] for k, v in parse_qs(req.query).items()}
    events = gw.audit.query(
        account=q.get("account"),
        region=q.get("region"),
        event_source=q.get("eventSource"),
        event_name=q.get("eventName"),
        limit=int(q.get("limit", 50)),
    )
    return _json({"events": events})


def flush(gw: "Gateway", req: Request) -> Response:
    """Write buffered state (metrics) to the store now, e.g. before reading the data dir."""
    from cloudlet.core import metrics

    metrics.flush(gw)
    return _json({"flushed": True})


def oidc_keys(gw: "Gateway", req: Request) -> Response:
    """Register an OIDC issuer's signing keys (its JWKS): cloudlet has no network to fetch them,
    and AssumeRoleWithWebIdentity verifies tokens against them."""
    from cloudlet.services.sts import webidentity

    body = _body(req)
    return _json({"keys": webidentity.register_jwks(gw, body["issuer"], body["jwks"])})


_ROUTES = {
    ("GET", "health"): health,
    ("GET", "clock"): get_clock,
    ("POST", "clock"): post_clock,
    ("POST", "reset"): reset,
    ("POST", "flush"): flush,
    ("GET", "audit"): audit,
    ("GET", "sns/cert.pem"): lambda gw, req: import_module("cloudlet.services.sns.admin_api").cert_pem(gw, req),
    ("GET", "outbox"): lambda gw, req: import_module("cloudlet.services.sns.admin_api").outbox_entries(gw, req),
    ("POST", "sts/oidc-keys"): lambda gw, req: oidc_keys(gw, req),
    ("GET", "lambda/logs"): lambda gw, req: import_module("cloudlet.services.lambda_.logsink").admin_logs(gw, req),
}
