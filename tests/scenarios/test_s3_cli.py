"""S3 through the AWS CLI (v1, `python -m awscli`), the way people move files around.

`aws s3 cp` and `aws s3 sync` go through s3transfer: multipart above 8 MiB (the CLI's
default threshold and part size), ranged GETs on the way down, CRC32 trailing checksums
in aws-chunked bodies on the way up. The tests compare what comes back byte for byte and
check what the server holds with boto3.

Each CLI start costs about half a second, so every command does as much as it can.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloud import Cloud
from tests.s3util import payload

MiB = 2**20
ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def multipart_etag(data: bytes, part_size: int = 8 * MiB) -> str:
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    return f'"{hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()}-{len(parts)}"'


class AwsCli:
    def __init__(self, cloud: Cloud) -> None:
        self.endpoint = cloud.endpoint

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(ENV)
        if args[0] == "s3" and args[1] in ("cp", "sync", "mv"):
            args = (*args, "--no-progress")  # keep the per-file lines only
        proc = subprocess.run([sys.executable, "-m", "awscli", *args, "--endpoint-url", self.endpoint],
                              capture_output=True, text=True, env=env, timeout=120)
        if check and proc.returncode != 0:
            if "NotImplemented" in proc.stderr:
                feature = "multipart upload" if "Multipart" in proc.stderr or "UploadPart" in proc.stderr else "an S3 operation"
                pytest.xfail(f"{feature} not landed yet: {proc.stderr.strip()[-300:]}")
            raise AssertionError(f"aws {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc


@pytest.fixture(scope="module")
def aws(cloud: Cloud) -> AwsCli:
    return AwsCli(cloud)


@pytest.fixture
def s3(cloud: Cloud) -> Any:
    return cloud.client("s3")


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = f"cli-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)  # boto3: one CLI start fewer per test (`mb` has its own test)
    yield name
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        return  # the test removed it
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        if page.get("Contents"):
            s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]], "Quiet": True})
    try:
        uploads = s3.list_multipart_uploads(Bucket=name).get("Uploads", [])
    except ClientError:  # multipart not landed: nothing can be in progress
        uploads = []
    for up in uploads:  # a failed multipart test may leave one behind
        s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
    s3.delete_bucket(Bucket=name)


def test_cp_a_small_file_both_ways(aws: AwsCli, s3: Any, bucket: str, tmp_path: Any) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes(b"small file\n" * 100)
    out = aws.run("s3", "cp", str(src), f"s3://{bucket}/in/notes.txt", "--content-type", "text/plain",
                  "--metadata", "origin=laptop,team=data")
    assert out.stdout.startswith("upload: ") and out.stdout.rstrip().endswith(f"notes.txt to s3://{bucket}/in/notes.txt")
    head = s3.head_object(Bucket=bucket, Key="in/notes.txt")
    assert head["ContentLength"] == 1100 and head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"origin": "laptop", "team": "data"}
    assert head["ETag"] == f'"{hashlib.md5(src.read_bytes()).hexdigest()}"'

    dst = tmp_path / "back.txt"
    aws.run("s3", "cp", f"s3://{bucket}/in/notes.txt", str(dst))
    assert dst.read_bytes() == src.read_bytes()

    # from stdin and to stdout ("-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | ENV
    up = subprocess.run([sys.executable, "-m", "awscli", "s3", "cp", "-", f"s3://{bucket}/piped.bin", "--endpoint-url", aws.endpoint],
                        input=b"from a pipe", capture_output=True, env=env, timeout=60)
    assert up.returncode == 0, up.stderr
    down = subprocess.run([sys.executable, "-m", "awscli", "s3", "cp", f"s3://{bucket}/piped.bin", "-", "--endpoint-url", aws.endpoint],
                          capture_output=True, env=env, timeout=60)
    assert down.returncode == 0 and down.stdout == b"from a pipe", down.stderr


def test_cp_a_20_mib_file_both_ways(aws: AwsCli, s3: Any, bucket: str, tmp_path: Any) -> None:
    data = payload(20 * MiB, seed=1)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    aws.run("s3", "cp", str(src), f"s3://{bucket}/big/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big/big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag(data)  # 8 + 8 + 4 MiB parts: "-3"

    dst = tmp_path / "big-back.bin"
    aws.run("s3", "cp", f"s3://{bucket}/big/big.bin", str(dst))  # ranged GETs, reassembled by the CLI
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()
    # and an S3 to S3 copy of it (UploadPartCopy above the threshold)
    aws.run("s3", "cp", f"s3://{bucket}/big/big.bin", f"s3://{bucket}/big/copy.bin")
    got = s3.get_object(Bucket=bucket, Key="big/copy.bin")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


TREE = {
    "README.md": b"# project\n",
    "empty.txt": b"",
    "src/main.py": b"print('hello')\n",
    "src/pkg/__init__.py": b"",
    "src/pkg/deep/er/module.py": b"x = 1\n" * 1000,
    "docs/user guide.pdf": payload(70_000, seed=2),  # spaces; past the inline limit
    "docs/caf\u00e9 \u65e5\u672c\u8a9e/r\u00e9sum\u00e9.txt": "unicode all the way\n".encode(),
    "data/big.bin": payload(9 * MiB, seed=3),  # past the CLI's 8 MiB threshold: multipart
    "data/with+plus & amp.csv": b"a,b\n1,2\n",
}


def write_tree(root: Any, tree: dict[str, bytes]) -> None:
    """Files dated a few seconds back: S3's LastModified has whole seconds, so a file
    uploaded in the second it was written would look newer than its upload to `sync`
    (unless another test has moved the shared server's clock ahead)."""
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        past = path.stat().st_mtime - 5
        os.utime(path, (past, past))


def tree_of(root: Any) -> dict[str, bytes]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            full = os.path.join(dirpath, f)
            with open(full, "rb") as fh:
                out[os.path.relpath(full, root).replace(os.sep, "/")] = fh.read()
    return out


def test_sync_a_tree_up_and_back_down(aws: AwsCli, s3: Any, bucket: str, tmp_path: Any) -> None:
    up_dir, down_dir = tmp_path / "up", tmp_path / "down"
    write_tree(up_dir, TREE)
    down_dir.mkdir()

    first = aws.run("s3", "sync", str(up_dir), f"s3://{bucket}/backup")
    assert first.stdout.count("upload:") == len(TREE)
    keys = {o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])}
    assert keys == {f"backup/{rel}" for rel in TREE}
    assert s3.head_object(Bucket=bucket, Key="backup/empty.txt")["ContentLength"] == 0
    assert s3.head_object(Bucket=bucket, Key="backup/data/big.bin")["ETag"] == multipart_etag(TREE["data/big.bin"])

    aws.run("s3", "sync", f"s3://{bucket}/backup", str(down_dir))
    assert tree_of(down_dir) == TREE
    match, mismatch, errors = filecmp.cmpfiles(up_dir, down_dir, list(TREE), shallow=False)
    assert sorted(match) == sorted(TREE) and not mismatch and not errors

    # sync compares size and modification time: nothing changed, nothing moves
    again = aws.run("s3", "sync", str(up_dir), f"s3://{bucket}/backup")
    assert "upload:" not in again.stdout, again.stdout
    # one changed file (another size) and one deleted: --delete mirrors both
    (up_dir / "src" / "main.py").write_bytes(b"print('changed')\n")
    (up_dir / "README.md").unlink()
    third = aws.run("s3", "sync", str(up_dir), f"s3://{bucket}/backup", "--delete")
    assert third.stdout.count("upload:") == 1 and third.stdout.count("delete:") == 1, third.stdout
    assert s3.get_object(Bucket=bucket, Key="backup/src/main.py")["Body"].read() == b"print('changed')\n"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="backup/README.md")


def test_mb_ls_rm_and_rb(aws: AwsCli, s3: Any) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:12]}"
    assert aws.run("s3", "mb", f"s3://{bucket}").stdout.strip() == f"make_bucket: {bucket}"
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None  # us-east-1
    for key in ["top.txt", "a/one.txt", "a/two.txt", "a/b/three.txt", "c d/four.txt"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    top = aws.run("s3", "ls", f"s3://{bucket}").stdout.splitlines()
    pres = sorted(line.split("PRE ", 1)[1] for line in top if "PRE " in line)
    files = sorted(line.split()[-1] for line in top if "PRE " not in line)
    assert pres == ["a/", "c d/"] and files == ["top.txt"]
    rec = aws.run("s3", "ls", f"s3://{bucket}", "--recursive", "--summarize").stdout
    listed = sorted(line.split(maxsplit=3)[3] for line in rec.splitlines() if line[:4].isdigit())
    assert listed == sorted(["top.txt", "a/one.txt", "a/two.txt", "a/b/three.txt", "c d/four.txt"])
    assert "Total Objects: 5" in rec
    assert f"Total Size: {sum(len(k) for k in listed)}" in rec

    removed = aws.run("s3", "rm", f"s3://{bucket}/a/", "--recursive").stdout
    assert removed.count("delete:") == 3
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert left == ["c d/four.txt", "top.txt"]

    # rb refuses a bucket with objects in it unless --force
    refused = aws.run("s3", "rb", f"s3://{bucket}", check=False)
    assert refused.returncode != 0 and "BucketNotEmpty" in refused.stderr
    aws.run("s3", "rb", f"s3://{bucket}", "--force")
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_s3api_put_head_get_with_metadata(aws: AwsCli, bucket: str, tmp_path: Any) -> None:
    body = tmp_path / "report.json"
    body.write_bytes(b'{"total": 42}')
    put = json.loads(aws.run(
        "s3api", "put-object", "--bucket", bucket, "--key", "reports/2024/q1.json", "--body", str(body),
        "--content-type", "application/json", "--cache-control", "max-age=60",
        "--metadata", "author=ana,quarter=Q1", "--output", "json",
    ).stdout)
    assert put["ETag"] == f'"{hashlib.md5(body.read_bytes()).hexdigest()}"'
    assert put["ServerSideEncryption"] == "AES256"

    head = json.loads(aws.run("s3api", "head-object", "--bucket", bucket, "--key", "reports/2024/q1.json",
                              "--output", "json").stdout)
    assert head["ContentLength"] == 13 and head["ContentType"] == "application/json"
    assert head["CacheControl"] == "max-age=60" and head["Metadata"] == {"author": "ana", "quarter": "Q1"}
    assert head["ETag"] == put["ETag"]

    out = tmp_path / "fetched.json"
    got = json.loads(aws.run("s3api", "get-object", "--bucket", bucket, "--key", "reports/2024/q1.json",
                             "--range", "bytes=1-7", str(out), "--output", "json").stdout)
    assert out.read_bytes() == b'"total"' and got["ContentRange"] == "bytes 1-7/13"
    assert got["Metadata"] == {"author": "ana", "quarter": "Q1"}
