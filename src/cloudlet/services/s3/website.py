"""Static website hosting: a bucket's website configuration checked as PutBucketWebsite
checks it, and served as S3's website endpoint serves it.

What the endpoint does ("Hosting a static website", "Configuring an index document",
"Configuring a custom error document", "Setting up redirects"):

- Only GET and HEAD; answers are HTML, never the REST API's XML errors.
- ``RedirectAllRequestsTo`` sends every request on with a 301, path kept.
- Routing rules are tried in order: one without ``HttpErrorCodeReturnedEquals`` before
  the object is looked up, one with it after the lookup failed with that code; a rule
  answers a redirect (301 unless it says otherwise) to its host, protocol and key.
- ``/`` and ``folder/`` serve the index document under them. ``folder`` (no slash) that
  is no object but has ``folder/<index>`` answers 302 to ``/folder/``.
- An object with ``x-amz-website-redirect-location`` answers 301 to it.
- A failed request answers the error document with the error's status (404, 403...),
  or S3's HTML error page; one more section says so when the error document itself
  could not be read.
"""

from __future__ import annotations

import html
import re
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.ids import request_id
from cloudlet.protocol.http import Request, Response
from cloudlet.services.s3 import conditions, encryption, errors, payload, reads, storage

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway

MAX_ROUTING_RULES = 50
_HOSTS = (
    # <bucket>.s3-website-<region>.amazonaws.com and <bucket>.s3-website.<region>.amazonaws.com
    re.compile(r"(?P<bucket>.+)\.s3-website[.-][a-z0-9-]+\.amazonaws\.com(?:\.cn)?"),
    re.compile(r"(?P<bucket>.+)\.s3-website\.localhost"),
)
_TITLES = {301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 412: "Precondition Failed",
           416: "Requested Range Not Satisfiable", 500: "Internal Server Error"}
_HTML = "text/html; charset=utf-8"


# the configuration ------------------------------------------------------------------------
def validate(cfg: dict[str, Any]) -> None:
    """A PutBucketWebsite ``WebsiteConfiguration``, refused as S3 refuses it."""
    redirect_all = cfg.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        if cfg.get("IndexDocument") or cfg.get("ErrorDocument") or cfg.get("RoutingRules"):
            raise errors.malformed_xml()
        if not redirect_all.get("HostName"):
            raise errors.invalid_request('A host name must be provided to redirect all requests (e.g. "example.com").')
        _check_protocol(redirect_all.get("Protocol"))
        return
    index = cfg.get("IndexDocument")
    if not index:
        raise errors.invalid_argument(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty", "IndexDocument", "null"
        )
    suffix = index.get("Suffix") or ""
    if not suffix or "/" in suffix:
        raise errors.invalid_argument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
    error_doc = cfg.get("ErrorDocument")
    if error_doc is not None and not error_doc.get("Key"):
        raise errors.malformed_xml()
    rules = cfg.get("RoutingRules")
    if rules is None:
        return
    if not rules:
        raise errors.malformed_xml()
    if len(rules) > MAX_ROUTING_RULES:
        raise errors.invalid_request(
            f"{len(rules)} routing rules provided, the number of routing rules in a website configuration is "
            f"limited to {MAX_ROUTING_RULES}."
        )
    for rule in rules:
        condition = rule.get("Condition")
        if condition is not None:
            if not condition.get("KeyPrefixEquals") and not condition.get("HttpErrorCodeReturnedEquals"):
                raise errors.invalid_request(
                    "Condition cannot be empty. To redirect all requests without a condition, the condition element "
                    "shouldn't be present."
                )
            code = condition.get("HttpErrorCodeReturnedEquals")
            if code is not None and not (code.isdigit() and 400 <= int(code) <= 599):
                raise errors.invalid_request(f"The provided HTTP error code ({code}) is not valid. Valid codes are 4XX or 5XX.")
        redirect = rule.get("Redirect") or {}
        if redirect.get("ReplaceKeyWith") is not None and redirect.get("ReplaceKeyPrefixWith") is not None:
            raise errors.invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
        code = redirect.get("HttpRedirectCode")
        if code is not None and not (code.isdigit() and 301 <= int(code) <= 399):
            raise errors.invalid_request(
                f"The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300."
            )
        _check_protocol(redirect.get("Protocol"))


def _check_protocol(protocol: str | None) -> None:
    if protocol is not None and protocol not in ("http", "https"):
        raise errors.invalid_argument(
            "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected "
            "automatically.",
            "Protocol",
            protocol,
        )


# the endpoint -----------------------------------------------------------------------------
def website_bucket(host: str) -> str | None:
    """The bucket a website endpoint Host names: ``<bucket>.s3-website-<region>.amazonaws.com``,
    ``<bucket>.s3-website.<region>.amazonaws.com`` or, locally, ``<bucket>.s3-website.localhost``
    (any port); None for any other host."""
    host = host.strip().lower()
    if host.startswith("["):
        return None
    host = host.rsplit(":", 1)[0] if ":" in host else host
    for pattern in _HOSTS:
        m = pattern.fullmatch(host)
        if m is not None:
            return m.group("bucket")
    return None


class _Failed(Exception):
    """A request the endpoint answers with an error (and maybe the error document)."""

    def __init__(self, status: int, code: str, message: str, fields: list[tuple[str, str]] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []


def serve_website(gateway: "Gateway", req: Request, bucket: str) -> Response:
    """Answer a request to `bucket`'s website endpoint. `req.path` is the request's own
    path (``/`` or ``/<key>``, percent-encoded), not the path-style rewrite."""
    rid = request_id()
    head = req.method == "HEAD"
    if req.method not in ("GET", "HEAD"):
        return _page(405, rid, head, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                     [("Method", req.method), ("ResourceType", "OBJECT")])
    key = unquote(req.path.lstrip("/"))
    with gateway.db(storage.SERVICE).tx("", "") as t:
        b = storage.find_bucket(t, bucket)
        cfg = storage.get_config(t, bucket, "website") if b is not None else None
    if b is None:
        return _page(404, rid, head, "NoSuchBucket", "The specified bucket does not exist", [("BucketName", bucket)])
    if cfg is None:
        return _page(404, rid, head, "NoSuchWebsiteConfiguration",
                     "The specified bucket does not have a website configuration", [("BucketName", bucket)])
    redirect_all = cfg.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        protocol = redirect_all.get("Protocol") or "http"
        return _redirect(301, f"{protocol}://{redirect_all['HostName']}/{key}", rid)
    rules = cfg.get("RoutingRules") or []
    for rule in rules:
        condition = rule.get("Condition") or {}
        if not condition.get("HttpErrorCodeReturnedEquals") and key.startswith(condition.get("KeyPrefixEquals") or ""):
            return _rule_redirect(rule, key, req, rid)
    ctx = _context(gateway, b, rid)
    suffix = cfg["IndexDocument"]["Suffix"]
    target = key + suffix if key == "" or key.endswith("/") else key
    try:
        return _object(ctx, b, target, req, rid, 200)
    except _Failed as failed:
        if failed.status == 404 and key and not key.endswith("/") and _exists(ctx, b, f"{key}/{suffix}"):
            return _redirect(302, f"/{key}/", rid)
        for rule in rules:
            condition = rule.get("Condition") or {}
            code = condition.get("HttpErrorCodeReturnedEquals")
            if code == str(failed.status) and key.startswith(condition.get("KeyPrefixEquals") or ""):
                return _rule_redirect(rule, key, req, rid)
        if failed.status in (304, 412, 416):
            return _page(failed.status, rid, head, failed.code, failed.message, failed.fields)
        error_key = (cfg.get("ErrorDocument") or {}).get("Key")
        if not error_key:
            return _page(failed.status, rid, head, failed.code, failed.message, failed.fields)
        try:
            return _object(ctx, b, error_key, Request("GET", "/"), rid, failed.status, head=head)
        except _Failed as doc:
            return _page(failed.status, rid, head, failed.code, failed.message, failed.fields,
                         error_doc=(doc.code, doc.message, [("Key", error_key)]))


def _context(gateway: "Gateway", b: dict[str, Any], rid: str) -> Context:
    """Who reads for the endpoint: an anonymous caller in the bucket's account and region."""
    return Context(
        account=b["account"], region=b["region"], principal_arn="anonymous", access_key="", request_id=rid,
        service="s3", operation="GetObject", user_agent="s3-website", internal=True, gateway=gateway,
    )


def _exists(ctx: Context, b: dict[str, Any], key: str) -> bool:
    with storage.tx(ctx) as t:
        return storage.current(t, b["name"], key) is not None


def _object(ctx: Context, b: dict[str, Any], key: str, req: Request, rid: str, status: int,
            head: bool | None = None) -> Response:
    """An object's answer (`status` is 200, or the failed request's status when this is
    the error document), or _Failed."""
    head = req.method == "HEAD" if head is None else head
    params = _conditions(req) if status == 200 else {}
    with storage.tx(ctx) as t:
        meta = storage.current(t, b["name"], key)
        if meta is None:
            raise _Failed(404, "NoSuchKey", "The specified key does not exist.", [("Key", key)])
        v = storage.with_body(t, b["name"], meta)
        if (v.get("sse") or {}).get("kms"):
            raise _Failed(403, "AccessDenied", "Access Denied")  # the endpoint is anonymous: no KMS decrypt
        if v["sc"] in reads.ARCHIVED and not (v.get("restore") or {}).get("done"):
            raise _Failed(403, "InvalidObjectState", "The operation is not valid for the object's storage class")
        try:
            conditions.check_read(params, v["etag"], v["mtime"])
            data_key = None if head else encryption.for_read(ctx, t, v, {})
        except ServiceError as err:
            raise _Failed(err.status, err.code, err.message) from None
    location = (v.get("hdrs") or {}).get("WebsiteRedirectLocation")
    if location and status == 200:
        return _redirect(301, location, rid)
    size = v["size"]
    start, end, out_status = 0, size - 1, status
    headers = _object_headers(v, rid)
    if status == 200 and req.headers.get("range"):
        try:
            rng = conditions.parse_range(req.headers["range"], size)
        except ServiceError as err:
            raise _Failed(err.status, err.code, err.message) from None
        if rng is not None:
            start, end = rng
            out_status = 206
            headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
    length = max(end - start + 1, 0)
    headers.append(("Content-Length", str(length)))
    if head:
        return Response(out_status, headers, b"")
    assert ctx.gateway is not None  # built by _context with one
    body = payload.read(ctx.gateway.db(storage.SERVICE), v, data_key, start, end)
    if isinstance(body, bytes):
        return Response(out_status, headers, body)
    return Response(out_status, headers, b"", stream=body)


def _conditions(req: Request) -> dict[str, Any]:
    h = req.headers
    out: dict[str, Any] = {}
    for header, member in (("if-match", "IfMatch"), ("if-none-match", "IfNoneMatch")):
        if h.get(header):
            out[member] = h[header]
    for header, member in (("if-modified-since", "IfModifiedSince"), ("if-unmodified-since", "IfUnmodifiedSince")):
        if h.get(header):
            try:
                out[member] = parsedate_to_datetime(h[header])
            except (TypeError, ValueError):
                pass  # an unparsable date is ignored, as HTTP says
    return out


def _object_headers(v: dict[str, Any], rid: str) -> list[tuple[str, str]]:
    out = _ids(rid) + [
        ("Last-Modified", reads.http_date(int(v["mtime"]))),
        ("ETag", v["etag"]),
        ("Accept-Ranges", "bytes"),
        ("Content-Type", v.get("ct") or "binary/octet-stream"),
    ]
    names = {"CacheControl": "Cache-Control", "ContentDisposition": "Content-Disposition",
             "ContentEncoding": "Content-Encoding", "ContentLanguage": "Content-Language"}
    for member, value in (v.get("hdrs") or {}).items():
        if member in names:
            out.append((names[member], str(value)))
        elif member == "Expires":
            out.append(("Expires", reads.http_date(value) if isinstance(value, (int, float)) else str(value)))
    for name, value in (v.get("meta") or {}).items():
        out.append((f"x-amz-meta-{name}", value))
    return out


def _ids(rid: str) -> list[tuple[str, str]]:
    from cloudlet.protocol.encode.restxml import s3_request_ids

    return s3_request_ids(rid)


def _rule_redirect(rule: dict[str, Any], key: str, req: Request, rid: str) -> Response:
    redirect = rule.get("Redirect") or {}
    prefix = (rule.get("Condition") or {}).get("KeyPrefixEquals") or ""
    if redirect.get("ReplaceKeyWith") is not None:
        new_key = redirect["ReplaceKeyWith"]
    elif redirect.get("ReplaceKeyPrefixWith") is not None:
        new_key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix):]
    else:
        new_key = key
    protocol = redirect.get("Protocol") or "http"
    host = redirect.get("HostName") or req.host
    return _redirect(int(redirect.get("HttpRedirectCode") or 301), f"{protocol}://{host}/{new_key}", rid)


def _redirect(status: int, location: str, rid: str) -> Response:
    return Response(status, _ids(rid) + [("Location", location), ("Content-Length", "0")], b"")


def _page(status: int, rid: str, head: bool, code: str, message: str, fields: list[tuple[str, str]],
          error_doc: tuple[str, str, list[tuple[str, str]]] | None = None) -> Response:
    """S3's HTML error page."""
    title = f"{status} {_TITLES.get(status, 'Error')}"
    items = [("Code", code), ("Message", message), *fields, ("RequestId", rid), ("HostId", _ids(rid)[1][1])]
    lines = ["<html>", f"<head><title>{title}</title></head>", "<body>", f"<h1>{title}</h1>", "<ul>"]
    lines += [f"<li>{name}: {html.escape(str(value), quote=False)}</li>" for name, value in items]
    lines.append("</ul>")
    if error_doc is not None:
        doc_code, doc_message, doc_fields = error_doc
        lines.append("<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>")
        lines.append("<ul>")
        lines += [f"<li>{name}: {html.escape(str(value), quote=False)}</li>"
                  for name, value in [("Code", doc_code), ("Message", doc_message), *doc_fields]]
        lines.append("</ul>")
    lines += ["<hr/>", "</body>", "</html>", ""]
    body = "\n".join(lines).encode("utf-8")
    headers = _ids(rid) + [("Content-Type", _HTML), ("Content-Length", str(len(body)))]
    if status == 304:
        body = b""
        headers = _ids(rid)
    return Response(status, headers, b"" if head else body)
