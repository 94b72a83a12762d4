"""S3 event notifications, the pure part: configuration checks, which destinations an
event goes to, and the JSON S3 sends. The examples are AWS's documented ones
("Configuring event notifications using object key name filtering", "Event message
structure", "EventBridge event message structure")."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import urllib.parse
import uuid

import botocore.session
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.restxml import host_id
from cloudlet.services.events import envelope
from cloudlet.services.s3 import notify

REGION = "us-west-2"
QUEUE = f"arn:aws:sqs:{REGION}:444455556666:queue-a"
QUEUE_B = f"arn:aws:sqs:{REGION}:444455556666:queue-b"
TOPIC = f"arn:aws:sns:{REGION}:444455556666:topic-a"
FUNCTION = f"arn:aws:lambda:{REGION}:444455556666:function:fn-a"
WHEN = dt.datetime(2024, 3, 5, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)


def _rules(prefix: str | None = None, suffix: str | None = None) -> dict:
    rules = []
    if prefix is not None:
        rules.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        rules.append({"Name": "suffix", "Value": suffix})
    return {"Key": {"FilterRules": rules}}


def _queue(events, arn=QUEUE, prefix=None, suffix=None, **extra) -> dict:
    conf = {"QueueArn": arn, "Events": list(events), **extra}
    if prefix is not None or suffix is not None:
        conf["Filter"] = _rules(prefix, suffix)
    return conf


def _topic(events, arn=TOPIC, prefix=None, suffix=None) -> dict:
    conf = {"TopicArn": arn, "Events": list(events)}
    if prefix is not None or suffix is not None:
        conf["Filter"] = _rules(prefix, suffix)
    return conf


def _fn(events, arn=FUNCTION, prefix=None, suffix=None) -> dict:
    conf = {"LambdaFunctionArn": arn, "Events": list(events)}
    if prefix is not None or suffix is not None:
        conf["Filter"] = _rules(prefix, suffix)
    return conf


def _valid(cfg: dict, exists=lambda arn: True, **kw) -> dict:
    notify.validate_config(cfg, exists, region=REGION, **kw)
    return cfg


def _error(cfg: dict, exists=lambda arn: True, **kw) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        notify.validate_config(cfg, exists, region=REGION, **kw)
    assert info.value.code == "InvalidArgument" and info.value.status == 400
    return info.value


# -- event types ---------------------------------------------------------------------------


def test_event_types_are_the_models():
    model = botocore.session.get_session().get_service_model("s3")
    assert notify.EVENT_TYPES == set(model.shape_for("Event").enum)


@pytest.mark.parametrize("event", ["s3:ObjectCreated:Get", "s3:TestEvent", "s3:*", "ObjectCreated:Put",
                                   "s3:objectcreated:put", "s3:ObjectRemoved"])
def test_unknown_event_types_are_refused(event):
    err = _error({"QueueConfigurations": [_queue([event])]})
    assert err.message == "The event is not supported for notifications"


# -- filter rules --------------------------------------------------------------------------


def test_filter_rule_names_are_taken_in_any_case_and_stored_as_aws_returns_them():
    cfg = _valid({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"], "Filter": {
        "Key": {"FilterRules": [{"Name": "PREFIX", "Value": "a/"}, {"Name": "suffix", "Value": ".jpg"}]}}}]})
    assert cfg["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "Prefix", "Value": "a/"}, {"Name": "Suffix", "Value": ".jpg"}]


def test_filter_rule_name_other_than_prefix_or_suffix_is_refused():
    cfg = {"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                                    "Filter": {"Key": {"FilterRules": [{"Name": "regex", "Value": ".*"}]}}}]}
    assert _error(cfg).message == "filter rule name must be either prefix or suffix"


@pytest.mark.parametrize("name", ["prefix", "suffix"])
def test_two_rules_of_one_name_in_a_filter_are_refused(name):
    cfg = {"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"], "Filter": {
        "Key": {"FilterRules": [{"Name": name, "Value": "a"}, {"Name": name.capitalize(), "Value": "b"}]}}}]}
    assert _error(cfg).message == f"Cannot specify more than one {name} rule in a filter."


# -- overlapping configurations ------------------------------------------------------------

REJECTED = {
    # AWS's own invalid examples
    "unfiltered overlaps any prefix": [_topic(["s3:ObjectCreated:*"]),
                                       _topic(["s3:ObjectCreated:*"], prefix="images")],
    "suffix jpg overlaps pg, wildcard overlaps Put": [_topic(["s3:ObjectCreated:*"], suffix="jpg"),
                                                      _topic(["s3:ObjectCreated:Put"], suffix="pg")],
    "prefix+suffix overlaps the same suffix": [_topic(["s3:ObjectCreated:*"], prefix="images", suffix="jpg"),
                                               _topic(["s3:ObjectCreated:Put"], suffix="jpg")],
    # the usual way into it: a queue and a function on the same unfiltered events
    "two kinds, same events, no filters": [_queue(["s3:ObjectCreated:*"]), _fn(["s3:ObjectCreated:*"])],
    "nested prefixes, both unsuffixed": [_queue(["s3:ObjectRemoved:Delete"], prefix="logs/"),
                                         _queue(["s3:ObjectRemoved:*"], arn=QUEUE_B, prefix="logs/2024/")],
    "one shared type among several": [_queue(["s3:ObjectRestore:Post", "s3:ObjectTagging:Put"]),
                                      _queue(["s3:ObjectTagging:*"], arn=QUEUE_B)],
}

ALLOWED = {
    # AWS's own valid examples
    "different prefixes": [_queue(["s3:ObjectCreated:Put"], prefix="images/"),
                           _queue(["s3:ObjectCreated:Put"], arn=QUEUE_B, prefix="logs/")],
    "different suffixes with a common last letter": [_fn(["s3:ObjectCreated:Put"], suffix=".jpg"),
                                                     _fn(["s3:ObjectCreated:Put"], suffix=".png")],
    "same prefix, different suffixes": [_fn(["s3:ObjectCreated:Put"], prefix="images", suffix=".jpg"),
                                        _fn(["s3:ObjectCreated:Put"], prefix="images", suffix=".png")],
    "same prefix, different event types": [_queue(["s3:ObjectCreated:Put"], prefix="image/"),
                                           _queue(["s3:ObjectRemoved:*"], arn=QUEUE_B, prefix="image/")],
    # families never overlap each other, even unfiltered
    "created and removed, unfiltered": [_queue(["s3:ObjectCreated:*"]), _fn(["s3:ObjectRemoved:*"])],
    "removal and lifecycle expiration": [_queue(["s3:ObjectRemoved:*"]), _topic(["s3:LifecycleExpiration:*"])],
    "two specific types of one family": [_queue(["s3:ObjectCreated:Put"]), _topic(["s3:ObjectCreated:Copy"])],
}


def _spread(confs: list[dict]) -> dict:
    cfg: dict = {}
    for conf in confs:
        kind = ("QueueConfigurations" if "QueueArn" in conf else
                "TopicConfigurations" if "TopicArn" in conf else "LambdaFunctionConfigurations")
        cfg.setdefault(kind, []).append(copy.deepcopy(conf))
    return cfg


@pytest.mark.parametrize("confs", list(REJECTED.values()), ids=list(REJECTED))
def test_overlapping_configurations_are_refused(confs):
    assert _error(_spread(confs)).message == notify.OVERLAP_MESSAGE
    assert _error(_spread(confs[::-1])).message == notify.OVERLAP_MESSAGE


@pytest.mark.parametrize("confs", list(ALLOWED.values()), ids=list(ALLOWED))
def test_configurations_aws_allows_are_kept(confs):
    _valid(_spread(confs))
    _valid(_spread(confs[::-1]))


def test_one_configuration_may_list_types_that_overlap_each_other():
    _valid({"QueueConfigurations": [_queue(["s3:ObjectCreated:*", "s3:ObjectCreated:Put"])]})


# -- destinations --------------------------------------------------------------------------


def test_every_unusable_destination_is_reported_in_one_error():
    missing = {QUEUE_B, TOPIC, FUNCTION}
    cfg = _spread([_queue(["s3:ObjectCreated:*"], prefix="a/"), _queue(["s3:ObjectRemoved:*"], arn=QUEUE_B),
                   _topic(["s3:ObjectRestore:*"]), _fn(["s3:ObjectTagging:*"])])
    before = copy.deepcopy(cfg)
    err = _error(cfg, exists=lambda arn: arn not in missing)
    assert err.message == "Unable to validate the following destination configurations"
    assert err.fields == {  # model member order: topics, queues, functions
        "ArgumentName1": TOPIC, "ArgumentValue1": "The destination topic does not exist",
        "ArgumentName2": QUEUE_B, "ArgumentValue2": "The destination queue does not exist",
        "ArgumentName3": f"{FUNCTION}, null",
        "ArgumentValue3": f"Not authorized to invoke function [{FUNCTION}]",
    }
    assert cfg == before  # nothing assigned to a refused configuration


def test_a_refusal_reason_from_the_destination_is_reported_as_given():
    reason = "Permissions on the destination queue do not allow S3 to publish notifications from this bucket"
    err = _error({"QueueConfigurations": [_queue(["s3:ObjectCreated:*"])]}, exists=lambda arn: reason)
    assert err.fields == {"ArgumentName1": QUEUE, "ArgumentValue1": reason}


def test_a_destination_in_another_region_cannot_be_validated():
    other = "arn:aws:sqs:eu-west-1:444455556666:queue-a"
    err = _error({"QueueConfigurations": [_queue(["s3:ObjectCreated:*"], arn=other)]})
    assert err.fields["ArgumentName1"] == other


def test_skipping_destination_validation_skips_only_that():
    looked_up = []
    _valid({"QueueConfigurations": [_queue(["s3:ObjectCreated:*"])]},
           exists=lambda arn: looked_up.append(arn) or False, skip_destination_validation=True)
    assert looked_up == []
    with pytest.raises(ServiceError):
        _valid({"QueueConfigurations": [_queue(["s3:Nope"])]}, skip_destination_validation=True)


@pytest.mark.parametrize("kind,member,arn,tag", [
    ("QueueConfigurations", "QueueArn", "not-an-arn", "Queue"),
    ("QueueConfigurations", "QueueArn", TOPIC, "Queue"),
    ("TopicConfigurations", "TopicArn", QUEUE, "Topic"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "fn-a", "CloudFunction"),
])
def test_an_arn_of_the_wrong_kind_is_refused_even_when_not_validating(kind, member, arn, tag):
    cfg = {kind: [{member: arn, "Events": ["s3:ObjectCreated:*"]}]}
    err = _error(cfg, skip_destination_validation=True)
    assert err.message == "The ARN could not be parsed"
    assert err.fields == {"ArgumentName": tag, "ArgumentValue": arn}


def test_ids_are_assigned_as_s3_assigns_them_and_kept_when_given():
    cfg = _valid(_spread([_queue(["s3:ObjectCreated:*"], Id="mine"), _fn(["s3:ObjectRemoved:*"])]))
    assert cfg["QueueConfigurations"][0]["Id"] == "mine"
    assigned = cfg["LambdaFunctionConfigurations"][0]["Id"]
    assert uuid.UUID(base64.b64decode(assigned).decode()).version == 4
    assert notify.new_config_id() != notify.new_config_id()


def test_eventbridge_is_switched_on_by_the_empty_element():
    assert notify.eventbridge_enabled({"EventBridgeConfiguration": {}})
    assert not notify.eventbridge_enabled({"QueueConfigurations": []})
    assert not notify.eventbridge_enabled(None)
    _valid({"EventBridgeConfiguration": {}})


# -- matching ------------------------------------------------------------------------------

CREATED = ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
           "s3:ObjectCreated:CompleteMultipartUpload"]


@pytest.mark.parametrize("event", CREATED)
def test_a_wildcard_takes_every_type_of_its_family(event):
    cfg = _valid({"QueueConfigurations": [_queue(["s3:ObjectCreated:*"], Id="q")]})
    assert notify.matches(cfg, event, "k") == [("sqs", QUEUE, "q")]
    assert notify.matches(cfg, event[3:], "k") == [("sqs", QUEUE, "q")]  # "s3:" optional


@pytest.mark.parametrize("event", ["s3:ObjectRemoved:Delete", "s3:LifecycleExpiration:Delete",
                                   "s3:ObjectRestore:Post", "s3:ObjectTagging:Put"])
def test_a_wildcard_takes_nothing_outside_its_family(event):
    cfg = _valid({"QueueConfigurations": [_queue(["s3:ObjectCreated:*"])]})
    assert notify.matches(cfg, event, "k") == []


def test_a_specific_type_takes_only_itself():
    cfg = _valid({"TopicConfigurations": [_topic(["s3:ObjectCreated:Put"], prefix="a/")],
                  "LambdaFunctionConfigurations": [_fn(["s3:ObjectCreated:Copy"], prefix="a/")]})
    assert [m[0] for m in notify.matches(cfg, "s3:ObjectCreated:Put", "a/x")] == ["sns"]
    assert [m[0] for m in notify.matches(cfg, "s3:ObjectCreated:Copy", "a/x")] == ["lambda"]
    assert notify.matches(cfg, "s3:ObjectCreated:Post", "a/x") == []


def test_every_configuration_an_event_matches_is_returned():
    cfg = _valid({"TopicConfigurations": [_topic(["s3:ObjectCreated:*"], suffix=".png", )],
                  "QueueConfigurations": [_queue(["s3:ObjectCreated:Put"], prefix="img/", suffix=".jpg")],
                  "LambdaFunctionConfigurations": [_fn(["s3:ObjectRemoved:*"])]})
    ids = {c["Id"]: kind for kind, confs in cfg.items() for c in confs}
    got = notify.matches(cfg, "s3:ObjectCreated:Put", "img/cat.jpg")
    assert [(s, a) for s, a, _ in got] == [("sqs", QUEUE)] and ids[got[0][2]] == "QueueConfigurations"
    assert [s for s, _, _ in notify.matches(cfg, "s3:ObjectCreated:Put", "img/cat.png")] == ["sns"]
    assert notify.matches(cfg, "s3:ObjectCreated:Put", "doc/cat.jpg") == []
    assert [s for s, _, _ in notify.matches(cfg, "s3:ObjectRemoved:Delete", "any")] == ["lambda"]
    assert notify.matches(None, "s3:ObjectCreated:Put", "k") == []


@pytest.mark.parametrize("prefix,key,hit", [
    ("my+folder/", "my folder/a.txt", True),   # AWS: write a space as "+"
    ("my folder/", "my folder/a.txt", False),
    ("a%3D1/", "a=1/part", True),             # other special characters percent-encoded
    ("a=1/", "a=1/part", False),
    ("%D1%84/", "ф/x", True),
    ("img/", "img/x", True),                   # "/" is not encoded
])
def test_filters_match_the_key_as_the_event_writes_it(prefix, key, hit):
    cfg = _valid({"QueueConfigurations": [_queue(["s3:ObjectCreated:*"], prefix=prefix)]})
    assert bool(notify.matches(cfg, "s3:ObjectCreated:Put", key)) is hit


def test_matching_is_case_sensitive():
    cfg = _valid({"QueueConfigurations": [_queue(["s3:ObjectCreated:*"], suffix=".JPG")]})
    assert notify.matches(cfg, "s3:ObjectCreated:Put", "a.JPG")
    assert not notify.matches(cfg, "s3:ObjectCreated:Put", "a.jpg")


# -- keys and sequencers -------------------------------------------------------------------


@pytest.mark.parametrize("key,encoded", [
    ("red flower.jpg", "red+flower.jpg"),          # AWS's example
    ("expiration/delete", "expiration/delete"),
    ("test/10:47:07.log.bz2", "test/10%3A47%3A07.log.bz2"),
    ("dt=2018-05-04/_SUCCESS", "dt%3D2018-05-04/_SUCCESS"),
    ("c++ (1).tar", "c%2B%2B+%281%29.tar"),
    ("фото/é.png", "%D1%84%D0%BE%D1%82%D0%BE/%C3%A9.png"),
    ("a~b!c'd*e", "a%7Eb%21c%27d*e"),
    ("a%20b&c?d#e", "a%2520b%26c%3Fd%23e"),
    ("😀", "%F0%9F%98%80"),
])
def test_keys_are_encoded_as_s3_encodes_them(key, encoded):
    assert notify.encode_key(key) == encoded


@given(st.text(min_size=1, max_size=40))
@example("a+b c/%2F")
def test_encoded_keys_decode_back_and_are_plain_ascii(key):
    encoded = notify.encode_key(key)
    assert urllib.parse.unquote_plus(encoded) == key
    assert encoded.isascii() and " " not in encoded


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
@example(9, 10)
@example(15, 16)
def test_a_later_sequencer_compares_greater_as_text(a, b):
    sa, sb = notify.sequencer(a), notify.sequencer(b)
    assert (sa < sb) == (a < b) and int(sa, 16) == a
    assert len(sa) == 16 and sa == sa.upper()


def test_a_negative_sequence_has_no_sequencer():
    with pytest.raises(ValueError):
        notify.sequencer(-1)


# -- records -------------------------------------------------------------------------------


def _event(**kw) -> notify.Event:
    base = dict(name="s3:ObjectCreated:Put", bucket="mybucket", bucket_owner="A3NL1KOZZKExample",
                region=REGION, key="HappyFace.jpg", time=WHEN, request_id="C3D13FE58DE4C810",
                principal_id="AWS:AIDAJDPLRKLG7UEXAMPLE", requester="123456789012", source_ip="127.0.0.1",
                size=1024, etag='"d41d8cd98f00b204e9800998ecf8427e"', sequencer=notify.sequencer(0x55AED6DCD90281E5),
                host_id="FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD")
    base.update(kw)
    return notify.Event(**base)


def test_a_put_record_is_the_documented_one():
    rec = notify.record(_event(), "testConfigRule")
    expected = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-west-2",
        "eventTime": "2024-03-05T07:08:09.123Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                             "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "testConfigRule",
            "bucket": {"name": "mybucket", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                       "arn": "arn:aws:s3:::mybucket"},
            "object": {"key": "HappyFace.jpg", "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                       "sequencer": "55AED6DCD90281E5"},
        },
    }
    assert rec == expected
    # members in AWS's order, all the way down
    assert json.dumps(rec) == json.dumps(expected)


def test_a_versioned_object_carries_its_version_id_before_the_sequencer():
    obj = notify.record(_event(version_id="096fKKXTRTtl3on89fVO.nfljtsv6qko"), "c")["s3"]["object"]
    assert list(obj) == ["key", "size", "eTag", "versionId", "sequencer"]
    assert obj["versionId"] == "096fKKXTRTtl3on89fVO.nfljtsv6qko"


def test_record_types_are_aws_types():
    rec = json.loads(notify.message([notify.record(_event(size=0, etag='"abc-2"'), "c")]))["Records"][0]
    assert rec["s3"]["object"]["size"] == 0 and isinstance(rec["s3"]["object"]["size"], int)
    assert rec["s3"]["object"]["eTag"] == "abc-2"
    assert isinstance(rec["eventVersion"], str) and isinstance(rec["s3"]["object"]["sequencer"], str)


def test_the_key_in_a_record_is_encoded():
    rec = notify.record(_event(key="photos/my cat (1).jpg"), "c")
    assert rec["s3"]["object"]["key"] == "photos/my+cat+%281%29.jpg"


@pytest.mark.parametrize("name", ["s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
                                  "s3:LifecycleExpiration:Delete"])
def test_removals_carry_no_size_or_etag(name):
    obj = notify.record(_event(name=name, version_id="v1"), "c")["s3"]["object"]
    assert obj == {"key": "HappyFace.jpg", "versionId": "v1", "sequencer": "55AED6DCD90281E5"}


def test_a_lifecycle_expiration_is_s3s_own_act():
    rec = notify.record(_event(name="s3:LifecycleExpiration:Delete", key="expiration/delete",
                               principal_id=notify.S3_SERVICE, requester=notify.S3_SERVICE, source_ip=None), "c")
    assert rec["eventVersion"] == "2.3"
    assert rec["userIdentity"] == {"principalId": "s3.amazonaws.com"}
    assert rec["requestParameters"] == {"sourceIPAddress": "s3.amazonaws.com"}
    assert rec["s3"]["object"] == {"key": "expiration/delete", "sequencer": "55AED6DCD90281E5"}


def test_a_completed_restore_carries_glacier_event_data_and_no_sequencer():
    rec = notify.record(_event(name="s3:ObjectRestore:Completed", restore_expiry=dt.datetime(
        2024, 3, 7, tzinfo=dt.timezone.utc), source_storage_class="GLACIER"), "c")
    assert rec["glacierEventData"] == {"restoreEventData": {
        "lifecycleRestorationExpiryTime": "2024-03-07T00:00:00.000Z", "lifecycleRestoreStorageClass": "GLACIER"}}
    assert list(rec)[-1] == "glacierEventData"
    assert "sequencer" not in rec["s3"]["object"] and rec["s3"]["object"]["size"] == 1024
    initiated = notify.record(_event(name="s3:ObjectRestore:Post", source_storage_class="GLACIER"), "c")
    assert "glacierEventData" not in initiated


def test_a_transition_carries_its_destination_class():
    rec = notify.record(_event(name="s3:LifecycleTransition", destination_storage_class="GLACIER"), "c")
    assert rec["eventVersion"] == "2.3"
    assert rec["lifecycleEventData"] == {"transitionEventData": {"destinationStorageClass": "GLACIER"}}


CONCRETE = sorted(e for e in notify.EVENT_TYPES if not e.endswith("*"))
VERSION = {"Replication": "2.2", "LifecycleExpiration": "2.3", "LifecycleTransition": "2.3",
           "IntelligentTiering": "2.3", "ObjectAcl": "2.3", "ObjectTagging": "2.3"}


@pytest.mark.parametrize("name", CONCRETE)
def test_each_event_type_is_named_without_the_prefix_at_its_version(name):
    rec = notify.record(_event(name=name), "c")
    assert rec["eventName"] == name.removeprefix("s3:")
    family = rec["eventName"].split(":")[0]
    expected = "2.3" if name == "s3:ObjectRestore:Delete" else VERSION.get(family, "2.1")
    assert rec["eventVersion"] == expected


def test_event_time_is_utc_with_milliseconds():
    tz = dt.timezone(dt.timedelta(hours=5, minutes=30))
    when = dt.datetime(2024, 1, 1, 5, 30, 0, 999, tzinfo=tz)
    assert notify.record(_event(time=when), "c")["eventTime"] == "2024-01-01T00:00:00.000Z"


def test_the_host_id_defaults_to_the_one_the_response_carries():
    rec = notify.record(_event(host_id=None), "c")
    assert rec["responseElements"]["x-amz-id-2"] == host_id("C3D13FE58DE4C810")


def test_a_bucket_in_china_has_a_china_arn():
    rec = notify.record(_event(region="cn-north-1"), "c")
    assert rec["s3"]["bucket"]["arn"] == "arn:aws-cn:s3:::mybucket"


def test_the_message_is_compact_json_of_the_records():
    recs = [notify.record(_event(key="ключ"), "c")]
    body = notify.message(recs)
    assert json.loads(body) == {"Records": recs}
    assert body.startswith('{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",') and ", " not in body


def test_the_test_event_is_the_documented_one():
    body = notify.test_event("bucketname", "5582815E1AEA5ADF", WHEN, host_id="8cLeGAmw098X5cv4")
    assert body == ('{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-03-05T07:08:09.123Z",'
                    '"Bucket":"bucketname","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4"}')
    assert json.loads(notify.test_event("b", "R", WHEN))["HostId"] == host_id("R")


# -- EventBridge ---------------------------------------------------------------------------


def _detail(entry: dict) -> dict:
    return json.loads(entry["Detail"])


def test_an_object_created_entry_is_the_documented_one():
    entry = notify.eventbridge_entry(_event(key="my cat/ф.jpg", version_id="IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"))
    assert entry is not None
    assert {k: v for k, v in entry.items() if k != "Detail"} == {
        "Time": WHEN, "Source": "aws.s3", "Resources": ["arn:aws:s3:::mybucket"],
        "DetailType": "Object Created", "EventBusName": "default"}
    detail = _detail(entry)
    assert detail == {
        "version": "0",
        "bucket": {"name": "mybucket"},
        "object": {"key": "my cat/ф.jpg", "size": 1024, "etag": "d41d8cd98f00b204e9800998ecf8427e",
                   "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "sequencer": "55aed6dcd90281e5"},
        "request-id": "C3D13FE58DE4C810",
        "requester": "123456789012",
        "source-ip-address": "127.0.0.1",
        "reason": "PutObject",
    }
    assert list(detail) == ["version", "bucket", "object", "request-id", "requester", "source-ip-address", "reason"]


@pytest.mark.parametrize("name,reason", [
    ("s3:ObjectCreated:Copy", "CopyObject"),
    ("s3:ObjectCreated:Post", "PostObject"),
    ("s3:ObjectCreated:CompleteMultipartUpload", "CompleteMultipartUpload"),
])
def test_the_reason_names_the_api_that_created_the_object(name, reason):
    assert _detail(notify.eventbridge_entry(_event(name=name)))["reason"] == reason


@pytest.mark.parametrize("name,deletion", [("s3:ObjectRemoved:DeleteMarkerCreated", "Delete Marker Created"),
                                           ("s3:ObjectRemoved:Delete", "Permanently Deleted")])
def test_a_deletion_says_what_kind_it_was(name, deletion):
    entry = notify.eventbridge_entry(_event(name=name, version_id="1QW9g"))
    assert entry["DetailType"] == "Object Deleted"
    detail = _detail(entry)
    assert detail["object"] == {"key": "HappyFace.jpg", "etag": "d41d8cd98f00b204e9800998ecf8427e",
                                "version-id": "1QW9g", "sequencer": "55aed6dcd90281e5"}
    assert (detail["reason"], detail["deletion-type"]) == ("DeleteObject", deletion)


def test_a_lifecycle_expiration_entry_has_no_source_ip():
    detail = _detail(notify.eventbridge_entry(_event(
        name="s3:LifecycleExpiration:DeleteMarkerCreated", principal_id=notify.S3_SERVICE,
        requester=notify.S3_SERVICE, source_ip=None)))
    assert "source-ip-address" not in detail
    assert (detail["requester"], detail["reason"], detail["deletion-type"]) == (
        "s3.amazonaws.com", "Lifecycle Expiration", "Delete Marker Created")


def test_a_restore_completed_entry_says_when_the_copy_expires():
    detail = _detail(notify.eventbridge_entry(_event(
        name="s3:ObjectRestore:Completed", requester=notify.S3_SERVICE, source_ip=None,
        restore_expiry=dt.datetime(2021, 11, 13, tzinfo=dt.timezone.utc), source_storage_class="GLACIER")))
    assert detail == {
        "version": "0", "bucket": {"name": "mybucket"},
        "object": {"key": "HappyFace.jpg", "size": 1024, "etag": "d41d8cd98f00b204e9800998ecf8427e"},
        "request-id": "C3D13FE58DE4C810", "requester": "s3.amazonaws.com",
        "restore-expiry-time": "2021-11-13T00:00:00Z", "source-storage-class": "GLACIER",
    }


@pytest.mark.parametrize("name", CONCRETE)
def test_eventbridge_gets_every_type_but_replication_and_rrs_loss(name):
    entry = notify.eventbridge_entry(_event(name=name))
    if name.startswith("s3:Replication:") or name == "s3:ReducedRedundancyLostObject":
        assert entry is None
    else:
        assert entry["DetailType"] == notify.DETAIL_TYPES[name[3:]]


def test_the_entry_is_one_eventbridge_accepts_from_s3():
    entry = notify.eventbridge_entry(_event())
    assert envelope.check(entry, service_caller=True) is None
    assert envelope.check(entry, service_caller=False)[0] == "NotAuthorizedForSourceException"
    wrapped = envelope.build(entry, "123456789012", REGION, WHEN)
    assert (wrapped["source"], wrapped["detail-type"], wrapped["time"], wrapped["resources"]) == (
        "aws.s3", "Object Created", "2024-03-05T07:08:09Z", ["arn:aws:s3:::mybucket"])
