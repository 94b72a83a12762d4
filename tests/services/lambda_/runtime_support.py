"""Helpers for the runtime engine's tests: a code dir from source text, a SandboxSpec for it."""

from __future__ import annotations

import os
import sys
import textwrap
import time
import uuid
from typing import Any

from cloudlet.services.lambda_.runtime import Engine, Result, SandboxSpec

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
#: the interpreter running the tests is always there, so the tests ask for its version
PYTHON = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def fake_credentials() -> tuple[str, str, str]:
    return ("ASIAFAKEKEY", "fake-secret", "fake-token")


def gone(pid: int, timeout: float = 3.0) -> bool:
    """Whether the process `pid` has ended within `timeout` seconds (signal 0 only asks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def spare_for(engine: Engine, runtime: str, timeout: float = 3.0) -> Any:
    """The interpreter's spare runtime once the engine has started it (None if it never does)."""
    key = (engine.interpreter(runtime).path, False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spare = engine._spares.get(key)
        if spare is not None:
            return spare
        time.sleep(0.01)
    return None


def code(tmp_path: Any, files: dict[str, str], mode: dict[str, int] | None = None) -> str:
    root = tmp_path / f"code-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        if mode and name in mode:
            os.chmod(path, mode[name])
    return str(root)


def spec(code_dir: str, *, name: str | None = None, runtime: str = PYTHON, handler: str = "app.handler",
         timeout_s: int = 3, memory_mb: int = 128, env: dict[str, str] | None = None,
         layers: tuple[str, ...] = ()) -> SandboxSpec:
    name = name or f"f-{uuid.uuid4().hex[:8]}"
    return SandboxSpec(
        key=f"{ARN}{name}:$LATEST#{uuid.uuid4().hex[:6]}", function_name=name, function_arn=ARN + name,
        version="$LATEST", account=ACCOUNT, region="us-east-1", runtime=runtime, handler=handler,
        code_dir=code_dir, layer_dirs=layers, environment=tuple((env or {}).items()), memory_mb=memory_mb,
        timeout_s=timeout_s, ephemeral_storage_mb=512, role_arn=f"arn:aws:iam::{ACCOUNT}:role/r",
        log_group=f"/aws/lambda/{name}", architecture="x86_64", credentials=fake_credentials,
    )


def invoke(engine: Engine, s: SandboxSpec, payload: bytes = b"{}", **kw: Any) -> Result:
    return engine.invoke(s, payload, request_id=str(uuid.uuid4()), invoked_arn=s.function_arn, **kw)
