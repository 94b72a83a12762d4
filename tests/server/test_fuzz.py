"""Garbage in never gets a 500 or a hang: random bytes, truncated and nested-bomb
bodies, entity bombs and huge headers, to every protocol."""

from __future__ import annotations

import asyncio
import http.client
import random

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudlet.protocol.http import Request
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway

SCOPE = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=" + "0" * 64

# one target per protocol: (signing name, method, path, extra headers, a valid body to mangle)
TARGETS = {
    "query": ("sts", "POST", "/", {"content-type": "application/x-www-form-urlencoded"},
              b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=session"),
    "ec2": ("ec2", "POST", "/", {"content-type": "application/x-www-form-urlencoded"},
            b"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&Filter.1.Name=x&Filter.1.Value.1=y"),
    "json": ("sqs", "POST", "/", {"content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage"},
             b'{"QueueUrl": "http://localhost/000000000000/q", "MessageBody": "hi", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"}}}'),
    "rest-json": ("lambda", "POST", "/2015-03-31/functions", {"content-type": "application/json"},
                  b'{"FunctionName": "f", "Role": "arn:aws:iam::000000000000:role/r", "Code": {"ZipFile": "UEsDBA=="}, "Environment": {"Variables": {"AB": "b"}}}'),
    "rest-xml": ("s3", "PUT", "/bucket?lifecycle", {"content-type": "application/xml"},
                 b'<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>a</ID><Status>Enabled</Status>'
                 b'<Filter><Prefix>x/</Prefix></Filter><Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>'),
    "cbor": ("monitoring", "POST", "/service/GraniteServiceVersion20100801/operation/PutMetricData",
             {"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor", "accept": "application/cbor"},
             cbor2.dumps({"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0}]})),
}

OPERATIONS = {"query": "AssumeRole", "ec2": "DescribeVpcs", "json": "SendMessage", "rest-json": "CreateFunction",
              "rest-xml": "PutBucketLifecycleConfiguration", "cbor": "PutMetricData"}
DECODE_ERRORS = {"SerializationException", "MalformedXML", "InvalidArgument", "MalformedQueryString",
                 "InvalidParameterValue", "ValidationError", "ValidationException", "UnknownOperationException"}

BOMBS = {
    "json-deep": b"[" * 100_000 + b"]" * 100_000,
    "json-deep-obj": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "xml-deep": b"<a>" * 50_000 + b"</a>" * 50_000,
    "xml-billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
        b"<LifecycleConfiguration><Rule><ID>&lol4;</ID></Rule></LifecycleConfiguration>"
    ),
    "xml-external-entity": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<LifecycleConfiguration><Rule><ID>&x;</ID></Rule></LifecycleConfiguration>"
    ),
    "cbor-deep": b"\x81" * 100_000 + b"\x01",
    "cbor-huge-length": b"\xbb\xff\xff\xff\xff\xff\xff\xff\xff",
    "cbor-truncated": b"\xa1\x69Namespace\x78\xff",
    "form-deep": b"Action=DescribeVpcs&" + b"&".join(b"Filter.%d.Value.%d=x" % (i, i) for i in range(1, 3000)),
    "nul-bytes": b"\x00" * 4096,
}

_gw = Gateway(Config(ephemeral=True))


def _ask(protocol: str, body: bytes, extra: dict[str, str] | None = None) -> int:
    svc, method, path, headers, _ = TARGETS[protocol]
    path, _, query = path.partition("?")
    h = {"host": "localhost:4566", "authorization": SCOPE.format(svc=svc), **headers, **(extra or {})}
    resp = asyncio.run(asyncio.wait_for(_gw.handle(Request(method, path, query, h, body)), timeout=10))
    return resp.status


@pytest.mark.parametrize("protocol", sorted(TARGETS))
def test_the_valid_body_decodes_and_reaches_dispatch(protocol):
    # the mutations below start from a body that decodes: it reaches its operation (whose
    # handler may answer 501 or its own 4xx), so they probe the decoder, not the router
    status = _ask(protocol, TARGETS[protocol][4])
    assert status < 500 or status == 501
    event = _gw.audit.query(limit=1)[0]
    assert event["eventName"] == OPERATIONS[protocol]
    assert event.get("errorCode") not in DECODE_ERRORS


@pytest.mark.parametrize("protocol", sorted(TARGETS))
@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_bombs_are_refused_cleanly(protocol, bomb):
    status = _ask(protocol, BOMBS[bomb])
    assert status < 500 or status == 501, status


@pytest.mark.parametrize("protocol", sorted(TARGETS))
def test_every_truncation_of_a_valid_body(protocol):
    body = TARGETS[protocol][4]
    for cut in range(0, len(body), max(1, len(body) // 40)):
        status = _ask(protocol, body[:cut])
        assert status < 500 or status == 501, (cut, status)


@pytest.mark.parametrize("protocol", sorted(TARGETS))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=512), flips=st.lists(st.integers(0, 10_000), max_size=8))
def test_random_and_mutated_bodies(protocol, data, flips):
    body = bytearray(TARGETS[protocol][4])
    for f in flips:
        body[f % len(body)] = (body[f % len(body)] + 1 + f) % 256
    for candidate in (data, bytes(body)):
        status = _ask(protocol, candidate)
        assert status < 500 or status == 501, status


@pytest.mark.parametrize("protocol", sorted(TARGETS))
def test_garbage_headers(protocol):
    rng = random.Random(protocol)
    for name in ("x-amz-date", "content-type", "x-amz-target", "content-encoding", "x-amz-content-sha256", "authorization"):
        junk = "".join(chr(rng.randrange(32, 256)) for _ in range(200))
        status = _ask(protocol, TARGETS[protocol][4], {name: junk})
        assert status < 500 or status == 501, (name, status)


def _raw(endpoint_port: int, headers: dict[str, str], body: bytes = b"") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", endpoint_port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        return conn.getresponse().status
    except (ConnectionError, http.client.RemoteDisconnected):
        return 400  # the server may drop a request it will not read; that is a refusal, not a 500
    finally:
        conn.close()


def test_huge_headers_over_http(cloud):
    auth = SCOPE.format(svc="sts")
    assert _raw(cloud.port, {"authorization": auth, "x-junk": "a" * 200_000}, b"Action=GetCallerIdentity") < 500
    many = {f"x-h{i}": "v" * 100 for i in range(2000)}
    assert _raw(cloud.port, {"authorization": auth, **many}, b"Action=GetCallerIdentity") < 500
    # the server still answers afterwards
    assert cloud.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_bombs_over_http(cloud):
    auth = SCOPE.format(svc="sqs")
    for bomb in ("json-deep", "json-deep-obj"):
        status = _raw(cloud.port, {"authorization": auth, "x-amz-target": "AmazonSQS.SendMessage",
                                   "content-type": "application/x-amz-json-1.0"}, BOMBS[bomb])
        assert status < 500 or status == 501
