"""S3 HTML form POST uploads: the multipart reader, the POST policy check and the answers.

Forms come from boto3's ``generate_presigned_post`` (SigV4 and SigV2) and from AWS's own
documented example (its policy and signature are a published test vector); the bodies are
encoded here byte by byte, as a browser sends them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import tracemalloc
import xml.etree.ElementTree as ET
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudlet.core.errors import ServiceError
from cloudlet.services.s3.postform import (
    MAX_PRE_DATA,
    Form,
    FormParser,
    check_policy,
    object_url,
    parse_form,
    put_object_params,
    success_response,
)

UTC = dt.timezone.utc
BUCKET = "photos"
SECRETS = {"test": "test", "AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
BOUNDARY = "----cloudletFormBoundary7MA4YWxkTrZu0gW"


def presigned(
    key: str = "uploads/${filename}", *, v4: bool = True, region: str = "us-east-1", access_key: str = "test", **kw: Any
) -> dict:
    config = Config(signature_version="s3v4" if v4 else "s3")
    s3 = boto3.client(
        "s3", region_name=region, aws_access_key_id=access_key, aws_secret_access_key="test", config=config
    )
    return s3.generate_presigned_post(BUCKET, key, **kw)["fields"]


def encode(
    fields: dict[str, str] | list[tuple[str, str]],
    data: bytes = b"hello world",
    *,
    filename: str | None = "photo.jpg",
    after: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> tuple[str, bytes]:
    """A multipart/form-data body with the file last (then `after`, which S3 ignores)."""
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    out = bytearray()
    for name, value in items:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    disposition = 'form-data; name="file"' + ("" if filename is None else f'; filename="{filename}"')
    out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: image/jpeg\r\n\r\n".encode()
    out += data + b"\r\n"
    for name, value in after:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f"--{BOUNDARY}--\r\n".encode()
    return f"multipart/form-data; boundary={BOUNDARY}", bytes(out)


def pieces(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def parse(fields: Any, data: bytes = b"hello world", *, chunk: int = 7, **kw: Any) -> tuple[Form, bytes]:
    """Parse in small chunks so every boundary and header straddles a chunk edge."""
    ctype, body = encode(fields, data, **kw)
    got = bytearray()
    form = parse_form(ctype, pieces(body, chunk), got.extend)
    return form, bytes(got)


def expiration_of(fields: dict[str, str]) -> dt.datetime:
    policy = json.loads(base64.b64decode(fields.get("policy") or fields["Policy"]))
    return dt.datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def check(form: Form, *, now: dt.datetime | None = None, bucket: str = BUCKET, verify: bool = True, **kw: Any):
    now = now or dt.datetime.now(UTC)
    return check_policy(form, bucket, now, SECRETS.get if verify else None, **kw)


def error(fn: Any, *args: Any, **kw: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        fn(*args, **kw)
    return info.value


def unsigned(conditions: list[Any], fields: dict[str, str], *, expiration: str = "2030-01-01T00:00:00Z") -> Form:
    """A form whose policy is written by hand; checked with signatures off (`verify=False`)."""
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()
    return parse({**fields, "AWSAccessKeyId": "test", "policy": policy, "signature": "x"})[0]


def raw_policy(text: str, fields: dict[str, str] | None = None) -> Form:
    policy = base64.b64encode(text.encode()).decode()
    return parse({"key": "k", **(fields or {}), "AWSAccessKeyId": "test", "policy": policy, "signature": "x"})[0]


# ---------------------------------------------------------------------------- accepted forms


def test_boto3_sigv4_form_is_accepted_and_file_streams_to_the_sink():
    fields = presigned(
        Fields={"acl": "public-read", "Content-Type": "image/jpeg", "x-amz-meta-owner": "ana"},
        Conditions=[
            {"acl": "public-read"},
            ["starts-with", "$Content-Type", "image/"],
            ["eq", "$x-amz-meta-owner", "ana"],
            ["content-length-range", 1, 100],
        ],
    )
    form, stored = parse(fields, b"\x00\r\n--not a boundary\r\n" * 3)
    assert stored == b"\x00\r\n--not a boundary\r\n" * 3
    assert form.file_size == len(stored) and form.file_name == "photo.jpg"
    assert form.file_content_type == "image/jpeg"
    assert form.key == "uploads/photo.jpg"
    grant = check(form)
    assert (grant.access_key, grant.signature_version, grant.max_size) == ("test", "v4", 100)
    params = put_object_params(form, BUCKET, form.key)
    assert params == {
        "Bucket": BUCKET,
        "Key": "uploads/photo.jpg",
        "ContentType": "image/jpeg",
        "ACL": "public-read",
        "Metadata": {"owner": "ana"},
    }


def test_boto3_sigv2_form_is_accepted():
    form, _ = parse(presigned("notes/a.txt", v4=False))
    grant = check(form)
    assert (grant.access_key, grant.signature_version) == ("test", "v2")


def test_aws_documented_sigv4_example_verifies():
    """AWS's published example: its policy bytes (CRLF line ends) and its stated signature."""
    policy = (
        '{ "expiration": "2015-12-30T12:00:00.000Z",\r\n  "conditions": [\r\n'
        '    {"bucket": "sigv4examplebucket"},\r\n    ["starts-with", "$key", "user/user1/"],\r\n'
        '    {"acl": "public-read"},\r\n'
        '    {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},\r\n'
        '    ["starts-with", "$Content-Type", "image/"],\r\n    {"x-amz-meta-uuid": "14365123651274"},\r\n'
        '    {"x-amz-server-side-encryption": "AES256"},\r\n    ["starts-with", "$x-amz-meta-tag", ""],\r\n\r\n'
        '    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},\r\n'
        '    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},\r\n    {"x-amz-date": "20151229T000000Z" }\r\n  ]\r\n}'
    )
    redirect = "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"
    fields = [
        ("key", "user/user1/${filename}"),
        ("acl", "public-read"),
        ("success_action_redirect", redirect),
        ("Content-Type", "image/jpeg"),
        ("x-amz-meta-uuid", "14365123651274"),
        ("x-amz-server-side-encryption", "AES256"),
        ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Date", "20151229T000000Z"),
        ("x-amz-meta-tag", ""),
        ("Policy", base64.b64encode(policy.encode()).decode()),
        ("X-Amz-Signature", "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"),
    ]
    form, _ = parse(fields, b"\xff\xd8jpeg", filename="C:\\Users\\eric\\MyPicture.jpg")
    now = dt.datetime(2015, 12, 29, 12, tzinfo=UTC)
    grant = check(form, now=now, bucket="sigv4examplebucket", region="us-east-1")
    assert grant.access_key == "AKIAIOSFODNN7EXAMPLE"
    assert form.key == "user/user1/MyPicture.jpg"
    assert error(check, form, now=now, bucket="otherbucket").message == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]'
    )
    assert error(check, form, now=dt.datetime(2015, 12, 30, 12, 0, 1, tzinfo=UTC), bucket="sigv4examplebucket")


def test_field_names_are_case_insensitive_and_values_are_not():
    fields = presigned("k", Fields={"acl": "private"}, Conditions=[{"acl": "private"}])
    shouty = {name.upper() if name != "key" else "Key": value for name, value in fields.items()}
    form, _ = parse(shouty)
    assert check(form).access_key == "test"
    form, _ = parse({**fields, "acl": "PRIVATE"})
    assert error(check, form).message.endswith('["eq", "$acl", "private"]')


def test_condition_names_and_operators_are_case_insensitive():
    form = unsigned(
        [{"bUcKeT": BUCKET}, ["StArTs-WiTh", "$KeY", "fo"], {"AcL": "private"}],
        {"kEy": "foo.txt", "aCl": "private"},
    )
    assert check(form, verify=False).access_key == "test"


def test_no_policy_and_no_signature_is_anonymous():
    form, _ = parse({"key": "public/a.txt", "acl": "public-read"})
    assert check(form).access_key is None


# ---------------------------------------------------------------------------- failed conditions


@pytest.mark.parametrize(
    ("condition", "field", "value", "shown"),
    [
        ({"x-amz-meta-a": "b"}, "x-amz-meta-a", "c", '["eq", "$x-amz-meta-a", "b"]'),
        (["eq", "$x-amz-meta-a", "b"], "x-amz-meta-a", "B", '["eq", "$x-amz-meta-a", "b"]'),
        (["starts-with", "$x-amz-meta-a", "img/"], "x-amz-meta-a", "doc/1", '["starts-with", "$x-amz-meta-a", "img/"]'),
        (["starts-with", "$Content-Type", "image/"], "Content-Type", "image/png,text/plain",
         '["starts-with", "$Content-Type", "image/"]'),
        (["starts-with", "$x-amz-meta-a", ""], None, None, '["starts-with", "$x-amz-meta-a", ""]'),
        (["eq", "x-amz-meta-a", "b"], "x-amz-meta-a", "b", '["eq", "x-amz-meta-a", "b"]'),
        (["eq", "$Content-Disposition", 'a="b"'], "Content-Disposition", "a", '["eq", "$Content-Disposition", "a=\\"b\\""]'),
        (["content-length-range", "test", "10"], None, None, '["content-length-range", "test", "10"]'),
    ],
)
def test_each_condition_kind_fails_with_s3s_message(condition, field, value, shown):
    fields = {"key": "k"} if field is None else {"key": "k", field: value}
    form = unsigned([{"key": "k"}, condition], fields)
    err = error(check, form, verify=False)
    assert (err.code, err.status) == ("AccessDenied", 403)
    assert err.message == f"Invalid according to Policy: Policy Condition failed: {shown}"


def test_content_type_list_passes_when_every_item_matches():
    form = unsigned(
        [{"key": "k"}, ["starts-with", "$Content-Type", "image/"]],
        {"key": "k", "Content-Type": "image/jpg,image/png,image/gif"},
    )
    check(form, verify=False)
    # only Content-Type is a list: another field with commas is one string
    form = unsigned([{"key": "k"}, ["starts-with", "$x-amz-meta-t", "a"]], {"key": "k", "x-amz-meta-t": "a,b"})
    check(form, verify=False)


def test_bucket_condition_reads_the_request_bucket():
    fields = presigned("k")
    form, _ = parse(fields)
    err = error(check, form, bucket="elsewhere")
    assert err.message == f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "{BUCKET}"]'


def test_expired_policy_is_refused_on_the_given_clock():
    fields = presigned("k", ExpiresIn=60)
    form, _ = parse(fields)
    at = expiration_of(fields)
    assert check(form, now=at).access_key == "test"
    err = error(check, form, now=at + dt.timedelta(seconds=1))
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, "Invalid according to Policy: Policy expired.")


# ---------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("v4", [True, False])
def test_tampered_signature_or_policy_is_refused(v4):
    fields = presigned("k", v4=v4)
    sig = "x-amz-signature" if v4 else "signature"
    bad = {**fields, sig: fields[sig][::-1]}
    err = error(check, parse(bad)[0])
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert err.fields["StringToSign"] == fields["policy"]
    assert err.fields["SignatureProvided"] == fields[sig][::-1]
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["expiration"] = "2099-01-01T00:00:00Z"
    forged = {**fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    assert error(check, parse(forged)[0]).code == "SignatureDoesNotMatch"


def test_unknown_access_key_and_skipped_verification():
    form, _ = parse(presigned("k", access_key="nobody"))
    err = error(check, form)
    assert (err.code, err.status, err.fields) == ("InvalidAccessKeyId", 403, {"AWSAccessKeyId": "nobody"})
    # without --verify-signatures the key is read, not checked; the policy still applies
    assert check(form, verify=False).access_key == "nobody"
    assert error(check, form, verify=False, bucket="other").code == "AccessDenied"


def test_credential_scope_is_checked():
    form, _ = parse(presigned("k", region="eu-west-1"))
    err = error(check, form, region="us-east-1")
    assert (err.code, err.fields["ArgumentName"], err.fields["Region"]) == (
        "InvalidArgument", "X-Amz-Credential", "us-east-1")
    assert err.message == "the region 'eu-west-1' is wrong; expecting 'us-east-1'"
    fields = presigned("k")
    for credential, start in [("test/20260101/us-east-1/s3", "the Credential is mal-formed"),
                              ("test/20260101/us-east-1/sqs/aws4_request", 'incorrect service "sqs"'),
                              ("/20260101/us-east-1/s3/aws4_request", "a non-empty Access Key")]:
        err = error(check, parse({**fields, "x-amz-credential": credential})[0])
        assert err.code == "InvalidArgument" and err.message.startswith(start), err.message


@pytest.mark.parametrize(("v4", "drop", "named"), [
    (True, "x-amz-signature", "X-Amz-Signature"),
    (True, "x-amz-algorithm", "X-Amz-Algorithm"),
    (True, "policy", "Policy"),
    (False, "signature", "Signature"),
    (False, "AWSAccessKeyId", "AWSAccessKeyId"),
])
def test_a_missing_signature_field_is_named(v4, drop, named):
    fields = presigned("k", v4=v4)
    del fields[drop]
    err = error(check, parse(fields)[0])
    assert (err.code, err.status, err.fields["ArgumentName"]) == ("InvalidArgument", 400, named)
    assert err.message == (
        f"Bucket POST must contain a field named '{named}'.  If it is specified, please check the order of the fields."
    )


# ---------------------------------------------------------------------------- coverage


def test_every_field_must_be_named_by_a_condition():
    fields = presigned("k")
    err = error(check, parse({**fields, "X-Amz-Meta-Foo": "bar", "acl": "private"})[0])
    assert (err.code, err.status) == ("AccessDenied", 403)
    assert err.message == "Invalid according to Policy: Extra input fields: X-Amz-Meta-Foo, acl"
    # x-ignore-* fields and the file are exempt
    assert check(parse({**fields, "x-ignore-submit": "Upload"})[0]).access_key == "test"


def test_fields_after_the_file_are_ignored():
    fields = presigned("k")
    form, stored = parse(fields, b"body", after=[("x-amz-meta-late", "1"), ("file", "second file")])
    assert stored == b"body" and "x-amz-meta-late" not in form.fields
    check(form)
    key_last = {k: v for k, v in fields.items() if k != "key"}
    form, _ = parse(key_last, after=[("key", "k")])
    err = error(check, form)
    assert (err.code, err.fields["ArgumentName"]) == ("InvalidArgument", "key")


# ---------------------------------------------------------------------------- sizes


def test_content_length_range_bounds_are_inclusive():
    fields = presigned("k", Conditions=[["content-length-range", 5, 10]])
    for size in (5, 10):
        assert check(parse(fields, b"x" * size)[0]).max_size == 10
    err = error(check, parse(fields, b"x" * 11)[0])
    assert (err.code, err.status, err.fields) == ("EntityTooLarge", 400, {"ProposedSize": "11", "MaxSizeAllowed": "10"})
    assert err.message == "Your proposed upload exceeds the maximum allowed size"
    err = error(check, parse(fields, b"x")[0])
    assert (err.code, err.fields) == ("EntityTooSmall", {"ProposedSize": "1", "MinSizeAllowed": "5"})


def test_range_bounds_may_be_strings():
    form = unsigned([{"key": "k"}, ["content-length-range", "5", "10"]], {"key": "k"})
    assert form.file_size == 11 and error(check, form, verify=False).code == "EntityTooLarge"


def test_policy_checked_before_the_file_and_limit_stops_the_sink():
    """The hook refuses before a byte is written; a size limit stops the sink but the body
    is read to its end so the error reports the whole proposed size."""
    fields = presigned("k", Conditions=[["content-length-range", 0, 1000]])
    ctype, body = encode(fields, b"y" * 5000)
    grants = []

    def gate(form: Form) -> int | None:
        grants.append(check(form))
        return grants[-1].max_size

    written = bytearray()
    parser = FormParser(ctype, written.extend, on_file=gate)
    for chunk in pieces(body, 333):
        parser.feed(chunk)
    err = error(parser.close)
    assert (err.code, err.fields["ProposedSize"], err.fields["MaxSizeAllowed"]) == ("EntityTooLarge", "5000", "1000")
    assert len(written) <= 1000 and grants[0].access_key == "test"

    written.clear()
    ctype, body = encode({**fields, "x-amz-meta-x": "1"}, b"y" * 10)
    with pytest.raises(ServiceError, match="Extra input fields"):
        parse_form(ctype, [body], written.extend, on_file=gate)
    assert written == b""


def test_large_file_streams_with_flat_memory():
    """64 MiB in 64 KiB chunks: nothing near the file's size is ever held."""
    fields = presigned("big.bin", Conditions=[["content-length-range", 0, 128 << 20]])
    head, tail = encode(fields, b"")[1].split(b"\r\n\r\n\r\n", 1)
    head += b"\r\n\r\n"
    tail = b"\r\n" + tail
    block = bytes(range(256)) * 256  # 64 KiB
    seen = {"n": 0, "md5": hashlib.md5()}

    def sink(data: bytes) -> None:
        seen["n"] += len(data)
        seen["md5"].update(data)

    def chunks():
        yield head
        for _ in range(1024):
            yield block
        yield tail

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        form = parse_form(f"multipart/form-data; boundary={BOUNDARY}", chunks(), sink)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert form.file_size == seen["n"] == 64 << 20
    assert seen["md5"].hexdigest() == hashlib.md5(block * 1024).hexdigest()
    assert peak < 1 << 20, peak
    check(form)


def test_fields_before_the_file_are_capped_at_20_kb():
    fields = presigned("k")
    err = error(parse, {**fields, "x-ignore-pad": "p" * MAX_PRE_DATA})
    assert (err.code, err.status, err.fields) == (
        "MaxPostPreDataLengthExceeded", 400, {"MaxPostPreDataLengthBytes": "20480"})
    # the same padding in one chunk, and a body just under the cap, for contrast
    ctype, body = encode({**fields, "x-ignore-pad": "p" * MAX_PRE_DATA})
    assert error(parse_form, ctype, [body], lambda b: None).code == "MaxPostPreDataLengthExceeded"
    ctype, body = encode(fields)
    assert error(parse_form, ctype, [b"\r\n" * 16_000, body], lambda b: None).code == "MaxPostPreDataLengthExceeded"
    form, _ = parse({**fields, "x-ignore-pad": "p" * (MAX_PRE_DATA - 3000)}, b"z" * 50_000, chunk=4096)
    assert form.file_size == 50_000


# ---------------------------------------------------------------------------- ${filename}


@pytest.mark.parametrize(("sent", "key"), [
    ("photo.jpg", "uploads/photo.jpg"),
    ("C:\\Program Files\\directory1\\file.txt", "uploads/file.txt"),
    ("../../etc/passwd", "uploads/passwd"),
    ("", "uploads/"),
])
def test_filename_is_substituted_in_every_field(sent, key):
    fields = presigned(Fields={"x-amz-meta-orig": "${filename}"}, Conditions=[["starts-with", "$x-amz-meta-orig", ""]])
    form, _ = parse(fields, filename=sent)
    assert form.key == key and form.file_name == key.removeprefix("uploads/")
    assert form.fields["x-amz-meta-orig"] == key.removeprefix("uploads/")
    check(form)


def test_no_filename_parameter_leaves_the_variable():
    form, _ = parse({"key": "a/${filename}"}, filename=None)
    assert form.key == "a/${filename}" and form.file_name is None
    assert form.content_type == "binary/octet-stream"


# ---------------------------------------------------------------------------- the body itself


def test_not_multipart_is_a_failed_precondition():
    err = error(FormParser, "application/x-www-form-urlencoded", lambda b: None)
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    assert err.fields == {"Condition": "Bucket POST must be of the enclosure-type multipart/form-data"}
    assert error(FormParser, "multipart/form-data", lambda b: None).code == "MalformedPOSTRequest"


def test_truncated_or_garbled_bodies_are_malformed():
    ctype, body = encode({"key": "k"}, b"data" * 100)
    for cut in (len(body) // 2, 10):
        assert error(parse_form, ctype, [body[:cut]], lambda b: None).code == "MalformedPOSTRequest"
    assert error(parse_form, ctype, [b"--wrong\r\n" + body], lambda b: None).code == "MalformedPOSTRequest"


def test_exactly_one_file_is_required():
    ctype = f"multipart/form-data; boundary={BOUNDARY}"
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--{BOUNDARY}--\r\n'.encode()
    err = error(parse_form, ctype, [body], lambda b: None)
    assert (err.code, err.message, err.fields) == (
        "InvalidArgument", "POST requires exactly one file upload per request.", {"ArgumentName": "file", "ArgumentValue": "0"})
    # a part with a filename but another name is a field, not the file
    body = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"\r\n\r\nx\r\n'
            f"--{BOUNDARY}--\r\n").encode()
    assert error(parse_form, ctype, [body], lambda b: None).message.startswith("POST requires exactly one file")


def test_repeated_fields_join_with_commas_and_tokens_work_unquoted():
    ctype = f'multipart/form-data; boundary="{BOUNDARY}"'
    body = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=key\r\n\r\nk\r\n"
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="x-amz-meta-tag"\r\n\r\nNinja\r\n'
        f'--{BOUNDARY}\r\ncontent-disposition: form-data; name="X-Amz-Meta-Tag"\r\n\r\nStallman\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="r\xc3\xa9sum\xc3\xa9.txt"\r\n\r\n'
        f"\r\n--{BOUNDARY}--\r\n"
    ).encode("latin-1")
    form = parse_form(ctype, pieces(body, 3), lambda b: None)
    assert form.fields == {"key": "k", "x-amz-meta-tag": "Ninja,Stallman"}
    assert form.file_name == "résumé.txt" and form.file_size == 0


# ---------------------------------------------------------------------------- the policy document


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "Invalid JSON."),
    ('{"conditions": []}', "Policy missing expiration."),
    ('{"expiration": "2030-01-01T00:00:00Z"}', "Policy missing conditions."),
    ('{"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": []}', "Unexpected: 'conditions'"),
    ('{"expiration": "2030-01-01T00:00:00+02:00", "conditions": []}',
     "Invalid 'expiration' value: '2030-01-01T00:00:00+02:00'"),
    ('{"expiration": "2030-01-01 00:00:00Z", "conditions": []}', "Invalid 'expiration' value: '2030-01-01 00:00:00Z'"),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": {}}', "Invalid 'conditions' value: must be a List."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]}',
     "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"acl": "a", "key": "k"}]}',
     "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"Content-Length": 6199034}]}',
     "Invalid Simple-Condition: value must be a string."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"key": null}]}', "Invalid JSON."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0, 512.0]]}', "Invalid JSON."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [[]]}', "Invalid Condition: missing operation identifier."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [["ends-with", "$key", "k"]]}',
     "Invalid Condition: unknown operation 'ends-with'."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]}',
     "Invalid content-length-range: wrong number of arguments."),
    ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [7]}', "Invalid condition test: must be a List or Object."),
])
def test_bad_policy_documents(text, message):
    err = error(check, raw_policy(text), verify=False)
    assert (err.code, err.status, err.message) == ("InvalidPolicyDocument", 400, f"Invalid Policy: {message}")


def test_documented_escapes_in_policy_strings():
    form = raw_policy(
        '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["starts-with", "$key", "\\$k"], '
        '{"x-amz-meta-a": "\\\\$x"}]}',
        {"key": "$key", "x-amz-meta-a": "\\$x"},
    )
    form.fields["key"] = "$k1"
    assert check(form, verify=False).access_key == "test"


# ---------------------------------------------------------------------------- answers


def test_success_status_answers():
    etag, loc = '"5d41402abc4b2a76b9719d911017c592"', object_url("http://localhost:4566/photos", "a/b c.txt")
    assert loc == "http://localhost:4566/photos/a%2Fb%20c.txt"
    form = Form(fields={"key": "a/b c.txt"})
    assert success_response(form, BUCKET, "a/b c.txt", etag, loc) == (204, {"ETag": etag, "Location": loc}, b"")
    for sent, status in [("200", 200), ("204", 204), ("404", 204)]:
        form.fields["success_action_status"] = sent
        assert success_response(form, BUCKET, "a/b c.txt", etag, loc)[:2] == (status, {"ETag": etag, "Location": loc})
    form.fields["success_action_status"] = "201"
    status, headers, body = success_response(form, BUCKET, "a/b c.txt", etag, loc)
    root = ET.fromstring(body)
    assert (status, headers["Content-Type"], root.tag) == (201, "application/xml", "PostResponse")
    assert [(c.tag, c.text) for c in root] == [("Location", loc), ("Bucket", BUCKET), ("Key", "a/b c.txt"), ("ETag", etag)]


def test_success_redirect():
    etag = '"abc"'
    form = Form(fields={"success_action_redirect": "https://app.example/done?md5=1", "success_action_status": "201"})
    status, headers, body = success_response(form, BUCKET, "a/b c.txt", etag, "loc")
    assert (status, body) == (303, b"")
    assert headers["Location"] == "https://app.example/done?md5=1&bucket=photos&key=a%2Fb+c.txt&etag=%22abc%22"
    form = Form(fields={"redirect": "http://app.example/done"})
    assert success_response(form, BUCKET, "k", etag, "loc")[1]["Location"].startswith("http://app.example/done?bucket=")
    form = Form(fields={"success_action_redirect": "/relative/path"})
    assert success_response(form, BUCKET, "k", etag, "loc")[0] == 204


def test_put_object_params_tagging_and_headers():
    form = Form(fields={
        "tagging": "<Tagging><TagSet><Tag><Key>a b</Key><Value>1&amp;2</Value></Tag>"
                   "<Tag><Key>c</Key><Value></Value></Tag></TagSet></Tagging>",
        "expires": "Wed, 21 Oct 2037 07:28:00 GMT",
        "x-amz-server-side-encryption-bucket-key-enabled": "true",
        "x-amz-checksum-sha256": "aTL9MeXa9HObn6eP93eygxsJlcwdCwCTysgGAZAgE7w=",
    })
    params = put_object_params(form, BUCKET, "k")
    assert params["Tagging"] == "a%20b=1%262&c="
    assert params["Expires"] == dt.datetime(2037, 10, 21, 7, 28, tzinfo=UTC)
    assert params["BucketKeyEnabled"] is True and params["ContentType"] == "binary/octet-stream"
    assert params["ChecksumSHA256"] == "aTL9MeXa9HObn6eP93eygxsJlcwdCwCTysgGAZAgE7w="
    assert put_object_params(Form(fields={"tagging": "<Other/>"}), BUCKET, "k")["Tagging"] == ""
    assert error(put_object_params, Form(fields={"tagging": "not-xml"}), BUCKET, "k").code == "MalformedXML"
