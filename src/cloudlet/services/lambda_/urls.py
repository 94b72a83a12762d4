"""Function URL configs: a dedicated HTTP endpoint per function (or alias).

A URL is ``http://<url id>.lambda-url.<region>.localhost:<port>/`` on cloudlet's own
port (``*.localhost`` resolves to the loopback address without DNS setup); the id is 32
random lowercase letters and digits, as AWS's, and the ``urlid`` index in the global
partition maps it back to the function (``storage.url_target``) for the server.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from typing import Any
from urllib.parse import urlsplit

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.server.config import public_url
from cloudlet.services.lambda_ import access, errors, names, storage
from cloudlet.services.lambda_.names import LATEST

Input = dict[str, Any]
Output = dict[str, Any]

_ALPHABET = string.ascii_lowercase + string.digits
_SHOWN = ("FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime", "LastModifiedTime", "InvokeMode")


def create_function_url_config(ctx: Context, req: Input) -> Output:
    where = _where(ctx, req)
    arn = where.qualified_arn
    with access.tx(ctx, where) as t:
        access.load_qualified(t, where)
        if storage.get(t, storage.URL, where.name, where.qualifier) is not None:
            raise errors.conflict(f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
                                  "FunctionUrlConfig exists for this Lambda function")
        url_id = "".join(secrets.choice(_ALPHABET) for _ in range(32))
        now = _now()
        config: dict[str, Any] = {
            "FunctionUrl": _url(ctx, url_id, where.region),
            "FunctionArn": arn,
            "AuthType": req["AuthType"],
            "CreationTime": now,
            "LastModifiedTime": now,
            "InvokeMode": req.get("InvokeMode") or "BUFFERED",
            "url_id": url_id,
        }
        if req.get("Cors") is not None:
            config["Cors"] = dict(req["Cors"])
        storage.put(t, storage.URL, where.name, where.qualifier, config)
        storage.put_url_id(t, url_id, where.name, where.qualifier)
    return {k: config[k] for k in _SHOWN if k in config and k != "LastModifiedTime"}


def get_function_url_config(ctx: Context, req: Input) -> Output:
    where = _where(ctx, req)
    with access.tx(ctx, where) as t:
        config = _load(t, where)
    return _shown(config)


def update_function_url_config(ctx: Context, req: Input) -> Output:
    where = _where(ctx, req)
    with access.tx(ctx, where) as t:
        config = _load(t, where)
        for key in ("AuthType", "InvokeMode"):
            if req.get(key):
                config[key] = req[key]
        if "Cors" in req:
            config["Cors"] = dict(req["Cors"] or {})
        config["LastModifiedTime"] = _now()
        storage.put(t, storage.URL, where.name, where.qualifier, config)
    return _shown(config)


def delete_function_url_config(ctx: Context, req: Input) -> Output:
    where = _where(ctx, req)
    with access.tx(ctx, where) as t:
        config = _load(t, where)
        storage.delete(t, storage.URL, where.name, where.qualifier)
        storage.delete_url_id(t, config["url_id"])
    return {}


def list_function_url_configs(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        access.load(t, where)
        found = [_shown(c) for _, c in storage.all_of(t, storage.URL, where.name)]
    return access.page("FunctionUrlConfigs", found, req.get("Marker"), req.get("MaxItems") or 50)


def _load(t: Tx, where: names.FunctionRef) -> dict[str, Any]:
    """The URL config of the function or alias `where` names."""
    access.load(t, where)
    config = storage.get(t, storage.URL, where.name, where.qualifier)
    if config is None:
        raise errors.not_found()
    return config


def _where(ctx: Context, req: Input) -> names.FunctionRef:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    if where.qualifier == LATEST:
        return names.FunctionRef(where.account, where.region, where.name, None)
    if where.qualifier is not None and where.qualifier.isdecimal():
        raise errors.invalid("Function URLs can only be configured for an alias or $LATEST, not a function version.")
    return where


def _url(ctx: Context, url_id: str, region: str) -> str:
    assert ctx.gateway is not None
    port = urlsplit(public_url(ctx.gateway.config)).port
    return f"http://{url_id}.lambda-url.{region}.localhost:{port}/"


def _now() -> str:
    return clock.now().astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _shown(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in _SHOWN if k in config}
