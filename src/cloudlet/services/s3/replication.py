"""Replication, executed: new versions copied to the destination buckets of matching rules.

``queue`` runs inside every write's transaction (``effects``): when the bucket's
replication configuration selects the new version for one or more destinations, the
version is marked ``PENDING`` and one scheduler job is queued in the same transaction, so
both commit with the write or not at all. The job runs after the commit on the scheduler
thread: per destination it reads the source's plaintext outside any transaction, seals it
again under the destination's key, and commits the replica (same key, version id,
creation time, metadata, tags, checksum, ETag; ``REPLICA`` as its status); then it sets
the source to ``COMPLETED``, or ``FAILED`` if any destination refused (S3 reports
``COMPLETED`` only once every destination has the copy).

What S3 does not replicate is not queued: replicas (no chains: a replica in a bucket with
its own rules stays put), versions in GLACIER or DEEP_ARCHIVE, SSE-KMS versions unless the
rule selects them (``SseKmsEncryptedObjects``), delete markers unless the rule replicates
them (always for V1 rules, ``DeleteMarkerReplication`` for V2), deletions of a version by
id, and what lifecycle does (its markers never reach ``queue``).

Sources: the S3 user guide ("Replicating objects", "What does Amazon S3 replicate?",
"Replication configuration file elements", "Getting replication status information",
"Replicating delete markers between buckets", "Changing the replica owner", "Replicating
encrypted objects") and the API reference (ReplicationRule, Destination).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.scheduler import Job, Scheduler
from cloudlet.core.store import ServiceDB, Tx
from cloudlet.protocol.http import PIECE
from cloudlet.services.s3 import crypto, effects, encryption, locking, payload, storage

log = logging.getLogger("cloudlet.s3.replication")

JOB = "s3.replicate"
PENDING, COMPLETED, FAILED, REPLICA = "PENDING", "COMPLETED", "FAILED", "REPLICA"
#: "Objects that are stored in S3 Glacier Flexible Retrieval or S3 Glacier Deep Archive"
#: are not replicated
NOT_REPLICATED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
ARN_PREFIX = ":s3:::"

Rule = Mapping[str, Any]


def register(scheduler: Scheduler) -> None:
    scheduler.register(JOB, _replicate)


# which rules select a version -------------------------------------------------------------
def is_v1(rule: Rule) -> bool:
    """A V1 rule has a rule-level Prefix and no Filter; it replicates delete markers."""
    return "Filter" not in rule


def rule_filter(rule: Rule) -> tuple[str, dict[str, str]]:
    """(key prefix, tags that must all be on the object) of a rule."""
    if is_v1(rule):
        return rule.get("Prefix") or "", {}
    flt = rule.get("Filter") or {}
    if "And" in flt:
        both = flt["And"] or {}
        return both.get("Prefix") or "", {t["Key"]: t["Value"] for t in both.get("Tags") or ()}
    if "Tag" in flt:
        return "", {flt["Tag"]["Key"]: flt["Tag"]["Value"]}
    return flt.get("Prefix") or "", {}


def bucket_of(arn: str) -> str:
    """The bucket an ``arn:<partition>:s3:::<bucket>`` names ('' when it names none)."""
    head, sep, name = arn.partition(ARN_PREFIX)
    return name if sep and head.startswith("arn:") and "/" not in name else ""


def _enabled(flag: Mapping[str, Any] | None) -> bool:
    return (flag or {}).get("Status") == "Enabled"


def _selects(rule: Rule, key: str, tags: Mapping[str, str]) -> bool:
    prefix, wanted = rule_filter(rule)
    return key.startswith(prefix) and all(tags.get(k) == val for k, val in wanted.items())


def plan(cfg: Mapping[str, Any], v: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Where a new version goes: one target per destination bucket, from the enabled rule
    of highest priority that selects it ("if there are two or more rules with the same
    destination bucket, objects will be replicated according to the rule with the highest
    priority"). Empty when nothing replicates it."""
    if v.get("repl") == REPLICA or v.get("sc") in NOT_REPLICATED_CLASSES:
        return []
    key, tags, dm = v["key"], v.get("tags") or {}, bool(v.get("dm"))
    winners: dict[str, Rule] = {}
    for rule in cfg.get("Rules") or ():
        if rule.get("Status") != "Enabled" or not _selects(rule, key, {} if dm else tags):
            continue
        dest = (rule.get("Destination") or {}).get("Bucket", "")
        best = winners.get(dest)
        if best is None or (rule.get("Priority") or 0) > (best.get("Priority") or 0):
            winners[dest] = rule
    kms = bool((v.get("sse") or {}).get("kms"))
    targets = []
    for arn, rule in winners.items():
        if dm and not (is_v1(rule) or _enabled(rule.get("DeleteMarkerReplication"))):
            continue
        if kms and not _enabled((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects")):
            continue  # "you must explicitly enable the option" for SSE-KMS objects
        dest = rule["Destination"]
        targets.append({
            "bucket": bucket_of(arn),
            "rule": rule.get("ID"),
            "sc": dest.get("StorageClass"),
            "account": dest.get("Account"),
            "owner": (dest.get("AccessControlTranslation") or {}).get("Owner") == "Destination",
            "kms": (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"),
        })
    return targets


# in the write's transaction ---------------------------------------------------------------
def queue(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any]) -> None:
    """Mark `v` PENDING and queue its copy, when the bucket's rules replicate it."""
    cfg = storage.get_config(t, b["name"], "replication")
    if not cfg or b.get("versioning") != "Enabled":
        return
    targets = plan(cfg, v)
    if not targets:
        return
    if not v.get("dm"):  # a delete marker has no status to show (HEAD on it is a 405)
        v["repl"] = PENDING
        storage.update_version(t, b["name"], v)
    job = {"bucket": b["name"], "account": b["account"], "region": b["region"], "key": v["key"],
           "seq": v["seq"], "vid": v["vid"], "dm": bool(v.get("dm")), "targets": targets}
    # keyed by the version's sequence: jobs due at the same instant run in write order
    ctx.gateway.scheduler.at(f"{JOB}/{v['seq']:020d}", clock.time_s(), JOB, job)


# on the scheduler thread --------------------------------------------------------------------
def _replicate(job: Job) -> None:
    p = job.payload
    ctx = job.context(p["account"], p["region"])
    done = []
    for target in p["targets"]:
        try:
            done.append(_to_destination(job, ctx, p, target))
        except (ServiceError, crypto.IntegrityError, OSError) as err:
            log.warning("replicating %s/%s (%s) to %s failed: %s", p["bucket"], p["key"], p["vid"],
                        target["bucket"], err)
            done.append(False)
    if p["dm"]:
        return
    with storage.tx(ctx) as t:
        v = _source(t, p)
        if v is None:
            return  # deleted meanwhile: no status left to set
        v["repl"] = COMPLETED if all(done) else FAILED
        storage.update_version(t, p["bucket"], v)


def _refusal(dest: dict[str, Any] | None, target: Mapping[str, Any]) -> str | None:
    """Why a destination cannot take replicas now (S3 marks the source FAILED)."""
    if dest is None:
        return "the destination bucket does not exist"
    if dest.get("versioning") != "Enabled":
        return "versioning is not enabled on the destination bucket"
    if target.get("account") and target["account"] != dest["account"]:
        return "the destination bucket belongs to another account than the rule names"
    return None


def _source(t: Tx, p: Mapping[str, Any]) -> dict[str, Any] | None:
    rec = t.get("v", storage.version_key(p["bucket"], p["key"], p["seq"]))
    return rec.value if rec is not None and rec.value.get("vid") == p["vid"] else None


def _owner(t: Tx, src: Mapping[str, Any], dest: Mapping[str, Any], target: Mapping[str, Any]) -> tuple[str, Any]:
    """(owner, canned ACL) of a replica: the source object's, unless the rule's owner
    override or the destination's BucketOwnerEnforced ownership gives it to the
    destination bucket's owner (who then gets full control; the source ACL is dropped)."""
    rules = (storage.get_config(t, dest["name"], "ownership") or {}).get("Rules") or [{}]
    if target.get("owner") or rules[0].get("ObjectOwnership") == "BucketOwnerEnforced":
        return dest["account"], None
    return src.get("owner") or "", src.get("acl")


def _to_destination(job: Job, ctx: Context, p: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    if p["dm"]:
        return _marker(job, ctx, p, target)
    db = job.gateway.db(storage.SERVICE)
    with storage.tx(ctx) as t:
        src = _source(t, p)
        dest = storage.find_bucket(t, target["bucket"])
        why = "the source version is gone" if src is None else _refusal(dest, target)
        if why is not None:
            log.info("not replicating %s/%s (%s): %s", p["bucket"], p["key"], p["vid"], why)
            return False
        assert src is not None and dest is not None
        if storage.find_version(t, dest["name"], src["key"], src["vid"]) is not None:
            return True  # already there: the job is running again after a crash
        held = src.get("lock") or {}
        lock = dict(held) if held.get("mode") or held.get("hold") else None
        if lock is not None and not dest.get("lock"):
            log.info("not replicating %s/%s: a protected version needs Object Lock on the destination",
                     p["bucket"], p["key"])
            return False
        sse = src.get("sse")
        customer = crypto.is_customer(sse)
        kms = bool((sse or {}).get("kms"))
        src_key = None if customer or kms else crypto.data_key(t, sse, None)
        dest_key: bytes | None = None
        if not customer and not kms:  # "encrypted using the same type of server-side encryption"
            dest_key, sse = crypto.new_sse_s3(t, dest["account"])
    dest_ctx = job.context(dest["account"], dest["region"])
    if kms:  # KMS is another service: asked outside any transaction (its path reads no store)
        src_key = encryption.for_read(ctx, None, src, {})  # type: ignore[arg-type]
        dest_key, sse = encryption.for_write(
            dest_ctx, None, dest["name"],  # type: ignore[arg-type]
            {"ServerSideEncryption": src["sse"]["alg"], "SSEKMSKeyId": target["kms"]},
        )
    body = _sealed_copy(db, src) if customer else _reseal(db, src, src_key, dest_key)
    try:
        replica = _replica(src, target, sse, body.fields() if isinstance(body, _Sealed) else
                           {"data": body.data, "blob": body.blob})
        with storage.tx(dest_ctx) as t:
            dest = storage.find_bucket(t, target["bucket"])
            if _refusal(dest, target) is not None:
                body.discard(db)
                return False
            assert dest is not None
            if storage.find_version(t, dest["name"], src["key"], src["vid"]) is not None:
                body.discard(db)
                return True
            replica["owner"], replica["acl"] = _owner(t, src, dest, target)
            replica["lock"] = lock if lock is not None else locking.for_new_version(t, dest, {})
            body.adopt(t)
            storage.add_version(t, dest, replica)
            effects.object_created(dest_ctx, t, dest, replica, "Put")  # queue() leaves a REPLICA alone
    except BaseException:
        body.discard(db)
        raise
    return True


def _replica(src: Mapping[str, Any], target: Mapping[str, Any], sse: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The replica's record: "the same key names and the same metadata—for example, creation
    time, owner, user-defined metadata, version ID, access control list (ACL), and storage
    class", the storage class unless the rule overrides it."""
    v: dict[str, Any] = {
        "key": src["key"], "vid": src["vid"], "dm": False, "mtime": src["mtime"], "size": src["size"],
        "etag": src["etag"], **body, "ct": src.get("ct") or "binary/octet-stream",
        "hdrs": dict(src.get("hdrs") or {}), "meta": dict(src.get("meta") or {}), "tags": dict(src.get("tags") or {}),
        "sc": target.get("sc") or src.get("sc") or "STANDARD", "cks": src.get("cks"), "sse": sse,
        "repl": REPLICA, "restore": None,
    }
    if src.get("parts"):
        v["parts"] = list(src["parts"])
    return v


def _reseal(db: ServiceDB, src: Mapping[str, Any], src_key: bytes | None, dest_key: bytes | None) -> payload.Stored:
    """The plaintext sealed under the destination's key, checked against the source's MD5."""
    plain = payload.copy_source(db, dict(src), src_key)
    if src["size"] <= payload.INLINE_MAX:
        stored = payload.store(db, b"".join(plain), dest_key)
    else:
        stored = payload.store(db, payload.Plain(plain, src["size"]), dest_key)
    etag = src["etag"].strip('"')
    if "-" not in etag and stored.md5.hex() != etag:  # a multipart ETag is no MD5 of the body
        stored.discard(db)
        raise crypto.IntegrityError(f"the copy of {src['key']} does not match its ETag")
    return stored


@dataclass(slots=True)
class _Sealed:
    """An SSE-C body copied as stored (its data key is wrapped under the customer's key,
    which S3 never keeps): the replica keeps the same sealed bytes and key record and
    opens with the same customer key. A multipart body's parts are copied one by one."""

    size: int
    data: bytes | None = None
    blob: str | None = None
    chunks: list[dict[str, Any]] | None = None

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"data": self.data, "blob": self.blob}
        if self.chunks is not None:
            out["chunks"] = self.chunks
        return out

    def adopt(self, t: Tx) -> None:
        if self.blob is not None:
            t.adopt_blob(self.blob, self.size)
        for chunk in self.chunks or ():
            t.adopt_blob(chunk["blob"], chunk["size"])

    def discard(self, db: ServiceDB) -> None:
        for blob in [self.blob] + [c["blob"] for c in self.chunks or ()]:
            if blob is not None:
                db.discard_blob(blob)
        self.blob, self.chunks = None, None


def _sealed_copy(db: ServiceDB, src: Mapping[str, Any]) -> _Sealed:
    body = _Sealed(src["size"])
    if src.get("data") is not None:
        body.data = bytes(src["data"])
        return body
    try:
        if src.get("chunks"):
            body.chunks = []
            for chunk in src["chunks"]:
                body.chunks.append({"blob": _copy_file(db, chunk["blob"]), "size": chunk["size"]})
        elif src.get("blob"):
            body.blob = _copy_file(db, src["blob"])
    except BaseException:
        body.discard(db)
        raise
    return body


def _copy_file(db: ServiceDB, blob: str) -> str:
    def pieces() -> Iterator[bytes]:
        with db.blobs.open(blob) as f:
            while piece := f.read(PIECE):
                yield piece

    return db.write_blob(pieces())[0]


def _marker(job: Job, ctx: Context, p: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    """A delete marker, copied with its version id: the key reads as deleted there too."""
    with storage.tx(ctx) as t:
        src = _source(t, p)
        dest = storage.find_bucket(t, target["bucket"])
        if src is None or _refusal(dest, target) is not None:
            return False
        assert dest is not None
        if storage.find_version(t, dest["name"], src["key"], src["vid"]) is not None:
            return True
        marker = {"key": src["key"], "vid": src["vid"], "dm": True, "mtime": src["mtime"], "size": 0, "etag": "",
                  "sc": "STANDARD", "owner": src.get("owner") or "", "repl": REPLICA}
        if target.get("owner"):
            marker["owner"] = dest["account"]
        dest_ctx = job.context(dest["account"], dest["region"])
        storage.add_version(t, dest, marker)
        effects.object_removed(dest_ctx, t, dest, marker, "DeleteMarkerCreated")
    return True
