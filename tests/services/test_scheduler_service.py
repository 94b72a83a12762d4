"""EventBridge Scheduler: groups and schedules over boto3 against a running cloudlet, and
the expression logic called directly. Time moves with ``cloud.advance``; nothing sleeps.

Each test works in an account of its own and deletes its schedules afterwards, so later
clock jumps in the session do not keep firing them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import zoneinfo

import pytest
from botocore.exceptions import ClientError

from cloudlet.core import schedules as core_schedules
from cloudlet.services.scheduler import expressions, invoke

UTC = dt.timezone.utc
OFF = {"Mode": "OFF"}
_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def error(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


class Account:
    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self.id = f"5{next(_accounts) % 10**11:011d}"
        self.scheduler = cloud.client("scheduler", key=self.id)
        self.sqs = cloud.client("sqs", key=self.id)

    def now(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.cloud.admin("GET", "clock")["now"].replace("Z", "+00:00"))

    def queue(self, name: str) -> tuple[str, str]:
        """A queue that keeps messages 14 days, longer than any clock jump here."""
        url = self.sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
        return url, self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def receive(self, url: str) -> list[dict]:
        """Every message now in the queue (deleted as received), with SentTimestamp and attributes."""
        out: list[dict] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"],
                                           MessageAttributeNames=["All"]).get("Messages") or []
            if not got:
                return out
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
            out.extend(got)

    def sent_at(self, url: str) -> list[dt.datetime]:
        """When each message was sent, to the second: a firing is due at a whole second and
        delivered a few milliseconds later (the clock keeps running while the job works)."""
        return sorted(dt.datetime.fromtimestamp(int(m["Attributes"]["SentTimestamp"]) // 1000, UTC)
                      for m in self.receive(url))

    def schedule(self, name: str, expression: str, target: dict, **kwargs) -> str:
        return self.scheduler.create_schedule(Name=name, ScheduleExpression=expression, Target=target,
                                              FlexibleTimeWindow=kwargs.pop("FlexibleTimeWindow", OFF), **kwargs)["ScheduleArn"]


@pytest.fixture
def acct(cloud):
    a = Account(cloud)
    yield a
    for group in a.scheduler.list_schedule_groups()["ScheduleGroups"]:
        if group["Name"] != "default":
            a.scheduler.delete_schedule_group(Name=group["Name"])
    for s in a.scheduler.list_schedules()["Schedules"]:
        a.scheduler.delete_schedule(Name=s["Name"], GroupName=s["GroupName"])


def role(acct: Account) -> str:
    return f"arn:aws:iam::{acct.id}:role/scheduler"


# behaviour over boto3 --------------------------------------------------------------------

def test_schedule_crud_and_errors(acct):
    s = acct.scheduler
    _, qarn = acct.queue("crud")
    target = {"Arn": qarn, "RoleArn": role(acct), "Input": "hi"}
    arn = acct.schedule("daily", "rate(1 day)", target, Description="d", ScheduleExpressionTimezone="Europe/Paris")
    assert arn == f"arn:aws:scheduler:us-east-1:{acct.id}:schedule/default/daily"
    got = s.get_schedule(Name="daily")
    assert (got["Arn"], got["GroupName"], got["State"], got["ScheduleExpression"], got["Description"],
            got["ScheduleExpressionTimezone"], got["Target"], got["ActionAfterCompletion"]) == (
        arn, "default", "ENABLED", "rate(1 day)", "d", "Europe/Paris", target, "NONE")
    code, status, msg = error(s.create_schedule, Name="daily", ScheduleExpression="rate(1 day)", Target=target,
                              FlexibleTimeWindow=OFF)
    assert (code, status, msg) == ("ConflictException", 409, "Schedule daily already exists.")
    for bad in ("rate(1 days)", "at(2026-02-30T00:00:00)", "cron(0 9 * * * *)", "every day"):
        code, status, msg = error(s.create_schedule, Name="bad", ScheduleExpression=bad, Target=target,
                                  FlexibleTimeWindow=OFF)
        assert (code, status, msg) == ("ValidationException", 400, f"Invalid Schedule Expression {bad}.")
    assert error(s.create_schedule, Name="tz", ScheduleExpression="rate(1 day)", Target=target, FlexibleTimeWindow=OFF,
                 ScheduleExpressionTimezone="Mars/Olympus")[0] == "ValidationException"
    assert error(s.create_schedule, Name="flex", ScheduleExpression="rate(1 day)", Target=target,
                 FlexibleTimeWindow={"Mode": "FLEXIBLE"})[0] == "ValidationException"
    assert error(s.create_schedule, Name="nogroup", GroupName="nope", ScheduleExpression="rate(1 day)", Target=target,
                 FlexibleTimeWindow=OFF)[:2] == ("ResourceNotFoundException", 404)
    s.update_schedule(Name="daily", ScheduleExpression="cron(0 9 * * ? *)", Target=target, FlexibleTimeWindow=OFF,
                      State="DISABLED")
    got = s.get_schedule(Name="daily")
    assert (got["ScheduleExpression"], got["State"], "Description" in got) == ("cron(0 9 * * ? *)", "DISABLED", False)
    assert error(s.update_schedule, Name="ghost", ScheduleExpression="rate(1 day)", Target=target,
                 FlexibleTimeWindow=OFF) == ("ResourceNotFoundException", 404, "Schedule ghost does not exist.")
    s.delete_schedule(Name="daily")
    assert error(s.get_schedule, Name="daily")[:2] == ("ResourceNotFoundException", 404)
    assert error(s.delete_schedule, Name="daily")[:2] == ("ResourceNotFoundException", 404)


def test_list_schedules_filters_and_pages(acct):
    s = acct.scheduler
    _, qarn = acct.queue("list")
    target = {"Arn": qarn, "RoleArn": role(acct)}
    s.create_schedule_group(Name="team")
    for i in range(5):
        acct.schedule(f"job-{i}", "rate(1 day)", target, State="DISABLED" if i % 2 else "ENABLED")
    acct.schedule("other", "rate(1 day)", target, GroupName="team", State="DISABLED")
    names = [x["Name"] for x in s.list_schedules()["Schedules"]]
    assert sorted(names) == ["job-0", "job-1", "job-2", "job-3", "job-4", "other"]
    assert [x["Name"] for x in s.list_schedules(GroupName="team")["Schedules"]] == ["other"]
    assert [x["Name"] for x in s.list_schedules(NamePrefix="job", State="DISABLED")["Schedules"]] == ["job-1", "job-3"]
    seen, token = [], None
    while True:
        page = s.list_schedules(GroupName="default", MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page["Schedules"]) <= 2
        seen += [x["Name"] for x in page["Schedules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [f"job-{i}" for i in range(5)]
    assert s.list_schedules(GroupName="team")["Schedules"][0]["Target"] == {"Arn": qarn}
    assert error(s.list_schedules, GroupName="nope")[0] == "ResourceNotFoundException"


def test_groups_tags_and_deleting_a_group_deletes_its_schedules(acct):
    s = acct.scheduler
    url, qarn = acct.queue("groups")
    default = s.get_schedule_group(Name="default")
    assert (default["Name"], default["State"]) == ("default", "ACTIVE")
    arn = s.create_schedule_group(Name="batch", Tags=[{"Key": "team", "Value": "a"}])["ScheduleGroupArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:{acct.id}:schedule-group/batch"
    assert error(s.create_schedule_group, Name="batch") == ("ConflictException", 409, "Schedule group batch already exists.")
    assert [g["Name"] for g in s.list_schedule_groups()["ScheduleGroups"]] == ["batch", "default"]
    assert [g["Name"] for g in s.list_schedule_groups(NamePrefix="ba")["ScheduleGroups"]] == ["batch"]
    s.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    s.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert s.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    acct.schedule("minutely", "rate(1 minute)", {"Arn": qarn, "RoleArn": role(acct)}, GroupName="batch")
    acct.cloud.advance(150)
    assert len(acct.receive(url)) == 3  # at creation, +1 min, +2 min
    s.delete_schedule_group(Name="batch")
    assert error(s.get_schedule_group, Name="batch") == ("ResourceNotFoundException", 404, "Schedule group batch does not exist.")
    assert error(s.get_schedule, Name="minutely", GroupName="batch")[0] == "ResourceNotFoundException"
    acct.cloud.advance(300)
    assert acct.receive(url) == []
    assert error(s.delete_schedule_group, Name="default")[0] == "ValidationException"
    assert error(s.list_tags_for_resource, ResourceArn=arn)[0] == "ResourceNotFoundException"


def test_a_one_time_schedule_delivers_once_and_then_deletes_itself(acct):
    url, qarn = acct.queue("once")
    due = (acct.now() + dt.timedelta(hours=1)).replace(microsecond=0)
    acct.schedule("once", f"at({due:%Y-%m-%dT%H:%M:%S})", {"Arn": qarn, "RoleArn": role(acct), "Input": "ping"},
                  ActionAfterCompletion="DELETE")
    acct.cloud.advance(1800)
    assert acct.receive(url) == []
    assert acct.scheduler.get_schedule(Name="once")["ActionAfterCompletion"] == "DELETE"
    acct.cloud.advance(3600)
    got = acct.receive(url)
    assert [m["Body"] for m in got] == ["ping"]
    assert int(got[0]["Attributes"]["SentTimestamp"]) // 1000 == int(due.timestamp())
    assert error(acct.scheduler.get_schedule, Name="once")[0] == "ResourceNotFoundException"
    acct.cloud.advance(86400)
    assert acct.receive(url) == []


def test_a_one_time_schedule_in_a_time_zone_fires_at_that_wall_time(acct):
    url, qarn = acct.queue("once-tz")
    tz = zoneinfo.ZoneInfo("Asia/Tokyo")
    due = (acct.now() + dt.timedelta(hours=2)).astimezone(tz).replace(microsecond=0)
    acct.schedule("tokyo", f"at({due:%Y-%m-%dT%H:%M:%S})", {"Arn": qarn, "RoleArn": role(acct)},
                  ScheduleExpressionTimezone="Asia/Tokyo")
    acct.cloud.advance(3 * 3600)
    assert acct.sent_at(url) == [due.astimezone(UTC)]
    assert acct.scheduler.get_schedule(Name="tokyo")["State"] == "ENABLED"  # ActionAfterCompletion NONE keeps it


def test_a_rate_schedule_fires_once_per_period_from_its_start_until_its_end(acct):
    url, qarn = acct.queue("rate")
    start = (acct.now() + dt.timedelta(minutes=30)).replace(microsecond=0)
    acct.schedule("every10", "rate(10 minutes)", {"Arn": qarn, "RoleArn": role(acct), "Input": "{}"},
                  StartDate=start, EndDate=start + dt.timedelta(minutes=45))
    acct.cloud.advance(3 * 3600)
    assert acct.sent_at(url) == [start + dt.timedelta(minutes=10 * k) for k in range(5)]


def test_a_disabled_schedule_does_not_fire(acct):
    url, qarn = acct.queue("disabled")
    acct.schedule("off", "rate(1 minute)", {"Arn": qarn, "RoleArn": role(acct)}, State="DISABLED")
    acct.cloud.advance(600)
    assert acct.receive(url) == []


def _next_transition(after: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    day = after + dt.timedelta(days=1)
    while day.astimezone(tz).utcoffset() == (day + dt.timedelta(days=1)).astimezone(tz).utcoffset():
        day += dt.timedelta(days=1)
    return day


def test_a_cron_schedule_in_new_york_follows_daylight_saving_time(acct):
    url, qarn = acct.queue("cron")
    tz = zoneinfo.ZoneInfo("America/New_York")
    change = _next_transition(acct.now(), tz)  # the UTC day on which New York's offset changes
    start, end = change - dt.timedelta(days=2), change + dt.timedelta(days=3)
    acct.schedule("nine", "cron(0 9 * * ? *)", {"Arn": qarn, "RoleArn": role(acct)},
                  ScheduleExpressionTimezone="America/New_York", StartDate=start, EndDate=end)
    acct.cloud.advance((end - acct.now()).total_seconds() + 60)
    got = acct.sent_at(url)
    expected = []
    first_day = start.astimezone(tz).date()
    for i in range(7):  # step local dates, not 24-hour UTC steps: one day is 23 hours long here
        local = dt.datetime.combine(first_day + dt.timedelta(days=i), dt.time(9), tz)
        if start <= local <= end:
            expected.append(local.astimezone(UTC))
    assert got == expected, (start, end, got)
    assert len({t.hour for t in got}) == 2  # 13:00 or 14:00 UTC on either side of the change


def test_a_flexible_window_fires_inside_its_window(acct):
    url, qarn = acct.queue("flex")
    start = (acct.now() + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    acct.schedule("flex", "rate(1 hour)", {"Arn": qarn, "RoleArn": role(acct)}, StartDate=start,
                  FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})
    acct.cloud.advance((start - acct.now()).total_seconds() + 6 * 3600 - 1)
    got = acct.sent_at(url)
    assert len(got) == 6
    offsets = [(t - (start + dt.timedelta(hours=k))).total_seconds() for k, t in enumerate(got)]
    assert all(0 <= o < 15 * 60 for o in offsets), offsets
    assert len(set(offsets)) > 1  # spread inside the window, not a fixed delay


def test_the_universal_target_calls_the_operation_with_input_as_parameters(acct):
    url, _ = acct.queue("universal")
    due = acct.now() + dt.timedelta(minutes=5)
    acct.schedule("sdk", f"at({due:%Y-%m-%dT%H:%M:%S})", {
        "Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": role(acct),
        "Input": json.dumps({"QueueUrl": url, "MessageBody": "from the universal target"})})
    assert error(acct.scheduler.create_schedule, Name="bad", ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
                 Target={"Arn": "arn:aws:scheduler:::aws-sdk:sqs:noSuchAction", "RoleArn": role(acct)})[0] == "ValidationException"
    acct.cloud.advance(600)
    assert [m["Body"] for m in acct.receive(url)] == ["from the universal target"]


def test_a_failing_target_goes_to_the_dead_letter_queue_with_its_attributes(acct):
    dlq_url, dlq_arn = acct.queue("dlq")
    missing = f"arn:aws:sqs:us-east-1:{acct.id}:no-such-queue"
    due = acct.now() + dt.timedelta(minutes=5)
    arn = acct.schedule("broken", f"at({due:%Y-%m-%dT%H:%M:%S})", {
        "Arn": missing, "RoleArn": role(acct), "Input": '{"job": 1}', "DeadLetterConfig": {"Arn": dlq_arn},
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}})
    acct.schedule("lambda", f"at({due:%Y-%m-%dT%H:%M:%S})", {
        "Arn": f"arn:aws:lambda:us-east-1:{acct.id}:function:nothing", "RoleArn": role(acct), "Input": "{}",
        "DeadLetterConfig": {"Arn": dlq_arn}})
    acct.cloud.advance(900)
    got = {m["MessageAttributes"]["TARGET_ARN"]["StringValue"]: m for m in acct.receive(dlq_url)}
    assert set(got) == {missing, f"arn:aws:lambda:us-east-1:{acct.id}:function:nothing"}
    sqs_failure = got[missing]
    attrs = {k: v["StringValue"] for k, v in sqs_failure["MessageAttributes"].items()}
    assert sqs_failure["Body"] == '{"job": 1}'
    assert attrs["SCHEDULE_ARN"] == arn and attrs["RETRY_ATTEMPTS"] == "0" and attrs["ERROR_CODE"]
    assert "EXHAUSTED_RETRY_CONDITION" not in attrs  # a missing queue is not retried


def test_sns_and_event_bus_targets_carry_the_input(acct):
    url, qarn = acct.queue("fanin")
    sns = acct.cloud.client("sns", key=acct.id)
    events = acct.cloud.client("events", key=acct.id)
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name="from-scheduler", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="from-scheduler", Targets=[{"Id": "q", "Arn": qarn}])
    due = acct.now() + dt.timedelta(minutes=5)
    at = f"at({due:%Y-%m-%dT%H:%M:%S})"
    acct.schedule("to-sns", at, {"Arn": topic, "RoleArn": role(acct), "Input": "via sns"})
    acct.schedule("to-bus", at, {"Arn": f"arn:aws:events:us-east-1:{acct.id}:event-bus/default", "RoleArn": role(acct),
                                 "Input": json.dumps({"n": 1}),
                                 "EventBridgeParameters": {"Source": "my.app", "DetailType": "tick"}})
    acct.cloud.advance(600)
    bodies = [m["Body"] for m in acct.receive(url)]
    assert "via sns" in bodies and len(bodies) == 2
    event = json.loads(next(b for b in bodies if b != "via sns"))
    assert (event["source"], event["detail-type"], event["detail"]) == ("my.app", "tick", {"n": 1})
    events.remove_targets(Rule="from-scheduler", Ids=["q"])
    events.delete_rule(Name="from-scheduler")

# logic, called directly ----------------------------------------------------------------

NY = zoneinfo.ZoneInfo("America/New_York")


def _run(expression: str, tz, after: dt.datetime, n: int) -> list[dt.datetime]:
    expr = expressions.parse(expression)
    out = []
    for _ in range(n):
        after = expressions.next_occurrence(expr, tz, after, anchor=after)
        out.append(after)
    return out


def test_cron_skips_a_wall_time_the_spring_change_removes():
    got = _run("cron(30 2 * * ? *)", NY, dt.datetime(2027, 3, 12, tzinfo=UTC), 4)
    assert [t.isoformat() for t in got] == ["2027-03-12T07:30:00+00:00", "2027-03-13T07:30:00+00:00",
                                           "2027-03-15T06:30:00+00:00", "2027-03-16T06:30:00+00:00"]


def test_cron_runs_a_repeated_wall_time_once_in_the_fall():
    got = _run("cron(*/30 1 * * ? *)", NY, dt.datetime(2027, 11, 7, 4, tzinfo=UTC), 3)
    assert [t.isoformat() for t in got] == ["2027-11-07T05:00:00+00:00", "2027-11-07T05:30:00+00:00",
                                           "2027-11-08T06:00:00+00:00"]


def test_rate_counts_from_its_anchor_and_end_date_stops_it():
    anchor = dt.datetime(2030, 1, 1, tzinfo=UTC)
    expr = expressions.parse("rate(2 hours)")
    assert isinstance(expr, core_schedules.Rate)
    assert expressions.next_occurrence(expr, UTC, anchor - dt.timedelta(days=1), anchor=anchor) == anchor
    assert expressions.next_occurrence(expr, UTC, anchor + dt.timedelta(hours=3), anchor=anchor) == anchor + dt.timedelta(hours=4)
    assert expressions.next_occurrence(expr, UTC, anchor, anchor=anchor, end=anchor + dt.timedelta(hours=1)) is None


def test_at_parses_real_dates_only_and_is_never_after_it_passed():
    assert expressions.parse("at(2027-02-29T00:00:00)") is None
    expr = expressions.parse("at(2028-02-29T12:00:00)")
    when = dt.datetime(2028, 2, 29, 17, tzinfo=UTC)
    assert expressions.next_occurrence(expr, NY, when - dt.timedelta(seconds=1), anchor=when) == when
    assert expressions.next_occurrence(expr, NY, when, anchor=when) is None


def test_flexible_offsets_are_repeatable_and_inside_the_window():
    t = dt.datetime(2030, 1, 1, tzinfo=UTC)
    offsets = [expressions.flexible_offset("arn:s", t + dt.timedelta(hours=k), 5) for k in range(200)]
    assert all(0 <= o < 300 for o in offsets) and len(set(offsets)) > 50
    assert offsets == [expressions.flexible_offset("arn:s", t + dt.timedelta(hours=k), 5) for k in range(200)]


def test_retry_policy_decides_retry_or_dead_letter():
    inv = invoke.Invocation("1", "r", "arn:s", {"Arn": "x"}, occurred=1000.0)
    throttled = invoke.Failure("ThrottlingException", "slow down", True)
    due, exhausted = invoke.next_step({"MaximumRetryAttempts": 2}, inv, throttled, 1000.0)
    assert exhausted is None and 1000.5 <= due <= 1001.0
    inv.attempt = 2
    assert invoke.next_step({"MaximumRetryAttempts": 2}, inv, throttled, 1010.0) == (None, "MaximumRetryAttempts")
    inv.attempt = 0
    assert invoke.next_step({"MaximumEventAgeInSeconds": 60}, inv, throttled, 1100.0) == (None, "MaximumEventAgeInSeconds")
    assert invoke.next_step({}, inv, invoke.Failure("QueueDoesNotExist", "", False), 1000.0) == (None, None)
