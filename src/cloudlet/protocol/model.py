"""botocore's installed service models: the API definitions cloudlet is driven by.

We load the JSON botocore ships (never a copy of it) and wrap it in botocore's own
``ServiceModel`` so shapes, members and serialization traits mean exactly what they
mean to the SDKs. Models load lazily, once per service, on first use.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache

import botocore
import orjson
from botocore.model import OperationModel, ServiceModel

__all__ = ["OperationModel", "ServiceModel", "data_dir", "service_names", "load_service", "raw_model"]

_DATA = os.path.join(os.path.dirname(botocore.__file__), "data")


def data_dir() -> str:
    return _DATA


@lru_cache(maxsize=1)
def service_names() -> tuple[str, ...]:
    """Every service botocore has a model for, by its directory name (``sqs``, ``s3``...)."""
    names = []
    for name in sorted(os.listdir(_DATA)):
        if _model_path(name) is not None:
            names.append(name)
    return tuple(names)


def _model_path(name: str) -> str | None:
    base = os.path.join(_DATA, name)
    if not os.path.isdir(base):
        return None
    versions = sorted(v for v in os.listdir(base) if os.path.isdir(os.path.join(base, v)))
    for version in reversed(versions):
        for fname in ("service-2.json.gz", "service-2.json"):
            path = os.path.join(base, version, fname)
            if os.path.exists(path):
                return path
    return None


@lru_cache(maxsize=None)
def raw_model(name: str) -> dict:
    """The model's JSON as a dict (shared; never mutate it)."""
    path = _model_path(name)
    if path is None:
        raise KeyError(name)
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return orjson.loads(data)


@lru_cache(maxsize=None)
def load_service(name: str) -> ServiceModel:
    """botocore's ServiceModel for `name`, built once."""
    return ServiceModel(raw_model(name), service_name=name)
