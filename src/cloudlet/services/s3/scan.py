"""Ordered walks over a bucket's keys (listings of objects, versions and uploads).

Keys come from range scans of the store (UTF-8 byte order, S3's) read in batches; a
delimiter rolls keys into common prefixes and the scan jumps past each one, so listing a
few folders of a bucket with millions of keys reads a few records.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator
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

