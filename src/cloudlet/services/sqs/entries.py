"""One message's send, delete and visibility change, and the shape of a received
message: shared by the single operations and their batch versions, which run the same
checks per entry and report a failure per entry instead of failing the call.
"""

from __future__ import annotations

import uuid
from typing import Any, Mapping

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.sqs import errors, model, storage
from cloudlet.services.sqs.storage import Msg, Queue

#: message system attributes a receive can ask for ("All" means these)
SYSTEM_ATTRIBUTES = (
    "SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
    "SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader", "DeadLetterQueueSourceArn",
)


def now_ms(seconds: float) -> int:
    return int(seconds * 1000)


def sender_id(ctx: Context) -> str:
    """What SenderId shows: the account id for root, else the caller's key (the user or
    role id stands in, as GetCallerIdentity's UserId does), else the service principal."""
    if ctx.principal_arn.endswith(":root"):
        return ctx.account
    return ctx.access_key or ctx.principal_arn


def message_size(entry: Mapping[str, Any]) -> int:
    """Bytes a send entry counts toward its message's and its batch's limit."""
    size = len((entry.get("MessageBody") or "").encode("utf-8"))
    for name, attr in (entry.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len(str(attr.get("DataType", "")).encode())
        if attr.get("StringValue") is not None:
            size += len(attr["StringValue"].encode())
        elif attr.get("BinaryValue") is not None:
            size += len(attr["BinaryValue"])
    return size


def prepare(ctx: Context, q: Queue, entry: Mapping[str, Any], now: int) -> tuple[Msg, int]:
    """Check a send entry against the queue; returns (message record, delay seconds)."""
    body = entry.get("MessageBody")
    if not body:
        raise errors.missing_parameter("MessageBody")
    model.check_body(body)
    attrs = entry.get("MessageAttributes") or None
    attr_bytes = model.check_message_attributes(attrs)
    system = entry.get("MessageSystemAttributes") or None
    model.check_system_attributes(system)
    stored = system
    if ctx.trace_header and not (system and "AWSTraceHeader" in system):
        # the request's X-Amzn-Trace-Id becomes the message's AWSTraceHeader (an explicit
        # one wins), as AWS keeps it: Lambda reads its Lineage to stop recursive loops
        stored = {**(system or {}), "AWSTraceHeader": {"DataType": "String", "StringValue": ctx.trace_header}}
    limit = q.int_attr("MaximumMessageSize")
    if model.body_size(body, attr_bytes) > limit:
        raise errors.invalid_parameter_text(
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )
    group = entry.get("MessageGroupId")
    dedup = entry.get("MessageDeduplicationId")
    delay = entry.get("DelaySeconds")
    if group is not None:
        model.check_token("MessageGroupId", group)
    if q.fifo:
        if delay:
            raise errors.invalid_parameter(
                "DelaySeconds", delay, "The request include parameter that is not valid for this queue type."
            )
        if group is None:
            raise errors.missing_parameter("MessageGroupId")
        if dedup is None:
            if not model.is_true(q.attrs.get("ContentBasedDeduplication")):
                raise errors.invalid_parameter_text(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                    "provided explicitly"
                )
            dedup = model.content_dedup_id(body)
        else:
            model.check_token("MessageDeduplicationId", dedup)
        delay = q.int_attr("DelaySeconds")
    else:
        if dedup is not None:
            raise errors.invalid_parameter(
                "MessageDeduplicationId", dedup, "The request include parameter that is not valid for this queue type."
            )
        if delay is None:
            delay = q.int_attr("DelaySeconds")
        elif not 0 <= delay <= model.MAX_DELAY_S:
            raise errors.invalid_parameter("DelaySeconds", delay, "DelaySeconds must be >= 0 and <= 900.")
    m: Msg = {
        "id": str(uuid.uuid4()),
        "body": body,
        "md5b": model.md5_of_body(body),
        "ma": attrs,
        "md5a": model.md5_of_attributes(attrs),
        "sa": stored,
        "md5s": model.md5_of_attributes(system),
        "sent": now,
        "sender": sender_id(ctx),
        "grp": group,
        "dedup": dedup if q.fifo else None,
        "rc": 0,
        "frc": None,
        "enq": None,
        "dlq": None,
    }
    return m, delay


def send(tx: Tx, q: Queue, m: Msg, delay: int, now: int) -> dict[str, Any]:
    """Enqueue a prepared message (a FIFO duplicate inside the window is accepted and
    dropped, answering the first one's id); returns the send result."""
    if q.fifo:
        storage.sweep(tx, q, now)
        scope = m["grp"] if q.attrs.get("DeduplicationScope") == "messageGroup" else ""
        key = f"{scope} {m['dedup']}"
        seen = storage.remembered(tx, q, "u", key, now)
        if seen is not None:
            m["id"], m["seq"] = seen["id"], seen["seq"]
        else:
            storage.enqueue(tx, q, m, now, delay)
            storage.remember(tx, q, "u", key, {"id": m["id"], "seq": m["seq"]}, now)
    else:
        storage.enqueue(tx, q, m, now, delay)
    out: dict[str, Any] = {"MessageId": m["id"], "MD5OfMessageBody": m["md5b"]}
    if m["md5a"]:
        out["MD5OfMessageAttributes"] = m["md5a"]
    if m["md5s"]:
        out["MD5OfMessageSystemAttributes"] = m["md5s"]
    if q.fifo:
        out["SequenceNumber"] = m["seq"]
    return out


def _receipt(q: Queue, handle: str) -> model.Receipt:
    receipt = model.parse_receipt(handle)
    if receipt is None or receipt.queue_id != q.id:
        raise errors.receipt_handle_invalid(handle)
    return receipt


def delete(tx: Tx, q: Queue, handle: str, now: int) -> bool:
    """Delete by receipt handle; True if a message went. A standard queue deletes with
    any of the message's handles (AWS: "even if ... locked by another consumer"); a
    FIFO queue only with the current one, while the message is in flight."""
    receipt = _receipt(q, handle)
    m = storage.get_message(tx, q, receipt.mid)
    if m is None:
        return False  # already deleted: AWS answers success
    if q.fifo and (m.get("rh") != receipt.nonce or not storage.in_flight(m, now)):
        raise errors.receipt_handle_expired(handle)
    storage.remove(tx, q, receipt.mid, m)
    return True


def change_visibility(tx: Tx, q: Queue, handle: str, timeout: int, now: int) -> None:
    if not 0 <= timeout <= model.MAX_VISIBILITY_S:
        raise errors.invalid_parameter("VisibilityTimeout", timeout, "Must be >= 0 and <= 43200, if provided.")
    receipt = _receipt(q, handle)
    m = storage.get_message(tx, q, receipt.mid)
    if m is None:
        raise errors.message_gone(handle)
    if not storage.in_flight(m, now):
        raise errors.message_not_inflight()
    if m.get("rh") != receipt.nonce:
        raise errors.receipt_handle_expired(handle)
    if (now - m["rt"]) // 1000 + timeout > model.MAX_VISIBILITY_S:
        raise errors.invalid_parameter(
            "VisibilityTimeout", timeout, "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
        )
    storage.change_visibility(tx, q, receipt.mid, m, now, timeout)


def received(q: Queue, mid: str, m: Msg, system_names: set[str], attribute_names: list[str] | None) -> dict[str, Any]:
    """A received message as ReceiveMessage answers it, with the attributes asked for;
    the attribute digest covers the attributes returned."""
    out: dict[str, Any] = {
        "MessageId": m["id"],
        "ReceiptHandle": model.receipt_handle(q.id, mid, m["rh"]),
        "MD5OfBody": m["md5b"],
        "Body": m["body"],
    }
    if system_names:
        want = SYSTEM_ATTRIBUTES if "All" in system_names else system_names
        available = {
            "SenderId": m["sender"],
            "SentTimestamp": str(m["sent"]),
            "ApproximateReceiveCount": str(m["rc"]),
            "ApproximateFirstReceiveTimestamp": str(m["frc"]),
            "SequenceNumber": m.get("seq") if q.fifo else None,
            "MessageDeduplicationId": m.get("dedup") if q.fifo else None,
            "MessageGroupId": m.get("grp"),
            "AWSTraceHeader": (m.get("sa") or {}).get("AWSTraceHeader", {}).get("StringValue"),
            "DeadLetterQueueSourceArn": m.get("dlq"),
        }
        attrs = {k: available[k] for k in want if available.get(k) is not None}
        if attrs:
            out["Attributes"] = attrs
    chosen = model.select_attributes(m.get("ma"), attribute_names)
    if chosen:
        out["MessageAttributes"] = chosen
        out["MD5OfMessageAttributes"] = model.md5_of_attributes(chosen)
    return out
