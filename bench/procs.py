"""Servers under test as child processes: start, wait until they answer, read their CPU, stop.

CPU comes from /proc/<pid>/stat (utime + stime) summed over the process and all its live
descendants, so a stack that serves from a worker process (granian) is charged in full.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httptools

CLK_TCK = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode()
    except OSError:
        return None
    # comm (field 2) may hold spaces or parentheses: split after its last ')'.
    return data[data.rindex(")") + 2 :].split()


def cpu_plan(pin: str) -> tuple[set[int] | None, set[int] | None]:
    """CPU sets for (server, load generator).

    `both`: server on the first CPU, generator on the second. On a 2-core machine, left to
    itself the scheduler often puts both on one core, and then neither is saturated at 8
    connections (bench/README.md has the numbers). `loadgen`: only the generator is pinned,
    for a multi-threaded server that may use the other core. `none`: no pinning.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if pin == "none" or len(cpus) < 2:
        return None, None
    if pin == "loadgen":
        return None, {cpus[1]}
    if pin == "both":
        return {cpus[0]}, {cpus[1]}
    raise ValueError(f"unknown pin plan {pin!r}")


def pinned(cpus: set[int] | None) -> Callable[[], None] | None:
    """A preexec_fn that pins the child (and so everything it starts) to `cpus`."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def process_tree(root: int) -> list[int]:
    """`root` and every live descendant."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """utime + stime of `root` and its descendants, in seconds (resolution: one clock tick)."""
    ticks = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields is not None:  # fields[11], [12] are stat fields 14 and 15: utime, stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all CPUs, from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest time is already counted inside user time
    return (sum(fields[:8]) - idle) / CLK_TCK


def wait_quiet(limit: float, threshold_pct: float = 15.0, window: float = 0.5) -> float:
    """Wait (at most `limit` s) until the machine is under `threshold_pct` of one core busy.

    This machine is shared; a run that starts while other work is running measures that
    work too. Returns the seconds waited.
    """
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        before = machine_busy_seconds()
        time.sleep(window)
        if 100 * (machine_busy_seconds() - before) / window < threshold_pct:
            break
    return time.perf_counter() - start


@dataclass
class Reply:
    status: int
    body: bytes
    keep_alive: bool = True  # False: the server closes this connection after the reply


class _ReplyParser:
    def __init__(self) -> None:
        self.body = bytearray()
        self.complete = False

    def on_body(self, data: bytes) -> None:
        self.body.extend(data)

    def on_message_complete(self) -> None:
        self.complete = True


def exchange(sock: socket.socket, raw: bytes) -> Reply:
    """Send one request on an open keep-alive socket and read exactly one response."""
    sock.sendall(raw)
    state = _ReplyParser()
    parser = httptools.HttpResponseParser(state)
    while not state.complete:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection mid-response")
        parser.feed_data(data)
    return Reply(parser.get_status_code(), bytes(state.body), parser.should_keep_alive())


def request_once(port: int, raw: bytes, timeout: float = 5.0) -> Reply:
    """One request on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        return exchange(sock, raw)


def get_request(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


@dataclass
class Server:
    """A server under test. `ready_status=None` means any HTTP answer shows it is up."""

    name: str
    argv: list[str]
    port: int
    ready_path: str = "/_cloudlet/health"
    ready_status: int | None = 200
    env: dict[str, str] = field(default_factory=dict)
    cpus: set[int] | None = None  # CPU affinity for the whole tree (children inherit it)
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    log: Path | None = None

    def start(self) -> None:
        fd, log = tempfile.mkstemp(prefix=f"bench-{self.name}-", suffix=".log")
        self.log = Path(log)
        env = {**os.environ, "PYTHONPATH": _pythonpath(), **self.env}
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdout=fd, stderr=fd, stdin=subprocess.DEVNULL,
                                     env=env, cwd=REPO, start_new_session=True,
                                     preexec_fn=pinned(self.cpus))
        os.close(fd)

    def poll_until(self, raw: bytes, status: int | None, timeout: float = 60.0) -> float:
        """Seconds from process start until `raw` gets an answer (with `status` if given)."""
        assert self.proc is not None
        deadline = time.perf_counter() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                reply = request_once(self.port, raw, timeout=max(0.1, deadline - time.perf_counter()))
                if status is None or reply.status == status:
                    return time.perf_counter() - self.started_at
            except (ConnectionError, OSError):
                pass
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.002)

    def wait_ready(self, timeout: float = 60.0) -> float:
        return self.poll_until(get_request(self.ready_path, self.port), self.ready_status, timeout)

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        return tree_cpu_seconds(self.proc.pid)

    def log_tail(self, lines: int = 30) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's own process group, SIGKILL if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        if self.log is not None:
            self.log.unlink(missing_ok=True)
        self.proc = None

    def __enter__(self) -> "Server":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pythonpath() -> str:
    """The repo root (for `bench.*`) ahead of whatever the caller had."""
    parts = [str(REPO), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in parts if p)


# --- the servers we know how to start -------------------------------------------------------


def bare(stack: str, port: int) -> Server:
    """The hello-world ceiling under `stack` (uvicorn or granian)."""
    return Server(f"bare-{stack}", [sys.executable, "-m", "bench.serve_asgi", stack,
                                    "bench.bare_app:app", "--port", str(port)], port)


def cloudlet_cli(port: int, extra: list[str] | None = None) -> Server:
    """cloudlet as a user starts it; `extra` adds serve flags (e.g. --verify-signatures)."""
    return Server("cloudlet", [sys.executable, "-m", "cloudlet", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--ephemeral", *(extra or [])], port)


def cloudlet_on(stack: str, port: int) -> Server:
    """cloudlet's ASGI factory under a stack of our choosing, to compare with the ceiling 1:1."""
    return Server(f"cloudlet-{stack}", [sys.executable, "-m", "bench.serve_asgi", stack,
                                        "cloudlet.server.app:create_app", "--factory",
                                        "--port", str(port)], port)


def moto(port: int) -> Server:
    """moto's standalone server, the second baseline. Any answer on / means it is up."""
    exe = [sys.executable, "-c", "from moto.server import main; main()"]
    return Server("moto", [*exe, "-H", "127.0.0.1", "-p", str(port)], port,
                  ready_path="/", ready_status=None)


def moto_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("moto", "flask", "flask_cors", "werkzeug"))
