"""How a parameter lives in the store, and how it is shown in each response shape.

One record per parameter, kind ``parameter``, keyed by its name, so the parameters of
a path are a prefix scan. The record holds everything about the parameter:

```
{"name": "/app/db", "tags": {"team": "core"},
 "versions": [                                   # oldest first, at most 100
   {"version": 1, "type": "SecureString", "value": "<base64 ciphertext>",
    "key_id": "alias/aws/ssm", "description": "...", "allowed_pattern": None,
    "tier": "Standard", "data_type": "text", "modified": datetime, "user": "arn:...",
    "labels": ["prod"]}, ...]}
```

SecureString values are stored encrypted (crypto.py); others as given.
"""

from __future__ import annotations

from typing import Any, cast

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.ssm import crypto, errors, model

KIND = "parameter"

Record = dict[str, Any]
Version = dict[str, Any]


def get(tx: Tx, name: str) -> Record | None:
    rec = tx.get(KIND, name)
    return None if rec is None else cast(Record, rec.value)


def put(tx: Tx, record: Record) -> None:
    tx.put(KIND, record["name"], record)


def current(record: Record) -> Version:
    return cast(Version, record["versions"][-1])


def locate(ctx: Context, tx: Tx, raw: str) -> tuple[Record | None, model.Reference]:
    """The record a caller's reference names (a name or an ARN of this account and
    region, either with a selector), and the parsed reference."""
    parsed = model.parse_arn(model.clean_name(raw))
    if parsed is None:
        ref = model.parse_reference(raw)
        return get(tx, ref.name), ref
    region, account, rest = parsed
    ref = model.parse_reference("/" + rest)
    if region != ctx.region or account != ctx.account:
        return None, ref  # shared parameters from other accounts are not modeled yet
    for name in (ref.name, ref.name[1:]):  # the ARN drops the leading slash, if any
        record = get(tx, name)
        if record is not None:
            return record, model.Reference(name, ref.version, ref.label)
    return None, ref


def select(record: Record, ref: model.Reference) -> Version:
    """The version a reference selects: latest, a number, or the version carrying a label."""
    versions: list[Version] = record["versions"]
    if ref.version is not None:
        for ver in versions:
            if ver["version"] == ref.version:
                return ver
        raise errors.version_not_found(record["name"], ref.version)
    if ref.label is not None:
        for ver in versions:
            if ref.label in ver["labels"]:
                return ver
        raise errors.label_not_found(record["name"], ref.label)
    return versions[-1]


def find_version(record: Record, number: int) -> Version:
    versions: list[Version] = record["versions"]
    for ver in versions:
        if ver["version"] == number:
            return ver
    raise errors.version_not_found(record["name"], number)


class Values:
    """Reads values for one response: decrypts SecureStrings only when asked, loading the
    account's key once per request."""

    def __init__(self, ctx: Context, decrypt: bool) -> None:
        self._ctx = ctx
        self._decrypt = decrypt
        self._key: bytes | None = None

    def of(self, name: str, ver: Version) -> str:
        if ver["type"] != "SecureString" or not self._decrypt:
            return str(ver["value"])
        if self._key is None:
            with self._ctx.tx(region="") as ktx:
                self._key = crypto.existing_key(ktx)
            if self._key is None:
                raise RuntimeError("a SecureString exists but the account has no master key")
        return crypto.decrypt(self._key, name, ver["key_id"], ver["value"])


def parameter_view(ctx: Context, name: str, ver: Version, value: str, selector: str | None = None) -> dict[str, Any]:
    """The ``Parameter`` shape (GetParameter, GetParameters, GetParametersByPath)."""
    out: dict[str, Any] = {
        "Name": name,
        "Type": ver["type"],
        "Value": value,
        "Version": ver["version"],
        "LastModifiedDate": ver["modified"],
        "ARN": model.arn(ctx.partition, ctx.region, ctx.account, name),
        "DataType": ver["data_type"],
    }
    if selector is not None:
        out["Selector"] = selector
    return out


def _common(name: str, ver: Version) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": name,
        "Type": ver["type"],
        "LastModifiedDate": ver["modified"],
        "LastModifiedUser": ver["user"],
        "Version": ver["version"],
        "Tier": ver["tier"],
        "Policies": [],
        "DataType": ver["data_type"],
    }
    if ver["key_id"] is not None:
        out["KeyId"] = ver["key_id"]
    if ver["description"] is not None:
        out["Description"] = ver["description"]
    if ver["allowed_pattern"] is not None:
        out["AllowedPattern"] = ver["allowed_pattern"]
    return out


def metadata_view(ctx: Context, name: str, ver: Version) -> dict[str, Any]:
    """The ``ParameterMetadata`` shape (DescribeParameters): no value."""
    out = _common(name, ver)
    out["ARN"] = model.arn(ctx.partition, ctx.region, ctx.account, name)
    return out


def history_view(name: str, ver: Version, value: str) -> dict[str, Any]:
    """The ``ParameterHistory`` shape: one version, its value and its labels."""
    out = _common(name, ver)
    out["Value"] = value
    out["Labels"] = list(ver["labels"])
    return out


def facts(record: Record) -> model.Facts:
    """What filters look at: the current version, plus the labels of every version."""
    cur = current(record)
    labels = frozenset(label for ver in record["versions"] for label in ver["labels"])
    return model.Facts(
        name=record["name"],
        type=cur["type"],
        key_id=cur["key_id"],
        tier=cur["tier"],
        data_type=cur["data_type"],
        labels=labels,
        tags=record["tags"],
    )
