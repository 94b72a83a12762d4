"""Finds the handler for an operation: a public function named after it.

A service package is ``cloudlet.services.<name>`` (botocore's service name with ``-``
as ``_``); its ``__init__`` lists its handler modules in ``MODULES``. A public function
``send_message`` in one of them handles ``SendMessage`` (botocore's name transform). A
public function that names no operation of the model is an error, caught at load.
"""

from __future__ import annotations

import importlib
import inspect
from functools import lru_cache
from types import ModuleType
from typing import Any, Callable

from botocore import xform_name

from cloudlet.protocol.model import load_service

Handler = Callable[..., Any]


def package_name(service: str) -> str:
    return "cloudlet.services." + service.replace("-", "_")


@lru_cache(maxsize=None)
def package(service: str) -> ModuleType | None:
    """The service's package, or None when cloudlet has none for it."""
    try:
        return importlib.import_module(package_name(service))
    except ModuleNotFoundError as err:
        if err.name and package_name(service).startswith(err.name):
            return None
        raise


@lru_cache(maxsize=None)
def handlers(service: str) -> dict[str, Handler]:
    """Operation name -> handler for one service (empty when not implemented)."""
    pkg = package(service)
    if pkg is None:
        return {}
    by_snake = {xform_name(name): name for name in load_service(service).operation_names}
    found: dict[str, Handler] = {}
    for module_name in getattr(pkg, "MODULES", ()):
        # a dotted absolute name: handlers another package holds (DynamoDB Streams' are DynamoDB's)
        absolute = module_name.startswith("cloudlet.")
        module = importlib.import_module(module_name if absolute else f"{pkg.__name__}.{module_name}")
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            op = by_snake.get(name)
            if op is None:
                raise LookupError(f"{module.__name__}.{name} names no {service} operation")
            found[op] = fn
    return found


def handler_for(service: str, operation: str) -> Handler | None:
    return handlers(service).get(operation)


def implemented() -> dict[str, list[str]]:
    """Every service package and its implemented operations (README and /health use it)."""
    import pkgutil

    import cloudlet.services as root

    out: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(root.__path__):
        if not info.ispkg:
            continue
        service = info.name.replace("_", "-")
        ops = sorted(handlers(service))
        if ops:
            out[service] = ops
    return out
