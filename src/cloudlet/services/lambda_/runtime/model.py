"""The engine's contract with the rest of Lambda: what to run, and what came of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """One function version as the engine runs it. Sandboxes with an equal ``key`` are
    interchangeable (qualified ARN + RevisionId: a config change is a new key)."""

    key: str
    function_name: str
    function_arn: str  # unqualified
    version: str
    account: str
    region: str
    runtime: str  # "python3.12", "nodejs20.x", "provided.al2023", "provided"...
    handler: str
    code_dir: str  # the unpacked deployment package (read-only by convention)
    layer_dirs: tuple[str, ...]  # unpacked layers, in the function's order
    environment: tuple[tuple[str, str], ...]  # the function's own variables
    memory_mb: int
    timeout_s: int
    ephemeral_storage_mb: int
    role_arn: str
    log_group: str
    architecture: str  # "x86_64" | "arm64" (informational: the host's machine runs the code)
    # (key id, secret, session token) for the execution role; called at each sandbox start
    credentials: Callable[[], tuple[str, str, str]] = field(compare=False, hash=False)
    # the function's LoggingConfig as (name, value) pairs: LogFormat "JSON" turns the
    # platform lines and the runtimes' logging into JSON records, filtered by level
    logging_config: tuple[tuple[str, str], ...] = ()

    def logging_value(self, name: str, default: str = "") -> str:
        return dict(self.logging_config).get(name) or default


@dataclass(slots=True)
class Result:
    """One invocation's outcome. A function's own failure is a Result, never an exception."""

    payload: bytes  # the function's response, or AWS's error document on error
    function_error: str | None  # None, or "Unhandled" (sets X-Amz-Function-Error)
    error_type: str | None  # errorType on failure ("ValueError", "Sandbox.Timedout"...)
    log_text: str  # this invocation's log, START ... END ... REPORT lines included
    log_stream: str  # "2026/11/28/[$LATEST]<32 hex>", one per sandbox
    log_events: list[tuple[int, str]]  # (epoch ms on the cloudlet clock, message)
    duration_ms: float
    billed_duration_ms: int
    max_memory_used_mb: int
    init_duration_ms: float | None  # set on a cold start
    request_id: str


class Throttled(Exception):
    """No idle sandbox and the concurrency limit is reached."""

    def __init__(self, reason: str, message: str = "Rate Exceeded.") -> None:
        super().__init__(message)
        # "ReservedFunctionConcurrentInvocationLimitExceeded" | "ConcurrentInvocationLimitExceeded"
        self.reason = reason


class RuntimeUnavailable(Exception):
    """``--strict-runtimes`` and no interpreter for the function's runtime on this machine."""

    def __init__(self, runtime: str, message: str) -> None:
        super().__init__(message)
        self.runtime = runtime
