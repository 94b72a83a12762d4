"""Acknowledged Event invocations survive kill -9: a queued retry runs after the restart,
and an attempt the crash interrupted runs again once its timeout has passed."""

from __future__ import annotations

import time
import uuid

from tests.cloud import Cloud
from tests.services.lambda_.test_async import attempts, counting_function, wait_attempts
from tests.services.lambda_.test_invoke import ROLE, zipped

SLOW = '''
import os, time
def handler(event, context):
    with open(os.environ["MARK"], "a") as f:
        f.write(context.aws_request_id + "\\n")
    time.sleep(float(event.get("sleep", 0)))
    return "ok"
'''


def test_queued_retry_and_interrupted_attempt_survive_a_crash(tmp_path):
    import os
    import tempfile

    data = str(tmp_path / "data")
    cloud = Cloud("--data-dir", data)
    try:
        lam = cloud.client("lambda")
        failing, fail_mark = counting_function(lam)
        lam.invoke(FunctionName=failing, InvocationType="Event", Payload=b'{"fail": true}')
        wait_attempts(fail_mark, 1)

        slow_mark = os.path.join(tempfile.mkdtemp(prefix="cloudlet-lambda-test-"), "attempts")
        slow = f"s-{uuid.uuid4().hex[:8]}"
        lam.create_function(FunctionName=slow, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": zipped(SLOW)}, Timeout=5, Environment={"Variables": {"MARK": slow_mark}})
        lam.invoke(FunctionName=slow, InvocationType="Event", Payload=b'{"sleep": 30}')
        wait_attempts(slow_mark, 1)
        time.sleep(0.5)  # the failing function's first attempt has been settled (retry queued)
        cloud.kill()
    except BaseException:
        cloud.kill()
        raise

    cloud = Cloud("--data-dir", data)
    try:
        time.sleep(0.5)
        assert attempts(fail_mark) == 1 and attempts(slow_mark) == 1  # nothing ran again by itself yet
        cloud.advance(61)
        wait_attempts(fail_mark, 2)  # the retry that was queued at the crash
        cloud.advance(10)
        wait_attempts(slow_mark, 2)  # the lost attempt, after its timeout (5 s) and the grace (60 s)
    finally:
        cloud.stop()
