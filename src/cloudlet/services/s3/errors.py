"""S3's errors, worded as S3 words them (users and SDKs match on code and status)."""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def no_such_bucket(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": bucket})


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def no_such_version(key: str, version_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        fields={"Key": key, "VersionId": version_id},
    )


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> ServiceError:
    fields = {}
    if name is not None:
        fields = {"ArgumentName": name, "ArgumentValue": "" if value is None else value}
    return ServiceError("InvalidArgument", message, 400, fields=fields)


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def method_not_allowed(method: str, resource: str) -> ServiceError:
    return ServiceError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        fields={"Method": method, "ResourceType": resource},
    )


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
        fields={"Condition": condition},
    )


def not_modified() -> ServiceError:
    return ServiceError("NotModified", "Not Modified", 304)


def access_denied(message: str = "Access Denied") -> ServiceError:
    return ServiceError("AccessDenied", message, 403)


def invalid_part_number(part: int, parts: int) -> ServiceError:
    return ServiceError(
        "InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
        fields={"PartNumberRequested": str(part), "ActualPartCount": str(parts)},
    )
