"""Subscriptions: subscribe (with the confirmation handshake), confirm, unsubscribe,
list, attributes.

Which subscriptions wait for confirmation is AWS's rule: HTTP/S and email always (the
endpoint proves it wants the messages); SQS and Lambda when the endpoint belongs to
another account than the subscriber's; SMS, mobile and Firehose never. The request
goes out as AWS sends it: a signed SubscriptionConfirmation POSTed to the URL (from
the scheduler thread), sent to the queue, or an email in the outbox; its token
confirms through ConfirmSubscription for three days.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.sns import (
    access, deliverypolicy, envelope, errors, fanout, filtering, model, outbox, storage,
)

Input = dict[str, Any]
Output = dict[str, Any]
PAGE = 100
TOKEN_LIFE_S = 3 * 86400
PENDING = "pending confirmation"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def subscribe(ctx: Context, req: Input) -> Output:
    ref = model.parse_topic_arn(req["TopicArn"])
    protocol = req["Protocol"]
    endpoint = req.get("Endpoint") or ""
    _check_endpoint(protocol, endpoint)
    given = {k: ("" if v is None else str(v)) for k, v in (req.get("Attributes") or {}).items()}
    attrs = model.normalize_subscription_attributes(given, protocol, check_filter=filtering.check_on_subscribe)
    if protocol == "firehose" and not attrs.get("SubscriptionRoleArn"):
        raise errors.invalid("Attributes Reason: SubscriptionRoleArn is required for firehose subscriptions")
    now = clock.now()
    confirm_in_queue = None
    with access.tx_for(ctx, ref) as tx:
        topic = access.load_topic(ctx, tx, ref, "Subscribe")
        _check_fifo_pairing(topic, protocol, endpoint)
        existing = storage.sub_for(tx, ref.name, protocol, endpoint)
        if existing is not None:
            if any(existing["attrs"].get(k, "") != v for k, v in attrs.items()):
                raise errors.invalid("Attributes Reason: Subscription already exists with different attributes")
            sub = existing
        else:
            sub = {
                "id": str(uuid.uuid4()), "topic": ref.name, "protocol": protocol, "endpoint": endpoint,
                "owner": ctx.account, "principal": ctx.principal_arn, "pending": _needs_confirmation(ctx, protocol, endpoint),
                "token": None, "token_at": None, "authenticated": True, "attrs": attrs, "created": now.timestamp(),
            }
        if sub["pending"]:
            sub["authenticated"] = False
            sub["token"] = os.urandom(64).hex()  # AWS's tokens are long hex strings too
            sub["token_at"] = now.timestamp()
            storage.put_sub(tx, sub)
            confirm_in_queue = _ask_for_confirmation(ctx, ref, topic, sub, now)
        elif existing is None:
            storage.put_sub(tx, sub)
    if confirm_in_queue is not None:
        try:
            fanout.send_to_queue(ctx, ref.account, endpoint, confirm_in_queue, {}, None, None, ref.arn)
        except Exception as err:  # the subscription stays pending, as in AWS
            fanout.log.info("sns: confirmation for %s not delivered: %s", endpoint, err)
    arn = f"{ref.arn}:{sub['id']}"
    if sub["pending"] and not req.get("ReturnSubscriptionArn"):
        return {"SubscriptionArn": PENDING}
    return {"SubscriptionArn": arn}


def _check_endpoint(protocol: str, endpoint: str) -> None:
    if protocol not in model.PROTOCOLS:
        raise errors.invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    if not endpoint:
        raise errors.invalid("Endpoint")
    if protocol in ("http", "https") and not endpoint.lower().startswith(f"{protocol}://"):
        raise errors.invalid("Endpoint must match the specified protocol")
    if protocol in ("email", "email-json") and not _EMAIL.fullmatch(endpoint):
        raise errors.invalid("Email address")
    if protocol == "sms":
        try:
            model.check_phone(endpoint)
        except Exception:
            raise errors.invalid("SMS endpoint") from None
    services = {"sqs": "sqs", "lambda": "lambda", "firehose": "firehose", "application": "sns"}
    if protocol in services:
        arn = model.parse_arn(endpoint)
        if arn is None or arn.service != services[protocol]:
            raise errors.invalid(f"{protocol.upper() if protocol == 'sqs' else protocol.capitalize()} endpoint ARN")
        if protocol == "application" and not arn.resource.startswith("endpoint/"):
            raise errors.invalid(f"Application endpoint arn invalid:{endpoint}")


def _check_fifo_pairing(topic: dict[str, Any], protocol: str, endpoint: str) -> None:
    if topic["fifo"] and protocol != "sqs":
        raise errors.invalid(f"Invalid protocol type: {protocol}. FIFO topics support only Amazon SQS subscriptions")
    if not topic["fifo"] and protocol == "sqs" and endpoint.endswith(".fifo"):
        raise errors.invalid_raw(
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
            "standard SNS topics"
        )


def _needs_confirmation(ctx: Context, protocol: str, endpoint: str) -> bool:
    if protocol in ("http", "https", "email", "email-json"):
        return True
    if protocol in ("sqs", "lambda"):
        arn = model.parse_arn(endpoint)
        return arn is not None and arn.account != ctx.account
    return False


def _ask_for_confirmation(
    ctx: Context, ref: model.TopicRef, topic: dict[str, Any], sub: dict[str, Any], now: Any
) -> str | None:
    """Send (or schedule) the SubscriptionConfirmation; returns a body to put in an SQS
    queue once the transaction commits (SQS is another service)."""
    sign = fanout.signer(ctx, topic, now)
    sub_arn = f"{ref.arn}:{sub['id']}"
    doc = envelope.confirmation("SubscriptionConfirmation", str(uuid.uuid4()), ref.arn, sub_arn, sub["token"], sign)
    protocol = sub["protocol"]
    if protocol in ("http", "https"):
        retry, content_type = deliverypolicy.http_policy(sub["attrs"].get("DeliveryPolicy"),
                                                         topic["attrs"].get("DeliveryPolicy"))
        headers = envelope.http_headers("SubscriptionConfirmation", doc["MessageId"], ref.arn, None, content_type)
        fanout.schedule_http(ctx, ref, sub, "SubscriptionConfirmation", envelope.dumps(doc), headers, retry,
                             when=now.timestamp())
        return None
    if protocol in ("email", "email-json"):
        assert ctx.gateway is not None
        display = topic["attrs"].get("DisplayName") or "AWS Notifications"
        text = (
            f"You have chosen to subscribe to the topic: \n{ref.arn}\n\n"
            f"To confirm this subscription, click or visit the link below (If this was in error no action is "
            f"necessary): \n{doc['SubscribeURL']}"
        )
        outbox.add(ctx.gateway.db("sns"), {
            "account": ref.account, "region": ref.region, "protocol": protocol, "endpoint": sub["endpoint"],
            "topicArn": ref.arn, "subscriptionArn": sub_arn, "type": "SubscriptionConfirmation",
            "messageId": doc["MessageId"], "timestamp": doc["Timestamp"], "from": display,
            "subject": "AWS Notification - Subscription Confirmation",
            "message": envelope.dumps(doc) if protocol == "email-json" else text,
            "token": sub["token"], "subscribeUrl": doc["SubscribeURL"],
        }, now.timestamp())
        return None
    if protocol == "sqs":
        return envelope.dumps(doc)
    return None  # lambda in another account: confirmed with ConfirmSubscription by its owner


def confirm_subscription(ctx: Context, req: Input) -> Output:
    ref = model.parse_topic_arn(req["TopicArn"])
    token = req["Token"]
    now = clock.time_s()
    with access.tx_for(ctx, ref) as tx:
        if storage.get_topic(tx, ref.name) is None:
            raise errors.topic_not_found()
        sub = storage.sub_by_token(tx, token)
        if sub is None or sub["topic"] != ref.name or (sub["pending"] and now - sub["token_at"] > TOKEN_LIFE_S):
            raise errors.invalid("Token")
        if sub["pending"]:
            sub["pending"] = False
            sub["authenticated"] = model.is_true(req.get("AuthenticateOnUnsubscribe"))
            storage.put_sub(tx, sub)
    return {"SubscriptionArn": f"{ref.arn}:{sub['id']}"}


def unsubscribe(ctx: Context, req: Input) -> Output:
    ref, sub_id = model.parse_subscription_arn(req["SubscriptionArn"])
    now = clock.now()
    with access.tx_for(ctx, ref) as tx:
        sub = storage.get_sub(tx, sub_id)
        if sub is None or sub["topic"] != ref.name:
            raise errors.subscription_not_found()
        if sub.get("authenticated") and ctx.account not in (sub["owner"], ref.account):
            raise errors.not_authorized(ctx.principal_arn, "Unsubscribe", req["SubscriptionArn"])
        tx.delete(storage.SUB, sub_id)
        topic = storage.get_topic(tx, ref.name)
        if topic is not None:
            topic["deleted"] = topic.get("deleted", 0) + 1
            storage.put_topic(tx, topic)
            if sub["protocol"] in ("http", "https") and not sub["pending"]:
                _farewell(ctx, ref, topic, sub, now)
    return {}


def _farewell(ctx: Context, ref: model.TopicRef, topic: dict[str, Any], sub: dict[str, Any], now: Any) -> None:
    """AWS tells an HTTP/S endpoint it was unsubscribed (one attempt), with a token to resubscribe."""
    sign = fanout.signer(ctx, topic, now)
    arn = f"{ref.arn}:{sub['id']}"
    doc = envelope.confirmation("UnsubscribeConfirmation", str(uuid.uuid4()), ref.arn, arn,
                                sub.get("token") or os.urandom(64).hex(), sign)
    retry, content_type = deliverypolicy.http_policy(sub["attrs"].get("DeliveryPolicy"),
                                                     topic["attrs"].get("DeliveryPolicy"))
    headers = envelope.http_headers("UnsubscribeConfirmation", doc["MessageId"], ref.arn, arn, content_type)
    fanout.schedule_http(ctx, ref, sub, "UnsubscribeConfirmation", envelope.dumps(doc), headers, retry,
                         when=now.timestamp(), attempts=1)


def list_subscriptions(ctx: Context, req: Input) -> Output:
    after = model.page_after(req.get("NextToken"))
    with ctx.tx() as tx:
        found = storage.all_subs(tx, after, PAGE + 1)
    return _page(ctx, found)


def list_subscriptions_by_topic(ctx: Context, req: Input) -> Output:
    ref = model.parse_topic_arn(req["TopicArn"])
    after = model.page_after(req.get("NextToken"))
    with access.tx_for(ctx, ref) as tx:
        access.load_topic(ctx, tx, ref, "ListSubscriptionsByTopic")
        subs = sorted(storage.subs_of(tx, ref.name), key=lambda s: s["id"])
    if after is not None:
        subs = [s for s in subs if s["id"] > after]
    return _page(ctx, subs[: PAGE + 1], account=ref.account)


def _page(ctx: Context, found: list[dict[str, Any]], account: str | None = None) -> Output:
    page = found[:PAGE]
    out: Output = {"Subscriptions": [
        {
            "SubscriptionArn": "PendingConfirmation" if s["pending"] else
            f"{model.topic_arn(ctx.partition, ctx.region, account or ctx.account, s['topic'])}:{s['id']}",
            "Owner": s["owner"],
            "Protocol": s["protocol"],
            "Endpoint": s["endpoint"],
            "TopicArn": model.topic_arn(ctx.partition, ctx.region, account or ctx.account, s["topic"]),
        }
        for s in page
    ]}
    if len(found) > PAGE:
        out["NextToken"] = model.page_token(page[-1]["id"])
    return out


def get_subscription_attributes(ctx: Context, req: Input) -> Output:
    ref, sub_id = model.parse_subscription_arn(req["SubscriptionArn"])
    with access.tx_for(ctx, ref) as tx:
        sub = _owned(ctx, tx, ref, sub_id, "GetSubscriptionAttributes", req["SubscriptionArn"])
        topic = storage.get_topic(tx, ref.name)
    return {"Attributes": model.subscription_view(sub, ref.arn, topic)}


def _owned(ctx: Context, tx: Any, ref: model.TopicRef, sub_id: str, action: str, arn: str) -> dict[str, Any]:
    """The subscription, for its owner or the topic's owner only."""
    sub = storage.get_sub(tx, sub_id)
    if sub is None or sub["topic"] != ref.name:
        raise errors.subscription_not_found()
    if ctx.account not in (sub["owner"], ref.account):
        raise errors.not_authorized(ctx.principal_arn, action, arn)
    return sub


def set_subscription_attributes(ctx: Context, req: Input) -> Output:
    ref, sub_id = model.parse_subscription_arn(req["SubscriptionArn"])
    name, value = req["AttributeName"], req.get("AttributeValue") or ""
    with access.tx_for(ctx, ref) as tx:
        sub = _owned(ctx, tx, ref, sub_id, "SetSubscriptionAttributes", req["SubscriptionArn"])
        merged = {**sub["attrs"], name: value}
        check = {name: value}
        if name in ("FilterPolicy", "FilterPolicyScope"):  # the pair is checked together
            check = {k: merged[k] for k in ("FilterPolicy", "FilterPolicyScope") if k in merged}
        sub["attrs"].update(model.normalize_subscription_attributes(check, sub["protocol"], check_filter=filtering.check))
        storage.put_sub(tx, sub)
    return {}
