"""S3 through clients other than boto3: s3fs (fsspec, over aiobotocore) and the MinIO SDK.

Each client builds its own requests (minio signs with its own SigV4 code and its own XML
parsing; s3fs goes through aiobotocore and aiohttp), so these catch what boto3 alone would
not: path-style addressing from another library, other header sets, other multipart
boundaries, ranged reads issued by a file object.

The file skips where a client is not installed (pins: pyproject's `test` extra). Bucket names
are one global namespace, so every test makes its own. `S3_CLIENTS_ENDPOINT=http://host:port`
runs the same tests against another S3 implementation, to check the tests themselves.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

MiB = 2**20
ACCESS_KEY, SECRET_KEY, REGION = "test", "test", "us-east-1"


def bucket_name(tag: str) -> str:
    return f"clients-{tag}-{uuid.uuid4().hex[:12]}"


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes that differ from block to block (a repeated block would hide a
    part stored twice or out of order)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 128  # 4 KiB per step
        counter += 1
    return bytes(out[:size])


def multipart_etag(data: bytes, part_size: int) -> str:
    """S3's ETag of a multipart object: MD5 of the concatenated part MD5s, then -<parts>."""
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f"{digest}-{len(parts)}"


@pytest.fixture(scope="module")
def endpoint(request: pytest.FixtureRequest) -> str:
    override = os.environ.get("S3_CLIENTS_ENDPOINT")
    if override:
        return override.rstrip("/")
    return str(request.getfixturevalue("cloud").endpoint)


# --- s3fs ------------------------------------------------------------------------------------


@pytest.fixture
def fs(endpoint: str) -> Any:
    s3fs = pytest.importorskip("s3fs")
    return s3fs.S3FileSystem(
        # no region_name: s3fs would send it as the LocationConstraint on CreateBucket, and
        # S3 refuses "us-east-1" there (tests/conftest.py sets AWS_DEFAULT_REGION instead)
        key=ACCESS_KEY, secret=SECRET_KEY, endpoint_url=endpoint,
        # every call goes to the server: a cached listing would test s3fs, not the server
        use_listings_cache=False, skip_instance_cache=True,
    )


@pytest.fixture
def fs_bucket(fs: Any) -> Iterator[str]:
    name = bucket_name("fs")
    fs.mkdir(name)
    yield name
    fs.rm(name, recursive=True)  # deletes the objects, then the bucket


def test_s3fs_objects_round_trip_and_list(fs: Any, fs_bucket: str) -> None:
    b = fs_bucket
    files = {
        f"{b}/top.txt": b"top level",
        f"{b}/dir/a.csv": b"x,y\n1,2\n",
        f"{b}/dir/sub/b.bin": payload(3000, seed=1),
        f"{b}/dir/sub/caf\u00e9 \u65e5\u672c.txt": "unicode key".encode(),
    }
    for path, data in files.items():
        fs.pipe_file(path, data)

    for path, data in files.items():
        assert fs.cat_file(path) == data
    info = fs.info(f"{b}/dir/sub/b.bin")
    assert info["type"] == "file" and info["size"] == 3000
    assert info["ETag"].strip('"') == hashlib.md5(files[f"{b}/dir/sub/b.bin"]).hexdigest()
    assert fs.info(f"{b}/dir")["type"] == "directory"  # a prefix, answered from a listing

    # ls is one level (delimiter "/"): objects and common prefixes
    top = {e["name"]: e["type"] for e in fs.ls(b, detail=True)}
    assert top == {f"{b}/top.txt": "file", f"{b}/dir": "directory"}
    assert sorted(fs.ls(f"{b}/dir/sub")) == sorted(p for p in files if p.startswith(f"{b}/dir/sub/"))
    # find is recursive (no delimiter)
    assert sorted(fs.find(b)) == sorted(files)
    assert sorted(fs.find(f"{b}/dir/")) == sorted(p for p in files if "/dir/" in p)
    assert fs.du(b) == sum(len(d) for d in files.values())

    fs.rm_file(f"{b}/top.txt")
    assert not fs.exists(f"{b}/top.txt")
    with pytest.raises(FileNotFoundError):
        fs.cat_file(f"{b}/top.txt")


def test_s3fs_multipart_write_and_ranged_reads(fs: Any, fs_bucket: str) -> None:
    path = f"{fs_bucket}/big/blob.bin"
    data = payload(12 * MiB, seed=2)
    # fsspec flushes the buffer once it holds block_size bytes: 5 + 5 MiB parts, then 2 MiB
    with fs.open(path, "wb", block_size=5 * MiB) as f:
        for i in range(0, len(data), MiB):
            f.write(data[i:i + MiB])
        assert len(f.parts) == 2  # two parts uploaded before close; the last one on close

    info = fs.info(path)
    assert info["size"] == len(data)
    assert info["ETag"].strip('"') == multipart_etag(data, 5 * MiB)
    assert hashlib.sha256(fs.cat_file(path)).digest() == hashlib.sha256(data).digest()

    # ranged GETs, one spanning the boundary between parts 1 and 2
    edge = 5 * MiB
    assert fs.cat_file(path, start=edge - 100, end=edge + 100) == data[edge - 100:edge + 100]
    assert fs.cat_file(path, start=0, end=1) == data[:1]
    assert fs.cat_file(path, start=len(data) - 10) == data[-10:]
    with fs.open(path, "rb", block_size=64 * 1024) as f:  # small blocks: one ranged GET per read
        f.seek(11 * MiB + 7)
        assert f.read(5000) == data[11 * MiB + 7:11 * MiB + 5007]
        f.seek(-3, 2)
        assert f.read() == data[-3:]


def test_s3fs_copy_delete_many_and_exclusive_create(fs: Any, fs_bucket: str) -> None:
    b = fs_bucket
    fs.pipe_file(f"{b}/src.txt", b"copy me")
    fs.copy(f"{b}/src.txt", f"{b}/copies/dst.txt")
    assert fs.cat_file(f"{b}/copies/dst.txt") == b"copy me"
    assert fs.cat_file(f"{b}/src.txt") == b"copy me"

    # "xb" completes with If-None-Match: * (a conditional write): refused when the key exists
    with pytest.raises(FileExistsError):
        with fs.open(f"{b}/src.txt", "xb") as f:
            f.write(b"must not replace")
    assert fs.cat_file(f"{b}/src.txt") == b"copy me"

    many = [f"{b}/many/{i:03d}" for i in range(30)]
    fs.pipe({p: p.encode() for p in many})
    assert len(fs.find(f"{b}/many/")) == 30
    fs.rm(many[:25])  # one DeleteObjects call
    assert fs.find(f"{b}/many/") == many[25:]


# --- minio -----------------------------------------------------------------------------------


def _minio_client(endpoint: str, region: str = REGION) -> Any:
    import minio

    split = urlsplit(endpoint)
    # region given: the SDK does not ask GetBucketLocation first
    return minio.Minio(split.netloc, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                       secure=split.scheme == "https", region=region)


@pytest.fixture
def mc(endpoint: str) -> Any:
    pytest.importorskip("minio")
    return _minio_client(endpoint)


@pytest.fixture
def mc_bucket(mc: Any) -> Iterator[str]:
    from minio.deleteobjects import DeleteObject

    name = bucket_name("mc")
    mc.make_bucket(name)
    yield name
    leftovers = [DeleteObject(o.object_name) for o in mc.list_objects(name, recursive=True)]
    assert not list(mc.remove_objects(name, leftovers))
    mc.remove_bucket(name)


def _get(mc: Any, bucket: str, key: str, **kwargs: Any) -> bytes:
    response = mc.get_object(bucket, key, **kwargs)
    try:
        return bytes(response.read())
    finally:
        response.close()
        response.release_conn()


def test_minio_bucket_lifecycle(mc: Any, endpoint: str) -> None:
    from minio.error import S3Error

    name = bucket_name("mcb")
    assert not mc.bucket_exists(name)
    mc.make_bucket(name)
    assert mc.bucket_exists(name)
    assert name in {b.name for b in mc.list_buckets()}
    mc.make_bucket(name)  # us-east-1 (legacy): re-creating a bucket you own is 200 OK

    elsewhere = _minio_client(endpoint, region="eu-west-1")
    west = bucket_name("mcw")
    elsewhere.make_bucket(west, location="eu-west-1")
    with pytest.raises(S3Error) as err:  # every other region refuses it
        elsewhere.make_bucket(west, location="eu-west-1")
    assert err.value.code == "BucketAlreadyOwnedByYou"
    elsewhere.remove_bucket(west)

    mc.put_object(name, "k", io.BytesIO(b"v"), 1)
    with pytest.raises(S3Error) as err:
        mc.remove_bucket(name)
    assert err.value.code == "BucketNotEmpty"
    mc.remove_object(name, "k")
    mc.remove_bucket(name)
    assert not mc.bucket_exists(name)


def test_minio_objects_metadata_and_listing(mc: Any, mc_bucket: str) -> None:
    from minio.error import S3Error

    b = mc_bucket
    body = payload(1024, seed=3)
    result = mc.put_object(b, "docs/readme.md", io.BytesIO(body), len(body),
                           content_type="text/markdown", metadata={"x-amz-meta-owner": "team-a"})
    assert result.etag == hashlib.md5(body).hexdigest()
    for key in ("docs/a/1.txt", "docs/a/2.txt", "docs/b.txt", "other.txt"):
        mc.put_object(b, key, io.BytesIO(key.encode()), len(key))

    stat = mc.stat_object(b, "docs/readme.md")
    assert stat.size == 1024 and stat.etag == result.etag
    assert stat.content_type == "text/markdown"
    assert stat.metadata.get("x-amz-meta-owner") == "team-a"
    assert _get(mc, b, "docs/readme.md") == body
    assert _get(mc, b, "docs/readme.md", offset=100, length=50) == body[100:150]

    # the SDK yields a page's objects, then its common prefixes
    flat = sorted((o.object_name, o.is_dir) for o in mc.list_objects(b, prefix="docs/"))
    assert flat == [("docs/a/", True), ("docs/b.txt", False), ("docs/readme.md", False)]
    deep = [o.object_name for o in mc.list_objects(b, prefix="docs/", recursive=True)]
    assert deep == ["docs/a/1.txt", "docs/a/2.txt", "docs/b.txt", "docs/readme.md"]
    sizes = {o.object_name: o.size for o in mc.list_objects(b, recursive=True)}
    assert sizes["other.txt"] == len("other.txt") and sizes["docs/readme.md"] == 1024
    # ListObjects v1 (the SDK's use_api_v1) lists the same keys
    v1 = [o.object_name for o in mc.list_objects(b, recursive=True, use_api_v1=True)]
    assert v1 == sorted(sizes)

    mc.remove_object(b, "other.txt")
    with pytest.raises(S3Error) as err:
        mc.stat_object(b, "other.txt")
    assert err.value.code in ("NoSuchKey", "ResponseCode404")  # HEAD has no error body
    with pytest.raises(S3Error) as err:
        _get(mc, b, "other.txt")
    assert err.value.code == "NoSuchKey"


def test_minio_multipart_put_and_ranged_get(mc: Any, mc_bucket: str, tmp_path: Any) -> None:
    b = mc_bucket
    data = payload(12 * MiB, seed=4)
    result = mc.put_object(b, "big.bin", io.BytesIO(data), len(data), part_size=5 * MiB)
    assert result.etag == multipart_etag(data, 5 * MiB)  # 3 parts: 5 + 5 + 2 MiB
    assert mc.stat_object(b, "big.bin").size == len(data)

    edge = 10 * MiB
    assert _get(mc, b, "big.bin", offset=edge - 1000, length=2000) == data[edge - 1000:edge + 1000]
    assert _get(mc, b, "big.bin", offset=len(data) - 1) == data[-1:]

    target = tmp_path / "big.out"
    mc.fget_object(b, "big.bin", str(target))
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_minio_copy_and_delete_many(mc: Any, mc_bucket: str) -> None:
    from minio.commonconfig import CopySource
    from minio.deleteobjects import DeleteObject

    b = mc_bucket
    mc.put_object(b, "orig", io.BytesIO(b"original"), 8, metadata={"x-amz-meta-k": "v"})
    copied = mc.copy_object(b, "copy", CopySource(b, "orig"))
    assert copied.etag == hashlib.md5(b"original").hexdigest()
    assert _get(mc, b, "copy") == b"original"
    assert mc.stat_object(b, "copy").metadata.get("x-amz-meta-k") == "v"  # COPY directive

    keys = [f"batch/{i:02d}" for i in range(20)]
    for key in keys:
        mc.put_object(b, key, io.BytesIO(b"."), 1)
    errors = list(mc.remove_objects(b, [DeleteObject(k) for k in keys[:15]] + [DeleteObject("never-was")]))
    assert errors == []  # deleting a missing key is a success in S3
    assert [o.object_name for o in mc.list_objects(b, prefix="batch/", recursive=True)] == keys[15:]
