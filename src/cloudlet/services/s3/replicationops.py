"""PutBucketReplication, GetBucketReplication, DeleteBucketReplication.

The configuration is checked as S3 checks it and kept as parsed (rule IDs filled in); what
it does lives in ``replication``. Two schemas coexist: V1 rules carry a rule-level
``Prefix`` (one destination, delete markers always replicated), V2 rules a ``Filter``
(``Priority`` and ``DeleteMarkerReplication`` with it). The ``Role`` is stored, not yet
assumed: replication runs as S3 itself.

Error wording is S3's as users recorded it; wording with no record anywhere is marked
"unrecorded" where it is raised.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import errors, lifecycle, replication, storage

Input = dict[str, Any]
Output = dict[str, Any]

MAX_RULES = 1000
MAX_ID = 255
_SCHEMA = (" for this version of Cross Region Replication configuration schema. "
           "Please refer to S3 Developer Guide for more information.")


def put_bucket_replication(ctx: Context, req: Input) -> Output:
    cfg = req.get("ReplicationConfiguration") or {}
    rules = cfg.get("Rules")
    if not isinstance(rules, list) or not rules:
        raise errors.malformed_xml()
    for rule in rules:
        _check_schema(rule)
    if len({replication.is_v1(r) for r in rules}) > 1:
        raise errors.malformed_xml()  # unrecorded: one configuration mixing V1 and V2 rules
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        if b.get("versioning") != "Enabled":
            raise ServiceError(
                "InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
                400, fields={"BucketName": b["name"]},
            )
        _check_rules(rules)
        for rule in rules:
            _check_destination(t, b, rule)
        storage.put_config(t, b["name"], "replication", lifecycle.assign_ids(cfg))
    return {}


def get_bucket_replication(ctx: Context, req: Input) -> Output:
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        cfg = storage.get_config(t, b["name"], "replication")
    if cfg is None:
        raise errors.not_configured("replication", b["name"])
    return {"ReplicationConfiguration": cfg}


def delete_bucket_replication(ctx: Context, req: Input) -> Output:
    """Versions already PENDING still replicate: their jobs were queued with their writes."""
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        storage.delete_config(t, b["name"], "replication")
    return {}


def _invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def _check_schema(rule: Any) -> None:
    """What S3's XML schema refuses (MalformedXML): a rule is either V1 (a Prefix) or V2
    (a Filter holding exactly one of Prefix, Tag, And)."""
    if not isinstance(rule, dict) or ("Filter" in rule) == ("Prefix" in rule):
        raise errors.malformed_xml()
    flt = rule.get("Filter")
    if flt is not None and len([k for k in ("Prefix", "Tag", "And") if k in flt]) > 1:
        raise errors.malformed_xml()


def _check_rules(rules: list[dict[str, Any]]) -> None:
    if len(rules) > MAX_RULES:
        raise _invalid_request("Number of rules cannot exceed 1000")  # unrecorded
    ids: set[str] = set()
    priorities: set[int] = set()
    for rule in rules:
        rule_id = rule.get("ID")
        if rule_id is not None:
            if len(rule_id) > MAX_ID:
                raise errors.invalid_argument("ID length should not exceed allowed limit of 255")  # unrecorded
            if rule_id in ids:
                raise errors.invalid_argument("Rule Id must be unique")  # unrecorded
            ids.add(rule_id)
        if replication.is_v1(rule):
            for member in ("Priority", "DeleteMarkerReplication"):
                if member in rule:
                    raise _invalid_request(member + " cannot be used" + _SCHEMA)
            continue
        if "DeleteMarkerReplication" not in rule:
            raise _invalid_request("DeleteMarkerReplication must be specified" + _SCHEMA)
        _, tags = replication.rule_filter(rule)
        if tags and (rule["DeleteMarkerReplication"] or {}).get("Status") == "Enabled":
            raise _invalid_request("Delete marker replication is not supported if any Tag filter is specified.")
        priority = rule.get("Priority") or 0
        if priority in priorities:
            raise _invalid_request(f"Found duplicate priority {priority} in rules")  # unrecorded
        priorities.add(priority)
    if replication.is_v1(rules[0]) and len({(r.get("Destination") or {}).get("Bucket") for r in rules}) > 1:
        raise _invalid_request("Number of distinct destination bucket ARNs cannot exceed 1")


def _check_destination(t: Any, b: dict[str, Any], rule: dict[str, Any]) -> None:
    dest = rule.get("Destination") or {}
    name = replication.bucket_of(dest.get("Bucket") or "")
    if not name:
        raise errors.invalid_argument("Invalid bucket ARN.", "Bucket", dest.get("Bucket"))  # unrecorded
    if name == b["name"]:
        raise _invalid_request("Destination bucket cannot be the same as the source bucket.")
    target = storage.find_bucket(t, name)
    if target is None:
        raise _invalid_request("Destination bucket must exist.")
    if target.get("versioning") != "Enabled":
        raise _invalid_request("Destination bucket must have versioning enabled.")
    if dest.get("AccessControlTranslation") and not dest.get("Account"):
        raise _invalid_request("Account must be specified when AccessControlTranslation is specified")  # unrecorded
    kms = ((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}).get("Status")
    if kms == "Enabled" and not (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"):
        raise _invalid_request("ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.")
