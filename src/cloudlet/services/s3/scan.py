"""Ordered walks over a bucket's keys (listings of objects, versions and uploads).

Keys come from range scans of the store (UTF-8 byte order, S3's) read in batches; a
delimiter rolls keys into common prefixes and the scan jumps past each one, so listing a
few folders of a bucket with millions of keys reads a few records. What the three
listings share besides the walk (where a marker resumes, one page, the members they
answer alike) is here too.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple
from urllib.parse import quote

from cloudlet.core.store import Tx
from cloudlet.services.s3 import errors

Input = dict[str, Any]

AFTER_ALL = "\U0010ffff"  # sorts after any character a key can hold


def encoder(req: Input) -> Callable[[str], str]:
    kind = req.get("EncodingType")
    if kind is None:
        return lambda s: s
    if kind != "url":
        raise errors.invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", kind)
    return lambda s: quote(s, safe="/")


def walk(t: Tx, kind: str, bucket: str, prefix: str, delimiter: str | None, after: str | None) -> Iterator[tuple[str, Any]]:
    """("key", record) and ("prefix", common prefix) entries in listing order, starting
    after the record key `after`."""
    base = f"{bucket}/"
    start = base + prefix
    last = after
    while True:
        recs = t.scan(kind, start, after=last, limit=500)
        if not recs:
            return
        jumped = False
        for rec in recs:
            v = rec.value
            key = v["key"]
            if delimiter:
                i = key.find(delimiter, len(prefix))
                if i >= 0:
                    cp = key[: i + len(delimiter)]
                    yield "prefix", cp
                    last = base + cp + AFTER_ALL  # skip every key under it
                    jumped = True
                    break
            yield "key", rec
            last = rec.key
        if not jumped and len(recs) < 500:
            return


class Page(NamedTuple):
    """One page of a listing: the records' values and the common prefixes in walk order,
    the last of either returned (a prefix or a record's value: where the next page
    starts), and whether more follow."""

    records: list[dict[str, Any]]
    prefixes: list[str]
    last: str | dict[str, Any] | None
    truncated: bool

    def next_markers(self, id_field: str = "") -> tuple[str | None, str | None]:
        """The key and id (the record's `id_field`; None after a common prefix) the next
        page starts after; (None, None) when no page follows."""
        if not self.truncated or self.last is None:
            return None, None
        if isinstance(self.last, str):
            return self.last, None
        return self.last["key"], self.last[id_field] if id_field else None


def page(t: Tx, kind: str, bucket: str, prefix: str, delimiter: str | None, after: str | None, limit: int) -> Page:
    """Up to `limit` entries of `walk`."""
    records: list[dict[str, Any]] = []
    prefixes: list[str] = []
    last: str | dict[str, Any] | None = None
    for entry, item in walk(t, kind, bucket, prefix, delimiter, after):
        if len(records) + len(prefixes) == limit:
            return Page(records, prefixes, last, True)
        if entry == "prefix":
            prefixes.append(item)
            last = item
        else:
            records.append(item.value)
            last = item.value
    return Page(records, prefixes, last, False)


def resume_after(bucket: str, marker: str | None, delimiter: str | None,
                 record_key: Callable[[str], str] | None = None) -> str | None:
    """The record key a listing resumes after, given its key marker: past everything under
    the marker when it is a common prefix this listing rolled up, else after
    ``record_key(marker)`` (the marker's own record, or the one an id marker names), else
    after every record of the marker key."""
    if not marker:
        return None
    if delimiter and marker.endswith(delimiter):
        return f"{bucket}/{marker}{AFTER_ALL}"
    if record_key is not None:
        return record_key(marker)
    return f"{bucket}/{marker}\0{AFTER_ALL}"  # past every version or upload of the marker key


def shared_output(out: dict[str, Any], req: Input, enc: Callable[[str], str], prefixes: list[str],
                  delimiter: str | None) -> dict[str, Any]:
    """Add what every listing answers alike: common prefixes, the delimiter, the encoding."""
    if prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(p)} for p in prefixes]
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    if req.get("EncodingType"):
        out["EncodingType"] = req["EncodingType"]
    return out
