"""Shared by the Logs behaviour tests: a fresh account per test, the server's clock, errors."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def fresh_account() -> str:
    return f"5{next(_accounts) % 10**11:011d}"


def logs_client(cloud: Any, account: str | None = None) -> Any:
    return cloud.client("logs", key=account or fresh_account())


def server_ms(cloud: Any) -> int:
    """Now on the server's clock (other tests may have moved it forward)."""
    now = cloud.admin("GET", "clock")["now"]
    return int(dt.datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp() * 1000)


def error(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    err = dict(exc.value.response["Error"])
    err["Status"] = exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return err
