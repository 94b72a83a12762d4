"""S3 multipart uploads over HTTP, as boto3 and the AWS CLI drive them: parts in, one object
out (ETag, PartNumber reads, ranges across part boundaries), part copies, listings and their
pagination, S3's errors and checksums, SSE-C, and what happens to the part bodies on disk."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from awscrt import checksums as crt  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.cloud import Cloud

MiB = 1024 * 1024
PART = 5 * MiB


def new_bucket(s3: Any, tag: str = "mpu") -> str:
    name = f"{tag}-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def payload(size: int, seed: int) -> bytes:
    """Bytes that differ block by block, so a part stored twice or out of order shows."""
    block = hashlib.sha256(str(seed).encode()).digest() * 128
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(block + i.to_bytes(4, "big")).digest() + block[32:]
        i += 1
    return bytes(out[:size])


def multipart_etag(parts: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()}-{len(parts)}"'


def upload(s3: Any, bucket: str, key: str, parts: list[bytes], **create: Any) -> tuple[str, list[dict[str, Any]]]:
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for n, body in enumerate(parts, 1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n, Body=body)["ETag"]
        done.append({"PartNumber": n, "ETag": etag})
    return uid, done


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def big() -> list[bytes]:
    """Three 5 MiB parts and a tail, shared by the tests that read a real multipart object."""
    return [payload(PART, 1), payload(PART, 2), payload(PART, 3), payload(12345, 4)]


@pytest.fixture(scope="module")
def big_object(s3: Any, big: list[bytes]) -> tuple[str, str, dict[str, Any]]:
    bucket = new_bucket(s3)
    uid, parts = upload(s3, bucket, "movie.bin", big, ContentType="video/mp4", Metadata={"take": "3"})
    out = s3.complete_multipart_upload(Bucket=bucket, Key="movie.bin", UploadId=uid, MultipartUpload={"Parts": parts})
    return bucket, "movie.bin", out


# -- the whole flow ---------------------------------------------------------------------------
def test_complete_makes_one_object_with_the_multipart_etag(s3: Any, big: list[bytes], big_object: Any) -> None:
    bucket, key, out = big_object
    assert out["ETag"] == multipart_etag(big)
    assert out["Bucket"] == bucket and out["Key"] == key and out["Location"].endswith(f"/{bucket}/{key}")
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == b"".join(big)
    assert got["ETag"] == multipart_etag(big)
    assert got["ContentType"] == "video/mp4" and got["Metadata"] == {"take": "3"}
    assert got["ContentLength"] == 3 * PART + 12345
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [(key, 3 * PART + 12345, multipart_etag(big))]
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_part_number_reads_return_one_part_and_the_part_count(s3: Any, big: list[bytes], big_object: Any) -> None:
    bucket, key, _ = big_object
    second = s3.get_object(Bucket=bucket, Key=key, PartNumber=2)
    assert second["PartsCount"] == 4
    assert second["ContentRange"] == f"bytes {PART}-{2 * PART - 1}/{3 * PART + 12345}"
    assert second["Body"].read() == big[1]
    tail = s3.head_object(Bucket=bucket, Key=key, PartNumber=4)
    assert tail["ContentLength"] == 12345 and tail["PartsCount"] == 4
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key=key, PartNumber=5)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


@pytest.mark.parametrize("first,last", [
    (PART - 10, PART + 9),           # across the first boundary
    (PART - 1, 3 * PART),            # from the end of part 1 through part 3 into the tail
    (3 * PART + 100, 3 * PART + 200),  # inside the small last part
    (0, 0),
])
def test_ranges_span_part_boundaries(s3: Any, big: list[bytes], big_object: Any, first: int, last: int) -> None:
    bucket, key, _ = big_object
    got = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}")
    assert got["Body"].read() == b"".join(big)[first:last + 1]
    assert got["ContentRange"] == f"bytes {first}-{last}/{3 * PART + 12345}"


def test_copy_of_a_multipart_object_keeps_its_bytes_and_etag(s3: Any, big: list[bytes], big_object: Any) -> None:
    bucket, key, _ = big_object
    s3.copy_object(Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": key})
    got = s3.get_object(Bucket=bucket, Key="copy.bin")
    assert got["Body"].read() == b"".join(big)
    assert got["ETag"] == multipart_etag(big)


def test_a_part_uploaded_again_replaces_the_earlier_one(s3: Any) -> None:
    bucket = new_bucket(s3)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    first = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"first")["ETag"]
    second = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"second!")["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, second, 7)]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}]})
    assert error(exc)[0] == "InvalidPart"
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": second}]})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second!"


def test_parts_may_skip_numbers_and_unlisted_parts_are_left_out(s3: Any) -> None:
    bucket = new_bucket(s3)
    a, b = payload(PART, 10), b"tail"
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e3 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=3, Body=a)["ETag"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=5, Body=b"left out")
    e9 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=9, Body=b)["ETag"]
    out = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 3, "ETag": e3}, {"PartNumber": 9, "ETag": e9}]})
    assert out["ETag"] == multipart_etag([a, b])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == a + b
    assert s3.head_object(Bucket=bucket, Key="k", PartNumber=2)["ContentLength"] == 4


def test_versioned_bucket_gets_a_version_id(s3: Any) -> None:
    bucket = new_bucket(s3)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    uid, parts = upload(s3, bucket, "k", [b"new"])
    out = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts})
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert versions[0]["VersionId"] == out["VersionId"] and versions[0]["IsLatest"]
    assert len(versions) == 2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"


def test_conditional_complete(s3: Any) -> None:
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="k", Body=b"there")
    uid, parts = upload(s3, bucket, "k", [b"x"])
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts},
                                     IfNoneMatch="*")
    assert error(exc)[0] == "PreconditionFailed" and error(exc)[2] == 412
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts}, IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# -- UploadPartCopy -----------------------------------------------------------------------------
def test_upload_part_copy_with_ranges(s3: Any, big: list[bytes], big_object: Any) -> None:
    bucket, key, _ = big_object
    whole = b"".join(big)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="spliced")["UploadId"]
    src = {"Bucket": bucket, "Key": key}
    first = s3.upload_part_copy(Bucket=bucket, Key="spliced", UploadId=uid, PartNumber=1, CopySource=src,
                                CopySourceRange=f"bytes={PART // 2}-{PART // 2 + PART - 1}")  # spans parts 1-2
    second = s3.upload_part_copy(Bucket=bucket, Key="spliced", UploadId=uid, PartNumber=2, CopySource=src,
                                 CopySourceRange=f"bytes={3 * PART}-{3 * PART + 12344}")
    r1, r2 = first["CopyPartResult"], second["CopyPartResult"]
    assert r1["ETag"] == f'"{hashlib.md5(whole[PART // 2:PART // 2 + PART]).hexdigest()}"'
    s3.complete_multipart_upload(Bucket=bucket, Key="spliced", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["ETag"]}, {"PartNumber": 2, "ETag": r2["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="spliced")["Body"].read() == whole[PART // 2:PART // 2 + PART] + big[3]


def test_upload_part_copy_of_a_whole_object_and_bad_ranges(s3: Any) -> None:
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    src = {"Bucket": bucket, "Key": "src"}
    out = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource=src)
    assert out["CopyPartResult"]["ETag"] == f'"{hashlib.md5(b"0123456789").hexdigest()}"'
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2, CopySource=src,
                            CopySourceRange="0-3")
    code, message, status = error(exc)
    assert (code, status) == ("InvalidArgument", 400)
    assert message.startswith("The x-amz-copy-source-range value must be of the form bytes=first-last")
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2, CopySource=src,
                            CopySourceRange="bytes=5-10")
    assert error(exc)[0] == "InvalidRange"
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
                            CopySource={"Bucket": bucket, "Key": "nope"})
    assert error(exc)[0] == "NoSuchKey"
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": out["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"0123456789"


# -- listings -------------------------------------------------------------------------------------
def test_list_parts_pages(s3: Any) -> None:
    bucket = new_bucket(s3)
    uid, parts = upload(s3, bucket, "k", [bytes([n]) * n for n in range(1, 6)], StorageClass="STANDARD_IA")
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] and page["NextPartNumberMarker"] == 2 and page["MaxParts"] == 2
    assert page["StorageClass"] == "STANDARD_IA" and page["Owner"]["ID"] == page["Initiator"]["ID"]
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [3, 4] and page["PartNumberMarker"] == 2
    pages = s3.get_paginator("list_parts").paginate(Bucket=bucket, Key="k", UploadId=uid,
                                                    PaginationConfig={"PageSize": 2})
    listed = [(p["PartNumber"], p["ETag"], p["Size"]) for pg in pages for p in pg.get("Parts", [])]
    assert listed == [(d["PartNumber"], d["ETag"], d["PartNumber"]) for d in parts]


def test_list_multipart_uploads_orders_filters_and_pages(s3: Any) -> None:
    bucket = new_bucket(s3)
    made = []
    for key in ["photos/2024/a.jpg", "b.txt", "photos/2025/b.jpg", "b.txt", "a.txt", "videos/x.mp4"]:
        made.append((key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]))
    # key order, then initiation order within one key
    expected = sorted(made, key=lambda kv: (kv[0], made.index(kv)))
    everything = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in everything["Uploads"]] == expected
    assert not everything["IsTruncated"]

    pages = list(s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert [(u["Key"], u["UploadId"]) for pg in pages for u in pg["Uploads"]] == expected
    first = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert first["IsTruncated"] and first["MaxUploads"] == 2
    assert (first["NextKeyMarker"], first["NextUploadIdMarker"]) == expected[1]

    after_key = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b.txt")  # every b.txt upload skipped
    assert [u["Key"] for u in after_key["Uploads"]] == ["photos/2024/a.jpg", "photos/2025/b.jpg", "videos/x.mp4"]

    folders = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in folders["CommonPrefixes"]] == ["photos/", "videos/"]
    assert [u["Key"] for u in folders["Uploads"]] == ["a.txt", "b.txt", "b.txt"]
    nested = s3.list_multipart_uploads(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]
    assert "Uploads" not in nested and nested["Prefix"] == "photos/"


# -- errors ---------------------------------------------------------------------------------------
NO_SUCH_UPLOAD = ("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload "
                  "may have been aborted or completed.", 404)


def test_unknown_or_aborted_upload(s3: Any) -> None:
    bucket = new_bucket(s3)
    uid, parts = upload(s3, bucket, "k", [b"data"])
    aborted = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)
    assert aborted["ResponseMetadata"]["HTTPStatusCode"] == 204
    calls = [
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"x"),
        lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId=uid),
        lambda: s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts}),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid),
        lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId="no-such-upload"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == NO_SUCH_UPLOAD
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    other, _ = upload(s3, bucket, "other", [])
    with pytest.raises(ClientError) as exc:  # an upload id belongs to its key
        s3.list_parts(Bucket=bucket, Key="k", UploadId=other)
    assert error(exc) == NO_SUCH_UPLOAD


@pytest.mark.parametrize("number", [0, 10001])
def test_part_numbers_outside_1_to_10000(s3: Any, number: int) -> None:
    bucket = new_bucket(s3)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=number, Body=b"x")
    assert error(exc) == ("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", 400)
    assert exc.value.response["Error"]["ArgumentValue"] == str(number)


def test_complete_checks_order_etags_and_sizes(s3: Any) -> None:
    bucket = new_bucket(s3)
    small = [b"a" * 100, b"b" * 100, b"c" * 100]
    uid, parts = upload(s3, bucket, "k", small)
    complete = lambda ps: s3.complete_multipart_upload(  # noqa: E731
        Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": ps})

    with pytest.raises(ClientError) as exc:
        complete([parts[1], parts[0]])
    assert error(exc) == ("InvalidPartOrder",
                          "The list of parts was not in ascending order. Parts must be ordered by part number.", 400)
    with pytest.raises(ClientError) as exc:
        complete([parts[0], parts[0]])
    assert error(exc)[0] == "InvalidPartOrder"
    with pytest.raises(ClientError) as exc:
        complete([{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}])
    assert error(exc) == ("InvalidPart", "One or more of the specified parts could not be found.  The part may not "
                          "have been uploaded, or the specified entity tag may not have matched the part's entity "
                          "tag.", 400)
    with pytest.raises(ClientError) as exc:
        complete([parts[0], {"PartNumber": 7, "ETag": parts[1]["ETag"]}])
    assert error(exc)[0] == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        complete(parts)
    assert error(exc) == ("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", 400)
    assert exc.value.response["Error"]["MinSizeAllowed"] == str(PART)
    assert exc.value.response["Error"]["PartNumber"] == "1"
    with pytest.raises(ClientError) as exc:
        complete([])
    assert error(exc)[0] == "MalformedXML"
    # none of those consumed the upload; one part alone (the last) may be small
    complete([parts[2]])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == small[2]


# -- checksums ------------------------------------------------------------------------------------
def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_crc32_composite_checksum(s3: Any) -> None:
    bucket = new_bucket(s3)
    data = [payload(PART, 20), b"the end"]
    crcs = [zlib.crc32(d).to_bytes(4, "big") for d in data]
    expected = f"{b64(zlib.crc32(b''.join(crcs)).to_bytes(4, 'big'))}-2"
    created = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("CRC32", "COMPOSITE")
    uid = created["UploadId"]
    parts = []
    for n, d in enumerate(data, 1):
        out = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=d, ChecksumAlgorithm="CRC32")
        assert out["ChecksumCRC32"] == b64(crcs[n - 1])
        parts.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]})
    listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert listed["ChecksumAlgorithm"] == "CRC32" and [p["ChecksumCRC32"] for p in listed["Parts"]] == [b64(c) for c in crcs]

    with pytest.raises(ClientError) as exc:  # another algorithm than the upload's
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=3, Body=b"x", ChecksumAlgorithm="SHA256")
    assert error(exc)[:2] == ("InvalidRequest",
                              "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha256")
    complete = lambda ps, **kw: s3.complete_multipart_upload(  # noqa: E731
        Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": ps}, **kw)
    with pytest.raises(ClientError) as exc:
        complete([{"PartNumber": 1, "ETag": parts[0]["ETag"]}, parts[1]])
    assert error(exc)[:2] == ("InvalidRequest", "The upload was created using a crc32 checksum. The complete request "
                              "must include the checksum for each part. It was missing for part 1 in the request.")
    with pytest.raises(ClientError) as exc:
        complete([{**parts[0], "ChecksumCRC32": b64(crcs[1])}, parts[1]])
    assert error(exc)[0] == "InvalidPart"

    out = complete(parts)
    assert (out["ChecksumCRC32"], out["ChecksumType"]) == (expected, "COMPOSITE")
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (expected, "COMPOSITE")


def test_crc64nvme_full_object_checksum(s3: Any) -> None:
    bucket = new_bucket(s3)
    data = [payload(PART, 30), payload(1000, 31)]
    whole = b64(crt.crc64nvme(b"".join(data)).to_bytes(8, "big"))
    created = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC64NVME")
    assert created["ChecksumType"] == "FULL_OBJECT"
    uid = created["UploadId"]
    parts = []
    for n, d in enumerate(data, 1):
        out = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=d, ChecksumAlgorithm="CRC64NVME")
        parts.append({"PartNumber": n, "ETag": out["ETag"]})
    wrong = b64(crt.crc64nvme(b"other").to_bytes(8, "big"))
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts},
                                     ChecksumCRC64NVME=wrong, ChecksumType="FULL_OBJECT")
    assert error(exc)[:2] == ("BadDigest", "The crc64nvme you specified did not match the calculated checksum.")
    out = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts},
                                       ChecksumCRC64NVME=whole, ChecksumType="FULL_OBJECT")
    assert (out["ChecksumCRC64NVME"], out["ChecksumType"]) == (whole, "FULL_OBJECT")


def test_without_an_algorithm_the_object_gets_a_full_crc64nvme(s3: Any) -> None:
    bucket = new_bucket(s3)
    data = [payload(PART, 40), b"!"]
    uid, parts = upload(s3, bucket, "k", data)  # boto3 still sends a CRC32 with each part
    out = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts})
    assert out["ChecksumCRC64NVME"] == b64(crt.crc64nvme(b"".join(data)).to_bytes(8, "big"))
    assert out["ChecksumType"] == "FULL_OBJECT"


def test_invalid_checksum_type_pairs_at_create(s3: Any) -> None:
    bucket = new_bucket(s3)
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
    assert error(exc)[:2] == ("InvalidRequest",
                              "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.")


# -- encryption -----------------------------------------------------------------------------------
def test_sse_c_upload_needs_the_same_key_on_every_part(s3: Any) -> None:
    bucket = new_bucket(s3)
    key, other = os.urandom(32), os.urandom(32)
    ssec = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    created = s3.create_multipart_upload(Bucket=bucket, Key="k", **ssec)
    assert created["SSECustomerAlgorithm"] == "AES256" and "ServerSideEncryption" not in created
    uid = created["UploadId"]
    data = [payload(PART, 50), payload(3000, 51)]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=data[0])
    assert error(exc)[0] == "InvalidRequest"
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=data[0],
                       SSECustomerAlgorithm="AES256", SSECustomerKey=other)
    assert error(exc)[:2] == ("InvalidRequest",
                              "The provided encryption parameters did not match the ones used originally.")
    parts = []
    for n, d in enumerate(data, 1):
        out = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=d, **ssec)
        assert out["SSECustomerAlgorithm"] == "AES256"
        parts.append({"PartNumber": n, "ETag": out["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": parts})
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert error(exc)[0] == "InvalidRequest"
    assert s3.get_object(Bucket=bucket, Key="k", **ssec)["Body"].read() == b"".join(data)
    got = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={PART - 5}-{PART + 4}", **ssec)["Body"].read()
    assert got == b"".join(data)[PART - 5:PART + 5]


# -- part bodies on disk --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("mpu-data")
    c = Cloud("--data-dir", str(root))
    yield c, root
    c.stop()


def blob_files(root: Path) -> int:
    return sum(1 for p in (root / "blobs" / "s3").rglob("*") if p.is_file())


def test_part_bodies_are_dropped_by_abort_complete_and_delete(disk: Any) -> None:
    c, root = disk
    s3 = c.client("s3")
    bucket = new_bucket(s3)
    base = blob_files(root)
    uid, parts = upload(s3, bucket, "aborted", [b"1", b"2", b"3"])
    assert blob_files(root) == base + 3
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=uid)
    assert blob_files(root) == base

    uid, parts = upload(s3, bucket, "k", [b"kept", b"unlisted"])
    s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"kept again")  # replaces part 1
    assert blob_files(root) == base + 2
    etag = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"][0]["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert blob_files(root) == base + 1
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept again"
    s3.delete_object(Bucket=bucket, Key="k")
    assert blob_files(root) == base


def test_lifecycle_aborts_incomplete_uploads(disk: Any) -> None:
    c, root = disk
    s3 = c.client("s3")
    bucket = new_bucket(s3)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]})
    base = blob_files(root)
    doomed = s3.create_multipart_upload(Bucket=bucket, Key="tmp/x")
    assert doomed["AbortRuleId"] == "tidy"
    initiated = s3.list_multipart_uploads(Bucket=bucket, Prefix="tmp/")["Uploads"][0]["Initiated"]
    assert 2 * 86400 <= (doomed["AbortDate"] - initiated).total_seconds() <= 3 * 86400
    s3.upload_part(Bucket=bucket, Key="tmp/x", UploadId=doomed["UploadId"], PartNumber=1, Body=b"x")
    assert s3.list_parts(Bucket=bucket, Key="tmp/x", UploadId=doomed["UploadId"])["AbortRuleId"] == "tidy"
    kept = s3.create_multipart_upload(Bucket=bucket, Key="keep/x")
    assert "AbortDate" not in kept
    c.advance(days=4)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="tmp/x", UploadId=doomed["UploadId"])
    assert error(exc) == NO_SUCH_UPLOAD
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == ["keep/x"]
    assert blob_files(root) == base


# -- clients' transfer managers -------------------------------------------------------------------
def test_boto3_upload_file_and_download_file(s3: Any, tmp_path: Path) -> None:
    bucket = new_bucket(s3)
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    data = payload(20 * MiB + 777, 60)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)
    s3.upload_file(str(src), bucket, "big.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big.bin", PartNumber=1)
    assert head["PartsCount"] == 5
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ETag"] == multipart_etag(
        [data[i:i + PART] for i in range(0, len(data), PART)])
    s3.download_file(bucket, "big.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


def test_aws_cli_cp_both_ways(cloud: Cloud, s3: Any, tmp_path: Path) -> None:
    bucket = new_bucket(s3)
    src, dst = tmp_path / "cli.bin", tmp_path / "back.bin"
    data = payload(20 * MiB, 70)
    src.write_bytes(data)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    aws = [sys.executable, "-m", "awscli", "--endpoint-url", cloud.endpoint]
    subprocess.run([*aws, "s3", "cp", str(src), f"s3://{bucket}/cli.bin"], env=env, check=True, capture_output=True)
    assert s3.head_object(Bucket=bucket, Key="cli.bin")["ETag"].endswith('-3"')  # the CLI's 8 MiB parts
    subprocess.run([*aws, "s3", "cp", f"s3://{bucket}/cli.bin", str(dst)], env=env, check=True, capture_output=True)
    assert dst.read_bytes() == data
