"""Finding the function a request names, and the small facts every handler module shares
(revision ids, LastModified's format, Marker paging, retiring running sandboxes, Lambda's
own context for the calls it makes on a function's behalf)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from contextlib import AbstractContextManager
from typing import Any, Sequence

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.ids import request_id
from cloudlet.core.store import Tx
from cloudlet.services.lambda_ import errors, names, storage
from cloudlet.services.lambda_.names import LATEST, FunctionRef

log = logging.getLogger("cloudlet.lambda")

PRINCIPAL = "lambda.amazonaws.com"


def ref(ctx: Any, function_name: str, qualifier: str | None = None) -> FunctionRef:
    return names.parse(function_name, ctx.account, ctx.region, qualifier)


def tx(ctx: Any, where: FunctionRef) -> AbstractContextManager[Tx]:
    """The transaction for the function's own account (a full ARN may name another)."""
    return ctx.tx(account=where.account, region=where.region)


def load(t: Tx, where: FunctionRef) -> dict[str, Any]:
    fn = storage.get_function(t, where.name)
    if fn is None:
        raise errors.function_not_found(where.arn)
    return fn


def load_mapping(t: Tx, uuid: str) -> dict[str, Any]:
    """The event source mapping a UUID names (mapping handlers and tags both look it up)."""
    mapping = storage.get_mapping(t, uuid)
    if mapping is None:
        raise errors.not_found()
    return mapping


def load_qualified(t: Tx, where: FunctionRef) -> dict[str, Any]:
    """The function, once the version or alias its qualifier names is known to exist."""
    fn = load(t, where)
    version_of(t, where, fn)
    return fn


def version_of(t: Tx, where: FunctionRef, fn: dict[str, Any]) -> tuple[str, str | None]:
    """The version a qualifier selects, and the alias it went through (if any); an alias
    with weights answers its primary version here (routing is ``spec``'s job)."""
    q = where.qualifier
    if q is None or q == LATEST:
        return LATEST, None
    if q.isdecimal():
        if storage.get_version(t, where.name, q) is None:
            raise errors.function_not_found(where.qualified_arn)
        return q, None
    alias = storage.get(t, storage.ALIAS, where.name, q)
    if alias is None:
        raise errors.function_not_found(where.qualified_arn)
    return alias["FunctionVersion"], q


def record_of(t: Tx, where: FunctionRef, fn: dict[str, Any], version: str) -> dict[str, Any]:
    """$LATEST's record or a version's: each has "config" and "code"."""
    if version == LATEST:
        return fn
    ver = storage.get_version(t, where.name, version)
    if ver is None:
        raise errors.function_not_found(where.qualified_arn)
    return ver


def check_revision(given: str | None, current: str, what: str = "GetFunction/GetAlias") -> None:
    if given and given != current:
        raise errors.precondition_failed(what)


def new_revision() -> str:
    return str(uuid.uuid4())


def last_modified(now: dt.datetime | None = None) -> str:
    """AWS's format for LastModified: ``2026-11-28T10:00:00.000+0000``."""
    now = now or clock.now()
    return now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def touch(fn: dict[str, Any]) -> None:
    """A change to $LATEST: a new RevisionId (the function's policy shares it)."""
    fn["config"]["RevisionId"] = new_revision()


def page(name: str, items: Sequence[Any], marker: str | None, size: int) -> dict[str, Any]:
    """One page of a List operation, ``{name: [...], "NextMarker": ...}``. Lambda's Marker
    is opaque: here, the offset of the next item (one that is not a number starts over)."""
    start = int(marker) if marker and marker.isdecimal() else 0
    out: dict[str, Any] = {name: list(items[start:start + size])}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out


def service_context(gateway: Any, account: str, region: str, operation: str, user_agent: str, *,
                    source_ip: str = "127.0.0.1") -> Context:
    """Lambda acting as itself (``lambda.amazonaws.com``) in a function's account and region,
    for the calls AWS makes on the function's behalf: logs, destinations, pollers, its role."""
    return Context(
        account=account,
        region=region,
        principal_arn=PRINCIPAL,
        access_key="",
        request_id=request_id(),
        service="lambda",
        operation=operation,
        source_ip=source_ip,
        user_agent=user_agent,
        internal=True,
        gateway=gateway,
    )


def retire(gateway: Any, function_arn: str) -> None:
    """Stop the running sandboxes of a function whose code or configuration changed (or
    that was deleted): the next invocation starts from what is stored now."""
    try:
        from cloudlet.services.lambda_ import runtime
    except ImportError:
        return
    if gateway is None:
        return
    existing = getattr(runtime, "existing_engine", None)
    try:
        # no engine yet means no sandbox to stop: do not start one just to retire nothing
        engine = existing(gateway) if existing is not None else runtime.engine_for(gateway)
        if engine is not None:
            engine.retire(function_arn)
    except Exception:  # the write is committed; a sandbox left running is retired at its next start
        log.exception("retiring sandboxes of %s failed", function_arn)


def code_location(gateway: Any, sha_hex: str) -> str:
    """Where a zip can be downloaded: cloudlet's admin endpoint serving the stored zip by
    its content hash (AWS answers a presigned S3 URL valid for 10 minutes)."""
    from cloudlet.server.config import public_url

    return f"{public_url(gateway.config)}/_cloudlet/lambda/code/{sha_hex}"
