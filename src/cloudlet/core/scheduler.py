"""Timed work: a function, a due time and a key, run in due order off the request path.

Services schedule work by name, so a job found in the store after a restart finds its
code again::

    scheduler.register("kms.delete_key", delete_key)            # from the package's register_jobs()
    scheduler.at("kms.delete/1234abcd", due, "kms.delete_key", {"account": ..., "key_id": ...})
    scheduler.every("s3.lifecycle", DAY, first=next_midnight, catch_up=True)
    scheduler.cancel("kms.delete/1234abcd")

A key starts with its service's name and a dot, and the function's name does too: a job
belongs to one service, is kept in that service's database (so a handler that schedules
work inside ``ctx.tx()`` commits both together, and resetting the service drops its
jobs), and runs that service's code. A package whose jobs may outlive the process
defines ``register_jobs(scheduler)``; it is called the first time one of its jobs is due.

One thread runs every job, in (due time, key) order: sleeping until the next is due in
real time, or stepping the clock through a jump (the scheduler is the clock's driver), so
a job runs *at* its due time: ``job.now`` is that time, and so is ``clock.now()`` for it
and every service it calls. A periodic job missed N times runs N times, each at its own
time, unless it declared ``catch_up``: then once, at the last missed time, with
``runs=N``. The store is the record of truth and the heap only an index of it: an entry
whose record is gone (cancelled, rolled back, reset) is dropped when it comes up.

Jobs run at least once: a crash between a job's effects and its rescheduling runs it
again at the next start, so a job is written to be safe to repeat. A job holds a
service's database only inside its own ``job.tx()``, so a slow job never blocks requests.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import math
import os
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from cloudlet.core import clock as clock_mod
from cloudlet.core.context import Context
from cloudlet.core.ids import request_id
from cloudlet.core.store import Conflict

if TYPE_CHECKING:
    from cloudlet.core.store import ServiceDB, Tx
    from cloudlet.server.gateway import Gateway

log = logging.getLogger("cloudlet.scheduler")

#: record kind of a job in its service's database, under the system scope below
KIND = "_cloudlet.job"
SCOPE = ("", "")  # no account, no region: jobs belong to the service

UTC = dt.timezone.utc
When = dt.datetime | float
Period = dt.timedelta | float


@dataclass(frozen=True, slots=True)
class Job:
    """One run of a job, as its function sees it."""

    key: str
    fn: str
    now: dt.datetime  # the due time this run is for: the time it runs "at"
    now_s: float  # the same, as epoch seconds
    payload: Any
    runs: int  # 1, or the number of periods a catch-up job missed
    period: float | None
    gateway: "Gateway" = field(repr=False, compare=False)

    @property
    def service(self) -> str:
        return self.key.partition(".")[0]

    def context(self, account: str, region: str = "") -> Context:
        """A context in `account`/`region` acting as the service itself (``s3.amazonaws.com``),
        for ``.tx()`` on the service's state and ``.aws(...)`` calls to other services."""
        return Context(
            account=account,
            region=region,
            principal_arn=f"{self.service}.amazonaws.com",
            access_key="",
            request_id=request_id(),
            service=self.service,
            operation=self.fn,
            user_agent=f"cloudlet-scheduler ({self.key})",
            internal=True,
            gateway=self.gateway,
        )

    def tx(self, account: str, region: str = "") -> AbstractContextManager["Tx"]:
        return self.context(account, region).tx()


JobFn = Callable[[Job], None]


@dataclass(slots=True)
class _Slot:
    """The index entry of one job: where it sits in the heap, and what its record says."""

    due: float  # heap position: the record's due time, or the last missed one for a catch-up
    base: float  # the record's due time
    period: float | None
    catch_up: bool
    runs: int = 1


def service_of(name: str) -> str:
    """The service a job key or function name belongs to: the part before the first dot."""
    service, dot, rest = name.partition(".")
    if not (service and dot and rest):
        raise ValueError(f"job name {name!r} must start with its service and a dot, as in 's3.lifecycle'")
    return service


def _seconds(when: When) -> float:
    if isinstance(when, dt.datetime):
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
        raise ValueError(f"a due time is a datetime or epoch seconds, not {when!r}")
    return float(when)


def _period(period: Period) -> float:
    seconds = period.total_seconds() if isinstance(period, dt.timedelta) else period
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a period is a positive number of seconds or a timedelta, not {period!r}")
    return float(seconds)


class Scheduler:
    """Runs jobs on one background thread; see the module docstring."""

    def __init__(self, gateway: "Gateway", clock: clock_mod.Clock = clock_mod.DEFAULT) -> None:
        self.gateway = gateway
        self.clock = clock
        self._fns: dict[str, JobFn] = {}
        self._hooked: set[str] = set()
        self._cond = threading.Condition()
        self._heap: list[tuple[float, str]] = []
        self._slots: dict[str, _Slot] = {}
        self._goal: float | None = None  # a jump being stepped through (a clock offset)
        self._asked = 0  # jumps asked for, numbered ...
        self._landed = 0  # ... and the last one landed (everything due by it has run)
        self._stopping = False
        self._thread: threading.Thread | None = None

    # what services call -------------------------------------------------------------
    def register(self, name: str, fn: JobFn) -> None:
        """Name the code a job runs; the name is what the store keeps."""
        service_of(name)
        self._fns[name] = fn

    def at(self, key: str, due: When, fn: str, payload: Any = None) -> None:
        """Run `fn` once at `due` (replacing any job with this key). `payload` is stored
        with the job (CBOR: plain data) and handed to the function."""
        service = self._check(key, fn)
        due_s = _seconds(due)
        with self._db(service).tx(*SCOPE) as tx:
            tx.put(KIND, key, {"fn": fn, "due": due_s, "period": None, "catch_up": False, "payload": payload})
        self._index(key, _Slot(due_s, due_s, None, False))

    def every(
        self,
        key: str,
        period: Period,
        fn: str | None = None,
        *,
        first: When | None = None,
        catch_up: bool = False,
        payload: Any = None,
    ) -> float:
        """Run `fn` (default: the function named like `key`) every `period`, from `first`
        (default: one period from now). Returns the next due time.

        Registering again with the same function, period and catch-up keeps the schedule
        (so a service may register at every start); a change starts it again from `first`.
        """
        fn = fn or key
        service = self._check(key, fn)
        period_s = _period(period)
        with self._db(service).tx(*SCOPE) as tx:
            rec = tx.get(KIND, key)
            old: dict[str, Any] = rec.value if rec is not None else {}
            spec = {"fn": fn, "period": period_s, "catch_up": bool(catch_up)}
            if old and all(old.get(k) == v for k, v in spec.items()):
                due = float(old["due"])
                if old.get("payload") != payload:
                    tx.put(KIND, key, {**old, "payload": payload})
            else:
                due = _seconds(first) if first is not None else self.clock.time_s() + period_s
                tx.put(KIND, key, {**spec, "due": due, "payload": payload})
        self._index(key, _Slot(due, due, period_s, bool(catch_up)))
        return due

    def cancel(self, key: str) -> bool:
        """Drop a job; False if there was none."""
        with self._db(service_of(key)).tx(*SCOPE) as tx:
            existed = tx.delete(KIND, key)
        with self._cond:
            self._slots.pop(key, None)  # its heap entry is now stale and skipped
        return existed

    def pending(self) -> int:
        """Jobs due by the clock's goal that have not finished (0 once a jump is done)."""
        horizon = time.time() + max(self.clock.offset(), self.clock.goal())
        with self._cond:
            return sum(1 for s in self._slots.values() if s.base <= horizon)

    # life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Resume time as it was (the offset kept in the data directory), index the stored
        jobs (overdue ones run at once), and take over the clock's jumps."""
        if self._thread is not None:
            return
        root = self.gateway.store.root
        self.clock.persist_to(os.path.join(root, "clock.json") if root is not None else None)
        self._load()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="cloudlet-scheduler", daemon=True)
        self.clock.drive(self._drive, self._thread)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the job in hand and stop; the jobs stay in the store for the next start."""
        thread = self._thread
        if thread is None:
            return
        self.clock.drive(None)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        thread.join(timeout)
        self._thread = None
        self.clock.settle(self.clock.goal())

    # the thread ----------------------------------------------------------------------
    def _drive(self, goal: float, wait: float) -> None:
        """The clock's driver: have the thread step through to `goal`, and wait until it
        has (a jump of 0 still waits for whatever is overdue)."""
        with self._cond:
            self._goal = goal if self._goal is None else max(self._goal, goal)
            self._asked += 1
            ticket = self._asked
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._landed >= ticket or self._stopping, timeout=wait)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                goal = self._goal
                horizon = time.time() + (goal if goal is not None else self.clock.offset())
                top = self._top()
                if top is None or top[0] > horizon:
                    if goal is not None:  # nothing more is due inside the jump: land on its goal
                        self.clock.settle(goal)
                        self._landed = self._asked
                        self._goal = None
                        self._cond.notify_all()
                    else:
                        self._cond.wait(None if top is None else max(0.0, top[0] - self.clock.time_s()))
                    continue
                heapq.heappop(self._heap)
                key = top[1]
                slot = self._slots[key]
                if slot.catch_up and slot.runs == 1 and slot.period is not None:
                    missed = int((horizon - slot.base) // slot.period) + 1
                    if missed > 1:  # run once, in its place at the last missed time
                        slot.runs = missed
                        slot.due = slot.base + (missed - 1) * slot.period
                        heapq.heappush(self._heap, (slot.due, key))
                        continue
            try:
                self._run(key, slot, stepping=goal is not None)
            except Exception:  # our own bookkeeping failed: say so, forget the entry, keep going
                log.exception("scheduler could not run job %s", key)
                self._forget(key, slot)

    def _top(self) -> tuple[float, str] | None:
        """The next live heap entry (stale ones are dropped); call with the lock held."""
        heap = self._heap
        while heap:
            due, key = heap[0]
            slot = self._slots.get(key)
            if slot is not None and slot.due == due:
                return heap[0]
            heapq.heappop(heap)
        return None

    def _run(self, key: str, slot: _Slot, stepping: bool) -> None:
        db = self._db(service_of(key))
        with db.tx(*SCOPE) as tx:
            rec = tx.get(KIND, key)
        if rec is None or rec.value.get("due") != slot.base:  # the index was stale: the store decides
            with self._cond:
                if self._slots.get(key) is slot:
                    del self._slots[key]
                    if rec is not None:
                        self._index_locked(key, _slot_of(rec.value))
            return
        spec = rec.value
        fn = self._function(spec["fn"])
        if fn is None:
            log.error("job %s names function %s, which nothing registered; kept for the next start", key, spec["fn"])
            self._forget(key, slot)
            return
        if stepping:
            self.clock.step_to(slot.due)
        job = Job(
            key=key,
            fn=spec["fn"],
            now=dt.datetime.fromtimestamp(slot.due, UTC),
            now_s=slot.due,
            payload=spec.get("payload"),
            runs=slot.runs,
            period=spec.get("period"),
            gateway=self.gateway,
        )
        try:
            fn(job)
        except Exception:
            log.exception("job %s (%s, due %s) failed", key, spec["fn"], job.now.isoformat())
        period = spec.get("period")
        nxt = _Slot(slot.due + period, slot.due + period, period, bool(spec.get("catch_up"))) if period else None
        try:
            with db.tx(*SCOPE) as tx:
                if nxt is not None:
                    tx.put(KIND, key, {**spec, "due": nxt.due}, expect=rec.version)
                else:
                    tx.delete(KIND, key, expect=rec.version)
        except Conflict:  # the job rescheduled or cancelled itself, or its service was reset
            nxt = None
        with self._cond:
            if self._slots.get(key) is slot:
                del self._slots[key]
                if nxt is not None:
                    self._index_locked(key, nxt)

    # helpers -------------------------------------------------------------------------
    def _check(self, key: str, fn: str) -> str:
        service = service_of(key)
        if service_of(fn) != service:
            raise ValueError(f"job {key!r} belongs to {service}; its function must too, not {fn!r}")
        return service

    def _db(self, service: str) -> "ServiceDB":
        return self.gateway.db(service)

    def _function(self, name: str) -> JobFn | None:
        fn = self._fns.get(name)
        if fn is None:
            service = service_of(name)
            if service not in self._hooked:
                self._hooked.add(service)
                from cloudlet.services import registry

                pkg = registry.package(service)
                hook = getattr(pkg, "register_jobs", None) if pkg is not None else None
                if hook is not None:
                    hook(self)
                fn = self._fns.get(name)
        return fn

    def _index(self, key: str, slot: _Slot) -> None:
        with self._cond:
            self._index_locked(key, slot)
            self._cond.notify_all()

    def _index_locked(self, key: str, slot: _Slot) -> None:
        """Always a new heap entry: the old one may be the job in hand, already popped. A
        duplicate is harmless: once the job runs, its slot moves on and the copy is stale."""
        self._slots[key] = slot
        heapq.heappush(self._heap, (slot.due, key))

    def _forget(self, key: str, slot: _Slot) -> None:
        with self._cond:
            if self._slots.get(key) is slot:
                del self._slots[key]

    def _load(self) -> None:
        store = self.gateway.store
        for service in store.services():
            with self._db(service).tx(*SCOPE) as tx:
                records = tx.scan(KIND)
            with self._cond:
                for rec in records:
                    if isinstance(rec.key, str):
                        self._index_locked(rec.key, _slot_of(rec.value))


def _slot_of(spec: dict[str, Any]) -> _Slot:
    due = float(spec["due"])
    return _Slot(due, due, spec.get("period"), bool(spec.get("catch_up")))
