"""Conditional requests and byte ranges, as S3 evaluates them (RFC 7232 / 7233 rules)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import errors

_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")


def _etags(value: str) -> list[str]:
    return [e.strip().strip('"') for e in value.split(",") if e.strip()]


def etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"')
    return any(e == "*" or e == bare for e in _etags(header))


def _ts(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def check_read(params: dict[str, Any], etag: str, mtime: float, prefix: str = "If") -> None:
    """GET/HEAD (``If``) and copy-source (``CopySourceIf``) preconditions.

    If-Match beats If-Unmodified-Since (a matching ETag makes the date irrelevant), and
    If-None-Match beats If-Modified-Since; S3 answers 412 for the first pair and 304 for
    the second (412 for a copy source, which cannot be "not modified").
    """
    match = params.get(f"{prefix}Match")
    none_match = params.get(f"{prefix}NoneMatch")
    modified = _ts(params.get(f"{prefix}ModifiedSince"))
    unmodified = _ts(params.get(f"{prefix}UnmodifiedSince"))
    last = int(mtime)  # HTTP dates have whole seconds
    if match is not None:
        if not etag_matches(match, etag):
            raise errors.precondition_failed("If-Match")
    elif unmodified is not None and last > unmodified:
        raise errors.precondition_failed("If-Unmodified-Since")
    copy = prefix != "If"
    if none_match is not None:
        if etag_matches(none_match, etag):
            raise errors.precondition_failed("If-None-Match") if copy else _not_modified(etag, last)
    elif modified is not None and last <= modified:
        raise errors.precondition_failed("If-Modified-Since") if copy else _not_modified(etag, last)


def _not_modified(etag: str, last: int) -> ServiceError:
    """A 304 still names the version it stands for (RFC 7232 4.1): caches revalidate with it."""
    err = errors.not_modified()
    when = datetime.fromtimestamp(last, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    err.headers.update({"ETag": etag, "Last-Modified": when})
    return err


def check_write(params: dict[str, Any], current: dict[str, Any] | None) -> None:
    """Conditional writes: ``If-None-Match: *`` (only if absent) and ``If-Match`` (only
    if the current object has that ETag)."""
    none_match = params.get("IfNoneMatch")
    if none_match is not None:
        if none_match.strip() != "*":
            raise ServiceError("NotImplemented", "A header you provided implies functionality that is not implemented", 501,
                               fields={"Header": "If-None-Match"})
        if current is not None:
            raise errors.precondition_failed("If-None-Match")
    match = params.get("IfMatch")
    if match is not None:
        if current is None:
            raise errors.no_such_key(params.get("Key", ""))
        if not etag_matches(match, current["etag"]):
            raise errors.precondition_failed("If-Match")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``a-`` / ``-n`` → (start, end inclusive); None means the whole
    object (no header, or a form S3 ignores such as several ranges). A range that starts
    past the end is S3's 416 InvalidRange."""
    if not header:
        return None
    m = _RANGE.fullmatch(header)
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:  # the last n bytes
        n = int(last)
        if n == 0:
            raise invalid_range(header, size)
        return max(size - n, 0), size - 1 if size else -1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # syntactically invalid: ignored, as RFC 7233 says
    if start >= size:
        raise invalid_range(header, size)
    return start, min(end, size - 1)


def invalid_range(header: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": header, "ActualObjectSize": str(size)},
    )
