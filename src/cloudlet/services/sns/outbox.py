"""The outbox: what SNS would have sent by email, SMS or mobile push.

cloudlet sends no email or text messages; it records each one, in the order sent, so a
test (or a person, through ``GET /_cloudlet/outbox``) can read what a subscriber would
have received: the confirmation email with its token included. Entries live in SNS's
database under the service's own scope, the newest ``LIMIT`` kept.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Any

from cloudlet.core.store import Tx

if TYPE_CHECKING:
    from cloudlet.core.store import ServiceDB

KIND = "outbox"
SCOPE = ("", "")
LIMIT = 10_000
_seq = itertools.count()


def add(db: "ServiceDB", entry: dict[str, Any], now_s: float) -> None:
    """Record one message (``entry`` carries account, region, protocol, endpoint, ...)."""
    key = f"{int(now_s * 1000):015d} {next(_seq):010d}{os.urandom(3).hex()}"  # in order within a millisecond
    with db.tx(*SCOPE) as tx:
        tx.put(KIND, key, {"id": key.replace(" ", "-"), **entry})
        if key.endswith("00"):  # counting costs a scan: trim about once in 256 entries
            _trim(tx)


def _trim(tx: Tx) -> None:
    extra = tx.count(KIND) - LIMIT
    if extra > 0:
        for rec in tx.scan(KIND, limit=extra):
            tx.delete(KIND, rec.key)


def entries(
    db: "ServiceDB",
    *,
    account: str | None = None,
    region: str | None = None,
    protocol: str | None = None,
    endpoint: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest matching entries first."""
    out: list[dict[str, Any]] = []
    after = None
    with db.tx(*SCOPE) as tx:
        while len(out) < limit:
            page = tx.scan(KIND, after=after, reverse=True, limit=500)
            if not page:
                break
            for rec in page:
                e = rec.value
                if (
                    (account is None or e.get("account") == account)
                    and (region is None or e.get("region") == region)
                    and (protocol is None or e.get("protocol") == protocol)
                    and (endpoint is None or e.get("endpoint") == endpoint)
                ):
                    out.append(e)
                    if len(out) >= limit:
                        break
            after = page[-1].key
    return out
