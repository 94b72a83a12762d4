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
too, and a crash between the two commits loses at most that one data point.
"""

from __future__ import annotations

import datetime as dt
import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cloudlet.core.context import Context

if TYPE_CHECKING:
    from cloudlet.core.store import Tx
    from cloudlet.server.gateway import Gateway

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
        with metrics_tx(ctx_or_tx.gateway, ctx_or_tx.account, ctx_or_tx.region) as tx:
            _add(tx, namespace, metric, dimensions, float(value), unit, at)
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
    with gateway.db(SERVICE).tx(account, region) as tx:
        recs = tx.scan(KIND, f"{namespace}{_SEP}" if namespace else None)
    for rec in recs:
        key = rec.key if isinstance(rec.key, str) else rec.key.decode()
        head = key[: key.rindex(_SEP) + 1]
        if head not in seen:
            ns, name, dims, _ = head.split(_SEP)
            seen[head] = (ns, name, dict(d.split("=", 1) for d in dims.split(_DIM_SEP) if d) if dims else {})
    return list(seen.values())
