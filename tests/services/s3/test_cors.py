"""CORS: PutBucketCors's checks, which rule answers a request, the preflight and
actual-request headers (called directly and, once the gateway routes them, over HTTP),
and Put/Get/DeleteBucketCors over HTTP."""

from __future__ import annotations

import http.client
import xml.etree.ElementTree as ET

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request
from cloudlet.services.s3 import cors
from tests.s3util import in_process, new_bucket, refusal

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
SITE = {"ID": "site", "AllowedOrigins": ["https://example.com", "https://*.example.com"],
        "AllowedMethods": ["GET", "PUT", "DELETE"], "AllowedHeaders": ["Content-Type", "x-amz-*"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"], "MaxAgeSeconds": 3000}
PUBLIC = {"ID": "public", "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]}
RULES = [SITE, PUBLIC]


# the configuration -----------------------------------------------------------------------
def _refused(rules: list[dict]) -> tuple[str, str]:
    with pytest.raises(ServiceError) as err:
        cors.validate({"CORSRules": rules})
    return err.value.code, err.value.message


def test_valid_rules_are_kept_in_order():
    assert cors.validate({"CORSRules": RULES}) == RULES
    assert len(cors.validate({"CORSRules": [PUBLIC] * 100})) == 100


@pytest.mark.parametrize("rules", [[], [PUBLIC] * 101, [{"AllowedMethods": ["GET"]}], [{"AllowedOrigins": ["*"]}],
                                   [{**PUBLIC, "MaxAgeSeconds": -1}]])
def test_structure_errors_are_malformed_xml(rules):
    assert _refused(rules)[0] == "MalformedXML"


@pytest.mark.parametrize("rule, message", [
    ({**PUBLIC, "AllowedMethods": ["GET", "PATCH"]}, "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
    ({**PUBLIC, "AllowedMethods": ["get"]}, "Found unsupported HTTP method in CORS config. Unsupported method is get"),
    ({**PUBLIC, "AllowedOrigins": ["https://*.example.*"]}, 'AllowedOrigin "https://*.example.*" can not have more than one wildcard.'),
    ({**PUBLIC, "AllowedHeaders": ["x-*-meta-*"]}, 'AllowedHeader "x-*-meta-*" can not have more than one wildcard.'),
    ({**PUBLIC, "ExposeHeaders": ["x-amz-*"]},
     'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.'),
])
def test_value_errors_are_invalid_requests(rule, message):
    assert _refused([PUBLIC, rule]) == ("InvalidRequest", message)


# which rule answers ------------------------------------------------------------------------
@pytest.mark.parametrize("pattern, origin, ok", [
    ("https://example.com", "https://example.com", True),
    ("https://example.com", "http://example.com", False),
    ("https://example.com", "https://EXAMPLE.com", False),  # origins compare case-sensitively
    ("https://*.example.com", "https://a.b.example.com", True),
    ("https://*.example.com", "https://example.com", False),
    ("https://example.com:*", "https://example.com:8443", True),
    ("http*", "https://anything", True),
    ("a*a", "a", False),  # the two ends may not overlap
])
def test_origin_patterns(pattern, origin, ok):
    rule = {"AllowedOrigins": [pattern], "AllowedMethods": ["GET"]}
    assert (cors.match([rule], origin, "GET") is not None) is ok


def test_first_matching_rule_decides():
    assert cors.match(RULES, "https://example.com", "PUT") == (SITE, "https://example.com")
    assert cors.match(RULES, "https://example.com", "HEAD") == (PUBLIC, "*")  # only the second allows HEAD
    assert cors.match(RULES, "https://example.org", "GET") == (PUBLIC, "*")
    assert cors.match(RULES, "https://example.org", "PUT") is None
    # every requested header must be allowed (names without case), else the next rule
    assert cors.match(RULES, "https://example.com", "GET", ["content-type", "x-amz-date"])[0] is SITE
    assert cors.match(RULES, "https://example.com", "GET", ["authorization"]) is None
    assert cors.match([{**PUBLIC, "AllowedHeaders": ["*"]}], "x", "GET", ["anything"]) is not None


def test_literal_star_origin_answers_star_without_credentials():
    rule = {"AllowedOrigins": ["https://example.com", "*"], "AllowedMethods": ["GET"]}
    found = cors.match([rule], "https://example.com", "GET")
    assert found == (rule, "*")
    assert cors.response_headers(*found) == [
        ("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET"), ("Vary", VARY)]


# preflight and actual requests, called directly ----------------------------------------------
@pytest.fixture(scope="module")
def gw():
    ctx = in_process("PutBucketCors")
    s3 = ctx.aws("s3")
    s3.create_bucket(Bucket="site")
    s3.create_bucket(Bucket="plain")
    s3.put_bucket_cors(Bucket="site", CORSConfiguration={"CORSRules": RULES})
    return ctx.gateway


def _options(path: str, **headers: str) -> Request:
    names = {"origin": "origin", "method": "access-control-request-method", "headers": "access-control-request-headers"}
    return Request("OPTIONS", path, "", {names[k]: v for k, v in headers.items()})


def _error(resp) -> dict:
    root = ET.fromstring(resp.body)
    return {child.tag: child.text for child in root}


def test_preflight_allowed(gw):
    resp = cors.preflight(gw, _options("/site/photos/cat.jpg", origin="https://app.example.com", method="PUT",
                                       headers="Content-Type, X-Amz-Date"))
    assert resp.status == 200 and resp.body == b""
    got = [(k, v) for k, v in resp.headers if k.startswith(("Access-Control", "Vary"))]
    assert got == [
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Methods", "GET, PUT, DELETE"),
        ("Access-Control-Allow-Headers", "content-type, x-amz-date"),
        ("Access-Control-Expose-Headers", "ETag, x-amz-request-id"),
        ("Access-Control-Max-Age", "3000"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", VARY),
    ]
    assert dict(resp.headers)["x-amz-request-id"]


def test_preflight_refused(gw):
    resp = cors.preflight(gw, _options("/site/k", origin="https://example.org", method="PUT"))
    assert resp.status == 403
    err = _error(resp)
    assert err["Code"] == "AccessForbidden" and err["Method"] == "PUT" and err["ResourceType"] == "OBJECT"
    assert err["Message"] == cors.NOT_ALLOWED
    resp = cors.preflight(gw, _options("/plain", origin="https://example.com", method="GET"))
    assert resp.status == 403 and _error(resp)["Message"] == "CORSResponse: CORS is not enabled for this bucket."
    assert _error(resp)["ResourceType"] == "BUCKET"
    resp = cors.preflight(gw, _options("/site/k", method="GET"))
    assert resp.status == 400 and _error(resp)["Message"] == "Insufficient information. Origin request header needed."
    resp = cors.preflight(gw, _options("/site/k", origin="https://example.com"))
    assert resp.status == 400 and _error(resp)["Message"] == "Invalid Access-Control-Request-Method: null"
    resp = cors.preflight(gw, _options("/site/k", origin="https://example.com", method="PATCH"))
    assert _error(resp)["Message"] == "Invalid Access-Control-Request-Method: PATCH"
    resp = cors.preflight(gw, _options("/nobucket/k", origin="https://example.com", method="GET"))
    assert resp.status == 404 and _error(resp)["Code"] == "NoSuchBucket"


def test_preflight_leaves_other_requests_alone(gw):
    assert cors.preflight(gw, Request("GET", "/site/k")) is None
    assert cors.preflight(gw, Request("OPTIONS", "/")) is None


def test_actual_request_headers(gw):
    assert cors.cors_headers(gw, "site", "https://example.com", "GET")[:2] == [
        ("Access-Control-Allow-Origin", "https://example.com"), ("Access-Control-Allow-Methods", "GET, PUT, DELETE")]
    assert cors.cors_headers(gw, "site", "https://example.org", "HEAD")[0] == ("Access-Control-Allow-Origin", "*")
    assert cors.cors_headers(gw, "site", "https://example.org", "PUT") == []
    assert cors.cors_headers(gw, "site", None, "GET") == []
    assert cors.cors_headers(gw, "plain", "https://example.com", "GET") == []
    assert cors.cors_headers(gw, "nobucket", "https://example.com", "GET") == []


# over HTTP -------------------------------------------------------------------------------
def test_cors_round_trip(s3):
    b = new_bucket(s3, "cors")
    assert refusal(s3.get_bucket_cors, Bucket=b)[:2] == ("NoSuchCORSConfiguration", 404)
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=b)["CORSRules"] == RULES
    bad = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    assert refusal(s3.put_bucket_cors, Bucket=b, CORSConfiguration=bad).code == "InvalidRequest"
    assert s3.get_bucket_cors(Bucket=b)["CORSRules"] == RULES
    s3.delete_bucket_cors(Bucket=b)
    assert refusal(s3.get_bucket_cors, Bucket=b).code == "NoSuchCORSConfiguration"


def test_preflight_over_http(s3, cloud):
    b = new_bucket(s3, "cors")
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": RULES})
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=5)
    conn.request("OPTIONS", f"/{b}/k", headers={"Origin": "https://example.com", "Access-Control-Request-Method": "PUT"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200 and resp.getheader("Access-Control-Allow-Origin") == "https://example.com"
    conn.request("OPTIONS", f"/{b}/k", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "PUT"})
    resp = conn.getresponse()
    assert resp.status == 403 and b"AccessForbidden" in resp.read()


def test_actual_requests_carry_cors_headers_over_http(cloud):
    s3 = cloud.client("s3")
    s3.meta.events.register("before-sign.s3", lambda request, **_: request.headers.__setitem__(
        "Origin", "https://example.org"))
    b = new_bucket(s3, "cors")
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    headers = s3.get_object(Bucket=b, Key="k")["ResponseMetadata"]["HTTPHeaders"]
    assert headers["access-control-allow-origin"] == "*" and headers["vary"] == VARY
    assert headers["access-control-allow-methods"] == "GET, HEAD"
    put = s3.put_object(Bucket=b, Key="k2", Body=b"x")["ResponseMetadata"]["HTTPHeaders"]
    assert "access-control-allow-origin" not in put  # no rule allows PUT from this origin
