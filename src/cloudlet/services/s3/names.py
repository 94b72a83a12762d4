"""Bucket and key names: what S3 accepts (general purpose buckets)."""

from __future__ import annotations

import re

from cloudlet.core.errors import ServiceError

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024


def invalid_bucket_name(name: str) -> ServiceError:
    return ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": name})


def check_bucket_name(name: str) -> None:
    """S3's naming rules for general purpose buckets (the "Bucket naming rules" page)."""
    if (
        not _BUCKET.fullmatch(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _IP.fullmatch(name)
        or name.startswith(_RESERVED_PREFIXES)
        or name.endswith(_RESERVED_SUFFIXES)
    ):
        raise invalid_bucket_name(name)


def check_key(key: str) -> None:
    """A key is any UTF-8 up to 1024 bytes; it is only ever a record key, never a path."""
    if not key:
        raise ServiceError("InvalidArgument", "Key cannot be empty", 400)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ServiceError("KeyTooLongError", "Your key is too long", 400)
