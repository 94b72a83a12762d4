"""Pure rules of IAM: ids, ARNs, tags, paging, document encoding. No I/O here."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import urllib.parse
from typing import Any, Callable, Iterable, Sequence

from cloudlet.core import clock
from cloudlet.services.iam import errors

#: AWS's unique ids are a 4-letter type prefix and 17 characters of this alphabet (21 in all)
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

PREFIX_USER = "AIDA"
PREFIX_ROLE = "AROA"
PREFIX_GROUP = "AGPA"
PREFIX_POLICY = "ANPA"
PREFIX_PROFILE = "AIPA"
PREFIX_KEY = "AKIA"

DEFAULT_MAX_ITEMS = 100


def new_id(prefix: str, length: int = 17) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_access_key_id() -> str:
    """``AKIA`` and 16 characters: 20 in all, as AWS's long-term key ids."""
    return new_id(PREFIX_KEY, 16)


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def now() -> dt.datetime:
    """IAM reports times to the second."""
    return clock.now().replace(microsecond=0)


def norm_path(path: str | None) -> str:
    return path or "/"


def arn(account: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::123456789012:user/division/alice``: the path sits between type and name."""
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def encode_document(doc: str) -> str:
    """IAM returns policy documents URL-encoded (RFC 3986); SDKs decode them."""
    return urllib.parse.quote(doc, safe="")


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def merge_tags(current: dict[str, str], new: Sequence[dict[str, str]], what: str) -> dict[str, str]:
    """Add or overwrite tags; AWS allows 50 per resource and refuses keys that differ only by case."""
    out = dict(current)
    lower = {k.lower(): k for k in out}
    for tag in new:
        key = tag["Key"]
        old = lower.get(key.lower())
        if old is not None and old != key:
            del out[old]
        out[key] = tag.get("Value", "")
        lower[key.lower()] = key
    if len(out) > 50:
        raise errors.limit_exceeded(f"Cannot exceed quota for TagsPer{what}: 50")
    return out


def check_new_tags(tags: Sequence[dict[str, str]] | None) -> None:
    keys = [t["Key"].lower() for t in tags or ()]
    if len(set(keys)) != len(keys):
        raise errors.invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def untag(current: dict[str, str], keys: Iterable[str]) -> dict[str, str]:
    drop = {k.lower() for k in keys}
    return {k: v for k, v in current.items() if k.lower() not in drop}


def page(
    items: Sequence[Any], req: dict[str, Any], key: Callable[[Any], str], out_name: str
) -> dict[str, Any]:
    """One page of `items` (already in order) per IAM's Marker/MaxItems: the marker is the
    opaque position after the last item returned; IsTruncated says whether more follow."""
    start = 0
    marker = req.get("Marker")
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except Exception:
            raise errors.validation("Invalid Marker.") from None
        start = len(items)
        for i, item in enumerate(items):
            if key(item) > after:
                start = i
                break
    limit = req.get("MaxItems") or DEFAULT_MAX_ITEMS
    chunk = list(items[start : start + limit])
    out: dict[str, Any] = {out_name: chunk, "IsTruncated": start + limit < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = base64.urlsafe_b64encode(key(chunk[-1]).encode()).decode()
    return out


def path_filter(items: Iterable[dict[str, Any]], prefix: str | None) -> list[dict[str, Any]]:
    if not prefix:
        return list(items)
    return [i for i in items if i["Path"].startswith(prefix)]


def policy_size(doc: str) -> int:
    """IAM counts a document's characters without whitespace against its quotas."""
    return sum(1 for c in doc if not c.isspace())
