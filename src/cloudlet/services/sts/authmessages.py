"""Encoded authorization messages: the opaque text an AccessDenied carries (EC2 and a few
other services add it) and that sts:DecodeAuthorizationMessage turns back into JSON.

AWS encrypts these so only a caller allowed to decode may read them; here the message is
compressed CBOR behind a version tag and a checksum (the decode permission is the
authorizer's, as in AWS), so anything cloudlet did not encode is refused, not misread.
Not a handler module: the lead's authorizer calls `encode_authorization_message`.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from typing import Any

import cbor2

_MAGIC = b"CLT1"


def encode_authorization_message(details: Mapping[str, Any]) -> str:
    """The opaque message for one refusal.

    `details`: ``allowed`` (bool, default False), ``explicitDeny`` (bool),
    ``matchedStatements`` (list of statement dicts, optional), ``principal``
    ({"id", "name", "arn"}), ``action``, ``resource`` and ``conditions`` (condition key ->
    str | bool | int | list of those). Values must be JSON-able.
    """
    body = {
        "allowed": bool(details.get("allowed", False)),
        "explicitDeny": bool(details.get("explicitDeny", False)),
        "matchedStatements": list(details.get("matchedStatements") or []),
        "failures": list(details.get("failures") or []),
        "principal": dict(details.get("principal") or {}),
        "action": str(details.get("action", "")),
        "resource": str(details.get("resource", "")),
        "conditions": {str(k): v for k, v in (details.get("conditions") or {}).items()},
    }
    packed = zlib.compress(cbor2.dumps(body), 9)
    crc = zlib.crc32(packed).to_bytes(4, "big")
    return base64.urlsafe_b64encode(_MAGIC + crc + packed).decode().rstrip("=")


def decode_authorization_message(message: str) -> dict[str, Any] | None:
    """The details of a message `encode_authorization_message` made, or None."""
    try:
        raw = base64.urlsafe_b64decode(message.strip() + "=" * (-len(message.strip()) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 9 or raw[:4] != _MAGIC or zlib.crc32(raw[8:]).to_bytes(4, "big") != raw[4:8]:
        return None
    try:
        body = cbor2.loads(zlib.decompress(raw[8:]))
    except (zlib.error, cbor2.CBORDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def decoded_json(body: Mapping[str, Any]) -> str:
    """AWS's DecodedMessage document: lists are ``{"items": [...]}`` and condition
    values ``{"items": [{"value": "..."}]}``, as AWS writes them."""
    conditions = []
    for key, value in body.get("conditions", {}).items():
        values = value if isinstance(value, list) else [value]
        conditions.append({"key": key, "values": {"items": [{"value": _text(v)} for v in values]}})
    doc = {
        "allowed": body.get("allowed", False),
        "explicitDeny": body.get("explicitDeny", False),
        "matchedStatements": {"items": list(body.get("matchedStatements", []))},
        "failures": {"items": list(body.get("failures", []))},
        "context": {
            "principal": body.get("principal", {}),
            "action": body.get("action", ""),
            "resource": body.get("resource", ""),
            "conditions": {"items": conditions},
        },
    }
    return json.dumps(doc, separators=(",", ":"))


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
