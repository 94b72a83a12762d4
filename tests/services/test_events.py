"""EventBridge buses, rules, targets, PutEvents and TestEventPattern: boto3 against a
running cloudlet.

Each test works in an account of its own (a 12-digit access key is that account's root),
so tests sharing the session's server never see each other's buses and rules.
"""

from __future__ import annotations

import itertools
import json
import os

import pytest
from botocore.exceptions import ClientError

_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def fresh_account() -> str:
    return f"4{next(_accounts) % 10**11:011d}"


def error(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    err = dict(exc.value.response["Error"])
    err["Status"] = exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return err


class Account:
    """boto3 clients of one fresh account, and the helpers these tests share."""

    def __init__(self, cloud, key: str | None = None) -> None:
        self.id = key or fresh_account()
        self.events = cloud.client("events", key=self.id)
        self.sqs = cloud.client("sqs", key=self.id)

    def queue(self, name: str, **attributes: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def receive(self, url: str, **kwargs) -> list[dict]:
        """Every message the queue has now, deleted as received (a later clock jump must
        not bring them back)."""
        out: list[dict] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages") or []
            if not got:
                return out
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
            out.extend(got)

    def bodies(self, url: str) -> list:
        return [json.loads(m["Body"]) for m in self.receive(url)]

    def rule_to_queue(self, rule: str, pattern: dict, arn: str, bus: str = "default", **target) -> None:
        self.events.put_rule(Name=rule, EventPattern=json.dumps(pattern), EventBusName=bus)
        out = self.events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "t1", "Arn": arn, **target}])
        assert out["FailedEntryCount"] == 0, out

    def put(self, *entries: dict) -> dict:
        return self.events.put_events(Entries=[{"DetailType": "thing", "Detail": "{}", **e} for e in entries])


@pytest.fixture
def acct(cloud) -> Account:
    return Account(cloud)


# -- buses -------------------------------------------------------------------------------------


def test_default_bus_exists_and_custom_buses_are_created_listed_and_deleted(acct):
    ev = acct.events
    assert [b["Name"] for b in ev.list_event_buses()["EventBuses"]] == ["default"]
    default = ev.describe_event_bus()
    assert default["Arn"] == f"arn:aws:events:us-east-1:{acct.id}:event-bus/default" and "Policy" not in default
    made = ev.create_event_bus(Name="orders", Description="order events", Tags=[{"Key": "team", "Value": "a"}])
    assert made["EventBusArn"] == f"arn:aws:events:us-east-1:{acct.id}:event-bus/orders"
    assert made["Description"] == "order events"
    described = ev.describe_event_bus(Name="orders")
    assert (described["Name"], described["Description"]) == ("orders", "order events")
    assert described["CreationTime"] == described["LastModifiedTime"]
    assert ev.describe_event_bus(Name=made["EventBusArn"])["Name"] == "orders"
    assert ev.list_tags_for_resource(ResourceARN=made["EventBusArn"])["Tags"] == [{"Key": "team", "Value": "a"}]
    assert [b["Name"] for b in ev.list_event_buses()["EventBuses"]] == ["default", "orders"]
    assert [b["Name"] for b in ev.list_event_buses(NamePrefix="or")["EventBuses"]] == ["orders"]
    ev.update_event_bus(Name="orders", Description="changed")
    assert ev.describe_event_bus(Name="orders")["Description"] == "changed"
    ev.delete_event_bus(Name="orders")
    ev.delete_event_bus(Name="orders")  # already gone: AWS answers 200
    assert error(ev.describe_event_bus, Name="orders") == {
        "Code": "ResourceNotFoundException", "Message": "Event bus orders does not exist.", "Status": 400}


def test_bus_errors(acct):
    ev = acct.events
    ev.create_event_bus(Name="b")
    assert error(ev.create_event_bus, Name="b")["Message"] == "Event bus b already exists."
    assert error(ev.create_event_bus, Name="default")["Code"] == "ResourceAlreadyExistsException"
    assert error(ev.delete_event_bus, Name="default") == {
        "Code": "ValidationException", "Message": "Cannot delete event bus default.", "Status": 400}


def test_list_event_buses_pages(acct):
    for i in range(5):
        acct.events.create_event_bus(Name=f"bus-{i}")
    first = acct.events.list_event_buses(Limit=4)
    second = acct.events.list_event_buses(Limit=4, NextToken=first["NextToken"])
    assert [b["Name"] for b in first["EventBuses"] + second["EventBuses"]] == ["bus-0", "bus-1", "bus-2", "bus-3",
                                                                                "bus-4", "default"]
    assert "NextToken" not in second


def test_put_and_remove_permission_edit_the_bus_policy(acct):
    ev = acct.events
    ev.create_event_bus(Name="shared")
    arn = f"arn:aws:events:us-east-1:{acct.id}:event-bus/shared"
    ev.put_permission(EventBusName="shared", Action="events:PutEvents", Principal="111111111111", StatementId="one")
    ev.put_permission(EventBusName="shared", Action="events:PutEvents", Principal="*", StatementId="org",
                      Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abc"})
    doc = json.loads(ev.describe_event_bus(Name="shared")["Policy"])
    assert doc["Statement"] == [
        {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": "events:PutEvents", "Resource": arn},
        {"Sid": "org", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": arn,
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}},
    ]
    assert [b.get("Policy") is not None for b in ev.list_event_buses()["EventBuses"]] == [False, True]
    ev.remove_permission(EventBusName="shared", StatementId="one")
    assert [s["Sid"] for s in json.loads(ev.describe_event_bus(Name="shared")["Policy"])["Statement"]] == ["org"]
    assert error(ev.remove_permission, EventBusName="shared", StatementId="one")["Message"] == (
        "Statement with the provided id does not exist.")
    ev.remove_permission(EventBusName="shared", RemoveAllPermissions=True)
    assert "Policy" not in ev.describe_event_bus(Name="shared")
    assert error(ev.remove_permission, EventBusName="shared", StatementId="x")["Message"] == "EventBus does not have a policy."
    assert error(ev.put_permission, EventBusName="shared", Action="events:PutRule", Principal="111111111111",
                 StatementId="s")["Message"] == "Provided value in parameter 'action' is not supported."
    whole = {"Version": "2012-10-17", "Statement": [{"Sid": "all", "Effect": "Allow", "Principal": "*",
                                                      "Action": "events:PutEvents", "Resource": arn}]}
    ev.put_permission(EventBusName="shared", Policy=json.dumps(whole))
    assert json.loads(ev.describe_event_bus(Name="shared")["Policy"]) == whole


# -- rules -------------------------------------------------------------------------------------


def test_rules_are_put_described_listed_enabled_disabled_and_deleted(acct):
    ev = acct.events
    pattern = json.dumps({"source": ["app"]})
    arn = ev.put_rule(Name="r1", EventPattern=pattern, Description="d", Tags=[{"Key": "k", "Value": "v"}])["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:{acct.id}:rule/r1"
    got = ev.describe_rule(Name="r1")
    got.pop("ResponseMetadata")
    assert got == {"Name": "r1", "Arn": arn, "EventPattern": pattern, "State": "ENABLED", "Description": "d",
                   "EventBusName": "default", "CreatedBy": acct.id}
    ev.disable_rule(Name="r1")
    assert ev.describe_rule(Name="r1")["State"] == "DISABLED"
    ev.enable_rule(Name="r1")
    assert ev.describe_rule(Name="r1")["State"] == "ENABLED"
    ev.put_rule(Name="r1", EventPattern=pattern)  # a replace: the description goes, the tags stay
    assert "Description" not in ev.describe_rule(Name="r1")
    assert ev.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    ev.put_rule(Name="r2", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    ev.create_event_bus(Name="custom")
    custom = ev.put_rule(Name="r3", EventPattern=pattern, EventBusName="custom")["RuleArn"]
    assert custom == f"arn:aws:events:us-east-1:{acct.id}:rule/custom/r3"
    assert [r["Name"] for r in ev.list_rules()["Rules"]] == ["r1", "r2"]
    assert [r["Name"] for r in ev.list_rules(EventBusName="custom")["Rules"]] == ["r3"]
    assert [r["Name"] for r in ev.list_rules(NamePrefix="r2")["Rules"]] == ["r2"]
    page = ev.list_rules(Limit=1)
    assert [r["Name"] for r in page["Rules"]] == ["r1"]
    assert [r["Name"] for r in ev.list_rules(Limit=1, NextToken=page["NextToken"])["Rules"]] == ["r2"]
    for name in ("r1", "r2"):
        ev.delete_rule(Name=name)
    ev.delete_rule(Name="never-there")  # AWS answers 200
    assert ev.list_rules()["Rules"] == []
    assert error(ev.describe_rule, Name="r1") == {
        "Code": "ResourceNotFoundException", "Message": "Rule r1 does not exist on EventBus default.", "Status": 400}


def test_rule_validation_errors(acct):
    ev = acct.events
    assert error(ev.put_rule, Name="r")["Message"] == "Parameter(s) EventPattern or ScheduleExpression must be specified."
    for bad in ("rate(1 minutes)", "rate(5 hour)", "rate(0 days)", "cron(0 10 * * * *)", "cron(0 10 * *)", "daily"):
        assert error(ev.put_rule, Name="r", ScheduleExpression=bad) == {
            "Code": "ValidationException", "Message": "Parameter ScheduleExpression is not valid.", "Status": 400}
    ev.create_event_bus(Name="custom")
    assert error(ev.put_rule, Name="r", ScheduleExpression="rate(1 day)", EventBusName="custom")["Message"] == (
        "ScheduleExpression is supported only on the default event bus.")
    bad = error(ev.put_rule, Name="r", EventPattern='{"source": "x"}')
    assert bad["Code"] == "InvalidEventPatternException"
    assert bad["Message"].startswith('Event pattern is not valid. Reason: "source" must be an object or an array')
    assert error(ev.put_rule, Name="r", EventPattern='{"source": ["x"]}', EventBusName="nope")["Message"] == (
        "Event bus nope does not exist.")
    assert error(ev.enable_rule, Name="ghost")["Message"] == "Rule ghost does not exist on EventBus default."


def test_targets_are_put_listed_and_removed_and_block_rule_deletion(acct):
    ev = acct.events
    _, arn = acct.queue("q")
    ev.put_rule(Name="r", EventPattern='{"source": ["app"]}')
    out = ev.put_targets(Rule="r", Targets=[
        {"Id": "a", "Arn": arn},
        {"Id": "b", "Arn": arn, "InputPath": "$.detail", "RetryPolicy": {"MaximumRetryAttempts": 3,
                                                                          "MaximumEventAgeInSeconds": 600}},
        {"Id": "bad", "Arn": arn, "Input": "{}", "InputPath": "$.detail"},
    ])
    assert out["FailedEntryCount"] == 1
    assert out["FailedEntries"] == [{"TargetId": "bad", "ErrorCode": "ValidationException",
                                     "ErrorMessage": "Only one of Input, InputPath, or InputTransformer must be provided for target bad."}]
    targets = ev.list_targets_by_rule(Rule="r")["Targets"]
    assert [t["Id"] for t in targets] == ["a", "b"]
    assert targets[1]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}
    ev.put_targets(Rule="r", Targets=[{"Id": "a", "Arn": arn, "Input": '{"x": 1}'}])  # same id: replaced
    assert ev.list_targets_by_rule(Rule="r")["Targets"][0] == {"Id": "a", "Arn": arn, "Input": '{"x": 1}'}
    assert ev.list_rule_names_by_target(TargetArn=arn)["RuleNames"] == ["r"]
    assert error(ev.delete_rule, Name="r") == {
        "Code": "ValidationException", "Message": "Rule can't be deleted since it has targets.", "Status": 400}
    removed = ev.remove_targets(Rule="r", Ids=["a", "b", "not-there"])
    assert removed["FailedEntryCount"] == 0
    assert ev.list_targets_by_rule(Rule="r")["Targets"] == []
    assert ev.list_rule_names_by_target(TargetArn=arn)["RuleNames"] == []
    ev.delete_rule(Name="r")
    assert error(ev.put_targets, Rule="r", Targets=[{"Id": "a", "Arn": arn}])["Message"] == (
        "Rule r does not exist on EventBus default.")


def test_target_limits_and_checks(acct):
    ev = acct.events
    _, arn = acct.queue("q")
    _, fifo = acct.queue("f.fifo", FifoQueue="true")
    ev.put_rule(Name="r", EventPattern='{"source": ["app"]}')
    assert error(ev.put_targets, Rule="r", Targets=[{"Id": str(i), "Arn": arn} for i in range(6)])["Code"] == (
        "LimitExceededException")
    assert error(ev.put_targets, Rule="r", Targets=[{"Id": "x", "Arn": "not-an-arn"}])["Message"] == (
        "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format.")
    out = ev.put_targets(Rule="r", Targets=[
        {"Id": "fifo", "Arn": fifo},
        {"Id": "input", "Arn": arn, "Input": "not json"},
        {"Id": "dlq", "Arn": arn, "DeadLetterConfig": {"Arn": fifo}},
    ])
    assert {f["TargetId"]: f["ErrorMessage"] for f in out["FailedEntries"]} == {
        "fifo": "Parameter(s) SqsParameters must be specified for target: fifo.",
        "input": "Input for target input is not valid JSON text.",
        "dlq": "Parameter DeadLetterConfig.Arn is not valid. Reason: FIFO queues are not supported as a dead-letter queue.",
    }
    assert error(ev.put_targets, Rule="r", Targets=[{"Id": "x", "Arn": arn, "RetryPolicy": {"MaximumRetryAttempts": 186}}])[
        "Code"] == "ValidationException"


# -- PutEvents ---------------------------------------------------------------------------------


def test_a_matching_event_reaches_the_queue_as_the_event_envelope(acct):
    url, arn = acct.queue("q")
    acct.rule_to_queue("orders", {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}, arn)
    out = acct.events.put_events(Entries=[
        {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"total": 250}), "Resources": ["arn:x"]},
        {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"total": 5})},
        {"Source": "other", "DetailType": "Order Placed", "Detail": json.dumps({"total": 900})},
    ])
    assert out["FailedEntryCount"] == 0 and all(len(e["EventId"]) == 36 for e in out["Entries"])
    (body,) = acct.bodies(url)
    assert list(body) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert body["id"] == out["Entries"][0]["EventId"]
    assert (body["version"], body["detail-type"], body["source"], body["account"], body["region"]) == (
        "0", "Order Placed", "shop", acct.id, "us-east-1")
    assert body["resources"] == ["arn:x"] and body["detail"] == {"total": 250}
    assert len(body["time"]) == 20 and body["time"].endswith("Z")


def test_the_event_time_is_the_entry_time_or_the_cloudlet_time(cloud, acct):
    import datetime as dt

    url, arn = acct.queue("q")
    acct.rule_to_queue("all", {"source": ["app"]}, arn)
    acct.put({"Source": "app", "Time": dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)})
    assert acct.bodies(url)[0]["time"] == "2021-03-04T05:06:07Z"
    before = cloud.admin("GET", "clock")["now"][:19]
    acct.put({"Source": "app"})
    after = cloud.admin("GET", "clock")["now"][:19]
    (body,) = acct.bodies(url)
    assert before <= body["time"][:19] <= after


def test_per_entry_errors_leave_the_other_entries_in(acct):
    out = acct.events.put_events(Entries=[
        {"Source": "a", "DetailType": "t", "Detail": "{}"},
        {"DetailType": "t", "Detail": "{}"},
        {"Source": "a", "Detail": "{}"},
        {"Source": "a", "DetailType": "t"},
        {"Source": "a", "DetailType": "t", "Detail": "{not json"},
        {"Source": "a", "DetailType": "t", "Detail": '"a string"'},
        {"Source": "aws.ec2", "DetailType": "t", "Detail": "{}"},
    ])
    assert out["FailedEntryCount"] == 6
    assert "EventId" in out["Entries"][0]
    assert [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in out["Entries"][1:]] == [
        ("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."),
        ("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."),
        ("MalformedDetail", "Detail is malformed."),
        ("MalformedDetail", "Detail is malformed."),
        ("NotAuthorizedForSourceException", "Not authorized for the source."),
    ]


def test_put_events_limits(acct):
    assert error(acct.events.put_events, Entries=[{"Source": "a", "DetailType": "t", "Detail": "{}"}] * 11)[
        "Code"] == "ValidationException"
    big = {"Source": "a", "DetailType": "t", "Detail": json.dumps({"x": "y" * 262_144})}
    assert error(acct.events.put_events, Entries=[big])["Message"] == (
        "Total size of the entries in the request is over the limit.")


def test_custom_bus_rules_only_see_their_bus_and_disabled_rules_see_nothing(acct):
    url, arn = acct.queue("q")
    acct.events.create_event_bus(Name="orders")
    acct.rule_to_queue("on-orders", {"source": ["app"]}, arn, bus="orders")
    acct.rule_to_queue("on-default", {"source": ["app"]}, arn, Input='"default"')
    acct.put({"Source": "app", "EventBusName": "orders", "Detail": '{"bus": "orders"}'},
             {"Source": "app", "EventBusName": f"arn:aws:events:us-east-1:{acct.id}:event-bus/orders",
              "Detail": '{"bus": "orders by arn"}'},
             {"Source": "app", "EventBusName": "no-such-bus"})  # AWS takes it and drops it
    got = acct.bodies(url)
    assert sorted(b["detail"]["bus"] for b in got) == ["orders", "orders by arn"]
    acct.events.disable_rule(Name="on-orders", EventBusName="orders")
    acct.put({"Source": "app", "EventBusName": "orders"}, {"Source": "app"})
    assert acct.bodies(url) == ["default"]


def test_one_event_reaches_every_matching_rule_and_target(acct):
    url_a, arn_a = acct.queue("a")
    url_b, arn_b = acct.queue("b")
    acct.rule_to_queue("r1", {"source": ["app"]}, arn_a)
    acct.rule_to_queue("r2", {"detail-type": ["thing"]}, arn_a)
    acct.events.put_targets(Rule="r2", Targets=[{"Id": "t2", "Arn": arn_b}])
    acct.put({"Source": "app"})
    assert len(acct.receive(url_a)) == 2 and len(acct.receive(url_b)) == 1


# -- TestEventPattern --------------------------------------------------------------------------

EVENT = {
    "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"], "version": "0",
    "detail": {"instance-id": "i-abcd1111", "state": "pending", "size": 12},
}


@pytest.mark.parametrize("pattern, result", [
    ({"source": ["aws.ec2"]}, True),
    ({"source": ["aws.s3"]}, False),
    ({"detail": {"state": ["pending", "running"]}}, True),
    ({"detail": {"state": [{"anything-but": "pending"}]}}, False),
    ({"detail": {"size": [{"numeric": [">", 10, "<=", 12]}]}}, True),
    ({"detail": {"instance-id": [{"prefix": "i-"}]}}, True),
    ({"resources": [{"wildcard": "*instance/i-*"}]}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
])
def test_test_event_pattern_answers_true_or_false(acct, pattern, result):
    out = acct.events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    assert out["Result"] is result


def test_test_event_pattern_errors(acct):
    ev = acct.events
    bad = error(ev.test_event_pattern, EventPattern='{"source": [{"bogus": 1}]}', Event=json.dumps(EVENT))
    assert bad["Code"] == "InvalidEventPatternException"
    assert bad["Message"].startswith("Event pattern is not valid. Reason: Unrecognized match type bogus")
    assert error(ev.test_event_pattern, EventPattern="{}", Event=json.dumps(EVENT))["Message"].startswith(
        "Event pattern is not valid. Reason: Empty objects are not allowed")
    incomplete = {k: v for k, v in EVENT.items() if k != "account"}
    for event in (json.dumps(incomplete), "not json", "[1]"):
        assert error(ev.test_event_pattern, EventPattern='{"source": ["a"]}', Event=event) == {
            "Code": "ValidationException", "Message": "Parameter Event is not valid.", "Status": 400}


# -- tags --------------------------------------------------------------------------------------


def test_tags_on_rules_and_buses(acct):
    ev = acct.events
    arn = ev.put_rule(Name="r", EventPattern='{"source": ["a"]}')["RuleArn"]
    ev.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ev.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert ev.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    bus = f"arn:aws:events:us-east-1:{acct.id}:event-bus/default"
    ev.tag_resource(ResourceARN=bus, Tags=[{"Key": "env", "Value": "dev"}])
    assert ev.list_tags_for_resource(ResourceARN=bus)["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert error(ev.list_tags_for_resource, ResourceARN=arn.replace(":rule/r", ":rule/nope"))["Message"] == (
        "Rule nope does not exist on EventBus default.")


def test_partner_operations_say_they_are_not_implemented(acct):
    assert error(acct.events.list_partner_event_sources, NamePrefix="aws.partner/example.com/")["Code"] == "NotImplemented"
