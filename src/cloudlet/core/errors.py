"""The one error type a handler raises; the protocol layer renders it per protocol."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An AWS error: `code` is what botocore reports as ``Error.Code``.

    `fields` carries extra members of the modeled error shape (e.g. DynamoDB's
    ``CancellationReasons``); `query_code` is the legacy code some services report in
    the query protocol (SQS's ``AWS.SimpleQueueService.NonExistentQueue``); `headers`
    are extra response headers.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int = 400,
        *,
        sender_fault: bool | None = None,
        fields: dict[str, Any] | None = None,
        query_code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = status < 500 if sender_fault is None else sender_fault
        self.fields = fields or {}
        self.query_code = query_code
        self.headers = headers or {}


def not_implemented(service: str, operation: str) -> ServiceError:
    """The answer for an operation cloudlet has no handler for: never a fake success."""
    return ServiceError(
        "NotImplemented",
        f"cloudlet does not implement {service}:{operation} yet.",
        501,
        sender_fault=False,
    )


def bad_request(message: str, code: str = "MalformedInput") -> ServiceError:
    """Input that could not be parsed at all (bad XML, JSON, CBOR, truncated chunks)."""
    return ServiceError(code, message, 400)
