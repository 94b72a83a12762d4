"""Browser uploads (HTML form POST) over HTTP: a boto3-made policy, S3's answers."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid

import pytest

from tests.cloud import Cloud


def _post(url: str, fields: dict[str, str], content: bytes, filename: str = "hello.txt") -> tuple[int, dict, bytes]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    req = urllib.request.Request(
        url, data=b"".join(parts), method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def cloud():
    """Its own server: the shared one's clock runs ahead of the wall clock boto3 signs
    policies with (other tests move it forward), and a policy must not start expired."""
    c = Cloud()
    yield c
    c.stop()


@pytest.fixture
def s3v4(cloud):
    return cloud.client("s3", signature_version="s3v4")


@pytest.fixture
def bucket(s3v4):
    name = f"post-{uuid.uuid4().hex[:12]}"
    s3v4.create_bucket(Bucket=name)
    return name


def test_a_signed_form_upload_stores_the_file_under_the_policy_key(s3v4, bucket):
    post = s3v4.generate_presigned_post(
        bucket, "up/${filename}", Fields={"success_action_status": "201"},
        Conditions=[["starts-with", "$key", "up/"], {"success_action_status": "201"}, ["content-length-range", 1, 100]],
    )
    status, headers, body = _post(post["url"], post["fields"], b"hello form")
    assert status == 201, body
    assert b"<Key>up/hello.txt</Key>" in body and b"<Bucket>" + bucket.encode() in body
    got = s3v4.get_object(Bucket=bucket, Key="up/hello.txt")
    assert got["Body"].read() == b"hello form"
    assert headers["etag"] == got["ETag"]


def test_a_file_outside_the_length_range_is_refused_and_not_stored(s3v4, bucket):
    post = s3v4.generate_presigned_post(bucket, "big.txt", Conditions=[["content-length-range", 1, 5]])
    status, _, body = _post(post["url"], post["fields"], b"far too long")
    assert status == 400 and b"<Code>EntityTooLarge</Code>" in body
    assert "Contents" not in s3v4.list_objects_v2(Bucket=bucket)


def test_a_condition_the_form_breaks_is_access_denied(s3v4, bucket):
    post = s3v4.generate_presigned_post(bucket, "a.txt", Conditions=[["starts-with", "$key", "uploads/"]])
    status, _, body = _post(post["url"], post["fields"], b"x")
    assert status == 403 and b"Invalid according to Policy: Policy Condition failed" in body


def test_the_policy_expires_on_the_cloudlet_clock(cloud, s3v4, bucket):
    post = s3v4.generate_presigned_post(bucket, "late.txt", ExpiresIn=60)
    cloud.advance(120)
    status, _, body = _post(post["url"], post["fields"], b"x")
    assert status == 403 and b"Invalid according to Policy: Policy expired." in body
