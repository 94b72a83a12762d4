"""A precomputed index over every botocore model: what routing needs, without the models.

Loading 400+ service models takes seconds; routing a request must not. So the few facts
routing reads (protocols, signing name, endpoint prefix, target prefix, the literal path
prefixes of REST operations, query actions) are built once into ``service_index.json``
beside this module, keyed by botocore's directory names (``cloudwatch``, not
``monitoring``), with the reverse maps routing looks things up by.

The file records the botocore version it was built from. If the installed botocore
differs, :func:`load_index` rebuilds in memory (and tries to rewrite the file), so an
upgrade never routes with a stale index. Regenerate with
``python -m cloudlet.protocol.index``; a test asserts the committed file is current.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import botocore
import orjson

from cloudlet.protocol.model import raw_model, service_names

__all__ = ["ServiceInfo", "Index", "build", "load_index", "path_prefix", "INDEX_PATH"]

INDEX_PATH = os.path.join(os.path.dirname(__file__), "service_index.json")
FORMAT = 1

_LABEL = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    name: str
    protocol: str  # the protocol botocore sends by default (first of `protocols`)
    protocols: tuple[str, ...]
    signing_name: str
    endpoint_prefix: str
    target_prefix: str | None
    api_version: str
    path_prefixes: tuple[str, ...]
    query_compatible: bool  # accepts the query protocol (query/ec2, or awsQueryCompatible)


@dataclass(frozen=True, slots=True)
class Index:
    """The loaded index; every map value lists botocore service names, sorted."""

    botocore_version: str
    services: dict[str, ServiceInfo]
    by_signing_name: dict[str, tuple[str, ...]]
    by_target_prefix: dict[str, tuple[str, ...]]
    by_endpoint_prefix: dict[str, tuple[str, ...]]
    by_action: dict[str, tuple[str, ...]]
    by_path_prefix: dict[str, tuple[str, ...]]


def path_prefix(request_uri: str) -> str:
    """The literal leading segments of a REST ``requestUri``, without a trailing slash.

    ``/2015-03-31/functions/{FunctionName}/invocations`` -> ``/2015-03-31/functions``;
    ``/{Bucket}`` -> ``""`` (nothing literal to route by).
    """
    path = request_uri.split("?", 1)[0]
    m = _LABEL.search(path)
    if m is not None:
        path = path[: m.start()]
        path = path[: path.rfind("/") + 1] if "/" in path else ""
    return path.rstrip("/")


def _service_entry(name: str) -> dict[str, Any]:
    model = raw_model(name)
    md = model["metadata"]
    protocols = list(md.get("protocols") or [md["protocol"]])
    protocol = protocols[0]
    rest = protocol in ("rest-json", "rest-xml")
    prefixes: set[str] = set()
    actions: list[str] = []
    query_compatible = any(p in ("query", "ec2") for p in protocols) or "awsQueryCompatible" in md
    for op_name, op in model["operations"].items():
        if rest:
            prefix = path_prefix(op.get("http", {}).get("requestUri", "/"))
            if prefix:
                prefixes.add(prefix)
        if query_compatible:
            actions.append(op_name)
    return {
        "protocol": protocol,
        "protocols": protocols,
        "signingName": md.get("signingName") or md["endpointPrefix"],
        "endpointPrefix": md["endpointPrefix"],
        "targetPrefix": md.get("targetPrefix"),
        "apiVersion": md.get("apiVersion", ""),
        "pathPrefixes": sorted(prefixes),
        "queryCompatible": query_compatible,
        "actions": sorted(actions),
    }


def build() -> dict[str, Any]:
    """The index as plain JSON-able data, from every installed botocore model."""
    services: dict[str, Any] = {}
    reverse: dict[str, dict[str, set[str]]] = {
        "bySigningName": {},
        "byTargetPrefix": {},
        "byEndpointPrefix": {},
        "byAction": {},
        "byPathPrefix": {},
    }

    def add(kind: str, key: str, name: str) -> None:
        reverse[kind].setdefault(key, set()).add(name)

    for name in service_names():
        entry = _service_entry(name)
        add("bySigningName", entry["signingName"], name)
        add("byEndpointPrefix", entry["endpointPrefix"], name)
        if entry["targetPrefix"]:
            add("byTargetPrefix", entry["targetPrefix"], name)
        for action in entry.pop("actions"):
            add("byAction", action, name)
        for prefix in entry["pathPrefixes"]:
            add("byPathPrefix", prefix, name)
        services[name] = entry
    out: dict[str, Any] = {"format": FORMAT, "botocoreVersion": botocore.__version__, "services": services}
    for kind, table in reverse.items():
        out[kind] = {key: sorted(names) for key, names in sorted(table.items())}
    return out


def dumps(data: dict[str, Any]) -> bytes:
    """Stable bytes for the committed file (sorted keys, one trailing newline)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def _from_data(data: dict[str, Any]) -> Index:
    services = {
        name: ServiceInfo(
            name=name,
            protocol=e["protocol"],
            protocols=tuple(e["protocols"]),
            signing_name=e["signingName"],
            endpoint_prefix=e["endpointPrefix"],
            target_prefix=e["targetPrefix"],
            api_version=e["apiVersion"],
            path_prefixes=tuple(e["pathPrefixes"]),
            query_compatible=e["queryCompatible"],
        )
        for name, e in data["services"].items()
    }

    def rev(kind: str) -> dict[str, tuple[str, ...]]:
        return {k: tuple(v) for k, v in data[kind].items()}

    return Index(
        botocore_version=data["botocoreVersion"],
        services=services,
        by_signing_name=rev("bySigningName"),
        by_target_prefix=rev("byTargetPrefix"),
        by_endpoint_prefix=rev("byEndpointPrefix"),
        by_action=rev("byAction"),
        by_path_prefix=rev("byPathPrefix"),
    )


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = orjson.loads(f.read())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def write(path: str = INDEX_PATH) -> dict[str, Any]:
    """Build and write the index file atomically; returns the data written."""
    data = build()
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(dumps(data))
    os.replace(tmp, path)
    return data


@lru_cache(maxsize=1)
def load_index() -> Index:
    """The index for the installed botocore: the committed file, or a fresh build if stale."""
    data = _read(INDEX_PATH)
    if data is None or data.get("botocoreVersion") != botocore.__version__:
        try:
            data = write(INDEX_PATH)
        except OSError:  # read-only install: serve the in-memory build
            data = build()
    return _from_data(data)


if __name__ == "__main__":
    written = write(INDEX_PATH)
    print(f"wrote {INDEX_PATH}: {len(written['services'])} services, botocore {written['botocoreVersion']}")
