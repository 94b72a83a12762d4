"""EventBridge's errors: the model's codes, AWS's wording, and the status (400 for all of
them but InternalException, as AWS answers).

The wording is what AWS returns (public error reports and SDK test suites recorded
against AWS): ``Rule x does not exist on EventBus default.``, ``Parameter
ScheduleExpression is not valid.``, ``Rule can't be deleted since it has targets.``.
"""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 400)


def exists(message: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", message, 400)


def bus_not_found(name: str) -> ServiceError:
    return not_found(f"Event bus {name} does not exist.")


def rule_not_found(name: str, bus: str) -> ServiceError:
    return not_found(f"Rule {name} does not exist on EventBus {bus}.")


def invalid_pattern(message: str) -> ServiceError:
    """`message` is the pattern engine's, already in AWS's words (``Event pattern is not
    valid. Reason: ...``)."""
    return ServiceError("InvalidEventPatternException", message, 400)


def limit_exceeded(message: str = "The requested resource exceeds the maximum number allowed.") -> ServiceError:
    return ServiceError("LimitExceededException", message, 400)


def illegal_status(message: str) -> ServiceError:
    return ServiceError("IllegalStatusException", message, 400)


def invalid_schedule() -> ServiceError:
    return validation("Parameter ScheduleExpression is not valid.")


def bad_parameter(name: str, reason: str | None = None) -> ServiceError:
    """AWS's common form: ``Parameter X is not valid.`` with an optional ``Reason: ...``."""
    text = f"Parameter {name} is not valid."
    return validation(f"{text} Reason: {reason}" if reason else text)


def bad_token() -> ServiceError:
    return validation("The nextToken provided is invalid.")


def policy_too_long() -> ServiceError:
    return ServiceError("PolicyLengthExceededException", "The policy is too long.", 400)
