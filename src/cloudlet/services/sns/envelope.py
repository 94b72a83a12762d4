"""The JSON documents SNS sends: Notification, SubscriptionConfirmation and
UnsubscribeConfirmation, laid out as AWS lays them out (keys in AWS's order, ``" : "``
between name and value, two-space indent), signed with the installation's key.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

from cloudlet.services.sns import messages, signing

USER_AGENT = "Amazon Simple Notification Service Agent"
CONFIRM_TEXT = (
    "You have chosen to subscribe to the topic {arn}.\n"
    "To confirm the subscription, visit the SubscribeURL included in this message."
)
UNSUBSCRIBE_TEXT = (
    "You have chosen to deactivate subscription {arn}.\n"
    "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
)


def timestamp(now: dt.datetime) -> str:
    return now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def dumps(doc: dict[str, Any]) -> str:
    """AWS's layout: one top-level key a line, nested values compact."""
    lines = [
        f"  {json.dumps(k, ensure_ascii=False)} : {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
        for k, v in doc.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}"


def unsubscribe_url(base: str, sub_arn: str) -> str:
    return f"{base}/?Action=Unsubscribe&SubscriptionArn={quote(sub_arn, safe='')}"


def subscribe_url(base: str, topic_arn: str, token: str) -> str:
    return f"{base}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}&Token={token}"


class Signer:
    """Signs the notifications of one publish: the canonical string does not depend on
    the subscription, so each distinct per-protocol text is signed once."""

    def __init__(self, db: Any, version: str, now: dt.datetime, base: str) -> None:
        self.db, self.version, self.now, self.base = db, version, now, base
        self._done: dict[bytes, str] = {}

    def sign(self, doc: dict[str, Any]) -> str:
        key = signing.canonical(doc)
        sig = self._done.get(key)
        if sig is None:
            sig = self._done[key] = signing.sign(self.db, doc, self.version, self.now)
        return sig

    @property
    def cert_url(self) -> str:
        return self.base + signing.CERT_PATH


def notification(msg: messages.Message, text: str, sub_arn: str, signer: Signer, *, lambda_style: bool = False) -> dict[str, Any]:
    """The Notification document for one subscription (``lambda_style``: the ``Sns``
    record of a Lambda event, whose URL keys are spelt ``SigningCertUrl``/``UnsubscribeUrl``)."""
    doc: dict[str, Any] = {"Type": "Notification", "MessageId": msg.id}
    if msg.sequence is not None:
        doc["SequenceNumber"] = msg.sequence
    doc["TopicArn"] = msg.topic_arn
    if msg.subject is not None:
        doc["Subject"] = msg.subject
    doc["Message"] = text
    doc["Timestamp"] = msg.timestamp
    doc["SignatureVersion"] = signer.version
    doc["Signature"] = signer.sign(doc)
    if lambda_style:
        doc["SigningCertUrl"] = signer.cert_url
        doc["UnsubscribeUrl"] = unsubscribe_url(signer.base, sub_arn)
    else:
        doc["SigningCertURL"] = signer.cert_url
        doc["UnsubscribeURL"] = unsubscribe_url(signer.base, sub_arn)
    if msg.attributes:
        doc["MessageAttributes"] = messages.envelope_attributes(msg.attributes)
    return doc


def confirmation(
    kind: str, message_id: str, topic_arn: str, sub_arn: str, token: str, signer: Signer
) -> dict[str, Any]:
    """A SubscriptionConfirmation (or UnsubscribeConfirmation) document."""
    text = (CONFIRM_TEXT if kind == "SubscriptionConfirmation" else UNSUBSCRIBE_TEXT).format(
        arn=topic_arn if kind == "SubscriptionConfirmation" else sub_arn
    )
    doc: dict[str, Any] = {
        "Type": kind,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": text,
        "SubscribeURL": subscribe_url(signer.base, topic_arn, token),
        "Timestamp": timestamp(signer.now),
        "SignatureVersion": signer.version,
    }
    doc["Signature"] = signer.sign(doc)
    doc["SigningCertURL"] = signer.cert_url
    return doc


def http_headers(kind: str, message_id: str, topic_arn: str, sub_arn: str | None, content_type: str,
                 raw: bool = False) -> dict[str, str]:
    headers = {
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
    }
    if sub_arn is not None:
        headers["x-amz-sns-subscription-arn"] = sub_arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    return headers
