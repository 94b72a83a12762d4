"""Provisioned capacity that runs out: ``ProvisionedThroughputExceededException``.

A PROVISIONED table has a token bucket for reads and one for writes, and so does each of
its global secondary indexes (a local index draws on its table's). A bucket refills at
the provisioned rate on the cloudlet clock and holds at most ``BURST_S`` (300) seconds of
it: the unused capacity DynamoDB keeps for bursts. A new bucket starts full. The rate
is read from the table record on every request, so an UpdateTable takes effect at once
(a lower rate also lowers what the bucket may hold). PAY_PER_REQUEST tables are never
throttled, and ``cloudlet serve --no-throttle`` (``Config.throttle``) turns all of it off.

A request is let in while its buckets are above zero, then its actual units are taken,
which may leave a bucket below zero until the refill pays the debt. That is how a
400 KB write still succeeds on a 1-WCU table (as in AWS) and then blocks writes for a
while; a read's cost is only known once read, and reads change nothing, so reads are
checked when read and refused before anything is answered. Writes are checked before
anything is written: the table's bucket before the condition is evaluated (a throttled
request does not report its condition), the buckets of the GSIs the write would change
once the new item is known. A write whose condition fails still consumes capacity.

Batches take what they can: an item or key refused for capacity goes back in
``UnprocessedItems``/``UnprocessedKeys``, and only when every one was refused does the
batch fail with the exception. A transaction on a throttled table or GSI is cancelled
with reason ``ProvisionedThroughputExceeded`` on the actions of that table.

Buckets live in memory, per gateway: a restart gives every table its full burst again.
They are keyed by the table's random id, so a re-created table starts afresh.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any, Iterable

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import capacity, metrics, storage, values
from cloudlet.services.dynamodb.storage import Item, Table

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway

BURST_S = 300.0
CODE = "ProvisionedThroughputExceededException"
TABLE_MESSAGE = ("The level of configured provisioned throughput for the table was exceeded. Consider increasing "
                 "your provisioning level with the UpdateTable API.")
INDEX_MESSAGE = ("The level of configured provisioned throughput for one or more global secondary indexes of the "
                 "table was exceeded. Consider increasing your provisioning level for the under-provisioned global "
                 "secondary indexes with the UpdateTable API.")
REASON = "ProvisionedThroughputExceeded"  # a transaction's cancellation reason code

Index = dict[str, Any]
Key = tuple[str, str, bytes, str, str]
_NO_INDEXES: tuple[float, list[tuple[Index, float]]] = (0.0, [])


class Buckets:
    """Token levels: ``[tokens, last refill time]`` per (account, region, table id, index
    name or "", "r" or "w"). `draw` checks and takes under the lock; callers that check
    several buckets before taking from any hold `lock` around `level` and `charge`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._levels: dict[Key, list[float]] = {}

    def _refill(self, key: Key, rate: float, now: float) -> list[float]:
        cap = rate * BURST_S
        b = self._levels.get(key)
        if b is None:
            b = self._levels[key] = [cap, now]
            return b
        if now > b[1]:
            b[0] += (now - b[1]) * rate
            b[1] = now
        if b[0] > cap:  # also when UpdateTable lowered the rate
            b[0] = cap
        return b

    def level(self, key: Key, rate: float, now: float) -> float:
        return self._refill(key, rate, now)[0]

    def charge(self, key: Key, rate: float, units: float, now: float) -> None:
        self._refill(key, rate, now)[0] -= units

    def draw(self, key: Key, rate: float, units: float, now: float) -> bool:
        """Take `units` if the bucket is above zero; False (nothing taken) if not. (The
        refill is inlined: this is on every read of a provisioned table.)"""
        cap = rate * BURST_S
        with self.lock:
            b = self._levels.get(key)
            if b is None:
                b = self._levels[key] = [cap, now]
            else:
                if now > b[1]:
                    b[0] += (now - b[1]) * rate
                    b[1] = now
                if b[0] > cap:
                    b[0] = cap
                if b[0] <= 0:
                    return False
            b[0] -= units
            return True


_MADE = threading.Lock()


def buckets(gateway: "Gateway") -> Buckets:
    """The gateway's buckets, made on first use."""
    b = getattr(gateway, "_dynamodb_buckets", None)
    if b is None:
        with _MADE:
            b = getattr(gateway, "_dynamodb_buckets", None)
            if b is None:
                b = Buckets()
                gateway._dynamodb_buckets = b  # type: ignore[attr-defined]
    return b


def _metered(ctx: Context, table: Table) -> Buckets | None:
    """The buckets, when this table's capacity is enforced."""
    if table["billing"] != "PROVISIONED" or not table.get("throughput"):
        return None
    gateway = ctx.gateway
    if gateway is None or not gateway.config.throttle:
        return None
    b = getattr(gateway, "_dynamodb_buckets", None)
    return b if b is not None else buckets(gateway)


def _key(ctx: Context, table: Table, index: Index | None, kind: str) -> Key:
    return (ctx.account, ctx.region, table["id"], index["IndexName"] if index is not None else "", kind)


def _rate(spec: dict[str, Any] | None, write: bool) -> float | None:
    if not spec:
        return None
    return float(spec["WriteCapacityUnits" if write else "ReadCapacityUnits"])


def _name(index: Index | None) -> str | None:
    return index["IndexName"] if index is not None else None


def exceeded(table: Table, write: bool, indexes: Iterable[Index] = ()) -> ServiceError:
    """The exception, naming what ran out (AWS's ``ThrottlingReasons``)."""
    op = "Write" if write else "Read"
    indexes = list(indexes)
    if indexes:
        reasons = [{"reason": f"Index{op}ProvisionedThroughputExceeded",
                    "resource": f"{table['arn']}/index/{i['IndexName']}"} for i in indexes]
        message = INDEX_MESSAGE
    else:
        reasons = [{"reason": f"Table{op}ProvisionedThroughputExceeded", "resource": table["arn"]}]
        message = TABLE_MESSAGE
    return ServiceError(CODE, message, 400, fields={"ThrottlingReasons": reasons})


# reads ----------------------------------------------------------------------------------------
def read(ctx: Context, table: Table, units: float, index: Index | None = None, returned: int | None = None) -> None:
    """A read of `units` from the table, or from `index` (a GSI has its own capacity, an
    LSI uses its table's). Raises when the capacity is spent."""
    gsi = index if index is not None and not index["local"] else None
    if table["billing"] == "PROVISIONED" and not _draw_read(ctx, table, units, gsi):
        metrics.throttled(table["name"], False, _name(gsi))
        raise exceeded(table, False, [gsi] if gsi is not None else ())
    metrics.consumed(table["name"], units, False, gsi["IndexName"] if gsi is not None else None)
    if returned is not None:
        metrics.returned(table["name"], returned)


def try_read(ctx: Context, table: Table, units: float) -> bool:
    """One key of a batch: False (nothing consumed) when the table's capacity is spent."""
    if table["billing"] == "PROVISIONED" and not _draw_read(ctx, table, units, None):
        metrics.throttled(table["name"], False)
        return False
    metrics.consumed(table["name"], units, False)
    return True


def _draw_read(ctx: Context, table: Table, units: float, gsi: Index | None) -> bool:
    spec = table.get("throughput") if gsi is None else gsi.get("throughput")
    gateway = ctx.gateway
    if not spec or gateway is None or not gateway.config.throttle:
        return True
    b = getattr(gateway, "_dynamodb_buckets", None) or buckets(gateway)
    key = (ctx.account, ctx.region, table["id"], gsi["IndexName"] if gsi is not None else "", "r")
    return b.draw(key, float(spec["ReadCapacityUnits"]), units, clock.time_s())


# writes ---------------------------------------------------------------------------------------
def admit_write(ctx: Context, table: Table) -> None:
    """Before a write's condition is evaluated: refuse it if the table's writes are spent."""
    b = _metered(ctx, table)
    rate = _rate(table["throughput"], True) if b is not None else None
    if b is None or rate is None:
        return
    with b.lock:
        if b.level(_key(ctx, table, None, "w"), rate, clock.time_s()) <= 0:
            metrics.throttled(table["name"], True)
            raise exceeded(table, True)


def refused_write(ctx: Context, table: Table, old: Item | None) -> None:
    """A write whose condition failed: it still consumes the units of the item it read."""
    _charge_writes(ctx, table, capacity.write_units(old, None), ())


def write(ctx: Context, table: Table, old: Item | None, new: Item | None, new_size: int | None = None,
          old_bound: int | None = None) -> float:
    """A write `admit_write` let in, once its new item is known: refused if a GSI it
    changes is spent, else its units are consumed. Returns the table's own units (what
    ``ConsumedCapacity`` reports)."""
    units = capacity.write_units(old, new, new_size, old_bound)
    lsi, gsis = index_writes(table, old, new)
    b = _metered(ctx, table)
    if b is not None and gsis:
        now = clock.time_s()
        with b.lock:
            spent = _spent_gsis(ctx, b, table, gsis, now)
            if spent:
                raise exceeded(table, True, spent)
    _charge_writes(ctx, table, units + lsi, gsis)
    return units


def try_write(ctx: Context, table: Table, old: Item | None, new: Item | None) -> float | ServiceError:
    """One write of a batch: its table units, or (nothing consumed) the refusal when the
    table or a GSI it changes is spent, for the batch to raise if nothing went through."""
    units = capacity.write_units(old, new)
    lsi, gsis = index_writes(table, old, new)
    b = _metered(ctx, table)
    rate = _rate(table["throughput"], True) if b is not None else None
    if b is not None and rate is not None:
        now = clock.time_s()
        with b.lock:
            if b.level(_key(ctx, table, None, "w"), rate, now) <= 0:
                metrics.throttled(table["name"], True)
                return exceeded(table, True)
            spent = _spent_gsis(ctx, b, table, gsis, now) if gsis else None
            if spent:
                return exceeded(table, True, spent)
    _charge_writes(ctx, table, units + lsi, gsis)
    return units


def _spent_gsis(ctx: Context, b: Buckets, table: Table, gsis: list[tuple[Index, float]], now: float) -> list[Index]:
    """The GSIs among `gsis` whose writes are spent (each noted as a throttle event)."""
    spent = []
    for index, _units in gsis:
        rate = _rate(index.get("throughput"), True)
        if rate is not None and b.level(_key(ctx, table, index, "w"), rate, now) <= 0:
            metrics.throttled(table["name"], True, index["IndexName"])
            spent.append(index)
    return spent


def _charge_writes(ctx: Context, table: Table, units: float, gsis: Iterable[tuple[Index, float]]) -> None:
    b = _metered(ctx, table)
    if b is not None:
        now = clock.time_s()
        with b.lock:
            rate = _rate(table["throughput"], True)
            if rate is not None:
                b.charge(_key(ctx, table, None, "w"), rate, units, now)
            for index, n in gsis:
                rate = _rate(index.get("throughput"), True)
                if rate is not None:
                    b.charge(_key(ctx, table, index, "w"), rate, n, now)
    metrics.consumed(table["name"], units, True)
    for index, n in gsis:
        metrics.consumed(table["name"], n, True, index["IndexName"])


def index_writes(table: Table, old: Item | None, new: Item | None) -> tuple[float, list[tuple[Index, float]]]:
    """What a write costs its secondary indexes: (units for its LSIs, which its table
    pays; [(GSI, units)] for the GSIs it changes), by DynamoDB's rules: putting or
    deleting an index entry is one write of the entry's size, moving it (its index key
    changed) two, rewriting it (projected attributes changed) one of the larger."""
    indexes = table.get("indexes")
    if not indexes:
        return _NO_INDEXES
    lsi = 0.0
    gsis: list[tuple[Index, float]] = []
    for index in indexes:
        units = _entry_units(table, index, old, new)
        if units:
            if index["local"]:
                lsi += units
            else:
                gsis.append((index, units))
    return lsi, gsis


def _entry_units(table: Table, index: Index, old: Item | None, new: Item | None) -> float:
    before = storage.index_key(table, index, old) if old is not None else None
    after = storage.index_key(table, index, new) if new is not None else None
    if before is None and after is None:
        return 0.0
    if after is None:
        assert old is not None
        return _kb(storage.project(index, table, old))
    assert new is not None
    entry = storage.project(index, table, new)
    if before is None:
        return _kb(entry)
    assert old is not None
    previous = storage.project(index, table, old)
    if before != after:
        return _kb(previous) + _kb(entry)
    return 0.0 if previous == entry else max(_kb(previous), _kb(entry))


def _kb(entry: Item) -> float:
    return float(max(1, math.ceil(values.item_size(entry) / 1024)))


# transactions ---------------------------------------------------------------------------------
def admit_transaction(ctx: Context, actions: list[Any]) -> list[dict[str, Any] | None] | None:
    """Before a transaction's conditions are evaluated: the cancellation reasons when a
    table it reads or writes is spent, else None. `actions` are bound
    ``transactions.WriteAction``/``GetAction``s."""
    refused: dict[tuple[str, bool], bool] = {}
    reasons: list[dict[str, Any] | None] = []
    for a in actions:
        table = a.table
        write = getattr(a, "kind", "Get") not in ("Get", "ConditionCheck")
        verdict = refused.get((table["name"], write))
        if verdict is None:
            verdict = refused[(table["name"], write)] = _spent(ctx, table, write)
        reasons.append({"Code": REASON, "Message": TABLE_MESSAGE} if verdict else None)
    return reasons if any(r is not None for r in reasons) else None


def _spent(ctx: Context, table: Table, write: bool) -> bool:
    b = _metered(ctx, table)
    rate = _rate(table["throughput"], write) if b is not None else None
    if b is None or rate is None:
        return False
    with b.lock:
        if b.level(_key(ctx, table, None, "w" if write else "r"), rate, clock.time_s()) > 0:
            return False
    metrics.throttled(table["name"], write)
    return True


def charge_transaction(ctx: Context, actions: list[Any]) -> list[dict[str, Any] | None] | None:
    """After a transaction's conditions held: the cancellation reasons when a GSI its
    writes change is spent, else None, and every unit consumed (twice the plain units,
    as a transaction costs)."""
    plans = []
    reasons: list[dict[str, Any] | None] = []
    for a in actions:
        table = a.table
        read, write = a.units()
        lsi, gsis = index_writes(table, a.old, a.new) if write else _NO_INDEXES
        plans.append((table, read * 2, (write + lsi) * 2, [(i, n * 2) for i, n in gsis]))
        b = _metered(ctx, table)
        spent: list[Index] = []
        if b is not None and gsis:
            with b.lock:
                spent = _spent_gsis(ctx, b, table, gsis, clock.time_s())
        reasons.append({"Code": REASON, "Message": INDEX_MESSAGE} if spent else None)
    if any(r is not None for r in reasons):
        return reasons
    for table, read, write, gsis in plans:
        if read:
            _take_read(ctx, table, read)
        if write or gsis:
            _charge_writes(ctx, table, write, gsis)
    return None


def _take_read(ctx: Context, table: Table, units: float) -> None:
    b = _metered(ctx, table)
    rate = _rate(table["throughput"], False) if b is not None else None
    if b is not None and rate is not None:
        with b.lock:
            b.charge(_key(ctx, table, None, "r"), rate, units, clock.time_s())
    metrics.consumed(table["name"], units, False)
