"""A published message: its checks (size, subject, structure, attributes) and the
forms it takes on the way out (per-protocol text, the envelope's attributes, the SQS
attributes of raw delivery, the event a filter policy sees). Pure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from cloudlet.services.sns import errors

MAX_BYTES = 262_144
_ATTR_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_TOKEN = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
_SUBJECT = re.compile(r"[\x20-\x7e]{1,100}")


@dataclass(slots=True)
class Message:
    """One published message, as every delivery of it needs it."""

    id: str
    topic_arn: str
    text: str  # the Message parameter as given (JSON text for MessageStructure=json)
    timestamp: str  # ISO 8601 with milliseconds, Z
    subject: str | None = None
    structure: dict[str, str] | None = None
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    group: str | None = None
    dedup: str | None = None
    sequence: str | None = None

    def text_for(self, protocol: str) -> str:
        """What a subscriber of `protocol` gets: its entry of a JSON structure, else the default."""
        if self.structure is None:
            return self.text
        return self.structure.get(protocol, self.structure["default"])

    def record(self) -> dict[str, Any]:
        """As plain data (job payloads are CBOR)."""
        return {
            "id": self.id, "topic_arn": self.topic_arn, "text": self.text, "timestamp": self.timestamp,
            "subject": self.subject, "structure": self.structure, "attributes": self.attributes,
            "group": self.group, "dedup": self.dedup, "sequence": self.sequence,
        }

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> "Message":
        return cls(**rec)


def check_subject(subject: str | None) -> None:
    if subject is not None and not _SUBJECT.fullmatch(subject):
        raise errors.invalid("Subject")


def parse_structure(text: str, structure: str | None) -> dict[str, str] | None:
    if structure is None:
        return None
    if structure != "json":
        raise errors.invalid("MessageStructure")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise errors.invalid("Message Structure - JSON message body failed to parse")
    if "default" not in doc:
        raise errors.invalid("Message Structure - No default entry in JSON message body")
    return doc


def check_attributes(attrs: Mapping[str, Mapping[str, Any]] | None) -> tuple[dict[str, dict[str, Any]], int]:
    """Checks message attributes; returns them (as stored) and the bytes they count."""
    out: dict[str, dict[str, Any]] = {}
    size = 0
    for name, attr in (attrs or {}).items():
        lower = name.lower()
        if (
            not _ATTR_NAME.fullmatch(name) or name.startswith(".") or name.endswith(".") or ".." in name
            or lower.startswith("aws.") or lower.startswith("amazon.")
        ):
            raise errors.invalid_value(f"The message attribute name '{name}' is invalid.")
        data_type = attr.get("DataType") or ""
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise errors.invalid_value(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported "
                "type prefixes is Binary, Number, and String."
            )
        size += len(name.encode()) + len(data_type.encode())
        if base == "Binary":
            value = attr.get("BinaryValue")
            if not value:
                raise errors.invalid_value(
                    f"The message attribute '{name}' must contain non-empty message attribute value for message "
                    f"attribute type '{data_type}'."
                )
            out[name] = {"DataType": data_type, "BinaryValue": bytes(value)}
            size += len(value)
            continue
        text = attr.get("StringValue")
        if text is None or text == "":
            raise errors.invalid_value(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{data_type}'."
            )
        if base == "Number" and _number(text) is None:
            raise errors.invalid_value(f"Could not cast message attribute '{name}' value to number.")
        if data_type == "String.Array" and _array(text) is None:
            raise errors.invalid_value(
                f"The message attribute '{name}' with type 'String.Array' has an invalid value: it must be a "
                "JSON array of strings, numbers, true, false or null."
            )
        out[name] = {"DataType": data_type, "StringValue": text}
        size += len(text.encode())
    return out, size


def check_size(text: str, attr_bytes: int) -> None:
    if text == "":
        raise errors.invalid("Empty message")
    if len(text.encode("utf-8")) + attr_bytes > MAX_BYTES:
        raise errors.invalid("Message too long")


def check_token(name: str, value: str) -> None:
    if not _TOKEN.fullmatch(value):
        raise errors.invalid(
            f"{name} Reason: {name} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )


def content_dedup_id(text: str) -> str:
    """Content-based deduplication: a SHA-256 of the message body."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _array(text: str) -> list[Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
        return None
    return value


# -- the forms a message takes on the way out --------------------------------------------------


def envelope_attributes(attrs: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The ``MessageAttributes`` of a JSON envelope: ``{"Type", "Value"}``, binary in base64."""
    out = {}
    for name, attr in attrs.items():
        if "BinaryValue" in attr:
            value = base64.b64encode(attr["BinaryValue"]).decode()
        else:
            value = attr["StringValue"]
        out[name] = {"Type": attr["DataType"], "Value": value}
    return out


def sqs_attributes(attrs: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Raw delivery to SQS carries the attributes as SQS message attributes."""
    return {name: dict(attr) for name, attr in attrs.items()}


def filter_event(attrs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What an attribute-scoped filter policy sees: numbers as numbers, arrays as lists;
    binary attributes are not matched on."""
    event: dict[str, Any] = {}
    for name, attr in attrs.items():
        if "StringValue" not in attr:
            continue
        data_type, text = attr["DataType"], attr["StringValue"]
        if data_type.startswith("Number"):
            number = _number(text)
            event[name] = int(number) if number is not None and number == number.to_integral_value() else float(text)
        elif data_type == "String.Array":
            event[name] = _array(text)
        else:
            event[name] = text
    return event


def body_event(text: str) -> dict[str, Any] | None:
    """What a body-scoped filter policy sees: the message parsed as a JSON object, or None."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None
