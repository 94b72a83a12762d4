"""Function URLs, the pure parts: hosts, the 2.0 event, the response mapping, CORS."""

from __future__ import annotations

import base64

import orjson
import pytest

from cloudlet.protocol.http import Request
from cloudlet.services.lambda_ import funcurl
from cloudlet.services.lambda_.runtime.model import Result


def result(payload: bytes, error: str | None = None) -> Result:
    return Result(payload, error, "ValueError" if error else None, "", "s", [], 1.0, 1, 10, None, "rid")


@pytest.mark.parametrize("host, expected", [
    ("abc123.lambda-url.us-east-1.localhost:4566", ("abc123", "us-east-1")),
    ("ABC123.lambda-url.eu-west-2.localhost", ("abc123", "eu-west-2")),
    ("abc123.lambda-url.us-east-1.on.aws", ("abc123", "us-east-1")),
    ("localhost:4566", None),
    ("bucket.s3-website.us-east-1.localhost", None),
    ("x.lambda-url.us-east-1.example.com", None),
])
def test_url_host(host, expected):
    assert funcurl.url_host(host) == expected


def test_event_has_the_2_0_shape():
    req = Request("POST", "/my/path%20x", "a=1&a=2&b=", {
        "host": "abc.lambda-url.us-east-1.localhost:4566", "content-type": "application/json",
        "cookie": "c1=v1; c2=v2", "user-agent": "ua/1", "x-multi": "p,q"}, b'{"k":1}')
    ev = funcurl.build_event(req, req.body, "abc", "us-east-1", "123456789012", "10.0.0.1", "rid-1")
    assert ev["version"] == "2.0" and ev["routeKey"] == "$default"
    assert ev["rawPath"] == "/my/path x" and ev["rawQueryString"] == "a=1&a=2&b="
    assert ev["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert ev["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in ev["headers"] and ev["headers"]["x-multi"] == "p,q"
    assert ev["headers"]["x-forwarded-for"] == "10.0.0.1" and ev["headers"]["x-forwarded-port"] == "4566"
    assert ev["headers"]["x-amzn-trace-id"].startswith("Root=1-")
    assert ev["body"] == '{"k":1}' and ev["isBase64Encoded"] is False
    rc = ev["requestContext"]
    assert rc["apiId"] == rc["domainPrefix"] == "abc"
    assert rc["domainName"] == "abc.lambda-url.us-east-1.localhost"
    assert rc["http"] == {"method": "POST", "path": "/my/path x", "protocol": "HTTP/1.1",
                          "sourceIp": "10.0.0.1", "userAgent": "ua/1"}
    assert rc["requestId"] == "rid-1" and rc["stage"] == "$default" and rc["accountId"] == "anonymous"
    assert isinstance(rc["timeEpoch"], int) and rc["time"].endswith(" +0000")


def test_event_without_query_or_body_and_binary_body():
    req = Request("GET", "/", "", {"host": "abc.lambda-url.us-east-1.localhost"})
    ev = funcurl.build_event(req, b"", "abc", "us-east-1", "1", "ip", "r")
    assert "queryStringParameters" not in ev and "body" not in ev and "cookies" not in ev
    assert ev["rawQueryString"] == ""
    req = Request("PUT", "/b", "", {"host": "h", "content-type": "application/octet-stream"}, b"\x00\xff")
    ev = funcurl.build_event(req, req.body, "abc", "us-east-1", "1", "ip", "r")
    assert ev["isBase64Encoded"] is True and base64.b64decode(ev["body"]) == b"\x00\xff"


def test_iam_caller_is_named():
    req = Request("GET", "/", "", {"host": "h"})
    caller = {"accountId": "111122223333", "userArn": "arn:aws:iam::111122223333:user/u"}
    ev = funcurl.build_event(req, b"", "abc", "us-east-1", "123456789012", "ip", "r", caller)
    assert ev["requestContext"]["accountId"] == "123456789012"
    assert ev["requestContext"]["authorizer"] == {"iam": caller}


def test_response_with_status_code_headers_cookies_base64():
    payload = orjson.dumps({"statusCode": 201, "headers": {"X-Custom": "v", "Content-Type": "text/plain"},
                            "cookies": ["a=1; Max-Age=5", "b=2"], "body": base64.b64encode(b"\x01hi").decode(),
                            "isBase64Encoded": True})
    resp = funcurl.response_for(result(payload))
    assert resp.status == 201 and resp.body == b"\x01hi"
    assert ("x-custom", "v") in resp.headers and ("content-type", "text/plain") in resp.headers
    assert [v for k, v in resp.headers if k == "set-cookie"] == ["a=1; Max-Age=5", "b=2"]


@pytest.mark.parametrize("payload", [b'"Hello, world!"', b'{"message":"hi"}', b"42", b"null", b"[1,2]"])
def test_response_inferred_when_no_status_code(payload):
    resp = funcurl.response_for(result(payload))
    assert resp.status == 200 and resp.body == payload
    assert ("content-type", "application/json") in resp.headers


def test_response_status_code_without_content_type_is_json_and_body_object_is_serialized():
    resp = funcurl.response_for(result(b'{"statusCode": 404, "body": {"a": 1}}'))
    assert resp.status == 404 and orjson.loads(resp.body) == {"a": 1}
    assert ("content-type", "application/json") in resp.headers


def test_function_error_is_502():
    resp = funcurl.response_for(result(b'{"errorMessage":"boom"}', "Unhandled"))
    assert resp.status == 502 and orjson.loads(resp.body) == {"Message": "Internal Server Error"}


def test_bad_status_code_is_502():
    assert funcurl.response_for(result(b'{"statusCode": "abc"}')).status == 502
    assert funcurl.response_for(result(b'{"statusCode": 99}')).status == 502


def test_cors_headers_and_preflight():
    cors = {"AllowOrigins": ["https://a.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-h"],
            "ExposeHeaders": ["x-e"], "MaxAge": 60, "AllowCredentials": True}
    h = dict(funcurl._cors_headers(cors, "https://a.example"))
    assert h["access-control-allow-origin"] == "https://a.example"
    assert h["access-control-allow-credentials"] == "true" and h["access-control-expose-headers"] == "x-e"
    assert funcurl._cors_headers(cors, "https://evil.example") == []
    req = Request("OPTIONS", "/", "", {"origin": "https://a.example", "access-control-request-method": "POST"})
    pre = dict(funcurl._preflight(cors, "https://a.example", req).headers)
    assert pre["access-control-allow-methods"] == "GET,POST" and pre["access-control-max-age"] == "60"
    req = Request("OPTIONS", "/", "", {"origin": "https://a.example", "access-control-request-method": "DELETE"})
    assert "access-control-allow-methods" not in dict(funcurl._preflight(cors, "https://a.example", req).headers)
    star = {"AllowOrigins": ["*"], "AllowMethods": ["*"]}
    assert dict(funcurl._cors_headers(star, "https://x"))["access-control-allow-origin"] == "*"
