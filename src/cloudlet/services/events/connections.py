"""Connections: how API destinations authorize (Basic, an API key, or OAuth client
credentials) plus extra header, query and body parameters. Secrets are kept and used, and
never returned (Describe shows names, not passwords, keys or client secrets, nor a
parameter marked IsValueSecret).

A Basic or API-key connection is AUTHORIZED at once; an OAuth one is AUTHORIZING until
the scheduler has fetched a token from its authorization endpoint (AUTHORIZED), or failed
to (DEAUTHORIZED, with the reason).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.events import arns, errors, paging, storage

Input = dict[str, Any]
Output = dict[str, Any]

AUTHORIZE_JOB = "events.authorize"
_NEEDS = {"BASIC": "BasicAuthParameters", "API_KEY": "ApiKeyAuthParameters", "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters"}


def create_connection(ctx: Context, req: Input) -> Output:
    name, kind = req["Name"], req["AuthorizationType"]
    auth = copy.deepcopy(req["AuthParameters"])
    if not auth.get(_NEEDS[kind]):
        raise errors.bad_parameter("AuthParameters", f"{_NEEDS[kind]} must be specified for {kind} authorization.")
    now = clock.time_s()
    uid = str(uuid.uuid4())
    conn: dict[str, Any] = {
        "name": name, "uid": uid, "arn": arns.connection_arn(ctx.partition, ctx.region, ctx.account, name, uid),
        "type": kind, "auth": auth, "created": now, "modified": now,
        "state": "AUTHORIZING" if kind == "OAUTH_CLIENT_CREDENTIALS" else "AUTHORIZED",
        "authorized": None if kind == "OAUTH_CLIENT_CREDENTIALS" else now,
    }
    if req.get("Description") is not None:
        conn["Description"] = req["Description"]
    with ctx.tx() as tx:
        if storage.get(tx, storage.CONNECTION, name) is not None:
            raise errors.exists(f"Connection {name} already exists.")
        tx.put(storage.CONNECTION, name, conn)
        _authorize_later(ctx, conn, now)
    return _state(conn)


def describe_connection(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        conn = _load(tx, req["Name"])
    out = _summary(conn)
    out["SecretArn"] = f"arn:{ctx.partition}:secretsmanager:{ctx.region}:{ctx.account}:secret:events!connection/{conn['name']}/{conn['uid']}"
    out["AuthParameters"] = _public(conn["auth"])
    if conn.get("Description") is not None:
        out["Description"] = conn["Description"]
    return out


def list_connections(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        found = storage.named(tx, storage.CONNECTION, req.get("NamePrefix"))
    found = [c for c in found if not req.get("ConnectionState") or c["state"] == req["ConnectionState"]]
    chosen, token = paging.page(found, lambda c: c["name"], req.get("Limit"), req.get("NextToken"))
    out: Output = {"Connections": [_summary(c) for c in chosen]}
    if token:
        out["NextToken"] = token
    return out


def update_connection(ctx: Context, req: Input) -> Output:
    now = clock.time_s()
    with ctx.tx() as tx:
        conn = _load(tx, req["Name"])
        if req.get("Description") is not None:
            conn["Description"] = req["Description"]
        if req.get("AuthorizationType"):
            conn["type"] = req["AuthorizationType"]
        for key, value in (req.get("AuthParameters") or {}).items():
            merged = conn["auth"].get(key)
            conn["auth"][key] = {**merged, **value} if isinstance(merged, dict) and isinstance(value, dict) else value
        conn["modified"] = now
        if conn["type"] == "OAUTH_CLIENT_CREDENTIALS":
            conn["state"], conn["token"] = "AUTHORIZING", None
        else:
            conn["state"], conn["authorized"] = "AUTHORIZED", now
        tx.put(storage.CONNECTION, conn["name"], conn)
        _authorize_later(ctx, conn, now)
    return {**_state(conn), "LastAuthorizedTime": conn["authorized"]} if conn.get("authorized") else _state(conn)


def deauthorize_connection(ctx: Context, req: Input) -> Output:
    """The secrets go; the connection stays, DEAUTHORIZED, to be given new ones."""
    now = clock.time_s()
    with ctx.tx() as tx:
        conn = _load(tx, req["Name"])
        conn["auth"] = {k: v for k, v in conn["auth"].items() if k == "InvocationHttpParameters"}
        conn["state"], conn["token"], conn["modified"] = "DEAUTHORIZED", None, now
        tx.put(storage.CONNECTION, conn["name"], conn)
    return {**_state(conn), "ConnectionState": "DEAUTHORIZING"}


def delete_connection(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        conn = _load(tx, req["Name"])
        tx.delete(storage.CONNECTION, conn["name"])
    return {**_state(conn), "ConnectionState": "DELETING"}


def _authorize_later(ctx: Context, conn: dict[str, Any], now: float) -> None:
    if conn["type"] == "OAUTH_CLIENT_CREDENTIALS" and ctx.gateway is not None:
        ctx.gateway.scheduler.at(f"{AUTHORIZE_JOB}/{ctx.account}/{ctx.region}/{conn['name']}", now, AUTHORIZE_JOB,
                                 {"account": ctx.account, "region": ctx.region, "name": conn["name"]})


def _load(tx: Tx, name: str) -> dict[str, Any]:
    conn = storage.get(tx, storage.CONNECTION, name)
    if conn is None:
        raise errors.not_found(f"Connection '{name}' does not exist.")
    return conn


def _state(conn: dict[str, Any]) -> Output:
    return {"ConnectionArn": conn["arn"], "ConnectionState": conn["state"], "CreationTime": conn["created"],
            "LastModifiedTime": conn["modified"]}


def _summary(conn: dict[str, Any]) -> Output:
    out = {**_state(conn), "Name": conn["name"], "AuthorizationType": conn["type"]}
    if conn.get("reason"):
        out["StateReason"] = conn["reason"]
    if conn.get("authorized") is not None:
        out["LastAuthorizedTime"] = conn["authorized"]
    return out


def _public(auth: dict[str, Any]) -> dict[str, Any]:
    """The auth parameters without their secrets."""
    out: dict[str, Any] = {}
    if auth.get("BasicAuthParameters"):
        out["BasicAuthParameters"] = {"Username": auth["BasicAuthParameters"].get("Username", "")}
    if auth.get("ApiKeyAuthParameters"):
        out["ApiKeyAuthParameters"] = {"ApiKeyName": auth["ApiKeyAuthParameters"].get("ApiKeyName", "")}
    if auth.get("OAuthParameters"):
        oauth = auth["OAuthParameters"]
        view: dict[str, Any] = {"ClientParameters": {"ClientID": (oauth.get("ClientParameters") or {}).get("ClientID", "")}}
        for key in ("AuthorizationEndpoint", "HttpMethod"):
            if oauth.get(key):
                view[key] = oauth[key]
        if oauth.get("OAuthHttpParameters"):
            view["OAuthHttpParameters"] = _params(oauth["OAuthHttpParameters"])
        out["OAuthParameters"] = view
    if auth.get("InvocationHttpParameters"):
        out["InvocationHttpParameters"] = _params(auth["InvocationHttpParameters"])
    return out


def _params(params: dict[str, Any]) -> dict[str, Any]:
    def shown(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if not (k == "Value" and p.get("IsValueSecret"))}

    return {kind: [shown(p) for p in items] for kind, items in params.items() if isinstance(items, list)}
