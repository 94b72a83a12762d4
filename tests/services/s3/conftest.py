from typing import Any

import pytest

from tests.cloud import Cloud


@pytest.fixture(scope="module")
def s3(cloud: Cloud) -> Any:
    """A boto3 S3 client on the session's server (path-style addressing)."""
    return cloud.client("s3")
