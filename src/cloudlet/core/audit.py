"""The audit trail: one CloudTrail-shaped event per request, internal calls included.

Kept in a bounded in-memory ring that CloudTrail, Config and the console read later.
Recording must not show in the benchmark, so a request stores one small tuple and the
CloudTrail dict is only built when somebody reads it.
"""

from __future__ import annotations

from functools import lru_cache

import datetime as dt
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator

_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Query", "Scan", "Search", "BatchGet", "Select",
                  "TransactGet", "Receive", "Filter", "Simulate")


@lru_cache(maxsize=4096)
def read_only(operation: str) -> bool:
    """Whether an operation only reads (CloudTrail's readOnly; such events carry no
    responseElements, which also keeps query results out of the ring)."""
    return operation.startswith(_READ_PREFIXES)


@dataclass(slots=True)
class Event:
    """What the request path records; `as_cloudtrail()` renders the event users see."""

    time: float
    event_source: str
    event_name: str
    region: str
    account: str
    principal_arn: str
    access_key: str
    source_ip: str
    user_agent: str
    request_id: str
    request_parameters: dict[str, Any] | None
    response_elements: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    internal: bool = False
    seq: int = 0

    def as_cloudtrail(self) -> dict[str, Any]:
        when = dt.datetime.fromtimestamp(self.time, dt.timezone.utc)
        identity: dict[str, Any] = {
            "type": _identity_type(self.principal_arn, self.internal),
            "arn": self.principal_arn,
            "accountId": self.account,
        }
        if self.internal:
            identity = {"type": "AWSService", "invokedBy": self.principal_arn}
        else:
            identity["principalId"] = self.account if identity["type"] == "Root" else self.access_key
            identity["accessKeyId"] = self.access_key
        event: dict[str, Any] = {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "awsRegion": self.region,
            "sourceIPAddress": self.principal_arn if self.internal else self.source_ip,
            "userAgent": self.user_agent,
            "requestParameters": _jsonable(self.request_parameters),
            "responseElements": _jsonable(self.response_elements),
            "requestID": self.request_id,
            # derived from the sequence so reading twice gives the same id
            "eventID": str(uuid.UUID(int=(hash(self.request_id) & ((1 << 64) - 1)) << 64 | self.seq)),
            "readOnly": read_only(self.event_name),
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.account,
        }
        if self.error_code is not None:
            event["errorCode"] = self.error_code
            event["errorMessage"] = self.error_message or ""
        return event


def _identity_type(arn: str, internal: bool) -> str:
    if internal:
        return "AWSService"
    if arn.endswith(":root"):
        return "Root"
    if ":assumed-role/" in arn:
        return "AssumedRole"
    if ":federated-user/" in arn:
        return "FederatedUser"
    return "IAMUser"


def _jsonable(value: Any) -> Any:
    """Request/response values as CloudTrail shows them: no raw bytes, dates as text."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "HIDDEN_DUE_TO_SECURITY_REASONS"
    if isinstance(value, dt.datetime):
        return value.strftime("%b %d, %Y %I:%M:%S %p")
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class AuditLog:
    """A bounded ring of events, newest last; thread-safe for the scheduler's writers."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._events: deque[Event] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, event: Event) -> None:
        with self._lock:
            self._seq += 1
            event.seq = self._seq
            self._events.append(event)

    def __len__(self) -> int:
        return len(self._events)

    def query(
        self,
        *,
        account: str | None = None,
        region: str | None = None,
        event_source: str | None = None,
        event_name: str | None = None,
        since: float | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Newest first, like CloudTrail's LookupEvents."""
        out: list[dict[str, Any]] = []
        for event in self._newest_first():
            if since is not None and event.time < since:
                break
            if account and event.account != account:
                continue
            if region and event.region != region:
                continue
            if event_source and event.event_source != event_source:
                continue
            if event_name and event.event_name != event_name:
                continue
            out.append(event.as_cloudtrail())
            if len(out) >= limit:
                break
        return out

    def _newest_first(self) -> Iterator[Event]:
        with self._lock:
            snapshot = list(self._events)
        return reversed(snapshot)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
