"""aws-chunked bodies: AWS's published examples, boto3's own uploads, and broken bodies."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import os
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudlet.auth import chunked, sigv4
from cloudlet.auth.credentials import Identity
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request
from tests.auth.signing import IDENTITY, capture, signed_chunks, verify

DEEP = os.environ.get("CLOUDLET_DEEP") == "1"

# -- the worked examples of the S3 API reference ("sigv4-streaming", "sigv4-streaming-trailers"):
# AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, 65 KiB of "a" in chunks of 64 KiB and 1 KiB.
DOC_IDENTITY = Identity("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "000000000000", "arn")
DOC_NOW = dt.datetime(2013, 5, 24, 0, 5, tzinfo=dt.timezone.utc)
DOC_DATA = [b"a" * 65536, b"a" * 1024]


def doc_request(trailer: bool) -> Request:
    if trailer:
        seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
        sigs = ["b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"]
        signed_headers = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer"
        mode, extra = chunked.SIGNED_TRAILER, {"x-amz-trailer": "x-amz-checksum-crc32c"}
        tail = (b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
                b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n")
    else:
        seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        sigs = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]
        signed_headers = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class"
        mode, extra = chunked.SIGNED, {"content-length": "66824"}
        tail = b"\r\n"
    body = b"".join([
        b"10000;chunk-signature=%s\r\n%s\r\n" % (sigs[0].encode(), DOC_DATA[0]),
        b"400;chunk-signature=%s\r\n%s\r\n" % (sigs[1].encode(), DOC_DATA[1]),
        b"0;chunk-signature=%s\r\n" % sigs[2].encode(), tail,
    ])
    headers = {
        "host": "s3.amazonaws.com", "x-amz-date": "20130524T000000Z", "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": mode, "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "66560",
        **extra,
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                         f"SignedHeaders={signed_headers},Signature={seed}",
    }
    return Request("PUT", "/examplebucket/chunkObject.txt", "", headers, body)


def _seed(req: Request) -> sigv4.Verified:
    return sigv4.verify(req, DOC_IDENTITY, DOC_NOW, sigv4.S3)


@pytest.mark.parametrize("trailer", [False, True])
def test_aws_documented_examples_verify_and_decode(trailer):
    req = doc_request(trailer)
    decoded = chunked.decode(req, _seed(req))
    assert decoded.body == b"".join(DOC_DATA)
    assert decoded.trailers == ({"x-amz-checksum-crc32c": "sOO8/Q=="} if trailer else {})
    assert chunked.decode(req).body == decoded.body  # and reads the same unverified


@pytest.mark.parametrize("trailer", [False, True])
@pytest.mark.parametrize("tamper", ["data", "reorder", "signature", "drop-chunk"])
def test_tampered_chunks_are_refused(trailer, tamper):
    req = doc_request(trailer)
    seed = _seed(req)
    body = req.body
    if tamper == "data":
        body = body.replace(b"aaaa\r\n400;", b"aaab\r\n400;")
    elif tamper == "reorder":  # the chain binds order: the 1 KiB chunk first is refused
        first_end = body.index(b"\r\n400;") + 2
        second_end = body.index(b"\r\n0;chunk-signature", first_end) + 2
        body = body[first_end:second_end] + body[:first_end] + body[second_end:]
    elif tamper == "signature":
        i = body.index(b"chunk-signature=") + 16
        body = body[:i] + (b"0" if body[i:i + 1] != b"0" else b"1") + body[i + 1:]
    else:
        body = body[body.index(b"\r\n400;") + 2:]
    with pytest.raises(ServiceError) as err:
        chunked.decode(dataclasses.replace(req, body=body, headers={**req.headers, "x-amz-decoded-content-length": "1024"}), seed)
    assert (err.value.code, err.value.status) == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("edit", ["value", "name", "signature", "missing-signature", "extra"])
def test_tampered_trailers_are_refused(edit):
    req = doc_request(trailer=True)
    seed = _seed(req)
    body = {
        "value": req.body.replace(b"sOO8/Q==", b"sOO8/Q=A"),
        "name": req.body.replace(b"x-amz-checksum-crc32c:", b"x-amz-checksum-crc32:"),
        "signature": req.body.replace(b"trailer-signature:d8", b"trailer-signature:d9"),
        "missing-signature": req.body[: req.body.index(b"x-amz-trailer-signature")] + b"\r\n",
        "extra": req.body.replace(b"x-amz-trailer-signature", b"x-amz-meta-evil:1\r\nx-amz-trailer-signature"),
    }[edit]
    with pytest.raises(ServiceError) as err:
        chunked.decode(dataclasses.replace(req, body=body), seed)
    assert err.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("chunks", [[], [b"x"], [b"abc" * 3000, b"\r\n" * 5000, b"tail"], [bytes(range(256)) * 100] * 3])
@pytest.mark.parametrize("trailers", [None, {"x-amz-checksum-sha256": "abc="}, {"x-amz-checksum-crc32": "A==", "x-amz-meta-a": "b"}])
def test_our_chain_matches_the_spec_for_any_chunking(chunks, trailers):
    req = doc_request(trailer=trailers is not None)
    seed = _seed(req)
    body = signed_chunks(seed.key, seed.signed.amz_date, seed.signed.scope, seed.signed.signature, chunks, trailers)
    data = b"".join(chunks)
    req = dataclasses.replace(req, body=body, headers={**req.headers, "x-amz-decoded-content-length": str(len(data))})
    decoded = chunked.decode(req, seed)
    assert decoded.body == data and decoded.trailers == (trailers or {})


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


SIZES = [0, 1, 1000, 1024 * 1024, 1024 * 1024 + 1] + ([5 * 1024 * 1024 + 17] if DEEP else [2 * 1024 * 1024 + 3])


@pytest.mark.parametrize("size", SIZES)
def test_boto3_put_object_unsigned_trailer_round_trips(size):
    data = os.urandom(size)
    req = capture("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": data})
    assert req.headers["x-amz-content-sha256"] == chunked.UNSIGNED_TRAILER
    assert req.headers["x-amz-trailer"] == "x-amz-checksum-crc32"
    seed = verify(req, sigv4.S3)  # the headers are signed, the body is not
    decoded = chunked.decode(req, seed)
    assert decoded.body == data
    assert decoded.trailers == {"x-amz-checksum-crc32": _crc32(data)}


@pytest.mark.parametrize("algorithm,trailer", [("SHA256", "x-amz-checksum-sha256"), ("SHA1", "x-amz-checksum-sha1"),
                                               ("CRC32", "x-amz-checksum-crc32")])
def test_boto3_upload_part_with_other_checksums(algorithm, trailer):
    data = b"part data " * 1000
    req = capture("s3", "upload_part", {"Bucket": "b", "Key": "k", "UploadId": "u", "PartNumber": 2, "Body": data,
                                        "ChecksumAlgorithm": algorithm})
    verify(req, sigv4.S3)
    decoded = chunked.decode(req)
    assert decoded.body == data
    expected = {"SHA256": hashlib.sha256, "SHA1": hashlib.sha1}.get(algorithm)
    value = base64.b64encode(expected(data).digest()).decode() if expected else _crc32(data)
    assert decoded.trailers == {trailer: value}


def test_unwrap_gives_the_plain_request():
    data = b"<gzipped bytes>"
    req = capture("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": data, "ContentEncoding": "gzip"})
    assert req.headers["content-encoding"] == "gzip,aws-chunked"
    plain = chunked.unwrap(req)
    assert plain.body == data
    assert plain.headers["content-encoding"] == "gzip"
    assert plain.headers["content-length"] == str(len(data))
    assert plain.headers["x-amz-checksum-crc32"] == _crc32(data)
    assert "transfer-encoding" not in plain.headers
    assert (plain.method, plain.path, plain.query) == (req.method, req.path, req.query)
    plain2 = chunked.unwrap(capture("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": data}))
    assert "content-encoding" not in plain2.headers
    unchunked = capture("s3", "put_bucket_tagging", {"Bucket": "b", "Tagging": {"TagSet": []}})
    assert chunked.unwrap(unchunked) is unchunked


def test_strip_aws_chunked():
    assert chunked.strip_aws_chunked("aws-chunked") is None
    assert chunked.strip_aws_chunked("gzip, aws-chunked") == "gzip"
    assert chunked.strip_aws_chunked("aws-chunked,br,gzip") == "br,gzip"
    assert chunked.strip_aws_chunked(None) is None


def test_aws_chunked_under_unsigned_payload_is_still_decoded():
    """Java SDK v2 style: aws-chunked with chunk signatures but UNSIGNED-PAYLOAD declared."""
    body = b"3;chunk-signature=" + b"0" * 64 + b"\r\nabc\r\n0;chunk-signature=" + b"1" * 64 + b"\r\n\r\n"
    req = Request("PUT", "/b/k", "", {"content-encoding": "aws-chunked", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, body)
    assert chunked.is_aws_chunked(req)
    assert chunked.unwrap(req).body == b"abc"
    assert not chunked.is_aws_chunked(Request("PUT", "/b/k", "", {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, body))


def _boto3_body() -> Request:
    return capture("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": b"hello, chunked world"})


def test_every_truncation_is_incomplete_body():
    req = _boto3_body()
    for cut in range(len(req.body)):
        with pytest.raises(ServiceError) as err:
            chunked.decode(dataclasses.replace(req, body=req.body[:cut]))
        assert (err.value.code, err.value.status, err.value.message) == (
            "IncompleteBody", 400, "The request body terminated unexpectedly")


@pytest.mark.parametrize("body", [
    b"",
    b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
    b"-5\r\nhello\r\n0\r\n\r\n",
    b"0x5\r\nhello\r\n0\r\n\r\n",
    b"5\r\nhello world\r\n0\r\n\r\n",  # chunk longer than its size
    b"5\r\nhell\r\n0\r\n\r\n",  # shorter
    b"ffffffffffffffff\r\nhello\r\n0\r\n\r\n",  # absurd size
    b"5\r\nhello\r\n0\r\n\r\ntrailing junk",
    b"5\r\nhello\r\n0\r\nno-colon-trailer\r\n\r\n",
    b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n",  # no final blank line
    b"5" + b" " * 5000 + b"\r\nhello\r\n0\r\n\r\n",  # size line too long to be one
    b"5\nhello\n0\n\n",  # bare LF
])
def test_malformed_bodies_are_incomplete_body(body):
    req = dataclasses.replace(_boto3_body(), body=body)
    req.headers.pop("x-amz-decoded-content-length")
    with pytest.raises(ServiceError) as err:
        chunked.decode(req)
    assert err.value.code == "IncompleteBody"


def test_decoded_length_must_match():
    req = _boto3_body()
    req.headers["x-amz-decoded-content-length"] = "3"
    with pytest.raises(ServiceError) as err:
        chunked.decode(req)
    assert err.value.code == "IncompleteBody"


@settings(max_examples=1000 if DEEP else 150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_input_escapes_as_anything_but_a_service_error(data):
    base = doc_request(trailer=data.draw(st.booleans()))
    seed = _seed(base)
    body = data.draw(st.one_of(
        st.binary(max_size=300),
        st.builds(lambda b, i, x: b[:i] + x + b[i + len(x):], st.just(base.body),
                  st.integers(0, len(base.body)), st.binary(min_size=1, max_size=8)),
        st.builds(lambda b, i: b[:i], st.just(base.body), st.integers(0, len(base.body))),
    ))
    for verified in (seed, None):
        try:
            out = chunked.decode(dataclasses.replace(base, body=body), verified)
        except ServiceError as err:
            assert err.status in (400, 403)
        else:
            assert isinstance(out.body, bytes)


def test_unwrap_merges_only_declared_or_checksum_trailers():
    body = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-acl:public-read\r\nx-amz-meta-a:1\r\n\r\n"
    req = Request("PUT", "/b/k", "", {"x-amz-content-sha256": chunked.UNSIGNED_TRAILER,
                                      "x-amz-trailer": "x-amz-meta-a", "host": "h"}, body)
    plain = chunked.unwrap(req)
    assert plain.headers["x-amz-checksum-crc32"] == "NhCmhg=="
    assert plain.headers["x-amz-meta-a"] == "1"
    assert "x-amz-acl" not in plain.headers
    assert chunked.decode(req).trailers["x-amz-acl"] == "public-read"  # still reported


# -- streaming: a spooled body decoded piece by piece gives what the whole body gives


def _spooled(req: Request, tmp_path) -> Request:
    from cloudlet.protocol.http import SpooledBody

    path = tmp_path / "body"
    path.write_bytes(req.body)
    return dataclasses.replace(req, body=b"", stream=SpooledBody(str(path), len(req.body)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=1, max_value=70_000), max_size=8), trailer=st.booleans())
def test_any_split_of_a_signed_body_decodes_and_verifies_alike(cuts, trailer):
    req = doc_request(trailer)
    parser = chunked.ChunkParser(req.headers["x-amz-content-sha256"], _seed(req))
    out, pos = [], 0
    for cut in sorted(set(cuts)) + [len(req.body)]:
        out.extend(parser.feed(req.body[pos:cut]))
        pos = max(pos, cut)
    parser.finish(req.headers["x-amz-decoded-content-length"])
    assert b"".join(out) == b"".join(DOC_DATA)
    assert parser.trailers == ({"x-amz-checksum-crc32c": "sOO8/Q=="} if trailer else {})


def test_a_spooled_body_is_decoded_lazily_with_its_trailers(tmp_path):
    req = doc_request(True)
    plain = chunked.unwrap(_spooled(req, tmp_path), _seed(req))
    assert plain.body == b"" and plain.stream is not None and plain.stream.size == 66560
    assert b"".join(plain.stream.pieces(1000)) == b"".join(DOC_DATA)
    assert plain.stream.trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}


def test_a_tampered_spooled_body_fails_when_read(tmp_path):
    req = doc_request(False)
    req = dataclasses.replace(req, body=req.body.replace(b"a" * 10, b"b" * 10, 1))
    plain = chunked.unwrap(_spooled(req, tmp_path), _seed(req))
    with pytest.raises(ServiceError) as err:
        b"".join(plain.stream.pieces(4096))
    assert err.value.code == "SignatureDoesNotMatch"
