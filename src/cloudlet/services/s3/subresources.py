"""What the bucket-configuration handlers share: the bucket a request names (with its
``x-amz-expected-bucket-owner`` check), a configuration kept whole (read, written and
deleted in one transaction each), configurations kept by id (inventory, metrics,
analytics, Intelligent-Tiering), and the object events a configuration change sends."""

from __future__ import annotations

import base64
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.s3 import effects, errors, storage

PAGE = 100  # the List*Configurations operations answer up to 100 per page


def require_bucket(t: Tx, req: dict[str, Any]) -> dict[str, Any]:
    """The request's bucket; a request naming another owner than the bucket's is refused."""
    b = storage.get_bucket(t, req["Bucket"])
    expected = req.get("ExpectedBucketOwner")
    if expected is not None and expected != b["account"]:
        raise errors.access_denied()
    return b


# configurations kept whole ------------------------------------------------------------------
def read_config(ctx: Context, req: dict[str, Any], name: str) -> tuple[dict[str, Any], Any]:
    """The request's bucket and its configuration `name` (None when not set)."""
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        return b, storage.get_config(t, b["name"], name)


def require_config(ctx: Context, req: dict[str, Any], name: str) -> Any:
    """The configuration `name` of the request's bucket; S3's 404 for it when not set."""
    b, value = read_config(ctx, req, name)
    if value is None:
        raise errors.not_configured(name, b["name"])
    return value


def write_config(ctx: Context, req: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """Store the configuration `name` of the request's bucket; the Put operations' output."""
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        storage.put_config(t, b["name"], name, value)
    return {}


def remove_config(ctx: Context, req: dict[str, Any], name: str) -> dict[str, Any]:
    """Drop the configuration `name` (set or not); the Delete operations' output."""
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        storage.delete_config(t, b["name"], name)
    return {}


def object_event(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], name: str) -> None:
    """Queue an object event the caller caused (tagging, ACL) with the write."""
    effects.object_event(ctx, t, b, v, name)


# configurations kept by id ------------------------------------------------------------------
def no_such_configuration() -> ServiceError:
    return ServiceError("NoSuchConfiguration", "The specified configuration does not exist.", 404)


def get_by_id(t: Tx, bucket: str, family: str, config_id: str) -> dict[str, Any]:
    value = storage.get_config(t, bucket, f"{family}/{config_id}")
    if value is None:
        raise no_such_configuration()
    return value


def list_by_id(t: Tx, bucket: str, family: str, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a family's configurations in id order, and the token for the next."""
    prefix = f"{bucket}/{family}/"
    after = None
    if token:
        try:
            after = prefix + base64.urlsafe_b64decode(token.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise errors.invalid_argument("The continuation token provided is incorrect", "continuation-token",
                                          token) from None
    recs = t.scan("cfg", prefix, after=after, limit=PAGE + 1)
    page = [r.value for r in recs[:PAGE]]
    next_token = None
    if len(recs) > PAGE:
        last_id = str(recs[PAGE - 1].key)[len(prefix):]
        next_token = base64.urlsafe_b64encode(last_id.encode()).decode()
    return page, next_token


def count_by_id(t: Tx, bucket: str, family: str) -> int:
    return len(t.scan("cfg", f"{bucket}/{family}/"))
