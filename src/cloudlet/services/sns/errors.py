"""SNS's errors: the model's codes and statuses, in AWS's wording.

SNS is a query service, so the code boto3 reports is the modeled ``error.code``
(``NotFound``, ``InvalidParameter``, ``AuthorizationError``...), not the shape name.
Most of SNS's validation failures are ``InvalidParameter`` with a message that starts
``Invalid parameter: `` and names the parameter, sometimes with ``Reason: ...``.
"""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def invalid(text: str) -> ServiceError:
    """``InvalidParameter: Invalid parameter: <text>``."""
    return ServiceError("InvalidParameter", f"Invalid parameter: {text}", 400)


def invalid_raw(message: str) -> ServiceError:
    """An InvalidParameter whose message is not in the ``Invalid parameter:`` form."""
    return ServiceError("InvalidParameter", message, 400)


def invalid_value(message: str) -> ServiceError:
    """``ParameterValueInvalid`` (InvalidParameterValueException): mostly message attributes."""
    return ServiceError("ParameterValueInvalid", message, 400)


def topic_not_found() -> ServiceError:
    return ServiceError("NotFound", "Topic does not exist", 404)


def subscription_not_found() -> ServiceError:
    return ServiceError("NotFound", "Subscription does not exist", 404)


def endpoint_not_found() -> ServiceError:
    return ServiceError("NotFound", "Endpoint does not exist", 404)


def application_not_found() -> ServiceError:
    return ServiceError("NotFound", "PlatformApplication does not exist", 404)


def resource_not_found() -> ServiceError:
    return ServiceError("ResourceNotFound", "Resource does not exist", 404)


def not_authorized(principal: str, action: str, resource: str) -> ServiceError:
    return ServiceError(
        "AuthorizationError",
        f"User: {principal} is not authorized to perform: SNS:{action} on resource: {resource} "
        f"because no resource-based policy allows the SNS:{action} action",
        403,
    )


def tag_limit() -> ServiceError:
    return ServiceError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded", 400)


def tag_policy(message: str) -> ServiceError:
    return ServiceError("TagPolicy", message, 400)


def empty_batch() -> ServiceError:
    return ServiceError("EmptyBatchRequest", "The batch request doesn't contain any entries.", 400)


def too_many_entries() -> ServiceError:
    return ServiceError(
        "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.", 400
    )


def ids_not_distinct() -> ServiceError:
    return ServiceError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.", 400)


def invalid_batch_id() -> ServiceError:
    return ServiceError(
        "InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification.", 400
    )


def batch_too_long() -> ServiceError:
    return ServiceError(
        "BatchRequestTooLong", "The length of all the messages put together is more than the limit.", 400
    )


def entry_failure(entry_id: str, err: ServiceError) -> dict[str, object]:
    """One failed entry of a PublishBatch."""
    return {"Id": entry_id, "Code": err.code, "Message": err.message, "SenderFault": err.sender_fault}
