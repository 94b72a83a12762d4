"""A sandbox's log: the function's stdout and stderr go to one regular file, and each
invocation takes what was written since the last one, framed by AWS's START, END and
REPORT lines.

A regular file, not a pipe: a write is visible as soon as write() returns, so once the
runtime has posted its response (the runtime clients flush first) everything the
invocation printed is there to read, with no reader thread racing the answer. While an
invocation runs the file is also read on the sandbox's memory-check timer, so each line
carries (about) the time it was written.

A cold start begins with INIT_START; with LoggingConfig LogFormat "JSON" the platform lines
are JSON records (platform.initStart/start/report) filtered by SystemLogLevel, and the
runtimes' own logging writes JSON filtered by ApplicationLogLevel (print() stays text).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import secrets

import orjson

from cloudlet.core import clock

#: a line the runtime wrote with "\r" for its inner newlines is one CloudWatch event
#: (AWS's runtimes do that for multi-line records such as tracebacks)
_EVENT_NEWLINE = "\r"
#: how much read output a sandbox's log file keeps before it is emptied
_KEEP_BYTES = 8 << 20


def stream_name(version: str) -> str:
    """AWS's stream name for a new execution environment: one per sandbox."""
    day = clock.now().strftime("%Y/%m/%d")
    return f"{day}/[{version}]{secrets.token_hex(16)}"


def iso_ms(epoch_ms: int) -> str:
    return dt.datetime.fromtimestamp(epoch_ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_ms() -> int:
    return int(clock.time_s() * 1000)


class LogFile:
    """The sandbox's output file and how far the invocations have read it."""

    __slots__ = ("path", "fd", "rfd", "offset")

    def __init__(self, path: str) -> None:
        self.path = path
        # O_APPEND: the sandbox and our own notes (substitution, timeouts) never overwrite each other
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        self.rfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.offset = 0

    def note(self, line: str) -> None:
        """A line of cloudlet's own in the function's log."""
        os.write(self.fd, (line.rstrip("\n") + "\n").encode("utf-8", "replace"))

    def take(self) -> str:
        """Everything written since the last take."""
        chunks = []
        while True:  # one pread when nothing was written (the common warm case)
            try:
                chunk = os.pread(self.rfd, 1 << 20, self.offset)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            self.offset += len(chunk)
            if len(chunk) < 1 << 20:
                break
        if self.offset > _KEEP_BYTES:
            # a long-lived sandbox's file would grow forever: what was read is dropped (the
            # runtime appends, so its next write lands at the new end)
            os.ftruncate(self.fd, 0)
            self.offset = 0
        return b"".join(chunks).decode("utf-8", "replace") if chunks else ""

    def close(self) -> None:
        fds, self.fd, self.rfd = (self.fd, self.rfd), -1, -1
        for fd in fds:  # once only: a closed number may already belong to another file
            if fd >= 0:
                os.close(fd)


class Invocation:
    """Collects one invocation's log events: (epoch ms, message) in order. Output is read
    while the invocation runs, so each line carries the time it was first seen; a line
    not finished yet waits (with that time) for the rest of it."""

    __slots__ = ("events", "_partial", "_partial_ms")

    def __init__(self) -> None:
        self.events: list[tuple[int, str]] = []
        self._partial = ""
        self._partial_ms = 0

    def add_output(self, text: str, at_ms: int, *, final: bool = True) -> None:
        """The function's own output: one event per line (a "\\r"-joined line is one event).
        `final`: the output is complete (a cut line is an event of its own)."""
        if text:
            if self._partial:
                text, first_ms = self._partial + text, self._partial_ms
            else:
                first_ms = at_ms
            lines = text.split("\n")  # not splitlines(): "\r" joins an event's lines
            self._partial = lines.pop()
            self._partial_ms = first_ms if len(lines) == 0 else at_ms
            for i, line in enumerate(lines):
                if line:
                    self.events.append((first_ms if i == 0 else at_ms, line.replace(_EVENT_NEWLINE, "\n")))
        if final and self._partial:
            self.events.append((self._partial_ms, self._partial.replace(_EVENT_NEWLINE, "\n")))
            self._partial = ""

    def add(self, message: str, at_ms: int) -> None:
        self.events.append((at_ms, message))

    def text(self) -> str:
        return "".join(message + "\n" for _, message in self.events)


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def billed_ms(duration_ms: float) -> int:
    """AWS bills each started millisecond."""
    return max(1, math.ceil(duration_ms))


def report_line(
    request_id: str,
    duration_ms: float,
    billed: int,
    memory_mb: int,
    used_mb: int,
    init_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {used_mb} MB",
    ]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:
        parts.append(f"Status: {status}")
        if error_type is not None:
            parts.append(f"Error Type: {error_type}")
    return "\t".join(parts)


# the runtime version and the JSON log format ----------------------------------------
#: cloudlet runs one version of each runtime (see names.runtime_version_arn)
RUNTIME_VERSION = 1
#: AWS's log levels, least severe first
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def runtime_version(runtime: str) -> str:
    """AWS's name for a runtime version: "python:3.12.v1", "nodejs:20.v1", "provided:al2023.v1"."""
    m = re.match(r"([a-z]+)\.?(.*)", runtime)
    family, rest = (m.group(1), m.group(2)) if m else (runtime, "")
    rest = rest[:-2] if rest.endswith(".x") else rest
    return f"{family}:{rest}.v{RUNTIME_VERSION}" if rest else f"{family}.v{RUNTIME_VERSION}"


def init_start_line(runtime: str, version_arn: str) -> str:
    return f"INIT_START Runtime Version: {runtime_version(runtime)}\tRuntime Version ARN: {version_arn}"


def level_allows(threshold: str, level: str) -> bool:
    """Whether a record at `level` passes a LogLevel setting of `threshold`."""
    try:
        return LEVELS.index(level) >= LEVELS.index(threshold)
    except ValueError:
        return True


def platform_record(kind: str, at_ms: int, record: dict) -> str:
    """A platform line as LogFormat JSON writes it: {"time", "type", "record"}."""
    return orjson.dumps({"time": iso_ms(at_ms), "type": f"platform.{kind}", "record": record}).decode()


def report_metrics(duration_ms: float, billed: int, memory_mb: int, used_mb: int, init_ms: float | None) -> dict:
    metrics: dict = {"durationMs": round(duration_ms, 2), "billedDurationMs": billed, "memorySizeMB": memory_mb,
                     "maxMemoryUsedMB": used_mb}
    if init_ms is not None:
        metrics["initDurationMs"] = round(init_ms, 2)
    return metrics
