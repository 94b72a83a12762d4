"""CloudWatch Logs' errors, with AWS's codes and wording (all 400: Logs reports every
client fault, missing resources included, with status 400)."""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def group_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log group does not exist.", 400)


def stream_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log stream does not exist.", 400)


def resource_not_found(message: str = "The specified resource does not exist.") -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 400)


def group_exists() -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", "The specified log group already exists", 400)


def stream_exists() -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", "The specified log stream already exists", 400)


def bad_token() -> ServiceError:
    return invalid("The specified nextToken is invalid.")


def too_many_tags(arn: str) -> ServiceError:
    return ServiceError(
        "TooManyTagsException", f"A resource can have no more than 50 tags: {arn}", 400,
        fields={"resourceName": arn},
    )


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message, 400)


def deletion_protected() -> ServiceError:
    return ServiceError(
        "ValidationException",
        "Log group deletion protection is enabled. Disable it before deleting the log group.", 400,
    )
