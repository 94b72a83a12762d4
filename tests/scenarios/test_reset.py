"""`cloudlet reset` wipes state (all of it, or one service's), also under load."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from tests.cloud import Cloud


@pytest.fixture()
def fresh():
    c = Cloud()
    yield c
    c.stop()


def _names(ssm) -> list[str]:
    return sorted(p["Name"] for p in ssm.describe_parameters()["Parameters"])


def test_reset_one_service_then_all(fresh):
    ssm = fresh.client("ssm")
    ssm.put_parameter(Name="/app/a", Value="1", Type="String")
    fresh.admin("POST", "reset?service=sqs")  # another service: ssm state stays
    assert _names(ssm) == ["/app/a"]
    fresh.admin("POST", "reset?service=ssm")
    assert _names(ssm) == []
    ssm.put_parameter(Name="/app/b", Value="2", Type="String")
    before = fresh.admin("GET", "clock")["offset_s"]
    fresh.advance(days=3)
    fresh.admin("POST", "reset")
    assert _names(ssm) == []
    assert fresh.admin("GET", "clock")["offset_s"] >= before + 3 * 86400  # time never goes back
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name="/app/b")
    assert err.value.response["Error"]["Code"] == "ParameterNotFound"


def test_reset_while_writers_run(fresh):
    errors: list[str] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        ssm = fresh.client("ssm")
        i = 0
        while not stop.is_set():
            try:
                ssm.put_parameter(Name=f"/w{n}/p{i}", Value="v", Type="String", Overwrite=True)
            except ClientError as err:
                errors.append(err.response["Error"]["Code"])
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for _ in range(5):
        fresh.admin("POST", "reset")
    stop.set()
    for t in threads:
        t.join()
    assert errors == []  # no request failed, none got a 500
    fresh.admin("POST", "reset")
    assert _names(fresh.client("ssm")) == []
