"""One execution environment: a process group running the function's runtime, its own
Runtime API port, its log file, its scratch HOME/TMPDIR. It serves one invocation at a
time; everything here runs on the engine's event loop thread.

What AWS's sandbox does that a local process cannot: no /opt (layers go on the search
paths instead, see ``env``), no read-only root, no network isolation, and Max Memory Used
is the runtime process's own high-water mark (children are not counted).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from cloudlet.core import clock
from cloudlet.services.lambda_.names import runtime_version_arn

from . import env as envmod
from . import logs, runtimeapi
from .interpreters import Interpreter
from .model import Result, SandboxSpec
from .spawn import StartFailed, assign, exec_line, kill_spare, node_argv, python_argv, spawn_options

#: how long a runtime may take to initialize before the invocation's own timeout starts
#: counting too (AWS: 10 s, then init is retried inside the invocation)
INIT_LIMIT_S = 10.0
#: how often a running invocation's memory is checked against MemorySize
MEMORY_CHECK_S = 0.1

_SIGNAL_WORDS = {  # how AWS (Go's os/exec) words a signal death
    signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted", signal.SIGBUS: "bus error", signal.SIGILL: "illegal instruction",
    signal.SIGFPE: "floating point exception", signal.SIGINT: "interrupt", signal.SIGHUP: "hangup",
}


@dataclass(slots=True)
class Call:
    """One invocation in flight on a sandbox."""

    request_id: str
    payload: bytes
    invoked_arn: str
    client_context: str | None
    outcome: asyncio.Future[tuple[Any, ...]]
    delivered_at: float | None = None  # perf_counter when the runtime got the event
    delivered_ms: int = 0  # the same moment on the cloudlet clock
    answered: bool = False
    timer: asyncio.TimerHandle | None = None  # the invocation's timeout, from delivery
    memory_timer: asyncio.TimerHandle | None = None
    events: logs.Invocation = field(default_factory=logs.Invocation)
    trace_id: str | None = None  # the caller's X-Ray header (Lineage); None: a fresh one


class Sandbox:
    """Implements runtimeapi.Handler for its own port."""

    def __init__(self, spec: SandboxSpec, interp: Interpreter, *, root: str, sdk: str, pycache: str,
                 endpoint_url: str, on_dead: Callable[["Sandbox"], None]) -> None:
        self.spec = spec
        self.interp = interp
        self.id = secrets.token_hex(8)
        self.dir = os.path.join(root, self.id)
        self.sdk = sdk
        self.pycache = pycache
        self.endpoint_url = endpoint_url
        self.on_dead = on_dead
        self.log_stream = logs.stream_name(spec.version)
        self.loop = asyncio.get_running_loop()
        self.proc: subprocess.Popen[bytes] | None = None
        self.server: asyncio.AbstractServer | None = None
        self.log: logs.LogFile | None = None
        self.pidfd: int | None = None
        self.started_at = 0.0
        self.ready = False  # the runtime asked for its first event
        self.init_ms: float | None = None
        self.init_start_ms = 0  # when init began, on the cloudlet clock (INIT_START)
        self.json_logs = spec.logging_value("LogFormat") == "JSON"
        self.system_level = spec.logging_value("SystemLogLevel", "INFO")
        self.init_reported = False  # the cold start's Init Duration went into a REPORT
        self.parked: runtimeapi.Connection | None = None
        self.call: Call | None = None
        self.init_failure: tuple[Any, ...] | None = None
        self.last_answered = ""  # a late second answer to it is a 403, not an unknown id
        self.dead = False
        self.exit_status: int | None = None
        self.retired = False
        self.idle_since = time.monotonic()
        self.invocations = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    # life cycle --------------------------------------------------------------------
    async def start(self, spare: subprocess.Popen[bytes] | None = None) -> None:
        """Start the runtime: a new process, or `spare` (a Python runtime started ahead of
        need, see ``spawn_spare``) told what to become."""
        os.makedirs(os.path.join(self.dir, "home", "tmp"), exist_ok=True)
        log_path = os.path.join(self.dir, "output.log")
        spare_log = getattr(spare, "cloudlet_log", None)
        if spare is not None and spare_log:
            # a Node spare has written to its own file from the start: it becomes this log
            try:
                os.rename(spare_log, log_path)
                spare.cloudlet_log = None  # type: ignore[union-attr]
            except OSError:
                kill_spare(spare)
                spare = None
        self.log = logs.LogFile(log_path)
        self.init_start_ms = logs.now_ms()
        if self.interp.note:
            self.log.note(self.interp.note)
        try:
            await self._launch(spare)
        except BaseException:
            if spare is not None and self.proc is not spare:
                kill_spare(spare)
            self._died()
            raise

    async def _launch(self, spare: subprocess.Popen[bytes] | None) -> None:
        self.server, port = await runtimeapi.serve(self.loop, self)
        argv = self._argv()
        # the role's keys may come from STS inside cloudlet: not on this loop, which serves
        # every sandbox's Runtime API
        credentials = await self.loop.run_in_executor(None, self.spec.credentials)
        if self.retired:  # stopped (engine shutdown) while starting
            raise StartFailed("Runtime.ExitError", "Runtime exited with error: signal: killed")
        env = envmod.build(
            self.spec, self.interp, runtime_api=f"127.0.0.1:{port}", log_stream=self.log_stream,
            home=os.path.join(self.dir, "home"), sdk=self.sdk, pycache=self.pycache, endpoint_url=self.endpoint_url,
            credentials=credentials,
        )
        assert self.log is not None
        self.started_at = time.perf_counter()
        if spare is not None and assign(spare, env, self.spec.code_dir, self.log.path):
            self.proc = spare
        else:
            self.proc = self._spawn(argv, env)
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
            self.loop.add_reader(self.pidfd, self._exited)
        except (AttributeError, OSError):  # no pidfd (not Linux): look now and then
            self.pidfd = None
            self.loop.call_later(0.05, self._poll_exit)

    def _spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        assert self.log is not None
        command, preexec = spawn_options(argv)
        try:
            return subprocess.Popen(
                command, env=env, cwd=self.spec.code_dir, stdin=subprocess.DEVNULL, stdout=self.log.fd,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec, close_fds=True,
            )
        except OSError as err:
            raise StartFailed("Runtime.InvalidEntrypoint", f"fork/exec {argv[0]}: {(err.strerror or str(err)).lower()}") from None

    def _argv(self) -> list[str]:
        kind = self.interp.kind
        if kind == "python":
            return python_argv(self.interp)
        if kind == "node":
            return node_argv(self.interp)
        candidates = [os.path.join(self.spec.code_dir, "bootstrap")]
        candidates += [os.path.join(d, "bootstrap") for d in self.spec.layer_dirs]
        for path in candidates:
            if os.path.isfile(path):
                return exec_line(path)
        raise StartFailed("Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{' '.join(candidates)}]")

    def kill(self) -> None:
        """Kill the whole process group now; the exit is noticed through the pidfd."""
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is None:
            self._died()

    def stop(self) -> None:
        self.retired = True
        self.kill()

    def stop_now(self, timeout: float) -> None:
        """Kill and reap at once (the loop is about to stop: no exit notice will come)."""
        self.stop()
        if self.proc is not None and not self.dead:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return
            self._exited()

    def _poll_exit(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.loop.call_later(0.05, self._poll_exit)
            return
        self._exited()

    def _exited(self) -> None:
        if self.pidfd is not None:
            self.loop.remove_reader(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        assert self.proc is not None
        self.exit_status = self.proc.wait()
        try:  # what the runtime left behind goes with it
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        call = self.call
        if call is not None and not call.outcome.done():
            call.outcome.set_result(("exit", self.exit_status))
        self._died()

    def _died(self) -> None:
        if self.dead:
            return
        self.dead = True
        self.parked = None
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.call is None:  # else the invocation still reads the log: cleaned up after it
            self._cleanup()
        self.on_dead(self)

    def _cleanup(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.log is not None:
            self.log.close()
        if self.loop.is_running():
            # what the function left in its TMPDIR may be large: not on the loop (what a
            # shutdown leaves is removed with the engine's root, or at the next start)
            self.loop.run_in_executor(None, shutil.rmtree, self.dir, True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # invoking --------------------------------------------------------------------------
    async def invoke(self, request_id: str, payload: bytes, invoked_arn: str, client_context: str | None,
                     trace_id: str | None = None) -> Result:
        call = Call(request_id, payload, invoked_arn, client_context, self.loop.create_future(), trace_id=trace_id)
        self.call = call
        self.invocations += 1
        cold = not self.init_reported
        if cold:
            self._platform(call, "initStart", self.init_start_ms)
        timers: list[asyncio.TimerHandle] = []
        if self.init_failure is not None:
            call.outcome.set_result(self.init_failure)
        elif self.dead:
            call.outcome.set_result(("exit", self.exit_status))
        elif self.parked is not None:
            self._deliver(self.parked)
        if not self.ready:
            # the invocation's clock starts at delivery, or once init has had its 10 s
            timers.append(self.loop.call_later(INIT_LIMIT_S + self.spec.timeout_s, self._timed_out, call))
        call.memory_timer = self.loop.call_later(MEMORY_CHECK_S, self._check_memory, call)
        try:
            outcome = await call.outcome
        finally:
            call.answered = True
            for t in timers:
                t.cancel()
            for timer in (call.timer, call.memory_timer):
                if timer is not None:
                    timer.cancel()
        try:
            result = self._result(call, outcome, cold)
        finally:
            self.call = None
            self.last_answered = call.request_id
            if self.dead:  # the files were kept for this result
                self._cleanup()
        if cold:
            self.init_reported = True
        self.idle_since = time.monotonic()
        return result

    def _deliver(self, conn: runtimeapi.Connection) -> None:
        call = self.call
        assert call is not None
        self.parked = None
        call.delivered_at = time.perf_counter()
        call.delivered_ms = logs.now_ms()
        if self.log is not None:  # what ran before this event (init, stray threads) goes before START
            call.events.add_output(self.log.take(), call.delivered_ms)
        self._platform(call, "start", call.delivered_ms)
        # the runtime compares the deadline with its own wall clock, so it is wall time
        deadline = int(time.time() * 1000) + self.spec.timeout_s * 1000
        headers = [
            ("Lambda-Runtime-Aws-Request-Id", call.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", call.invoked_arn),
            ("Lambda-Runtime-Trace-Id", call.trace_id or _trace_id()),
        ]
        client_context = _client_context(call.client_context)
        if client_context is not None:
            headers.append(("Lambda-Runtime-Client-Context", client_context))
        conn.reply_next(headers, call.payload)
        call.timer = self.loop.call_later(self.spec.timeout_s, self._timed_out, call)

    def _timed_out(self, call: Call) -> None:
        if not call.outcome.done():
            call.outcome.set_result(("timeout",))
            self.stop()  # retired at once: it must not go back to the pool before its exit is seen

    def _check_memory(self, call: Call) -> None:
        if call.outcome.done() or self.proc is None:
            return
        if call.delivered_at is not None and self.log is not None:
            # output is read as it comes, so each line keeps the time it was written (this
            # timer runs only while an invocation does)
            call.events.add_output(self.log.take(), logs.now_ms(), final=False)
        rss = _proc_kb(self.proc.pid, "VmRSS:")
        if rss is not None and rss > self.spec.memory_mb * 1024:
            call.outcome.set_result(("oom",))
            self.stop()
            return
        call.memory_timer = self.loop.call_later(MEMORY_CHECK_S, self._check_memory, call)

    # the Runtime API (runtimeapi.Handler) --------------------------------------------
    def next(self, conn: runtimeapi.Connection) -> None:
        if not self.ready:
            self.ready = True
            self.init_ms = (time.perf_counter() - self.started_at) * 1000
        call = self.call
        if call is not None and call.delivered_at is None and not call.outcome.done():
            self._deliver(conn)
        else:
            self.parked = conn

    def gone(self, conn: runtimeapi.Connection) -> None:
        if self.parked is conn:
            self.parked = None

    def _current(self, request_id: str) -> Call | tuple[int, bytes]:
        call = self.call
        if call is not None and call.request_id == request_id and call.delivered_at is not None:
            if call.outcome.done():
                return 403, _already_answered()
            return call
        # retries of an event invocation reuse its request id: only a late answer to the
        # previous invocation, while none with that id is in flight, is refused as such
        if request_id == self.last_answered:
            return 403, _already_answered()
        return 400, runtimeapi.error_body("InvalidRequestID", f"Invalid request ID: {request_id}")

    def response(self, request_id: str, body: bytes, too_large: bool) -> tuple[int, bytes]:
        call = self._current(request_id)
        if not isinstance(call, Call):
            return call
        if too_large:
            call.outcome.set_result(("too_large",))
            return 413, runtimeapi.error_body(
                "Function.ResponseSizeTooLarge",
                f"Response payload size exceeded maximum allowed payload size ({runtimeapi.MAX_RESPONSE_BYTES} bytes).")
        call.outcome.set_result(("response", body))
        return runtimeapi.ACCEPTED

    def error(self, request_id: str, body: bytes, error_type: str | None) -> tuple[int, bytes]:
        call = self._current(request_id)
        if not isinstance(call, Call):
            return call
        call.outcome.set_result(("error", body, error_type))
        return runtimeapi.ACCEPTED

    def init_error(self, body: bytes, error_type: str | None) -> tuple[int, bytes]:
        if self.ready or self.init_failure is not None:
            return 403, runtimeapi.error_body("InvalidStateTransition", "State transition from Ready to InitError failed")
        self.init_failure = ("init_error", body, error_type)
        call = self.call
        if call is not None and not call.outcome.done():
            call.outcome.set_result(self.init_failure)
        # the engine stops this sandbox after the invocation: a failed init is not reused
        return runtimeapi.ACCEPTED

    # results ---------------------------------------------------------------------------
    def _result(self, call: Call, outcome: tuple[Any, ...], cold: bool) -> Result:
        end = time.perf_counter()
        end_ms = logs.now_ms()
        started = call.delivered_at if call.delivered_at is not None else end
        duration = (end - started) * 1000
        kind = outcome[0]
        rid = call.request_id
        if call.delivered_at is None:
            # init never finished: AWS retries it inside the invocation, so its output (the
            # import error...) comes after START
            call.delivered_ms = end_ms
            self._platform(call, "start", end_ms)
            call.events.add_output(self.log.take() if self.log else "", end_ms)
        elif self.log is not None:
            call.events.add_output(self.log.take(), end_ms)
        payload: bytes
        function_error: str | None = "Unhandled"
        status: str | None = "error"
        used_mb = self._memory_used_mb()
        if kind == "response":
            payload, function_error, error_type, status = outcome[1], None, None, None
        elif kind in ("error", "init_error"):
            payload = outcome[1]
            error_type = _error_type(outcome[1], outcome[2])
            if kind == "error":
                status = None  # a handled-by-runtime error is an ordinary REPORT
        elif kind == "timeout":
            error_type, status = "Sandbox.Timedout", "timeout"
            duration = float(self.spec.timeout_s * 1000)
            message = f"Task timed out after {self.spec.timeout_s:.2f} seconds"
            call.events.add(f"{logs.iso_ms(end_ms)} {rid} {message}", end_ms)
            payload = _doc("Sandbox.Timedout", f"RequestId: {rid} Error: {message}")
        elif kind == "oom":
            error_type = "Runtime.OutOfMemory"
            used_mb = self.spec.memory_mb
            message = f"RequestId: {rid} Error: Runtime exited with error: signal: killed"
            call.events.add(message, end_ms)
            call.events.add(error_type, end_ms)
            payload = _doc(error_type, message)
        elif kind == "too_large":
            error_type = "Function.ResponseSizeTooLarge"
            payload = _doc(error_type, f"Response payload size exceeded maximum allowed payload size "
                                       f"({runtimeapi.MAX_RESPONSE_BYTES} bytes).")
        else:  # "exit"
            error_type = "Runtime.ExitError"
            message = f"RequestId: {rid} Error: {_exit_words(outcome[1])}"
            call.events.add(message, end_ms)
            call.events.add(error_type, end_ms)
            payload = _doc(error_type, message)
        init_ms = self.init_ms if cold else None
        # the init phase is billed too (AWS, for every runtime since August 2025)
        billed = logs.billed_ms(duration + (init_ms or 0.0))
        if self.json_logs:
            if logs.level_allows(self.system_level, "INFO"):
                record = {"requestId": rid,
                          "metrics": logs.report_metrics(duration, billed, self.spec.memory_mb, used_mb, init_ms),
                          "status": status or ("error" if function_error else "success")}
                if function_error and error_type:
                    record["errorType"] = error_type
                call.events.add(logs.platform_record("report", end_ms, record), end_ms)
        else:
            call.events.add(logs.end_line(rid), end_ms)
            call.events.add(
                logs.report_line(rid, duration, billed, self.spec.memory_mb, used_mb, init_ms, status,
                                 error_type if status else None),
                end_ms,
            )
        return Result(
            payload=payload, function_error=function_error, error_type=error_type, log_text=call.events.text(),
            log_stream=self.log_stream, log_events=call.events.events, duration_ms=round(duration, 2),
            billed_duration_ms=billed, max_memory_used_mb=used_mb, init_duration_ms=init_ms, request_id=rid,
        )

    def _platform(self, call: Call, kind: str, at_ms: int) -> None:
        """INIT_START or START, as text or (LogFormat JSON) as a platform record at INFO."""
        spec = self.spec
        if not self.json_logs:
            if kind == "initStart":
                call.events.add(logs.init_start_line(spec.runtime, runtime_version_arn(spec.region, spec.runtime)), at_ms)
            else:
                call.events.add(logs.start_line(call.request_id, spec.version), at_ms)
            return
        if not logs.level_allows(self.system_level, "INFO"):
            return
        if kind == "initStart":
            record = {"initializationType": "on-demand", "phase": "init",
                      "runtimeVersion": logs.runtime_version(spec.runtime),
                      "runtimeVersionArn": runtime_version_arn(spec.region, spec.runtime),
                      "functionName": spec.function_name, "functionVersion": spec.version}
        else:
            record = {"requestId": call.request_id, "functionArn": call.invoked_arn, "version": spec.version}
        call.events.add(logs.platform_record(kind, at_ms, record), at_ms)

    def _memory_used_mb(self) -> int:
        kb = _proc_kb(self.proc.pid, "VmHWM:") if self.proc is not None and self.proc.returncode is None else None
        if kb is None:
            return 0
        return max(1, -(-kb // 1024))


def _proc_kb(pid: int, field_name: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            data = f.read()
    except OSError:
        return None
    key = field_name.encode()
    at = data.find(key)
    if at < 0:
        return None
    line = data[at + len(key): data.find(b"\n", at)]
    try:
        return int(line.split()[0])
    except (ValueError, IndexError):
        return None


def _exit_words(status: int | None) -> str:
    if status is None or status == 0:
        return "Runtime exited without providing a reason"
    if status < 0:
        sig = -status
        try:
            word = _SIGNAL_WORDS.get(signal.Signals(sig), signal.Signals(sig).name.lower())
        except ValueError:
            word = f"signal {sig}"
        return f"Runtime exited with error: signal: {word}"
    return f"Runtime exited with error: exit status {status}"


def _already_answered() -> bytes:
    return runtimeapi.error_body(
        "InvalidStateTransition", "State transition is not allowed: the invocation was already answered")


def _doc(error_type: str, message: str) -> bytes:
    return orjson.dumps({"errorMessage": message, "errorType": error_type})


def _error_type(body: bytes, header: str | None) -> str:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("errorType"), str) and doc["errorType"]:
        return doc["errorType"]
    return header or "Unhandled"


def _trace_id() -> str:
    return f"Root=1-{int(clock.time_s()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


def _client_context(value: str | None) -> str | None:
    """Invoke carries ClientContext as base64 JSON; the runtime gets the JSON."""
    if not value:
        return None
    try:
        # re-encoded: compact JSON has no line breaks to break the header
        return orjson.dumps(orjson.loads(base64.b64decode(value, validate=True))).decode()
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        return value.replace("\r", "").replace("\n", "")
