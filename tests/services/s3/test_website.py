"""Static websites: PutBucketWebsite's checks, the website endpoint's hosts, and the
endpoint's answers (index and error documents, redirects, routing rules) — called
directly and, once the gateway routes website hosts, over HTTP."""

from __future__ import annotations

import http.client

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request
from cloudlet.services.s3 import website
from tests.s3util import in_process, new_bucket, refusal

INDEX = {"IndexDocument": {"Suffix": "index.html"}}


# the configuration -----------------------------------------------------------------------
def _refused(cfg: dict) -> tuple[str, str]:
    with pytest.raises(ServiceError) as err:
        website.validate(cfg)
    return err.value.code, err.value.message


def _rule(redirect: dict, **condition: str) -> dict:
    return {"Condition": condition, "Redirect": redirect} if condition else {"Redirect": redirect}


def test_valid_configurations():
    website.validate(INDEX)
    website.validate({**INDEX, "ErrorDocument": {"Key": "404.html"}, "RoutingRules": [
        _rule({"ReplaceKeyPrefixWith": "new/"}, KeyPrefixEquals="old/"),
        _rule({"HostName": "example.com", "HttpRedirectCode": "302", "Protocol": "https"}, HttpErrorCodeReturnedEquals="404"),
    ]})
    website.validate({"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})


@pytest.mark.parametrize("cfg, code, message", [
    ({}, "InvalidArgument", "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
    ({"IndexDocument": {"Suffix": "a/index.html"}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"),
    ({"IndexDocument": {"Suffix": ""}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"),
    ({**INDEX, "RoutingRules": [_rule({"HostName": "x"})] * 51}, "InvalidRequest",
     "51 routing rules provided, the number of routing rules in a website configuration is limited to 50."),
    ({**INDEX, "RoutingRules": [_rule({"HttpRedirectCode": "300"})]}, "InvalidRequest",
     "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300."),
    ({**INDEX, "RoutingRules": [_rule({"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b/"})]}, "InvalidRequest",
     "You can only define ReplaceKeyPrefix or ReplaceKey but not both."),
    ({**INDEX, "RoutingRules": [_rule({"HostName": "x"}, HttpErrorCodeReturnedEquals="302")]}, "InvalidRequest",
     "The provided HTTP error code (302) is not valid. Valid codes are 4XX or 5XX."),
    ({**INDEX, "RoutingRules": [{"Condition": {}, "Redirect": {"HostName": "x"}}]}, "InvalidRequest",
     "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be "
     "present."),
    ({**INDEX, "RoutingRules": [_rule({"Protocol": "ftp"})]}, "InvalidArgument",
     "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically."),
    ({"RedirectAllRequestsTo": {"HostName": "x"}, **INDEX}, "MalformedXML",
     "The XML you provided was not well-formed or did not validate against our published schema"),
])
def test_configurations_refused_as_s3_refuses_them(cfg, code, message):
    assert _refused(cfg) == (code, message)


@pytest.mark.parametrize("host, bucket", [
    ("www.example.com.s3-website-us-east-1.amazonaws.com", "www.example.com"),
    ("site.s3-website.eu-west-1.amazonaws.com", "site"),
    ("site.s3-website.cn-north-1.amazonaws.com.cn", "site"),
    ("Site.S3-Website.localhost:4566", "site"),
    ("site.s3-website.localhost", "site"),
    ("site.s3.amazonaws.com", None),
    ("site.s3-us-west-2.amazonaws.com", None),
    ("localhost:4566", None),
    ("s3-website.localhost", None),
    ("[::1]:4566", None),
])
def test_website_hosts(host, bucket):
    assert website.website_bucket(host) == bucket


# the endpoint, called directly -------------------------------------------------------------
@pytest.fixture(scope="module")
def gw():
    ctx = in_process()
    s3 = ctx.aws("s3")
    for name in ("site", "bare", "plain", "moved", "broken"):
        s3.create_bucket(Bucket=name)
    for key, body, extra in (
        ("index.html", b"<h1>home</h1>", {"ContentType": "text/html", "Metadata": {"who": "me"}}),
        ("docs/index.html", b"docs home", {"ContentType": "text/html"}),
        ("error.html", b"custom 404", {"ContentType": "text/html"}),
        ("page.txt", b"0123456789", {"ContentType": "text/plain", "CacheControl": "max-age=60"}),
        ("gone.html", b"", {"WebsiteRedirectLocation": "/page.txt"}),
    ):
        s3.put_object(Bucket="site", Key=key, Body=body, **extra)
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration={
        **INDEX, "ErrorDocument": {"Key": "error.html"}, "RoutingRules": [
            _rule({"ReplaceKeyPrefixWith": "docs/"}, KeyPrefixEquals="manual/"),
            _rule({"HostName": "backup.example.com", "Protocol": "https", "HttpRedirectCode": "307"},
                  HttpErrorCodeReturnedEquals="404", KeyPrefixEquals="images/"),
        ]})
    s3.put_bucket_website(Bucket="bare", WebsiteConfiguration=INDEX)
    s3.put_bucket_website(Bucket="moved", WebsiteConfiguration={"RedirectAllRequestsTo": {
        "HostName": "www.example.com", "Protocol": "https"}})
    s3.put_bucket_website(Bucket="broken", WebsiteConfiguration={**INDEX, "ErrorDocument": {"Key": "missing.html"}})
    return ctx.gateway


def _get(gw, bucket: str, path: str, method: str = "GET", **headers: str):
    req = Request(method, path, "", {"host": f"{bucket}.s3-website.localhost:4566", **headers})
    resp = website.serve_website(gw, req, bucket)
    return resp, {k.lower(): v for k, v in resp.headers}


def test_index_documents(gw):
    resp, h = _get(gw, "site", "/")
    assert (resp.status, resp.body, h["content-type"], h["x-amz-meta-who"]) == (200, b"<h1>home</h1>", "text/html", "me")
    assert h["etag"].startswith('"') and h["content-length"] == "13"
    resp, _ = _get(gw, "site", "/docs/")
    assert (resp.status, resp.body) == (200, b"docs home")
    resp, h = _get(gw, "site", "/docs")
    assert (resp.status, h["location"]) == (302, "/docs/")


def test_objects_ranges_and_conditions(gw):
    resp, h = _get(gw, "site", "/page.txt")
    assert (resp.status, resp.body, h["cache-control"]) == (200, b"0123456789", "max-age=60")
    resp, h = _get(gw, "site", "/page.txt", range="bytes=2-4")
    assert (resp.status, resp.body, h["content-range"]) == (206, b"234", "bytes 2-4/10")
    etag = h["etag"]
    resp, _ = _get(gw, "site", "/page.txt", **{"if-none-match": etag})
    assert (resp.status, resp.body) == (304, b"")
    resp, h = _get(gw, "site", "/page.txt", "HEAD")
    assert (resp.status, resp.body, h["content-length"]) == (200, b"", "10")


def test_error_documents(gw):
    resp, h = _get(gw, "site", "/nothing-here")
    assert (resp.status, resp.body, h["content-type"]) == (404, b"custom 404", "text/html")
    resp, h = _get(gw, "site", "/nothing-here", "HEAD")
    assert (resp.status, resp.body) == (404, b"")
    resp, h = _get(gw, "bare", "/nothing-here")
    page = resp.body.decode()
    assert resp.status == 404 and h["content-type"] == "text/html; charset=utf-8"
    assert "<title>404 Not Found</title>" in page
    assert "<li>Code: NoSuchKey</li>" in page and "<li>Key: nothing-here</li>" in page
    assert f"<li>RequestId: {h['x-amz-request-id']}</li>" in page
    resp, _ = _get(gw, "broken", "/")
    page = resp.body.decode()
    assert resp.status == 404 and "<li>Key: index.html</li>" in page
    assert "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>" in page
    assert "<li>Key: missing.html</li>" in page


def test_redirects(gw):
    resp, h = _get(gw, "site", "/manual/intro.html")
    assert (resp.status, h["location"]) == (301, "http://site.s3-website.localhost:4566/docs/intro.html")
    resp, h = _get(gw, "site", "/images/missing.png")
    assert (resp.status, h["location"]) == (307, "https://backup.example.com/images/missing.png")
    resp, h = _get(gw, "site", "/page.txt")  # an error-code rule leaves found objects alone
    assert resp.status == 200
    resp, h = _get(gw, "site", "/gone.html")
    assert (resp.status, h["location"]) == (301, "/page.txt")
    resp, h = _get(gw, "moved", "/some/path")
    assert (resp.status, h["location"]) == (301, "https://www.example.com/some/path")


def test_what_the_endpoint_refuses(gw):
    resp, _ = _get(gw, "site", "/index.html", "POST")
    assert resp.status == 405 and "<li>Code: MethodNotAllowed</li>" in resp.body.decode()
    resp, _ = _get(gw, "nobucket", "/")
    assert resp.status == 404 and "<li>Code: NoSuchBucket</li>" in resp.body.decode()
    resp, _ = _get(gw, "plain", "/")
    assert resp.status == 404 and "<li>Code: NoSuchWebsiteConfiguration</li>" in resp.body.decode()


# over HTTP -------------------------------------------------------------------------------
def test_website_round_trip(s3):
    b = new_bucket(s3, "web")
    assert refusal(s3.get_bucket_website, Bucket=b).code == "NoSuchWebsiteConfiguration"
    cfg = {**INDEX, "ErrorDocument": {"Key": "error.html"}, "RoutingRules": [
        _rule({"ReplaceKeyWith": "index.html", "HttpRedirectCode": "302"}, KeyPrefixEquals="old")]}
    s3.put_bucket_website(Bucket=b, WebsiteConfiguration=cfg)
    got = s3.get_bucket_website(Bucket=b)
    got.pop("ResponseMetadata")
    assert got == cfg
    assert refusal(s3.put_bucket_website, Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "a/b"}}).code == (
        "InvalidArgument")
    s3.delete_bucket_website(Bucket=b)
    s3.delete_bucket_website(Bucket=b)
    assert refusal(s3.get_bucket_website, Bucket=b).status == 404



def test_website_over_http(s3, cloud):
    b = new_bucket(s3, "web")
    s3.put_object(Bucket=b, Key="index.html", Body=b"home", ContentType="text/html")
    s3.put_bucket_website(Bucket=b, WebsiteConfiguration=INDEX)
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=5)
    conn.request("GET", "/", headers={"Host": f"{b}.s3-website.localhost:{cloud.port}"})
    resp = conn.getresponse()
    assert (resp.status, resp.read(), resp.getheader("Content-Type")) == (200, b"home", "text/html")
    conn.request("GET", "/missing", headers={"Host": f"{b}.s3-website.localhost:{cloud.port}"})
    resp = conn.getresponse()
    assert resp.status == 404 and b"<li>Code: NoSuchKey</li>" in resp.read()
