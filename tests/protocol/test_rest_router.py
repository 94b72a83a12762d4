"""The REST router: S3's quirks by hand, then every REST operation of every model.

The sweep builds each operation's request from its own ``requestUri`` (labels filled,
literal query parts and required query keys and headers added, as botocore always
sends them) and asserts the router finds that operation and gives the labels back.
tests/server/test_routing.py checks the same router against requests botocore really
serialized and signed.
"""

from __future__ import annotations

import os
import time
from urllib.parse import quote

import pytest
from botocore.model import ServiceModel

from cloudlet.protocol.model import load_service, raw_model, service_names
from cloudlet.protocol.rest_router import RestRouter, parse_template

DEEP = os.environ.get("CLOUDLET_DEEP") == "1"


@pytest.fixture(scope="module")
def s3() -> RestRouter:
    return RestRouter(load_service("s3"))


def op(router: RestRouter, method: str, path: str, query: str = "", headers: dict | None = None) -> str | None:
    hit = router.match(method, path, query, headers)
    return None if hit is None else hit[0].name


# --- S3 by hand ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path,query,headers,want",
    [
        ("GET", "/", "", None, "ListBuckets"),
        ("GET", "/", "max-directory-buckets=5", None, "ListDirectoryBuckets"),
        ("GET", "/b", "", None, "ListObjects"),
        ("GET", "/b/", "", None, "ListObjects"),
        ("GET", "/b", "list-type=2", None, "ListObjectsV2"),
        ("GET", "/b/", "prefix=a&list-type=2&max-keys=3", None, "ListObjectsV2"),
        ("GET", "/b", "list-type=1", None, "ListObjects"),  # a literal value must match
        ("GET", "/b", "versions", None, "ListObjectVersions"),
        ("GET", "/b", "versions=", None, "ListObjectVersions"),
        ("GET", "/b", "uploads", None, "ListMultipartUploads"),
        ("GET", "/b", "lifecycle", None, "GetBucketLifecycleConfiguration"),
        ("GET", "/b", "analytics&id=x", None, "GetBucketAnalyticsConfiguration"),
        ("GET", "/b", "analytics", None, "ListBucketAnalyticsConfigurations"),
        ("HEAD", "/b", "", None, "HeadBucket"),
        ("PUT", "/b", "", None, "CreateBucket"),
        ("DELETE", "/b/", "", None, "DeleteBucket"),
        ("POST", "/b", "delete", None, "DeleteObjects"),
        ("GET", "/b/k", "", None, "GetObject"),
        ("HEAD", "/b/k", "", None, "HeadObject"),
        ("GET", "/b/k", "acl", None, "GetObjectAcl"),
        ("GET", "/b/k", "uploadId=u", None, "ListParts"),
        ("GET", "/b/k", "tagging&versionId=v", None, "GetObjectTagging"),
        ("PUT", "/b/k", "", None, "PutObject"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "/o/k"}, "CopyObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", None, "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "/o/k"}, "UploadPartCopy"),
        ("POST", "/b/k", "uploads", None, "CreateMultipartUpload"),
        ("POST", "/b/k", "uploadId=u", None, "CompleteMultipartUpload"),
        ("POST", "/b/k", "select&select-type=2", None, "SelectObjectContent"),
        ("DELETE", "/b/k", "", None, "DeleteObject"),
        ("DELETE", "/b/k", "uploadId=u", None, "AbortMultipartUpload"),
        ("POST", "/b/k", "restore", None, "RestoreObject"),
    ],
)
def test_s3_operations(s3, method, path, query, headers, want):
    assert op(s3, method, path, query, headers) == want


@pytest.mark.parametrize(
    "raw,key",
    [
        ("a", "a"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("a//b", "a//b"),
        ("a/../b/./c", "a/../b/./c"),
        ("dir/", "dir/"),
        ("a+b", "a+b"),  # a plus in a path is a plus, never a space
        ("a%2Bb", "a+b"),
        ("a%20b", "a b"),
        ("%C3%BC%E4%B8%AD%E2%82%AC", "ü中€"),
        ("100%25", "100%"),
        ("%2F", "/"),
        ("?", "?"),
    ],
)
def test_s3_keys_are_decoded_exactly(s3, raw, key):
    hit = s3.match("GET", "/my.bucket/" + raw, "")
    assert hit is not None and hit[0].name == "GetObject"
    assert hit[1] == {"Bucket": "my.bucket", "Key": key}


def test_labels_are_never_empty(s3):
    assert op(s3, "GET", "//k", "") is None  # no bucket
    assert op(s3, "GET", "/b/", "") == "ListObjects"  # "/b/" is the bucket, not an empty key


def test_non_greedy_label_stops_at_slash():
    lam = RestRouter(load_service("lambda"))
    hit = lam.match("GET", "/2015-03-31/functions/my-fn", "")
    assert hit is not None and hit[0].name == "GetFunction" and hit[1] == {"FunctionName": "my-fn"}
    hit = lam.match("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af", "")
    assert hit is not None and hit[1]["FunctionName"] == "arn:aws:lambda:us-east-1:1:function:f"
    assert op(lam, "GET", "/2015-03-31/functions/a/b", "") is None
    assert op(lam, "GET", "/2015-03-31/functions/", "") == "ListFunctions"
    assert op(lam, "GET", "/2015-03-31/functions", "") == "ListFunctions"


def test_unknown_method_or_path(s3):
    assert s3.match("PATCH", "/b", "") is None
    lam = RestRouter(load_service("lambda"))
    assert lam.match("GET", "/nope", "") is None
    assert lam.match("get", "/2015-03-31/functions", "") is not None  # methods are case-blind


def _model(ops: dict[str, tuple[str, str]]) -> ServiceModel:
    """A tiny rest-json model: name -> (method, requestUri), labels as required members."""
    shapes: dict = {"S": {"type": "string"}}
    operations = {}
    for name, (method, uri) in ops.items():
        members = {}
        for label in parse_template(uri).labels:
            members[label[0]] = {"shape": "S", "location": "uri", "locationName": label[0]}
        shapes[name + "In"] = {"type": "structure", "required": list(members), "members": members}
        operations[name] = {"name": name, "http": {"method": method, "requestUri": uri}, "input": {"shape": name + "In"}}
    meta = {"protocol": "rest-json", "apiVersion": "1", "endpointPrefix": "t", "serviceId": "T"}
    return ServiceModel({"metadata": meta, "operations": operations, "shapes": shapes}, "t")


def test_specific_templates_win_and_fall_through():
    r = RestRouter(
        _model(
            {
                "GetThing": ("GET", "/things/{id}"),
                "GetSpecial": ("GET", "/things/special?mode=x"),
                "GetDeep": ("GET", "/things/{id}/parts/{part+}"),
                "GetParts": ("GET", "/things/{id}/parts"),
            }
        )
    )
    assert op(r, "GET", "/things/special", "mode=x") == "GetSpecial"
    # the literal template's query condition fails: the label template still matches
    assert op(r, "GET", "/things/special", "") == "GetThing"
    assert op(r, "GET", "/things/t1/parts", "") == "GetParts"
    assert r.match("GET", "/things/t1/parts/a/b", "")[1] == {"id": "t1", "part": "a/b"}


def test_scored_match_prefers_an_agreeing_trailing_slash():
    r = RestRouter(_model({"Prepare": ("POST", "/agents/{agentId}/")}))
    slash = r.match_scored("POST", "/agents/a1/", "")
    bare = r.match_scored("POST", "/agents/a1", "")
    assert slash is not None and bare is not None and slash[2] > bare[2]


def test_match_is_fast(s3):
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        s3.match("GET", "/bucket/some/key.txt", "")
        s3.match("GET", "/bucket", "list-type=2&prefix=a")
    per_call_us = (time.perf_counter() - start) / (2 * n) * 1e6
    assert per_call_us < 50, per_call_us  # ~2-4 us on the 2-core CI machine when idle


# --- every REST operation of every model -----------------------------------------------

REST_SERVICES = [n for n in service_names() if raw_model(n)["metadata"]["protocol"] in ("rest-json", "rest-xml")]

# Operations whose request is the same as another operation's, so the other one answers.
TWINS = {
    ("s3", "GetBucketLifecycle"): "GetBucketLifecycleConfiguration",  # deprecated twin
    ("s3", "PutBucketLifecycle"): "PutBucketLifecycleConfiguration",
    ("s3", "GetBucketNotification"): "GetBucketNotificationConfiguration",
    ("s3", "PutBucketNotification"): "PutBucketNotificationConfiguration",
    ("s3", "ListDirectoryBuckets"): "ListBuckets",  # only its optional max-directory-buckets differs
}


def _request_for(operation) -> tuple[str, str, str, dict[str, str], dict[str, str]]:
    """(method, path, query, headers, labels) as botocore would send the operation's minimum."""
    http = operation.http
    tpl = parse_template(http["requestUri"])
    path, _, literal_query = http["requestUri"].partition("?")
    labels = {}
    for name, greedy in tpl.labels:
        value = "a b/c//d+e/ü" if greedy else "v:1 +é"
        labels[name] = value
        path = path.replace("{" + name + ("+}" if greedy else "}"), quote(value, safe="/~" if greedy else "~"))
    query = [literal_query] if literal_query else []
    headers = {}
    shape = operation.input_shape
    if shape is not None:
        for member in shape.required_members:
            ser = shape.members[member].serialization
            if ser.get("location") == "querystring" and shape.members[member].type_name != "map":
                query.append(f"{ser.get('name', member)}=1")
            elif ser.get("location") == "header":
                headers[ser.get("name", member).lower()] = "x"
    return http["method"], path, "&".join(query), headers, labels


@pytest.mark.parametrize("name", REST_SERVICES)
def test_every_rest_operation_matches_itself(name):
    service = load_service(name)
    router = RestRouter(service)
    wrong = {}
    for op_name in service.operation_names:
        operation = service.operation_model(op_name)
        method, path, query, headers, labels = _request_for(operation)
        hit = router.match(method, path, query, headers)
        want = TWINS.get((name, op_name), op_name)
        if hit is None or hit[0].name != want or hit[1] != labels:
            wrong[op_name] = (method, path, query, hit and (hit[0].name, hit[1]))
    assert not wrong
