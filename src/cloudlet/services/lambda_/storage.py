"""Lambda's store layout.

Per account and region (``ctx.tx()``):

============  ===============================  =============================================
kind          key                              value
============  ===============================  =============================================
``fn``        name                             $LATEST: {"config", "code", "tags",
                                               "reserved", "last_version", "published"}
``ver``       ``name:<version, 10 digits>``    a published version: {"config", "code"}
``alias``     ``name:alias``                   AliasConfiguration
``policy``    ``name:<qualifier or "">``       {"Statement": [...]}: the resource policy
``url``       ``name:<qualifier or "">``       FunctionUrlConfig (+ "url_id")
``eic``       ``name:<qualifier>``             FunctionEventInvokeConfig ($LATEST unqualified)
``pc``        ``name:<qualifier>``             provisioned concurrency config
``layer``     ``name:<version, 10 digits>``    a layer version (+ its policy)
``layerctr``  name                             the last layer version number handed out
``csc``       code signing config id           {"config": CodeSigningConfig, "tags": {...}}
``rtm``       ``name:<version or "">``         {"UpdateRuntimeOn", "RuntimeVersionArn"?}: a
                                               runtime management config ("" = $LATEST)
============  ===============================  =============================================

A function's code signing config is the ``fn`` record's ``"code_signing"`` (its ARN, or
absent): it belongs to the function, not to a version, as in AWS. So does its recursive loop
detection config, ``"recursion"``: ``"Allow"``, or absent for the default ``Terminate``.

In the database's global partition (``("", "")``), because their readers know no account:
``esm`` (uuid -> EventSourceMappingConfiguration + ``account``/``region``, found by
``scope``), ``urlid`` (a function URL's id -> where its function is), and ``zip`` (see
``code``). ``code`` = {"sha_hex", "unzipped"} names the stored zip.
"""

from __future__ import annotations

import json
from typing import Any

from cloudlet.core.store import Tx

FN = "fn"
VER = "ver"
ALIAS = "alias"
POLICY = "policy"
URL = "url"
EIC = "eic"
PC = "pc"
LAYER = "layer"
LAYERCTR = "layerctr"
ESM = "esm"
URLID = "urlid"
CSC = "csc"
RTM = "rtm"


def vkey(name: str, version: int | str) -> str:
    return f"{name}:{int(version):010d}"


def qkey(name: str, qualifier: str | None) -> str:
    return f"{name}:{qualifier or ''}"


def text_key(key: str | bytes) -> str:
    return key if isinstance(key, str) else key.decode()


# -- functions and versions -------------------------------------------------------------


def get_function(tx: Tx, name: str) -> dict[str, Any] | None:
    rec = tx.get(FN, name)
    return None if rec is None else rec.value


def put_function(tx: Tx, name: str, fn: dict[str, Any]) -> None:
    tx.put(FN, name, fn)


def functions(tx: Tx, after: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    return [r.value for r in tx.scan(FN, after=after, limit=limit)]


def get_version(tx: Tx, name: str, version: str) -> dict[str, Any] | None:
    if not version.isdecimal():
        return None
    rec = tx.get(VER, vkey(name, version))
    return None if rec is None else rec.value


def versions(tx: Tx, name: str) -> list[dict[str, Any]]:
    return [r.value for r in tx.scan(VER, f"{name}:")]


def put_version(tx: Tx, name: str, version: int, value: dict[str, Any]) -> None:
    tx.put(VER, vkey(name, version), value)


def delete_version(tx: Tx, name: str, version: str) -> None:
    tx.delete(VER, vkey(name, version))


# -- per-function records keyed by qualifier ----------------------------------------------


def get(tx: Tx, kind: str, name: str, qualifier: str | None) -> dict[str, Any] | None:
    rec = tx.get(kind, qkey(name, qualifier))
    return None if rec is None else rec.value


def put(tx: Tx, kind: str, name: str, qualifier: str | None, value: dict[str, Any]) -> None:
    tx.put(kind, qkey(name, qualifier), value)


def delete(tx: Tx, kind: str, name: str, qualifier: str | None) -> bool:
    return tx.delete(kind, qkey(name, qualifier))


def all_of(tx: Tx, kind: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(qualifier, value) of every record of `kind` for the function, in key order."""
    out = []
    for r in tx.scan(kind, f"{name}:"):
        out.append((text_key(r.key).split(":", 1)[1], r.value))
    return out


def policy_text(tx: Tx, function_name: str, qualifier: str | None) -> str | None:
    """The resource policy of a function (or one version/alias of it), as JSON text."""
    doc = get(tx, POLICY, function_name, None if qualifier in (None, "$LATEST") else qualifier)
    if not doc or not doc.get("Statement"):
        return None
    return policy_json(doc)


def policy_json(doc: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": doc["Statement"]},
                      separators=(",", ":"))


# -- event source mappings (global partition) ---------------------------------------------


def _scope(account: str, region: str) -> str:
    return f"{account}/{region}"


def put_mapping(tx: Tx, mapping: dict[str, Any]) -> None:
    with tx.db.tx("", "") as g:
        g.put(ESM, mapping["UUID"], mapping, attrs={
            "scope": _scope(mapping["account"], mapping["region"]),
            "fn": f"{mapping['account']}/{mapping['region']}/{mapping['FunctionArn'].split(':')[6]}",
        })


def get_mapping(tx: Tx, uuid: str) -> dict[str, Any] | None:
    with tx.db.tx("", "") as g:
        rec = g.get(ESM, uuid)
    if rec is None or rec.value["account"] != tx.account or rec.value["region"] != tx.region:
        return None
    return rec.value


def delete_mapping(tx: Tx, uuid: str) -> None:
    with tx.db.tx("", "") as g:
        g.delete(ESM, uuid)


def mappings_in(tx: Tx) -> list[dict[str, Any]]:
    """The caller's account and region's mappings, by UUID."""
    with tx.db.tx("", "") as g:
        return [r.value for r in g.find(ESM, "scope", _scope(tx.account, tx.region))]


def mappings_of_function(tx: Tx, name: str) -> list[dict[str, Any]]:
    with tx.db.tx("", "") as g:
        return [r.value for r in g.find(ESM, "fn", f"{tx.account}/{tx.region}/{name}")]


def mappings_all(gateway: Any) -> list[dict[str, Any]]:
    """Every mapping in every account and region (each with ``account`` and ``region``),
    for the pollers; ``gateway.db("lambda").generation(ESM)`` moves when any is written."""
    with gateway.db("lambda").tx("", "") as g:
        return [r.value for r in g.scan(ESM)]


def mapping_update(gateway: Any, account: str, region: str, uuid: str, **fields: Any) -> dict[str, Any] | None:
    """Set fields the pollers own (State, StateTransitionReason, LastProcessingResult);
    None if the mapping is gone (deleted meanwhile)."""
    with gateway.db("lambda").tx("", "") as g:
        rec = g.get(ESM, uuid)
        if rec is None or rec.value["account"] != account or rec.value["region"] != region:
            return None
        value = {**rec.value, **fields}
        g.put(ESM, uuid, value, attrs={
            "scope": _scope(account, region),
            "fn": f"{account}/{region}/{value['FunctionArn'].split(':')[6]}",
        })
        return value


# -- function URLs (global partition index) -----------------------------------------------


def put_url_id(tx: Tx, url_id: str, name: str, qualifier: str | None) -> None:
    with tx.db.tx("", "") as g:
        g.put(URLID, url_id, {"account": tx.account, "region": tx.region, "name": name, "qualifier": qualifier})


def delete_url_id(tx: Tx, url_id: str) -> None:
    with tx.db.tx("", "") as g:
        g.delete(URLID, url_id)


def url_target(gateway: Any, url_id: str) -> dict[str, Any] | None:
    """Where a function URL's id points: {"account", "region", "name", "qualifier"} or None
    (for serving ``<url id>.lambda-url.<region>.localhost``)."""
    with gateway.db("lambda").tx("", "") as g:
        rec = g.get(URLID, url_id.lower())
    return None if rec is None else rec.value
