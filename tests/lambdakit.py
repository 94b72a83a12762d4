"""Deployment packages from inline source, and the small waits Lambda tests need.

A test writes its function's code as a string and gets the zip bytes a user would upload
with ``CreateFunction(Code={"ZipFile": ...})``. Files a custom runtime executes
(``bootstrap``, ``*.sh``) get the executable bit in the zip, as ``zip`` on Linux keeps it.
"""

from __future__ import annotations

import io
import json
import textwrap
import time
import zipfile
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_EXECUTABLE = 0o100755 << 16  # regular file, rwxr-xr-x, in the zip's external attributes
_PLAIN = 0o100644 << 16


def zip_files(files: Mapping[str, str | bytes], executable: tuple[str, ...] = ("bootstrap",)) -> bytes:
    """A zip of `files` (path in the package -> content); names in `executable`, and every
    ``.sh``, are marked executable. Text is dedented so tests can indent their source."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            data = textwrap.dedent(content).lstrip("\n").encode() if isinstance(content, str) else content
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = _EXECUTABLE if name in executable or name.endswith(".sh") else _PLAIN
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def python_zip(source: str, module: str = "app") -> bytes:
    """A Python package with one module; its handler is ``<module>.handler``."""
    return zip_files({f"{module}.py": source})


def node_zip(source: str, filename: str = "index.mjs") -> bytes:
    """A Node.js package with one file; ``index.handler`` for the default name."""
    return zip_files({filename: source})


def custom_runtime_zip(bootstrap: str, **scripts: str) -> bytes:
    """A ``provided.*`` package: an executable ``bootstrap`` and handler scripts
    (keyword ``function`` -> ``function.sh``)."""
    return zip_files({"bootstrap": bootstrap, **{f"{name}.sh": src for name, src in scripts.items()}})


TRUST_LAMBDA = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def execution_role(iam: Any, name: str, actions: tuple[str, ...] = ("logs:*",)) -> str:
    """An execution role Lambda may assume, allowed `actions` on everything; its ARN."""
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="work", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }))
    return arn


def eventually(check: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05,
               what: str = "the condition") -> T:
    """Call `check` until it returns something truthy, and return that; fail after `timeout`
    seconds of wall time. For effects that are asynchronous by design (a notification, a
    poller), never to wait out a timed effect: those move with the cloudlet clock."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
