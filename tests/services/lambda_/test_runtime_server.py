"""The engine inside a real server: health shows it once started, a reset kills its
sandboxes, and a server killed with -9 takes its busy sandboxes with it."""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid

import pytest

from tests.cloud import Cloud
from tests.services.lambda_.runtime_support import gone
from tests.services.lambda_.test_invoke import ROLE, zipped

PID = '''
import os, time
def handler(event, context):
    if event.get("pidfile"):
        with open(event["pidfile"] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(event["pidfile"] + ".tmp", event["pidfile"])
        time.sleep(60)
    return os.getpid()
'''


@pytest.fixture
def own_cloud():
    c = Cloud()
    yield c
    c.kill()


def _function(lam) -> str:
    name = f"rt-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": zipped(PID)}, Timeout=90)
    return name


def test_health_reset_and_kill(own_cloud):
    lam = own_cloud.client("lambda")
    assert "lambda" not in own_cloud.admin("GET", "health")  # asking does not start an engine
    name = _function(lam)
    pid = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    health = own_cloud.admin("GET", "health")["lambda"]
    assert health["running"] and "python3.12" in health["runtimes"]
    assert any(arn.endswith(f":function:{name}") for arn in health["sandboxes"])

    own_cloud.admin("POST", "reset")
    assert gone(pid), "a reset left the function's sandbox running"

    name = _function(lam)
    pidfile = os.path.join(tempfile.mkdtemp(), "pid")
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"pidfile": pidfile}).encode())
    deadline = time.monotonic() + 15
    while not os.path.exists(pidfile):
        assert time.monotonic() < deadline, "the event invocation never ran"
        time.sleep(0.02)
    busy = int(open(pidfile).read())
    own_cloud.kill()
    assert gone(busy), "a busy sandbox outlived its server (kill -9)"
