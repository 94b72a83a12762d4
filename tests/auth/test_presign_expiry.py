"""Presigned URLs expire on the cloudlet clock even when signatures are not enforced."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from cloudlet.auth import sigv4
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request

NOW = dt.datetime.now(dt.timezone.utc)


def _presigned(version: str | None, expires: int) -> Request:
    cfg = Config(signature_version=version) if version else None
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                      endpoint_url="http://localhost:4566", config=cfg)
    url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=expires))
    return Request("GET", url.path, url.query, {"host": url.netloc})


@pytest.mark.parametrize("version", [None, "s3v4"])  # boto3's default for S3 presigns is SigV2
def test_a_presigned_url_works_until_it_expires(version):
    req = _presigned(version, 60)
    sigv4.check_presigned_expiry(req, NOW + dt.timedelta(seconds=30), sigv4.S3)
    with pytest.raises(ServiceError) as err:
        sigv4.check_presigned_expiry(req, NOW + dt.timedelta(seconds=120), sigv4.S3)
    assert (err.value.code, err.value.status, err.value.message) == ("AccessDenied", 403, "Request has expired")


def test_requests_that_are_not_presigned_pass():
    sigv4.check_presigned_expiry(Request("GET", "/bkt/k", "Expires=soon", {}), NOW, sigv4.S3)
    sigv4.check_presigned_expiry(Request("GET", "/bkt/k", "", {}), NOW, sigv4.S3)
