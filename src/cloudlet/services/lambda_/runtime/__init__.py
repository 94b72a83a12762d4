"""The Lambda runtime engine: functions run as local processes (no containers) behind the
real Lambda Runtime API, one sandbox per concurrent invocation, kept warm between them.

Modules: ``model`` (the contract: SandboxSpec, Result, Throttled, RuntimeUnavailable),
``engine`` (pools, concurrency, the engine's loop thread), ``sandbox`` (one process group
and its invocations), ``spawn`` (starting runtimes: sessions, parent-death signal,
Python and Node spares), ``runtimeapi`` (the HTTP API each sandbox's runtime talks to),
``interpreters`` (which program runs python3.12 or nodejs20.x here), ``env`` (the
variables a function sees), ``logs`` (START/END/REPORT and log events), ``bootstrap/``
(cloudlet's runtime clients for Python and Node.js).
"""

from __future__ import annotations

from .engine import Engine, engine_for, existing_engine, shutdown_all
from .model import Result, RuntimeUnavailable, SandboxSpec, Throttled

__all__ = [
    "Engine",
    "Result",
    "RuntimeUnavailable",
    "SandboxSpec",
    "Throttled",
    "engine_for",
    "existing_engine",
    "shutdown_all",
]
