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


# what S3 answers (404) for a bucket configuration that is not set: cfg record -> (code, message)
_NOT_CONFIGURED = {
    "public-access-block": ("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
    "ownership": ("OwnershipControlsNotFoundError", "The bucket ownership controls were not found"),
    "cors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "website": ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
    "tagging": ("NoSuchTagSet", "The TagSet does not exist"),
    "policy": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
    "lifecycle": ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "replication": ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
    "object-lock": ("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"),
}


def not_configured(config: str, bucket: str) -> ServiceError:
    """The bucket has no configuration `config` (a ``cfg`` record name)."""
    code, message = _NOT_CONFIGURED[config]
    return ServiceError(code, message, 404, fields={"BucketName": bucket})


def invalid_part_number(part: int, parts: int) -> ServiceError:
    return ServiceError(
        "InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
        fields={"PartNumberRequested": str(part), "ActualPartCount": str(parts)},
    )
