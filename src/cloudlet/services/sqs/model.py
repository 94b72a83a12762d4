"""SQS's rules as pure functions: queue names and attributes, message validation, the MD5
digests SDKs verify, receipt handles, queue URLs and ARNs. No store, no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from cloudlet.services.sqs import errors

# -- limits ---------------------------------------------------------------------------------

MAX_MESSAGE_BYTES = 1_048_576  # 1 MiB: a message, and the sum of a batch
MAX_VISIBILITY_S = 43_200  # 12 hours, the total a receive may keep a message hidden
MAX_DELAY_S = 900
DEDUP_WINDOW_MS = 300_000  # FIFO deduplication and ReceiveRequestAttemptId: 5 minutes
PURGE_COOLDOWN_S = 60
RECREATE_COOLDOWN_S = 60  # after DeleteQueue, before the name may be used again
MAX_MESSAGE_ATTRIBUTES = 10
MAX_TAGS = 50
MAX_POLICY_ACTIONS = 7

# -- queue attributes -------------------------------------------------------------------------

#: integer attributes and their documented ranges
INT_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, MAX_DELAY_S),
    "MaximumMessageSize": (1024, MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, MAX_VISIBILITY_S),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
BOOLEANS = frozenset({"SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue"})
ENUMS: dict[str, tuple[str, ...]] = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
JSON_ATTRIBUTES = frozenset({"Policy", "RedrivePolicy", "RedriveAllowPolicy"})
FIFO_ONLY = frozenset({"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
SETTABLE = frozenset(INT_RANGES) | BOOLEANS | frozenset(ENUMS) | JSON_ATTRIBUTES | {"KmsMasterKeyId"}
COMPUTED = frozenset(
    {
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
        "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
    }
)
READABLE = SETTABLE | COMPUTED

#: what a new queue holds when the request leaves an attribute out
DEFAULTS: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")


def check_queue_name(name: str, fifo: bool) -> None:
    if fifo:
        if not _FIFO_NAME.fullmatch(name):
            raise errors.invalid_parameter_text(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
                "must end with .fifo suffix and be 1 to 80 in length."
            )
    elif not _NAME.fullmatch(name):
        raise errors.invalid_parameter_text(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def is_true(value: str | None) -> bool:
    return (value or "").lower() == "true"


def normalize_attributes(given: Mapping[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """Checked, canonical values for the attributes a Create/SetQueueAttributes names.

    Unknown names, read-only names and FIFO attributes on a standard queue are
    ``InvalidAttributeName`` (as AWS answers); bad values ``InvalidAttributeValue``. The
    redrive policies are only checked for shape here: their targets need the store.
    """
    out: dict[str, str] = {}
    for name, raw in given.items():
        value = "" if raw is None else str(raw)
        if name not in SETTABLE or (name in FIFO_ONLY and not fifo):
            raise errors.invalid_attribute_name(name)
        if name == "FifoQueue" and not creating:
            raise errors.invalid_attribute_value(name, "Modifying queue type is not supported.")
        if name in INT_RANGES:
            low, high = INT_RANGES[name]
            try:
                number = int(value.strip())
            except ValueError:
                raise errors.invalid_attribute_value(name) from None
            if not low <= number <= high:
                raise errors.invalid_attribute_value(name)
            out[name] = str(number)
        elif name in BOOLEANS:
            if value.lower() not in ("true", "false"):
                raise errors.invalid_attribute_value(name)
            out[name] = value.lower()
        elif name in ENUMS:
            if value not in ENUMS[name]:
                raise errors.invalid_attribute_value(name)
            out[name] = value
        elif name == "RedrivePolicy":
            out[name] = normalize_redrive_policy(value) if value else ""
        elif name == "RedriveAllowPolicy":
            out[name] = normalize_redrive_allow_policy(value) if value else ""
        elif name == "Policy":
            if value:
                try:
                    doc = json.loads(value)
                except ValueError:
                    raise errors.invalid_attribute_value(name) from None
                if not isinstance(doc, dict):
                    raise errors.invalid_attribute_value(name)
            out[name] = value
        else:  # KmsMasterKeyId: any key id, alias or ARN; KMS checks it when it is used
            out[name] = value
    if creating and "FifoQueue" in out and out["FifoQueue"] != ("true" if fifo else "false"):
        raise errors.invalid_attribute_value("FifoQueue")
    if is_true(out.get("SqsManagedSseEnabled")) and out.get("KmsMasterKeyId"):
        raise errors.invalid_attribute_value(
            "SqsManagedSseEnabled",
            "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.",
        )
    return out


def apply_attributes(current: Mapping[str, str], changes: Mapping[str, str]) -> dict[str, str]:
    """The queue's attributes after `changes`; an empty JSON or key attribute removes it,
    and choosing one kind of server-side encryption turns the other off."""
    attrs = dict(current)
    for name, value in changes.items():
        if value == "" and (name in JSON_ATTRIBUTES or name == "KmsMasterKeyId"):
            attrs.pop(name, None)
        else:
            attrs[name] = value
    if changes.get("KmsMasterKeyId"):
        attrs["SqsManagedSseEnabled"] = "false"
    elif is_true(changes.get("SqsManagedSseEnabled")):
        attrs.pop("KmsMasterKeyId", None)
    if attrs.get("KmsMasterKeyId"):
        attrs.setdefault("KmsDataKeyReusePeriodSeconds", "300")
    else:
        attrs.pop("KmsDataKeyReusePeriodSeconds", None)
    scope, limit = attrs.get("DeduplicationScope"), attrs.get("FifoThroughputLimit")
    if limit == "perMessageGroupId" and scope != "messageGroup":
        raise errors.invalid_attribute_value(
            "FifoThroughputLimit", "The perMessageGroupId value is allowed only when DeduplicationScope is messageGroup."
        )
    return attrs


def _compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))


def normalize_redrive_policy(text: str) -> str:
    """``{"deadLetterTargetArn": ARN, "maxReceiveCount": 1..1000}``, written back the way
    GetQueueAttributes shows it (the count as a number even if it came as a string)."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise errors.invalid_parameter("RedrivePolicy", text, "Redrive policy is not a valid JSON map.") from None
    if not isinstance(doc, dict):
        raise errors.invalid_parameter("RedrivePolicy", text, "Redrive policy is not a valid JSON map.")
    target, count = doc.get("deadLetterTargetArn"), doc.get("maxReceiveCount")
    if not target or count is None:
        raise errors.invalid_parameter(
            "RedrivePolicy", text, "Redrive policy does not contain mandatory attribute: "
            + ("deadLetterTargetArn." if not target else "maxReceiveCount.")
        )
    extra = set(doc) - {"deadLetterTargetArn", "maxReceiveCount"}
    if extra:
        raise errors.invalid_parameter(
            "RedrivePolicy", text, "Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount]."
        )
    try:
        number = int(str(count))
    except ValueError:
        number = 0
    if not 1 <= number <= 1000:
        raise errors.invalid_parameter(
            "RedrivePolicy", text, f"Invalid value for maxReceiveCount: {count}, valid values are from 1 to 1000 both inclusive."
        )
    if parse_arn(str(target)) is None:
        raise errors.invalid_parameter("RedrivePolicy", text, "Invalid value for deadLetterTargetArn.")
    return _compact({"deadLetterTargetArn": str(target), "maxReceiveCount": number})


def normalize_redrive_allow_policy(text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        raise errors.invalid_parameter("RedriveAllowPolicy", text, "Redrive allow policy is not a valid JSON map.") from None
    if not isinstance(doc, dict) or doc.get("redrivePermission") not in ("allowAll", "denyAll", "byQueue"):
        raise errors.invalid_parameter(
            "RedriveAllowPolicy", text, "Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format."
        )
    sources = doc.get("sourceQueueArns")
    if doc["redrivePermission"] == "byQueue":
        if not isinstance(sources, list) or not sources or len(sources) > 10:
            raise errors.invalid_parameter(
                "RedriveAllowPolicy", text, "Amazon SQS can't create the redrive allow policy. When you specify the "
                "byQueue permission type, you must also specify one or more sourceQueueArns values (up to 10)."
            )
        return _compact({"redrivePermission": "byQueue", "sourceQueueArns": [str(s) for s in sources]})
    if sources is not None:
        raise errors.invalid_parameter(
            "RedriveAllowPolicy", text, "Amazon SQS can't create the redrive allow policy. To specify one or more "
            "source queues, you must set redrivePermission to byQueue."
        )
    return _compact({"redrivePermission": doc["redrivePermission"]})


def redrive_target(attrs: Mapping[str, str]) -> tuple[str, int] | None:
    """(dead-letter queue ARN, maxReceiveCount) of a queue's RedrivePolicy, if any."""
    text = attrs.get("RedrivePolicy")
    if not text:
        return None
    doc = json.loads(text)
    return doc["deadLetterTargetArn"], int(doc["maxReceiveCount"])


def redrive_allows(dlq_attrs: Mapping[str, str], source_arn: str) -> bool:
    """Whether the dead-letter queue's RedriveAllowPolicy lets `source_arn` use it."""
    text = dlq_attrs.get("RedriveAllowPolicy")
    if not text:
        return True
    doc = json.loads(text)
    permission = doc.get("redrivePermission")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in doc.get("sourceQueueArns", ())
    return True


# -- queue identity ---------------------------------------------------------------------------


def queue_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:sqs:{region}:{account}:{name}"


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    region: str
    account: str
    name: str


def parse_arn(arn: str) -> Arn | None:
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        return None
    return Arn(parts[1], parts[3], parts[4], parts[5])


_URL = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://[^/]*)?/([^/?#]+)/([^/?#]+)/?")


def parse_queue_url(url: str) -> tuple[str, str] | None:
    """(account, queue name) of any URL whose path is ``/<account>/<name>``: the host is
    whatever the client used (cloudlet's, or ``sqs.<region>.amazonaws.com``)."""
    m = _URL.fullmatch(url.strip())
    return (m.group(1), m.group(2)) if m else None


def queue_url(base: str, account: str, name: str) -> str:
    return f"{base}/{account}/{name}"


# -- messages -------------------------------------------------------------------------------

_INVALID_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTR_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_GROUP_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def check_body(body: str) -> None:
    if _INVALID_CHARS.search(body):
        raise errors.invalid_message_contents()


def check_token(name: str, value: str) -> None:
    """MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId share one rule."""
    if not _GROUP_ID.fullmatch(value):
        raise errors.invalid_parameter(
            name, value, f"{name} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )


def check_batch_id(entry_id: str) -> bool:
    return bool(_BATCH_ID.fullmatch(entry_id))


def _attribute_kind(data_type: str) -> str | None:
    base = data_type.split(".", 1)[0]
    return base if base in ("String", "Number", "Binary") else None


def check_message_attributes(attrs: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Checks user message attributes the way SendMessage does; returns the bytes they
    count towards the message size (name, type and value)."""
    if not attrs:
        return 0
    if len(attrs) > MAX_MESSAGE_ATTRIBUTES:
        raise errors.invalid_parameter_text(
            f"Number of message attributes [{len(attrs)}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}]."
        )
    size = 0
    for name, attr in attrs.items():
        lower = name.lower()
        if (
            not _ATTR_NAME.fullmatch(name) or name.startswith(".") or name.endswith(".") or ".." in name
            or lower.startswith("aws.") or lower.startswith("amazon.")
        ):
            raise errors.invalid_parameter_text(f"Message (user) attribute name '{name}' is invalid.")
        data_type = attr.get("DataType") or ""
        kind = _attribute_kind(data_type)
        if kind is None:
            raise errors.invalid_parameter_text(
                f"The type of message (user) attribute '{name}' is invalid. You must use only the following "
                "supported type prefixes: Binary, Number, String."
            )
        if len(data_type) > 256:
            raise errors.invalid_parameter_text(f"Message (user) attribute '{name}' type must be shorter than 256 bytes.")
        if attr.get("StringListValues") or attr.get("BinaryListValues"):
            raise errors.invalid_parameter_text("Message attribute list values in SendMessage operation are not supported.")
        size += len(name.encode()) + len(data_type.encode())
        if kind == "Binary":
            value = attr.get("BinaryValue")
            if not value:
                raise errors.invalid_parameter_text(
                    f"Message (user) attribute '{name}' must contain a non-empty value of type 'Binary'."
                )
            size += len(value)
        else:
            text = attr.get("StringValue")
            if text is None or text == "":
                raise errors.invalid_parameter_text(
                    f"Message (user) attribute '{name}' must contain a non-empty value of type '{kind}'."
                )
            if kind == "Number":
                try:
                    number = Decimal(text)
                except InvalidOperation:
                    number = None
                if number is None or not number.is_finite():
                    raise errors.invalid_parameter_text(
                        f"Can't cast the value of message (user) attribute '{name}' to a number."
                    )
            elif _INVALID_CHARS.search(text):
                raise errors.invalid_parameter_text(
                    f"Message (user) attribute '{name}' value contains invalid characters."
                )
            size += len(text.encode())
    return size


def check_system_attributes(attrs: Mapping[str, Mapping[str, Any]] | None) -> None:
    for name, attr in (attrs or {}).items():
        if name != "AWSTraceHeader":
            raise errors.invalid_parameter_text(f"Message system attribute name '{name}' is invalid.")
        if attr.get("DataType") != "String" or not attr.get("StringValue"):
            raise errors.invalid_parameter_text(
                "Message system attribute 'AWSTraceHeader' must contain a non-empty value of type 'String'."
            )


# -- digests ---------------------------------------------------------------------------------


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attrs: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """AWS's documented digest of message attributes, which SDKs recompute and compare:
    for each attribute in name order, the name, the data type (each as a 4-byte
    big-endian length and its UTF-8 bytes), one transport byte (1 string or number,
    2 binary, 3 string list, 4 binary list) and the value(s), length-prefixed too."""
    if not attrs:
        return None
    h = hashlib.md5()
    for name in sorted(attrs):
        attr = attrs[name]
        h.update(_length_prefixed(name.encode()))
        h.update(_length_prefixed(str(attr.get("DataType", "")).encode()))
        if attr.get("StringValue") is not None:
            h.update(b"\x01" + _length_prefixed(attr["StringValue"].encode()))
        elif attr.get("BinaryValue") is not None:
            h.update(b"\x02" + _length_prefixed(bytes(attr["BinaryValue"])))
        elif attr.get("StringListValues"):
            h.update(b"\x03")
            for text in attr["StringListValues"]:
                h.update(_length_prefixed(text.encode()))
        elif attr.get("BinaryListValues"):
            h.update(b"\x04")
            for blob in attr["BinaryListValues"]:
                h.update(_length_prefixed(bytes(blob)))
    return h.hexdigest()


def select_attributes(attrs: Mapping[str, Any] | None, names: list[str] | None) -> dict[str, Any]:
    """The message attributes a ReceiveMessage asked for: ``All``, ``.*``, ``prefix.*`` or names."""
    if not attrs or not names:
        return {}
    if "All" in names or ".*" in names:
        return dict(attrs)
    prefixes = tuple(n[:-1] for n in names if n.endswith(".*"))
    exact = set(names)
    return {k: v for k, v in attrs.items() if k in exact or (prefixes and k.startswith(prefixes))}


def body_size(body: str, attribute_bytes: int) -> int:
    return len(body.encode("utf-8")) + attribute_bytes


# -- receipt handles and ids ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    queue_id: str
    mid: str
    nonce: str


def receipt_handle(queue_id: str, mid: str, nonce: str) -> str:
    return base64.urlsafe_b64encode(f"{queue_id} {mid} {nonce}".encode()).decode()


def parse_receipt(handle: str) -> Receipt | None:
    try:
        text = base64.urlsafe_b64decode(handle.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    parts = text.split(" ")
    if len(parts) != 3 or not all(parts):
        return None
    return Receipt(*parts)


def sequence_number(n: int) -> str:
    """FIFO sequence numbers: large, increasing per queue, as text (AWS's are 20 digits)."""
    return str(10**19 + n)


def content_dedup_id(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# -- move tasks -----------------------------------------------------------------------------


def task_handle(source_arn: str, task_id: str) -> str:
    return base64.b64encode(_compact({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()


def parse_task_handle(handle: str) -> tuple[str, str] | None:
    try:
        doc = json.loads(base64.b64decode(handle.encode("ascii"), validate=True))
        return str(doc["sourceArn"]), str(doc["taskId"])
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        return None


@dataclass(slots=True)
class Policy:
    """A queue policy document, as AddPermission writes and RemovePermission edits it."""

    doc: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> "Policy":
        return cls(json.loads(text) if text else {})

    def labels(self) -> list[str]:
        return [str(s.get("Sid")) for s in self.statements()]

    def statements(self) -> list[dict[str, Any]]:
        st = self.doc.get("Statement") or []
        return st if isinstance(st, list) else [st]

    def text(self) -> str:
        return _compact(self.doc)


def merge_tags(current: Mapping[str, str], new: Mapping[str, str], queue: str) -> dict[str, str]:
    """Tags after adding `new` (a key already there is overwritten), within AWS's limits."""
    for key, value in new.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise errors.invalid_parameter_text(f"Tag key {key!r} is invalid: 1 to 128 characters, not starting with aws:.")
        if len(value) > 256:
            raise errors.invalid_parameter_text(f"Tag value for key {key!r} must be at most 256 characters.")
    merged = {**current, **new}
    if len(merged) > MAX_TAGS:
        raise errors.invalid_parameter_text(f"Too many tags added for queue {queue}.")
    return merged
