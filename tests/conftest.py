import os

import pytest

from tests.cloud import Cloud

# botocore must never reach a real endpoint or a real credential source from a test
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def cloud():
    """One ephemeral server shared by the behaviour tests of a session."""
    c = Cloud()
    yield c
    c.stop()
