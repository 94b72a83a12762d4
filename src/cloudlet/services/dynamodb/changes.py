"""Every item change, recorded in its write's transaction for the table's stream.

A change record (kind ``s``, key ``table id + 8-byte sequence``) holds what a stream
record needs: the event name, the keys, the old and new images, the time and who made
it (a TTL deletion is the DynamoDB service). A record keeps only the images its stream's
view type shows, and a write that changes nothing records nothing, as in DynamoDB.
``streamlog`` reads and trims them (records older than 24 hours), and the
``dynamodbstreams`` service serves them.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import history, values

def stream_enabled(table: dict[str, Any]) -> bool:
    spec = table.get("stream")
    return bool(spec and spec.get("StreamEnabled"))


def record(ctx: Context, t: Tx, table: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None,
           *, by_service: bool = False, replicated: bool = False) -> None:
    """`replicated`: the change came from another replica of a global table (``replicas``),
    so it is recorded here but not sent on again."""
    if old is None and new is None:
        return
    history.record(t, table, old, new)  # the PITR log, whether or not the stream is on
    if not stream_enabled(table):
        return
    if old is not None and new is not None and _same(old, new):
        return  # "a PutItem or UpdateItem that does not change any data" writes no stream record
    seq = clock.sequence()
    ref = new if new is not None else old
    assert ref is not None
    keys = {k: ref[k] for k in table["keys"] if k is not None}
    name = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
    view = table["stream"].get("StreamViewType")
    t.put("s", table["id"] + seq.to_bytes(8, "big"), {
        "seq": seq,
        "event": name,
        "time": clock.time_s(),
        "keys": keys,
        "old": old if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None,
        "new": new if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None,
        "label": table.get("stream_label"),
        "service": by_service,
    })
    if table.get("replicas") and not replicated:  # a global table's stream is always on
        from cloudlet.services.dynamodb import replicas

        replicas.on_write(ctx, t, table, old, new)


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Equal as DynamoDB compares items: sets in any order, numbers by value."""
    return old.keys() == new.keys() and all(values.equal(old[k], new[k]) for k in old)
