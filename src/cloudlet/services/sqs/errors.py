"""SQS's errors: the model's shape name, the legacy query code, the HTTP status, AWS's words.

SQS speaks JSON now but was a query service (``awsQueryCompatible``). Over JSON, AWS
names the modeled shape in ``__type`` and sends the old query code in the
``x-amzn-query-error`` header; botocore (1.43, tested) reports that header's code as
``Error.Code`` and keeps the shape name as ``Error.QueryErrorCode``, and picks the
modeled exception class from it. So a boto3 user of a missing queue sees::

    except sqs.exceptions.QueueDoesNotExist as e:   # the class, from the shape name
        e.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"

Over the query protocol the XML ``<Code>`` is the legacy code. The legacy codes and
statuses are those of the ``aws.protocols#awsQueryError`` traits in SQS's Smithy model
(the shapes whose legacy code is their own name have none):

==========================  ====================================================  ======
shape (``__type``)          ``Error.Code`` boto3 reports / query ``<Code>``       status
==========================  ====================================================  ======
QueueDoesNotExist           AWS.SimpleQueueService.NonExistentQueue               400
QueueDeletedRecently        AWS.SimpleQueueService.QueueDeletedRecently           400
QueueNameExists             QueueAlreadyExists                                    400
MessageNotInflight          AWS.SimpleQueueService.MessageNotInflight             400
ReceiptHandleIsInvalid      ReceiptHandleIsInvalid                                404
PurgeQueueInProgress        AWS.SimpleQueueService.PurgeQueueInProgress           403
EmptyBatchRequest           AWS.SimpleQueueService.EmptyBatchRequest              400
TooManyEntriesInBatchRequest AWS.SimpleQueueService.TooManyEntriesInBatchRequest  400
BatchEntryIdsNotDistinct    AWS.SimpleQueueService.BatchEntryIdsNotDistinct       400
BatchRequestTooLong         AWS.SimpleQueueService.BatchRequestTooLong            400
InvalidBatchEntryId         AWS.SimpleQueueService.InvalidBatchEntryId            400
UnsupportedOperation        AWS.SimpleQueueService.UnsupportedOperation           400
OverLimit                   OverLimit                                             403
InvalidAddress              InvalidAddress                                        404
InvalidAttributeName        InvalidAttributeName                                  400
InvalidAttributeValue       InvalidAttributeValue                                 400
InvalidMessageContents      InvalidMessageContents                                400
ResourceNotFoundException   ResourceNotFoundException                             404
(not modeled)               InvalidParameterValue, MissingParameter               400
==========================  ====================================================  ======

``tests/services/test_sqs.py`` checks what boto3 reports for each of these.
"""

from __future__ import annotations

from cloudlet.core.errors import ServiceError

_PREFIX = "AWS.SimpleQueueService."


def queue_does_not_exist() -> ServiceError:
    return ServiceError(
        "QueueDoesNotExist", "The specified queue does not exist.", 400, query_code=_PREFIX + "NonExistentQueue"
    )


def queue_deleted_recently() -> ServiceError:
    return ServiceError(
        "QueueDeletedRecently",
        "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
        400,
        query_code=_PREFIX + "QueueDeletedRecently",
    )


def queue_name_exists(attribute: str) -> ServiceError:
    return ServiceError(
        "QueueNameExists",
        f"A queue already exists with the same name and a different value for attribute {attribute}",
        400,
        query_code="QueueAlreadyExists",
    )


def message_not_inflight() -> ServiceError:
    return ServiceError("MessageNotInflight", "Message is not in flight.", 400, query_code=_PREFIX + "MessageNotInflight")


def receipt_handle_invalid(handle: str) -> ServiceError:
    return ServiceError(
        "ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.', 404
    )


def receipt_handle_expired(handle: str) -> ServiceError:
    """A well-formed handle from an earlier receive: its message was received again, or
    its visibility ran out (AWS's answer for FIFO queues and visibility changes)."""
    return invalid_parameter("ReceiptHandle", handle, "The receipt handle has expired.")


def message_gone(handle: str) -> ServiceError:
    return invalid_parameter(
        "ReceiptHandle", handle, "Message does not exist or is not available for visibility timeout change."
    )


def purge_in_progress(name: str) -> ServiceError:
    return ServiceError(
        "PurgeQueueInProgress",
        f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.",
        403,
        query_code=_PREFIX + "PurgeQueueInProgress",
    )


def empty_batch(entry: str) -> ServiceError:
    return ServiceError(
        "EmptyBatchRequest",
        f"There should be at least one {entry} in the request.",
        400,
        query_code=_PREFIX + "EmptyBatchRequest",
    )


def too_many_entries(count: int) -> ServiceError:
    return ServiceError(
        "TooManyEntriesInBatchRequest",
        f"Maximum number of entries per request are 10. You have sent {count}.",
        400,
        query_code=_PREFIX + "TooManyEntriesInBatchRequest",
    )


def ids_not_distinct(entry_id: str) -> ServiceError:
    return ServiceError(
        "BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.", 400, query_code=_PREFIX + "BatchEntryIdsNotDistinct"
    )


def batch_too_long(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "BatchRequestTooLong",
        f"Batch requests cannot be longer than {limit} bytes. You have sent {size} bytes.",
        400,
        query_code=_PREFIX + "BatchRequestTooLong",
    )


def invalid_batch_entry_id() -> ServiceError:
    return ServiceError(
        "InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
        "It can be at most 80 letters long.",
        400,
        query_code=_PREFIX + "InvalidBatchEntryId",
    )


def unsupported(message: str) -> ServiceError:
    return ServiceError("UnsupportedOperation", message, 400, query_code=_PREFIX + "UnsupportedOperation")


def over_limit(message: str) -> ServiceError:
    return ServiceError("OverLimit", message, 403)


def invalid_address(url: str) -> ServiceError:
    return ServiceError("InvalidAddress", f"The address {url} is not valid for this endpoint.", 404)


def invalid_attribute_name(name: str) -> ServiceError:
    return ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.", 400)


def invalid_attribute_value(name: str, reason: str = "") -> ServiceError:
    text = f"Invalid value for the parameter {name}."
    return ServiceError("InvalidAttributeValue", f"{text} Reason: {reason}" if reason else text, 400)


def invalid_message_contents() -> ServiceError:
    return ServiceError(
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
        "#xE000 to #xFFFD | #x10000 to #x10FFFF",
        400,
    )


def resource_not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


def invalid_parameter(name: str, value: object, reason: str) -> ServiceError:
    """SQS's classic wording for a bad value: ``Value X for parameter Y is invalid. Reason: Z``."""
    return ServiceError(
        "InvalidParameterValue", f"Value {value} for parameter {name} is invalid. Reason: {reason}", 400
    )


def invalid_parameter_text(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def missing_parameter(name: str) -> ServiceError:
    return ServiceError("MissingParameter", f"The request must contain the parameter {name}.", 400)


def entry_failure(entry_id: str, err: ServiceError) -> dict[str, object]:
    """A batch's per-entry failure: AWS puts the legacy code in the entry (no header there)."""
    return {"Id": entry_id, "SenderFault": err.sender_fault, "Code": err.query_code or err.code, "Message": err.message}
