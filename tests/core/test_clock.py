"""The clock: forward only, persisted, and handing jumps to its driver.

Each test makes its own ``Clock``: the process clock (``clock.DEFAULT``) is left alone,
since other tests sign requests with the wall time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time

import pytest

from cloudlet.core.clock import BackwardsError, Clock
from cloudlet.core.datadir import DataDirError

DAY = 86400.0


def test_advance_adds_to_the_offset_and_now_follows():
    c = Clock()
    before = c.time_s()
    assert c.advance(90 * DAY) == 90 * DAY
    assert c.advance(30) == 90 * DAY + 30
    assert c.offset() == c.goal() == 90 * DAY + 30
    assert c.time_s() >= before + 90 * DAY + 30
    assert c.now().tzinfo is dt.timezone.utc
    assert abs(c.now().timestamp() - c.time_s()) < 60  # same clock, read twice


@pytest.mark.parametrize("bad", [-1, -0.001, float("nan"), float("inf"), "10", True, None])
def test_advance_refuses_anything_but_a_forward_number(bad):
    c = Clock()
    with pytest.raises(ValueError):
        c.advance(bad)
    assert c.offset() == 0


def test_a_negative_advance_says_why():
    with pytest.raises(BackwardsError, match="only moves forward"):
        Clock().advance(-5)


def test_advance_past_year_9999_is_refused():
    c = Clock()
    with pytest.raises(ValueError, match="9999"):
        c.advance(9000 * 365 * DAY)
    assert c.offset() == 0


def test_set_to_jumps_forward_and_refuses_the_past():
    c = Clock()
    target = dt.datetime.fromtimestamp(time.time(), dt.timezone.utc) + dt.timedelta(days=400)
    c.set_to(target)
    assert c.time_s() >= target.timestamp()
    with pytest.raises(BackwardsError, match="only moves forward.*before the cloudlet time"):
        c.set_to(target - dt.timedelta(days=1))
    assert c.time_s() >= target.timestamp()


def test_set_to_a_naive_time_means_utc():
    c = Clock()
    naive = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(days=2)
    c.set_to(naive)
    assert c.time_s() >= naive.replace(tzinfo=dt.timezone.utc).timestamp()


def test_set_to_the_callers_now_is_not_refused_and_moves_nothing():
    """The caller read "now" a moment before we did: within a second is still now."""
    c = Clock()
    c.advance(DAY)
    c.set_to(c.now() - dt.timedelta(milliseconds=500))
    assert c.offset() == DAY


def test_the_offset_survives_a_new_clock_on_the_same_file(tmp_path):
    path = str(tmp_path / "clock.json")
    first = Clock()
    first.persist_to(path)
    first.advance(7 * DAY)
    assert sorted(os.listdir(tmp_path)) == ["clock.json"]  # written by rename: no temp file left
    second = Clock()
    second.persist_to(path)
    assert second.offset() >= 7 * DAY
    assert second.time_s() >= first.time_s() - 1


def test_time_does_not_go_back_when_the_machine_clock_did(tmp_path):
    """The file keeps the last cloudlet time too; a wall clock set back cannot undo it."""
    path = tmp_path / "clock.json"
    seen = time.time() + 5 * DAY  # as if written when the wall clock read 5 days later
    path.write_text(json.dumps({"offset_s": 0.0, "now_s": seen}))
    c = Clock()
    c.persist_to(str(path))
    assert c.time_s() >= seen


def test_an_ephemeral_clock_writes_nothing(tmp_path):
    c = Clock()
    c.persist_to(None)
    c.advance(DAY)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("text", ["not json", "[]", '{"offset": 1}', '{"offset_s": "x"}'])
def test_a_damaged_clock_file_stops_the_start_rather_than_guess(tmp_path, text):
    path = tmp_path / "clock.json"
    path.write_text(text)
    with pytest.raises(DataDirError, match="clock.json"):
        Clock().persist_to(str(path))


def test_a_driver_gets_the_goal_and_the_wait():
    c = Clock()
    calls = []

    def driver(goal: float, wait: float) -> None:
        calls.append((goal, wait, c.offset()))
        c.settle(goal)

    c.drive(driver, threading.Thread(target=lambda: None))
    c.advance(DAY, wait=3)
    assert calls == [(DAY, 3, 0.0)]  # the driver moves the clock, not advance
    assert c.offset() == DAY


def test_step_to_moves_forward_only_and_never_past_the_goal():
    c = Clock()
    c.drive(lambda goal, wait: None, threading.Thread(target=lambda: None))
    c.advance(10 * DAY, wait=0)
    assert c.offset() == 0 and c.goal() == 10 * DAY  # the driver has not stepped yet
    c.step_to(time.time() + 3 * DAY)
    assert 3 * DAY - 60 < c.offset() <= 3 * DAY
    c.step_to(time.time() + DAY)  # earlier: no move
    assert c.offset() > 2 * DAY
    c.step_to(time.time() + 50 * DAY)  # past the goal: stops at it
    assert c.offset() == 10 * DAY


def test_the_driver_thread_cannot_move_the_clock():
    c = Clock()
    errors = []

    def on_driver_thread() -> None:
        try:
            c.advance(DAY)
        except RuntimeError as err:
            errors.append(str(err))

    t = threading.Thread(target=on_driver_thread)
    c.drive(lambda goal, wait: None, t)
    t.start()
    t.join()
    assert errors and "cannot move the clock" in errors[0]

