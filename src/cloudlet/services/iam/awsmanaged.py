"""AWS managed policies cloudlet knows: ``arn:aws:iam::aws:policy/<path><name>``.

They exist in every account, cannot be changed or deleted, and are listed with
``Scope=AWS``. Documents marked *summarised* are shorter than AWS's (which list hundreds
of actions) but grant the same families of access; the others are AWS's documents.
Ids and dates are fixed per policy (derived from the name), as AWS's are.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

_V = "2012-10-17"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": _V, "Statement": list(statements)}, indent=4)


def _allow(actions: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


# (path, name, description, document)
_POLICIES: list[tuple[str, str, str, str]] = [
    ("/", "AdministratorAccess", "Provides full access to AWS services and resources.", _doc(_allow("*"))),
    (
        "/",
        "ReadOnlyAccess",  # summarised: AWS lists each service's read actions
        "Provides read-only access to AWS services and resources.",
        _doc(_allow(["*:Describe*", "*:Get*", "*:List*", "*:BatchGet*", "*:Query", "*:Scan", "*:Select*", "*:Lookup*", "*:View*"])),
    ),
    (
        "/",
        "PowerUserAccess",  # AWS's document
        "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
        _doc(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            _allow(
                [
                    "account:GetAccountInformation",
                    "account:GetPrimaryEmail",
                    "account:ListRegions",
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                ]
            ),
        ),
    ),
    (
        "/",
        "IAMFullAccess",
        "Provides full access to IAM via the AWS Management Console.",
        _doc(
            _allow(
                [
                    "iam:*",
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListPolicies",
                    "organizations:ListTargetsForPolicy",
                ]
            )
        ),
    ),
    (
        "/",
        "IAMReadOnlyAccess",
        "Provides read only access to IAM via the AWS Management Console.",
        _doc(_allow(["iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails", "iam:Get*", "iam:List*", "iam:SimulateCustomPolicy", "iam:SimulatePrincipalPolicy"])),
    ),
    (
        "/",
        "AmazonS3FullAccess",
        "Provides full access to all buckets via the AWS Management Console.",
        _doc(_allow(["s3:*", "s3-object-lambda:*"])),
    ),
    (
        "/",
        "AmazonS3ReadOnlyAccess",
        "Provides read only access to all buckets via the AWS Management Console.",
        _doc(_allow(["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"])),
    ),
    (
        "/",
        "AmazonSQSFullAccess",
        "Provides full access to Amazon SQS via the AWS Management Console.",
        _doc(_allow(["sqs:*"])),
    ),
    (
        "/",
        "AmazonSQSReadOnlyAccess",
        "Provides read only access to Amazon SQS via the AWS Management Console.",
        _doc(_allow(["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListDeadLetterSourceQueues", "sqs:ListQueues", "sqs:ListMessageMoveTasks", "sqs:ListQueueTags"])),
    ),
    (
        "/",
        "AmazonSNSFullAccess",
        "Provides full access to Amazon SNS via the AWS Management Console.",
        _doc(_allow(["sns:*"])),
    ),
    (
        "/",
        "AmazonDynamoDBFullAccess",  # summarised: AWS adds the console's companion services
        "Provides full access to Amazon DynamoDB via the AWS Management Console.",
        _doc(
            _allow(
                [
                    "dynamodb:*",
                    "dax:*",
                    "application-autoscaling:*",
                    "cloudwatch:DeleteAlarms",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:GetMetricData",
                    "cloudwatch:PutMetricAlarm",
                    "kinesis:DescribeStream",
                    "kinesis:ListStreams",
                    "kms:DescribeKey",
                    "kms:ListAliases",
                    "lambda:ListFunctions",
                    "sns:ListTopics",
                    "iam:GetRole",
                    "iam:ListRoles",
                ]
            ),
            _allow("iam:PassRole", "*", Condition={"StringLike": {"iam:PassedToService": ["application-autoscaling.amazonaws.com", "dax.amazonaws.com"]}}),
        ),
    ),
    (
        "/",
        "AmazonDynamoDBReadOnlyAccess",  # summarised
        "Provides read only access to Amazon DynamoDB via the AWS Management Console.",
        _doc(
            _allow(
                [
                    "dynamodb:BatchGetItem",
                    "dynamodb:Describe*",
                    "dynamodb:List*",
                    "dynamodb:GetAbacStatus",
                    "dynamodb:GetItem",
                    "dynamodb:GetResourcePolicy",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:PartiQLSelect",
                    "dax:Describe*",
                    "dax:List*",
                    "dax:GetItem",
                    "dax:BatchGetItem",
                    "dax:Query",
                    "dax:Scan",
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingPolicies",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:GetMetricData",
                ]
            )
        ),
    ),
    (
        "/service-role/",
        "AWSLambdaBasicExecutionRole",
        "Provides write permissions to CloudWatch Logs.",
        _doc(_allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])),
    ),
    (
        "/",
        "AWSLambda_FullAccess",  # summarised
        "Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.",
        _doc(
            _allow(
                [
                    "lambda:*",
                    "cloudformation:DescribeStacks",
                    "cloudformation:ListStackResources",
                    "cloudwatch:ListMetrics",
                    "cloudwatch:GetMetricData",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                    "kms:ListAliases",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                    "iam:ListRoles",
                    "logs:DescribeLogGroups",
                    "states:DescribeStateMachine",
                    "states:ListStateMachines",
                    "tag:GetResources",
                    "xray:GetTraceSummaries",
                    "xray:BatchGetTraces",
                ]
            ),
            _allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
            _allow(["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartLiveTail", "logs:StopLiveTail"], "arn:aws:logs:*:*:log-group:/aws/lambda/*"),
        ),
    ),
    (
        "/",
        "CloudWatchFullAccess",  # summarised
        "Provides full access to CloudWatch.",
        _doc(
            _allow(["autoscaling:Describe*", "cloudwatch:*", "logs:*", "sns:*", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "oam:ListSinks"]),
            _allow("iam:CreateServiceLinkedRole", "arn:aws:iam::*:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents*", Condition={"StringLike": {"iam:AWSServiceName": "events.amazonaws.com"}}),
        ),
    ),
    (
        "/",
        "AmazonEC2FullAccess",
        "Provides full access to Amazon EC2 via the AWS Management Console.",
        _doc(
            _allow(["ec2:*", "elasticloadbalancing:*", "cloudwatch:*", "autoscaling:*"]),
            _allow(
                "iam:CreateServiceLinkedRole",
                "*",
                Condition={
                    "StringEquals": {
                        "iam:AWSServiceName": [
                            "autoscaling.amazonaws.com",
                            "ec2scheduled.amazonaws.com",
                            "elasticloadbalancing.amazonaws.com",
                            "spot.amazonaws.com",
                            "spotfleet.amazonaws.com",
                            "transitgateway.amazonaws.com",
                        ]
                    }
                },
            ),
        ),
    ),
    (
        "/",
        "SecurityAudit",  # summarised: AWS lists the read actions of every service
        "The security audit template grants access to read security configuration metadata.",
        _doc(_allow(["*:Describe*", "*:Get*", "*:List*", "iam:GenerateCredentialReport", "iam:SimulatePrincipalPolicy", "iam:SimulateCustomPolicy"])),
    ),
    (
        "/",
        "AmazonSSMReadOnlyAccess",
        "Provides read only access to Amazon SSM.",
        _doc(_allow(["ssm:Describe*", "ssm:Get*", "ssm:List*"])),
    ),
]

#: the date AWS shows on its oldest managed policies; cloudlet's all carry it
_CREATED = dt.datetime(2015, 2, 6, 18, 39, 46, tzinfo=dt.timezone.utc)


def _policy_id(name: str) -> str:
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return "ANPA" + digest[:17]


def _build() -> dict[str, dict[str, Any]]:
    out = {}
    for path, name, description, document in _POLICIES:
        arn = f"arn:aws:iam::aws:policy{path}{name}"
        out[arn] = {
            "Name": name,
            "Id": _policy_id(name),
            "Arn": arn,
            "Path": path,
            "Description": description,
            "CreateDate": _CREATED,
            "UpdateDate": _CREATED,
            "DefaultVersion": "v1",
            "Versions": [{"VersionId": "v1", "Document": document, "CreateDate": _CREATED}],
            "Tags": {},
            "AwsManaged": True,
        }
    return out


#: ARN -> policy record (same shape as a customer managed policy record)
POLICIES: dict[str, dict[str, Any]] = _build()


def is_aws_arn(arn: str) -> bool:
    return arn.startswith("arn:aws:iam::aws:policy/")
