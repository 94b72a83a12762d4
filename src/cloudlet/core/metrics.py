"""The CloudWatch metrics services publish, kept until the CloudWatch service reads them.

AWS services publish metrics (``AWS/SQS`` ``NumberOfMessagesSent`` per ``QueueName``...)
without any call the customer makes; CloudWatch then answers ``GetMetricStatistics`` over
them. Here a service calls ``record`` on its request path and the CloudWatch service calls
``query``: neither imports the other, and this module is the whole interface between them.

Storage: records in the ``cloudwatch`` service's database, because CloudWatch owns metric
data once it lands (its reset drops them, its migrations may change them) and a metric
belongs to the account and region it was published in, as in AWS. One record per series
and minute (CloudWatch's finest standard resolution) holds the minute's statistic set
(SampleCount, Sum, Minimum, Maximum), so recording is one read-modify-write of one small
record, and a query is one bounded key-range scan per series. A metric write is its own
transaction on that database, separate from the caller's: metrics are approximate in AWS
too.

Recording is off the request's commit: ``record_many`` (and ``record`` given a Context) adds
samples to an in-memory buffer per gateway, merged into the store by a background flush
every ``FLUSH_EVERY_S`` and before every ``query``/``series``. A crash loses at most that
last fraction of a second of data points, never anything a client was told.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
import weakref
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cloudlet.core import pergateway
from cloudlet.core.context import Context

if TYPE_CHECKING:
    from cloudlet.core.store import Tx
    from cloudlet.server.gateway import Gateway

log = logging.getLogger("cloudlet.metrics")

#: the service whose database keeps metric data
SERVICE = "cloudwatch"
#: record kind of one series' one-minute bucket
KIND = "_metric"
MINUTE = 60
UTC = dt.timezone.utc
_SEP = "\x00"
_DIM_SEP = "\x01"


@dataclass(frozen=True, slots=True)
class Datapoint:
    """One period's statistics, as GetMetricStatistics returns them."""

    timestamp: dt.datetime
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    unit: str

    @property
    def average(self) -> float:
        return self.sum / self.sample_count if self.sample_count else 0.0


def series_key(namespace: str, metric: str, dimensions: dict[str, str]) -> str:
    """The key prefix of one series: dimensions in name order, as CloudWatch treats
    ``{A:1, B:2}`` and ``{B:2, A:1}`` as the same series."""
    dims = _DIM_SEP.join(f"{k}={dimensions[k]}" for k in sorted(dimensions))
    return f"{namespace}{_SEP}{metric}{_SEP}{dims}{_SEP}"


def _minute(at: dt.datetime) -> int:
    return int(at.timestamp()) // MINUTE * MINUTE


FLUSH_EVERY_S = 0.5


class Buffer:
    """Samples not yet in the store, merged per (account, region, series minute)."""

    def __init__(self, gateway: "Gateway") -> None:
        self._gateway = weakref.ref(gateway)
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], dict[str, list[Any]]] = {}
        self._flusher: threading.Thread | None = None

    def add(self, account: str, region: str, key: str, value: float, unit: str) -> None:
        with self._lock:
            buckets = self._pending.setdefault((account, region), {})
            b = buckets.get(key)
            if b is None:
                buckets[key] = [1, value, value, value, unit]
            else:
                b[0] += 1
                b[1] += value
                if value < b[2]:
                    b[2] = value
                if value > b[3]:
                    b[3] = value
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._run, name="cloudlet-metrics", daemon=True)
                self._flusher.start()

    def flush(self) -> None:
        """Merge every pending bucket into the store: one transaction per account and region."""
        with self._lock:
            pending, self._pending = self._pending, {}
        gateway = self._gateway()
        if gateway is None or not pending:
            return
        db = gateway.db(SERVICE)
        for (account, region), buckets in pending.items():
            with db.tx(account, region) as tx:
                for key, (n, total, lo, hi, unit) in buckets.items():
                    rec = tx.get(KIND, key)
                    if rec is not None:
                        n0, t0, lo0, hi0, unit = rec.value
                        n, total, lo, hi = n0 + n, t0 + total, min(lo0, lo), max(hi0, hi)
                    tx.put(KIND, key, [n, total, lo, hi, unit])

    def _run(self) -> None:
        while self._gateway() is not None:
            time.sleep(FLUSH_EVERY_S)
            try:
                self.flush()
            except Exception:  # a store problem: keep the server up, say so, try again
                log.exception("metrics flush failed")


def buffer(gateway: "Gateway") -> Buffer:
    """The gateway's metrics buffer, made on first use."""
    return pergateway.get(gateway, "_metrics_buffer", lambda: Buffer(gateway))


def flush(gateway: Any) -> None:
    """Write what is buffered (a reader calls this first; so does ``/_cloudlet/flush``)."""
    buf = getattr(gateway, "_metrics_buffer", None)
    if buf is not None:
        buf.flush()


def record_many(
    gateway: "Gateway | None",
    account: str,
    region: str,
    namespace: str,
    dimensions: dict[str, str],
    samples: list[tuple[str, float, str]],
    at: dt.datetime,
) -> None:
    """Add (metric, value, unit) samples of one series family at one time: microseconds,
    no store write on the caller's path."""
    if gateway is None:
        raise RuntimeError("metrics need a gateway (this context was built outside the request path)")
    buf = buffer(gateway)
    minute = _minute(at)
    for metric, value, unit in samples:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"a metric value is a finite number, not {value!r}")
        buf.add(account, region, f"{series_key(namespace, metric, dimensions)}{minute:012d}", value, unit)


def record(
    ctx_or_tx: "Context | Tx",
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    value: float,
    unit: str,
    at: dt.datetime,
) -> None:
    """Add one sample to its series' minute: one upsert.

    A `Context` writes for its account and region in a transaction of its own on the
    metrics database. Call it after the caller's ``ctx.tx()`` where you can, so a request
    that fails records nothing; inside one is safe too (locks are taken service db, then
    metrics db, and a metrics transaction never waits on another database). A `Tx` must
    be one on the metrics database (``metrics_tx``), to record several samples in one commit.
    """
    if isinstance(ctx_or_tx, Context):
        record_many(ctx_or_tx.gateway, ctx_or_tx.account, ctx_or_tx.region, namespace, dimensions,
                    [(metric, value, unit)], at)
    else:
        _add(ctx_or_tx, namespace, metric, dimensions, float(value), unit, at)


def metrics_tx(gateway: "Gateway | None", account: str, region: str) -> AbstractContextManager["Tx"]:
    """A transaction on the metrics database for one account and region."""
    if gateway is None:
        raise RuntimeError("metrics need a gateway (this context was built outside the request path)")
    return gateway.db(SERVICE).tx(account, region)


def _add(tx: "Tx", namespace: str, metric: str, dimensions: dict[str, str], value: float, unit: str, at: dt.datetime) -> None:
    if not math.isfinite(value):
        raise ValueError(f"a metric value is a finite number, not {value!r}")
    key = f"{series_key(namespace, metric, dimensions)}{_minute(at):012d}"
    rec = tx.get(KIND, key)
    if rec is None:
        tx.put(KIND, key, [1, value, value, value, unit])
    else:
        n, total, lo, hi, u = rec.value
        tx.put(KIND, key, [n + 1, total + value, min(lo, value), max(hi, value), u])


def query(
    gateway: "Gateway",
    account: str,
    region: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    start: dt.datetime,
    end: dt.datetime,
    period: int,
) -> list[Datapoint]:
    """Datapoints of one series in ``[start, end)``, one per `period` seconds that has
    data, oldest first (GetMetricStatistics' shape; the CloudWatch service validates its
    inputs). A period is a multiple of 60: the minute is the resolution kept. Periods are
    aligned to the epoch, as CloudWatch aligns them for data this old or newer."""
    if period <= 0 or period % MINUTE:
        raise ValueError(f"a period is a positive multiple of 60 seconds, not {period!r}")
    lo = int(math.ceil(start.timestamp() / MINUTE)) * MINUTE
    hi = int(end.timestamp())
    if hi <= lo:
        return []
    prefix = series_key(namespace, metric, dimensions)
    flush(gateway)
    with gateway.db(SERVICE).tx(account, region) as tx:
        recs = tx.scan(KIND, prefix, after=f"{prefix}{lo - 1:012d}", limit=(hi - lo) // MINUTE + 1)
    buckets: dict[int, list[Any]] = {}
    for rec in recs:
        minute = int(rec.key[len(prefix):])
        if minute >= hi:
            break
        n, total, mn, mx, unit = rec.value
        slot = minute - minute % period
        b = buckets.get(slot)
        if b is None:
            buckets[slot] = [n, total, mn, mx, unit]
        else:
            b[0] += n
            b[1] += total
            b[2] = min(b[2], mn)
            b[3] = max(b[3], mx)
    return [
        Datapoint(dt.datetime.fromtimestamp(slot, UTC), float(n), total, mn, mx, unit)
        for slot, (n, total, mn, mx, unit) in sorted(buckets.items())
    ]


def series(gateway: "Gateway", account: str, region: str, namespace: str | None = None) -> list[tuple[str, str, dict[str, str]]]:
    """Every (namespace, metric, dimensions) with data (ListMetrics' source). Reads every
    bucket of the account and region: for listing, not for a request's hot path."""
    seen: dict[str, tuple[str, str, dict[str, str]]] = {}
    flush(gateway)
    with gateway.db(SERVICE).tx(account, region) as tx:
        recs = tx.scan(KIND, f"{namespace}{_SEP}" if namespace else None)
    for rec in recs:
        key = rec.key if isinstance(rec.key, str) else rec.key.decode()
        head = key[: key.rindex(_SEP) + 1]
        if head not in seen:
            ns, name, dims, _ = head.split(_SEP)
            seen[head] = (ns, name, dict(d.split("=", 1) for d in dims.split(_DIM_SEP) if d) if dims else {})
    return list(seen.values())
