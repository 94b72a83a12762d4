"""EventBridge Scheduler's errors: the model's codes and statuses, in AWS's words."""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def schedule_not_found(name: str) -> ServiceError:
    return not_found(f"Schedule {name} does not exist.")


def group_not_found(name: str) -> ServiceError:
    return not_found(f"Schedule group {name} does not exist.")


def bad_expression(expression: str) -> ServiceError:
    return validation(f"Invalid Schedule Expression {expression}.")


def bad_timezone(zone: str) -> ServiceError:
    return validation(f"Invalid timezone {zone}.")


def bad_token() -> ServiceError:
    return validation("Invalid NextToken.")
