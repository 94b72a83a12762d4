"""Pinned decoder cases beside the generated sweep: the edges, protocol choice, errors.

Each edge is sent by botocore (the reference client) where it can be, so these are the
sweep's property pinned at values a seeded generator rarely hits: odd S3 keys, empty
lists, header maps, CBOR timestamps. Malformed input of every kind must give a 400
``ServiceError`` and never any other exception.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import struct

import cbor2
import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.decode import DECODERS, protocol_for
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import load_service
from cloudlet.protocol.xmlparse import parse_xml
from tests.protocol.botocore_oracle import botocore_request

UTC = dt.timezone.utc
CBOR = "smithy-rpc-v2-cbor"


def roundtrip(service_name: str, op_name: str, params: dict, protocol: str | None = None):
    service = load_service(service_name)
    protocol = protocol or (service.metadata.get("protocols") or [service.metadata["protocol"]])[0]
    op = service.operation_model(op_name)
    req = botocore_request(op, params, protocol)
    assert protocol_for(service, req) == protocol
    got_op, got = DECODERS[protocol](service).decode(req)
    assert got_op.name == op_name
    return got, req


def decode(service_name: str, protocol: str, req: Request):
    return DECODERS[protocol](load_service(service_name)).decode(req)


def assert_400(service_name: str, protocol: str, req: Request) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        decode(service_name, protocol, req)
    assert info.value.status == 400, (info.value.code, info.value.message)
    assert info.value.message
    return info.value


# -- pinned edges, sent by botocore ---------------------------------------------------------

S3_KEYS = [
    "a/../b",
    "../../etc/passwd",
    "a//b///c",
    "/leading//slash",
    "with space and+plus",
    "+++",
    "é✓€中/ü",
    "percent%2Fstays%20text",
    "q?uery#frag&amp;=",
    "trailing/",
    "~tilde*star'quote(paren)",
    " ",
]


ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
#: what XML 1.0 can hold (and no CR: XML parsers turn it into LF, botocore does not escape it)
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\ufffe\uffff", min_codepoint=0x20)
    | st.sampled_from("\t\n"),
    max_size=40,
)


def _keyed(examples: list[str]):
    def wrap(fn):
        for key in reversed(examples):
            fn = example(key)(fn)
        return fn

    return wrap


@_keyed(S3_KEYS)
@settings(max_examples=150, deadline=None)
@given(key=ANY_TEXT)
def test_s3_keys_survive_the_path(key: str) -> None:
    got, req = roundtrip("s3", "GetObject", {"Bucket": "bkt", "Key": key})
    assert got == {"Bucket": "bkt", "Key": key}
    assert req.path.startswith("/bkt/")


@settings(max_examples=100, deadline=None)
@given(label=ANY_TEXT, prefix=ANY_TEXT)
def test_any_text_in_rest_json_labels_and_query(label: str, prefix: str) -> None:
    got, _ = roundtrip("lambda", "ListAliases", {"FunctionName": label, "FunctionVersion": prefix})
    assert got == {"FunctionName": label, "FunctionVersion": prefix}


@settings(max_examples=100, deadline=None)
@given(message=st.text(st.characters(blacklist_categories=("Cs",)), max_size=60), name=ANY_TEXT)
def test_any_text_in_forms_and_json(message: str, name: str) -> None:
    params = {"TopicArn": "t", "Message": message, "Subject": name}
    assert roundtrip("sns", "Publish", params)[0] == params
    params = {"TableName": "t", "Item": {name: {"S": message}}}
    assert roundtrip("dynamodb", "PutItem", params)[0] == params


@settings(max_examples=100, deadline=None)
@given(key=XML_TEXT, value=XML_TEXT)
def test_any_xml_text_in_bodies(key: str, value: str) -> None:
    params = {"Bucket": "b", "Tagging": {"TagSet": [{"Key": key, "Value": value}]}}
    assert roundtrip("s3", "PutBucketTagging", params)[0] == params


@pytest.mark.parametrize("key", S3_KEYS)
def test_s3_put_object_body_and_key(key: str) -> None:
    body = bytes(range(256))
    got, _ = roundtrip("s3", "PutObject", {"Bucket": "bkt", "Key": key, "Body": body, "Metadata": {"k": "v"}})
    assert got["Key"] == key and got["Body"] == body and got["Metadata"] == {"k": "v"}


def test_s3_header_map_and_header_list() -> None:
    meta = {"alpha": "1", "empty": "", "with-dash": "x y"}
    got, req = roundtrip("s3", "PutObject", {"Bucket": "b", "Key": "k", "Metadata": meta})
    assert got["Metadata"] == meta
    assert req.headers["x-amz-meta-alpha"] == "1"
    got, _ = roundtrip(
        "s3", "GetObjectAttributes", {"Bucket": "b", "Key": "k", "ObjectAttributes": ["ETag", "Checksum", "ObjectSize"]}
    )
    assert got["ObjectAttributes"] == ["ETag", "Checksum", "ObjectSize"]


def test_header_list_quoting() -> None:
    from cloudlet.protocol.decode.rest import split_header_list

    assert split_header_list('a, "b,c" ,"d\\"e",f') == ["a", "b,c", 'd"e', "f"]
    assert split_header_list("") == [""]
    assert split_header_list("x") == ["x"]


def test_greedy_label_with_encoded_slash_text() -> None:
    got, req = roundtrip("s3", "DeleteObject", {"Bucket": "b", "Key": "dir/a%2Fb/../c"})
    assert got["Key"] == "dir/a%2Fb/../c"
    assert "%252F" in req.path


def test_non_greedy_label_keeps_its_slash_encoded() -> None:
    got, req = roundtrip("lambda", "GetFunction", {"FunctionName": "arn:aws:lambda:us-east-1:1:function:f/x y"})
    assert got["FunctionName"] == "arn:aws:lambda:us-east-1:1:function:f/x y"


def test_empty_query_list_is_no_key_in_rest() -> None:
    arn = "arn:aws:access-analyzer:us-east-1:1:analyzer/a"
    got, req = roundtrip("accessanalyzer", "UntagResource", {"resourceArn": arn, "tagKeys": ["a b", "c+d", ""]})
    assert got["tagKeys"] == ["a b", "c+d", ""]
    assert req.query == "tagKeys=a%20b&tagKeys=c%2Bd&tagKeys="
    got, req = roundtrip("accessanalyzer", "UntagResource", {"resourceArn": arn, "tagKeys": []})
    assert got == {"resourceArn": arn} and req.query == ""  # nothing on the wire to read back
    got, _ = roundtrip("apigateway", "GetExport", {"restApiId": "r", "stageName": "s", "exportType": "oas30", "parameters": {}})
    assert "parameters" not in got


def test_query_string_map_of_lists_and_literal_keys() -> None:
    # S3 ListObjectsV2 has a literal ``list-type=2`` that no member may take
    got, req = roundtrip("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "a b+c", "MaxKeys": 3})
    assert got == {"Bucket": "b", "Prefix": "a b+c", "MaxKeys": 3}
    got, _ = roundtrip("amp", "ListScrapers", {"filters": {"status": ["ACTIVE", "CREATING"], "alias": ["x"]}})
    assert got["filters"] == {"status": ["ACTIVE", "CREATING"], "alias": ["x"]}


def test_empty_lists_in_query_protocol() -> None:
    got, req = roundtrip("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": []})
    assert got["Tags"] == []  # the query protocol sends ``Tags=`` for an empty list
    assert "Tags=&" in req.body.decode() + "&"
    got, req = roundtrip("ec2", "DescribeInstances", {"InstanceIds": []})
    assert got == {}  # EC2 sends nothing for one


def test_ec2_lists_and_names() -> None:
    params = {"Filters": [{"Name": "tag:Name", "Values": ["a", "b c"]}], "InstanceIds": ["i-1"], "DryRun": True}
    got, req = roundtrip("ec2", "DescribeInstances", params)
    assert got == params
    body = req.body.decode()
    assert "Filter.1.Value.2=b+c" in body and "InstanceId.1=i-1" in body


def test_query_flattened_list_renamed_items_and_empty() -> None:
    params = {"DomainName": "d", "ItemName": "i", "Attributes": [{"Name": "n", "Value": "v", "Replace": True}]}
    got, req = roundtrip("sdb", "PutAttributes", params)
    assert got == params
    assert "Attribute.1.Name=n" in req.body.decode()
    got, req = roundtrip("sdb", "PutAttributes", {"DomainName": "d", "ItemName": "i", "Attributes": []})
    assert got["Attributes"] == []


def test_query_map_entries() -> None:
    params = {"TopicArn": "t", "Message": "m", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"}}}
    got, req = roundtrip("sns", "Publish", params)
    assert got == params
    assert "MessageAttributes.entry.1.Name=a" in req.body.decode()


def test_query_protocol_over_get_query_string() -> None:
    req = Request("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15", {"host": "localhost"})
    op, params = decode("sts", "query", req)
    assert op.name == "GetCallerIdentity" and params == {}


def test_query_wire_name_overrides() -> None:
    """The hook for services that moved from query to JSON: old names, current model."""
    from cloudlet.protocol.decode.query import QueryDecoder

    sqs = load_service("sqs")
    decoder = QueryDecoder(
        sqs,
        wire_names={
            "SetQueueAttributesRequest.Attributes": {"name": "Attribute", "flattened": True, "key": "Name", "value": "Value"},
        },
    )
    body = "Action=SetQueueAttributes&QueueUrl=u&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Attribute.2.Name=X&Attribute.2.Value="
    op, params = decoder.decode(Request("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"}, body.encode()))
    assert op.name == "SetQueueAttributes"
    assert params == {"QueueUrl": "u", "Attributes": {"DelaySeconds": "5", "X": ""}}


def test_json_timestamps_blobs_and_traits() -> None:
    when = dt.datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)
    got, req = roundtrip("kinesis", "PutRecord", {"StreamName": "s", "Data": b"\x00\xff", "PartitionKey": "p"})
    assert got["Data"] == b"\x00\xff"
    got, _ = roundtrip("dynamodb", "ListBackups", {"TimeRangeLowerBound": when})
    assert got["TimeRangeLowerBound"] == when
    # epoch with a fraction, ISO and HTTP date: all accepted for a timestamp
    svc = "dynamodb"
    for value in (1620284889.25, "2021-05-06T07:08:09.250Z", "Thu, 06 May 2021 07:08:09 GMT"):
        body = orjson.dumps({"TimeRangeLowerBound": value})
        req = Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListBackups"}, body)
        _, params = decode(svc, "json", req)
        assert params["TimeRangeLowerBound"].replace(microsecond=0) == when
        assert params["TimeRangeLowerBound"].tzinfo is not None


def test_json_null_members_are_absent_but_null_documents_stay() -> None:
    req = Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListTables"}, b'{"Limit": null}')
    assert decode("dynamodb", "json", req)[1] == {}


def test_cbor_timestamps() -> None:
    cw = load_service("cloudwatch")
    start = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    got, req = roundtrip("cloudwatch", "GetMetricData", {"MetricDataQueries": [], "StartTime": start, "EndTime": start}, CBOR)
    assert got["StartTime"] == start
    assert req.path == "/service/GraniteServiceVersion20100801/operation/GetMetricData"
    path = req.path
    headers = {"smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor"}
    cases = {
        "tag 1 int": cbor2.dumps({"MetricDataQueries": [], "StartTime": cbor2.CBORTag(1, 1704164645), "EndTime": 0}),
        "tag 1 float": cbor2.dumps({"MetricDataQueries": [], "StartTime": cbor2.CBORTag(1, 1704164645.5), "EndTime": 0}),
        "untagged float": cbor2.dumps({"MetricDataQueries": [], "StartTime": 1704164645.5, "EndTime": 0}),
        "datetime": cbor2.dumps({"MetricDataQueries": [], "StartTime": start, "EndTime": 0}, datetime_as_timestamp=True),
    }
    for label, body in cases.items():
        req = Request("POST", path, "", headers, body)
        assert protocol_for(cw, req) == CBOR
        _, params = decode("cloudwatch", CBOR, req)
        assert params["StartTime"].replace(microsecond=0) == start, label
        assert params["EndTime"] == dt.datetime(1970, 1, 1, tzinfo=UTC)
    _, params = decode("cloudwatch", CBOR, Request("POST", path, "", headers, cases["tag 1 float"]))
    assert params["StartTime"].microsecond == 500000


def test_cbor_blobs_and_floats() -> None:
    got, _ = roundtrip("gamelift", "CreateScript", {"Name": "s", "ZipFile": b"\x00PK\xff"}, CBOR)
    assert got["ZipFile"] == b"\x00PK\xff"
    got, _ = roundtrip("cloudwatch", "PutMetricData", {
        "Namespace": "n",
        "MetricData": [{"MetricName": "m", "Value": 1.5, "Values": [0.25, 1e300], "Counts": [2.0]}],
    }, CBOR)
    assert got["MetricData"][0]["Values"] == [0.25, 1e300]


def test_cloudwatch_speaks_three_protocols_with_one_model() -> None:
    params = {"Namespace": "ns", "MetricData": [{"MetricName": "m", "Value": 2.0, "Dimensions": [{"Name": "a", "Value": "b"}]}]}
    for protocol in (CBOR, "json", "query"):
        got, _ = roundtrip("cloudwatch", "PutMetricData", params, protocol)
        assert got == params, protocol


def test_host_prefix_labels_fill_gaps() -> None:
    # s3control binds AccountId to a header and a host label; without the header the host says it
    service = load_service("s3control")
    op = service.operation_model("GetPublicAccessBlock")
    req = botocore_request(op, {"AccountId": "123456789012"}, "rest-xml")
    assert req.host == "123456789012.localhost:4566"
    del req.headers["x-amz-account-id"]
    _, params = decode("s3control", "rest-xml", req)
    assert params == {"AccountId": "123456789012"}


def test_rest_xml_attributes_namespaces_and_flattened_lists() -> None:
    acl = {
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "abc", "DisplayName": "d"}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "WRITE"},
        ],
        "Owner": {"ID": "o"},
    }
    got, req = roundtrip("s3", "PutBucketAcl", {"Bucket": "b", "AccessControlPolicy": acl})
    assert got["AccessControlPolicy"] == acl
    assert b"xsi:type" in req.body
    parts = [{"ETag": '"e1"', "PartNumber": 1}, {"ETag": '"e2"', "PartNumber": 2}]
    got, _ = roundtrip("s3", "CompleteMultipartUpload", {"Bucket": "b", "Key": "k", "UploadId": "u", "MultipartUpload": {"Parts": parts}})
    assert got["MultipartUpload"] == {"Parts": parts}


def test_rest_xml_accepts_other_prefixes_and_whitespace() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">
  <s3:Object><s3:Key>a &amp; b</s3:Key></s3:Object>
  <s3:Object><s3:Key><![CDATA[<c>]]></s3:Key><s3:VersionId>v</s3:VersionId></s3:Object>
  <s3:Quiet>true</s3:Quiet>
</s3:Delete>"""
    req = Request("POST", "/bkt", "delete", {"host": "localhost", "content-md5": "x"}, body)
    op, params = decode("s3", "rest-xml", req)
    assert op.name == "DeleteObjects"
    assert params["Delete"] == {"Objects": [{"Key": "a & b"}, {"Key": "<c>", "VersionId": "v"}], "Quiet": True}


def test_rest_json_payload_structure_absent_and_blob_payload() -> None:
    got, req = roundtrip("lambda", "Invoke", {"FunctionName": "f", "Payload": b'{"a":1}'})
    assert got["Payload"] == b'{"a":1}'
    got, req = roundtrip("lambda", "Invoke", {"FunctionName": "f"})
    assert "Payload" not in got


def test_jsonvalue_header() -> None:
    got, req = roundtrip("iot-data", "Publish", {"topic": "t/x", "userProperties": {"a": [1, "b"]}, "payload": b"p"})
    assert got["userProperties"] == {"a": [1, "b"]}
    assert base64.b64decode(req.headers["x-amz-mqtt5-user-properties"])


# -- protocol choice ---------------------------------------------------------------------------


def test_protocol_for() -> None:
    cw, sqs, ec2, s3 = (load_service(n) for n in ("cloudwatch", "sqs", "ec2", "s3"))
    form = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert protocol_for(cw, Request("POST", "/service/X/operation/Y", "", {"smithy-protocol": "rpc-v2-cbor"})) == CBOR
    assert protocol_for(cw, Request("POST", "/", "", {"x-amz-target": "GraniteServiceVersion20100801.ListMetrics"})) == "json"
    assert protocol_for(cw, Request("POST", "/", "", form, b"Action=ListMetrics")) == "query"
    assert protocol_for(cw, Request("GET", "/", "Action=ListMetrics&Version=2010-08-01", {})) == "query"
    assert protocol_for(cw, Request("POST", "/", "", {})) == CBOR  # no signal: the model's first
    assert protocol_for(sqs, Request("POST", "/", "", {"x-amz-target": "AmazonSQS.ListQueues"})) == "json"
    assert protocol_for(sqs, Request("POST", "/", "", form, b"Action=ListQueues")) == "query"  # old SDKs
    assert protocol_for(ec2, Request("POST", "/", "", form, b"Action=DescribeRegions")) == "ec2"
    assert protocol_for(s3, Request("GET", "/b", "Action=x", form)) == "rest-xml"


# -- unknown operations ------------------------------------------------------------------------


def test_unknown_operations() -> None:
    with pytest.raises(ServiceError) as info:
        decode("dynamodb", "json", Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.Nope"}, b"{}"))
    assert info.value.code == "UnknownOperationException" and info.value.status == 400
    with pytest.raises(ServiceError) as info:
        decode("dynamodb", "json", Request("POST", "/", "", {"x-amz-target": "Wrong.ListTables"}, b"{}"))
    assert info.value.code == "UnknownOperationException"
    with pytest.raises(ServiceError) as info:
        decode("iam", "query", Request("POST", "/", "", {}, b"Action=Nope&Version=1"))
    assert info.value.code == "InvalidAction"
    assert info.value.message == "The action Nope is not valid for this web service."
    with pytest.raises(ServiceError) as info:
        decode("ec2", "ec2", Request("POST", "/", "", {}, b"Action=Nope"))
    assert info.value.code == "InvalidAction"
    with pytest.raises(ServiceError) as info:
        decode("iam", "query", Request("POST", "/", "", {}, b"Version=1"))
    assert info.value.code == "MissingAction" and info.value.status == 400
    with pytest.raises(ServiceError) as info:
        decode("cloudwatch", CBOR, Request("POST", "/service/GraniteServiceVersion20100801/operation/Nope", "", {}, b""))
    assert info.value.code == "UnknownOperationException" and info.value.status == 404
    with pytest.raises(ServiceError) as info:
        decode("lambda", "rest-json", Request("GET", "/no/such/path", "", {}))
    assert info.value.status == 404
    with pytest.raises(ServiceError) as info:
        decode("lambda", "rest-json", Request("PATCH", "/2015-03-31/functions/f", "", {}))
    assert info.value.status == 405
    with pytest.raises(ServiceError) as info:
        decode("route53", "rest-xml", Request("GET", "/nothing-here", "", {}))
    assert info.value.status in (404, 405)


# -- malformed input: always a 400 ---------------------------------------------------------------

JSON_REQ = {"x-amz-target": "DynamoDB_20120810.PutItem", "content-type": "application/x-amz-json-1.0"}
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/PutMetricData"
CBOR_HDR = {"smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _deep_json(depth: int) -> bytes:
    return b'{"TableName":"t","Item":{"a":' + b'{"L":[' * depth + b"]}" * depth + b"}}"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CreateBucketConfiguration><LocationConstraint>&lol3;</LocationConstraint></CreateBucketConfiguration>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CreateBucketConfiguration><LocationConstraint>&xxe;</LocationConstraint></CreateBucketConfiguration>"""
PARAM_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % p SYSTEM "http://example.com/evil.dtd"> %p;]><CreateBucketConfiguration/>"""
BARE_DOCTYPE = b"""<?xml version="1.0"?><!DOCTYPE CreateBucketConfiguration><CreateBucketConfiguration/>"""
UNDECLARED = b"<CreateBucketConfiguration><LocationConstraint>&nope;</LocationConstraint></CreateBucketConfiguration>"

MALFORMED = [
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b"{not json")),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b'{"TableName": "t", "Item": {"a": {"S": "x"')),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b"[" * 10_000 + b"]" * 10_000)),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, _deep_json(10_000))),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, _deep_json(450))),  # within orjson's limit: our guard
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b'"a string"')),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b'{"TableName": 5}')),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b'{"TableName": "t", "Item": {"a": {"B": "!!notbase64"}}}')),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b'{"TableName": "t", "Item": {"a": {"BOOL": "yes"}}}')),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b'{"TableName": "t", "Item": []}')),
    ("dynamodb", "json", Request("POST", "/", "", JSON_REQ, b"\xff\xfe\x00garbage")),
    ("dynamodb", "json", Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListBackups"}, b'{"TimeRangeLowerBound": "yesterday"}')),
    ("dynamodb", "json", Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListBackups"}, b'{"TimeRangeLowerBound": 1e300}')),
    ("dynamodb", "json", Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListBackups"}, b'{"TimeRangeLowerBound": 1e999}')),
    ("dynamodb", "json", Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListTables"}, b'{"Limit": 1.5}')),
    ("dynamodb", "json", Request("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListTables"}, b'{"Limit": true}')),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, b"\x9f" * 10_000)),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, b"\xa1\x61a" * 10_000 + b"\x00")),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, cbor2.dumps({"Namespace": "n", "MetricData": []})[:-3])),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff")),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, cbor2.dumps({"Namespace": b"bytes"}))),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, cbor2.dumps({"Namespace": "n", "MetricData": [{"Timestamp": "x"}]}))),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, cbor2.dumps(["not", "a", "map"]))),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, cbor2.dumps({"Namespace": "n", "MetricData": [{"Dimensions": {1: 2}}]}))),
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, b"\xd8\x1c\x81\xd8\x1d\x00")),  # a shared self-reference
    ("cloudwatch", CBOR, Request("POST", CBOR_PATH, "", CBOR_HDR, b"\x7f\x61a\x41b\xff")),  # bytes inside a text chunk
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, BILLION_LAUGHS)),
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, EXTERNAL_ENTITY)),
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, PARAM_ENTITY)),
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, BARE_DOCTYPE)),
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, UNDECLARED)),
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, b"<CreateBucketConfiguration><LocationConstraint>")),
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, b"<a>" * 10_000 + b"</a>" * 10_000)),
    ("s3", "rest-xml", Request("PUT", "/bkt", "", {}, b"\x00\x01\x02 not xml")),
    ("s3", "rest-xml", Request("POST", "/bkt", "delete", {}, b"<Delete><Quiet>maybe</Quiet></Delete>")),
    ("s3", "rest-xml", Request("GET", "/bkt/key", "", {"if-modified-since": "not a date"})),
    ("s3", "rest-xml", Request("GET", "/bkt/key", "partNumber=abc", {})),
    ("s3", "rest-xml", Request("GET", "/bkt", "list-type=2&max-keys=%FF", {})),
    ("s3", "rest-xml", Request("GET", "/bkt/key", "attributes", {"x-amz-object-attributes": '"unterminated'})),
    ("lambda", "rest-json", Request("POST", "/2015-03-31/functions", "", {}, b"{truncated")),
    ("lambda", "rest-json", Request("POST", "/2015-03-31/functions", "", {}, b'{"FunctionName": ["x"]}')),
    ("lambda", "rest-json", Request("POST", "/2015-03-31/functions", "", {}, b"[" * 10_000)),
    ("lambda", "rest-json", Request("GET", "/2015-03-31/functions/", "MaxItems=ten", {})),
    ("iam", "query", Request("POST", "/", "", FORM, b"Action=CreateUser&UserName=u&Tags.member.1.Key=k&Tags.member.1=x")),
    ("iam", "query", Request("POST", "/", "", FORM, b"Action=ListUsers&MaxItems=many")),
    ("iam", "query", Request("POST", "/", "", FORM, b"Action=ListUsers&MaxItems.member.1=1")),
    ("iam", "query", Request("POST", "/", "", FORM, b"Action=CreateUser&Tags.member.x.Key=k")),
    ("iam", "query", Request("POST", "/", "", FORM, b"Action=CreateUser&" + b"a." * 10_000 + b"=1")),
    ("iam", "query", Request("POST", "/", "", FORM, b"Action=CreateUser&UserName=%FF%FE")),
    ("iam", "query", Request("POST", "/", "", FORM, b"\xff\xfe\xfd")),
    ("ec2", "ec2", Request("POST", "/", "", FORM, b"Action=DescribeInstances&MaxResults=x")),
    ("ec2", "ec2", Request("POST", "/", "", FORM, b"Action=DescribeInstances&DryRun=perhaps")),
    ("sts", "query", Request("POST", "/", "", FORM, b"Action=GetFederationToken&Name=n&DurationSeconds=1.5")),
]


@pytest.mark.parametrize(("service", "protocol", "req"), MALFORMED, ids=[f"{i}-{m[0]}" for i, m in enumerate(MALFORMED)])
def test_malformed_input_is_a_400(service: str, protocol: str, req: Request) -> None:
    assert_400(service, protocol, req)


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAM_ENTITY, BARE_DOCTYPE, UNDECLARED])
def test_xml_parser_refuses_entities(doc: bytes) -> None:
    with pytest.raises(ServiceError) as info:
        parse_xml(doc)
    assert info.value.status == 400 and info.value.code == "MalformedXML"


# -- fuzz: mangled botocore requests never raise anything but a 400 -----------------------------

FUZZ_OPS = [
    ("dynamodb", "json", "PutItem", {"TableName": "t", "Item": {"a": {"M": {"b": {"L": [{"N": "1"}, {"B": b"x"}]}}}}}),
    ("cloudwatch", CBOR, "PutMetricData", {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0, "Timestamp": dt.datetime(2020, 1, 1, tzinfo=UTC), "Dimensions": [{"Name": "a", "Value": "b"}]}]}),
    ("cloudwatch", "query", "PutMetricData", {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0, "Timestamp": dt.datetime(2020, 1, 1, tzinfo=UTC)}]}),
    ("ec2", "ec2", "RunInstances", {"MinCount": 1, "MaxCount": 2, "ImageId": "ami-1", "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "v"}]}]}),
    ("s3", "rest-xml", "PutBucketLifecycleConfiguration", {"Bucket": "b", "LifecycleConfiguration": {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "p"}, "Expiration": {"Days": 3}}]}}),
    ("s3", "rest-xml", "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}], "Quiet": True}}),
    ("lambda", "rest-json", "CreateFunction", {"FunctionName": "f", "Role": "r", "Code": {"ZipFile": b"zip"}, "Timeout": 3, "Environment": {"Variables": {"A": "1"}}}),
    ("route53", "rest-xml", "ChangeResourceRecordSets", {"HostedZoneId": "Z", "ChangeBatch": {"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": "a.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "1.2.3.4"}]}}]}}),
]


def _mangle(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40)))
    choice = rng.randrange(5)
    if choice == 0:
        return data[: rng.randrange(len(data))]
    if choice == 1:
        i = rng.randrange(len(data))
        return data[:i] + bytes([rng.getrandbits(8)]) + data[i + 1 :]
    if choice == 2:
        i = rng.randrange(len(data))
        return data[:i] + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 8))) + data[i:]
    if choice == 3:
        i, j = sorted(rng.randrange(len(data)) for _ in range(2))
        return data[:i] + data[j:]
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))


@pytest.mark.parametrize(("service_name", "protocol", "op_name", "params"), FUZZ_OPS, ids=[f"{o[0]}-{o[1]}-{o[2]}" for o in FUZZ_OPS])
def test_mangled_bodies_give_400_or_decode(service_name: str, protocol: str, op_name: str, params: dict) -> None:
    service = load_service(service_name)
    decoder = DECODERS[protocol](service)
    good = botocore_request(service.operation_model(op_name), params, protocol)
    rng = random.Random(f"{service_name}/{op_name}")
    for _ in range(300):
        body = _mangle(rng, good.body)
        req = Request(good.method, good.path, good.query, dict(good.headers), body)
        try:
            decoder.decode(req)
        except ServiceError as err:
            assert err.status == 400, (err.code, err.message, body)
        if good.query:
            req = Request(good.method, good.path, _mangle(rng, good.query.encode()).decode("latin-1"), dict(good.headers), good.body)
            try:
                decoder.decode(req)
            except ServiceError as err:
                assert err.status in (400, 404, 405), (err.code, err.message)


def test_float_special_values_in_text() -> None:
    from cloudlet.protocol.decode.scalars import text_reader

    read = text_reader("double")
    assert read("Infinity") == float("inf") and read("-Infinity") == float("-inf")
    assert read("NaN") != read("NaN")
    assert struct.pack(">d", read("2.5")) == struct.pack(">d", 2.5)


def test_literal_query_part_wins_without_its_required_header() -> None:
    op, params = decode("s3", "rest-xml", Request("GET", "/b/k", "attributes", {"host": "localhost"}))
    assert op.name == "GetObjectAttributes" and params == {"Bucket": "b", "Key": "k"}
