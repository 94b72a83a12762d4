"""Shared bits of the Organizations tests: a fresh organization per management account."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import ClientError


def accounts(prefix: str):
    """Distinct 12-digit management account ids for one test module (each test takes
    its own, so organizations never collide on the shared server)."""
    counter = itertools.count(1)
    return lambda: f"{prefix}{next(counter):04d}"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    e = exc.value.response["Error"]
    return e["Code"], e.get("Message", ""), exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def new_org(cloud: Any, account: str, **kw: Any) -> tuple[Any, dict, str]:
    """(client, organization, root id) of a new organization managed by `account`."""
    org = cloud.client("organizations", key=account)
    created = org.create_organization(**kw)["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    return org, created, root


def create_account(org: Any, name: str, email: str | None = None) -> str:
    status = org.create_account(AccountName=name, Email=email or f"{name}@example.com")["CreateAccountStatus"]
    done = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED", done
    return done["AccountId"]
