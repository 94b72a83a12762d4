"""SNS's pure rules: ARNs and names, topic and subscription attributes, their
defaults, validation and the views GetTopicAttributes/GetSubscriptionAttributes return.

Nothing here touches the store or the clock: handlers pass records in and get values out.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from cloudlet.services.sns import deliverypolicy, errors
from cloudlet.core.arns import parse_arn

_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_PHONE = re.compile(r"\+?[0-9]{7,15}")

#: protocols Subscribe accepts
PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
#: protocols that take raw message delivery
RAW_PROTOCOLS = ("http", "https", "sqs", "firehose")

#: topic attributes for delivery-status logging: accepted and returned, not acted on
_FEEDBACK = tuple(
    f"{p}{kind}"
    for p in ("Application", "HTTP", "Firehose", "Lambda", "SQS")
    for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
)
TOPIC_SETTABLE = frozenset(
    {
        "DeliveryPolicy", "DisplayName", "Policy", "TracingConfig", "KmsMasterKeyId", "SignatureVersion",
        "ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope", "DataProtectionPolicy", *_FEEDBACK,
    }
)
TOPIC_CREATE_ONLY = frozenset({"FifoTopic"})
SUB_SETTABLE = frozenset(
    {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
     "SubscriptionRoleArn", "ReplayPolicy"}
)

DEFAULT_ACTIONS = [
    "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
    "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
]


# -- ARNs ------------------------------------------------------------------------------------




def topic_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:sns:{region}:{account}:{name}"


@dataclass(frozen=True, slots=True)
class TopicRef:
    """Where a topic lives, from its ARN."""

    partition: str
    region: str
    account: str
    name: str

    @property
    def arn(self) -> str:
        return topic_arn(self.partition, self.region, self.account, self.name)


def parse_topic_arn(text: str | None, param: str = "TopicArn") -> TopicRef:
    arn = parse_arn(text or "")
    if arn is None or arn.service != "sns" or ":" in arn.resource or not _TOPIC_NAME.fullmatch(
        arn.resource[:-5] if arn.resource.endswith(".fifo") else arn.resource
    ):
        raise errors.invalid(param)
    return TopicRef(arn.partition, arn.region, arn.account, arn.resource)


def parse_subscription_arn(text: str | None) -> tuple[TopicRef, str]:
    """(topic, subscription id) of a subscription ARN, or InvalidParameter."""
    arn = parse_arn(text or "")
    if arn is None or arn.service != "sns" or arn.resource.count(":") != 1:
        raise errors.invalid("SubscriptionArn")
    name, sub_id = arn.resource.split(":")
    if not sub_id:
        raise errors.invalid("SubscriptionArn")
    return TopicRef(arn.partition, arn.region, arn.account, name), sub_id


def queue_url_of(base: str, queue_arn: str) -> tuple[str, str] | None:
    """(queue URL, region) for an SQS queue ARN: cloudlet's URL form ``<base>/<account>/<name>``."""
    arn = parse_arn(queue_arn)
    if arn is None or arn.service != "sqs" or not arn.account or not arn.resource:
        return None
    return f"{base}/{arn.account}/{arn.resource}", arn.region


# -- names -----------------------------------------------------------------------------------


def check_topic_name(name: str, fifo: bool) -> None:
    if fifo:
        if not (name.endswith(".fifo") and _TOPIC_NAME.fullmatch(name[:-5]) and len(name) <= 256):
            raise errors.invalid(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII "
                "letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
            )
    elif not _TOPIC_NAME.fullmatch(name):
        raise errors.invalid("Topic Name")


def check_phone(number: str) -> None:
    if not _PHONE.fullmatch(number or ""):
        raise errors.invalid(f"PhoneNumber Reason: {number} is not valid to publish to")


def is_true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _bool_text(name: str, value: str) -> str:
    low = value.strip().lower()
    if low not in ("true", "false"):
        raise errors.invalid(f"Attributes Reason: {name}: Invalid value [{value}]. Must be true or false.")
    return low


# -- topic attributes ------------------------------------------------------------------------


def normalize_topic_attributes(given: Mapping[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """Checks attributes of CreateTopic / SetTopicAttributes; returns their stored form."""
    out: dict[str, str] = {}
    for name, raw in given.items():
        value = "" if raw is None else str(raw)
        if name == "FifoTopic" and creating:
            out[name] = _bool_text(name, value)
            continue
        if name not in TOPIC_SETTABLE:
            raise errors.invalid("AttributeName")
        if name == "SignatureVersion" and value not in ("1", "2"):
            raise errors.invalid("SignatureVersion")
        elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
            raise errors.invalid("TracingConfig")
        elif name == "DisplayName" and len(value) > 100:
            raise errors.invalid("DisplayName")
        elif name == "Policy" and value:
            _check_json_object(value, "Policy Error: null")
        elif name == "DataProtectionPolicy" and value:
            _check_json_object(value, "DataProtectionPolicy")
        elif name == "DeliveryPolicy" and value:
            deliverypolicy.parse_topic_policy(value)
        elif name == "ContentBasedDeduplication":
            if not fifo:
                raise errors.invalid(
                    "ContentBasedDeduplication Reason: Content based deduplication can only be set for FIFO topics"
                )
            value = _bool_text(name, value)
        elif name == "FifoThroughputScope":
            if not fifo:
                raise errors.invalid("FifoThroughputScope Reason: FifoThroughputScope can only be set for FIFO topics")
            if value not in ("Topic", "MessageGroup"):
                raise errors.invalid(f"FifoThroughputScope Reason: Invalid value [{value}]")
        elif name == "ArchivePolicy" and value:
            check_archive_policy(value, fifo)
        out[name] = value
    return out


def check_archive_policy(value: str, fifo: bool) -> None:
    if not fifo:
        raise errors.invalid("ArchivePolicy Reason: The ArchivePolicy attribute is only supported for FIFO topics")
    doc = _check_json_object(value, "ArchivePolicy")
    period = doc.get("MessageRetentionPeriod")
    try:
        days = int(str(period))
    except ValueError:
        days = 0
    if not 1 <= days <= 365:
        raise errors.invalid("ArchivePolicy Reason: MessageRetentionPeriod must be between 1 and 365 days")


def _check_json_object(value: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(value)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise errors.invalid(what)
    return doc


def default_policy(arn: str, account: str) -> str:
    """The policy every topic starts with: its own account may do everything."""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": DEFAULT_ACTIONS,
                    "Resource": arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        },
        separators=(",", ":"),
    )


def topic_view(topic: dict[str, Any], arn: str, account: str, counts: Mapping[str, int]) -> dict[str, str]:
    """What GetTopicAttributes answers."""
    attrs = dict(topic["attrs"])
    out: dict[str, str] = {
        "TopicArn": arn,
        "Owner": account,
        "Policy": attrs.pop("Policy", "") or default_policy(arn, account),
        "DisplayName": attrs.pop("DisplayName", ""),
        "SubscriptionsPending": str(counts.get("pending", 0)),
        "SubscriptionsConfirmed": str(counts.get("confirmed", 0)),
        "SubscriptionsDeleted": str(topic.get("deleted", 0)),
        "EffectiveDeliveryPolicy": deliverypolicy.effective_topic_policy(attrs.get("DeliveryPolicy")),
    }
    if topic.get("fifo"):
        out["FifoTopic"] = "true"
        out["ContentBasedDeduplication"] = attrs.pop("ContentBasedDeduplication", "false")
        out["FifoThroughputScope"] = attrs.pop("FifoThroughputScope", "Topic")
        if attrs.get("ArchivePolicy") and topic.get("archive_start"):
            out["BeginningArchiveTime"] = topic["archive_start"]
    for name, value in attrs.items():
        if value != "":
            out[name] = value
    return out


def content_dedup(topic: dict[str, Any]) -> bool:
    return topic["attrs"].get("ContentBasedDeduplication") == "true"


# -- subscription attributes -----------------------------------------------------------------


def normalize_subscription_attributes(
    given: Mapping[str, str], protocol: str, *, check_filter: Any
) -> dict[str, str]:
    """Checks attributes of Subscribe / SetSubscriptionAttributes. `check_filter(policy,
    scope)` compiles a filter policy (raising InvalidParameter) so bad ones are refused
    when set, not when a message arrives."""
    out: dict[str, str] = {}
    for name, raw in given.items():
        value = "" if raw is None else str(raw)
        if name not in SUB_SETTABLE:
            raise errors.invalid("AttributeName")
        if name == "RawMessageDelivery":
            value = _bool_text(name, value)
            if value == "true" and protocol not in RAW_PROTOCOLS:
                raise errors.invalid(f"Delivery protocol [{protocol}] does not support raw message delivery.")
        elif name == "FilterPolicyScope":
            if value not in ("MessageAttributes", "MessageBody"):
                raise errors.invalid(
                    "Attributes Reason: FilterPolicyScope: Invalid value [" + value + "]. "
                    "Please use either MessageBody or MessageAttributes"
                )
        elif name == "RedrivePolicy" and value:
            check_redrive_policy(value)
        elif name == "DeliveryPolicy" and value:
            if protocol not in ("http", "https"):
                raise errors.invalid(f"DeliveryPolicy: Delivery protocol [{protocol}] does not support delivery policies")
            deliverypolicy.parse_subscription_policy(value)
        elif name == "SubscriptionRoleArn" and value and protocol != "firehose":
            raise errors.invalid("Attributes Reason: SubscriptionRoleArn is only valid for firehose subscriptions")
        out[name] = value
    if "FilterPolicy" in out or "FilterPolicyScope" in out:
        policy = out.get("FilterPolicy")
        if policy:
            check_filter(policy, out.get("FilterPolicyScope", "MessageAttributes"))
    return out


def check_redrive_policy(value: str) -> str:
    """The dead-letter queue ARN of a RedrivePolicy."""
    try:
        doc = json.loads(value)
    except ValueError:
        raise errors.invalid("RedrivePolicy: failed to parse JSON.") from None
    target = doc.get("deadLetterTargetArn") if isinstance(doc, dict) else None
    if not isinstance(target, str):
        raise errors.invalid("RedrivePolicy: deadLetterTargetArn is missing")
    arn = parse_arn(target)
    if arn is None or arn.service != "sqs":
        raise errors.invalid("RedrivePolicy: deadLetterTargetArn is an invalid arn")
    return target


def dlq_of(sub: dict[str, Any]) -> str | None:
    text = sub["attrs"].get("RedrivePolicy")
    if not text:
        return None
    try:
        target = json.loads(text).get("deadLetterTargetArn")
    except (ValueError, AttributeError):
        return None
    return target if isinstance(target, str) else None


def subscription_view(sub: dict[str, Any], topic_arn_text: str, topic: dict[str, Any] | None) -> dict[str, str]:
    """What GetSubscriptionAttributes answers."""
    attrs = dict(sub["attrs"])
    out = {
        "SubscriptionArn": f"{topic_arn_text}:{sub['id']}",
        "TopicArn": topic_arn_text,
        "Owner": sub["owner"],
        "Protocol": sub["protocol"],
        "Endpoint": sub["endpoint"],
        "PendingConfirmation": "true" if sub["pending"] else "false",
        "ConfirmationWasAuthenticated": "true" if sub.get("authenticated") else "false",
        "RawMessageDelivery": attrs.pop("RawMessageDelivery", "false") or "false",
        "SubscriptionPrincipal": sub.get("principal") or f"arn:aws:iam::{sub['owner']}:root",
        "EffectiveDeliveryPolicy": deliverypolicy.effective_subscription_policy(
            sub["protocol"], attrs.get("DeliveryPolicy"), (topic or {}).get("attrs", {}).get("DeliveryPolicy")
        ),
    }
    if attrs.get("FilterPolicy"):
        out["FilterPolicyScope"] = attrs.pop("FilterPolicyScope", "MessageAttributes") or "MessageAttributes"
    else:
        attrs.pop("FilterPolicyScope", None)
    for name, value in attrs.items():
        if value != "":
            out[name] = value
    return out


# -- pages -----------------------------------------------------------------------------------


def page_token(after: str) -> str:
    """A NextToken: the last key of the page, opaque to the caller."""
    return base64.urlsafe_b64encode(after.encode()).decode()


def page_after(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return base64.urlsafe_b64decode(text.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid("NextToken") from None


# -- tags ------------------------------------------------------------------------------------

_TAG_KEY = re.compile(r"[\w\s+\-=._:/@]{1,128}", re.UNICODE)
_TAG_VALUE = re.compile(r"[\w\s+\-=._:/@]{0,256}", re.UNICODE)
MAX_TAGS = 50


def merge_tags(current: Mapping[str, str], tags: list[dict[str, str]]) -> dict[str, str]:
    out = dict(current)
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not _TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
            raise errors.tag_policy(f"Invalid tag key: {key}")
        if not _TAG_VALUE.fullmatch(value):
            raise errors.tag_policy(f"Invalid tag value: {value}")
        out[key] = value
    if len(out) > MAX_TAGS:
        raise errors.tag_limit()
    return out
