"""Timed work of SNS, run by the scheduler: HTTP/S deliveries and their retries, and
retries of in-process deliveries (SQS, Lambda) after a server-side error.

Each delivery is one job whose payload carries everything it needs (the signed body,
the headers, the retry policy and the attempt number), so a retry resends exactly what
the first attempt sent, with the same MessageId, as AWS does. A failed attempt
reschedules the same job at the policy's next delay on the cloudlet clock; a spent
policy sends the message to the subscription's dead-letter queue, if it has one.

An HTTP/S endpoint answering 2xx–4xx ends the delivery (AWS retries only 5xx,
timeouts and connection failures); a Notification is not sent once its subscription
is gone, a SubscriptionConfirmation not once it was confirmed.
"""

from __future__ import annotations

import http.client
import logging
import ssl
from typing import Any
from urllib.parse import urlsplit

from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.services.sns import deliverypolicy, fanout, metrics, storage

log = logging.getLogger("cloudlet.sns")

TIMEOUT_S = 15.0  # AWS gives an endpoint about 15 seconds to answer


def register(scheduler: Scheduler) -> None:
    scheduler.register(fanout.DELIVER, deliver)


def deliver(job: Job) -> None:
    d = job.payload
    ctx = job.context(d["account"], d["region"])
    if d["via"] != "http":
        fanout.attempt(ctx, d)  # a server-side error schedules the next try itself, under a new key
        return
    if not _still_wanted(job, d):
        return
    status, reason = post(d["url"], d["body"].encode("utf-8"), d["headers"])
    if status is not None and status < 500:
        if status >= 400:
            log.info("sns: %s answered %s to %s; not retried", d["url"], status, d["kind"])
        if d["kind"] == "Notification":
            (metrics.failed if status >= 400 else metrics.delivered)(ctx, d)
        return
    n = d["attempt"] + 1
    wait = deliverypolicy.delay(d["retry"], n)
    if wait is None:
        if d["kind"] == "Notification":
            fanout.dead_letter(ctx, d, str(status or "ConnectionError"), reason)
        else:
            log.info("sns: %s to %s failed after %d attempts (%s)", d["kind"], d["url"], n, reason)
        return
    job.gateway.scheduler.at(job.key, job.now_s + wait, fanout.DELIVER, {**d, "attempt": n})


def _still_wanted(job: Job, d: dict[str, Any]) -> bool:
    if d["kind"] == "UnsubscribeConfirmation":
        return True
    with job.tx(d["account"], d["region"]) as tx:
        sub = storage.get_sub(tx, d["sub"])
    if sub is None:
        return False
    if d["kind"] == "SubscriptionConfirmation":
        return bool(sub["pending"])
    return not sub["pending"]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_S) -> tuple[int | None, str]:
    """POST and read the answer: (status, reason), or (None, why) when nothing answered."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None, f"bad URL {url}"
    host = parts.hostname or ""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        # local endpoints use self-signed certificates: cloudlet does not check them
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.reason
    except (OSError, http.client.HTTPException) as err:
        return None, str(err) or type(err).__name__
    finally:
        conn.close()
