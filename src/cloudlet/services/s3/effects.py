"""What follows a write: event notifications, replication, the lifecycle expiration header.

Called inside the write's transaction, so what it queues commits with the write (or not
at all). Deliveries are scheduler jobs due at once: they run after the commit, on the
scheduler's thread, through the in-process client as ``s3.amazonaws.com`` — never inside
the S3 transaction (a service must not hold its lock while calling another).
"""

from __future__ import annotations

import os
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.core.store import Tx
from cloudlet.services.s3 import notify, storage

DELIVER = "s3.deliver"
S3_PRINCIPAL = "s3.amazonaws.com"

# reason (the operation that caused it) -> event name suffix, for creations
_CREATED = {"Put": "Put", "Copy": "Copy", "Post": "Post", "CompleteMultipartUpload": "CompleteMultipartUpload"}


def register(scheduler: Scheduler) -> None:
    scheduler.register(DELIVER, _deliver)
    from cloudlet.services.s3 import lifecyclejob, replication

    replication.register(scheduler)
    lifecyclejob.register(scheduler)
    from cloudlet.services.s3.restore import JOBS as restore_jobs

    for name, fn in restore_jobs.items():
        scheduler.register(name, fn)


def object_created(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], how: str) -> None:
    _event(ctx, t, b, v, f"s3:ObjectCreated:{_CREATED.get(how, how)}")
    from cloudlet.services.s3 import replication

    replication.queue(ctx, t, b, v)


def object_removed(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], how: str) -> None:
    """`how`: "Delete" (a version or an unversioned object gone) or "DeleteMarkerCreated"."""
    _event(ctx, t, b, v, f"s3:ObjectRemoved:{how}")
    if how == "DeleteMarkerCreated":
        from cloudlet.services.s3 import replication

        replication.queue(ctx, t, b, v)


def object_event(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], name: str) -> None:
    """Any other event a caller causes on an object (tagging, ACL changes)."""
    _event(ctx, t, b, v, name)


def request_event(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], name: str, **extra: Any) -> None:
    """An event of a caller's request with extra record data (a restore requested)."""
    _event(ctx, t, b, v, name, **extra)


def lifecycle_event(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], name: str, **extra: Any) -> None:
    """An event S3 itself causes (lifecycle expiration or transition, restore)."""
    _event(ctx, t, b, v, name, by_service=True, **extra)


def _event(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any], name: str, by_service: bool = False,
           **extra: Any) -> None:
    cfg = storage.get_config(t, b["name"], "notification")
    if not cfg:
        return
    targets = notify.matches(cfg, name, v["key"])
    bridge = notify.eventbridge_enabled(cfg)
    if not targets and not bridge:
        return
    removal = ":ObjectRemoved:" in name or "LifecycleExpiration" in name
    event = notify.Event(
        name=name,
        bucket=b["name"],
        bucket_owner=b["account"],
        region=b["region"],
        key=v["key"],
        time=clock.now(),
        request_id=ctx.request_id,
        principal_id=notify.S3_SERVICE if by_service else _principal_id(ctx),
        requester=notify.S3_SERVICE if by_service else ctx.account,
        source_ip=None if by_service else ctx.source_ip,
        size=None if removal else v.get("size"),
        etag=None if removal else (v.get("etag") or None),
        version_id=v.get("vid") if b.get("versioning") else None,
        # a removal happens after the write it removes: it needs a sequencer of its own
        sequencer=notify.sequencer(clock.sequence() if removal else (v.get("seq") or clock.sequence())),
        **extra,
    )
    for service, arn, config_id in targets:
        body = notify.message([notify.record(event, config_id)])
        _schedule(ctx, {"kind": service, "arn": arn, "body": body, "account": b["account"], "region": b["region"],
                        "bucket": b["name"]})
    if bridge:
        entry = notify.eventbridge_entry(event)
        if entry is not None:
            _schedule(ctx, {"kind": "events", "entry": entry, "account": b["account"], "region": b["region"],
                            "bucket": b["name"]})


def _principal_id(ctx: Context) -> str:
    arn = ctx.principal_arn or ""
    if arn.endswith(":root"):
        return ctx.account
    return arn.rsplit("/", 1)[-1] if "/" in arn else (arn or ctx.account)


def _schedule(ctx: Context, payload: dict[str, Any]) -> None:
    if ctx.trace_header:  # the request's X-Amzn-Trace-Id goes on with its notification
        payload["trace"] = ctx.trace_header
    ctx.gateway.scheduler.at(f"{DELIVER}/{os.urandom(12).hex()}", clock.time_s(), DELIVER, payload)


def send_test_events(ctx: Context, b: dict[str, Any], cfg: dict[str, Any]) -> None:
    """The ``s3:TestEvent`` S3 sends to each queue and topic of a new configuration."""
    body = notify.test_event(b["name"], ctx.request_id, clock.now())
    for service, arn, _cid in _destinations(cfg):
        if service in ("sqs", "sns"):
            _schedule(ctx, {"kind": service, "arn": arn, "body": body, "account": b["account"],
                            "region": b["region"], "bucket": b["name"]})


def _destinations(cfg: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    for member, service, arn_key in (("QueueConfigurations", "sqs", "QueueArn"),
                                     ("TopicConfigurations", "sns", "TopicArn"),
                                     ("LambdaFunctionConfigurations", "lambda", "LambdaFunctionArn")):
        for conf in cfg.get(member) or []:
            out.append((service, conf[arn_key], conf.get("Id", "")))
    return out


def _deliver(job: Job) -> None:
    """One notification, sent as S3 (the bucket's owner account, the bucket as source)."""
    p = job.payload
    kind, account = p["kind"], p["account"]
    ctx = job.context(account, p["region"])
    source = f"arn:aws:s3:::{p['bucket']}"
    try:
        if kind == "events":
            ctx.aws("events", principal=S3_PRINCIPAL, source_arn=source).put_events(Entries=[p["entry"]])
            return
        arn = p["arn"]
        parts = arn.split(":")
        region, owner = parts[3], parts[4]
        client = ctx.aws(kind, principal=S3_PRINCIPAL, region=region, account=owner, source_arn=source,
                         trace_header=p.get("trace"))
        if kind == "sqs":
            client.send_message(QueueUrl=_queue_url(ctx, region, owner, parts[5]), MessageBody=p["body"])
        elif kind == "sns":
            client.publish(TopicArn=arn, Message=p["body"], Subject=notify.SNS_SUBJECT)
        elif kind == "lambda":
            client.invoke(FunctionName=arn, InvocationType="Event", Payload=p["body"].encode())
    except ServiceError:
        # S3 drops a notification its destination refuses (deleted queue, denied policy)
        pass


def _queue_url(ctx: Context, region: str, account: str, name: str) -> str:
    from cloudlet.server.config import public_url

    return f"{public_url(ctx.gateway.config)}/{account}/{name}"


# lifecycle ------------------------------------------------------------------------------
def expiration(t: Tx, b: dict[str, Any], v: dict[str, Any]) -> dict[str, str]:
    """``x-amz-expiration`` for a current version that a lifecycle rule will expire."""
    rules = storage.get_config(t, b["name"], "lifecycle")
    if not rules or v.get("dm"):
        return {}
    from cloudlet.services.s3 import lifecycle

    header = lifecycle.expiration_header(rules.get("Rules") or [], v["key"], v.get("tags") or {}, v["size"], v["mtime"])
    return {"Expiration": header} if header else {}

