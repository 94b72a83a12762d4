"""Presigned URLs (query-string SigV4), made by botocore's presigners."""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import parse_qsl, urlencode

import pytest
from botocore.awsrequest import AWSRequest

from cloudlet.auth import sigv4
from cloudlet.core.errors import ServiceError
from tests.auth.signing import IDENTITY, SECRET, client, presign, presigned, signed_at, verify

S = dt.timedelta(seconds=1)


def s3_url(method: str = "get_object", expires: int = 60, **kw) -> str:
    params = {"Bucket": "bucket", "Key": kw.pop("key", "dir//ü ñ+a b?&=.txt"), **kw}
    return client("s3", endpoint="http://localhost:4566", s3={"addressing_style": "path"},
                  signature_version="s3v4").generate_presigned_url(method, Params=params, ExpiresIn=expires)


def test_s3_presigned_get_verifies_until_it_expires():
    req = presigned(s3_url(expires=60))
    signed = sigv4.parse(req, sigv4.S3)
    assert signed.presigned and signed.expires == 60 and signed.signed_headers == ("host",)
    verify(req, sigv4.S3, at=60 * S)
    with pytest.raises(ServiceError) as err:
        verify(req, sigv4.S3, at=61 * S)
    assert (err.value.code, err.value.message, err.value.status) == ("AccessDenied", "Request has expired", 403)
    assert err.value.fields["X-Amz-Expires"] == "60"
    assert set(err.value.fields) == {"X-Amz-Expires", "Expires", "ServerTime"}


def test_s3_presigned_urls_are_not_bound_by_the_15_minute_skew():
    req = presigned(s3_url(expires=7 * 24 * 3600))
    verify(req, sigv4.S3, at=dt.timedelta(days=6))


def test_s3_presigned_url_from_the_future_is_not_yet_valid():
    req = presigned(s3_url())
    verify(req, sigv4.S3, at=-14 * 60 * S)
    with pytest.raises(ServiceError) as err:
        verify(req, sigv4.S3, at=-16 * 60 * S)
    assert (err.value.code, err.value.message) == ("AccessDenied", "Request is not yet valid")


def test_s3_presigned_put_signs_no_payload():
    req = presigned(s3_url("put_object", ContentType="text/plain"), "PUT", b"any body at all",
                    {"content-type": "text/plain"})
    verify(req, sigv4.S3)


@pytest.mark.parametrize("key", ["a", "a b", "+", "ü/日本", "x//y", "%", "~*'()!"])
def test_s3_presigned_keys(key):
    verify(presigned(s3_url(key=key)), sigv4.S3)


def test_wrong_secret_and_tampering():
    url = s3_url()
    bad = client("s3", secret="wrong", endpoint="http://localhost:4566", s3={"addressing_style": "path"},
                 signature_version="s3v4")
    wrong = presigned(bad.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "k"}))
    with pytest.raises(ServiceError) as err:
        verify(wrong, sigv4.S3)
    assert err.value.code == "SignatureDoesNotMatch"
    req = presigned(url)
    for tampered in (
        dataclasses.replace(req, path=req.path.replace("bucket", "other")),
        dataclasses.replace(req, query=req.query.replace("X-Amz-Expires=60", "X-Amz-Expires=600")),
        dataclasses.replace(req, query=req.query + "&response-content-type=text%2Fhtml"),
        dataclasses.replace(req, method="DELETE"),
    ):
        with pytest.raises(ServiceError) as err:
            verify(tampered, sigv4.S3)
        assert err.value.code == "SignatureDoesNotMatch"


def _edit_query(url: str, drop: str = "", **set_: str) -> str:
    base, _, query = url.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != drop]
    pairs = [(k, set_.get(k, v)) for k, v in pairs]
    return base + "?" + urlencode(pairs)


@pytest.mark.parametrize("edit,message", [
    ({"drop": "X-Amz-Expires"}, "Query-string authentication version 4 requires the X-Amz-Algorithm"),
    ({"drop": "X-Amz-Signature"}, "Query-string authentication version 4 requires the X-Amz-Algorithm"),
    ({"X-Amz-Expires": "604801"}, "X-Amz-Expires must be less than a week (in seconds) that is 604800"),
    ({"X-Amz-Expires": "-1"}, "X-Amz-Expires must be non-negative"),
    ({"X-Amz-Expires": "soon"}, "X-Amz-Expires should be a number"),
    ({"X-Amz-Algorithm": "AWS4-HMAC-SHA1"}, "X-Amz-Algorithm only supports"),
])
def test_s3_presign_parameter_errors(edit, message):
    req = presigned(_edit_query(s3_url(), **edit))
    with pytest.raises(ServiceError) as err:
        sigv4.parse(req, sigv4.S3)
    assert (err.value.code, err.value.status) == ("AuthorizationQueryParametersError", 400)
    assert err.value.message.startswith(message)


def test_presigned_with_session_token():
    temp = dataclasses.replace(IDENTITY, session_token="IQoJb3JpZ2luX2Vj+/token==")
    c = client("s3", token=temp.session_token, endpoint="http://localhost:4566", signature_version="s3v4")
    req = presigned(c.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}))
    assert sigv4.parse(req, sigv4.S3).token == temp.session_token
    sigv4.verify(req, temp, signed_at(req), sigv4.S3)
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, dataclasses.replace(temp, session_token="other"), signed_at(req), sigv4.S3)
    assert err.value.code == "InvalidToken"


def test_non_s3_presigned_url_sts_get_caller_identity():
    """The shape of an EKS token: a presigned STS GetCallerIdentity."""
    url = client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    req = presigned(url)
    verify(presigned(client("sts").generate_presigned_url("get_caller_identity"), "POST"), sigv4.QUERY)
    verify(req, sigv4.QUERY, at=60 * S)
    with pytest.raises(ServiceError) as err:
        verify(req, sigv4.QUERY, at=61 * S)
    assert err.value.code == "SignatureDoesNotMatch" and err.value.message.startswith("Signature expired")
    wrong = presigned(client("sts", secret="nope").generate_presigned_url("get_caller_identity", HttpMethod="GET"))
    with pytest.raises(ServiceError) as err:
        verify(wrong, sigv4.QUERY)
    assert err.value.code == "SignatureDoesNotMatch"


def test_non_s3_presign_with_signed_headers_and_odd_path():
    aws = AWSRequest("GET", "https://localhost:4566/a b//c/%C3%BC?z=1&a=%2B", headers={"X-Custom": " v  w "})
    req = presign(aws, "execute-api", expires=30)
    verify(req, sigv4.REST_JSON, at=30 * S)
    with pytest.raises(ServiceError):
        verify(dataclasses.replace(req, headers={**req.headers, "x-custom": "other"}), sigv4.REST_JSON)


def test_non_s3_presign_missing_parameters():
    url = client("sts").generate_presigned_url("get_caller_identity")
    req = presigned(_edit_query(url, drop="X-Amz-Credential"))
    with pytest.raises(ServiceError) as err:
        sigv4.parse(req, sigv4.QUERY)
    assert err.value.code == "IncompleteSignature"
    assert err.value.message == (
        "AWS query-string parameters must include 'X-Amz-Credential'. Re-examine the query-string parameters.")


def test_raw_query_signers_still_verify():
    """A client that signs its query exactly as sent ('+' and lower-case escapes left alone)."""
    from tests.auth.signing import sign

    aws = AWSRequest("GET", "https://localhost:4566/b?prefix=a+b&marker=%7emark&list-type=2")
    req = sign(aws, "s3", s3=True)
    assert req.query == "prefix=a+b&marker=%7emark&list-type=2"
    verify(req, sigv4.S3)
    aws = AWSRequest("GET", "https://localhost:4566/x?b=a+b&a=%7e")
    verify(sign(aws, "execute-api"), sigv4.REST_JSON)


def test_s3_path_normalised_in_transit():
    """A proxy that lower-cases percent escapes: the spec's encode-once form still matches."""
    aws = AWSRequest("GET", "https://localhost:4566/b/%C3%BC%20x")
    req = presign(aws, "s3", s3=True, secret=SECRET)
    verify(dataclasses.replace(req, path="/b/%c3%bc%20x"), sigv4.S3)


# -- SigV2: what boto3 still produces for S3 presigned URLs unless told "s3v4" --


def v2_url(expires: int = 60, style: str = "path", token: str | None = None, **params) -> str:
    c = client("s3", endpoint="http://localhost:4566", s3={"addressing_style": style}, token=token)
    return c.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "a b/ü+x", **params},
                                    ExpiresIn=expires)


def _at_expiry(req, offset: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(sigv4.parse(req, sigv4.S3).expires + offset, dt.timezone.utc)


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_boto3_default_presigned_urls_are_sigv2_and_verify(style):
    req = presigned(v2_url(style=style, ResponseContentType="text/plain", VersionId="v1"))
    signed = sigv4.parse(req, sigv4.S3)
    assert signed.algorithm == "AWS" and signed.presigned
    sigv4.verify(req, IDENTITY, _at_expiry(req, 0), sigv4.S3)
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, IDENTITY, _at_expiry(req, 1), sigv4.S3)
    assert (err.value.code, err.value.message) == ("AccessDenied", "Request has expired")
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, dataclasses.replace(IDENTITY, secret_key="wrong"), _at_expiry(req, 0), sigv4.S3)
    assert err.value.code == "SignatureDoesNotMatch"
    with pytest.raises(ServiceError):  # the sub-resources are signed
        sigv4.verify(dataclasses.replace(req, query=req.query.replace("versionId=v1", "versionId=v2")),
                     IDENTITY, _at_expiry(req, 0), sigv4.S3)


def test_sigv2_presigned_with_session_token():
    temp = dataclasses.replace(IDENTITY, session_token="tok+/=")
    req = presigned(v2_url(token=temp.session_token))
    sigv4.verify(req, temp, _at_expiry(req, 0), sigv4.S3)
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, dataclasses.replace(temp, session_token="x"), _at_expiry(req, 0), sigv4.S3)
    assert err.value.code == "InvalidToken"


@pytest.mark.parametrize("operation,params", [
    ("list_objects", {"Bucket": "bucket", "Prefix": "a b"}),
    ("put_object", {"Bucket": "bucket", "Key": "k ü", "Body": b"data", "Metadata": {"m": " v "}, "ContentType": "text/x"}),
    ("get_object_acl", {"Bucket": "bucket", "Key": "k"}),
])
def test_sigv2_header_signed_requests(operation, params):
    from email.utils import parsedate_to_datetime

    from tests.auth.signing import capture

    req = capture("s3", operation, params, endpoint="http://localhost:4566", signature_version="s3",
                  s3={"addressing_style": "path"})
    assert req.headers["authorization"].startswith("AWS AKIDEXAMPLE:")
    now = parsedate_to_datetime(req.headers["date"])
    sigv4.verify(req, IDENTITY, now, sigv4.S3)
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, IDENTITY, now + dt.timedelta(minutes=16), sigv4.S3)
    assert err.value.code == "RequestTimeTooSkewed"
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, dataclasses.replace(IDENTITY, secret_key="x"), now, sigv4.S3)
    assert err.value.code == "SignatureDoesNotMatch"


def test_sigv2_hostile_input_is_a_service_error():
    req = presigned(v2_url())
    now = _at_expiry(req, 0)
    for bad in (dataclasses.replace(req, path="/bucket/\udcff"),
                dataclasses.replace(req, query=req.query.replace("Expires=", "Expires=x")),
                dataclasses.replace(req, query=req.query + "&acl=\udcff")):
        with pytest.raises(ServiceError):
            sigv4.verify(bad, IDENTITY, now, sigv4.S3)
