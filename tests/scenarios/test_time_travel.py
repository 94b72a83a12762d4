"""Moving time on a running cloudlet: jobs run when due, in order, off the request path;
the clock persists across restarts and never goes back.

Tests that need timed work of their own run a real server in this process (uvicorn on a
free port, the same ``App``) so they can register job functions; the rest use
``cloudlet serve`` in a subprocess, as users do.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from typing import Any, Iterator

import boto3
import pytest
import uvicorn
from botocore.config import Config as BotoConfig

from cloudlet.core.clock import Clock
from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.server.app import App
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from tests.cloud import Cloud, free_port

DAY = 86400.0


@contextmanager
def served(register: dict[str, Any]) -> Iterator[tuple[str, Scheduler]]:
    """A real server in this process, on its own clock, with `register`ed job functions."""
    gw = Gateway(Config(ephemeral=True))
    gw.scheduler = Scheduler(gw, Clock())  # not the process clock: other tests sign with the wall time
    for name, fn in register.items():
        gw.scheduler.register(name, fn)
    gw.scheduler.start()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(App(gw), host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "in-process server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", gw.scheduler
    finally:
        server.should_exit = True
        thread.join(10)
        gw.scheduler.stop()


def admin(endpoint: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{endpoint}/_cloudlet/{path}", data=data, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def admin_error(endpoint: str, body: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(urllib.error.HTTPError) as err:
        admin(endpoint, "POST", "clock", body)
    return err.value.code, json.loads(err.value.read())


def test_400_days_run_a_daily_job_400_times_and_a_one_off_once_in_order():
    runs: list[tuple[str, float]] = []

    def record(job: Job) -> None:
        runs.append((job.key, job.now_s))

    with served({"test.daily": record, "test.once": record}) as (endpoint, sched):
        t0 = math.floor(sched.clock.time_s()) + 60
        sched.every("test.daily", DAY, first=t0)
        sched.at("test.once", t0 + 30 * DAY - 1, "test.once")  # just before the daily run of day 30
        started = time.perf_counter()
        answer = admin(endpoint, "POST", "clock", {"advance": 400 * DAY})
        took = time.perf_counter() - started
        print(f"\n400-day jump: {len(runs)} runs in {took * 1000:.0f} ms (POST /_cloudlet/clock round trip)")
        assert answer["offset_s"] == 400 * DAY and answer["pending"] == 0
        daily = [t for key, t in runs if key == "test.daily"]
        assert daily == [t0 + n * DAY for n in range(400)]  # each exactly when due, none twice
        assert runs.index(("test.once", t0 + 30 * DAY - 1)) == 30  # after day 29's run, before day 30's
        assert len(runs) == 401
        assert sched.clock.time_s() >= t0 + 399 * DAY


def test_a_slow_job_does_not_hold_up_requests():
    """While a job is still running, a request is answered: the job finishes only after
    the request returned (ordering, not timing)."""
    started, release = threading.Event(), threading.Event()
    events: list[str] = []

    def slow(job: Job) -> None:
        events.append("job started")
        started.set()
        released = release.wait(timeout=10)  # a job that would otherwise sleep for 10 s
        events.append("job finished" if released else "job timed out")

    with served({"test.slow": slow}) as (endpoint, sched):
        sched.at("test.slow", sched.clock.time_s(), "test.slow")
        assert started.wait(timeout=10)
        sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}))
        assert sts.get_caller_identity()["Account"]
        events.append("request answered")
        release.set()
        admin(endpoint, "POST", "clock", {"advance": 0})  # waits for the job in hand
    assert events == ["job started", "request answered", "job finished"]


def test_the_clock_survives_a_restart_and_a_reset_and_moves_by_set_and_the_cli(tmp_path):
    first = Cloud("--data-dir", str(tmp_path))
    try:
        moved = first.admin("POST", "clock", {"advance": 90 * DAY})
        assert moved["offset_s"] == 90 * DAY
    finally:
        first.stop()
    second = Cloud("--data-dir", str(tmp_path))
    try:
        state = second.admin("GET", "clock")
        assert state["offset_s"] >= 90 * DAY and when(state["now"]) >= when(moved["now"])
        out = subprocess.run([sys.executable, "-m", "cloudlet", "clock", "--endpoint", second.endpoint, "advance", "10d"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["offset_s"] >= 100 * DAY
        target = (when(state["now"]) + dt.timedelta(days=800)).replace(microsecond=0)
        jumped = second.admin("POST", "clock", {"set": target.isoformat().replace("+00:00", "Z")})
        assert when(jumped["now"]) >= target
        second.admin("POST", "reset")
        assert second.admin("GET", "clock")["offset_s"] >= jumped["offset_s"]  # a reset keeps the time
    finally:
        second.stop()


def test_the_clock_never_goes_back(cloud):
    before = cloud.admin("GET", "clock")
    code, body = admin_error(cloud.endpoint, {"set": "2001-01-01T00:00:00Z"})
    assert code == 400 and "only moves forward" in body["error"] and "2001-01-01" in body["error"]
    code, body = admin_error(cloud.endpoint, {"advance": -60})
    assert code == 400 and "only moves forward" in body["error"]
    code, body = admin_error(cloud.endpoint, {"advance": "1d"})
    assert code == 400 and "number of seconds" in body["error"]
    out = subprocess.run([sys.executable, "-m", "cloudlet", "clock", "--endpoint", cloud.endpoint,
                          "set", "2001-01-01T00:00:00Z"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "only moves forward" in out.stderr
    after = cloud.admin("GET", "clock")
    assert after["offset_s"] >= before["offset_s"] and when(after["now"]) >= when(before["now"])
