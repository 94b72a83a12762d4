"""IAM's errors: codes, HTTP statuses and AWS's wording."""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def not_found(kind: str, name: str) -> ServiceError:
    """``The user with name alice cannot be found.`` (kind: user, role, group, ...)."""
    return no_such_entity(f"The {kind} with name {name} cannot be found.")


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def must_delete(what: str) -> ServiceError:
    """``Cannot delete entity, must delete policies first.`` and its siblings."""
    return delete_conflict(f"Cannot delete entity, must {what} first.")


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def policy_not_attachable(arn: str) -> ServiceError:
    return no_such_entity(f"Policy {arn} does not exist or is not attachable.")


def policy_not_found(arn: str) -> ServiceError:
    return no_such_entity(f"Policy {arn} was not found.")
