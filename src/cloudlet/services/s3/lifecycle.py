"""S3 Lifecycle as pure functions: a configuration's validation, which rules select an object,
what is due for one key's versions and when, the x-amz-expiration and abort headers, and how
long a restore from an archive class takes. No store, no clock: callers pass `now`.

A lifecycle job reads a key's versions (the "v" records, newest first), applies each `Action`
that `due` returns, and asks `next_due` when to look again. Every lifecycle time is a midnight
UTC, because S3 "calculates the time by adding the number of days specified in the rule to the
object creation time and rounding up the resulting time to the next day at midnight UTC" and
evaluates rules once a day at 00:00 UTC. "An object is eligible for only one S3 Lifecycle action
per day", so `due` gives at most one action per version and the rest wait for the next run.

Sources: the S3 user guide ("Lifecycle configuration elements", "Examples of S3 Lifecycle
configuration", "Transitioning objects using Amazon S3 Lifecycle", "Restoring an archived
object", "Archive retrieval options") and API reference (PutBucketLifecycleConfiguration,
LifecycleRule, LifecycleRuleFilter, Transition, ErrorResponses). S3 documents few of its
lifecycle error messages; the others are S3's answers as users recorded them. Wording with no
record anywhere is marked "unrecorded" where it is raised.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import math
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

from cloudlet.core.errors import ServiceError

DAY = 86_400.0
MAX_RULES = 1000
MAX_ID_LENGTH = 255
#: the bounds S3 names for a size filter: 1000 TiB ("'ObjectSizeLessThan' should be between 1 and
#: 1099511627776000.", recorded); ObjectSizeGreaterThan's lower bound of 0 is by analogy
MAX_FILTER_SIZE = 1_099_511_627_776_000
#: "objects smaller than 128 KB will not transition": KB read as KiB
SMALL_OBJECT = 128 * 1024

ALL_128K = "all_storage_classes_128K"  # S3's default since September 2024
VARIES = "varies_by_storage_class"  # small objects may still go to GLACIER or DEEP_ARCHIVE
MIN_SIZE_POLICIES = (ALL_128K, VARIES)

TRANSITION_CLASSES = ("GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR")
INFREQUENT = ("STANDARD_IA", "ONEZONE_IA")  # at least 30 days in STANDARD first
ARCHIVES = ("GLACIER", "DEEP_ARCHIVE")  # not readable until restored
#: the waterfall: classes a version may move to from each class (user guide, "Supported
#: lifecycle transitions"); nothing moves up, and nothing leaves DEEP_ARCHIVE
_DOWNHILL: dict[str, frozenset[str]] = {
    "STANDARD": frozenset(TRANSITION_CLASSES),
    "STANDARD_IA": frozenset({"INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}),
    "INTELLIGENT_TIERING": frozenset({"ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}),
    "ONEZONE_IA": frozenset({"GLACIER", "DEEP_ARCHIVE"}),
    "GLACIER_IR": frozenset({"GLACIER", "DEEP_ARCHIVE"}),
    "GLACIER": frozenset({"DEEP_ARCHIVE"}),
}
#: "Any storage class to the S3 Glacier Flexible Retrieval or S3 Glacier Deep Archive"
_ANY_TO_ARCHIVE = frozenset(ARCHIVES)
#: order of the waterfall, for checking that a rule's transitions go down it over time
_DEPTH = {"STANDARD_IA": 1, "INTELLIGENT_TIERING": 2, "ONEZONE_IA": 3, "GLACIER_IR": 4, "GLACIER": 5, "DEEP_ARCHIVE": 6}
#: when several transitions are due at once, S3 "transitions your objects to the lower-cost
#: storage class", favouring INTELLIGENT_TIERING over all but GLACIER and DEEP_ARCHIVE
_CHEAPEST = {
    "DEEP_ARCHIVE": 0, "GLACIER": 1, "INTELLIGENT_TIERING": 2, "GLACIER_IR": 3, "ONEZONE_IA": 4, "STANDARD_IA": 5
}

# -- what a job does ---------------------------------------------------------------------------

DELETE = "delete"  # remove this version for good (an unversioned object, or a noncurrent version)
ADD_MARKER = "add_marker"  # expire the current version of a versioned bucket: put a delete marker
#: on top (versioning Suspended: a "null" marker that replaces a "null" version, as S3 does)
REMOVE_MARKER = "remove_marker"  # remove an expired object delete marker (the key's only version)
TRANSITION = "transition"  # change this version's storage class to `storage_class`

#: "Permanent deletion takes precedence over transition. Transition takes precedence over
#: creation of delete markers."
_PRECEDENCE = {DELETE: 0, REMOVE_MARKER: 0, TRANSITION: 1, ADD_MARKER: 2}


@dataclass(frozen=True)
class Action:
    """One lifecycle action on one version: `vid` names the version it acts on (for ADD_MARKER,
    the current version the marker goes on top of; apply it only if that is still current)."""

    kind: str
    key: str
    vid: str
    at: float  # when it fell due (a midnight UTC)
    rule_id: str | None
    storage_class: str | None = None  # TRANSITION's target


# -- errors ------------------------------------------------------------------------------------


def _malformed() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def _invalid_argument(message: str) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400)


def _invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


# -- time --------------------------------------------------------------------------------------


def round_up(t: float) -> float:
    """The next midnight UTC at or after `t`. No page says how a time already at midnight rounds;
    keeping it makes N days mean at least N whole days."""
    return math.ceil(t / DAY) * DAY


def _next_run(now: float) -> float:
    """The first daily lifecycle run strictly after `now`."""
    return (math.floor(now / DAY) + 1) * DAY


def _seconds(value: Any) -> float:
    """A lifecycle Date as epoch seconds (botocore parses it to a datetime; naive means UTC)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
        return aware.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return _seconds(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    raise _malformed()


def _at_midnight(value: Any) -> bool:
    return _seconds(value) % DAY == 0


# -- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Filter:
    prefix: str | None  # None: no Prefix element at all
    tags: tuple[tuple[str, str], ...]
    greater: int | None
    less: int | None

    def describe(self) -> str:
        """The filter as S3 names it in errors: "(prefix=logs/ and tag={key=k, value=v} and
        objectsizegreaterthan=500)"; an empty filter reads "(prefix=)"."""
        parts = [] if self.prefix is None else [f"prefix={self.prefix}"]
        parts += [f"tag={{key={k}, value={v}}}" for k, v in self.tags]
        if self.greater is not None:
            parts.append(f"objectsizegreaterthan={self.greater}")
        if self.less is not None:
            parts.append(f"objectsizelessthan={self.less}")
        return "(" + " and ".join(parts or ["prefix="]) + ")"


def _is_v1(rule: Mapping[str, Any]) -> bool:
    """Lifecycle V1: a rule-level Prefix and no Filter (deprecated, still honoured)."""
    return "Filter" not in rule


def _filter(rule: Mapping[str, Any]) -> _Filter:
    if _is_v1(rule):
        return _Filter(rule.get("Prefix") or "", (), None, None)
    flt = rule.get("Filter") or {}
    if "And" in flt:
        flt = flt["And"] or {}
        tags = tuple((t["Key"], t.get("Value", "")) for t in flt.get("Tags") or ())
    else:
        tag = flt.get("Tag")
        tags = ((tag["Key"], tag.get("Value", "")),) if tag else ()
    return _Filter(flt.get("Prefix"), tags, flt.get("ObjectSizeGreaterThan"), flt.get("ObjectSizeLessThan"))


def matches(rule: Mapping[str, Any], key: str, tags: Mapping[str, str], size: int) -> bool:
    """Whether the rule's filter selects the object (its Status is the caller's business).

    Every tag must be on the object with exactly that value (others may be there too); the
    size bounds exclude their own values.
    """
    flt = _filter(rule)
    return (
        key.startswith(flt.prefix or "")
        and all(k in tags and tags[k] == v for k, v in flt.tags)
        and (flt.greater is None or size > flt.greater)
        and (flt.less is None or size < flt.less)
    )


# -- validation --------------------------------------------------------------------------------


def validate(cfg: Mapping[str, Any] | None, *, transition_minimum: str | None = None) -> None:
    """Check PutBucketLifecycleConfiguration's `LifecycleConfiguration` (and its
    TransitionDefaultMinimumObjectSize) as S3 does; raise S3's error for the first fault.

    Faults S3's XML schema catches (MalformedXML) are found before any other, in any rule.
    """
    if transition_minimum is not None and transition_minimum not in MIN_SIZE_POLICIES:
        raise _invalid_request(f"Invalid TransitionDefaultMinimumObjectSize found: {transition_minimum}")
    rules = cfg.get("Rules") if isinstance(cfg, Mapping) else None
    if not isinstance(rules, list):
        raise _malformed()
    for rule in rules:
        _check_schema(rule)
    # S3's error table; recordings from 2016-17 show MalformedXML for both
    if not rules:
        raise _invalid_request("At least one lifecycle rule must be specified.")
    if len(rules) > MAX_RULES:
        raise _invalid_request("The number of lifecycle rules must not exceed the allowed limit of 1000 rules.")
    _check_one_version(rules)
    seen: set[str] = set()
    for rule in rules:
        rule_id = rule.get("ID")
        if rule_id is None:
            continue
        if len(rule_id) > MAX_ID_LENGTH:
            raise _invalid_argument("ID length should not exceed allowed limit of 255")
        if rule_id in seen:
            raise _invalid_argument("Rule ID must be unique. Found same ID for more than one rule")
        seen.add(rule_id)
    for rule in rules:
        _check_rule(rule)


def _present(mapping: Mapping[str, Any], *names: str) -> list[str]:
    return [n for n in names if mapping.get(n) is not None]


def _check_schema(rule: Any) -> None:
    """What the XML schema refuses: S3 answers MalformedXML."""
    if not isinstance(rule, Mapping) or rule.get("Status") not in ("Enabled", "Disabled"):
        raise _malformed()
    if "Filter" not in rule and "Prefix" not in rule:
        raise _malformed()
    if "Filter" in rule and rule.get("Prefix"):  # no record of both; an empty Prefix is let pass
        raise _malformed()
    flt = rule.get("Filter") or {}
    if len(_present(flt, "Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And")) > 1:
        raise _malformed()  # "exactly one of" them; several go in an And
    if "And" in flt:
        conj = flt["And"] or {}
        predicates = len(_present(conj, "Prefix", "ObjectSizeGreaterThan", "ObjectSizeLessThan"))
        if predicates + len(conj.get("Tags") or ()) < 2:  # "two or more predicates"
            raise _malformed()
    exp = rule.get("Expiration")
    if exp is not None and len(_present(exp, "Date", "Days", "ExpiredObjectDeleteMarker")) != 1:
        raise _malformed()
    for t in rule.get("Transitions") or ():
        if t.get("StorageClass") not in TRANSITION_CLASSES or len(_present(t, "Date", "Days")) != 1:
            raise _malformed()
    for t in rule.get("NoncurrentVersionTransitions") or ():
        if t.get("StorageClass") not in TRANSITION_CLASSES or t.get("NoncurrentDays") is None:
            raise _malformed()
    nve = rule.get("NoncurrentVersionExpiration")
    if nve is not None and nve.get("NoncurrentDays") is None:
        raise _malformed()
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None and abort.get("DaysAfterInitiation") is None:
        raise _malformed()


def _check_one_version(rules: Sequence[Mapping[str, Any]]) -> None:
    """A configuration is V1 (rule-level prefixes) or V2 (filters), as its first rule sets."""
    v1 = _is_v1(rules[0])
    for rule in rules[1:]:
        if v1 and not _is_v1(rule):
            raise _invalid_request("Filter element can only be used in Lifecycle V2.")
        if not v1 and _is_v1(rule):
            raise _invalid_request(
                "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."
            )
    if v1:  # V2 resolves overlapping rules; V1 refuses them per action
        for i, a in enumerate(rules):
            for b in rules[i + 1 :]:
                pa, pb = a.get("Prefix") or "", b.get("Prefix") or ""
                if not (pa.startswith(pb) or pb.startswith(pa)):
                    continue
                for action in _action_types(a):
                    if action in _action_types(b):
                        raise _invalid_request(
                            f"Found overlapping prefixes '{pa}' and '{pb}' for same action type '{action}'"
                        )


def _action_types(rule: Mapping[str, Any]) -> list[str]:
    names = {
        "Expiration": "Expiration",
        "Transitions": "Transition",
        "NoncurrentVersionExpiration": "NoncurrentVersionExpiration",
        "NoncurrentVersionTransitions": "NoncurrentVersionTransition",
        "AbortIncompleteMultipartUpload": "AbortIncompleteMultipartUpload",
    }
    return [label for member, label in names.items() if rule.get(member)]


def _check_rule(rule: Mapping[str, Any]) -> None:
    flt = _filter(rule)
    where = flt.describe()
    keys = [k for k, _ in flt.tags]
    if len(set(keys)) != len(keys):
        raise _invalid_request("Duplicate Tag Keys are not allowed.")
    for name, value, low in (("ObjectSizeGreaterThan", flt.greater, 0), ("ObjectSizeLessThan", flt.less, 1)):
        if value is not None and not low <= value <= MAX_FILTER_SIZE:
            raise _invalid_request(f"'{name}' should be between {low} and {MAX_FILTER_SIZE}.")
    if flt.greater is not None and flt.less is not None and flt.less <= flt.greater:
        raise _invalid_request("'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.")
    if not _action_types(rule):
        raise _invalid_request("At least one action needs to be specified in a rule")
    sized = flt.greater is not None or flt.less is not None

    exp = rule.get("Expiration") or {}
    if exp.get("ExpiredObjectDeleteMarker") is not None:  # refused even when false (recorded)
        if flt.tags:
            raise _invalid_request("ExpiredObjectDeleteMarker cannot be specified with Tags.")  # unrecorded
        if sized:
            raise _invalid_request("ExpiredObjectDeleteMarker cannot be specified with Object Size.")
    if exp.get("Days") is not None and exp["Days"] < 1:
        raise _invalid_argument("'Days' for Expiration action must be a positive integer")
    if exp.get("Date") is not None and not _at_midnight(exp["Date"]):
        raise _invalid_argument("'Date' must be at midnight GMT")

    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None:
        if flt.tags:
            raise _invalid_request("AbortIncompleteMultipartUpload cannot be specified with Tags.")
        if sized:
            raise _invalid_request("AbortIncompleteMultipartUpload cannot be specified with Object Size.")
        if abort["DaysAfterInitiation"] < 1:
            raise _invalid_argument(
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"
            )

    nve = rule.get("NoncurrentVersionExpiration")
    if nve is not None:
        if nve["NoncurrentDays"] < 1:
            raise _invalid_argument(
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"
            )
        _check_newer(rule, nve, "NoncurrentVersionExpiration")

    _check_transitions(rule.get("Transitions") or [], exp, where)
    _check_noncurrent_transitions(rule, nve, where)


def _check_newer(rule: Mapping[str, Any], action: Mapping[str, Any], name: str) -> None:
    newer = action.get("NewerNoncurrentVersions")
    if newer is None:
        return
    if _is_v1(rule):
        raise _invalid_request("NewerNoncurrentVersions element can only be used in Lifecycle V2.")
    if newer < 1:  # unrecorded; 500 was accepted, so no upper bound despite the documented 100
        raise _invalid_argument(f"'NewerNoncurrentVersions' for {name} action must be a positive integer")


def _check_transitions(transitions: list[Mapping[str, Any]], exp: Mapping[str, Any], where: str) -> None:
    _check_distinct(transitions, "Transition", where)
    by_days = [t for t in transitions if t.get("Days") is not None]
    if by_days and len(by_days) != len(transitions):
        raise _invalid_request(
            f"Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for filter '{where}'"
        )
    for t in transitions:
        if t.get("Days") is not None:
            _check_transition_days(t, "Days", "Transition")
        elif not _at_midnight(t["Date"]):
            raise _invalid_argument("'Date' must be at midnight GMT")
    if transitions and (exp.get("Days") is not None or exp.get("Date") is not None):
        if (exp.get("Days") is not None) != bool(by_days):
            raise _invalid_request(
                "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule "
                f"for filter '{where}'"
            )
    field = "Days" if by_days else "Date"
    _check_order(transitions, field, "Transition", where)
    if by_days:  # the 30-day minimum charge of the IA classes; this wording is unrecorded
        for a in by_days:
            for b in by_days:
                if a["StorageClass"] in INFREQUENT and b["StorageClass"] in ARCHIVES and b["Days"] - a["Days"] < 30:
                    raise _invalid_argument(
                        f"'Days' in the Transition action for StorageClass '{b['StorageClass']}' for filter '{where}' "
                        f"must be 30 days more than 'Days' in the Transition action for StorageClass "
                        f"'{a['StorageClass']}' for filter '{where}'"
                    )
    limit = exp.get(field)
    if limit is not None and any(_value(t[field]) >= _value(limit) for t in transitions):
        raise _invalid_argument(
            f"'{field}' in the Expiration action for filter '{where}' must be greater than '{field}' "
            "in the Transition action"
        )


def _check_transition_days(t: Mapping[str, Any], field: str, action: str) -> None:
    """A transition's age: not negative, and 30 days at least into an infrequent-access class."""
    if t[field] < 0:
        raise _invalid_argument(f"'{field}' in {action} action must be nonnegative")
    if t["StorageClass"] in INFREQUENT and t[field] < 30:
        raise _invalid_argument(
            f"'{field}' in {action} action must be greater than or equal to 30 for storageClass '{t['StorageClass']}'"
        )


def _check_noncurrent_transitions(rule: Mapping[str, Any], nve: Mapping[str, Any] | None, where: str) -> None:
    transitions = rule.get("NoncurrentVersionTransitions") or []
    _check_distinct(transitions, "NoncurrentVersionTransition", where)
    for t in transitions:
        _check_transition_days(t, "NoncurrentDays", "NoncurrentVersionTransition")
        _check_newer(rule, t, "NoncurrentVersionTransition")
    _check_order(transitions, "NoncurrentDays", "NoncurrentVersionTransition", where)
    if nve is not None and any(t["NoncurrentDays"] >= nve["NoncurrentDays"] for t in transitions):
        raise _invalid_argument(
            f"'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '{where}' must be greater than "
            "'NoncurrentDays' in the NoncurrentVersionTransition action"
        )


def _check_distinct(transitions: list[Mapping[str, Any]], action: str, where: str) -> None:
    classes = [t["StorageClass"] for t in transitions]
    if len(set(classes)) != len(classes):
        raise _invalid_request(
            f"'StorageClass' must be different for '{action}' actions in same 'Rule' with filter '{where}'"
        )


def _value(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else _seconds(v)


def _check_order(transitions: list[Mapping[str, Any]], field: str, action: str, where: str) -> None:
    """Down the waterfall only with time: a colder class must come strictly later."""
    ordered = sorted(transitions, key=lambda t: _DEPTH[t["StorageClass"]])
    for a, b in zip(ordered, ordered[1:]):
        if _value(b[field]) <= _value(a[field]):
            raise _invalid_argument(
                f"'{field}' in the {action} action for StorageClass '{b['StorageClass']}' for filter '{where}' "
                f"must be greater than '{field}' in the {action} action for StorageClass '{a['StorageClass']}' "
                f"for filter '{where}'"
            )


def assign_ids(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration with an ID on every rule: S3 names a rule sent without one with 48
    characters of base64 holding a version 4 UUID (as recorded in its headers)."""
    rules = []
    for rule in cfg.get("Rules") or ():
        if rule.get("ID") is None:
            rule = {**rule, "ID": base64.b64encode(str(uuid.uuid4()).encode()).decode()}
        rules.append(rule)
    return {**cfg, "Rules": rules}


# -- evaluation --------------------------------------------------------------------------------


def _enabled(rules: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rules if r.get("Status") == "Enabled"]


def _expires_at(exp: Mapping[str, Any] | None, mtime: float) -> float | None:
    if not exp:
        return None
    if exp.get("Days") is not None:
        return round_up(mtime + exp["Days"] * DAY)
    if exp.get("Date") is not None:
        return _seconds(exp["Date"])
    return None


def _can_move(current: str | None, target: str) -> bool:
    return target in _DOWNHILL.get(current or "STANDARD", _ANY_TO_ARCHIVE)


def _small_ok(rule: Mapping[str, Any], size: int, target: str, policy: str) -> bool:
    """S3 does not transition objects under 128 KB, unless the rule filters by size itself
    ("Custom filters always take precedence") or the bucket allows it for the archive classes."""
    flt = _filter(rule)
    if size >= SMALL_OBJECT or flt.greater is not None or flt.less is not None:
        return True
    return policy == VARIES and target in ARCHIVES


def _release(version: Mapping[str, Any], at: float) -> float | None:
    """When lifecycle may delete a version: Object Lock holds it until its retention ends, and
    a legal hold indefinitely (None)."""
    lock = version.get("lock") or {}
    if lock.get("hold"):
        return None
    until = lock.get("until")
    return max(at, round_up(until)) if until else at


def _candidates(
    rules: Sequence[Mapping[str, Any]], versions: Sequence[Mapping[str, Any]], versioning: str | None, policy: str
) -> list[list[Action]]:
    """Every action each version will be eligible for as things stand, due or not."""
    if not versions:
        return []
    active = _enabled(rules)
    current = versions[0]
    if not current.get("dm"):
        out = [_current(active, current, versioning, policy)]
    else:  # S3 takes no action on a current delete marker that still has versions under it
        out = [_marker(active, current) if len(versions) == 1 else []]
    newer = 0  # noncurrent versions newer than this one; delete markers do not count
    for i in range(1, len(versions)):
        out.append(_noncurrent(active, versions[i], versions[i - 1]["mtime"], newer, policy))
        newer += 0 if versions[i].get("dm") else 1
    return out


def _current(
    rules: list[Mapping[str, Any]], v: Mapping[str, Any], versioning: str | None, policy: str
) -> list[Action]:
    key, vid, mtime, size = v["key"], v["vid"], v["mtime"], v.get("size", 0)
    found: list[Action] = []
    for rule in rules:
        if not matches(rule, key, v.get("tags") or {}, size):
            continue
        rule_id = rule.get("ID")
        at = _expires_at(rule.get("Expiration"), mtime)
        if at is not None:
            found.append(Action(DELETE if versioning is None else ADD_MARKER, key, vid, at, rule_id))
        for t in rule.get("Transitions") or ():
            target = t["StorageClass"]
            if not _can_move(v.get("sc"), target) or not _small_ok(rule, size, target, policy):
                continue
            if t.get("Days") is not None:
                at = round_up(mtime + t["Days"] * DAY)
            else:  # a date rule still leaves a version 30 days in STANDARD before an IA class
                at = _seconds(t["Date"])
                if target in INFREQUENT:
                    at = max(at, round_up(mtime + 30 * DAY))
            found.append(Action(TRANSITION, key, vid, at, rule_id, target))
    return found


def _marker(rules: list[Mapping[str, Any]], dm: Mapping[str, Any]) -> list[Action]:
    """An expired object delete marker goes at once with ExpiredObjectDeleteMarker, or when it
    is as old as an Expiration's Days ("when the delete markers are old enough")."""
    found: list[Action] = []
    for rule in rules:
        exp = rule.get("Expiration") or {}
        if not matches(rule, dm["key"], {}, 0):
            continue
        if exp.get("ExpiredObjectDeleteMarker"):
            at = round_up(dm["mtime"])
        elif exp.get("Days") is not None:
            at = round_up(dm["mtime"] + exp["Days"] * DAY)
        else:
            continue
        found.append(Action(REMOVE_MARKER, dm["key"], dm["vid"], at, rule.get("ID")))
    return found


def _noncurrent(
    rules: list[Mapping[str, Any]], v: Mapping[str, Any], since: float, newer: int, policy: str
) -> list[Action]:
    """`since` is when the version became noncurrent: its successor's creation time."""
    key, vid, marker = v["key"], v["vid"], bool(v.get("dm"))
    size = 0 if marker else v.get("size", 0)
    found: list[Action] = []
    for rule in rules:
        if not matches(rule, key, {} if marker else v.get("tags") or {}, size):
            continue
        rule_id = rule.get("ID")
        nve = rule.get("NoncurrentVersionExpiration")
        if nve and newer >= (nve.get("NewerNoncurrentVersions") or 0):
            at = _release(v, round_up(since + nve["NoncurrentDays"] * DAY))
            if at is not None:
                found.append(Action(DELETE, key, vid, at, rule_id))
        if marker:  # a delete marker has no data to move
            continue
        for t in rule.get("NoncurrentVersionTransitions") or ():
            target = t["StorageClass"]
            if newer < (t.get("NewerNoncurrentVersions") or 0):
                continue
            if _can_move(v.get("sc"), target) and _small_ok(rule, size, target, policy):
                found.append(Action(TRANSITION, key, vid, round_up(since + t["NoncurrentDays"] * DAY), rule_id, target))
    return found


def _precedence(action: Action) -> tuple[int, int, float]:
    cost = _CHEAPEST.get(action.storage_class or "", 0)
    return (_PRECEDENCE[action.kind], cost, action.at)


def due(
    rules: Sequence[Mapping[str, Any]],
    versions: Sequence[Mapping[str, Any]],
    now: float,
    versioning: str | None,
    *,
    transition_minimum: str = ALL_128K,
) -> list[Action]:
    """What lifecycle does now to one key's versions (newest first): at most one action per
    version, the one S3 gives precedence; ties go to the earlier-listed rule.

    `versioning` is the bucket's state (None if never versioned): it decides whether the current
    version's expiry deletes it or puts a delete marker on it.
    """
    chosen = []
    for found in _candidates(rules, versions, versioning, transition_minimum):
        ready = [a for a in found if a.at <= now]
        if ready:
            chosen.append(min(ready, key=_precedence))
    return chosen


def next_due(
    rules: Sequence[Mapping[str, Any]],
    versions: Sequence[Mapping[str, Any]],
    now: float,
    *,
    transition_minimum: str = ALL_128K,
) -> float | None:
    """The earliest time after `now` at which `due` will have something for these versions, or
    None if nothing will ever fall due while they stay as they are.

    An action that is already due but was not taken (another won the day, or the caller has not
    applied it yet) counts as due at the next daily run.
    """
    times = [
        a.at if a.at > now else _next_run(now)
        for found in _candidates(rules, versions, None, transition_minimum)
        for a in found
    ]
    return min(times, default=None)


# -- response headers --------------------------------------------------------------------------


def expiration(
    rules: Sequence[Mapping[str, Any]], key: str, tags: Mapping[str, str], size: int, mtime: float
) -> tuple[float, str] | None:
    """When an object's current version expires and by which rule: "the shorter expiration
    policy is honored"; on a tie, the first listed."""
    best: tuple[float, str] | None = None
    for rule in _enabled(rules):
        if not matches(rule, key, tags, size):
            continue
        at = _expires_at(rule.get("Expiration"), mtime)
        if at is not None and (best is None or at < best[0]):
            best = (at, rule.get("ID") or "")
    return best


def _header_id(rule_id: str) -> str:
    """The rule ID in a header. S3 says it is URL-encoded, yet every recorded answer shows
    spaces and punctuation as they are; only what a header cannot carry (and the quote and
    percent signs that would make the value ambiguous) is escaped here."""
    safe = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"%')
    return quote(rule_id, safe=safe)


def expiration_header(
    rules: Sequence[Mapping[str, Any]], key: str, tags: Mapping[str, str], size: int, mtime: float
) -> str | None:
    """x-amz-expiration for PUT/GET/HEAD of a current version: `expiry-date="Fri, 23 Dec 2012
    00:00:00 GMT", rule-id="picture-deletion-rule"`; None when no enabled rule expires it."""
    found = expiration(rules, key, tags, size, mtime)
    if found is None:
        return None
    at, rule_id = found
    return f'expiry-date="{email.utils.formatdate(at, usegmt=True)}", rule-id="{_header_id(rule_id)}"'


def abort_date(rules: Sequence[Mapping[str, Any]], key: str, initiated: float) -> tuple[float, str] | None:
    """When an incomplete multipart upload of `key` is aborted and by which rule (for
    x-amz-abort-date and x-amz-abort-rule-id). Such rules filter by prefix only."""
    best: tuple[float, str] | None = None
    for rule in _enabled(rules):
        abort = rule.get("AbortIncompleteMultipartUpload")
        if not abort or not key.startswith(_filter(rule).prefix or ""):
            continue
        at = round_up(initiated + abort["DaysAfterInitiation"] * DAY)
        if best is None or at < best[0]:
            best = (at, rule.get("ID") or "")
    return best


def abort_due(rules: Sequence[Mapping[str, Any]], key: str, initiated: float, now: float) -> bool:
    found = abort_date(rules, key, initiated)
    return found is not None and found[0] <= now


# -- restore -----------------------------------------------------------------------------------

#: how long a restore takes: the upper end of each typical time S3 documents ("Archive retrieval
#: options"): GLACIER Expedited 1-5 minutes, Standard 3-5 hours, Bulk 5-12 hours; DEEP_ARCHIVE
#: Standard within 12 hours, Bulk within 48 hours. The upper end, so a test that waits the
#: documented time always finds the copy ready.
RESTORE_SECONDS: dict[tuple[str, str], float] = {
    ("GLACIER", "Expedited"): 5 * 60.0,
    ("GLACIER", "Standard"): 5 * 3600.0,
    ("GLACIER", "Bulk"): 12 * 3600.0,
    ("DEEP_ARCHIVE", "Standard"): 12 * 3600.0,
    ("DEEP_ARCHIVE", "Bulk"): 48 * 3600.0,
}
TIERS = ("Standard", "Bulk", "Expedited")


def restore_ready_at(storage_class: str | None, tier: str | None, requested_at: float) -> float:
    """When a RestoreObject's temporary copy becomes readable. Standard is the default tier."""
    tier = tier or "Standard"
    if storage_class not in ARCHIVES:
        raise ServiceError("InvalidObjectState", "Restore is not allowed for the object's current storage class", 403)
    if tier not in TIERS:
        raise _malformed()
    seconds = RESTORE_SECONDS.get((storage_class, tier))
    if seconds is None:  # Expedited from DEEP_ARCHIVE; the message is S3's, the code unrecorded
        raise _invalid_argument("Retrieval option is not supported by this storage class")
    return requested_at + seconds


def restore_expiry(requested_at: float, days: int) -> float:
    """When a restored copy goes away: the days "to the time you request to restore the object,
    and then rounding to the next day at midnight UTC" (also for a later request that extends it)."""
    return round_up(requested_at + days * DAY)
