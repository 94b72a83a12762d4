"""S3 event notifications, pure: a bucket's notification configuration checked as S3
checks it, the destinations an event goes to, and the messages S3 sends (the
``Records`` JSON for SQS/SNS/Lambda, the ``s3:TestEvent``, the EventBridge entry). The
handlers deliver them, through the in-process client as ``s3.amazonaws.com``.

What AWS documents and this follows ("Event notification types and destinations",
"Event message structure", "Configuring event notifications using object key name
filtering", "EventBridge event message structure"):

- Two configurations (of any destination kind) may not share an event type (a wildcard
  such as ``s3:ObjectCreated:*`` shares every type of its family) unless their key
  filters cannot both match one key: their prefixes overlap when one starts with the
  other and their suffixes when one ends with the other; a missing prefix or suffix is
  "" and overlaps everything.
- Filters match the key as it appears in the event, URL-encoded: a space is ``+``, other
  special characters are percent-encoded, ``/`` stays (so a filter on ``my file`` must
  be written ``my+file``, and one on ``a=1`` as ``a%3D1``).
- In ``Records``, ``eventName`` has no ``s3:`` prefix; ``eTag`` has no quotes; removal
  events carry no size or eTag; only creations and removals carry a ``sequencer`` (hex,
  greater for a later event on the same key); ``versionId`` only for versioned buckets.
  ``eventVersion`` is 2.1, 2.2 for replication, 2.3 for lifecycle, Intelligent-Tiering,
  ACL, tagging and restore-expiry events.
- EventBridge, once enabled, receives every event, unfiltered, as source ``aws.s3`` on
  the default bus, with the key not encoded.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from cloudlet.core.arns import parse_arn, partition_of
from cloudlet.core.errors import ServiceError

UTC = dt.timezone.utc

#: Every event type a configuration may name: the model's ``Event`` enum (a test keeps
#: the two equal). ``s3:TestEvent`` is sent, never configured.
EVENT_TYPES: frozenset[str] = frozenset(
    {
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectAcl:Put",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
    }
)

#: configuration list -> (ARN member, destination service, the member's XML name, which
#: S3 reports as ArgumentName when the ARN is unusable)
KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("TopicConfigurations", "TopicArn", "sns", "Topic"),
    ("QueueConfigurations", "QueueArn", "sqs", "Queue"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda", "CloudFunction"),
)

_TAGS = {service: tag for _kind, _member, service, tag in KINDS}

#: The Subject of the SNS messages S3 publishes (events and the test event alike).
SNS_SUBJECT = "Amazon S3 Notification"

#: Who acts when S3 itself does (lifecycle, restore completion): the principal and the
#: "source IP" its event records carry.
S3_SERVICE = "s3.amazonaws.com"

OVERLAP_MESSAGE = (
    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules "
    "if the prefixes are overlapping for the same event type."
)

#: What S3 reports for a destination it could not validate, by destination service.
_UNVALIDATED = {
    "sqs": "The destination queue does not exist",
    "sns": "The destination topic does not exist",
}


# -- configuration -----------------------------------------------------------------------


def validate_config(
    cfg: dict[str, Any],
    exists: Callable[[str], bool | str],
    *,
    region: str | None = None,
    skip_destination_validation: bool = False,
) -> None:
    """Check a PutBucketNotificationConfiguration's ``NotificationConfiguration`` as S3
    does, then give each configuration without an ``Id`` the one S3 would (in place).

    `exists(arn)` says whether S3 may send to a destination: True, False (missing), or a
    sentence saying why not (e.g. a resource policy refusing ``s3.amazonaws.com``), which
    becomes that destination's ArgumentValue. A destination outside the bucket's
    `region` counts as missing: S3 looks destinations up in the bucket's region. Every
    unusable destination is reported in one error, as S3 does.
    """
    configs = _configurations(cfg)
    for service, arn, _conf in configs:
        _check_arn(arn, service)
    for _service, _arn, conf in configs:
        for event in conf.get("Events") or ():
            if event not in EVENT_TYPES:
                raise ServiceError("InvalidArgument", "The event is not supported for notifications", 400)
        _check_filter(conf)
    _check_overlaps([conf for _s, _a, conf in configs])
    if not skip_destination_validation:
        _check_destinations(configs, exists, region)
    for _service, _arn, conf in configs:  # accepted: now shape it as S3 stores it
        for rule in _filter_rules(conf):
            rule["Name"] = str(rule["Name"]).lower().capitalize()
        if not conf.get("Id"):
            conf["Id"] = new_config_id()


def new_config_id() -> str:
    """The Id S3 gives a configuration sent without one: a random UUID, base64-encoded."""
    return base64.b64encode(str(uuid.uuid4()).encode("ascii")).decode("ascii")


def eventbridge_enabled(cfg: dict[str, Any] | None) -> bool:
    """EventBridge delivery is on while the configuration has an EventBridgeConfiguration
    (an empty element: its presence is the switch)."""
    return cfg is not None and cfg.get("EventBridgeConfiguration") is not None


def matches(cfg: dict[str, Any] | None, event_name: str, key: str) -> list[tuple[str, str, str]]:
    """The destinations an event goes to: ``(service, arn, configuration id)`` for each
    configuration whose event types include `event_name` (``s3:ObjectCreated:Put``) and
    whose key filter matches `key`. `service` is ``sns``, ``sqs`` or ``lambda``.
    EventBridge, which takes every event, is `eventbridge_enabled`'s to say."""
    if not cfg:
        return []
    name = _qualified(event_name)
    encoded: str | None = None
    out: list[tuple[str, str, str]] = []
    for service, arn, conf in _configurations(cfg):
        if not any(_covers(configured, name) for configured in conf.get("Events") or ()):
            continue
        prefix, suffix = _filter(conf)
        if prefix or suffix:
            if encoded is None:
                encoded = encode_key(key)
            if not (encoded.startswith(prefix) and encoded.endswith(suffix)):
                continue
        out.append((service, arn, conf.get("Id") or ""))
    return out


def _configurations(cfg: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for kind, arn_member, service, _tag in KINDS:
        for conf in cfg.get(kind) or ():
            out.append((service, conf.get(arn_member) or "", conf))
    return out


def _check_arn(arn: str, service: str) -> None:
    """An ARN that is not one, or names another service, is refused even when destination
    validation is skipped."""
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != service:
        raise ServiceError(
            "InvalidArgument",
            "The ARN could not be parsed",
            400,
            fields={"ArgumentName": _TAGS[service], "ArgumentValue": arn},
        )


def _filter_rules(conf: dict[str, Any]) -> list[dict[str, Any]]:
    return ((conf.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []


def _check_filter(conf: dict[str, Any]) -> None:
    """S3 takes rule names in any case (and stores them as ``Prefix``/``Suffix``), one of
    each per filter."""
    seen: set[str] = set()
    for rule in _filter_rules(conf):
        name = str(rule.get("Name") or "").lower()
        if name not in ("prefix", "suffix"):
            raise ServiceError("InvalidArgument", "filter rule name must be either prefix or suffix", 400)
        if name in seen:
            raise ServiceError("InvalidArgument", f"Cannot specify more than one {name} rule in a filter.", 400)
        seen.add(name)


def _filter(conf: dict[str, Any]) -> tuple[str, str]:
    prefix = suffix = ""
    for rule in _filter_rules(conf):
        name = str(rule.get("Name") or "").lower()
        if name == "prefix":
            prefix = rule.get("Value") or ""
        elif name == "suffix":
            suffix = rule.get("Value") or ""
    return prefix, suffix


def _check_overlaps(confs: list[dict[str, Any]]) -> None:
    filters = [_filter(c) for c in confs]
    for i, a in enumerate(confs):
        for j in range(i + 1, len(confs)):
            b = confs[j]
            if not _events_overlap(a.get("Events") or (), b.get("Events") or ()):
                continue
            (pa, sa), (pb, sb) = filters[i], filters[j]
            if (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa)):
                raise ServiceError("InvalidArgument", OVERLAP_MESSAGE, 400)


def _events_overlap(a: Any, b: Any) -> bool:
    return any(_covers(x, y) or _covers(y, x) for x in a for y in b)


def _covers(configured: str, event: str) -> bool:
    """Whether a configured type (``s3:ObjectCreated:*``) takes an event type."""
    if configured == event:
        return True
    return configured.endswith(":*") and event.startswith(configured[:-1])


def _check_destinations(
    configs: list[tuple[str, str, dict[str, Any]]], exists: Callable[[str], bool | str], region: str | None
) -> None:
    fields: dict[str, str] = {}
    n = 0
    for service, arn, _conf in configs:
        parsed = parse_arn(arn)
        verdict: bool | str = False if region and parsed and parsed.region != region else exists(arn)
        if verdict is True:
            continue
        n += 1
        if service == "lambda":
            # what S3 answers for a function it may not (or cannot) invoke, ", null" included
            fields[f"ArgumentName{n}"] = f"{arn}, null"
            fields[f"ArgumentValue{n}"] = verdict or f"Not authorized to invoke function [{arn}]"
        else:
            fields[f"ArgumentName{n}"] = arn
            fields[f"ArgumentValue{n}"] = verdict or _UNVALIDATED[service]
    if fields:
        raise ServiceError(
            "InvalidArgument", "Unable to validate the following destination configurations", 400, fields=fields
        )


# -- the event --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to an object, as the handler that did it knows it; every
    message about it (a record per matching configuration, the EventBridge entry) is
    built from this."""

    name: str  # "s3:ObjectCreated:Put" (the "s3:" prefix may be left off)
    bucket: str
    bucket_owner: str  # s3.bucket.ownerIdentity.principalId
    region: str  # the bucket's
    key: str  # as stored (not encoded)
    time: dt.datetime  # the cloudlet clock's, when S3 finished the request
    request_id: str  # the request's x-amz-request-id
    principal_id: str  # userIdentity.principalId; S3_SERVICE when S3 itself acted
    requester: str  # EventBridge's "requester": the account id, or S3_SERVICE
    source_ip: str | None = None  # None when S3 itself acted
    size: int | None = None
    etag: str | None = None  # quoted or not; events carry it bare
    version_id: str | None = None  # None unless the bucket has (had) versioning
    sequencer: str | None = None  # sequencer(seq) for creations and removals
    host_id: str | None = None  # the response's x-amz-id-2; derived from request_id if None
    restore_expiry: dt.datetime | None = None  # ObjectRestore:Completed
    source_storage_class: str | None = None  # ObjectRestore:*: the archive's class
    destination_storage_class: str | None = None  # LifecycleTransition
    destination_access_tier: str | None = None  # IntelligentTiering


def sequencer(seq: int) -> str:
    """A ``sequencer``: hex, fixed width, so later events on a key compare greater both
    as numbers and as strings (consumers right-pad with zeros and compare text)."""
    if seq < 0:
        raise ValueError("a sequencer counts up from 0")
    return f"{seq:016X}"


def encode_key(key: str) -> str:
    """The key as S3 writes it in event records and matches filters against: form
    encoding (space as ``+``, UTF-8 bytes as upper-case ``%XX``) keeping ``/``."""
    return "".join(_KEY_TABLE[b] for b in key.encode("utf-8", "surrogatepass"))


def _key_table() -> list[str]:
    # Java's URLEncoder set, which S3's events follow: letters, digits and ".-*_" stay;
    # S3 also leaves "/" alone
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_/")
    return [chr(b) if b in safe else "+" if b == 0x20 else f"%{b:02X}" for b in range(256)]


_KEY_TABLE = _key_table()


def bucket_arn(bucket: str, region: str) -> str:
    return f"arn:{partition_of(region)}:s3:::{bucket}"


def record(event: Event, config_id: str) -> dict[str, Any]:
    """One ``Records[]`` entry, members in AWS's order, for the configuration `config_id`."""
    name = _bare(event.name)
    family = _family(name)
    obj: dict[str, Any] = {"key": encode_key(event.key)}
    if family not in _REMOVALS:
        if event.size is not None:
            obj["size"] = int(event.size)
        if event.etag is not None:
            obj["eTag"] = _bare_etag(event.etag)
    if event.version_id is not None:
        obj["versionId"] = event.version_id
    if event.sequencer is not None and family in _SEQUENCED:
        obj["sequencer"] = event.sequencer
    out: dict[str, Any] = {
        "eventVersion": _event_version(name),
        "eventSource": "aws:s3",
        "awsRegion": event.region,
        "eventTime": _iso_millis(event.time),
        "eventName": name,
        "userIdentity": {"principalId": event.principal_id},
        "requestParameters": {"sourceIPAddress": event.source_ip or S3_SERVICE},
        "responseElements": {
            "x-amz-request-id": event.request_id,
            "x-amz-id-2": event.host_id or _host_id(event.request_id),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": config_id,
            "bucket": {
                "name": event.bucket,
                "ownerIdentity": {"principalId": event.bucket_owner},
                "arn": bucket_arn(event.bucket, event.region),
            },
            "object": obj,
        },
    }
    if name == "ObjectRestore:Completed" and event.restore_expiry is not None:
        out["glacierEventData"] = {
            "restoreEventData": {
                "lifecycleRestorationExpiryTime": _iso_millis(event.restore_expiry),
                "lifecycleRestoreStorageClass": event.source_storage_class or "",
            }
        }
    if name == "LifecycleTransition" and event.destination_storage_class:
        out["lifecycleEventData"] = {
            "transitionEventData": {"destinationStorageClass": event.destination_storage_class}
        }
    if name == "IntelligentTiering" and event.destination_access_tier:
        out["intelligentTieringEventData"] = {"destinationAccessTier": event.destination_access_tier}
    return out


def message(records: list[dict[str, Any]]) -> str:
    """The body S3 sends a queue, topic or function: ``{"Records": [...]}``, compact."""
    return _dumps({"Records": records})


def test_event(bucket: str, request_id: str, time: dt.datetime, host_id: str | None = None) -> str:
    """What S3 sends each queue and topic when a configuration naming it is saved."""
    return _dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": _iso_millis(time),
            "Bucket": bucket,
            "RequestId": request_id,
            "HostId": host_id or _host_id(request_id),
        }
    )


# pytest would collect a module-level "test_*" function it finds imported into a test module
test_event.__test__ = False  # type: ignore[attr-defined]


#: S3 event type (no "s3:") -> EventBridge detail-type ("Amazon EventBridge mapping")
DETAIL_TYPES: dict[str, str] = {
    "ObjectCreated:Put": "Object Created",
    "ObjectCreated:Post": "Object Created",
    "ObjectCreated:Copy": "Object Created",
    "ObjectCreated:CompleteMultipartUpload": "Object Created",
    "ObjectRemoved:Delete": "Object Deleted",
    "ObjectRemoved:DeleteMarkerCreated": "Object Deleted",
    "LifecycleExpiration:Delete": "Object Deleted",
    "LifecycleExpiration:DeleteMarkerCreated": "Object Deleted",
    "ObjectRestore:Post": "Object Restore Initiated",
    "ObjectRestore:Completed": "Object Restore Completed",
    "ObjectRestore:Delete": "Object Restore Expired",
    "LifecycleTransition": "Object Storage Class Changed",
    "IntelligentTiering": "Object Access Tier Changed",
    "ObjectTagging:Put": "Object Tags Added",
    "ObjectTagging:Delete": "Object Tags Deleted",
    "ObjectAcl:Put": "Object ACL Updated",
}

#: the "reason" of Object Created / Object Deleted events: the API that did it
_REASONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Post": "PostObject",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "ObjectRemoved:Delete": "DeleteObject",
    "ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
    "LifecycleExpiration:Delete": "Lifecycle Expiration",
    "LifecycleExpiration:DeleteMarkerCreated": "Lifecycle Expiration",
}


def eventbridge_entry(event: Event) -> dict[str, Any] | None:
    """The PutEvents entry S3 puts on the default bus of the bucket's account and region
    (call PutEvents as that account, as ``s3.amazonaws.com``), or None for an event type
    EventBridge does not get (replication, reduced-redundancy loss)."""
    name = _bare(event.name)
    detail_type = DETAIL_TYPES.get(name)
    if detail_type is None:
        return None
    family = _family(name)
    obj: dict[str, Any] = {"key": event.key}
    if family not in _REMOVALS and event.size is not None:
        obj["size"] = int(event.size)
    if event.etag is not None:
        obj["etag"] = _bare_etag(event.etag)
    if event.version_id is not None:
        obj["version-id"] = event.version_id
    if event.sequencer is not None and family in _SEQUENCED:
        # AWS's EventBridge examples write the sequencer in lower case, its records in upper
        obj["sequencer"] = event.sequencer.lower()
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": event.bucket},
        "object": obj,
        "request-id": event.request_id,
        "requester": event.requester,
    }
    if event.source_ip is not None:
        detail["source-ip-address"] = event.source_ip
    if name in _REASONS:
        detail["reason"] = _REASONS[name]
    if family in _REMOVALS:
        detail["deletion-type"] = (
            "Delete Marker Created" if name.endswith(":DeleteMarkerCreated") else "Permanently Deleted"
        )
    if name == "ObjectRestore:Completed" and event.restore_expiry is not None:
        detail["restore-expiry-time"] = _iso_seconds(event.restore_expiry)
    if family == "ObjectRestore" and event.source_storage_class:
        detail["source-storage-class"] = event.source_storage_class
    if name == "LifecycleTransition" and event.destination_storage_class:
        detail["destination-storage-class"] = event.destination_storage_class
    if name == "IntelligentTiering" and event.destination_access_tier:
        detail["destination-access-tier"] = event.destination_access_tier
    return {
        "Time": event.time,
        "Source": "aws.s3",
        "Resources": [bucket_arn(event.bucket, event.region)],
        "DetailType": detail_type,
        "Detail": _dumps(detail),
        "EventBusName": "default",
    }


# -- helpers ------------------------------------------------------------------------------

_REMOVALS = frozenset({"ObjectRemoved", "LifecycleExpiration"})
_SEQUENCED = frozenset({"ObjectCreated", "ObjectRemoved", "LifecycleExpiration"})
_V23 = frozenset({"LifecycleExpiration", "LifecycleTransition", "IntelligentTiering", "ObjectAcl", "ObjectTagging"})


def _event_version(name: str) -> str:
    family = _family(name)
    if family == "Replication":
        return "2.2"
    if family in _V23 or name == "ObjectRestore:Delete":
        return "2.3"
    return "2.1"


def _bare(name: str) -> str:
    return name[3:] if name.startswith("s3:") else name


def _qualified(name: str) -> str:
    return name if name.startswith("s3:") else "s3:" + name


def _family(name: str) -> str:
    return name.split(":", 1)[0]


def _bare_etag(etag: str) -> str:
    return etag.strip('"')


def _iso_millis(when: dt.datetime) -> str:
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _iso_seconds(when: dt.datetime) -> str:
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _host_id(request_id: str) -> str:
    # the x-amz-id-2 S3 responses carry for this request, so an event matches its response
    from cloudlet.protocol.encode.restxml import host_id

    return host_id(request_id)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
