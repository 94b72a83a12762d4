"""Which service (botocore directory name) a request is for, the way AWS endpoints decide.

Rules, cheapest first; each is a dict lookup in the precomputed index
(:mod:`cloudlet.protocol.index`) and only an ambiguous case loads a model:

1. ``X-Amz-Target: <prefix>.<Op>`` -> the service with that target prefix (json protocol).
2. ``Smithy-Protocol: rpc-v2-cbor`` and ``/service/<Name>/operation/<Op>`` -> the service
   whose target prefix is ``<Name>`` (botocore puts ``metadata.targetPrefix`` there).
3. SigV4 credential scope service -> the services signing with that name; when several
   share it (``s3``: s3 and s3control; ``bedrock``: six services...) by the query
   ``Action`` and ``Version``, by s3control's ``x-amz-account-id``/``/v20180820/``, by
   which REST router matches most specifically, then by :data:`DEFAULTS`.
4. Unsigned query ``Action=`` (query string or form body) -> the service with that action.
5. Host: ``<bucket>.s3.<anything>`` / ``<bucket>.s3-<region>.…`` -> s3 (virtual host);
   ``<endpointPrefix>.<region|amazonaws|localhost>.…`` -> that service;
   ``<bucket>.localhost`` -> s3 (virtual host).
6. Unsigned path style: the longest literal REST path prefix in the index
   (``/2015-03-31/functions`` -> lambda), else s3 for anything shaped ``/<bucket>[/key]``.

An S3 virtual-host request is handed on rewritten to path style (``/<bucket>/<key>``) so
one decoder serves both addressing styles. The region is the credential scope's, else
the Host's (``sqs.eu-west-1.amazonaws.com``), else ``us-east-1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import unquote_plus

from cloudlet.auth.scope import Scope, credential_scope
from cloudlet.protocol.decode import wire_protocol
from cloudlet.protocol.http import Request
from cloudlet.protocol.index import Index, ServiceInfo, load_index
from cloudlet.protocol.model import load_service
from cloudlet.protocol.rest_router import RestRouter

__all__ = ["Route", "route", "DEFAULT_REGION", "DEFAULTS", "rest_router"]

DEFAULT_REGION = "us-east-1"
REST = frozenset(("rest-json", "rest-xml"))

# Where services share a signing name (or target prefix) and nothing on the wire tells
# them apart, the one that answers. docdb and neptune are the rds API on the rds endpoint
# (same actions, same Version): AWS serves them as rds, and so do we.
DEFAULTS: dict[str, str] = {
    "rds": "rds",
    "elasticloadbalancing": "elbv2",
    "execute-api": "apigatewaymanagementapi",
    "aws-marketplace": "marketplace-catalog",
    "cassandra": "keyspaces",
    "connect-campaigns": "connectcampaignsv2",
    "lex": "lexv2-models",
    "sms-voice": "pinpoint-sms-voice",
    "wisdom": "qconnect",
    "timestream": "timestream-write",
    "mgh": "mgh",
    # Legacy Amazon Chime's phone-number API lives on in chime-sdk-voice; Greengrass v1
    # is in maintenance: where the requests are identical, the current service answers.
    "chime": "chime-sdk-voice",
    "greengrass": "greengrassv2",
}

# Signing names no model states: S3 Express (directory buckets), S3 on Outposts and
# S3 Object Lambda sign as these but speak the s3 / s3control APIs.
_SIGNING_ALIASES = {"s3express": "s3", "s3-outposts": "s3", "s3-object-lambda": "s3"}

# us-east-1, ap-southeast-7, us-gov-west-1, us-isob-east-1, eusc-de-east-1; also at the
# end of a label (s3-us-west-2, s3-website-eu-west-1).
_REGION = re.compile(
    r"(?:^|-)([a-z]{2,4}(?:-(?:gov|iso[a-z]?|[a-z]{2}))?-(?:north|south|east|west|central)+-\d{1,2})$"
)
_BUCKET_PATH = re.compile(r"/[A-Za-z0-9][A-Za-z0-9._-]{0,254}(?:/.*)?", re.DOTALL)
_ACCOUNT_HOST = re.compile(r"\d{12}\.")
_ADMIN_PREFIX = "/_cloudlet/"
# An unsigned path like "/tags/x" fits 100+ services: rather than load them all, give up
# on it (it then routes as an S3 bucket path, the usual unsigned request).
_MAX_UNSIGNED_CANDIDATES = 8


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes: `service` (botocore name), `region`, the `request` to decode
    (path-style for S3 virtual-host requests) and the wire `protocol` the client used
    (``json`` for an X-Amz-Target call to a cbor-first service, ``query`` for a form post
    to a query-compatible one...)."""

    service: str
    region: str
    request: Request
    protocol: str


def route(req: Request, scope: Scope | None = None) -> Route | None:
    """The service, region and decodable request for `req`, or None if nothing fits."""
    path = req.path
    if path.startswith(_ADMIN_PREFIX):
        return None
    idx = load_index()
    headers = req.headers
    if scope is None:  # the gateway passes the scope it already read
        scope = credential_scope(req) or _sigv4a_scope(req)

    target = headers.get("x-amz-target")
    if target:
        prefix, _, op = target.rpartition(".")
        names = idx.by_target_prefix.get(prefix)
        if names:
            name = names[0] if len(names) == 1 else _by_operation(idx, names, op)
            return Route(name, _region(req, scope), req, "json")

    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        i = path.rfind("/service/")
        if i >= 0:
            parts = path[i + 9 :].split("/")
            if len(parts) == 3 and parts[1] == "operation":
                names = idx.by_target_prefix.get(parts[0])
                if names:
                    name = names[0] if len(names) == 1 else _by_operation(idx, names, parts[2])
                    return Route(name, _region(req, scope), req, "smithy-rpc-v2-cbor")

    if scope is not None:
        signing = scope.service
        names = idx.by_signing_name.get(signing)
        alias = _SIGNING_ALIASES.get(signing)
        if alias is not None:
            names = (names or ()) + idx.by_signing_name[alias]
        if names:
            name = names[0] if len(names) == 1 else _disambiguate(idx, names, req, signing)
            return _finish(idx, name, req, scope.region or None)

    return _unsigned(idx, req, scope)


def _finish(idx: Index, name: str, req: Request, region: str | None, host_bucket: bool = True) -> Route:
    info = idx.services[name]
    if name == "s3" and host_bucket:
        host, labels = _host_labels(req.host)
        bucket = _s3_bucket(host, labels)
        if bucket is not None and not _is_write_get_object_response(req):
            path = req.path
            req = replace(req, path=f"/{bucket}" if path in ("", "/") else f"/{bucket}{path}")
    elif name == "cloudsearchdomain":
        req = _search_as_get(req)
    if not region:
        region = _host_region(req.host) or DEFAULT_REGION
    return Route(name, region, req, _wire_protocol(info, req))


def _search_as_get(req: Request) -> Request:
    """botocore POSTs CloudSearch ``Search`` with its query string as a form body; the
    model says GET with a query string. Hand the decoder what the model says."""
    if (
        req.method == "POST"
        and req.path.endswith("/search")
        and req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    ):
        body = req.body.decode("utf-8", "replace")
        query = f"{req.query}&{body}" if req.query else body
        return replace(req, method="GET", query=query, body=b"")
    return req


def _wire_protocol(info: ServiceInfo, req: Request) -> str:
    return wire_protocol(info.protocols, info.query_compatible, req)


def _region(req: Request, scope: Scope | None) -> str:
    if scope is not None and scope.region:
        return scope.region
    return _host_region(req.host) or DEFAULT_REGION


# --- disambiguation -----------------------------------------------------------------


def _disambiguate(idx: Index, names: tuple[str, ...], req: Request, signing_name: str) -> str:
    """One of several services sharing a signing name, by what the request itself says."""
    if "s3" in names:
        if "s3outposts" in names and req.path.startswith("/S3Outposts/"):
            return "s3outposts"
        return "s3control" if _is_s3control(req) else "s3"
    action = _action(req)
    if action is not None:
        with_action = [n for n in names if n in idx.by_action.get(action, ())]
        if with_action:
            return _by_version(idx, with_action, req, signing_name)
    # No Action: not a query call. No X-Amz-Target (rule 1 saw none): not a json call.
    rest = [n for n in names if idx.services[n].protocol in REST]
    if len(rest) == 1:
        return rest[0]
    best = _best_rest_match(idx, rest, req)
    if best is not None:
        return best
    return _default(names, signing_name)


def _default(names: tuple[str, ...] | list[str], key: str) -> str:
    preferred = DEFAULTS.get(key)
    if preferred in names:
        return preferred  # type: ignore[return-value]
    if key in names:
        return key
    return names[0]


def _by_version(idx: Index, names: list[str], req: Request, key: str) -> str:
    if len(names) == 1:
        return names[0]
    version = _param(req, "Version")
    if version is not None:
        same = [n for n in names if idx.services[n].api_version == version]
        if len(same) == 1:
            return same[0]
        if same:
            names = same
    return _default(names, key)


def _by_operation(idx: Index, names: tuple[str, ...], op: str) -> str:
    """Services sharing a target prefix (timestream query/write): the one with `op`."""
    having = [n for n in names if op in load_service(n).operation_names]
    if len(having) == 1:
        return having[0]
    key = idx.services[names[0]].signing_name
    return _default(having or names, key)


@lru_cache(maxsize=None)
def rest_router(name: str) -> RestRouter:
    """The compiled REST router of one service, built on first use."""
    return RestRouter(load_service(name))


def _best_rest_match(idx: Index, names: list[str], req: Request) -> str | None:
    """The REST service whose router matches `req` most specifically (ties: DEFAULTS)."""
    scored: list[tuple[int, str]] = []
    for name in names:
        hit = rest_router(name).match_scored(req.method, req.path, req.query, req.headers)
        if hit is not None:
            scored.append((hit[2], name))
    if not scored:
        return None
    top = max(score for score, _ in scored)
    best = [name for score, name in scored if score == top]
    return best[0] if len(best) == 1 else _default(best, idx.services[best[0]].signing_name)


def _is_s3control(req: Request) -> bool:
    if "x-amz-account-id" in req.headers or req.path.startswith("/v20180820/"):
        return True
    host = req.host
    return ".s3-control." in host or (_ACCOUNT_HOST.match(host) is not None and "/v20180820" in req.path)


def _is_write_get_object_response(req: Request) -> bool:
    return req.path == "/WriteGetObjectResponse" and "x-amz-request-route" in req.headers


def _sigv4a_scope(req: Request) -> Scope | None:
    """SigV4a (``AWS4-ECDSA-P256-SHA256``) scopes name no region: ``AKID/date/service/aws4_request``.

    The region comes from ``X-Amz-Region-Set`` when it names exactly one, else it is left
    empty for the Host or the default to decide.
    """
    auth = req.headers.get("authorization")
    if auth is not None:
        if not auth.startswith("AWS4-ECDSA-P256-SHA256"):
            return None
        i = auth.find("Credential=")
        cred = auth[i + 11 :].split(",", 1)[0].strip() if i >= 0 else ""
        region_set = req.headers.get("x-amz-region-set", "")
    elif "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256" in req.query:
        cred = _find_param(req.query, "X-Amz-Credential") or ""
        region_set = _find_param(req.query, "X-Amz-Region-Set") or ""
    else:
        return None
    parts = cred.split("/")
    if len(parts) != 4 or parts[3] != "aws4_request":
        return None
    region = region_set if region_set and "," not in region_set and "*" not in region_set else ""
    return Scope(parts[0], parts[1], region, parts[2])


# --- request parameters ---------------------------------------------------------------


def _param(req: Request, name: str) -> str | None:
    """A query-protocol parameter from the query string or a form-encoded body."""
    value = _find_param(req.query, name)
    if value is not None:
        return value
    ctype = req.headers.get("content-type", "")
    if req.body and ctype.startswith("application/x-www-form-urlencoded"):
        try:
            body = req.body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return _find_param(body, name)
    return None


def _find_param(qs: str, name: str) -> str | None:
    if not qs:
        return None
    key = name + "="
    i = 0
    while True:
        i = qs.find(key, i)
        if i < 0:
            return None
        if i == 0 or qs[i - 1] == "&":
            end = qs.find("&", i)
            raw = qs[i + len(key) : end if end >= 0 else None]
            return unquote_plus(raw) if ("%" in raw or "+" in raw) else raw
        i += len(key)


def _action(req: Request) -> str | None:
    return _param(req, "Action")


# --- hosts ----------------------------------------------------------------------------


def _host_labels(host: str) -> tuple[str, list[str]]:
    host = host.lower()
    if host.startswith("["):  # IPv6 literal: no names in it
        return host, []
    host = host.rsplit(":", 1)[0] if ":" in host else host
    return host, host.split(".") if host else []


def _is_ip(labels: list[str]) -> bool:
    return len(labels) == 4 and all(label.isdigit() for label in labels)


def _s3_label(label: str) -> bool:
    if label == "s3" or label.startswith("s3express"):
        return True
    return label.startswith("s3-") and not label.startswith("s3-control")


def _s3_bucket(host: str, labels: list[str]) -> str | None:
    """The bucket named by a virtual-host style Host, if any."""
    if len(labels) < 2 or _is_ip(labels):
        return None
    for i in range(len(labels) - 1, 0, -1):
        if _s3_label(labels[i]):
            return ".".join(labels[:i])
    if labels[-1] == "localhost" and host != "s3.localhost":
        return ".".join(labels[:-1])
    return None


def _s3_label_index(labels: list[str]) -> int:
    for i in range(len(labels) - 1, 0, -1):
        if _s3_label(labels[i]):
            return i
    return -1


def _host_region(host: str) -> str | None:
    _, labels = _host_labels(host)
    if len(labels) < 2 or _is_ip(labels):
        return None
    # Skip the bucket or service labels in front: "logs-eu-west-1.s3.…" is a bucket name.
    start = _s3_label_index(labels)
    for label in labels[start if start > 0 else 1 :]:
        m = _REGION.search(label)
        if m is not None:
            return m.group(1)
    return None


def _endpoint_services(idx: Index, labels: list[str]) -> tuple[str, ...] | None:
    """Services whose endpoint prefix leads the Host (``sqs.eu-west-1.…``, ``iam.amazonaws.com``),
    after up to two labels of an operation's host prefix (``api.iottwinmaker.…``)."""
    for offset in (0, 1, 2):
        for k in (1, 2, 3):
            end = offset + k
            if len(labels) <= end:
                break
            names = idx.by_endpoint_prefix.get(".".join(labels[offset:end]))
            if names is None:
                continue
            nxt = labels[end]
            if nxt in ("amazonaws", "localhost") or _REGION.search(nxt):
                return names
    return None


# --- unsigned requests -----------------------------------------------------------------


def _unsigned(idx: Index, req: Request, scope: Scope | None) -> Route | None:
    region = (scope.region or None) if scope is not None else None
    action = _action(req)
    if action is not None:
        names = idx.by_action.get(action)
        if names:
            host, labels = _host_labels(req.host)
            by_host = _endpoint_services(idx, labels) if labels else None
            if by_host:
                narrowed = [n for n in names if n in by_host]
                if narrowed:
                    names = tuple(narrowed)
            name = names[0] if len(names) == 1 else _by_version(idx, list(names), req, idx.services[names[0]].signing_name)
            return _finish(idx, name, req, region)

    host, labels = _host_labels(req.host)
    if labels and not _is_ip(labels):
        if _s3_label_index(labels) > 0:
            return _finish(idx, "s3", req, region)
        names = _endpoint_services(idx, labels)
        if names:
            if len(names) == 1:
                name = names[0]
            else:
                name = _best_rest_match(idx, [n for n in names if idx.services[n].protocol in REST], req) or _default(
                    names, idx.services[names[0]].signing_name
                )
            return _finish(idx, name, req, region, host_bucket=False)
        if labels[-1] == "localhost" and len(labels) > 1:
            return _finish(idx, "s3", req, region)

    by_path = _by_path_prefix(idx, req)
    if by_path is not None:
        return _finish(idx, by_path, req, region, host_bucket=False)
    if req.path == "/" or _BUCKET_PATH.fullmatch(req.path):
        return _finish(idx, "s3", req, region, host_bucket=False)
    return None


def _by_path_prefix(idx: Index, req: Request) -> str | None:
    """The REST service owning the longest literal path prefix the request starts with."""
    path = req.path.rstrip("/")
    table = idx.by_path_prefix
    while path:
        names = table.get(path)
        if names is not None:
            if len(names) == 1:
                return names[0]
            if len(names) <= _MAX_UNSIGNED_CANDIDATES:
                return _best_rest_match(idx, list(names), req)
            return None
        path = path[: path.rfind("/")]
    return None
