"""Lambda's errors: the model's codes and statuses, in AWS's words.

Every Lambda error body carries ``Type`` ("User" for the caller's mistakes, "Service"
for ours) beside the message, as AWS sends it; botocore exposes it as ``Error.Type``.
"""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def _user(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status, fields={"Type": "User"})


def invalid(message: str) -> ServiceError:
    return _user("InvalidParameterValueException", message, 400)


def not_found(message: str = "The resource you requested does not exist.") -> ServiceError:
    return _user("ResourceNotFoundException", message, 404)


def function_not_found(arn: str) -> ServiceError:
    return not_found(f"Function not found: {arn}")


def alias_not_found(arn: str) -> ServiceError:
    return not_found(f"Alias not found: {arn}")


def conflict(message: str) -> ServiceError:
    return _user("ResourceConflictException", message, 409)


def precondition_failed(what: str = "GetFunction/GetAlias") -> ServiceError:
    return _user(
        "PreconditionFailedException",
        f"The Revision Id provided does not match the latest Revision Id. Call the {what} API to retrieve "
        "the latest Revision Id",
        412,
    )


def too_large(message: str) -> ServiceError:
    return _user("RequestTooLargeException", message, 413)


def validation(field: str, value: object, constraint: str) -> ServiceError:
    """The wording of the request validator, for limits tighter than the model's."""
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}",
        400,
    )


def policy_too_long() -> ServiceError:
    return _user("PolicyLengthExceededException", "The final policy size (20481) is bigger than the limit (20480).", 400)


def provisioned_not_found(message: str = "No Provisioned Concurrency Config found for this function") -> ServiceError:
    return _user("ProvisionedConcurrencyConfigNotFoundException", message, 404)
