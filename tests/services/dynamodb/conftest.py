"""Fixtures the DynamoDB tests share."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ddb(cloud):
    """A DynamoDB client on the shared server (us-east-1)."""
    return cloud.client("dynamodb")
