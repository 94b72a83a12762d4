"""CORS: a bucket's rules checked as PutBucketCors checks them, and applied as S3
applies them: to ``OPTIONS`` preflight requests (answered from the rules, never
dispatched as an operation) and to actual requests carrying an ``Origin``.

What S3 does ("Elements of a CORS configuration", "Troubleshooting CORS", the
``OPTIONS object`` API page):

- The first rule whose AllowedOrigin, AllowedMethod and (for a preflight) every one of
  Access-Control-Request-Headers match decides; there is no merging of rules.
- An AllowedOrigin or AllowedHeader may hold one ``*`` wildcard. Origins compare
  case-sensitively, header names case-insensitively.
- A rule listing the literal origin ``*`` answers ``Access-Control-Allow-Origin: *``
  without ``Access-Control-Allow-Credentials``; any other match echoes the origin and
  allows credentials.
- ``Access-Control-Allow-Methods`` lists the rule's methods; ``-Allow-Headers`` echoes
  the requested headers (lower-cased); ``Vary`` names the three request headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from cloudlet.core.errors import ServiceError
from cloudlet.core.ids import request_id
from cloudlet.protocol.http import Request, Response
from cloudlet.services.s3 import errors, storage

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway

METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_RULES = 100
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
    "by the resource's CORS spec."
)

Rule = dict[str, Any]


# the configuration ------------------------------------------------------------------------
def validate(cfg: dict[str, Any]) -> list[Rule]:
    """The rules of a PutBucketCors ``CORSConfiguration``, or S3's error for them.
    Structure first (MalformedXML), then each rule's values (InvalidRequest)."""
    rules = cfg.get("CORSRules") or []
    if not rules or len(rules) > MAX_RULES:
        raise errors.malformed_xml()
    for rule in rules:
        if not rule.get("AllowedOrigins") or not rule.get("AllowedMethods"):
            raise errors.malformed_xml()
        if len(rule.get("ID") or "") > 255:
            raise errors.malformed_xml()
        age = rule.get("MaxAgeSeconds")
        if age is not None and not 0 <= age <= 2**31 - 1:
            raise errors.malformed_xml()
    for rule in rules:
        for method in rule["AllowedMethods"]:
            if method not in METHODS:
                raise errors.invalid_request(f"Found unsupported HTTP method in CORS config. Unsupported method is {method}")
        for origin in rule["AllowedOrigins"]:
            if origin.count("*") > 1:
                raise errors.invalid_request(f'AllowedOrigin "{origin}" can not have more than one wildcard.')
        for header in rule.get("AllowedHeaders") or ():
            if header.count("*") > 1:
                raise errors.invalid_request(f'AllowedHeader "{header}" can not have more than one wildcard.')
        for header in rule.get("ExposeHeaders") or ():
            if "*" in header:
                raise errors.invalid_request(
                    f'ExposeHeader "{header}" contains wildcard. We currently do not support wildcard for ExposeHeader.'
                )
    return rules


# matching ---------------------------------------------------------------------------------
def _wild(pattern: str, value: str) -> bool:
    """One optional ``*`` standing for any run of characters (the two ends may not overlap)."""
    star = pattern.find("*")
    if star < 0:
        return pattern == value
    head, tail = pattern[:star], pattern[star + 1:]
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def match(rules: list[Rule], origin: str, method: str, headers: list[str] | None = None) -> tuple[Rule, str] | None:
    """(the first rule allowing the request, the Access-Control-Allow-Origin to answer)."""
    for rule in rules:
        allowed = rule.get("AllowedOrigins") or []
        if not any(_wild(o, origin) for o in allowed):
            continue
        if method not in (rule.get("AllowedMethods") or ()):
            continue
        if headers:
            patterns = [h.strip().lower() for h in rule.get("AllowedHeaders") or ()]
            if not all(any(_wild(p, h) for p in patterns) for h in headers):
                continue
        return rule, "*" if "*" in allowed else origin
    return None


def response_headers(rule: Rule, allow_origin: str, requested: list[str] | None = None) -> list[tuple[str, str]]:
    """The Access-Control-* headers of an answer the rule allows, in S3's order."""
    out = [
        ("Access-Control-Allow-Origin", allow_origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.get("AllowedMethods") or ())),
    ]
    if requested:
        out.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    if rule.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        out.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    if allow_origin != "*":
        out.append(("Access-Control-Allow-Credentials", "true"))
    out.append(("Vary", VARY))
    return out


def _rules(gateway: "Gateway", bucket: str) -> list[Rule] | None:
    with gateway.db(storage.SERVICE).tx("", "") as t:
        if storage.find_bucket(t, bucket) is None:
            raise errors.no_such_bucket(bucket)
        cfg = storage.get_config(t, bucket, "cors")
    return None if cfg is None else list(cfg.get("CORSRules") or [])


# what the gateway calls ---------------------------------------------------------------------
def cors_headers(gateway: "Gateway", bucket: str, origin: str | None, method: str) -> list[tuple[str, str]]:
    """The CORS headers S3 adds to an actual (non-preflight) request's answer: those of the
    first rule allowing `origin` and `method`; none without an Origin or a match."""
    if not origin or not bucket:
        return []
    try:
        rules = _rules(gateway, bucket)
    except ServiceError:
        return []
    found = match(rules or [], origin, method)
    return [] if found is None else response_headers(found[0], found[1])


def preflight(gateway: "Gateway", req: Request) -> Response | None:
    """Answer an ``OPTIONS`` request to a path-style ``/<bucket>[/<key>]`` the way S3
    answers a CORS preflight; None for anything else (not OPTIONS, no bucket)."""
    if req.method != "OPTIONS":
        return None
    path = req.path.lstrip("/")
    bucket, _, key = path.partition("/")
    bucket = unquote(bucket)
    if not bucket:
        return None
    rid = request_id()
    resource = "OBJECT" if key else "BUCKET"
    headers = req.headers
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    try:
        if not origin:
            raise ServiceError("BadRequest", "Insufficient information. Origin request header needed.", 400)
        if method not in METHODS:
            shown = "null" if method is None else method
            raise ServiceError("BadRequest", f"Invalid Access-Control-Request-Method: {shown}", 400)
        requested = [h.strip().lower() for h in (headers.get("access-control-request-headers") or "").split(",")]
        requested = [h for h in requested if h]
        rules = _rules(gateway, bucket)
        if rules is None:
            raise _forbidden(NOT_ENABLED, method, resource)
        found = match(rules, origin, method, requested)
        if found is None:
            raise _forbidden(NOT_ALLOWED, method, resource)
    except ServiceError as err:
        return _error(err, rid)
    from cloudlet.protocol.encode.restxml import s3_request_ids

    out = [*s3_request_ids(rid), *response_headers(found[0], found[1], requested), ("Content-Length", "0")]
    return Response(200, out, b"")


def _forbidden(message: str, method: str, resource: str) -> ServiceError:
    return ServiceError("AccessForbidden", message, 403, fields={"Method": method, "ResourceType": resource})


def _error(err: ServiceError, rid: str) -> Response:
    from cloudlet.protocol import codec

    return codec.encoder("s3", "rest-xml").encode_error(None, err, rid)
