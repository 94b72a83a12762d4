"""Pinned edge cases for the encoders, beside the generated sweep in test_encode.py.

Most go through a real boto3 client whose HTTP send is answered by our encoder (botocore's
``before-send`` hook), so the client's handlers and exception classes are exercised too.
"""

from __future__ import annotations

import datetime as dt
import io
import math

import boto3
import cbor2
import orjson
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode import ENCODERS, QueryWire
from cloudlet.protocol.encode.scalars import epoch_seconds, float_text, iso8601, rfc822, xml_attr, xml_text
from cloudlet.protocol.http import Response
from cloudlet.protocol.model import load_service
from tests.protocol.test_encode import botocore_parse, headers_dict

RID = "4e0c1a3a-0000-4000-8000-000000000001"
UTC = dt.timezone.utc
NASTY = "a<b>&c\"d'e\r\nf\tg ]]> \u00e9\u4e2d\U0001f600 "


class _Raw(io.BytesIO):
    """The urllib3 response botocore reads: read() for streams, stream() for content."""

    def stream(self, amt: int = 1024, decode_content: bool | None = None):
        while chunk := self.read(amt):
            yield chunk


def client(service: str, answer):
    """A boto3 client whose every request is answered by `answer(op_name) -> Response`."""
    c = boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"total_max_attempts": 1}),
    )

    def before_send(request, **kwargs):
        op_name = kwargs["event_name"].rsplit(".", 1)[-1]
        resp: Response = answer(op_name)
        return AWSResponse(request.url, resp.status, headers_dict(resp), _Raw(resp.body))

    c.meta.events.register("before-send", before_send)
    return c


def encoder(service: str, protocol: str | None = None):
    model = load_service(service)
    return ENCODERS[protocol or model.resolved_protocol](model), model


def answering(service: str, output: dict | None = None, error: ServiceError | None = None,
              protocol: str | None = None):
    enc, model = encoder(service, protocol)

    def answer(op_name: str) -> Response:
        op = model.operation_model(op_name)
        if error is not None:
            return enc.encode_error(op, error, RID)
        return enc.encode(op, output or {}, RID)

    return client(service, answer)


# scalars -----------------------------------------------------------------------------------
def test_timestamp_forms_keep_milliseconds_and_accept_epoch_numbers():
    t = dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    assert iso8601(t) == "2024-02-29T23:59:58.123Z"
    assert iso8601(t.replace(microsecond=0)) == "2024-02-29T23:59:58Z"
    assert rfc822(t) == "Thu, 29 Feb 2024 23:59:58 GMT"
    assert epoch_seconds(t) == 1709251198.123
    assert epoch_seconds(t.replace(microsecond=0)) == 1709251198
    assert epoch_seconds(1709251198) == 1709251198 and iso8601(1709251198.5) == "2024-02-29T23:59:58.500Z"
    assert iso8601(dt.datetime(2024, 1, 1)) == "2024-01-01T00:00:00Z"  # naive is UTC
    assert epoch_seconds(dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)) == -0.5


def test_xml_escaping_and_characters_xml_cannot_carry():
    assert xml_text("plain") == "plain"
    assert xml_text("a<b>&c\r") == "a&lt;b&gt;&amp;c&#13;"
    assert xml_attr('q"\n\t') == "q&quot;&#10;&#9;"
    # XML 1.0 has no form at all for most C0 controls: they become U+FFFD
    assert xml_text("a\x00b\x1fc\ufffe") == "a\ufffdb\ufffdc\ufffd"
    assert float_text(float("nan")) == "NaN" and float_text(-math.inf) == "-Infinity"
    assert float_text(2.0) == "2.0" and float_text(0.1) == "0.1"


# query ---------------------------------------------------------------------------------------
def test_query_text_survives_xml_special_and_unicode_characters():
    iam = answering("iam", {"User": {"UserName": NASTY, "Path": "/", "UserId": "AIDA", "Arn": "arn:x",
                                     "CreateDate": dt.datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
                                     "Tags": []}})
    user = iam.get_user()["User"]
    assert user["UserName"] == NASTY
    assert user["CreateDate"] == dt.datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert user["Tags"] == []  # an empty non-flattened list is an empty element


def test_query_control_characters_become_replacement_characters():
    sts = answering("sts", {"UserId": "u\x01\x08x", "Account": "1", "Arn": "a"})
    assert sts.get_caller_identity()["UserId"] == "u\ufffd\ufffdx"


def test_query_error_names_type_code_message_and_request_id():
    enc, model = encoder("sns")
    resp = enc.encode_error(model.operation_model("Publish"), ServiceError("NotFound", "Topic <x> does not exist", 404), RID)
    body = resp.body.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">')
    assert "<Type>Sender</Type><Code>NotFound</Code><Message>Topic &lt;x&gt; does not exist</Message>" in body
    assert f"<RequestId>{RID}</RequestId>" in body and resp.status == 404
    sns = answering("sns", error=ServiceError("NotFound", "Topic does not exist", 404))
    with pytest.raises(sns.exceptions.NotFoundException) as info:
        sns.publish(TopicArn="arn:aws:sns:us-east-1:1:t", Message="m")
    assert info.value.response["Error"] == {"Type": "Sender", "Code": "NotFound", "Message": "Topic does not exist"}
    assert info.value.response["ResponseMetadata"]["RequestId"] == RID


def test_query_server_fault_is_receiver():
    enc, model = encoder("sts")
    resp = enc.encode_error(None, ServiceError("InternalFailure", "oops", 500), RID)
    assert b"<Type>Receiver</Type>" in resp.body and resp.status == 500


def test_query_wire_overrides_name_what_a_json_model_lost():
    """The hook for SQS over query: wire names the JSON model no longer carries."""
    wire = QueryWire(
        namespace="http://queue.amazonaws.com/doc/2012-11-05/",
        result_wrappers={"ReceiveMessage": "ReceiveMessageResult"},
        names={
            "ReceiveMessageResult.Messages": "Message",
            "Message.Attributes": "Attribute",
            "MessageSystemAttributeMap.key": "Name",
            "MessageSystemAttributeMap.value": "Value",
        },
    )
    model = load_service("sqs")
    enc = ENCODERS["query"](model, wire=wire)
    out = {"Messages": [{"MessageId": "m1", "Body": "<hi>", "Attributes": {"SenderId": "s"}},
                        {"MessageId": "m2", "Body": "", "Attributes": {}}]}
    body = enc.encode(model.operation_model("ReceiveMessage"), out, RID).body.decode()
    assert body == (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult>'
        "<Message><MessageId>m1</MessageId><Body>&lt;hi&gt;</Body>"
        "<Attribute><Name>SenderId</Name><Value>s</Value></Attribute></Message>"
        "<Message><MessageId>m2</MessageId><Body></Body></Message>"
        f"</ReceiveMessageResult><ResponseMetadata><RequestId>{RID}</RequestId></ResponseMetadata>"
        "</ReceiveMessageResponse>"
    )


# ec2 -------------------------------------------------------------------------------------------
def test_ec2_response_and_error_shapes():
    ec2 = answering("ec2", {"Reservations": [{"ReservationId": "r-1", "Instances": [
        {"InstanceId": "i-1", "Tags": [{"Key": "Name", "Value": NASTY}]}]}]})
    res = ec2.describe_instances()
    assert res["Reservations"][0]["Instances"][0]["Tags"] == [{"Key": "Name", "Value": NASTY}]
    assert res["ResponseMetadata"]["RequestId"] == RID
    enc, model = encoder("ec2")
    resp = enc.encode_error(model.operation_model("DescribeInstances"),
                            ServiceError("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist"), RID)
    assert resp.body.decode().endswith(
        "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
        "<Message>The instance ID 'i-1' does not exist</Message></Error></Errors>"
        f"<RequestID>{RID}</RequestID></Response>")
    ec2 = answering("ec2", error=ServiceError("InvalidInstanceID.NotFound", "nope"))
    with pytest.raises(ec2.exceptions.ClientError) as info:
        ec2.describe_instances()
    assert info.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert info.value.response["ResponseMetadata"]["RequestId"] == RID


# json --------------------------------------------------------------------------------------------
def test_json_content_type_request_id_and_timestamps():
    enc, model = encoder("dynamodb")
    when = dt.datetime(2021, 5, 6, 7, 8, 9, 250000, tzinfo=UTC)
    resp = enc.encode(model.operation_model("DescribeTable"),
                      {"Table": {"TableName": "t", "CreationDateTime": when, "ItemCount": 3}}, RID)
    assert ("Content-Type", "application/x-amz-json-1.0") in resp.headers
    assert ("x-amzn-RequestId", RID) in resp.headers
    assert orjson.loads(resp.body) == {"Table": {"TableName": "t", "CreationDateTime": 1620284889.25, "ItemCount": 3}}
    enc, model = encoder("kinesis")  # awsJson 1.1
    assert ("Content-Type", "application/x-amz-json-1.1") in enc.encode(model.operation_model("ListStreams"), {}, RID).headers


def test_json_blobs_and_nonfinite_floats():
    ddb = answering("dynamodb", {"Item": {"b": {"B": b"\x00\xff"}, "s": {"S": NASTY}, "l": {"L": []}, "m": {"M": {}}}})
    item = ddb.get_item(TableName="t", Key={"k": {"S": "x"}})["Item"]
    assert item == {"b": {"B": b"\x00\xff"}, "s": {"S": NASTY}, "l": {"L": []}, "m": {"M": {}}}
    enc, model = encoder("cloudwatch", "json")
    resp = enc.encode(model.operation_model("GetMetricStatistics"),
                      {"Datapoints": [{"Average": math.nan, "Maximum": math.inf, "Minimum": -math.inf, "Sum": 1.5}]}, RID)
    assert orjson.loads(resp.body) == {"Datapoints": [{"Average": "NaN", "Maximum": "Infinity",
                                                      "Minimum": "-Infinity", "Sum": 1.5}]}


def test_json_modeled_error_fields():
    ddb = answering("dynamodb", error=ServiceError(
        "TransactionCanceledException", "Transaction cancelled", 400,
        fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed", "Message": "no"}, {"Code": "None"}]}))
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as info:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"k": {"S": "x"}}}}])
    assert info.value.response["Error"] == {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
    assert info.value.response["CancellationReasons"] == [{"Code": "ConditionalCheckFailed", "Message": "no"},
                                                          {"Code": "None"}]


def test_sqs_errors_carry_the_legacy_query_code():
    err = ServiceError("QueueDoesNotExist", "The specified queue does not exist.", 400,
                       query_code="AWS.SimpleQueueService.NonExistentQueue")
    enc, model = encoder("sqs")
    resp = enc.encode_error(model.operation_model("GetQueueUrl"), err, RID)
    assert ("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender") in resp.headers
    assert orjson.loads(resp.body) == {"__type": "QueueDoesNotExist", "message": "The specified queue does not exist."}
    sqs = answering("sqs", error=err)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as info:
        sqs.get_queue_url(QueueName="missing")
    assert info.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert info.value.response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    assert info.value.response["Error"]["Type"] == "Sender"


def test_query_compatible_json_names_the_shape_in_type_and_the_code_in_the_header():
    enc, model = encoder("cloudwatch", "json")
    resp = enc.encode_error(model.operation_model("GetDashboard"), ServiceError("InvalidParameterValue", "bad"), RID)
    assert orjson.loads(resp.body)["__type"] == "InvalidParameterValueException"
    assert ("x-amzn-query-error", "InvalidParameterValue;Sender") in resp.headers
    parsed = botocore_parse("json", model.operation_model("GetDashboard"), resp)
    assert parsed["Error"]["Code"] == "InvalidParameterValue"


def test_unmodeled_errors_and_extra_headers_in_every_protocol():
    err = ServiceError("Throttling", "Rate exceeded <slow down>", 429, headers={"Retry-After": "2"})
    for service, protocol, op_name in [
        ("sts", "query", "GetCallerIdentity"), ("ec2", "ec2", "DescribeRegions"),
        ("dynamodb", "json", "ListTables"), ("lambda", "rest-json", "ListFunctions"),
        ("s3", "rest-xml", "ListBuckets"), ("route53", "rest-xml", "ListHostedZones"),
        ("cloudwatch", "smithy-rpc-v2-cbor", "ListDashboards"),
    ]:
        enc, model = encoder(service, protocol)
        op = model.operation_model(op_name)
        for target in (op, None):
            resp = enc.encode_error(target, err, RID)
            assert ("Retry-After", "2") in resp.headers
            parsed = botocore_parse(protocol, op, resp)
            assert parsed["Error"]["Code"] == "Throttling", (service, parsed)
            assert parsed["Error"]["Message"] == "Rate exceeded <slow down>"
            assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_operations_without_output_answer_empty_in_every_protocol():
    for service, protocol, op_name in [
        ("sns", "query", "DeleteTopic"), ("ec2", "ec2", "DeleteKeyPair"), ("sqs", "json", "DeleteQueue"),
        ("lambda", "rest-json", "DeleteFunctionConcurrency"), ("s3", "rest-xml", "DeleteBucket"),
        ("cloudwatch", "smithy-rpc-v2-cbor", "DeleteAlarms"),
    ]:
        enc, model = encoder(service, protocol)
        op = model.operation_model(op_name)
        parsed = botocore_parse(protocol, op, enc.encode(op, {}, RID))
        meta = parsed.pop("ResponseMetadata")
        assert parsed == {}, service
        assert meta["HTTPStatusCode"] == int(op.http.get("responseCode", 200))
        if protocol != "smithy-rpc-v2-cbor":  # botocore reads no metadata without an output shape
            assert meta["RequestId"] == RID


# rest-json -------------------------------------------------------------------------------------
def test_rest_json_status_code_member_headers_and_blob_payload():
    lam = answering("lambda", {"StatusCode": 202, "FunctionError": "Unhandled", "Payload": b'{"ok": true}',
                               "ExecutedVersion": "$LATEST", "LogResult": ""})
    res = lam.invoke(FunctionName="f")
    assert res["StatusCode"] == 202 and res["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert res["FunctionError"] == "Unhandled" and res["ExecutedVersion"] == "$LATEST"
    assert res["Payload"].read() == b'{"ok": true}'


def test_rest_json_model_response_code_is_the_default_status():
    enc, model = encoder("lambda")
    op = model.operation_model("CreateFunction")
    assert op.http.get("responseCode") == 201
    assert enc.encode(op, {"FunctionName": "f"}, RID).status == 201


def test_rest_json_error_type_header_and_header_members():
    enc, model = encoder("lambda")
    err = ServiceError("TooManyRequestsException", "slow", 429, fields={"retryAfterSeconds": "7", "Type": "User"})
    resp = enc.encode_error(model.operation_model("Invoke"), err, RID)
    assert ("x-amzn-errortype", "TooManyRequestsException") in resp.headers
    assert ("Retry-After", "7") in resp.headers
    lam = answering("lambda", error=err)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as info:
        lam.invoke(FunctionName="f")
    assert info.value.response["Error"]["Message"] == "slow"
    assert info.value.response["retryAfterSeconds"] == "7" and info.value.response["Type"] == "User"


def test_rest_json_head_has_headers_only_with_http_dates():
    enc, model = encoder("mediastore-data")
    op = model.operation_model("DescribeObject")  # a HEAD with a Last-Modified header
    when = dt.datetime(2022, 3, 4, 5, 6, 7, tzinfo=UTC)
    resp = enc.encode(op, {"ETag": "e", "LastModified": when, "ContentLength": 5}, RID)
    assert resp.body == b"" and ("Last-Modified", "Fri, 04 Mar 2022 05:06:07 GMT") in resp.headers
    parsed = botocore_parse("rest-json", op, resp)
    assert parsed["LastModified"] == when and parsed["ContentLength"] == 5


def test_rest_json_jsonvalue_header_is_base64_json():
    enc, model = encoder("lex-runtime")
    op = model.operation_model("PutSession")
    resp = enc.encode(op, {"sessionAttributes": {"a": ["ü", 1]}, "slots": "{\"s\": null}"}, RID)
    assert ("x-amz-lex-session-attributes", "eyJhIjpbIsO8IiwxXX0=") in resp.headers
    parsed = botocore_parse("rest-json", op, resp)
    assert parsed["sessionAttributes"] == {"a": ["ü", 1]}
    assert parsed["slots"] == {"s": None}  # JSON text given as a string travels as is


def test_rest_json_empty_lists_maps_and_no_content():
    enc, model = encoder("lambda")
    op = model.operation_model("ListFunctions")
    parsed = botocore_parse("rest-json", op, enc.encode(op, {"Functions": []}, RID))
    assert parsed["Functions"] == []
    op = model.operation_model("ListTags")
    parsed = botocore_parse("rest-json", op, enc.encode(op, {"Tags": {}}, RID))
    assert parsed["Tags"] == {}
    op = model.operation_model("DeleteFunctionConcurrency")  # 204: HTTP allows no body
    resp = enc.encode(op, {}, RID)
    assert resp.status == 204 and resp.body == b"" and not any(k == "Content-Type" for k, _ in resp.headers)


def test_a_204_operation_with_body_members_answers_200_to_carry_them():
    enc, model = encoder("lexv2-models")
    op = model.operation_model("DeleteResourcePolicy")
    assert op.http["responseCode"] == 204
    resp = enc.encode(op, {"resourceArn": "arn:x", "revisionId": "7"}, RID)
    assert resp.status == 200
    assert botocore_parse("rest-json", op, resp)["revisionId"] == "7"
    assert enc.encode(op, {}, RID).status == 204


# rest-xml (S3) ---------------------------------------------------------------------------------
def test_s3_get_object_streams_its_body_with_metadata_headers():
    when = dt.datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    s3 = answering("s3", {"Body": b"\x00binary\xff" * 100, "ContentLength": 800, "ETag": '"abc"',
                          "LastModified": when, "Metadata": {"owner": "me", "empty": ""},
                          "ContentType": "image/png"})
    res = s3.get_object(Bucket="b", Key="k")
    assert res["Body"].read() == b"\x00binary\xff" * 100
    assert res["ContentLength"] == 800 and res["ETag"] == '"abc"' and res["LastModified"] == when
    assert res["Metadata"] == {"owner": "me", "empty": ""}
    assert res["ContentType"] == "image/png"
    assert res["ResponseMetadata"]["RequestId"] == RID and res["ResponseMetadata"]["HostId"]


def test_s3_head_object_has_no_body_and_its_errors_only_a_status():
    enc, model = encoder("s3")
    op = model.operation_model("HeadObject")
    resp = enc.encode(op, {"ContentLength": 3, "ETag": '"e"', "Metadata": {"a": "b"}}, RID)
    assert resp.body == b""
    assert ("x-amz-meta-a", "b") in resp.headers and ("Content-Length", "3") in resp.headers
    err = enc.encode_error(op, ServiceError("NoSuchKey", "The specified key does not exist.", 404), RID)
    assert err.body == b"" and err.status == 404
    s3 = answering("s3", error=ServiceError("NoSuchKey", "The specified key does not exist.", 404))
    with pytest.raises(s3.exceptions.ClientError) as info:
        s3.head_object(Bucket="b", Key="k")
    assert info.value.response["Error"]["Code"] == "404"  # what S3 users see for HEAD
    with pytest.raises(s3.exceptions.NoSuchKey) as info2:
        s3.get_object(Bucket="b", Key="k")
    assert info2.value.response["Error"]["Message"] == "The specified key does not exist."
    assert info2.value.response["ResponseMetadata"]["RequestId"] == RID


def test_s3_error_document_and_request_id_headers():
    enc, model = encoder("s3")
    resp = enc.encode_error(model.operation_model("GetObject"),
                            ServiceError("InvalidObjectState", "archived", 403,
                                         fields={"StorageClass": "GLACIER", "AccessTier": "ARCHIVE_ACCESS"}), RID)
    body = resp.body.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidObjectState</Code>'
                           "<Message>archived</Message>")
    assert f"<RequestId>{RID}</RequestId><HostId>" in body and body.endswith("</HostId></Error>")
    assert ("x-amz-request-id", RID) in resp.headers
    assert any(k == "x-amz-id-2" for k, _ in resp.headers)
    parsed = botocore_parse("rest-xml", model.operation_model("GetObject"), resp)
    assert parsed["StorageClass"] == "GLACIER" and parsed["AccessTier"] == "ARCHIVE_ACCESS"


def test_s3_list_objects_root_namespace_flattened_lists_and_escaping():
    enc, model = encoder("s3")
    op = model.operation_model("ListObjectsV2")
    when = dt.datetime(2020, 1, 1, tzinfo=UTC)
    out = {"Name": "b", "Prefix": "", "KeyCount": 1, "IsTruncated": False,
           "Contents": [{"Key": NASTY, "LastModified": when, "Size": 0, "StorageClass": "STANDARD"}],
           "CommonPrefixes": []}
    resp = enc.encode(op, out, RID)
    body = resp.body.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>'
                           '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')
    assert "<Contents><Key>" in body and "<CommonPrefixes" not in body  # flattened, empty: absent
    assert ("Content-Type", "application/xml") in resp.headers
    parsed = botocore_parse("rest-xml", op, resp)
    assert parsed["Contents"] == [{"Key": NASTY, "LastModified": when, "Size": 0, "StorageClass": "STANDARD"}]
    assert parsed["Prefix"] == "" and parsed["IsTruncated"] is False and "CommonPrefixes" not in parsed


def test_s3_acl_grantee_namespace_and_type_attribute():
    s3 = answering("s3", {"Owner": {"ID": "o"}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
         "Permission": "READ"}]})
    res = s3.get_bucket_acl(Bucket="b")
    assert res["Grants"][0]["Grantee"] == {"Type": "CanonicalUser", "ID": "abc"}
    assert res["Grants"][1]["Grantee"]["Type"] == "Group"


def test_s3_get_bucket_location_is_the_root_text():
    s3 = answering("s3", {"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket="b")["LocationConstraint"] == "eu-west-1"
    s3 = answering("s3", {})
    assert s3.get_bucket_location(Bucket="b")["LocationConstraint"] is None  # us-east-1


def test_s3_select_event_stream_ends_with_end_event():
    events = [{"Records": {"Payload": b"a,b\n"}}, {"Stats": {"Details": {"BytesScanned": 10, "BytesProcessed": 10,
                                                                          "BytesReturned": 4}}},
              {"Progress": {"Details": {"BytesScanned": 1}}}, {"Cont": {}}, {"End": {}}]
    s3 = answering("s3", {"Payload": events})
    res = s3.select_object_content(Bucket="b", Key="k", Expression="select * from s3object",
                                   ExpressionType="SQL", InputSerialization={"CSV": {}},
                                   OutputSerialization={"CSV": {}})
    got = list(res["Payload"])
    assert got == [{"Records": {"Payload": b"a,b\n"}},
                   {"Stats": {"Details": {"BytesScanned": 10, "BytesProcessed": 10, "BytesReturned": 4}}},
                   {"Progress": {"Details": {"BytesScanned": 1}}}, {"Cont": {}}, {"End": {}}]


def test_event_stream_ends_with_a_handler_error():
    from botocore.exceptions import EventStreamError

    kinesis = answering("kinesis", {"EventStream": [
        {"SubscribeToShardEvent": {"Records": [], "ContinuationSequenceNumber": "1", "MillisBehindLatest": 0}},
        ServiceError("ResourceNotFoundException", "gone"),
    ]})
    res = kinesis.subscribe_to_shard(ConsumerARN="arn:c", ShardId="s", StartingPosition={"Type": "LATEST"})
    stream = iter(res["EventStream"])
    first = next(stream)
    assert first["SubscribeToShardEvent"]["ContinuationSequenceNumber"] == "1"
    with pytest.raises(EventStreamError) as info:
        next(stream)
    assert info.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": "gone"}


def test_route53_errors_are_wrapped_and_namespaced():
    enc, model = encoder("route53")
    resp = enc.encode_error(model.operation_model("GetHostedZone"), ServiceError("NoSuchHostedZone", "none", 404), RID)
    assert resp.body.decode().startswith(
        '<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        "<Error><Type>Sender</Type><Code>NoSuchHostedZone</Code>")
    r53 = answering("route53", error=ServiceError("NoSuchHostedZone", "none", 404))
    with pytest.raises(r53.exceptions.NoSuchHostedZone):
        r53.get_hosted_zone(Id="Z1")


def test_route53_root_is_the_response_shape_name():
    enc, model = encoder("route53")
    resp = enc.encode(model.operation_model("GetHostedZoneCount"), {"HostedZoneCount": 3}, RID)
    assert resp.body.decode() == ('<?xml version="1.0" encoding="UTF-8"?><GetHostedZoneCountResponse '
                                  'xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
                                  "<HostedZoneCount>3</HostedZoneCount></GetHostedZoneCountResponse>")


# cbor -------------------------------------------------------------------------------------------
def test_cbor_headers_timestamps_and_floats():
    enc, model = encoder("cloudwatch", "smithy-rpc-v2-cbor")
    op = model.operation_model("GetMetricStatistics")
    when = dt.datetime(2024, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
    resp = enc.encode(op, {"Label": "l", "Datapoints": [{"Timestamp": when, "Average": math.nan, "Sum": math.inf}]}, RID)
    assert ("smithy-protocol", "rpc-v2-cbor") in resp.headers and ("Content-Type", "application/cbor") in resp.headers
    decoded = cbor2.loads(resp.body)
    assert decoded["Datapoints"][0]["Timestamp"] == when  # cbor2 reads tag 1 back as a datetime
    parsed = botocore_parse("smithy-rpc-v2-cbor", op, resp)
    point = parsed["Datapoints"][0]
    assert point["Timestamp"] == when and math.isnan(point["Average"]) and point["Sum"] == math.inf


def test_cbor_errors_and_query_compatibility():
    # botocore's clients prefer json for CloudWatch, so read the CBOR with its parser directly
    enc, model = encoder("cloudwatch", "smithy-rpc-v2-cbor")
    op = model.operation_model("GetDashboard")
    resp = enc.encode_error(op, ServiceError("ResourceNotFound", "no dashboard", 404), RID)
    assert cbor2.loads(resp.body) == {"__type": "ResourceNotFound", "message": "no dashboard"}
    assert ("x-amzn-query-error", "ResourceNotFound;Sender") in resp.headers
    parsed = botocore_parse("smithy-rpc-v2-cbor", op, resp)
    assert parsed["Error"]["Code"] == "ResourceNotFound" and parsed["Error"]["Message"] == "no dashboard"
    cw = answering("cloudwatch", error=ServiceError("ResourceNotFound", "no dashboard", 404))
    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.get_dashboard(DashboardName="d")


# performance shape ------------------------------------------------------------------------------
def test_compiled_once_per_operation():
    enc, model = encoder("sqs")
    op = model.operation_model("SendMessage")
    enc.encode(op, {"MessageId": "1"}, RID)
    compiled = enc._ops[op.name]
    enc.encode(op, {"MessageId": "2"}, RID)
    assert enc._ops[op.name] is compiled
