"""The S3 record layout, and the few operations on it every module shares.

Bucket names are one global namespace, so all of S3 lives in one partition of the
service's database (account "", region ""); each bucket record names its owner and
region. Kinds:

- ``b``   bucket name -> the bucket (owner, region, created, versioning, object lock)
- ``cfg`` ``<bucket>/<name>`` -> a bucket configuration as its Put operation parsed it
- ``v``   ``<bucket>/<key>\\0<inverted seq>`` -> one version (newest first per key); its
  body is inline (``data``, small objects) or a blob file (``blob``), sealed either way
- ``o``   ``<bucket>/<key>`` -> the current version's metadata (no body), absent when
  the newest version is a delete marker: listings read only these
- ``mpu`` / ``part``: multipart uploads (``multipart.py``)

Keys never become paths: a key is only ever part of a record key, compared bytewise
(SQLite compares text as UTF-8 bytes, which is S3's listing order).
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractContextManager
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.s3 import errors

SERVICE = "s3"
NULL = "null"
_MAX_SEQ = (1 << 63) - 1

Version = dict[str, Any]
Bucket = dict[str, Any]


def tx(ctx: Context) -> AbstractContextManager[Tx]:
    """A transaction on S3's one global partition."""
    return ctx.gateway.db(SERVICE).tx("", "")


def new_version_id() -> str:
    """Opaque, URL-safe, 32 characters, like S3's."""
    return secrets.token_urlsafe(24)


def canonical_id(account: str) -> str:
    """The 64-hex canonical user id S3 shows as an owner, stable per account."""
    return hashlib.sha256(f"cloudlet-canonical:{account}".encode()).hexdigest()


def owner(account: str) -> dict[str, str]:
    return {"ID": canonical_id(account)}


# buckets -------------------------------------------------------------------------------
def find_bucket(t: Tx, name: str) -> Bucket | None:
    rec = t.get("b", name)
    return None if rec is None else rec.value


def get_bucket(t: Tx, name: str) -> Bucket:
    b = find_bucket(t, name)
    if b is None:
        raise errors.no_such_bucket(name)
    return b


def put_bucket(t: Tx, b: Bucket) -> None:
    t.put("b", b["name"], b)


def is_empty(t: Tx, bucket: str) -> bool:
    prefix = bucket + "/"
    return not t.scan("v", prefix, limit=1) and not t.scan("mpu", prefix, limit=1)


def get_config(t: Tx, bucket: str, name: str) -> Any:
    rec = t.get("cfg", f"{bucket}/{name}")
    return None if rec is None else rec.value


def put_config(t: Tx, bucket: str, name: str, value: Any) -> None:
    t.put("cfg", f"{bucket}/{name}", value)


def delete_config(t: Tx, bucket: str, name: str) -> None:
    t.delete("cfg", f"{bucket}/{name}")


# versions ------------------------------------------------------------------------------
def version_key(bucket: str, key: str, seq: int) -> str:
    return f"{bucket}/{key}\0{_MAX_SEQ - seq:016x}"


def object_key(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"


def versions(t: Tx, bucket: str, key: str) -> list[Version]:
    """Every version of one key, newest first."""
    return [r.value for r in t.scan("v", f"{bucket}/{key}\0")]


def current(t: Tx, bucket: str, key: str) -> Version | None:
    """The current object's metadata (None when absent or a delete marker is newest)."""
    rec = t.get("o", object_key(bucket, key))
    return None if rec is None else rec.value


def with_body(t: Tx, bucket: str, meta: Version) -> Version:
    """The full version record (with its body reference) for metadata from ``o``."""
    rec = t.get("v", version_key(bucket, meta["key"], meta["seq"]))
    return meta if rec is None else rec.value


def find_version(t: Tx, bucket: str, key: str, version_id: str) -> Version | None:
    for v in versions(t, bucket, key):
        if v["vid"] == version_id:
            return v
    return None


def newest(t: Tx, bucket: str, key: str) -> Version | None:
    """The newest version, delete markers included."""
    recs = t.scan("v", f"{bucket}/{key}\0", limit=1)
    return recs[0].value if recs else None


_BODY_FIELDS = frozenset({"data", "chunks", "part_cks"})


def _meta(v: Version) -> Version:
    """What the current-object record keeps: no body, and none of a multipart object's
    per-part lists (listings read these records)."""
    return {k: val for k, val in v.items() if k not in _BODY_FIELDS}


def add_version(t: Tx, b: Bucket, v: Version) -> list[Version]:
    """Make `v` the newest version of its key; returns the versions it replaced.

    With versioning never enabled or suspended, `v` is the ``null`` version and replaces
    the previous null version (its body freed); when enabled, it gets an id and the
    older versions stay.
    """
    bucket, key = b["name"], v["key"]
    replaced: list[Version] = []
    if b.get("versioning") == "Enabled":
        if not v.get("vid"):
            v["vid"] = new_version_id()
    else:
        v["vid"] = NULL
        old = find_version(t, bucket, key, NULL)
        if old is not None:
            _remove(t, bucket, old)
            replaced.append(old)
    v.setdefault("seq", clock.sequence())
    t.put("v", version_key(bucket, key, v["seq"]), v)
    if v.get("dm"):
        t.delete("o", object_key(bucket, key))
    else:
        t.put("o", object_key(bucket, key), _meta(v))
    return replaced


def update_version(t: Tx, bucket: str, v: Version) -> None:
    """Rewrite a version in place (tags, retention, storage class, restore, replication status)."""
    t.put("v", version_key(bucket, v["key"], v["seq"]), v)
    cur = t.get("o", object_key(bucket, v["key"]))
    if cur is not None and cur.value["seq"] == v["seq"]:
        t.put("o", object_key(bucket, v["key"]), _meta(v))


def delete_version(t: Tx, bucket: str, v: Version) -> None:
    """Remove one version for good; the next newest becomes current."""
    _remove(t, bucket, v)
    top = newest(t, bucket, v["key"])
    okey = object_key(bucket, v["key"])
    if top is None or top.get("dm"):
        t.delete("o", okey)
    else:
        t.put("o", okey, _meta(top))


def _remove(t: Tx, bucket: str, v: Version) -> None:
    t.delete("v", version_key(bucket, v["key"], v["seq"]))
    if v.get("blob"):
        t.drop_blob(v["blob"])
    for chunk in v.get("chunks") or ():  # a completed multipart upload's part bodies
        t.drop_blob(chunk["blob"])


def now() -> float:
    return clock.time_s()
