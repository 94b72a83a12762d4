"""Starting a runtime's process: in its own session (its process group is killed as one),
dying with cloudlet even on kill -9 (PR_SET_PDEATHSIG), and, for Python, from a spare
started ahead of need."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from typing import Callable

import orjson

from .interpreters import Interpreter
from .model import SandboxSpec

BOOTSTRAP_DIR = os.path.join(os.path.dirname(__file__), "bootstrap")


class StartFailed(Exception):
    """The runtime could not be started at all (no bootstrap, not executable)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _preexec(parent: int) -> Callable[[], None] | None:
    """Make the sandbox die with cloudlet even on kill -9 (Linux: PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)  # loaded here, before the fork
    prctl = libc.prctl

    def run() -> None:
        prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # cloudlet died before the line above ran
            os._exit(1)

    return run


_PREEXEC: list[Callable[[], None] | None] = []
_SETPRIV: list[str | None] = []


def _preexec_fn() -> Callable[[], None] | None:
    if not _PREEXEC:
        _PREEXEC.append(_preexec(os.getpid()))
    return _PREEXEC[0]


def _setpriv() -> str | None:
    """util-linux's setpriv sets the parent-death signal and execs the runtime. Preferred to
    a preexec_fn, which forces a full fork of the server (measured: ~38 ms against ~0.2 ms
    for a 300 MB process) where subprocess otherwise uses vfork."""
    if not _SETPRIV:
        path = shutil.which("setpriv") if sys.platform.startswith("linux") else None
        if path is not None:
            try:
                ok = subprocess.run([path, "--pdeathsig", "KILL", "--", "true"], capture_output=True, timeout=5)
                path = path if ok.returncode == 0 else None
            except (OSError, subprocess.SubprocessError):
                path = None
        _SETPRIV.append(path)
    return _SETPRIV[0]


def spawn_options(argv: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    setpriv = _setpriv()
    if setpriv is not None:
        return [setpriv, "--pdeathsig", "KILL", "--", *argv], None
    return argv, _preexec_fn()


def python_argv(interp: Interpreter) -> list[str]:
    # a found interpreter's site-packages are the host's, not AWS's: -S keeps them out (a
    # function that imports what it did not ship fails here as it would on AWS) and saves
    # the site import; a configured one (a venv, say) keeps its packages
    flag = "-s" if interp.configured else "-S"
    return [interp.path, flag, os.path.join(BOOTSTRAP_DIR, "python_runtime.py")]


def can_use_spare(spec: SandboxSpec, interp: Interpreter) -> bool:
    """A spare started before the function's PYTHON*/NODE_* variables were known would
    ignore them (PYTHONPATH/NODE_PATH aside, which the assignment carries): those get a
    fresh process."""
    prefix = {"python": "PYTHON", "node": "NODE_"}.get(interp.kind)
    return prefix is not None and not any(name.startswith(prefix) for name, _ in spec.environment)


def node_argv(interp: Interpreter) -> list[str]:
    return [interp.path, os.path.join(BOOTSTRAP_DIR, "node_runtime.js")]


def spawn_spare(interp: Interpreter, log_dir: str) -> subprocess.Popen[bytes]:
    """A runtime started ahead of need: its interpreter up and its imports done, it waits
    on stdin for the sandbox it is to become (measured: a cold start of a trivial Python
    function drops from ~40 ms to a few ms). Node cannot move its stdout once started, so
    a Node spare writes to a file of its own from the start, which becomes the sandbox's
    log file (``cloudlet_log`` on the Popen: the sandbox renames it into place)."""
    env = {"LANG": "en_US.UTF-8", "TZ": ":UTC", "PATH": "/usr/local/bin:/usr/bin:/bin"}
    if interp.kind == "node":
        log_path = os.path.join(log_dir, f"spare-{os.urandom(8).hex()}.log")
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            command, preexec = spawn_options([*node_argv(interp), "--spare"])
            spare = subprocess.Popen(command, env=env, cwd="/", stdin=subprocess.PIPE, stdout=fd, stderr=fd,
                                     start_new_session=True, preexec_fn=preexec, close_fds=True)
        except OSError:
            os.unlink(log_path)
            raise
        finally:
            os.close(fd)
        spare.cloudlet_log = log_path  # type: ignore[attr-defined]
        return spare
    env.update(PYTHONUNBUFFERED="1", PYTHONNOUSERSITE="1")
    command, preexec = spawn_options([*python_argv(interp), "--spare"])
    return subprocess.Popen(command, env=env, cwd="/", stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=preexec, close_fds=True)


def assign(spare: subprocess.Popen[bytes], env: dict[str, str], cwd: str, log_path: str) -> bool:
    """Tell a spare what to become; False if it is gone (then a fresh process is started)."""
    if spare.poll() is not None or spare.stdin is None:
        return False
    job = {"env": env, "cwd": cwd, "log": log_path, "path": [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]}
    try:
        spare.stdin.write(orjson.dumps(job) + b"\n")
        spare.stdin.close()
    except OSError:
        kill_spare(spare)
        return False
    return True


def kill_spare(spare: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(spare.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        spare.wait(1)
    except subprocess.TimeoutExpired:
        pass
    log_path = getattr(spare, "cloudlet_log", None)
    if log_path:  # a Node spare's own file, unless a sandbox took it
        try:
            os.unlink(log_path)
        except OSError:
            pass


def exec_line(path: str) -> list[str]:
    """How to run a custom runtime's bootstrap. Zips do not always keep the executable
    bit, so a script whose bit was lost still runs through its #! line."""
    if os.access(path, os.X_OK):
        return [path]
    try:
        with open(path, "rb") as f:
            first = f.readline(256)
    except OSError as err:
        raise StartFailed("Runtime.InvalidEntrypoint", f"fork/exec {path}: {err.strerror}") from None
    if first.startswith(b"#!"):
        parts = first[2:].decode("utf-8", "replace").strip().split(None, 1)
        if parts:
            return [*parts, path]
    raise StartFailed("Runtime.InvalidEntrypoint", f"fork/exec {path}: permission denied")
