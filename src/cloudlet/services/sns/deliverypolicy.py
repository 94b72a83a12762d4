"""Delivery policies: how often, and how far apart, SNS retries a failed delivery.

A retry policy has four phases (AWS's "Amazon SNS message delivery retries"): retries
with no delay, retries ``minDelayTarget`` apart, a backoff phase whose delays grow from
``minDelayTarget`` to ``maxDelayTarget`` along ``backoffFunction``, and retries
``maxDelayTarget`` apart; ``numRetries`` counts them all. Only HTTP/S policies can be
changed (topic ``DeliveryPolicy.http.defaultHealthyRetryPolicy``, overridden by a
subscription's ``healthyRetryPolicy`` unless the topic sets
``disableSubscriptionOverrides``); SQS and Lambda use the fixed AWS-managed policy.

AWS jitters its delays; cloudlet does not, so a test advancing the clock by the
policy's delay sees the retry happen. The backoff curves have the shapes of AWS's
graph (linear; arithmetic, growing quadratically; geometric, a constant ratio;
exponential, steepest at the end) and always start at the minimum and end at the maximum.
"""

from __future__ import annotations

import json
from typing import Any

from cloudlet.services.sns import errors

DEFAULT_RETRY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
#: AWS-managed endpoints (SQS, Lambda): 3 immediate, 2 at 1 s, 10 backing off to 20 s, then 100,000 at 20 s
MANAGED_RETRY: dict[str, Any] = {
    "minDelayTarget": 1,
    "maxDelayTarget": 20,
    "numRetries": 100_014,
    "numNoDelayRetries": 3,
    "numMinDelayRetries": 2,
    "numMaxDelayRetries": 100_000 - 1,
    "backoffFunction": "exponential",
}
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
CONTENT_TYPES = (
    "text/plain", "text/plain; charset=UTF-8", "application/json", "application/json; charset=UTF-8",
    "application/xml", "application/xml; charset=UTF-8", "text/xml", "text/xml; charset=UTF-8",
    "text/html", "text/html; charset=UTF-8", "text/css", "text/csv", "application/x-www-form-urlencoded",
    "application/octet-stream",
)
BACKOFF = ("linear", "arithmetic", "geometric", "exponential")
MAX_TOTAL_S = 3600
_INT_KEYS = ("minDelayTarget", "maxDelayTarget", "numRetries", "numMaxDelayRetries", "numNoDelayRetries",
             "numMinDelayRetries")


def _fail(reason: str) -> Exception:
    return errors.invalid(f"DeliveryPolicy: {reason}")


def _load(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError:
        raise _fail("failed to parse JSON") from None
    if not isinstance(doc, dict):
        raise _fail("must be a JSON object")
    return doc


def check_retry(policy: Any, where: str) -> dict[str, Any]:
    """A complete healthy retry policy from a partial one (missing keys take the defaults)."""
    if not isinstance(policy, dict):
        raise _fail(f"{where} must be a JSON object")
    unknown = set(policy) - set(DEFAULT_RETRY)
    if unknown:
        raise _fail(f"{where}.{sorted(unknown)[0]}: unsupported attribute")
    full = {**DEFAULT_RETRY, **policy}
    for key in _INT_KEYS:
        value = full[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _fail(f"{where}.{key} must be a non-negative integer")
    if full["backoffFunction"] not in BACKOFF:
        raise _fail(f"{where}.backoffFunction: must be one of linear, arithmetic, geometric, exponential")
    if full["numRetries"] > 100:
        raise _fail(f"{where}.numRetries must be at most 100")
    if not 1 <= full["minDelayTarget"] <= full["maxDelayTarget"]:
        raise _fail(f"{where}.minDelayTarget must be at least 1 and at most maxDelayTarget")
    if full["maxDelayTarget"] > MAX_TOTAL_S:
        raise _fail(f"{where}.maxDelayTarget must be at most {MAX_TOTAL_S}")
    phases = full["numNoDelayRetries"] + full["numMinDelayRetries"] + full["numMaxDelayRetries"]
    if phases > full["numRetries"]:
        raise _fail(f"{where}.numRetries must be at least the sum of the other retry counts")
    total = sum(delay(full, n) or 0 for n in range(1, full["numRetries"] + 1))
    if total > MAX_TOTAL_S:
        raise _fail(f"{where}: total retry time must not exceed {MAX_TOTAL_S} seconds")
    return full


def _check_throttle(doc: Any, where: str) -> None:
    if doc is None:
        return
    rate = doc.get("maxReceivesPerSecond") if isinstance(doc, dict) else None
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
        raise _fail(f"{where}.maxReceivesPerSecond must be a positive integer")


def _check_request(doc: Any, where: str) -> None:
    if doc is None:
        return
    kind = doc.get("headerContentType") if isinstance(doc, dict) else None
    if kind not in CONTENT_TYPES:
        raise _fail(f"{where}.headerContentType: unsupported content type {kind}")


def parse_topic_policy(text: str) -> dict[str, Any]:
    doc = _load(text)
    http = doc.get("http")
    if http is None:
        return doc
    if not isinstance(http, dict):
        raise _fail("http must be a JSON object")
    if "defaultHealthyRetryPolicy" in http:
        check_retry(http["defaultHealthyRetryPolicy"], "http.defaultHealthyRetryPolicy")
    _check_throttle(http.get("defaultThrottlePolicy"), "http.defaultThrottlePolicy")
    _check_request(http.get("defaultRequestPolicy"), "http.defaultRequestPolicy")
    return doc


def parse_subscription_policy(text: str) -> dict[str, Any]:
    doc = _load(text)
    if "healthyRetryPolicy" in doc:
        check_retry(doc["healthyRetryPolicy"], "healthyRetryPolicy")
    _check_throttle(doc.get("throttlePolicy"), "throttlePolicy")
    _check_request(doc.get("requestPolicy"), "requestPolicy")
    return doc


def _quiet(parse: Any, text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        return parse(text)
    except Exception:  # stored policies were checked when set
        return {}


def http_policy(sub_text: str | None, topic_text: str | None) -> tuple[dict[str, Any], str]:
    """(retry policy, Content-Type) for an HTTP/S subscription."""
    topic_http = _quiet(parse_topic_policy, topic_text).get("http") or {}
    sub = _quiet(parse_subscription_policy, sub_text)
    retry = dict(DEFAULT_RETRY)
    if topic_http.get("defaultHealthyRetryPolicy"):
        retry.update(topic_http["defaultHealthyRetryPolicy"])
    content_type = (topic_http.get("defaultRequestPolicy") or {}).get("headerContentType") or DEFAULT_CONTENT_TYPE
    if not topic_http.get("disableSubscriptionOverrides"):
        if sub.get("healthyRetryPolicy"):
            retry = {**DEFAULT_RETRY, **sub["healthyRetryPolicy"]}
        content_type = (sub.get("requestPolicy") or {}).get("headerContentType") or content_type
    return retry, content_type


def effective_topic_policy(topic_text: str | None) -> str:
    http = _quiet(parse_topic_policy, topic_text).get("http") or {}
    out: dict[str, Any] = {
        "defaultHealthyRetryPolicy": {**DEFAULT_RETRY, **(http.get("defaultHealthyRetryPolicy") or {})},
        "disableSubscriptionOverrides": bool(http.get("disableSubscriptionOverrides", False)),
        "defaultRequestPolicy": http.get("defaultRequestPolicy") or {"headerContentType": DEFAULT_CONTENT_TYPE},
    }
    if http.get("defaultThrottlePolicy"):
        out["defaultThrottlePolicy"] = http["defaultThrottlePolicy"]
    return json.dumps({"http": out}, separators=(",", ":"))


def effective_subscription_policy(protocol: str, sub_text: str | None, topic_text: str | None) -> str:
    if protocol in ("http", "https"):
        retry, _ = http_policy(sub_text, topic_text)
        sub = _quiet(parse_subscription_policy, sub_text)
        doc: dict[str, Any] = {
            "healthyRetryPolicy": retry,
            "sicklyRetryPolicy": None,
            "throttlePolicy": sub.get("throttlePolicy"),
            "guaranteed": False,
        }
        if sub.get("requestPolicy"):
            doc["requestPolicy"] = sub["requestPolicy"]
    else:
        doc = {"healthyRetryPolicy": dict(DEFAULT_RETRY), "sicklyRetryPolicy": None, "throttlePolicy": None,
               "guaranteed": False}
    return json.dumps(doc, separators=(",", ":"))


def delay(policy: dict[str, Any], retry: int) -> float | None:
    """Seconds to wait before retry number `retry` (1-based), or None once the policy is spent."""
    total = policy["numRetries"]
    if retry < 1 or retry > total:
        return None
    lo, hi = float(policy["minDelayTarget"]), float(policy["maxDelayTarget"])
    no_delay, at_min, at_max = policy["numNoDelayRetries"], policy["numMinDelayRetries"], policy["numMaxDelayRetries"]
    if retry <= no_delay:
        return 0.0
    if retry <= no_delay + at_min:
        return lo
    backoff = total - no_delay - at_min - at_max
    step = retry - no_delay - at_min
    if step > backoff:
        return hi
    return _curve(policy["backoffFunction"], lo, hi, step / backoff, backoff)


def _curve(name: str, lo: float, hi: float, f: float, steps: int) -> float:
    if name == "linear" or lo == hi:
        return lo + (hi - lo) * f
    if name == "arithmetic":
        return lo + (hi - lo) * f * f
    if name == "geometric":
        return lo * (hi / lo) ** f
    return lo + (hi - lo) * (2.0 ** (steps * f) - 1) / (2.0**steps - 1)  # exponential
