"""API destinations over HTTP: the request EventBridge makes for an event, and the OAuth
client-credentials token a connection fetches. Runs on the scheduler thread only.

The request (EventBridge user guide, "API destinations"): the destination's method to
its endpoint, each ``*`` in it replaced by the target's ``PathParameterValues`` in turn;
the connection's authorization (Basic, an API key header, or an OAuth bearer token) and
its invocation header, query string and body parameters; the target's
``HttpParameters`` (a value starting with ``$.`` is a path into the event); the headers
AWS documents (``User-Agent: Amazon/EventBridge/ApiDestinations``, ``Content-Type:
application/json; charset=utf-8``, ``Range``, ``Accept-Encoding``, ``Connection:
close``); a 5-second timeout. 429 and 5xx responses, timeouts and refused connections
are retried by the retry policy; other 4xx are not.

Plain ``http://`` endpoints are accepted (AWS requires HTTPS) so a test can point a
destination at a server on loopback.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.events import arns, envelope, storage, transform

if TYPE_CHECKING:
    from cloudlet.services.events.delivery import Delivery, Failure

log = logging.getLogger("cloudlet.events")

TIMEOUT_S = 5.0
STANDARD_HEADERS = {
    "User-Agent": "Amazon/EventBridge/ApiDestinations",
    "Content-Type": "application/json; charset=utf-8",
    "Range": "bytes=0-1048575",
    "Accept-Encoding": "gzip,deflate",
    "Connection": "close",
}


def invoke(ctx: Context, d: "Delivery", arn: arns.Arn) -> "Failure | None":
    from cloudlet.services.events.delivery import Failure

    name = arn.rest.split("/")[0]
    with ctx.tx(account=arn.account, region=arn.region) as tx:
        dest = storage.get(tx, storage.DESTINATION, name)
        conn_ref = arns.parse(dest["connection"]) if dest else None
        conn = storage.get(tx, storage.CONNECTION, conn_ref.rest.split("/")[0]) if conn_ref else None
    if dest is None or dest["arn"] != d.target["Arn"]:
        return Failure("NO_RESOURCE", f"API destination {name} does not exist.", False)
    if conn is None or conn["arn"] != dest["connection"]:
        return Failure("NO_RESOURCE", "The connection of the API destination does not exist.", False)
    if conn["state"] != "AUTHORIZED":
        if conn["type"] != "OAUTH_CLIENT_CREDENTIALS" or not authorize(ctx, conn["name"]):
            return Failure("NO_PERMISSIONS", f"Connection {conn['name']} is not authorized.", False)
        with ctx.tx(account=arn.account, region=arn.region) as tx:
            conn = storage.get(tx, storage.CONNECTION, conn["name"]) or conn
    body = transform.render(d.target, d.event, d.rule_arn, d.rule_name, envelope.stamp(clock.now()))
    method, url, headers, data = request_for(dest, conn, d.target, d.event, body)
    try:
        status = _call(method, url, headers, data)
    except urllib.error.HTTPError as err:
        status = err.code
    except (socket.timeout, TimeoutError):
        return Failure("TIMEOUT", f"The request to {url} timed out after {TIMEOUT_S:g} seconds.", True)
    except (urllib.error.URLError, OSError) as err:
        return Failure("CONNECTION_FAILURE", f"Unable to connect to {url}: {getattr(err, 'reason', err)}", True)
    if status == 429 or status >= 500:
        return Failure("ERROR_FROM_TARGET", f"The API destination answered {status}.", True)
    if status >= 400:
        return Failure("ERROR_FROM_TARGET", f"The API destination answered {status}.", False)
    return None


def request_for(
    dest: dict[str, Any], conn: dict[str, Any], target: dict[str, Any], event: dict[str, Any], body: str
) -> tuple[str, str, dict[str, str], bytes | None]:
    """(method, url, headers, body bytes) for one event."""
    params = target.get("HttpParameters") or {}
    url = dest["endpoint"]
    for value in params.get("PathParameterValues") or []:
        url = url.replace("*", urllib.parse.quote(_dynamic(value, event), safe=""), 1)
    invocation = (conn.get("auth") or {}).get("InvocationHttpParameters") or {}
    query = [(p["Key"], p["Value"]) for p in invocation.get("QueryStringParameters") or [] if "Key" in p]
    query += [(k, _dynamic(v, event)) for k, v in (params.get("QueryStringParameters") or {}).items()]
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    headers = dict(STANDARD_HEADERS)
    headers.update(auth_headers(conn))
    headers.update({p["Key"]: p.get("Value", "") for p in invocation.get("HeaderParameters") or [] if "Key" in p})
    headers.update({k: _dynamic(v, event) for k, v in (params.get("HeaderParameters") or {}).items()})
    method = dest["method"]
    if method in ("GET", "HEAD"):
        return method, url, headers, None
    extra = {p["Key"]: p.get("Value", "") for p in invocation.get("BodyParameters") or [] if "Key" in p}
    if extra:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            body = transform.minified({**doc, **extra})
    return method, url, headers, body.encode()


def auth_headers(conn: dict[str, Any]) -> dict[str, str]:
    auth = conn.get("auth") or {}
    kind = conn["type"]
    if kind == "BASIC":
        basic = auth.get("BasicAuthParameters") or {}
        pair = f"{basic.get('Username', '')}:{basic.get('Password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    if kind == "API_KEY":
        key = auth.get("ApiKeyAuthParameters") or {}
        return {key.get("ApiKeyName", "x-api-key"): key.get("ApiKeyValue", "")}
    if kind == "OAUTH_CLIENT_CREDENTIALS" and conn.get("token"):
        return {"Authorization": f"Bearer {conn['token']}"}
    return {}


def authorize(ctx: Context, name: str) -> bool:
    """Fetch an OAuth client-credentials token for connection `name` (in `ctx`'s account)
    and record the outcome on it: AUTHORIZED with the token, or DEAUTHORIZED and why."""
    with ctx.tx() as tx:
        conn = storage.get(tx, storage.CONNECTION, name)
    if conn is None or conn["type"] != "OAUTH_CLIENT_CREDENTIALS":
        return False
    oauth = (conn.get("auth") or {}).get("OAuthParameters") or {}
    client = oauth.get("ClientParameters") or {}
    extra = oauth.get("OAuthHttpParameters") or {}
    url = oauth.get("AuthorizationEndpoint", "")
    query = [(p["Key"], p.get("Value", "")) for p in extra.get("QueryStringParameters") or [] if "Key" in p]
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    pair = f"{client.get('ClientID', '')}:{client.get('ClientSecret', '')}".encode()
    headers = {"Authorization": "Basic " + base64.b64encode(pair).decode(), "Content-Type": "application/json"}
    headers.update({p["Key"]: p.get("Value", "") for p in extra.get("HeaderParameters") or [] if "Key" in p})
    form = {"grant_type": "client_credentials", **{p["Key"]: p.get("Value", "") for p in extra.get("BodyParameters") or [] if "Key" in p}}
    method = oauth.get("HttpMethod", "POST")
    token, reason = None, ""
    try:
        req = urllib.request.Request(url, data=None if method == "GET" else json.dumps(form).encode(), headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            token = json.loads(resp.read() or b"{}").get("access_token")
        reason = "" if token else "The authorization endpoint returned no access_token."
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = f"Unable to authorize the connection: {err}"
    now = clock.time_s()
    with ctx.tx() as tx:
        current = storage.get(tx, storage.CONNECTION, name)
        if current is None:
            return False
        current["state"] = "AUTHORIZED" if token else "DEAUTHORIZED"
        current["reason"] = reason or None
        current["token"] = token
        current["modified"] = now
        if token:
            current["authorized"] = now
        tx.put(storage.CONNECTION, name, current)
    return token is not None


def _call(method: str, url: str, headers: dict[str, str], data: bytes | None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
        resp.read()
        return int(resp.status)


def _dynamic(value: str, event: dict[str, Any]) -> str:
    """A header, query or path value: literal, or a path into the event (``$.detail.id``)."""
    if not value.startswith("$."):
        return value
    try:
        found = transform.select(event, value)
    except transform.PathError:
        return value
    if isinstance(found, str):
        return found
    return "" if found is transform.MISSING else transform.minified(found)
