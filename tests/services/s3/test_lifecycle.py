"""S3 Lifecycle logic at its boundaries: explicit times, the user guide's worked examples, and
S3's validation errors with their codes and wording."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import lifecycle as lc
from cloudlet.services.s3.lifecycle import ADD_MARKER, DELETE, REMOVE_MARKER, TRANSITION, Action

UTC = dt.timezone.utc
KIB = 1024
MIB = 1024 * KIB


def t(iso: str) -> float:
    """Epoch seconds of an ISO time in UTC: t("2026-01-15T10:00")."""
    return dt.datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()


def date(iso: str) -> dt.datetime:
    """A lifecycle Date as botocore hands it over: an aware datetime."""
    return dt.datetime.fromisoformat(iso).replace(tzinfo=UTC)


def rule(rule_id: str | None = "r", **members: Any) -> dict[str, Any]:
    return {"ID": rule_id, "Status": "Enabled", "Filter": {}, **members}


def version(vid: str, mtime: float, *, key: str = "k", dm: bool = False, size: int = MIB, sc: str = "STANDARD",
            tags: dict[str, str] | None = None, lock: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"key": key, "vid": vid, "dm": dm, "mtime": mtime, "size": 0 if dm else size, "sc": sc,
            "tags": tags or {}, "lock": lock}


def kinds(actions: list[Action]) -> list[tuple[str, str]]:
    return [(a.kind, a.vid) for a in actions]


# -- when an age-based action falls due ----------------------------------------------------------


def test_days_count_from_creation_rounded_up_to_the_next_midnight() -> None:
    rules = [rule("thirty", Expiration={"Days": 30})]
    obj = version("null", t("2026-01-15T10:00"))
    assert lc.expiration(rules, "k", {}, MIB, obj["mtime"]) == (t("2026-02-15T00:00"), "thirty")
    assert lc.due(rules, [obj], t("2026-02-14T23:59:59"), None) == []
    assert lc.due(rules, [obj], t("2026-02-15T00:00"), None) == [
        Action(DELETE, "k", "null", t("2026-02-15T00:00"), "thirty")
    ]


def test_user_guide_examples_of_the_rounding() -> None:
    # "created at 1/15/2014 10:30 AM UTC and you specify 3 days in a transition rule ... 1/19/2014 00:00 UTC"
    rules = [rule(Transitions=[{"Days": 3, "StorageClass": "GLACIER"}])]
    obj = version("null", t("2014-01-15T10:30"))
    assert lc.next_due(rules, [obj], t("2014-01-15T10:30")) == t("2014-01-19T00:00")
    # troubleshooting page: created 00:05 on January 2, one day -> evaluated at 00:00 on January 4
    rules = [rule(Expiration={"Days": 1})]
    assert lc.expiration(rules, "k", {}, 1, t("2026-01-02T00:05")) == (t("2026-01-04T00:00"), "r")


def test_a_creation_time_at_midnight_is_not_pushed_a_day_further() -> None:
    rules = [rule(Expiration={"Days": 1})]
    assert lc.expiration(rules, "k", {}, 1, t("2026-01-15T00:00")) == (t("2026-01-16T00:00"), "r")


def test_a_past_date_applies_to_objects_created_later_too() -> None:
    rules = [rule("d", Expiration={"Date": date("2026-03-01T00:00")})]
    late = version("null", t("2026-03-05T09:00"))
    assert lc.due(rules, [late], t("2026-03-05T09:00"), None) == [Action(DELETE, "k", "null", t("2026-03-01"), "d")]
    early = version("null", t("2026-02-01T09:00"))
    assert lc.due(rules, [early], t("2026-02-28T23:59"), None) == []
    assert lc.next_due(rules, [early], t("2026-02-28T23:59")) == t("2026-03-01T00:00")


@pytest.mark.parametrize("versioning", ["Enabled", "Suspended"])
def test_expiring_in_a_versioned_bucket_adds_a_delete_marker(versioning: str) -> None:
    rules = [rule(Expiration={"Days": 1})]
    obj = version("v1", t("2026-01-01T12:00"))
    assert kinds(lc.due(rules, [obj], t("2026-01-03T00:00"), versioning)) == [(ADD_MARKER, "v1")]


def test_disabled_rules_do_nothing() -> None:
    off = {**rule(Expiration={"Days": 1}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}),
           "Status": "Disabled"}
    obj = version("null", t("2026-01-01T12:00"))
    assert lc.due([off], [obj], t("2027-01-01"), None) == []
    assert lc.next_due([off], [obj], t("2026-01-01")) is None
    assert lc.expiration_header([off], "k", {}, MIB, obj["mtime"]) is None
    assert lc.abort_date([off], "k", t("2026-01-01")) is None


# -- noncurrent versions --------------------------------------------------------------------------


def test_noncurrent_days_count_from_when_the_successor_was_created() -> None:
    # user guide: photo.gif created 1/1/2014 10:30, deleted 1/2/2014 11:30, 5 days -> 1/8/2014 00:00
    rules = [rule("nc", NoncurrentVersionExpiration={"NoncurrentDays": 5})]
    versions = [version("dm", t("2014-01-02T11:30"), dm=True), version("111111", t("2014-01-01T10:30"))]
    assert lc.due(rules, versions, t("2014-01-07T23:59:59"), "Enabled") == []
    assert lc.next_due(rules, versions, t("2014-01-02T11:30")) == t("2014-01-08T00:00")
    assert lc.due(rules, versions, t("2014-01-08T00:00"), "Enabled") == [
        Action(DELETE, "k", "111111", t("2014-01-08T00:00"), "nc")
    ]


def test_newer_noncurrent_versions_keeps_that_many() -> None:
    # ten versions, NewerNoncurrentVersions 5: "1 current and (9 - 5) noncurrent" remain... less 4
    rules = [rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 5})]
    versions = [version(f"v{n}", t("2026-01-01T00:00") + n * 60) for n in range(10, 0, -1)]
    assert lc.due(rules, versions, t("2026-01-01T12:00"), "Enabled") == []  # not a day noncurrent yet
    assert kinds(lc.due(rules, versions, t("2026-01-03T00:00"), "Enabled")) == [
        (DELETE, "v4"), (DELETE, "v3"), (DELETE, "v2"), (DELETE, "v1")
    ]


def test_noncurrent_delete_markers_do_not_count_toward_the_versions_kept() -> None:
    rules = [rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 1})]
    versions = [version("v3", t("2026-01-04")), version("dm", t("2026-01-03"), dm=True),
                version("v2", t("2026-01-02")), version("v1", t("2026-01-01"))]
    # v2 is the one noncurrent version kept (the marker above it does not count), v1 goes
    assert kinds(lc.due(rules, versions, t("2026-02-01"), "Enabled")) == [(DELETE, "v1")]


def test_noncurrent_expiration_removes_noncurrent_delete_markers_too() -> None:
    rules = [rule(NoncurrentVersionExpiration={"NoncurrentDays": 1})]
    versions = [version("v2", t("2026-01-03")), version("dm", t("2026-01-02"), dm=True),
                version("v1", t("2026-01-01"))]
    assert kinds(lc.due(rules, versions, t("2026-02-01"), "Enabled")) == [(DELETE, "dm"), (DELETE, "v1")]


def test_noncurrent_transition_respects_newer_versions_and_days() -> None:
    rules = [rule("nt", NoncurrentVersionTransitions=[
        {"NoncurrentDays": 30, "StorageClass": "GLACIER", "NewerNoncurrentVersions": 1}])]
    versions = [version("v3", t("2026-01-10T12:00")), version("v2", t("2026-01-05")), version("v1", t("2026-01-01"))]
    # v1 became noncurrent at 2026-01-05T00:00 -> 30 days -> 2026-02-04T00:00; v2 is the one kept
    assert lc.due(rules, versions, t("2026-02-03T23:59"), "Enabled") == []
    assert lc.due(rules, versions, t("2026-02-04"), "Enabled") == [
        Action(TRANSITION, "k", "v1", t("2026-02-04"), "nt", "GLACIER")
    ]


def test_lifecycle_does_not_delete_a_locked_version_before_its_retention_ends() -> None:
    rules = [rule(NoncurrentVersionExpiration={"NoncurrentDays": 1})]
    locked = version("v1", t("2026-01-01"), lock={"mode": "COMPLIANCE", "until": t("2026-06-01T12:00"), "hold": False})
    versions = [version("v2", t("2026-01-02")), locked]
    assert lc.due(rules, versions, t("2026-06-01T23:59"), "Enabled") == []
    assert lc.next_due(rules, versions, t("2026-03-01")) == t("2026-06-02T00:00")
    held = {**locked, "lock": {"mode": None, "until": None, "hold": True}}
    assert lc.due(rules, [versions[0], held], t("2030-01-01"), "Enabled") == []
    assert lc.next_due(rules, [versions[0], held], t("2030-01-01")) is None


# -- delete markers -------------------------------------------------------------------------------


def test_an_expired_object_delete_marker_goes_only_when_it_is_the_only_version() -> None:
    rules = [rule("eodm", Expiration={"ExpiredObjectDeleteMarker": True})]
    marker = version("dm", t("2026-01-10T12:00"), dm=True)
    assert lc.due(rules, [marker, version("v1", t("2026-01-01"))], t("2026-03-01"), "Enabled") == []
    assert lc.due(rules, [marker], t("2026-01-10T23:59"), "Enabled") == []
    assert lc.due(rules, [marker], t("2026-01-11T00:00"), "Enabled") == [
        Action(REMOVE_MARKER, "k", "dm", t("2026-01-11T00:00"), "eodm")
    ]


def test_an_expiration_in_days_removes_a_lone_marker_once_it_is_that_old() -> None:
    rules = [rule(Expiration={"Days": 30})]
    marker = version("dm", t("2026-01-10T12:00"), dm=True)
    assert lc.due(rules, [marker], t("2026-02-09T23:59"), "Enabled") == []
    assert kinds(lc.due(rules, [marker], t("2026-02-10T00:00"), "Enabled")) == [(REMOVE_MARKER, "dm")]
    # "Amazon S3 doesn't take any action if there are one or more object versions and the delete
    # marker is the current version"
    assert lc.due(rules, [marker, version("v1", t("2026-01-01"))], t("2027-01-01"), "Enabled") == []


def test_a_marker_left_alone_by_the_last_deletion_goes_at_the_next_run() -> None:
    rules = [rule(Expiration={"ExpiredObjectDeleteMarker": True}, NoncurrentVersionExpiration={"NoncurrentDays": 1})]
    marker = version("dm", t("2026-01-02T12:00"), dm=True)
    before = [marker, version("v1", t("2026-01-01"))]
    assert kinds(lc.due(rules, before, t("2026-01-04"), "Enabled")) == [(DELETE, "v1")]
    # once v1 is gone the marker is alone; it was due already, so the next daily run removes it
    assert lc.next_due(rules, [marker], t("2026-01-04")) == t("2026-01-05")
    assert kinds(lc.due(rules, [marker], t("2026-01-05"), "Enabled")) == [(REMOVE_MARKER, "dm")]


# -- transitions ----------------------------------------------------------------------------------

TIERING = [rule("tier", Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"},
                                     {"Days": 90, "StorageClass": "GLACIER"}],
                Expiration={"Days": 365})]


def test_transitions_follow_the_waterfall_in_order() -> None:
    created = t("2026-01-01T10:00")
    obj = version("null", created)
    assert lc.next_due(TIERING, [obj], created) == t("2026-02-01T00:00")
    assert lc.due(TIERING, [obj], t("2026-02-01"), None) == [
        Action(TRANSITION, "k", "null", t("2026-02-01"), "tier", "STANDARD_IA")
    ]
    in_ia = {**obj, "sc": "STANDARD_IA"}
    assert lc.due(TIERING, [in_ia], t("2026-03-01"), None) == []
    assert lc.next_due(TIERING, [in_ia], t("2026-02-01")) == t("2026-04-02T00:00")
    assert kinds(lc.due(TIERING, [in_ia], t("2026-04-02"), None)) == [(TRANSITION, "null")]
    assert lc.due(TIERING, [in_ia], t("2026-04-02"), None)[0].storage_class == "GLACIER"
    in_glacier = {**obj, "sc": "GLACIER"}  # nothing goes back up; only the expiry is left
    assert lc.next_due(TIERING, [in_glacier], t("2026-04-02")) == t("2027-01-02T00:00")


def test_when_several_transitions_are_due_the_cheapest_class_wins() -> None:
    obj = version("null", t("2026-01-01T10:00"))
    assert [(a.kind, a.storage_class) for a in lc.due(TIERING, [obj], t("2026-04-10"), None)] == [
        (TRANSITION, "GLACIER")
    ]


def test_permanent_deletion_wins_over_transition_and_transition_over_a_delete_marker() -> None:
    rules = [rule("exp", Expiration={"Days": 365}), rule("tr", Transitions=[{"Days": 365, "StorageClass": "GLACIER"}])]
    obj = version("v1", t("2026-01-01T10:00"))
    day = t("2027-01-02")
    assert kinds(lc.due(rules, [obj], day, None)) == [(DELETE, "v1")]
    assert lc.due(rules, [obj], day, "Enabled") == [Action(TRANSITION, "k", "v1", day, "tr", "GLACIER")]
    # one action per day: the delete marker waits for the next run
    assert lc.next_due(rules, [{**obj, "sc": "GLACIER"}], day) == t("2027-01-03")
    assert kinds(lc.due(rules, [{**obj, "sc": "GLACIER"}], t("2027-01-03"), "Enabled")) == [(ADD_MARKER, "v1")]


def test_the_shorter_expiration_wins_and_names_its_rule() -> None:
    rules = [rule("long", Expiration={"Days": 60}), rule("short", Expiration={"Days": 7}),
             rule("also-short", Expiration={"Days": 7})]
    assert lc.expiration(rules, "k", {}, 1, t("2026-01-01T10:00")) == (t("2026-01-09"), "short")
    assert lc.due(rules, [version("null", t("2026-01-01T10:00"))], t("2026-01-09"), None)[0].rule_id == "short"


def test_small_objects_stay_unless_the_bucket_or_the_rule_says_otherwise() -> None:
    glacier = [rule(Transitions=[{"Days": 0, "StorageClass": "GLACIER"}])]
    ia = [rule(Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"}])]
    small = version("null", t("2026-01-01T10:00"), size=128 * KIB - 1)
    later = t("2026-06-01")
    assert lc.due(glacier, [small], later, None) == []
    assert lc.next_due(glacier, [small], later) is None
    assert kinds(lc.due(glacier, [small], later, None, transition_minimum=lc.VARIES)) == [(TRANSITION, "null")]
    assert lc.due(ia, [small], later, None, transition_minimum=lc.VARIES) == []
    exactly = {**small, "size": 128 * KIB}
    assert kinds(lc.due(ia, [exactly], later, None)) == [(TRANSITION, "null")]
    # "Custom filters always take precedence over the default transition behavior"
    sized = [rule(Filter={"ObjectSizeGreaterThan": 10}, Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"}])]
    assert kinds(lc.due(sized, [small], later, None)) == [(TRANSITION, "null")]


def test_a_date_transition_to_an_infrequent_class_waits_for_thirty_days_in_standard() -> None:
    rules = [rule(Transitions=[{"Date": date("2026-01-01"), "StorageClass": "STANDARD_IA"}])]
    obj = version("null", t("2026-03-10T08:00"))
    assert lc.next_due(rules, [obj], obj["mtime"]) == t("2026-04-10T00:00")


# -- filters --------------------------------------------------------------------------------------


def test_size_bounds_exclude_their_own_values() -> None:
    assert not lc.matches(rule(Filter={"ObjectSizeGreaterThan": 500}), "k", {}, 500)
    assert lc.matches(rule(Filter={"ObjectSizeGreaterThan": 500}), "k", {}, 501)
    assert lc.matches(rule(Filter={"ObjectSizeLessThan": 64000}), "k", {}, 63999)
    assert not lc.matches(rule(Filter={"ObjectSizeLessThan": 64000}), "k", {}, 64000)
    ranged = rule(Filter={"And": {"Prefix": "tax/", "ObjectSizeGreaterThan": 500, "ObjectSizeLessThan": 64000}})
    assert lc.matches(ranged, "tax/a", {}, 1000)
    assert not lc.matches(ranged, "tax/a", {}, 64000)
    assert not lc.matches(ranged, "other/a", {}, 1000)


def test_prefix_and_tag_filters() -> None:
    assert lc.matches(rule(Filter={}), "anything", {}, 0)
    assert lc.matches(rule(Filter={"Prefix": "logs/"}), "logs/a.txt", {}, 1)
    assert not lc.matches(rule(Filter={"Prefix": "logs/"}), "example.jpg", {}, 1)
    legacy = {"ID": "v1", "Status": "Enabled", "Prefix": "documents/", "Expiration": {"Days": 1}}
    assert lc.matches(legacy, "documents/x", {}, 1) and not lc.matches(legacy, "logs/x", {}, 1)
    tag = rule(Filter={"Tag": {"Key": "env", "Value": "tmp"}})
    assert lc.matches(tag, "k", {"env": "tmp", "other": "x"}, 1)  # extra tags are fine
    assert not lc.matches(tag, "k", {"env": "prod"}, 1)
    assert not lc.matches(tag, "k", {}, 1)
    both = rule(Filter={"And": {"Prefix": "tax/", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}})
    assert lc.matches(both, "tax/x", {"a": "1", "b": "2"}, 1)
    assert not lc.matches(both, "tax/x", {"a": "1"}, 1)
    assert not lc.matches(both, "tax/x", {"a": "1", "b": "3"}, 1)


def test_tag_rules_apply_to_the_version_s_own_tags() -> None:
    rules = [rule(Filter={"Tag": {"Key": "tmp", "Value": "yes"}}, Expiration={"Days": 1})]
    assert lc.due(rules, [version("null", t("2026-01-01"))], t("2026-02-01"), None) == []
    tagged = version("null", t("2026-01-01"), tags={"tmp": "yes"})
    assert kinds(lc.due(rules, [tagged], t("2026-02-01"), None)) == [(DELETE, "null")]


# -- headers --------------------------------------------------------------------------------------


def test_expiration_header_format() -> None:
    rules = [rule("Rule for testfile.txt", Expiration={"Date": date("2012-12-21")})]
    assert lc.expiration_header(rules, "k", {}, 1, t("2012-11-01")) == (
        'expiry-date="Fri, 21 Dec 2012 00:00:00 GMT", rule-id="Rule for testfile.txt"'
    )
    rules = [rule("picture-deletion-rule", Expiration={"Days": 30})]
    assert lc.expiration_header(rules, "k", {}, 1, t("2012-11-23T17:45:10")) == (
        'expiry-date="Mon, 24 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"'
    )
    assert lc.expiration_header([rule(Filter={"Prefix": "tmp/"}, Expiration={"Days": 1})], "k", {}, 1, 0.0) is None
    assert lc.expiration_header([rule(Expiration={"ExpiredObjectDeleteMarker": True})], "k", {}, 1, 0.0) is None


def test_expiration_header_escapes_what_a_header_cannot_carry() -> None:
    rules = [rule('été "x" 100%', Expiration={"Days": 1})]
    header = lc.expiration_header(rules, "k", {}, 1, t("2026-01-01"))
    assert header is not None and header.endswith('rule-id="%C3%A9t%C3%A9 %22x%22 100%25"')
    header.encode("ascii")


def test_abort_incomplete_multipart_uploads() -> None:
    rules = [rule("mpu", Filter={"Prefix": "big/"}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7})]
    started = t("2026-01-15T10:00")
    assert lc.abort_date(rules, "big/file", started) == (t("2026-01-23T00:00"), "mpu")
    assert not lc.abort_due(rules, "big/file", started, t("2026-01-22T23:59:59"))
    assert lc.abort_due(rules, "big/file", started, t("2026-01-23T00:00"))
    assert lc.abort_date(rules, "small/file", started) is None
    assert not lc.abort_due(rules, "small/file", started, t("2030-01-01"))


def test_nothing_due_ever() -> None:
    assert lc.next_due([rule(Expiration={"Days": 1})], [], 0.0) is None
    assert lc.due([rule(Expiration={"Days": 1})], [], 0.0, None) == []
    assert lc.next_due([], [version("null", 0.0)], 0.0) is None


# -- restore --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("storage_class", "tier", "seconds"), [
    ("GLACIER", "Expedited", 5 * 60),
    ("GLACIER", "Standard", 5 * 3600),
    ("GLACIER", None, 5 * 3600),
    ("GLACIER", "Bulk", 12 * 3600),
    ("DEEP_ARCHIVE", "Standard", 12 * 3600),
    ("DEEP_ARCHIVE", "Bulk", 48 * 3600),
])
def test_restore_takes_the_documented_upper_bound(storage_class: str, tier: str | None, seconds: int) -> None:
    assert lc.restore_ready_at(storage_class, tier, 1000.0) == 1000.0 + seconds


def test_restore_refusals() -> None:
    with pytest.raises(ServiceError) as err:
        lc.restore_ready_at("DEEP_ARCHIVE", "Expedited", 0.0)
    assert err.value.code == "InvalidArgument"
    assert err.value.message == "Retrieval option is not supported by this storage class"
    with pytest.raises(ServiceError) as err:
        lc.restore_ready_at("STANDARD", "Standard", 0.0)
    assert (err.value.code, err.value.status) == ("InvalidObjectState", 403)
    assert err.value.message == "Restore is not allowed for the object's current storage class"


def test_restore_expiry_rounds_up_to_midnight() -> None:
    # "restored on Oct 15, 2012 10:30 AM UTC ... 3 ... available until Oct 19, 2012 00:00 UTC"; then
    # "on Oct 16, 2012 11:00 AM UTC ... 1 ... available until Oct 18, 2012 00:00 UTC"
    assert lc.restore_expiry(t("2012-10-15T10:30"), 3) == t("2012-10-19T00:00")
    assert lc.restore_expiry(t("2012-10-16T11:00"), 1) == t("2012-10-18T00:00")


# -- validation -----------------------------------------------------------------------------------

VALID = [
    [rule("example-id", Filter={"Prefix": "logs/"}, Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"},
                                                               {"Days": 90, "StorageClass": "GLACIER"}],
          Expiration={"Days": 365})],
    [rule("sample-rule", Filter={"Prefix": ""}, Transitions=[{"Days": 90, "StorageClass": "STANDARD_IA"}],
          NoncurrentVersionTransitions=[{"NoncurrentDays": 30, "StorageClass": "GLACIER"}],
          NoncurrentVersionExpiration={"NewerNoncurrentVersions": 5, "NoncurrentDays": 365})],
    [rule(Filter={"Prefix": "logs/"}, Expiration={"ExpiredObjectDeleteMarker": True},
          NoncurrentVersionExpiration={"NewerNoncurrentVersions": 10, "NoncurrentDays": 30})],
    [rule(Filter={"Prefix": "SomeKeyPrefix/"}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7})],
    [rule(Filter={"And": {"Prefix": "tax/", "ObjectSizeGreaterThan": 500, "ObjectSizeLessThan": 64000}},
          Transitions=[{"Days": 365, "StorageClass": "GLACIER"}])],
    [rule(Filter={"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}, Expiration={"Days": 1})],
    [rule(Filter={"And": {"Prefix": "", "Tags": [{"Key": "a", "Value": "1"}]}}, Expiration={"Days": 1})],
    [{"ID": "Rule1", "Status": "Enabled", "Prefix": "logs/", "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]},
     {"ID": "Rule2", "Status": "Disabled", "Prefix": "documents/",
      "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}],
    [rule(Expiration={"Date": date("2099-11-10")},
          Transitions=[{"Date": date("2099-01-01"), "StorageClass": "GLACIER"}])],
    [rule(Transitions=[{"Days": 0, "StorageClass": "GLACIER_IR"}])],
    [rule(Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 60, "StorageClass": "GLACIER"}])],
    [rule(Transitions=[{"Days": 12, "StorageClass": "DEEP_ARCHIVE"}], Expiration={"ExpiredObjectDeleteMarker": True})],
    [rule("a" * 255, Expiration={"Days": 1}), rule("b", Filter={"Prefix": "x"}, Expiration={"Days": 2})],
    [rule(None, Expiration={"Days": 1}), rule(None, Expiration={"Days": 2})],  # IDs are assigned later
    [rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 500})],
    [rule(f"r{n}", Expiration={"Days": 1}) for n in range(1000)],
]


@pytest.mark.parametrize("rules", VALID, ids=range(len(VALID)))
def test_valid_configurations(rules: list[dict[str, Any]]) -> None:
    lc.validate({"Rules": rules})


MALFORMED: list[Any] = [
    None,
    {},
    {"Rules": [{**rule(Expiration={"Days": 1}), "Status": "enabled"}]},
    {"Rules": [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 1}}]},  # neither Filter nor Prefix
    {"Rules": [{**rule(Expiration={"Days": 1}), "Prefix": "a/"}]},  # both
    {"Rules": [rule(Filter={"Prefix": "a/", "Tag": {"Key": "k", "Value": "v"}}, Expiration={"Days": 1})]},
    {"Rules": [rule(Filter={"Prefix": "a/", "ObjectSizeGreaterThan": 5}, Expiration={"Days": 1})]},
    {"Rules": [rule(Filter={"And": {"Prefix": "a/"}}, Expiration={"Days": 1})]},
    {"Rules": [rule(Expiration={})]},
    {"Rules": [rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": False})]},
    {"Rules": [rule(Expiration={"Days": 1, "Date": date("2030-01-01")})]},
    {"Rules": [rule(Transitions=[{"Days": 1}])]},
    {"Rules": [rule(Transitions=[{"Days": 1, "StorageClass": "STANDARD"}])]},
    {"Rules": [rule(Transitions=[{"Days": 1, "Date": date("2030-01-01"), "StorageClass": "GLACIER"}])]},
    {"Rules": [rule(Transitions=[{"StorageClass": "GLACIER"}])]},
    {"Rules": [rule(NoncurrentVersionTransitions=[{"StorageClass": "GLACIER"}])]},
    {"Rules": [rule(NoncurrentVersionExpiration={})]},
    {"Rules": [rule(NoncurrentVersionExpiration={"NewerNoncurrentVersions": 3})]},
    {"Rules": [rule(AbortIncompleteMultipartUpload={})]},
    # the schema is checked in every rule before any other fault is looked for
    {"Rules": [rule("a", Expiration={"Days": 0}), {**rule("b", Expiration={"Days": 1}), "Status": "on"}]},
]


@pytest.mark.parametrize("cfg", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_configurations(cfg: Any) -> None:
    with pytest.raises(ServiceError) as err:
        lc.validate(cfg)
    assert (err.value.code, err.value.status) == ("MalformedXML", 400)
    assert err.value.message.startswith("The XML you provided was not well-formed")


IA_29 = "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"
REFUSED: list[tuple[list[dict[str, Any]], str, str]] = [
    ([rule("a" * 256, Expiration={"Days": 2})], "InvalidArgument", "ID length should not exceed allowed limit of 255"),
    ([rule("same", Expiration={"Days": 1}), rule("same", Filter={"Prefix": "x"}, Expiration={"Days": 2})],
     "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"),
    ([rule(Expiration={"Days": 0})], "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
    ([rule(Expiration={"Date": date("2099-11-10T12:00")})], "InvalidArgument", "'Date' must be at midnight GMT"),
    ([rule(Transitions=[{"Date": date("2099-11-10T00:00:01"), "StorageClass": "GLACIER"}])],
     "InvalidArgument", "'Date' must be at midnight GMT"),
    ([rule(Transitions=[{"Days": 29, "StorageClass": "STANDARD_IA"}])], "InvalidArgument", IA_29),
    ([rule(Transitions=[{"Days": 0, "StorageClass": "ONEZONE_IA"}])], "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'"),
    ([rule(Transitions=[{"Days": -1, "StorageClass": "GLACIER"}])], "InvalidArgument",
     "'Days' in Transition action must be nonnegative"),
    ([rule(NoncurrentVersionTransitions=[{"NoncurrentDays": 29, "StorageClass": "STANDARD_IA"}])], "InvalidArgument",
     "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 "
     "for storageClass 'STANDARD_IA'"),
    ([rule(NoncurrentVersionExpiration={"NoncurrentDays": 0})], "InvalidArgument",
     "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
    ([rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})], "InvalidArgument",
     "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"),
    ([rule(Filter={"Prefix": ""}, Expiration={"Days": 30}, Transitions=[{"Days": 30, "StorageClass": "GLACIER"}])],
     "InvalidArgument",
     "'Days' in the Expiration action for filter '(prefix=)' must be greater than 'Days' in the Transition action"),
    ([rule(Filter={"And": {"Prefix": "test/", "ObjectSizeLessThan": 120120}},
           Transitions=[{"Days": 1, "StorageClass": "DEEP_ARCHIVE"}, {"Days": 1, "StorageClass": "GLACIER"}])],
     "InvalidArgument",
     "'Days' in the Transition action for StorageClass 'DEEP_ARCHIVE' for filter '(prefix=test/ and "
     "objectsizelessthan=120120)' must be greater than 'Days' in the Transition action for StorageClass 'GLACIER' "
     "for filter '(prefix=test/ and objectsizelessthan=120120)'"),
    ([rule(Filter={"Tag": {"Key": "archive", "Value": "true"}}, NoncurrentVersionExpiration={"NoncurrentDays": 1},
           NoncurrentVersionTransitions=[{"NoncurrentDays": 1, "StorageClass": "DEEP_ARCHIVE"}])],
     "InvalidArgument",
     "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '(tag={key=archive, value=true})' "
     "must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action"),
    ([rule(Filter={"Prefix": "p/"}, Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"},
                                                  {"Days": 59, "StorageClass": "GLACIER"}])],
     "InvalidArgument",
     "'Days' in the Transition action for StorageClass 'GLACIER' for filter '(prefix=p/)' must be 30 days more than "
     "'Days' in the Transition action for StorageClass 'STANDARD_IA' for filter '(prefix=p/)'"),
    ([rule(Filter={"Prefix": "x"})], "InvalidRequest", "At least one action needs to be specified in a rule"),
    ([rule(Filter={"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}},
           Expiration={"Days": 1})], "InvalidRequest", "Duplicate Tag Keys are not allowed."),
    ([rule(Filter={"ObjectSizeLessThan": 0}, Expiration={"Days": 1})], "InvalidRequest",
     "'ObjectSizeLessThan' should be between 1 and 1099511627776000."),
    ([rule(Filter={"And": {"ObjectSizeGreaterThan": 500, "ObjectSizeLessThan": 500}}, Expiration={"Days": 1})],
     "InvalidRequest", "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."),
    ([rule(Filter={"ObjectSizeGreaterThan": 5}, Expiration={"ExpiredObjectDeleteMarker": False})], "InvalidRequest",
     "ExpiredObjectDeleteMarker cannot be specified with Object Size."),
    ([rule(Filter={"Tag": {"Key": "k", "Value": "v"}}, Expiration={"ExpiredObjectDeleteMarker": True})],
     "InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Tags."),
    ([rule(Filter={"Tag": {"Key": "k", "Value": "v"}}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})],
     "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."),
    ([rule(Filter={"ObjectSizeLessThan": 5}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})],
     "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Object Size."),
    ([{"ID": "a", "Status": "Enabled", "Prefix": "a/", "Expiration": {"Days": 1}},
      rule("b", Filter={"Prefix": "b/"}, Expiration={"Days": 1})],
     "InvalidRequest", "Filter element can only be used in Lifecycle V2."),
    ([rule("b", Filter={"Prefix": "b/"}, Expiration={"Days": 1}),
      {"ID": "a", "Status": "Enabled", "Prefix": "a/", "Expiration": {"Days": 1}}],
     "InvalidRequest", "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."),
    ([{"ID": "a", "Status": "Enabled", "Prefix": "", "Expiration": {"Days": 1}},
      {"ID": "b", "Status": "Enabled", "Prefix": "a", "Expiration": {"Days": 2}}],
     "InvalidRequest", "Found overlapping prefixes '' and 'a' for same action type 'Expiration'"),
    ([{"ID": "a", "Status": "Enabled", "Prefix": "p/",
       "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}}],
     "InvalidRequest", "NewerNoncurrentVersions element can only be used in Lifecycle V2."),
    ([rule(Filter={"Prefix": "test/"}, Transitions=[{"Days": 90, "StorageClass": "GLACIER"},
                                                     {"Days": 30, "StorageClass": "GLACIER"}])],
     "InvalidRequest",
     "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter '(prefix=test/)'"),
    ([rule(Filter={"Prefix": "test/"}, Transitions=[{"Days": 30, "StorageClass": "GLACIER"},
                                                     {"Date": date("2027-01-01"), "StorageClass": "DEEP_ARCHIVE"}])],
     "InvalidRequest",
     "Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for filter '(prefix=test/)'"),
    ([rule(Filter={"Prefix": "test/"}, Expiration={"Date": date("2027-01-03")},
           Transitions=[{"Days": 12, "StorageClass": "DEEP_ARCHIVE"}])],
     "InvalidRequest",
     "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule "
     "for filter '(prefix=test/)'"),
    ([], "InvalidRequest", "At least one lifecycle rule must be specified."),
    ([rule(f"r{n}", Expiration={"Days": 1}) for n in range(1001)], "InvalidRequest",
     "The number of lifecycle rules must not exceed the allowed limit of 1000 rules."),
]


@pytest.mark.parametrize(("rules", "code", "message"), REFUSED, ids=[m[:60] for _, _, m in REFUSED])
def test_refused_configurations(rules: list[dict[str, Any]], code: str, message: str) -> None:
    with pytest.raises(ServiceError) as err:
        lc.validate({"Rules": rules})
    assert (err.value.code, err.value.message, err.value.status) == (code, message, 400)


def test_transition_default_minimum_object_size_values() -> None:
    cfg = {"Rules": [rule(Expiration={"Days": 1})]}
    lc.validate(cfg, transition_minimum="varies_by_storage_class")
    lc.validate(cfg, transition_minimum="all_storage_classes_128K")
    with pytest.raises(ServiceError) as err:
        lc.validate(cfg, transition_minimum="value")
    assert err.value.code == "InvalidRequest"
    assert err.value.message == "Invalid TransitionDefaultMinimumObjectSize found: value"


def test_rules_sent_without_an_id_get_one_as_s3_makes_them() -> None:
    cfg = lc.assign_ids({"Rules": [rule(None, Expiration={"Days": 1}), rule("kept", Expiration={"Days": 2})]})
    made, kept = (r["ID"] for r in cfg["Rules"])
    assert kept == "kept" and len(made) == 48
    assert uuid.UUID(base64.b64decode(made).decode()).version == 4
