"""Header-signed requests, signed by botocore, checked by us."""

from __future__ import annotations

import dataclasses
import datetime as dt
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from botocore.awsrequest import AWSRequest

from cloudlet.auth import sigv4
from cloudlet.auth.credentials import CredentialStore, Identity
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request
from tests.auth.signing import IDENTITY, KEY, SECRET, capture, sign, signed_at, verify

MIN = dt.timedelta(minutes=1)

# (service, operation, params, expected dialect): one per protocol and error family
CALLS = [
    ("sts", "get_caller_identity", {}, sigv4.QUERY),
    ("iam", "list_users", {"PathPrefix": "/a b+c/é/"}, sigv4.QUERY),
    ("dynamodb", "list_tables", {"Limit": 5}, sigv4.JSON),
    ("sqs", "list_queues", {"QueueNamePrefix": "q"}, sigv4.JSON),
    ("cloudwatch", "list_metrics", {"Namespace": "AWS/EC2"}, sigv4.JSON),
    ("lambda", "get_function", {"FunctionName": "my fn+é"}, sigv4.REST_JSON),
    ("lambda", "list_functions", {"Marker": "a b+c=d&e/ü", "MaxItems": 3}, sigv4.REST_JSON),
    ("route53", "list_hosted_zones", {"MaxItems": "2"}, sigv4.QUERY),
    ("ec2", "describe_regions", {"RegionNames": ["us-east-1"]}, sigv4.EC2),
    ("s3", "list_buckets", {}, sigv4.S3),
    ("s3", "list_objects_v2", {"Bucket": "b", "Prefix": "a b+c/ü=&x", "Delimiter": "/"}, sigv4.S3),
    ("s3", "get_object", {"Bucket": "b", "Key": "dir//sub/ü ñ+a b?&=#%.txt", "Range": "bytes=0-1"}, sigv4.S3),
]


def _dialect(service: str, req: Request) -> sigv4.Dialect:
    from cloudlet.protocol.model import load_service

    model = load_service(service)
    protocol = "json" if req.headers.get("content-type", "").startswith("application/x-amz-json") else model.protocol
    return sigv4.dialect_for(service, protocol)


@pytest.mark.parametrize("service,operation,params,dialect", CALLS, ids=lambda v: v if isinstance(v, str) else "")
def test_botocore_signed_requests_verify(service, operation, params, dialect):
    req = capture(service, operation, params)
    assert _dialect(service, req) is dialect
    verified = verify(req, dialect)
    assert verified.signed.access_key == KEY and verified.signed.service == service.replace("cloudwatch", "monitoring")
    assert verified.key == sigv4.signing_key(SECRET, verified.signed.date, "us-east-1", verified.signed.service)


@pytest.mark.parametrize("service,operation,params,dialect", CALLS, ids=lambda v: v if isinstance(v, str) else "")
def test_wrong_secret_is_refused_in_the_services_words(service, operation, params, dialect):
    req = capture(service, operation, params, secret="not-the-secret")
    with pytest.raises(ServiceError) as err:
        verify(req, dialect)
    code, status = dialect.bad_signature
    assert (err.value.code, err.value.status) == (code, status)
    if code == "AuthFailure":
        assert err.value.message == "AWS was not able to validate the provided access credentials"
    else:
        assert err.value.message == (
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details."
        )
    if dialect.s3:  # S3 tells the user what it signed
        assert err.value.fields["AWSAccessKeyId"] == KEY
        assert err.value.fields["CanonicalRequest"].startswith(req.method + "\n" + req.path + "\n")
        assert err.value.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")


def test_error_codes_per_dialect():
    assert (sigv4.QUERY.bad_signature, sigv4.JSON.bad_signature) == (
        ("SignatureDoesNotMatch", 403), ("InvalidSignatureException", 400))
    for dialect, code, message in [
        (sigv4.S3, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
        (sigv4.QUERY, "InvalidClientTokenId", "The security token included in the request is invalid."),
        (sigv4.JSON, "UnrecognizedClientException", "The security token included in the request is invalid."),
    ]:
        err = sigv4.unknown_access_key(dialect, "AKIANOBODY")
        assert (err.code, err.message, err.status in (400, 403)) == (code, message, True)
    assert sigv4.unknown_access_key(sigv4.S3, "AKIANOBODY").fields == {"AWSAccessKeyId": "AKIANOBODY"}
    assert sigv4.missing_authentication(sigv4.QUERY).code == "MissingAuthenticationToken"
    assert sigv4.missing_authentication(sigv4.JSON).code == "MissingAuthenticationTokenException"
    assert sigv4.dialect_for("s3", "rest-xml") is sigv4.S3
    assert sigv4.dialect_for("route53", "rest-xml") is sigv4.QUERY
    assert sigv4.dialect_for("kinesis", "smithy-rpc-v2-cbor") is sigv4.JSON


def test_unknown_key_is_unknown_to_the_store():
    req = capture("sts", "get_caller_identity", key="AKIANOBODYKNOWS")
    signed = sigv4.parse(req, sigv4.QUERY)
    assert CredentialStore().lookup(signed.access_key) is None


def test_default_and_account_keys_verify_with_secret_test():
    store = CredentialStore()
    for key in ("test", "123456789012"):
        req = capture("sqs", "list_queues", key=key, secret="test")
        ident = store.lookup(sigv4.parse(req, sigv4.JSON).access_key)
        sigv4.verify(req, ident, signed_at(req), sigv4.JSON)


@pytest.mark.parametrize("edit", ["body", "query", "path", "header", "method"])
def test_tampering_with_any_signed_part_is_refused(edit):
    req = capture("lambda", "invoke", {"FunctionName": "f", "Payload": b'{"a": 1}', "Qualifier": "v1"})
    if edit == "body":
        req.body = b'{"a": 2}'
    elif edit == "query":
        req.query = req.query.replace("v1", "v2")
    elif edit == "path":
        req.path = req.path.replace("/f/", "/g/")
    elif edit == "header":
        req.headers["host"] = "localhost:4567"
    else:
        req.method = "PUT"
    with pytest.raises(ServiceError) as err:
        verify(req, sigv4.REST_JSON)
    assert err.value.code == "InvalidSignatureException"


def test_s3_body_must_match_the_signed_hash():
    req = capture("s3", "put_bucket_tagging", {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}})
    assert len(req.headers["x-amz-content-sha256"]) == 64
    verify(req, sigv4.S3)
    req.body = req.body.replace(b"<Value>v</Value>", b"<Value>w</Value>")
    with pytest.raises(ServiceError) as err:
        verify(req, sigv4.S3)
    assert (err.value.code, err.value.status) == ("XAmzContentSHA256Mismatch", 400)


S3_KEYS = ["plain.txt", "a b", "plus+sign", "ü/ñ/日本語.txt", "dir//double///slashes/", "./dots/../x", "%41%2F", "~tilde*(')!$,;:@", "q?&=#"]


@pytest.mark.parametrize("key", S3_KEYS)
def test_s3_paths_are_signed_as_sent(key):
    # path-style so the key (with its odd characters) is in the signed path
    req = capture("s3", "put_object", {"Bucket": "bucket", "Key": key, "Body": b"x"}, endpoint="http://localhost:4566",
                  s3={"addressing_style": "path"})
    assert req.path.startswith("/bucket/")
    verify(req, sigv4.S3)
    with pytest.raises(ServiceError):  # a different key is a different signature
        verify(dataclasses.replace(req, path=req.path + "x"), sigv4.S3)


NON_S3_PATHS = ["/a b/c", "/plus+sign", "/%C3%BC%20x", "/ü/日本", "/double//slash///x", "/./a/../b/", "/", "", "/%2F%2f/~a*b"]


@pytest.mark.parametrize("path", NON_S3_PATHS)
def test_other_services_sign_each_segment_encoded_again(path):
    url = "https://localhost:4566" + path + "?b=2&a=1&a=0&empty=&sp=a%20b&plus=a%2Bb"
    req = sign(AWSRequest("POST", url, data=b"{}", headers={"Content-Type": "application/json"}), "execute-api")
    verify(req, sigv4.REST_JSON)
    assert not sigv4._canonical_uri(req.path, s3=False).count("//")


@pytest.mark.parametrize("name", ["my fn", "f+g", "é", "a%b", "x~y"])
def test_rest_json_path_parameters(name):
    req = capture("lambda", "get_function", {"FunctionName": name})
    verify(req, sigv4.REST_JSON)


def test_header_values_are_trimmed_and_spaces_collapsed():
    aws = AWSRequest("PUT", "https://localhost:4566/b/k", data=b"x",
                     headers={"X-Amz-Meta-Note": "  a    b \t c  ", "X-Amz-Meta-Empty": ""})
    req = sign(aws, "s3", s3=True)
    req.headers["x-amz-meta-note"] = req.headers["x-amz-meta-note"].strip()  # what an HTTP server hands over
    verify(req, sigv4.S3)


def test_date_header_instead_of_x_amz_date():
    aws = AWSRequest("POST", "https://localhost:4566/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"Date": "placeholder", "Content-Type": "application/x-www-form-urlencoded"})
    req = sign(aws, "sts")
    assert "x-amz-date" not in req.headers and "date" in req.headers
    now = parsedate_to_datetime(req.headers["date"])
    sigv4.verify(req, IDENTITY, now, sigv4.QUERY)


@pytest.mark.parametrize("dialect", [sigv4.S3, sigv4.QUERY, sigv4.JSON])
def test_requests_more_than_15_minutes_off_are_refused(dialect):
    req = capture("s3", "list_buckets") if dialect.s3 else capture("sts", "get_caller_identity")
    verify(req, dialect, at=14 * MIN)
    verify(req, dialect, at=-14 * MIN)
    for at, word in [(16 * MIN, "expired"), (-16 * MIN, "not yet current")]:
        with pytest.raises(ServiceError) as err:
            verify(req, dialect, at=at)
        if dialect.s3:
            assert (err.value.code, err.value.status) == ("RequestTimeTooSkewed", 403)
            assert err.value.message == "The difference between the request time and the current time is too large."
            assert err.value.fields["MaxAllowedSkewMilliseconds"] == "900000"
            assert err.value.fields["RequestTime"] == req.headers["x-amz-date"]
        else:
            assert err.value.code == dialect.bad_signature[0]
            assert err.value.message.startswith(f"Signature {word}: {req.headers['x-amz-date']} is ")


def test_signature_expired_message_matches_aws():
    req = capture("sts", "get_caller_identity")
    t = signed_at(req)
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, IDENTITY, t + dt.timedelta(minutes=20), sigv4.QUERY)
    fmt = "%Y%m%dT%H%M%SZ"
    now = t + dt.timedelta(minutes=20)
    assert err.value.message == (
        f"Signature expired: {t.strftime(fmt)} is now earlier than "
        f"{(now - dt.timedelta(minutes=15)).strftime(fmt)} ({now.strftime(fmt)} - 15 min.)"
    )


def test_session_tokens():
    temp = Identity("ASIATEMP", SECRET, "123456789012", "arn:aws:sts::123456789012:assumed-role/r/s",
                    session_token="FwoGZXIvYXdzE+/token==", expires_at=None)
    ok = capture("sqs", "list_queues", key="ASIATEMP", token=temp.session_token)
    sigv4.verify(ok, temp, signed_at(ok), sigv4.JSON)
    for token in (None, "other"):
        bad = capture("sqs", "list_queues", key="ASIATEMP", token=token)
        with pytest.raises(ServiceError) as err:
            sigv4.verify(bad, temp, signed_at(bad), sigv4.JSON)
        assert err.value.code == "UnrecognizedClientException"
    expired = dataclasses.replace(temp, expires_at=signed_at(ok).timestamp() - 1)
    with pytest.raises(ServiceError) as err:
        sigv4.verify(ok, expired, signed_at(ok), sigv4.QUERY)
    assert (err.value.code, err.value.message) == ("ExpiredToken", "The security token included in the request is expired")
    with pytest.raises(ServiceError) as err:
        sigv4.verify(ok, expired, signed_at(ok), sigv4.S3)
    assert err.value.code == "ExpiredToken"
    # a long-term key ignores a stray token (AWS_SESSION_TOKEN left set in a shell)
    stray = capture("sqs", "list_queues", token="leftover")
    verify(stray, sigv4.JSON)


def test_unsigned_requests():
    req = Request("POST", "/", "", {"host": "localhost"}, b"Action=GetCallerIdentity")
    assert sigv4.parse(req, sigv4.QUERY) is None
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, IDENTITY, dt.datetime.now(dt.timezone.utc), sigv4.QUERY)
    assert (err.value.code, err.value.status) == ("MissingAuthenticationToken", 403)


def _with_auth(auth: str, **headers: str) -> Request:
    return Request("GET", "/", "", {"host": "localhost", "authorization": auth, **headers})


GOOD_CRED = "Credential=AKID/20240101/us-east-1/sts/aws4_request"


@pytest.mark.parametrize("auth,headers,message", [
    ("AWS4-HMAC-SHA256 " + GOOD_CRED, {"x-amz-date": "20240101T000000Z"},
     "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
     "Authorization=AWS4-HMAC-SHA256 " + GOOD_CRED),
    ("AWS4-HMAC-SHA256 " + GOOD_CRED + ", SignedHeaders=host, Signature=ab", {},
     "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."),
    ("AWS4-HMAC-SHA256 Credential AKID/x", {"x-amz-date": "20240101T000000Z"},
     "'Credential AKID/x' not a valid key=value pair (missing equal-sign) in Authorization header"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20240101/sts/aws4_request, SignedHeaders=host, Signature=ab",
     {"x-amz-date": "20240101T000000Z"}, "Credential must have exactly 5 slash-delimited elements"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws5_request, SignedHeaders=host, Signature=ab",
     {"x-amz-date": "20240101T000000Z"}, "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."),
    ("Bearer abc=def", {"x-amz-date": "20240101T000000Z"}, "Authorization header requires 'Credential' parameter."),
])
def test_malformed_authorization_headers(auth, headers, message):
    with pytest.raises(ServiceError) as err:
        sigv4.parse(_with_auth(auth, **headers), sigv4.QUERY)
    assert (err.value.code, err.value.status) == ("IncompleteSignature", 400)
    assert message in err.value.message


@pytest.mark.parametrize("auth,code", [
    ("AWS4-HMAC-SHA256 " + GOOD_CRED.replace("sts", "s3"), "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/2024/s3/aws4_request, SignedHeaders=host, Signature=ab", "AuthorizationHeaderMalformed"),
    ("Bearer token", "InvalidArgument"),
])
def test_malformed_s3_authorization(auth, code):
    with pytest.raises(ServiceError) as err:
        sigv4.parse(_with_auth(auth, **{"x-amz-date": "20240101T000000Z"}), sigv4.S3)
    assert (err.value.code, err.value.status) == (code, 400)


def test_s3_needs_a_date():
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab"
    with pytest.raises(ServiceError) as err:
        sigv4.parse(_with_auth(auth), sigv4.S3)
    assert (err.value.code, err.value.message) == ("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")


@pytest.mark.parametrize("dialect", [sigv4.S3, sigv4.QUERY])
@pytest.mark.parametrize("amz_date", ["2024-01-01T00:00:00Z", "20241301T000000Z", "20240101T000000", "２０２４0101T000000Z"])
def test_bad_dates_are_400s_or_403s(dialect, amz_date):
    auth = f"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/{'s3' if dialect.s3 else 'sts'}/aws4_request, SignedHeaders=host, Signature=ab"
    req = _with_auth(auth, **{"x-amz-date": amz_date})
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, IDENTITY, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dialect)
    assert err.value.status in (400, 403)


@pytest.mark.parametrize("dialect", [sigv4.S3, sigv4.QUERY])
def test_scope_date_must_match_request_date(dialect):
    req = capture("s3", "list_buckets") if dialect.s3 else capture("sts", "get_caller_identity")
    signed = sigv4.parse(req, dialect)
    other = dataclasses.replace(signed, date="20000101")
    with pytest.raises(ServiceError) as err:
        sigv4.verify(req, IDENTITY, signed_at(req), dialect, signed=other)
    assert "Date" in err.value.message or "date" in err.value.message


def test_hostile_signatures_never_crash():
    req = capture("sts", "get_caller_identity")
    for sig in ["é" * 64, "\udcff", "", "0" * 10_000]:
        auth = req.headers["authorization"].rsplit("Signature=", 1)[0] + "Signature=" + sig
        with pytest.raises(ServiceError):
            verify(dataclasses.replace(req, headers={**req.headers, "authorization": auth}), sigv4.QUERY)


def test_sigv4a_and_non_s3_sigv2_map_to_keys_but_are_not_verified():
    v2 = _with_auth("AWS AKIDV2:c2lnbmF0dXJl")
    assert sigv4.parse(v2, sigv4.S3).access_key == "AKIDV2"
    v4a = _with_auth("AWS4-ECDSA-P256-SHA256 Credential=AKIDV4A/20240101/s3/aws4_request, SignedHeaders=host, Signature=ab",
                     **{"x-amz-date": "20240101T000000Z", "x-amz-region-set": "*"})
    assert sigv4.parse(v4a, sigv4.S3).access_key == "AKIDV4A"
    for req, dialect, code in [(v4a, sigv4.S3, "InvalidRequest"), (v4a, sigv4.QUERY, "IncompleteSignature"),
                               (v2, sigv4.QUERY, "IncompleteSignature")]:
        with pytest.raises(ServiceError) as err:
            sigv4.verify(req, IDENTITY, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dialect)
        assert err.value.code == code


def test_signing_key_is_cached():
    sigv4.signing_key.cache_clear()
    req = capture("sts", "get_caller_identity")
    for _ in range(3):
        verify(req, sigv4.QUERY)
    info = sigv4.signing_key.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_undecodable_paths_and_headers_are_signature_errors():
    req = capture("lambda", "get_function", {"FunctionName": "f"})
    for bad in (dataclasses.replace(req, path="/2015-03-31/functions/\udcff"),
                dataclasses.replace(req, query="a=\udcff"),
                dataclasses.replace(req, headers={**req.headers, "host": "\udcff"})):
        with pytest.raises(ServiceError) as err:
            verify(bad, sigv4.REST_JSON)
        assert err.value.code == "InvalidSignatureException"


def test_alternative_forms_only_cost_on_failure(monkeypatch):
    calls = []
    real = sigv4._any_alternative_matches
    monkeypatch.setattr(sigv4, "_any_alternative_matches", lambda *a: calls.append(1) or real(*a))
    verify(capture("sqs", "list_queues"), sigv4.JSON)
    assert calls == []


_TEXT = st.text(st.characters(codec="latin-1"), max_size=120)
_AUTH = st.one_of(
    _TEXT,
    st.builds(lambda a, b, c, d: f"AWS4-HMAC-SHA256 Credential={a}, SignedHeaders={b}, Signature={c}{d}",
              st.sampled_from(["AKID/20240101/us-east-1/sts/aws4_request", "AKID/x", "", "/////"]) | _TEXT,
              st.sampled_from(["host;x-amz-date", "", ";;", "HOST"]) | _TEXT, _TEXT, _TEXT),
    st.builds(lambda t: "AWS " + t, _TEXT),
)


@settings(max_examples=300, deadline=None)
@given(auth=_AUTH, date=st.sampled_from(["20240101T000000Z", "", "garbage", "Mon, 01 Jan 2024 00:00:00 GMT"]) | _TEXT,
       query=_TEXT, s3=st.booleans())
def test_arbitrary_auth_input_only_ever_raises_service_errors(auth, date, query, s3):
    dialect = sigv4.S3 if s3 else sigv4.QUERY
    for headers in ({"authorization": auth, "x-amz-date": date, "host": "h"}, {"date": date, "host": "h"}):
        req = Request("GET", "/" + query, query, headers)
        try:
            sigv4.verify(req, IDENTITY, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dialect)
        except ServiceError as err:
            assert 400 <= err.status < 500


@settings(max_examples=200, deadline=None)
@given(query=st.lists(st.sampled_from(["X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request",
                                       "X-Amz-Date=20240101T000000Z", "X-Amz-Expires=60", "X-Amz-SignedHeaders=host",
                                       "X-Amz-Signature=00", "AWSAccessKeyId=AKID", "Signature=x", "Expires=1704067260",
                                       "X-Amz-Expires=-1", "X-Amz-Date=%FF", "acl", "=", "&"]) | _TEXT, max_size=8),
       s3=st.booleans())
def test_arbitrary_presigned_queries_only_ever_raise_service_errors(query, s3):
    req = Request("GET", "/b/k", "&".join(query), {"host": "h"})
    try:
        sigv4.verify(req, IDENTITY, dt.datetime(2024, 1, 1, 0, 0, 30, tzinfo=dt.timezone.utc), sigv4.S3 if s3 else sigv4.QUERY)
    except ServiceError as err:
        assert 400 <= err.status < 500
