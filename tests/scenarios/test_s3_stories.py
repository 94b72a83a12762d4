"""S3 as users see it, over HTTP with boto3: stories from the scenario catalogue.

- a static site's assets keep their content headers and user metadata (S1.11);
- any key round-trips, however path-like, and never becomes a path on disk;
- listings are exact: S3's order (UTF-8 bytes), prefixes, delimiters and every way of
  paging, checked against a model of S3 on a few hundred keys (S1.17);
- conditional reads and writes, including two writers racing to create one key;
- ranged reads, Content-MD5 and flexible checksums (S2.04), SSE-S3 by default and SSE-C
  (S1.47), copies, batch deletes, presigned URLs and their expiry on the cloudlet clock
  (S1.42).

Bucket names are one global namespace and the `cloud` fixture is shared: every test makes
its own bucket. Presigned expiry moves the clock, so it runs on a server of its own.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import threading
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_plus

import pytest
from awscrt import checksums as crt
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.cloud import Cloud
from tests.s3util import payload

KiB, MiB = 2**10, 2**20


def bucket_name(tag: str) -> str:
    return f"stories-{tag}-{uuid.uuid4().hex[:12]}"


def refused(call: Callable[..., Any], **kwargs: Any) -> tuple[str, int, dict[str, Any]]:
    """(error code, HTTP status, whole error response) of a call that must fail."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    resp = info.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"], resp


@pytest.fixture
def s3(cloud: Cloud) -> Any:
    return cloud.client("s3")


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = bucket_name("b")
    s3.create_bucket(Bucket=name)
    yield name
    # empty it and delete it: the shared server's namespace stays small
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        items = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if items:
            s3.delete_objects(Bucket=name, Delete={"Objects": items, "Quiet": True})
    s3.delete_bucket(Bucket=name)


# --- static assets ---------------------------------------------------------------------------


def test_static_assets_keep_content_headers_and_metadata(s3: Any, bucket: str) -> None:
    html = b"<!doctype html><title>home</title>" * 50
    body = gzip.compress(html)
    expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    s3.put_object(
        Bucket=bucket, Key="site/index.html", Body=body,
        ContentType="text/html; charset=utf-8", CacheControl="public, max-age=300",
        ContentEncoding="gzip", ContentLanguage="en-GB", ContentDisposition='inline; filename="index.html"',
        Expires=expires, Metadata={"Build-Id": "4711", "commit": "abc123"},
    )
    s3.put_object(Bucket=bucket, Key="site/app.js", Body=b"console.log(1)", ContentType="application/javascript")

    for resp in (s3.head_object(Bucket=bucket, Key="site/index.html"), s3.get_object(Bucket=bucket, Key="site/index.html")):
        assert resp["ContentType"] == "text/html; charset=utf-8"
        assert resp["CacheControl"] == "public, max-age=300"
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentLanguage"] == "en-GB"
        assert resp["ContentDisposition"] == 'inline; filename="index.html"'
        assert resp["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Thu, 02 Jan 2031 03:04:05 GMT"
        # HTTP header names are case-insensitive: S3 hands metadata names back in lower case
        assert resp["Metadata"] == {"build-id": "4711", "commit": "abc123"}
        assert resp["ContentLength"] == len(body)
        assert resp["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="site/index.html")["Body"].read()
    assert got == body and gzip.decompress(got) == html  # stored as sent, never re-encoded

    js = s3.head_object(Bucket=bucket, Key="site/app.js")
    assert js["ContentType"] == "application/javascript" and js["Metadata"] == {}
    assert "CacheControl" not in js and "ContentEncoding" not in js

    # a GET can override what the response says (for a download link), not what is stored
    over = s3.get_object(Bucket=bucket, Key="site/app.js", ResponseContentType="text/plain",
                         ResponseContentDisposition="attachment; filename=app.txt", ResponseCacheControl="no-store")
    assert over["ContentType"] == "text/plain"
    assert over["ContentDisposition"] == "attachment; filename=app.txt" and over["CacheControl"] == "no-store"
    assert s3.head_object(Bucket=bucket, Key="site/app.js")["ContentType"] == "application/javascript"

    # an object put without a content type is binary/octet-stream, as on S3
    s3.put_object(Bucket=bucket, Key="blob", Body=b"\x00\x01")
    assert s3.head_object(Bucket=bucket, Key="blob")["ContentType"] == "binary/octet-stream"


# --- keys ------------------------------------------------------------------------------------

ODD_KEYS = [
    "caf\u00e9/\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.txt",
    "emoji \U0001f600 key",
    "a/../b",
    "../../etc/passwd",
    "a//b",
    "//double-leading",
    "/leading-slash",
    "./dot",
    "trailing/",
    "with space",
    "plus+sign",
    "percent%20literal",
    "question?mark=1&x",
    "hash#fragment",
    "semi;colon,comma",
    "quote\"and'apostrophe",
    "<xml>&amp;</xml>",
    "back\\slash",
    "~tilde*star",
    "\u00ff\ue000\uffee",
]


def test_odd_keys_round_trip_and_list_in_byte_order(s3: Any, bucket: str) -> None:
    for i, key in enumerate(ODD_KEYS):
        s3.put_object(Bucket=bucket, Key=key, Body=f"body {i}".encode())
    for i, key in enumerate(ODD_KEYS):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"body {i}".encode(), key
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(f"body {i}"), key

    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(ODD_KEYS, key=lambda k: k.encode("utf-8"))
    v1 = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
    assert v1 == listed

    # "a/../b" and "b", "a//b" and "a/b" are different keys: nothing normalises them
    assert refused(s3.get_object, Bucket=bucket, Key="b")[:2] == ("NoSuchKey", 404)
    assert refused(s3.head_object, Bucket=bucket, Key="a/b")[1] == 404
    assert refused(s3.get_object, Bucket=bucket, Key="leading-slash")[:2] == ("NoSuchKey", 404)

    s3.copy_object(Bucket=bucket, Key="copies/" + ODD_KEYS[0], CopySource={"Bucket": bucket, "Key": ODD_KEYS[0]})
    assert s3.get_object(Bucket=bucket, Key="copies/" + ODD_KEYS[0])["Body"].read() == b"body 0"
    s3.delete_object(Bucket=bucket, Key="question?mark=1&x")
    assert refused(s3.head_object, Bucket=bucket, Key="question?mark=1&x")[1] == 404
    assert s3.head_object(Bucket=bucket, Key="hash#fragment")["ContentLength"] == len("body 13")


def test_key_length_is_counted_in_utf8_bytes(s3: Any, bucket: str) -> None:
    ascii_max = "k" * 1024
    multibyte_max = "\u00e9" * 512  # 2 bytes each: 1024 bytes in 512 characters
    s3.put_object(Bucket=bucket, Key=ascii_max, Body=b"a")
    s3.put_object(Bucket=bucket, Key=multibyte_max, Body=b"m")
    assert s3.get_object(Bucket=bucket, Key=multibyte_max)["Body"].read() == b"m"
    assert {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]} == {ascii_max, multibyte_max}

    for too_long in ("k" * 1025, "\u00e9" * 512 + "x", "\U0001f600" * 256 + "x"):
        code, status, _ = refused(s3.put_object, Bucket=bucket, Key=too_long, Body=b"x")
        assert (code, status) == ("KeyTooLongError", 400)
    code, status, _ = refused(s3.copy_object, Bucket=bucket, Key="k" * 1025, CopySource={"Bucket": bucket, "Key": ascii_max})
    assert (code, status) == ("KeyTooLongError", 400)


@pytest.fixture(scope="module")
def own_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, str]]:
    """A server of its own, on a data directory inside an otherwise empty tree: for the
    tests that look at the disk and those that move the clock."""
    root = str(tmp_path_factory.mktemp("own"))
    data_dir = os.path.join(root, "data")
    os.mkdir(data_dir)
    c = Cloud("--data-dir", data_dir)
    yield c, root
    c.stop()


def files_under(root: str) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


def test_path_like_keys_never_escape_the_data_dir(own_cloud: tuple[Cloud, str]) -> None:
    cloud, root = own_cloud
    s3 = cloud.client("s3")
    b = bucket_name("paths")
    s3.create_bucket(Bucket=b)
    before = files_under(root)
    escaped_before = os.path.exists("/tmp/escaped")
    evil = ["../../etc/passwd", "../../../../../../tmp/escaped", "..\\..\\windows\\win.ini", "/etc/shadow",
            "%2e%2e/%2e%2e/etc/group", "data/../../outside"]
    big = payload(200 * KiB, seed=7)  # past the inline limit: the body goes to a file of its own
    for key in evil:
        s3.put_object(Bucket=b, Key=key, Body=big)
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]}
    assert listed == set(evil)
    for key in evil:
        assert s3.get_object(Bucket=b, Key=key)["Body"].read() == big

    after = files_under(root)
    new = after - before
    assert new, "the bodies went somewhere"
    assert all(p.split(os.sep)[0] == "data" for p in after), sorted(after)
    names = {os.path.basename(p) for p in new}
    assert not names & {"passwd", "escaped", "win.ini", "shadow", "group", "outside"}, sorted(new)
    assert escaped_before or not os.path.exists("/tmp/escaped")
    # sealed at rest: no file holds the plaintext
    marker = big[:64]
    for p in new:
        with open(os.path.join(root, p), "rb") as f:
            assert marker not in f.read(), p


# --- listings --------------------------------------------------------------------------------


def model_keys() -> list[str]:
    keys = []
    for day in range(1, 13):
        for n in range(20):
            keys.append(f"photos/2024/{day:02d}/img_{n:03d}.jpg")
    for n in range(40):
        keys.append(f"docs/report-{n}.pdf")
    keys += [f"docs/drafts/v{n}.txt" for n in range(15)]
    keys += [f"logs/{h:02d}/app.log" for h in range(24)]
    keys += [f"logs/{h:02d}/err.log" for h in range(0, 24, 3)]
    # byte order: upper case before lower, '-' and '.' before '/', multi-byte after ASCII
    keys += ["A", "Z", "a", "z", "a-b", "a.b", "a/b", "a0", "\u00e9t\u00e9", "\u00e9/x", "\u65e5/y",
             "\U0001f600/z", "\ue000", "space key", "plus+key", "tilde~", "top.txt", "photos.txt", "photos-x"]
    keys += [f"deep/{'/'.join('abcdef'[:n])}/leaf" for n in range(1, 7)]
    return keys


def model_list(keys: list[str], prefix: str = "", delimiter: str | None = None,
               after: str | None = None) -> list[tuple[str, str]]:
    """What a full listing returns, in order: ("key", k) and ("prefix", p) entries past `after`."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for k in sorted(keys, key=lambda k: k.encode("utf-8")):
        if not k.startswith(prefix):
            continue
        if after is not None and k.encode() <= after.encode():
            continue
        if delimiter:
            i = k.find(delimiter, len(prefix))
            if i >= 0:
                cp = k[: i + len(delimiter)]
                if cp not in seen and not (after is not None and cp.encode() <= after.encode()):
                    seen.add(cp)
                    out.append(("prefix", cp))
                continue
        out.append(("key", k))
    return out


def page_entries(resp: dict[str, Any]) -> list[tuple[str, str]]:
    """A page's keys and prefixes merged in S3's order."""
    entries = [("key", o["Key"]) for o in resp.get("Contents", [])] + [("prefix", p["Prefix"]) for p in resp.get("CommonPrefixes", [])]
    return sorted(entries, key=lambda e: e[1].encode("utf-8"))


def listing_args(bucket: str, prefix: str, delimiter: str | None, **more: Any) -> dict[str, Any]:
    """A listing's arguments, with a Delimiter only when there is one."""
    return {"Bucket": bucket, "Prefix": prefix, **({"Delimiter": delimiter} if delimiter else {}), **more}


@pytest.fixture(scope="module")
def listing_bucket(cloud: Cloud) -> str:
    s3 = cloud.client("s3")
    name = bucket_name("list")
    s3.create_bucket(Bucket=name)
    keys = model_keys()
    errors: list[BaseException] = []

    def put(chunk: list[str]) -> None:
        c = cloud.client("s3")
        try:
            for k in chunk:
                c.put_object(Bucket=name, Key=k, Body=k.encode())
        except BaseException as e:  # surfaced below: a thread's failure must fail the test
            errors.append(e)

    threads = [threading.Thread(target=put, args=(keys[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return name


LISTING_CASES = [
    ("", None), ("", "/"), ("photos/", "/"), ("photos/2024/", "/"), ("photos/2024/0", "/"), ("docs/", None),
    ("docs/", "/"), ("logs/", "/"), ("a", "/"), ("\u00e9", None), ("deep/", "/"), ("deep/a/b/", "/"),
    ("nothing-here/", "/"), ("", "."), ("logs/", "err"),
]


@pytest.mark.parametrize("max_keys", [1000, 7, 1])
def test_list_objects_v2_pages_match_the_model(s3: Any, listing_bucket: str, max_keys: int) -> None:
    keys = model_keys()
    assert len(keys) > 300
    cases = LISTING_CASES if max_keys != 1 else [("photos/2024/", "/"), ("docs/", None), ("", "/")]
    for prefix, delimiter in cases:
        want = model_list(keys, prefix, delimiter)
        got: list[tuple[str, str]] = []
        kwargs = listing_args(listing_bucket, prefix, delimiter, MaxKeys=max_keys)
        pages = 0
        while True:
            resp = s3.list_objects_v2(**kwargs)
            pages += 1
            entries = page_entries(resp)
            assert resp["KeyCount"] == len(entries) <= max_keys
            got += entries
            if not resp["IsTruncated"]:
                assert "NextContinuationToken" not in resp
                break
            assert len(entries) == max_keys
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]
        assert got == want, (prefix, delimiter, max_keys)
        assert pages == max(1, -(-len(want) // max_keys)), (prefix, delimiter)


@pytest.mark.parametrize("max_keys", [1000, 9])
def test_list_objects_v1_markers_match_the_model(s3: Any, listing_bucket: str, max_keys: int) -> None:
    keys = model_keys()
    for prefix, delimiter in LISTING_CASES:
        want = model_list(keys, prefix, delimiter)
        got: list[tuple[str, str]] = []
        kwargs = listing_args(listing_bucket, prefix, delimiter, MaxKeys=max_keys)
        while True:
            resp = s3.list_objects(**kwargs)
            entries = page_entries(resp)
            got += entries
            if not resp["IsTruncated"]:
                break
            # S3 gives NextMarker only with a delimiter; without one the last key is the marker
            if delimiter:
                assert resp["NextMarker"] == entries[-1][1]
            else:
                assert "NextMarker" not in resp
            kwargs["Marker"] = resp.get("NextMarker") or entries[-1][1]
        assert got == want, (prefix, delimiter, max_keys)


def test_start_after_and_markers_anywhere(s3: Any, listing_bucket: str) -> None:
    keys = model_keys()
    # a StartAfter/Marker need not be a key that exists. (Not asserted: a marker *inside*
    # a prefix the delimiter rolls up, such as "docs/r" with no Prefix and "/": whether S3
    # still returns "docs/" there is not documented.)
    cases = [("", None, a) for a in ["docs/report-3.pdf", "docs/r", "logs/05/", "photos/2024/07/img_011.jpg", "\u00e9", "zzz", "A"]]
    cases += [("", "/", a) for a in ["docs/", "\u00e9", "zzz", "A", "a-b", "photos.txt", "logs"]]
    cases += [("docs/", "/", "docs/r"), ("docs/", "/", "docs/drafts/"), ("photos/2024/", "/", "photos/2024/06/"),
              ("photos/2024/", "/", "photos/2024/07"), ("logs/", None, "logs/07/err.log"), ("deep/", "/", "a")]
    for prefix, delimiter, after in cases:
        kwargs = listing_args(listing_bucket, prefix, delimiter)
        want = model_list(keys, prefix, delimiter, after)
        resp = s3.list_objects_v2(StartAfter=after, **kwargs)
        assert resp["StartAfter"] == after
        assert page_entries(resp) == want, (prefix, delimiter, after)
        assert page_entries(s3.list_objects(Marker=after, **kwargs)) == want, (prefix, delimiter, after)
    resp = s3.list_objects_v2(Bucket=listing_bucket, Prefix="docs/", StartAfter="docs/report-37.pdf")
    assert [o["Key"] for o in resp["Contents"]] == ["docs/report-38.pdf", "docs/report-39.pdf", "docs/report-4.pdf",
                                                   *[f"docs/report-{n}.pdf" for n in range(5, 10)]]

    empty = s3.list_objects_v2(Bucket=listing_bucket, MaxKeys=0)
    assert empty["KeyCount"] == 0 and not empty["IsTruncated"] and "Contents" not in empty


def test_encoding_type_url(s3: Any, listing_bucket: str) -> None:
    keys = model_keys()
    # explicit EncodingType: boto3 leaves the values encoded, as S3 sent them
    resp = s3.list_objects_v2(Bucket=listing_bucket, EncodingType="url", Delimiter="/", Prefix="")
    assert resp["EncodingType"] == "url"
    raw = [o["Key"] for o in resp["Contents"]] + [p["Prefix"] for p in resp["CommonPrefixes"]]
    for value in raw:
        assert value.isascii() and " " not in value and "+" not in value, value
    decoded = sorted((unquote_plus(v) for v in raw), key=lambda k: k.encode())
    assert decoded == [e[1] for e in model_list(keys, "", "/")]
    assert "%F0%9F%98%80/" in [p["Prefix"] for p in resp["CommonPrefixes"]]  # the emoji, as UTF-8 bytes
    # and without it, boto3 asks for url encoding itself and decodes: keys come back whole
    plain = s3.list_objects_v2(Bucket=listing_bucket, Prefix="plus")
    assert [o["Key"] for o in plain["Contents"]] == ["plus+key"]
    v1 = s3.list_objects(Bucket=listing_bucket, Prefix="space", EncodingType="url")
    assert [o["Key"] for o in v1["Contents"]] in (["space%20key"], ["space+key"])
    versions = s3.list_object_versions(Bucket=listing_bucket, Prefix="\u00e9", EncodingType="url")
    assert sorted(unquote_plus(v["Key"]) for v in versions["Versions"]) == ["\u00e9/x", "\u00e9t\u00e9"]


def test_listing_refuses_bad_arguments(s3: Any, listing_bucket: str) -> None:
    code, status, _ = refused(s3.list_objects_v2, Bucket=listing_bucket, ContinuationToken="%%%not-a-token")
    assert (code, status) == ("InvalidArgument", 400)
    code, status, _ = refused(s3.list_objects_v2, Bucket=listing_bucket, EncodingType="base64")
    assert (code, status) == ("InvalidArgument", 400)
    code, status, _ = refused(s3.list_objects_v2, Bucket=bucket_name("missing"))
    assert (code, status) == ("NoSuchBucket", 404)


# --- conditional requests --------------------------------------------------------------------


def test_conditional_reads(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="doc", Body=b"version one")["ETag"]
    head = s3.head_object(Bucket=bucket, Key="doc")
    modified = head["LastModified"]
    for call in (s3.get_object, s3.head_object):
        assert call(Bucket=bucket, Key="doc", IfMatch=etag)["ETag"] == etag
        assert call(Bucket=bucket, Key="doc", IfMatch=f'"00000000000000000000000000000000", {etag}')["ETag"] == etag
        assert call(Bucket=bucket, Key="doc", IfMatch="*")["ETag"] == etag
        assert refused(call, Bucket=bucket, Key="doc", IfMatch='"0123"')[1] == 412
        assert refused(call, Bucket=bucket, Key="doc", IfNoneMatch=etag)[1] == 304
        assert call(Bucket=bucket, Key="doc", IfNoneMatch='"other"')["ETag"] == etag
        assert refused(call, Bucket=bucket, Key="doc", IfModifiedSince=modified)[1] == 304
        assert call(Bucket=bucket, Key="doc", IfModifiedSince=modified - timedelta(seconds=1))["ETag"] == etag
        assert refused(call, Bucket=bucket, Key="doc", IfUnmodifiedSince=modified - timedelta(seconds=1))[1] == 412
        assert call(Bucket=bucket, Key="doc", IfUnmodifiedSince=modified)["ETag"] == etag
        # If-Match decides over If-Unmodified-Since, If-None-Match over If-Modified-Since (RFC 7232)
        assert call(Bucket=bucket, Key="doc", IfMatch=etag, IfUnmodifiedSince=modified - timedelta(days=1))["ETag"] == etag
        assert call(Bucket=bucket, Key="doc", IfNoneMatch='"other"', IfModifiedSince=modified)["ETag"] == etag
    code, status, resp = refused(s3.get_object, Bucket=bucket, Key="doc", IfMatch='"0123"')
    assert (code, status) == ("PreconditionFailed", 412)
    assert refused(s3.get_object, Bucket=bucket, Key="doc", IfNoneMatch=etag)[2]["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag


def test_conditional_writes(s3: Any, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="cfg.json", Body=b'{"v": 1}', IfNoneMatch="*")["ETag"]
    code, status, _ = refused(s3.put_object, Bucket=bucket, Key="cfg.json", Body=b'{"v": 2}', IfNoneMatch="*")
    assert (code, status) == ("PreconditionFailed", 412)
    # optimistic concurrency: update only what was read
    second = s3.put_object(Bucket=bucket, Key="cfg.json", Body=b'{"v": 2}', IfMatch=first)["ETag"]
    code, status, _ = refused(s3.put_object, Bucket=bucket, Key="cfg.json", Body=b'{"v": 3}', IfMatch=first)
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="cfg.json")["Body"].read() == b'{"v": 2}'
    assert s3.head_object(Bucket=bucket, Key="cfg.json")["ETag"] == second
    code, status, _ = refused(s3.put_object, Bucket=bucket, Key="absent", Body=b"x", IfMatch=first)
    assert (code, status) == ("NoSuchKey", 404)
    # a deleted key can be created again
    s3.delete_object(Bucket=bucket, Key="cfg.json")
    s3.put_object(Bucket=bucket, Key="cfg.json", Body=b'{"v": 4}', IfNoneMatch="*")


def test_conditional_create_race_has_one_winner(cloud: Cloud, s3: Any, bucket: str) -> None:
    writers = 8
    barrier = threading.Barrier(writers)
    results: dict[int, Any] = {}
    clients = [cloud.client("s3") for _ in range(writers)]

    def create(i: int) -> None:
        body = f"writer {i}".encode() + payload(100 * KiB, seed=i)  # past inline: the write takes a while
        barrier.wait()
        try:
            results[i] = clients[i].put_object(Bucket=bucket, Key="lock", Body=body, IfNoneMatch="*")["ETag"]
        except ClientError as e:
            results[i] = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])

    threads = [threading.Thread(target=create, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, r in results.items() if isinstance(r, str)]
    assert len(winners) == 1, results
    assert all(results[i] == ("PreconditionFailed", 412) for i in results if i not in winners), results
    body = s3.get_object(Bucket=bucket, Key="lock")["Body"].read()
    assert body.startswith(f"writer {winners[0]}".encode())
    assert s3.head_object(Bucket=bucket, Key="lock")["ETag"] == results[winners[0]]
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="lock").get("Versions", [])) == 1


# --- ranges ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1000, 300 * KiB])
def test_range_reads(s3: Any, bucket: str, size: int) -> None:
    data = payload(size, seed=3)
    s3.put_object(Bucket=bucket, Key="r", Body=data)

    def get(rng: str) -> tuple[bytes, dict[str, Any]]:
        resp = s3.get_object(Bucket=bucket, Key="r", Range=rng)
        return resp["Body"].read(), resp

    body, resp = get("bytes=0-9")
    assert body == data[:10] and resp["ContentRange"] == f"bytes 0-9/{size}" and resp["ContentLength"] == 10
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    body, resp = get(f"bytes={size - 1}-{size - 1}")
    assert body == data[-1:] and resp["ContentRange"] == f"bytes {size - 1}-{size - 1}/{size}"
    body, resp = get("bytes=-17")
    assert body == data[-17:] and resp["ContentRange"] == f"bytes {size - 17}-{size - 1}/{size}"
    body, resp = get(f"bytes={size // 2}-")
    assert body == data[size // 2:]
    body, resp = get(f"bytes=100-{size + 5000}")  # an end past the object is cut to it
    assert body == data[100:] and resp["ContentRange"] == f"bytes 100-{size - 1}/{size}"
    body, resp = get(f"bytes=-{size * 2}")  # a suffix longer than the object is all of it
    assert body == data and resp["ContentRange"] == f"bytes 0-{size - 1}/{size}"
    body, resp = get("bytes=0-")
    assert body == data and resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    mid = size // 3
    body, _ = get(f"bytes={mid}-{mid + 70_000}")  # crosses sealed segment boundaries when large
    assert body == data[mid:mid + 70_001]

    code, status, err = refused(s3.get_object, Bucket=bucket, Key="r", Range=f"bytes={size}-")
    assert (code, status) == ("InvalidRange", 416)
    assert err["Error"].get("ActualObjectSize") == str(size)
    assert refused(s3.get_object, Bucket=bucket, Key="r", Range=f"bytes={size + 10}-{size + 20}")[1] == 416

    whole = s3.get_object(Bucket=bucket, Key="r")
    assert whole["Body"].read() == data and whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "ContentRange" not in whole
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=5-14")
    assert head["ContentLength"] == 10 and head["ContentRange"] == f"bytes 5-14/{size}"


def test_range_of_an_empty_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""
    assert refused(s3.get_object, Bucket=bucket, Key="empty", Range="bytes=0-0")[:2] == ("InvalidRange", 416)


# --- integrity -------------------------------------------------------------------------------


def test_content_md5(s3: Any, bucket: str) -> None:
    body = b"integrity matters"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="m", Body=body, ContentMD5=good)
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    code, status, _ = refused(s3.put_object, Bucket=bucket, Key="m", Body=b"tampered", ContentMD5=wrong)
    assert (code, status) == ("BadDigest", 400)
    code, status, _ = refused(s3.put_object, Bucket=bucket, Key="n", Body=b"x", ContentMD5="not base64!")
    assert (code, status) == ("InvalidDigest", 400)
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == body  # the refused write changed nothing
    assert refused(s3.head_object, Bucket=bucket, Key="n")[1] == 404


def expected_checksum(alg: str, data: bytes) -> str:
    raw = {
        "CRC32": lambda: zlib.crc32(data).to_bytes(4, "big"),
        "CRC32C": lambda: crt.crc32c(data).to_bytes(4, "big"),
        "CRC64NVME": lambda: crt.crc64nvme(data).to_bytes(8, "big"),
        "SHA1": lambda: hashlib.sha1(data).digest(),
        "SHA256": lambda: hashlib.sha256(data).digest(),
    }[alg]()
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_checksums_sent_stored_and_returned(s3: Any, bucket: str, alg: str) -> None:
    member = f"Checksum{alg}"
    for key, data in (("small", payload(5000, seed=4)), ("large", payload(2 * MiB + 3, seed=5))):
        want = expected_checksum(alg, data)
        put = s3.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=alg)
        assert put[member] == want, key
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head[member] == want and head["ChecksumType"] == "FULL_OBJECT"
        got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")  # botocore checks the body against it
        assert got[member] == want and got["Body"].read() == data
        assert member not in s3.head_object(Bucket=bucket, Key=key)  # only when asked
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert all(o["ChecksumAlgorithm"] == [alg] for o in listed)

    # a value computed elsewhere that does not match the body: refused, nothing stored
    code, status, _ = refused(s3.put_object, Bucket=bucket, Key="bad", Body=b"the body", **{member: expected_checksum(alg, b"another body")})
    assert (code, status) == ("BadDigest", 400)
    assert refused(s3.head_object, Bucket=bucket, Key="bad")[1] == 404
    ok = s3.put_object(Bucket=bucket, Key="given", Body=b"the body", **{member: expected_checksum(alg, b"the body")})
    assert ok[member] == expected_checksum(alg, b"the body")


def test_crc64nvme_by_default(s3: Any, bucket: str) -> None:
    data = b"no checksum asked for"
    # botocore adds a CRC32 by default; sent without one (when_required), S3 computes CRC64NVME itself
    import boto3
    plain = boto3.client("s3", endpoint_url=s3.meta.endpoint_url, region_name="us-east-1",
                         config=BotoConfig(request_checksum_calculation="when_required", retries={"max_attempts": 1}))
    plain.put_object(Bucket=bucket, Key="k", Body=data)
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == expected_checksum("CRC64NVME", data)


# --- encryption ------------------------------------------------------------------------------


def test_sse_s3_by_default(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="plain")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="plain")["ServerSideEncryption"] == "AES256"
    s3.put_object(Bucket=bucket, Key="asked", Body=b"y", ServerSideEncryption="AES256")
    assert s3.head_object(Bucket=bucket, Key="asked")["ServerSideEncryption"] == "AES256"


@pytest.mark.parametrize("size", [100, 200 * KiB])
def test_sse_c(s3: Any, bucket: str, size: int) -> None:
    key = os.urandom(32)
    other = os.urandom(32)
    data = payload(size, seed=6)
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="secret", Body=data, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == md5
    assert "ServerSideEncryption" not in put

    got = s3.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == data and got["SSECustomerKeyMD5"] == md5
    part = s3.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key, Range="bytes=50-99")
    assert part["Body"].read() == data[50:100]
    head = s3.head_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert head["ContentLength"] == size and head["SSECustomerAlgorithm"] == "AES256"

    assert refused(s3.get_object, Bucket=bucket, Key="secret")[:2] == ("InvalidRequest", 400)
    assert refused(s3.head_object, Bucket=bucket, Key="secret")[1] == 400  # a HEAD answer has no body, no code
    wrong = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": other}
    assert refused(s3.get_object, Bucket=bucket, Key="secret", **wrong)[:2] == ("AccessDenied", 403)
    assert refused(s3.head_object, Bucket=bucket, Key="secret", **wrong)[1] == 403
    # a copy needs the source key too; the copy may be sealed with another key (or SSE-S3)
    assert refused(s3.copy_object, Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "secret"})[1] == 400
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "secret"},
                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key)
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="copy")["ServerSideEncryption"] == "AES256"


# --- copy and delete ---------------------------------------------------------------------------


def test_copy_metadata_directives(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src.txt", Body=b"copy me", ContentType="text/plain",
                  CacheControl="max-age=60", Metadata={"owner": "alice"})
    etag = s3.head_object(Bucket=bucket, Key="src.txt")["ETag"]

    kept = s3.copy_object(Bucket=bucket, Key="kept.txt", CopySource=f"{bucket}/src.txt")
    assert kept["CopyObjectResult"]["ETag"] == etag
    head = s3.head_object(Bucket=bucket, Key="kept.txt")
    assert head["Metadata"] == {"owner": "alice"} and head["ContentType"] == "text/plain"
    assert head["CacheControl"] == "max-age=60"

    s3.copy_object(Bucket=bucket, Key="replaced.txt", CopySource={"Bucket": bucket, "Key": "src.txt"},
                   MetadataDirective="REPLACE", Metadata={"owner": "bob", "stage": "2"}, ContentType="text/markdown")
    head = s3.head_object(Bucket=bucket, Key="replaced.txt")
    assert head["Metadata"] == {"owner": "bob", "stage": "2"} and head["ContentType"] == "text/markdown"
    assert "CacheControl" not in head  # REPLACE takes only what the copy request says
    assert s3.get_object(Bucket=bucket, Key="replaced.txt")["Body"].read() == b"copy me"

    # onto itself: refused unless something changes
    code, status, err = refused(s3.copy_object, Bucket=bucket, Key="src.txt", CopySource={"Bucket": bucket, "Key": "src.txt"})
    assert (code, status) == ("InvalidRequest", 400)
    assert "copy an object to itself" in err["Error"]["Message"]
    s3.copy_object(Bucket=bucket, Key="src.txt", CopySource={"Bucket": bucket, "Key": "src.txt"},
                   MetadataDirective="REPLACE", Metadata={"owner": "carol"}, ContentType="text/plain")
    assert s3.head_object(Bucket=bucket, Key="src.txt")["Metadata"] == {"owner": "carol"}
    assert s3.get_object(Bucket=bucket, Key="src.txt")["Body"].read() == b"copy me"

    # copy-source preconditions and a missing source
    assert refused(s3.copy_object, Bucket=bucket, Key="x", CopySource=f"{bucket}/src.txt", CopySourceIfMatch='"nope"')[1] == 412
    assert refused(s3.copy_object, Bucket=bucket, Key="x", CopySource=f"{bucket}/absent")[:2] == ("NoSuchKey", 404)
    # across buckets, a large (file-backed) body
    other = bucket_name("dst")
    s3.create_bucket(Bucket=other)
    try:
        big = payload(150 * KiB, seed=8)
        s3.put_object(Bucket=bucket, Key="big", Body=big)
        s3.copy_object(Bucket=other, Key="big-copy", CopySource={"Bucket": bucket, "Key": "big"})
        assert s3.get_object(Bucket=other, Key="big-copy")["Body"].read() == big
        s3.delete_object(Bucket=other, Key="big-copy")
    finally:
        s3.delete_bucket(Bucket=other)


def test_delete_objects_batch(s3: Any, bucket: str) -> None:
    keys = [f"batch/{n:03d}" for n in range(30)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    loud = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:10]] + [{"Key": "batch/never-was"}]})
    assert sorted(d["Key"] for d in loud["Deleted"]) == sorted(keys[:10] + ["batch/never-was"])  # absent keys "delete" too
    assert "Errors" not in loud
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[10:25]], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="batch/")["Contents"]]
    assert left == keys[25:]
    too_many = {"Objects": [{"Key": f"k{n}"} for n in range(1001)]}
    assert refused(s3.delete_objects, Bucket=bucket, Delete=too_many)[:2] == ("MalformedXML", 400)


def test_versioned_delete_keeps_history(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="report.csv", Body=b"v1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="report.csv", Body=b"v2")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="report.csv")
    assert marker["DeleteMarker"] is True
    code, status, err = refused(s3.get_object, Bucket=bucket, Key="report.csv")
    assert (code, status) == ("NoSuchKey", 404)
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert s3.get_object(Bucket=bucket, Key="report.csv", VersionId=v1)["Body"].read() == b"v1"
    assert s3.get_object(Bucket=bucket, Key="report.csv", VersionId=v2)["Body"].read() == b"v2"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="report")
    listed = s3.list_object_versions(Bucket=bucket, Prefix="report")
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker["VersionId"], True)]
    # undelete: remove the marker
    s3.delete_object(Bucket=bucket, Key="report.csv", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="report.csv")["Body"].read() == b"v2"


# --- presigned URLs --------------------------------------------------------------------------


def fetch(url: str, data: bytes | None = None, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_presigned_urls_work_until_they_expire(own_cloud: tuple[Cloud, str]) -> None:
    """Both signatures boto3 presigns with: SigV2 (its default for S3) and SigV4."""
    cloud, _ = own_cloud
    b = bucket_name("presign")
    cloud.client("s3").create_bucket(Bucket=b)
    urls = []
    for signature in ("s3", "s3v4"):
        s3 = cloud.client("s3", signature_version=signature)
        key = f"upload-{signature}.bin"
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": key}, ExpiresIn=60)
        assert fetch(put_url, data=b"uploaded without credentials", method="PUT")[0] == 200
        get_url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": key}, ExpiresIn=60)
        assert fetch(get_url) == (200, b"uploaded without credentials")
        override = s3.generate_presigned_url("get_object", ExpiresIn=60,
                                             Params={"Bucket": b, "Key": key, "ResponseContentType": "text/plain"})
        with urllib.request.urlopen(override, timeout=10) as resp:
            assert resp.headers["Content-Type"] == "text/plain"
        urls += [(get_url, "GET", None), (put_url, "PUT", b"too late")]

    cloud.advance(seconds=120)
    for url, method, data in urls:
        status, body = fetch(url, data=data, method=method)
        assert status == 403, (url, body)
        assert b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body
    s3 = cloud.client("s3", signature_version="s3v4")
    for signature in ("s3", "s3v4"):  # the expired PUTs stored nothing
        assert s3.get_object(Bucket=b, Key=f"upload-{signature}.bin")["Body"].read() == b"uploaded without credentials"
    # a URL signed now (by the wall clock) lives by the cloudlet clock, two minutes ahead
    fresh = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "upload-s3.bin"}, ExpiresIn=300)
    assert fetch(fresh)[0] == 200
    short = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "upload-s3.bin"}, ExpiresIn=90)
    assert fetch(short)[0] == 403
