"""Deployment packages: zip checks with AWS's limits, the stored zip, its unpacked tree.

A zip is kept once per content (a ``zip`` record keyed by its SHA-256 in the database's
global partition, with a reference count: $LATEST, each published version and each layer
version that uses it), as a store blob, so an acknowledged CreateFunction survives a
crash. The engine runs code from a content-addressed directory
``<data-dir>/lambda/code/<sha256 hex>/`` (layers under ``.../lambda/layers/``), unpacked
during the call that uploaded it; a directory missing after a restart (or a wiped temp
dir) is unpacked again from the blob on first use. With ``--ephemeral`` the trees live in
a temp dir owned by the gateway.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import tempfile
import threading
import uuid
import weakref
import zipfile
from dataclasses import dataclass
from typing import Any

from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.protocol.http import read_all
from cloudlet.services.lambda_ import errors

#: a zip uploaded in the request itself (AWS: 50 MB; larger ones go through S3)
MAX_DIRECT_ZIP = 50 * 1024 * 1024
#: the function and all its layers, unzipped
MAX_UNZIPPED = 262_144_000
#: the request size AWS reports for a direct upload over 50 MB (base64 of 50 MB, JSON framed)
_MAX_REQUEST = 69_905_067

ZIP = "zip"  # kind, in the ("", "") partition: sha hex -> {"blob", "size", "refs"}
UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclass(frozen=True, slots=True)
class Package:
    """A checked zip: what the configuration reports about it."""

    data: bytes
    sha_hex: str
    sha256: str  # base64, as CodeSha256
    size: int  # zipped bytes (CodeSize)
    unzipped: int


def check(data: bytes, *, operation: str, direct: bool) -> Package:
    """Validate a deployment package as AWS does (size first, then that it unzips)."""
    if direct and len(data) > MAX_DIRECT_ZIP:
        raise errors.too_large(f"Request must be smaller than {_MAX_REQUEST} bytes for the {operation} operation")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            bad = zf.testzip()
            # a path out of the package, or a symlink pointing out of it, is refused here so
            # unpacking never meets one
            if bad is None and any(_unsafe(i.filename) or _escapes(zf, i) for i in infos):
                bad = "unsafe"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError, OSError):
        raise errors.invalid(UNZIP_ERROR) from None
    if bad is not None:
        raise errors.invalid(UNZIP_ERROR)
    unzipped = sum(i.file_size for i in infos)
    if unzipped > MAX_UNZIPPED:
        raise errors.invalid(f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes")
    digest = hashlib.sha256(data)
    return Package(data, digest.hexdigest(), base64.b64encode(digest.digest()).decode(), len(data), unzipped)


def check_total(function_unzipped: int, layer_sizes: list[int]) -> None:
    """The 250 MB limit counts the function and its layers together."""
    if function_unzipped + sum(layer_sizes) > MAX_UNZIPPED:
        raise errors.invalid(
            f"Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED} bytes. "
            f"The actual size is {function_unzipped + sum(layer_sizes)} bytes."
        )


def _unsafe(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts


def _escapes(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """A symlink whose target is absolute or climbs above the package root."""
    if not stat.S_ISLNK(info.external_attr >> 16):
        return False
    link = zf.read(info).decode(errors="replace")
    if link.startswith("/"):
        return True
    depth = len([p for p in info.filename.replace("\\", "/").split("/")[:-1] if p not in ("", ".")])
    for part in link.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def fetch_s3(ctx: Any, bucket: str, key: str, version: str | None) -> bytes:
    """The object, read in process as the caller; S3's failure in AWS's Lambda wording."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        params["VersionId"] = version
    try:
        body = ctx.aws("s3").get_object(**params)["Body"]
    except ServiceError as err:
        raise errors.invalid(
            f"Error occurred while GetObject. S3 Error Code: {err.code}. S3 Error Message: {err.message}"
        ) from None
    return read_all(body)


def package_from(ctx: Any, code: dict[str, Any], *, operation: str) -> Package:
    """ZipFile or S3Bucket/S3Key[/S3ObjectVersion], whichever the request gave."""
    if code.get("ZipFile") is not None:
        return check(bytes(code["ZipFile"]), operation=operation, direct=True)
    if code.get("S3Bucket") and code.get("S3Key"):
        data = fetch_s3(ctx, code["S3Bucket"], code["S3Key"], code.get("S3ObjectVersion"))
        return check(data, operation=operation, direct=False)
    if code.get("ImageUri"):
        raise image_unsupported()
    raise errors.invalid("Please provide a source for function code.")


def image_unsupported() -> ServiceError:
    return errors.invalid(
        "cloudlet runs zip packages only: PackageType Image needs a container engine, which cloudlet does not use. "
        "Deploy the function as a .zip file archive."
    )


# -- the stored zip --------------------------------------------------------------------


def keep(tx: Tx, pkg: Package) -> None:
    """Take a reference to the package's zip, storing it the first time (inside `tx`)."""
    with tx.db.tx("", "") as g:
        rec = g.get(ZIP, pkg.sha_hex)
        if rec is None:
            blob = g.put_blob(pkg.data)
            g.put(ZIP, pkg.sha_hex, {"blob": blob, "size": pkg.size, "unzipped": pkg.unzipped, "refs": 1})
        else:
            g.put(ZIP, pkg.sha_hex, {**rec.value, "refs": rec.value["refs"] + 1})


def share(tx: Tx, sha_hex: str) -> None:
    """One more reference to a zip already kept (a published version)."""
    with tx.db.tx("", "") as g:
        rec = g.get(ZIP, sha_hex)
        if rec is not None:
            g.put(ZIP, sha_hex, {**rec.value, "refs": rec.value["refs"] + 1})


def release(tx: Tx, sha_hex: str) -> None:
    """Drop a reference; the zip's blob goes with the last one (after the commit)."""
    with tx.db.tx("", "") as g:
        rec = g.get(ZIP, sha_hex)
        if rec is None:
            return
        if rec.value["refs"] <= 1:
            g.delete(ZIP, sha_hex)
            g.drop_blob(rec.value["blob"])
        else:
            g.put(ZIP, sha_hex, {**rec.value, "refs": rec.value["refs"] - 1})


def read_zip(db: Any, sha_hex: str) -> bytes | None:
    """The zip's bytes (GetFunction's Code.Location serves them), or None if unknown."""
    with db.tx("", "") as g:
        rec = g.get(ZIP, sha_hex)
        if rec is None:
            return None
        with g.open_blob(rec.value["blob"]) as f:
            return f.read()


# -- unpacked trees ----------------------------------------------------------------------

_roots: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()
_temps: "weakref.WeakKeyDictionary[Any, tempfile.TemporaryDirectory[str]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def root(gateway: Any) -> str:
    """``<data-dir>/lambda``, or a temp dir of this gateway's own when ephemeral."""
    with _lock:
        found = _roots.get(gateway)
        if found is None:
            if gateway.config.ephemeral or not gateway.config.data_dir:
                tmp = tempfile.TemporaryDirectory(prefix="cloudlet-lambda-")
                _temps[gateway] = tmp
                found = tmp.name
            else:
                found = os.path.join(gateway.config.data_dir, "lambda")
            _roots[gateway] = found
        return found


def tree(gateway: Any, sha_hex: str, *, layer: bool = False, data: bytes | None = None) -> str:
    """The unpacked directory of a zip, unpacked now if it is missing (from `data`, or the
    stored blob)."""
    path = os.path.join(root(gateway), "layers" if layer else "code", sha_hex)
    if os.path.isdir(path):
        return path
    if data is None:
        data = read_zip(gateway.db("lambda"), sha_hex)
        if data is None:
            raise FileNotFoundError(f"no stored zip {sha_hex}")
    try:
        _unpack(data, path)
    except (FileExistsError, NotADirectoryError, IsADirectoryError, ValueError):
        # entries that cannot all exist (a file and a directory of one name): not a package
        raise errors.invalid(UNZIP_ERROR) from None
    return path


def _unpack(data: bytes, final: str) -> None:
    """Unzip into a temp dir beside `final`, then rename it into place: a reader never
    sees a half-written tree, and two unpackers of the same zip both end with one."""
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{uuid.uuid4().hex}")
    os.makedirs(tmp)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                _extract(zf, info, tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.isdir(final):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another unpacker won: same content
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: str) -> None:
    name = info.filename.replace("\\", "/")
    if _unsafe(name):
        raise ValueError(f"unsafe path in zip: {name}")
    target = os.path.join(dest, *[p for p in name.split("/") if p not in ("", ".")])
    mode = info.external_attr >> 16
    if info.is_dir() or name.endswith("/"):
        os.makedirs(target, exist_ok=True)
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if stat.S_ISLNK(mode):
        link = zf.read(info).decode()
        resolved = os.path.normpath(os.path.join(os.path.dirname(target), link))
        if os.path.isabs(link) or not (resolved + os.sep).startswith(os.path.normpath(dest) + os.sep):
            raise ValueError(f"symlink out of the package: {name} -> {link}")
        os.symlink(link, target)
        return
    with zf.open(info) as src, open(target, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    # keep the unix permission bits (a ``bootstrap`` must stay executable); zips made on
    # Windows carry none: readable by all, as Lambda treats them
    perms = stat.S_IMODE(mode) if mode else 0o644
    os.chmod(target, perms | 0o400)
