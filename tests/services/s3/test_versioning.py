"""Versioning over HTTP: enabling and suspending, version ids, delete markers, the null
version, ListObjectVersions and its pagination, deletes by version (one and many), and
GetObjectAttributes of versions."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.s3util import new_bucket


def body(s3: Any, name: str, key: str, **kw: Any) -> bytes:
    return s3.get_object(Bucket=name, Key=key, **kw)["Body"].read()


def versions(s3: Any, name: str, **kw: Any) -> list[tuple[str, str, bool, bool]]:
    """(key, version id, is latest, is a delete marker) of one page, versions then markers."""
    out = s3.list_object_versions(Bucket=name, **kw)
    return ([(v["Key"], v["VersionId"], v["IsLatest"], False) for v in out.get("Versions", [])]
            + [(m["Key"], m["VersionId"], m["IsLatest"], True) for m in out.get("DeleteMarkers", [])])


def failure(call: Any) -> tuple[int, str, dict[str, str]]:
    with pytest.raises(ClientError) as exc:
        call()
    resp = exc.value.response
    return resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPHeaders"]


# states --------------------------------------------------------------------------------------------


def test_an_unversioned_bucket_keeps_one_null_version(s3: Any) -> None:
    name = new_bucket(s3, "ver")
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    assert "VersionId" not in s3.put_object(Bucket=name, Key="k", Body=b"one")
    s3.put_object(Bucket=name, Key="k", Body=b"two")
    assert versions(s3, name) == [("k", "null", True, False)]
    assert body(s3, name, "k", VersionId="null") == b"two"
    assert "VersionId" not in s3.head_object(Bucket=name, Key="k")
    assert s3.delete_object(Bucket=name, Key="k").get("DeleteMarker") is None
    assert versions(s3, name) == []


def test_enabled_versions_get_ids_and_stay_readable(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    ids = [s3.put_object(Bucket=name, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    assert len(set(ids)) == 3 and "null" not in ids
    for i, vid in enumerate(ids):
        assert body(s3, name, "k", VersionId=vid) == f"v{i}".encode()
        assert s3.head_object(Bucket=name, Key="k", VersionId=vid)["VersionId"] == vid
    assert body(s3, name, "k") == b"v2"
    assert s3.head_object(Bucket=name, Key="k")["VersionId"] == ids[2]
    assert versions(s3, name) == [("k", ids[2], True, False), ("k", ids[1], False, False), ("k", ids[0], False, False)]


def test_bad_and_unknown_version_ids(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    status, code, _ = failure(lambda: s3.get_object(Bucket=name, Key="k", VersionId="bad"))
    assert (status, code) == (400, "InvalidArgument")
    status, code, _ = failure(lambda: s3.get_object(Bucket=name, Key="k", VersionId="A" * 32))
    assert (status, code) == (404, "NoSuchVersion")
    assert s3.delete_object(Bucket=name, Key="k", VersionId="A" * 32)["VersionId"] == "A" * 32  # gone already: fine
    assert body(s3, name, "k") == b"x"


def test_versioning_state_is_checked(s3: Any) -> None:
    name = new_bucket(s3, "ver")
    status, code, _ = failure(lambda: s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Off"}))
    assert (status, code) == (400, "MalformedXML")


# delete markers ------------------------------------------------------------------------------------------


def test_a_delete_marker_hides_the_key_and_removing_it_brings_it_back(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    vid = s3.put_object(Bucket=name, Key="k", Body=b"kept")["VersionId"]
    marker = s3.delete_object(Bucket=name, Key="k")
    assert marker["DeleteMarker"] is True and marker["VersionId"] not in (vid, "null")
    mid = marker["VersionId"]

    status, code, headers = failure(lambda: s3.get_object(Bucket=name, Key="k"))
    assert (status, code) == (404, "NoSuchKey")
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == mid
    status, _, headers = failure(lambda: s3.head_object(Bucket=name, Key="k"))
    assert status == 404 and headers["x-amz-delete-marker"] == "true"
    status, code, headers = failure(lambda: s3.get_object(Bucket=name, Key="k", VersionId=mid))
    assert (status, code) == (405, "MethodNotAllowed")
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == mid
    assert "last-modified" in headers
    status, _, headers = failure(lambda: s3.head_object(Bucket=name, Key="k", VersionId=mid))
    assert status == 405 and headers["x-amz-delete-marker"] == "true"

    assert body(s3, name, "k", VersionId=vid) == b"kept"  # the version is still there
    assert "Contents" not in s3.list_objects_v2(Bucket=name)
    assert versions(s3, name) == [("k", vid, False, False), ("k", mid, True, True)]

    removed = s3.delete_object(Bucket=name, Key="k", VersionId=mid)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == mid
    assert body(s3, name, "k") == b"kept"
    assert [c["Key"] for c in s3.list_objects_v2(Bucket=name)["Contents"]] == ["k"]
    assert versions(s3, name) == [("k", vid, True, False)]


def test_deleting_the_latest_version_promotes_the_previous(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    first = s3.put_object(Bucket=name, Key="k", Body=b"first")["VersionId"]
    second = s3.put_object(Bucket=name, Key="k", Body=b"second")["VersionId"]
    out = s3.delete_object(Bucket=name, Key="k", VersionId=second)
    assert out["VersionId"] == second and "DeleteMarker" not in out
    assert body(s3, name, "k") == b"first"
    assert s3.head_object(Bucket=name, Key="k")["VersionId"] == first
    assert s3.list_objects_v2(Bucket=name)["Contents"][0]["Size"] == len(b"first")
    assert versions(s3, name) == [("k", first, True, False)]
    s3.delete_object(Bucket=name, Key="k", VersionId=first)
    assert versions(s3, name) == []
    assert failure(lambda: s3.get_object(Bucket=name, Key="k"))[:2] == (404, "NoSuchKey")


# the null version ---------------------------------------------------------------------------------------


def test_the_null_version_across_enabling_and_suspending(s3: Any) -> None:
    name = new_bucket(s3, "ver")
    s3.put_object(Bucket=name, Key="k", Body=b"before")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    enabled = s3.put_object(Bucket=name, Key="k", Body=b"enabled")["VersionId"]
    assert versions(s3, name) == [("k", enabled, True, False), ("k", "null", False, False)]
    assert body(s3, name, "k", VersionId="null") == b"before"

    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    assert s3.put_object(Bucket=name, Key="k", Body=b"suspended")["VersionId"] == "null"
    # the new null version replaces the old one (and becomes the newest); other versions stay
    assert versions(s3, name) == [("k", "null", True, False), ("k", enabled, False, False)]
    assert body(s3, name, "k") == b"suspended"
    assert body(s3, name, "k", VersionId=enabled) == b"enabled"

    marker = s3.delete_object(Bucket=name, Key="k")  # suspended: a null marker replaces the null version
    assert (marker["DeleteMarker"], marker["VersionId"]) == (True, "null")
    assert versions(s3, name) == [("k", enabled, False, False), ("k", "null", True, True)]
    assert failure(lambda: s3.get_object(Bucket=name, Key="k", VersionId="null"))[:2] == (405, "MethodNotAllowed")

    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    again = s3.put_object(Bucket=name, Key="k", Body=b"again")["VersionId"]
    assert again != "null"
    assert versions(s3, name) == [("k", again, True, False), ("k", enabled, False, False), ("k", "null", False, True)]


# listing ----------------------------------------------------------------------------------------------------


def fill(s3: Any, name: str) -> list[tuple[str, str, bool, bool]]:
    """Keys a, b/x, b/y, c with several versions and a delete marker, in listing order."""
    expected: list[tuple[str, str, bool, bool]] = []
    for key, count in (("a", 3), ("b/x", 1), ("b/y", 2), ("c", 2)):
        ids = [s3.put_object(Bucket=name, Key=key, Body=key.encode())["VersionId"] for _ in range(count)]
        expected += [(key, vid, i == 0, False) for i, vid in enumerate(reversed(ids))]
    marker = s3.delete_object(Bucket=name, Key="c")["VersionId"]
    i = next(i for i, e in enumerate(expected) if e[0] == "c")
    expected[i:i] = [("c", marker, True, True)]
    return [(k, v, latest and not (k == "c" and not dm), dm) for k, v, latest, dm in expected]


def test_list_object_versions_order_and_pagination(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    expected = fill(s3, name)
    out = s3.list_object_versions(Bucket=name)
    assert out["IsTruncated"] is False and "NextKeyMarker" not in out
    got = versions(s3, name)
    assert sorted(got, key=expected.index) == expected  # each list in order; markers in their own list
    assert [g for g in got if not g[3]] == [e for e in expected if not e[3]]

    pages, kw = [], {}
    while True:
        page = s3.list_object_versions(Bucket=name, MaxKeys=2, **kw)
        entries = versions(s3, name, MaxKeys=2, **kw)
        assert len(entries) <= 2
        pages.append(sorted(entries, key=expected.index))
        if not page["IsTruncated"]:
            break
        last = pages[-1][-1]
        assert (page["NextKeyMarker"], page["NextVersionIdMarker"]) == (last[0], last[1])
        kw = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert [e for p in pages for e in p] == expected
    assert len(pages) == (len(expected) + 1) // 2


def test_list_object_versions_markers_prefix_and_delimiter(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    expected = fill(s3, name)
    # a key marker alone starts after every version of that key
    after_a = sorted(versions(s3, name, KeyMarker="a"), key=expected.index)
    assert after_a == [e for e in expected if e[0] != "a"]
    out = s3.list_object_versions(Bucket=name, Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["b/"]
    assert {v["Key"] for v in out["Versions"]} == {"a", "c"}
    assert [v[0] for v in versions(s3, name, Prefix="b/")] == ["b/x", "b/y", "b/y"]
    status, code, _ = failure(lambda: s3.list_object_versions(Bucket=name, VersionIdMarker=expected[0][1]))
    assert (status, code) == (400, "InvalidArgument")


# DeleteObjects ---------------------------------------------------------------------------------------------


def test_delete_objects_with_versions(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    a1 = s3.put_object(Bucket=name, Key="a", Body=b"1")["VersionId"]
    a2 = s3.put_object(Bucket=name, Key="a", Body=b"2")["VersionId"]
    s3.put_object(Bucket=name, Key="b", Body=b"b")
    out = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "a", "VersionId": a2}, {"Key": "b"}]})
    deleted = {d["Key"]: d for d in out["Deleted"]}
    assert deleted["a"] == {"Key": "a", "VersionId": a2}
    assert deleted["b"]["DeleteMarker"] is True and deleted["b"]["DeleteMarkerVersionId"] not in (None, "null")
    assert "Errors" not in out
    assert body(s3, name, "a") == b"1"
    marker = deleted["b"]["DeleteMarkerVersionId"]
    out = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert out["Deleted"] == [{"Key": "b", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}]
    assert body(s3, name, "b") == b"b"  # the marker is gone: the object is back
    out = s3.delete_objects(Bucket=name, Delete={"Quiet": True, "Objects": [{"Key": "a", "VersionId": a1}]})
    assert "Deleted" not in out and "Errors" not in out
    assert [v[0] for v in versions(s3, name)] == ["b"]


def test_copy_from_a_version(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    old = s3.put_object(Bucket=name, Key="k", Body=b"old")["VersionId"]
    s3.put_object(Bucket=name, Key="k", Body=b"new")
    out = s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "k", "VersionId": old})
    assert out["CopySourceVersionId"] == old and out["VersionId"] not in (old, "null")
    assert body(s3, name, "copy") == b"old"


# GetObjectAttributes -----------------------------------------------------------------------------------------

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def test_attributes_of_versions_and_markers(s3: Any) -> None:
    name = new_bucket(s3, "ver", "Enabled")
    data = b"hello world!"
    old = s3.put_object(Bucket=name, Key="k", Body=data, ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=name, Key="k", Body=b"newer", StorageClass="GLACIER")
    out = s3.get_object_attributes(Bucket=name, Key="k", VersionId=old["VersionId"], ObjectAttributes=ALL)
    assert out["ETag"] == hashlib.md5(data).hexdigest()  # no quotes, unlike HeadObject
    assert out["Checksum"] == {"ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
                               "ChecksumType": "FULL_OBJECT"}
    assert (out["StorageClass"], out["ObjectSize"], out["VersionId"]) == ("STANDARD", len(data), old["VersionId"])
    assert "ObjectParts" not in out  # a single PUT has no parts
    assert out["LastModified"] == s3.head_object(Bucket=name, Key="k", VersionId=old["VersionId"])["LastModified"]

    current = s3.get_object_attributes(Bucket=name, Key="k", ObjectAttributes=["StorageClass", "ObjectSize"])
    assert (current["StorageClass"], current["ObjectSize"]) == ("GLACIER", 5)  # archived: metadata still readable
    assert "ETag" not in current and "Checksum" not in current

    marker = s3.delete_object(Bucket=name, Key="k")["VersionId"]
    status, code, headers = failure(lambda: s3.get_object_attributes(Bucket=name, Key="k", ObjectAttributes=ALL))
    assert (status, code, headers["x-amz-delete-marker"]) == (404, "NoSuchKey", "true")
    status, code, _ = failure(
        lambda: s3.get_object_attributes(Bucket=name, Key="k", VersionId=marker, ObjectAttributes=ALL))
    assert (status, code) == (405, "MethodNotAllowed")


def test_attributes_request_faults(s3: Any) -> None:
    name = new_bucket(s3, "ver")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    status, code, _ = failure(lambda: s3.get_object_attributes(Bucket=name, Key="k", ObjectAttributes=["Colour"]))
    assert (status, code) == (400, "InvalidArgument")
    status, code, _ = failure(lambda: s3.get_object_attributes(Bucket=name, Key="nope", ObjectAttributes=["ETag"]))
    assert (status, code) == (404, "NoSuchKey")
    assert "VersionId" not in s3.get_object_attributes(Bucket=name, Key="k", ObjectAttributes=["ETag"])


MIB = 1024 * 1024


def multipart(s3: Any, name: str, key: str, sizes: list[int], **create: Any) -> None:
    upload = s3.create_multipart_upload(Bucket=name, Key=key, **create)["UploadId"]
    parts = []
    for n, size in enumerate(sizes, 1):
        extra = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}
        out = s3.upload_part(Bucket=name, Key=key, UploadId=upload, PartNumber=n, Body=b"p" * size, **extra)
        parts.append({"PartNumber": n, "ETag": out["ETag"],
                      **{k: v for k, v in out.items() if k.startswith("ChecksumSHA256")}})
    s3.complete_multipart_upload(Bucket=name, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})


def test_attributes_of_multipart_objects(cloud: Any, s3: Any) -> None:
    name = new_bucket(s3, "ver")
    multipart(s3, name, "composite", [5 * MIB, 5 * MIB, 7], ChecksumAlgorithm="SHA256")
    out = s3.get_object_attributes(Bucket=name, Key="composite", ObjectAttributes=ALL)
    head = s3.head_object(Bucket=name, Key="composite", ChecksumMode="ENABLED")
    assert out["ETag"] == head["ETag"].strip('"') and out["ETag"].endswith("-3")
    assert out["Checksum"]["ChecksumType"] == "COMPOSITE"
    assert head["ChecksumSHA256"].startswith(out["Checksum"]["ChecksumSHA256"])
    assert "-" not in out["Checksum"]["ChecksumSHA256"]  # no part count here, unlike HeadObject
    parts = out["ObjectParts"]
    assert (parts["TotalPartsCount"], parts["IsTruncated"]) == (3, False)
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, 5 * MIB), (2, 5 * MIB), (3, 7)]
    page = s3.get_object_attributes(Bucket=name, Key="composite", ObjectAttributes=["ObjectParts"], MaxParts=1,
                                    PartNumberMarker=1)["ObjectParts"]
    assert (page["MaxParts"], page["PartNumberMarker"], page["NextPartNumberMarker"], page["IsTruncated"]) == (
        1, 1, 2, True)
    assert [p["PartNumber"] for p in page["Parts"]] == [2]

    bare = cloud.client("s3", request_checksum_calculation="when_required")
    multipart(bare, name, "full", [5 * MIB, 1])
    parts = s3.get_object_attributes(Bucket=name, Key="full", ObjectAttributes=["ObjectParts"])["ObjectParts"]
    assert parts == {"TotalPartsCount": 2}  # no per-part checksums to list
