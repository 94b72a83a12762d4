"""DynamoDB's most common answer to bad input, in one place."""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def invalid(message: str) -> ServiceError:
    """A ValidationException (400) with DynamoDB's message, which users match on."""
    return ServiceError("ValidationException", message, 400)
