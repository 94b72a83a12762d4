"""The engine: one per gateway, on its own event loop thread, so the server's loop never
blocks on a function and other threads (scheduler, pollers) can invoke too.

Warm sandboxes are kept per ``SandboxSpec.key`` (last used first: the warmest caches),
one invocation at a time each; a new one starts when none is idle, unless the function's
reserved concurrency or the account's limit is reached (``Throttled``, decided in
``submit`` under a lock, so the caller learns it at once). Idle sandboxes stop after ten
minutes of real time. For each Python or Node interpreter in use one runtime is kept started
ahead of need (a *spare*), so a cold start does not wait for the interpreter to start; its
Init Duration is then mostly the function's own imports.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from typing import Any, Coroutine

from . import interpreters
from .env import sdk_dir
from .interpreters import Interpreter
from .model import Result, RuntimeUnavailable, SandboxSpec, Throttled
from .sandbox import Sandbox, _doc
from .spawn import StartFailed, can_use_spare, kill_spare, spawn_spare

#: AWS's default concurrent executions per account and region
ACCOUNT_LIMIT = 1000
#: an idle sandbox is stopped after this long (real time)
IDLE_S = 600.0
_REAP_EVERY_S = 30.0


class Engine:
    def __init__(self, root: str | None, *, endpoint_url: str, runtimes: dict[str, str] | None = None,
                 strict: bool = False) -> None:
        """`root`: where the engine keeps its files (None: a temp dir removed at shutdown)."""
        self._own_root = root is None
        self.root = root or tempfile.mkdtemp(prefix="cloudlet-lambda-")
        self.endpoint_url = endpoint_url
        self.runtimes = dict(runtimes or {})
        self.strict = strict
        self.sandbox_root = os.path.join(self.root, "sandboxes")
        shutil.rmtree(self.sandbox_root, ignore_errors=True)  # left by a server killed with -9
        os.makedirs(self.sandbox_root, exist_ok=True)
        # compiled function code (and boto3) outlives an ephemeral server: a cache keyed by
        # source path and mtime, so a later server's cold starts skip compiling botocore
        self.pycache = os.path.join(self.root if root else _user_cache(), "pycache")
        _prune_pycache(self.pycache)
        self._sdk: str | None = None
        self._interps: dict[str, Interpreter | RuntimeUnavailable] = {}
        self._lock = threading.Lock()
        self._inflight_fn: dict[str, int] = {}
        self._inflight_account: dict[tuple[str, str], int] = {}
        # loop-thread only:
        self._idle: dict[str, list[Sandbox]] = {}
        self._all: set[Sandbox] = set()
        self._tasks: set[asyncio.Task[Result]] = set()
        # one Python or Node runtime started ahead of need per interpreter in use (spawn.spawn_spare)
        self._spares: dict[tuple[str, bool], subprocess.Popen[bytes]] = {}
        self._closed = False
        self.loop = _new_loop()
        self._thread = threading.Thread(target=self._run_loop, name="cloudlet-lambda", daemon=True)
        self._thread.start()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_later(_REAP_EVERY_S, self._reap)
        self.loop.run_forever()

    # the contract --------------------------------------------------------------------
    def submit(self, spec: SandboxSpec, payload: bytes, *, request_id: str, invoked_arn: str,
               client_context: str | None = None, limit: int | None = None,
               trace_id: str | None = None) -> concurrent.futures.Future[Result]:
        """Run one invocation; Throttled and RuntimeUnavailable are raised here, not in the future.
        `trace_id`: the invocation's X-Ray header (Lambda-Runtime-Trace-Id), Lineage included;
        None for a fresh one."""
        if self._closed:
            raise RuntimeError("the Lambda engine was shut down")
        interp = self.interpreter(spec.runtime)
        with self._lock:
            fn = self._inflight_fn.get(spec.function_arn, 0)
            region = (spec.account, spec.region)  # AWS's limit is per account and Region
            account = self._inflight_account.get(region, 0)
            if limit is not None and fn >= limit:
                raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            if account >= ACCOUNT_LIMIT:
                raise Throttled("ConcurrentInvocationLimitExceeded")
            self._inflight_fn[spec.function_arn] = fn + 1
            self._inflight_account[region] = account + 1
        try:
            return asyncio.run_coroutine_threadsafe(
                self._invoke(spec, interp, payload, request_id, invoked_arn, client_context, trace_id), self.loop)
        except BaseException:
            self._release(spec)
            raise

    async def invoke_async(self, spec: SandboxSpec, payload: bytes, *, request_id: str, invoked_arn: str,
                           client_context: str | None = None, limit: int | None = None,
                           trace_id: str | None = None) -> Result:
        """For handlers on the server's event loop: waits without blocking it."""
        fut = self.submit(spec, payload, request_id=request_id, invoked_arn=invoked_arn,
                          client_context=client_context, limit=limit, trace_id=trace_id)
        return await asyncio.wrap_future(fut)

    def invoke(self, spec: SandboxSpec, payload: bytes, *, request_id: str, invoked_arn: str,
               client_context: str | None = None, limit: int | None = None,
               trace_id: str | None = None) -> Result:
        """Blocking, for other threads (scheduler jobs, pollers)."""
        return self.submit(spec, payload, request_id=request_id, invoked_arn=invoked_arn,
                           client_context=client_context, limit=limit, trace_id=trace_id).result()

    def retire(self, function_arn_prefix: str) -> None:
        """Stop the sandboxes of a function (all versions, or one qualified ARN): idle ones
        now, busy ones when their invocation ends."""
        self._call(self._retire(function_arn_prefix))

    def status(self) -> dict[str, Any]:
        """What /_cloudlet/health shows: interpreters found or substituted, sandboxes per function."""
        if self._closed:
            return {"running": False}
        return self._call(self._status()) or {}

    def shutdown(self) -> None:
        """Kill every sandbox and stop the loop (server stop, reset)."""
        if self._closed:
            return
        self._closed = True
        self._call(self._shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(5)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
        _prune_pycache(self.pycache)

    # interpreters --------------------------------------------------------------------
    def interpreter(self, runtime: str) -> Interpreter:
        found = self._interps.get(runtime)
        if found is None:
            try:
                found = interpreters.find(runtime, self.runtimes, self.strict)
            except RuntimeUnavailable as err:
                found = err
            self._interps[runtime] = found
        if isinstance(found, RuntimeUnavailable):
            raise found
        return found

    def _sdk_dir(self) -> str:
        if self._sdk is None:
            self._sdk = sdk_dir(self.root)
        return self._sdk

    # on the loop -----------------------------------------------------------------------
    async def _invoke(self, spec: SandboxSpec, interp: Interpreter, payload: bytes, request_id: str,
                      invoked_arn: str, client_context: str | None, trace_id: str | None = None) -> Result:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            sandbox = self._take_idle(spec.key)
            if sandbox is None:
                sandbox = Sandbox(spec, interp, root=self.sandbox_root, sdk=self._sdk_dir(), pycache=self.pycache,
                                  endpoint_url=self.endpoint_url, on_dead=self._forget)
                self._all.add(sandbox)
                try:
                    await sandbox.start(self._take_spare(interp) if can_use_spare(spec, interp) else None)
                except StartFailed as err:
                    self._all.discard(sandbox)
                    return _start_failure(spec, request_id, err)
            try:
                return await sandbox.invoke(request_id, payload, invoked_arn, client_context, trace_id)
            finally:
                self._put_back(sandbox)
        finally:
            self._release(spec)

    def _take_spare(self, interp: Interpreter) -> subprocess.Popen[bytes] | None:
        """The interpreter's spare, if one is ready; another is started once this cold start
        is under way (the first cold start of an interpreter starts the first spare)."""
        key = (interp.path, interp.configured)
        spare = self._spares.pop(key, None)
        if spare is not None and spare.poll() is not None:
            spare = None
        self.loop.call_soon(self._refill, interp)
        return spare

    def _refill(self, interp: Interpreter) -> None:
        key = (interp.path, interp.configured)
        if self._closed or key in self._spares:
            return
        try:
            self._spares[key] = spawn_spare(interp, self.sandbox_root)
        except OSError:  # cold starts go on without one
            pass

    def _release(self, spec: SandboxSpec) -> None:
        with self._lock:
            self._inflight_fn[spec.function_arn] -= 1
            region = (spec.account, spec.region)
            self._inflight_account[region] -= 1
            if not self._inflight_fn[spec.function_arn]:
                del self._inflight_fn[spec.function_arn]
            if not self._inflight_account[region]:
                del self._inflight_account[region]

    def _take_idle(self, key: str) -> Sandbox | None:
        pool = self._idle.get(key)
        while pool:
            sandbox = pool.pop()
            if not sandbox.dead and not sandbox.retired:  # a stopped one may not have exited yet
                return sandbox
        return None

    def _put_back(self, sandbox: Sandbox) -> None:
        if sandbox.dead:
            return
        if sandbox.retired or sandbox.init_failure is not None or self._closed:
            sandbox.stop()
            return
        self._idle.setdefault(sandbox.spec.key, []).append(sandbox)

    def _forget(self, sandbox: Sandbox) -> None:
        self._all.discard(sandbox)
        pool = self._idle.get(sandbox.spec.key)
        if pool and sandbox in pool:
            pool.remove(sandbox)
            if not pool:
                del self._idle[sandbox.spec.key]

    def _reap(self) -> None:
        cutoff = time.monotonic() - IDLE_S
        for pool in list(self._idle.values()):
            for sandbox in [s for s in pool if s.idle_since < cutoff]:
                sandbox.stop()
        if not self._closed:
            self.loop.call_later(_REAP_EVERY_S, self._reap)

    async def _retire(self, prefix: str) -> None:
        for sandbox in list(self._all):
            if _belongs(sandbox.spec, prefix):
                sandbox.retired = True
                if sandbox.call is None:
                    sandbox.stop()

    async def _status(self) -> dict[str, Any]:
        functions: dict[str, dict[str, Any]] = {}
        for sandbox in self._all:
            entry = functions.setdefault(sandbox.spec.function_arn, {"idle": 0, "busy": 0, "pids": []})
            entry["busy" if sandbox.call is not None else "idle"] += 1
            if sandbox.pid is not None:
                entry["pids"].append(sandbox.pid)
        runtimes = {}
        for name, found in sorted(self._interps.items()):
            if isinstance(found, RuntimeUnavailable):
                runtimes[name] = {"available": False, "error": str(found)}
            else:
                runtimes[name] = {"available": True, "path": found.path, "version": found.version,
                                  "substituted": found.note is not None}
                if found.note:
                    runtimes[name]["note"] = found.note
        with self._lock:
            inflight = sum(self._inflight_account.values())
        return {"running": True, "runtimes": runtimes, "sandboxes": functions, "inflight": inflight,
                "spares": len(self._spares), "strict_runtimes": self.strict}

    async def _shutdown(self) -> None:
        for spare in self._spares.values():
            kill_spare(spare)
        self._spares.clear()
        sandboxes = list(self._all)
        for sandbox in sandboxes:
            sandbox.stop()
        deadline = time.monotonic() + 5
        for sandbox in sandboxes:
            sandbox.stop_now(max(0.0, deadline - time.monotonic()))
        # invocations in flight finish (with their sandbox's death) before the loop stops,
        # so no caller waits forever on a future nobody will complete
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(0.1, deadline - time.monotonic()))
        for task in list(self._tasks):  # still stuck: their callers get CancelledError
            task.cancel()
        await asyncio.sleep(0)

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run `coro` on the loop and wait for it (briefly: these are bookkeeping)."""
        if threading.current_thread() is self._thread:
            return self.loop.create_task(coro)
        try:
            return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)
        except (concurrent.futures.TimeoutError, RuntimeError):
            coro.close()
            return None


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop, as the server uses (measured here: a warm invoke round trip from another
    thread, ~170 us against ~200 us on asyncio's loop)."""
    try:
        import uvloop
    except ImportError:  # Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _prune_pycache(pycache: str) -> None:
    """The cache mirrors source paths; code unpacked under the temp dir (ephemeral servers,
    tests) is gone once its server is, so its compiled files would only pile up. Another
    server still running just compiles its modules again."""
    shutil.rmtree(os.path.join(pycache, tempfile.gettempdir().lstrip(os.sep)), ignore_errors=True)


def _user_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cloudlet", "lambda")


def _belongs(spec: SandboxSpec, prefix: str) -> bool:
    for name in (spec.function_arn, spec.key):
        if name == prefix or (name.startswith(prefix) and name[len(prefix)] in ":#@/|"):
            return True
    return False


def _start_failure(spec: SandboxSpec, request_id: str, err: StartFailed) -> Result:
    from . import logs

    at = logs.now_ms()
    message = f"RequestId: {request_id} Error: {err}"
    events = [(at, logs.start_line(request_id, spec.version)), (at, message), (at, err.error_type),
              (at, logs.end_line(request_id)),
              (at, logs.report_line(request_id, 0.0, 1, spec.memory_mb, 0, None, "error", err.error_type))]
    return Result(
        payload=_doc(err.error_type, message), function_error="Unhandled", error_type=err.error_type,
        log_text="".join(m + "\n" for _, m in events), log_stream=logs.stream_name(spec.version), log_events=events,
        duration_ms=0.0, billed_duration_ms=1, max_memory_used_mb=0, init_duration_ms=None, request_id=request_id,
    )


# one engine per gateway ------------------------------------------------------------------
_engines: "weakref.WeakKeyDictionary[Any, Engine]" = weakref.WeakKeyDictionary()
_engines_lock = threading.Lock()
_atexit_registered: list[bool] = []


def engine_for(gateway: Any) -> Engine:
    """The gateway's engine, started on first use."""
    with _engines_lock:
        engine = _engines.get(gateway)
        if engine is None or engine._closed:
            from cloudlet.server.config import public_url

            config = gateway.config
            root = None if config.ephemeral or not config.data_dir else os.path.join(config.data_dir, "lambda-runtime")
            engine = Engine(root, endpoint_url=public_url(config), runtimes=dict(config.runtimes),
                            strict=config.strict_runtimes)
            _engines[gateway] = engine
            if not _atexit_registered:
                # the server stopping normally kills the sandboxes (kill -9: PR_SET_PDEATHSIG)
                atexit.register(shutdown_all)
                _atexit_registered.append(True)
        return engine


def existing_engine(gateway: Any) -> Engine | None:
    """The gateway's engine if one was started (health and reset must not start one)."""
    engine = _engines.get(gateway)
    return engine if engine is not None and not engine._closed else None


def shutdown_all() -> None:
    """Kill every sandbox of every engine (the server is stopping)."""
    for engine in list(_engines.values()):
        engine.shutdown()
