"""Which IAM action(s) and resource ARN(s) an operation touches.

The IAM action is ``<iam prefix>:<Operation>`` except where AWS names it otherwise;
the prefix is the service's signing name except where IAM uses another one. Resource
ARNs come from the service package when it declares a ``resources(ctx, op, params)``
function; otherwise ``*``, as AWS does for actions without resource-level permissions.
"""

from __future__ import annotations

from functools import lru_cache

from cloudlet.protocol.model import load_service

# IAM prefixes that differ from the signing name.
_PREFIX = {
    "monitoring": "cloudwatch",
    "email": "ses",
    "execute-api": "execute-api",
    "cognito-idp": "cognito-idp",
    "states": "states",
    "elasticmapreduce": "elasticmapreduce",
    "elasticloadbalancing": "elasticloadbalancing",
    "es": "es",
}

_S3 = {
    "ListObjectsV2": ("s3:ListBucket",),
    "ListObjects": ("s3:ListBucket",),
    "HeadBucket": ("s3:ListBucket",),
    "HeadObject": ("s3:GetObject",),
    "ListObjectVersions": ("s3:ListBucketVersions",),
    "ListBuckets": ("s3:ListAllMyBuckets",),
    "ListDirectoryBuckets": ("s3express:ListAllMyDirectoryBuckets",),
    "CreateMultipartUpload": ("s3:PutObject",),
    "UploadPart": ("s3:PutObject",),
    "CompleteMultipartUpload": ("s3:PutObject",),
    "UploadPartCopy": ("s3:PutObject", "s3:GetObject"),
    "CopyObject": ("s3:PutObject", "s3:GetObject"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload",),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads",),
    "ListParts": ("s3:ListMultipartUploadParts",),
    "DeleteObjects": ("s3:DeleteObject",),
    "GetObjectAttributes": ("s3:GetObject", "s3:GetObjectAttributes"),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration",),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration",),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration",),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification",),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification",),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration",),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration",),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration",),
    "GetBucketReplication": ("s3:GetReplicationConfiguration",),
    "PutBucketReplication": ("s3:PutReplicationConfiguration",),
    "DeleteBucketReplication": ("s3:PutReplicationConfiguration",),
    "DeleteBucketCors": ("s3:PutBucketCORS",),
    "GetBucketCors": ("s3:GetBucketCORS",),
    "PutBucketCors": ("s3:PutBucketCORS",),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy",),
    "DeleteBucketTagging": ("s3:PutBucketTagging",),
    "DeleteBucketWebsite": ("s3:DeleteBucketWebsite",),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration",),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration",),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls",),
    "GetBucketAccelerateConfiguration": ("s3:GetAccelerateConfiguration",),
    "PutBucketAccelerateConfiguration": ("s3:PutAccelerateConfiguration",),
    "GetBucketIntelligentTieringConfiguration": ("s3:GetIntelligentTieringConfiguration",),
    "GetBucketMetricsConfiguration": ("s3:GetMetricsConfiguration",),
    "GetBucketAnalyticsConfiguration": ("s3:GetAnalyticsConfiguration",),
    "GetBucketInventoryConfiguration": ("s3:GetInventoryConfiguration",),
    "PutBucketInventoryConfiguration": ("s3:PutInventoryConfiguration",),
    "GetBucketLogging": ("s3:GetBucketLogging",),
    "RestoreObject": ("s3:RestoreObject",),
    "SelectObjectContent": ("s3:GetObject",),
    "WriteGetObjectResponse": ("s3-object-lambda:WriteGetObjectResponse",),
}

_OTHER = {
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
    ("lambda", "InvokeAsync"): ("lambda:InvokeFunction",),
    ("lambda", "InvokeWithResponseStream"): ("lambda:InvokeFunction",),
    ("lambda", "ListVersionsByFunction"): ("lambda:ListVersionsByFunction",),
    ("dynamodb", "TransactWriteItems"): ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"),
    ("dynamodb", "TransactGetItems"): ("dynamodb:GetItem",),
    ("dynamodb", "BatchExecuteStatement"): ("dynamodb:PartiQLSelect",),
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    ("sns", "PublishBatch"): ("sns:Publish",),
}


@lru_cache(maxsize=None)
def iam_prefix(service: str) -> str:
    model = load_service(service)
    signing = model.metadata.get("signingName") or model.metadata.get("endpointPrefix") or service
    return _PREFIX.get(signing, signing)


@lru_cache(maxsize=None)
def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    """The IAM action names checked for one call of `operation`."""
    if service == "s3":
        return _S3.get(operation, (f"s3:{operation}",))
    special = _OTHER.get((service, operation))
    if special:
        return special
    return (f"{iam_prefix(service)}:{operation}",)
