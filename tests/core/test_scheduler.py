"""The scheduler over an in-memory store (and a data directory for restarts).

Every scheduler here drives its own ``Clock``, so the process clock is never moved.
``clock.advance`` returns once the work due inside the jump has run, so a test asserts
right after it; ``advance(0)`` waits for whatever is overdue.
"""

from __future__ import annotations

import logging
import math
import threading
import types
from typing import Any, Iterator

import pytest

from cloudlet.core.clock import Clock
from cloudlet.core.scheduler import KIND, SCOPE, Job, Scheduler
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services import registry

DAY = 86400.0


@pytest.fixture
def gw() -> Gateway:
    return Gateway(Config(ephemeral=True))


@pytest.fixture
def sched(gw: Gateway) -> Iterator[Scheduler]:
    s = Scheduler(gw, Clock())
    yield s
    s.stop()


def start(s: Scheduler) -> float:
    """Start `s`; returns a whole-second time 100 s ahead, a safe first due time."""
    s.start()
    return math.floor(s.clock.time_s()) + 100


def note(seen: list[Any]):
    return lambda job: seen.append((job.key, job.now_s))


def stored(gw: Gateway, key: str) -> Any:
    with gw.db(key.partition(".")[0]).tx(*SCOPE) as tx:
        rec = tx.get(KIND, key)
    return rec and rec.value


def test_jobs_run_in_due_then_key_order_each_at_its_due_time(sched):
    seen: list[Any] = []
    sched.register("test.note", lambda job: seen.append((job.now_s, job.key, job.payload, job.runs)))
    t0 = start(sched)
    for key, due in [("test.c", t0 + 3 * DAY), ("test.b", t0 + DAY), ("test.a", t0 + DAY), ("test.z", t0)]:
        sched.at(key, due, "test.note", {"for": key})
    sched.clock.advance(2 * DAY)
    assert seen == [
        (t0, "test.z", {"for": "test.z"}, 1),
        (t0 + DAY, "test.a", {"for": "test.a"}, 1),
        (t0 + DAY, "test.b", {"for": "test.b"}, 1),
    ]
    sched.clock.advance(DAY + 200)
    assert [k for _, k, _, _ in seen] == ["test.z", "test.a", "test.b", "test.c"]
    assert all(stored(sched.gateway, k) is None for k in ("test.a", "test.b", "test.c", "test.z"))  # one-offs go


def test_jobs_run_in_real_time_without_a_jump(sched):
    ran = threading.Event()
    sched.register("test.soon", lambda job: ran.set())
    sched.start()
    sched.at("test.soon", sched.clock.time_s() + 0.05, "test.soon")
    assert ran.wait(timeout=10)
    assert sched.clock.offset() == 0


def test_a_jump_steps_the_clock_so_a_job_reads_its_own_time(sched):
    """Inside a job, clock.now() (what every service it calls reads) is its due time, not
    the end of the jump."""
    seen: list[tuple[float, float]] = []
    sched.register("test.daily", lambda job: seen.append((job.now_s, sched.clock.time_s())))
    t0 = start(sched)
    sched.every("test.daily", DAY, first=t0)
    sched.clock.advance(10 * DAY)
    assert [due for due, _ in seen] == [t0 + n * DAY for n in range(10)]
    for due, read in seen:
        assert due <= read < due + DAY
    assert sched.clock.offset() == 10 * DAY


def test_periodic_and_one_off_jobs_interleave_by_time(sched):
    seen: list[Any] = []
    sched.register("test.daily", note(seen))
    sched.register("test.once", note(seen))
    t0 = start(sched)
    sched.every("test.daily", DAY, first=t0)
    sched.at("test.once/1", t0 + 2.5 * DAY, "test.once")
    sched.at("test.once/2", t0 + 2 * DAY, "test.once")  # same time as a daily run: key order
    sched.clock.advance(4 * DAY)
    assert seen == [
        ("test.daily", t0), ("test.daily", t0 + DAY), ("test.daily", t0 + 2 * DAY),
        ("test.once/2", t0 + 2 * DAY), ("test.once/1", t0 + 2.5 * DAY), ("test.daily", t0 + 3 * DAY),
    ]


def test_a_catch_up_job_runs_once_for_the_periods_it_missed(sched):
    seen: list[Any] = []
    sched.register("test.sweep", lambda job: seen.append((job.now_s, job.runs)))
    sched.register("test.once", lambda job: seen.append((job.now_s, job.key)))
    t0 = start(sched)
    sched.every("test.sweep", DAY, first=t0, catch_up=True)
    sched.at("test.once/early", t0 + 3.5 * DAY, "test.once")  # before the sweep's last missed time
    sched.at("test.once/late", t0 + 9.5 * DAY, "test.once")  # after it
    sched.clock.advance(9.9 * DAY)
    # t0 .. t0+9d is ten periods: one run, at the last of them, in its place among the others
    assert seen == [(t0 + 3.5 * DAY, "test.once/early"), (t0 + 9 * DAY, 10), (t0 + 9.5 * DAY, "test.once/late")]
    sched.clock.advance(DAY)
    assert seen[-1] == (t0 + 10 * DAY, 1)


def test_registering_again_keeps_the_schedule_and_a_change_restarts_it(sched):
    t0 = start(sched)
    assert sched.every("test.tick", DAY, first=t0) == t0
    sched.clock.advance(0)
    assert sched.every("test.tick", DAY, first=t0 + 5 * DAY) == t0  # same job: the schedule stands
    assert sched.every("test.tick", 2 * DAY, first=t0 + 5 * DAY) == t0 + 5 * DAY  # new period: new start
    assert stored(sched.gateway, "test.tick")["period"] == 2 * DAY


def test_registering_again_while_the_job_runs_loses_no_run(sched):
    """A service may register its periodic job on any request, even one made by the job."""
    seen: list[Any] = []

    def tick(job: Job) -> None:
        seen.append(job.now_s)
        sched.every("test.tick", DAY, first=t0)

    sched.register("test.tick", tick)
    t0 = start(sched)
    sched.every("test.tick", DAY, first=t0)
    sched.clock.advance(3 * DAY)
    assert seen == [t0, t0 + DAY, t0 + 2 * DAY]


def test_cancel_drops_a_job(sched):
    seen: list[Any] = []
    sched.register("test.once", note(seen))
    t0 = start(sched)
    sched.at("test.once/a", t0, "test.once")
    sched.at("test.once/b", t0, "test.once")
    assert sched.cancel("test.once/a") is True
    assert sched.cancel("test.once/a") is False
    sched.clock.advance(DAY)
    assert seen == [("test.once/b", t0)]


def test_a_job_scheduled_in_a_rolled_back_transaction_never_runs(sched, gw):
    """Jobs live in their service's database, so they commit (or not) with the handler's write."""
    seen: list[Any] = []
    sched.register("test.once", note(seen))
    t0 = start(sched)
    with pytest.raises(RuntimeError):
        with gw.db("test").tx("123456789012", "us-east-1") as tx:
            tx.put("thing", "t-1", {"state": "deleting"})
            sched.at("test.delete/t-1", t0, "test.once")
            raise RuntimeError("the handler failed after scheduling")
    with gw.db("test").tx("123456789012", "us-east-1") as tx:
        sched.at("test.delete/t-2", t0, "test.once")
    sched.clock.advance(DAY)
    assert seen == [("test.delete/t-2", t0)]


def test_a_raising_job_is_logged_and_never_stops_the_others(sched, caplog):
    seen: list[Any] = []

    def boom(job: Job) -> None:
        seen.append((job.key, job.now_s))
        raise ValueError(f"broken at {job.now_s}")

    sched.register("test.boom", boom)
    sched.register("test.once", note(seen))
    t0 = start(sched)
    sched.every("test.boom", DAY, first=t0)
    sched.at("test.boom/once", t0, "test.boom")
    sched.at("test.once", t0 + 2 * DAY, "test.once")
    with caplog.at_level(logging.ERROR, logger="cloudlet.scheduler"):
        sched.clock.advance(2 * DAY + 200)
    assert seen == [
        ("test.boom", t0), ("test.boom/once", t0), ("test.boom", t0 + DAY),
        ("test.boom", t0 + 2 * DAY), ("test.once", t0 + 2 * DAY),
    ]
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 4 and all(r.exc_info and r.exc_info[0] is ValueError for r in failures)
    assert "test.boom/once" in failures[1].getMessage()
    assert stored(sched.gateway, "test.boom")["due"] == t0 + 3 * DAY  # periodic: rescheduled
    assert stored(sched.gateway, "test.boom/once") is None  # one-off: dropped after logging


def test_a_job_can_reschedule_or_cancel_itself(sched):
    seen: list[Any] = []

    def retry(job: Job) -> None:
        seen.append((job.key, job.now_s))
        if job.payload["left"]:
            sched.at(job.key, job.now_s + 3600, job.fn, {"left": job.payload["left"] - 1})

    def stop_self(job: Job) -> None:
        seen.append((job.key, job.now_s))
        sched.cancel(job.key)

    sched.register("test.retry", retry)
    sched.register("test.stop", stop_self)
    t0 = start(sched)
    sched.at("test.retry", t0, "test.retry", {"left": 2})
    sched.every("test.stop", DAY, first=t0 + 10)
    sched.clock.advance(3 * DAY)
    assert seen == [("test.retry", t0), ("test.stop", t0 + 10), ("test.retry", t0 + 3600), ("test.retry", t0 + 7200)]
    assert stored(sched.gateway, "test.retry") is None and stored(sched.gateway, "test.stop") is None


def test_a_job_acts_as_its_service_through_its_context(sched, gw):
    answers: list[Any] = []

    def work(job: Job) -> None:
        with job.tx("123456789012", "eu-west-1") as tx:
            tx.put("ran", "at", job.now_s)
        answers.append(job.context("123456789012", "eu-west-1").aws("sts").get_caller_identity())

    sched.register("test.work", work)
    t0 = start(sched)
    sched.at("test.work", t0, "test.work")
    sched.clock.advance(DAY)
    assert answers == [{"UserId": "", "Account": "123456789012", "Arn": "test.amazonaws.com"}]
    with gw.db("test").tx("123456789012", "eu-west-1") as tx:
        assert tx.get("ran", "at").value == t0


def test_a_reset_drops_the_jobs_of_the_reset_service_and_keeps_the_clock(sched, gw):
    seen: list[Any] = []
    sched.register("test.once", note(seen))
    sched.register("other.once", note(seen))
    t0 = start(sched)
    sched.at("test.once", t0, "test.once")
    sched.at("other.once", t0, "other.once")
    sched.clock.advance(0.5 * DAY, wait=5)
    seen.clear()
    sched.at("test.once", t0 + DAY, "test.once")
    sched.at("other.once", t0 + DAY, "other.once")
    gw.reset("test")
    assert sched.clock.offset() == 0.5 * DAY
    sched.clock.advance(DAY)
    assert seen == [("other.once", t0 + DAY)]
    sched.at("test.once", t0 + 2 * DAY, "test.once")  # a reset service schedules afresh
    gw.reset()
    sched.clock.advance(DAY)
    assert seen == [("other.once", t0 + DAY)] and sched.clock.offset() == 2.5 * DAY


def test_a_job_whose_code_is_unknown_is_kept_for_a_later_start(sched, caplog):
    t0 = start(sched)
    sched.at("test.orphan", t0, "test.gone")
    with caplog.at_level(logging.ERROR, logger="cloudlet.scheduler"):
        sched.clock.advance(DAY)
    assert any("test.gone" in r.getMessage() for r in caplog.records)
    assert stored(sched.gateway, "test.orphan")["due"] == t0


def test_a_service_package_registers_its_jobs_when_first_needed(sched, monkeypatch):
    seen: list[Any] = []
    hooked: list[str] = []

    def register_jobs(s: Scheduler) -> None:
        hooked.append("test")
        s.register("test.lazy", note(seen))

    real = registry.package
    monkeypatch.setattr(registry, "package", lambda name: types.SimpleNamespace(register_jobs=register_jobs)
                        if name == "test" else real(name))
    t0 = start(sched)
    sched.at("test.lazy/1", t0, "test.lazy")
    sched.at("test.lazy/2", t0 + 1, "test.lazy")
    sched.clock.advance(DAY)
    assert seen == [("test.lazy/1", t0), ("test.lazy/2", t0 + 1)] and hooked == ["test"]


def test_names_must_say_their_service(sched):
    with pytest.raises(ValueError, match="service and a dot"):
        sched.at("nodot", 0, "test.x")
    with pytest.raises(ValueError, match="belongs to test"):
        sched.at("test.x", 0, "other.x")
    with pytest.raises(ValueError, match="period"):
        sched.every("test.x", 0)


def _persistent(root: str, seen: list[Any]) -> Scheduler:
    s = Scheduler(Gateway(Config(data_dir=root)), Clock())
    s.register("test.tick", note(seen))
    s.register("test.once", note(seen))
    return s


def test_jobs_and_the_clock_survive_a_new_scheduler_on_the_same_data_dir(tmp_path):
    seen: list[Any] = []
    first = _persistent(str(tmp_path), seen)
    t0 = start(first)
    first.every("test.tick", DAY, first=t0)
    first.at("test.once", t0 + 2.5 * DAY, "test.once")
    first.clock.advance(DAY + 200)
    first.stop()
    first.gateway.store.close()
    assert seen == [("test.tick", t0), ("test.tick", t0 + DAY)]

    second = _persistent(str(tmp_path), seen)
    second.start()
    try:
        assert second.clock.offset() >= DAY + 200
        second.clock.advance(2 * DAY)
    finally:
        second.stop()
    assert seen[2:] == [("test.tick", t0 + 2 * DAY), ("test.once", t0 + 2.5 * DAY), ("test.tick", t0 + 3 * DAY)]


def test_overdue_jobs_run_at_start(tmp_path):
    seen: list[Any] = []
    first = _persistent(str(tmp_path), seen)
    t0 = start(first)
    first.at("test.once", t0 + DAY, "test.once")
    first.every("test.tick", DAY, first=t0 + 0.5 * DAY, catch_up=True)
    first.stop()
    first.gateway.store.close()
    while_stopped = Clock()  # time passes while cloudlet is down
    while_stopped.persist_to(str(tmp_path / "clock.json"))
    while_stopped.advance(3 * DAY)

    second = _persistent(str(tmp_path), seen)
    second.start()
    try:
        second.clock.advance(0)  # waits for the overdue work
    finally:
        second.stop()
    assert seen == [("test.once", t0 + DAY), ("test.tick", t0 + 2.5 * DAY)]
