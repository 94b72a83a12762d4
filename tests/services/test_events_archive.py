"""Archives and replays: a bus's matching events are kept for the retention (cloudlet
clock) and sent back by StartReplay, each carrying ``replay-name``."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.services.test_events import Account, error


@pytest.fixture
def acct(cloud) -> Account:
    return Account(cloud)


def now(cloud) -> dt.datetime:
    return dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00"))


def bus_arn(acct: Account, name: str = "default") -> str:
    return f"arn:aws:events:us-east-1:{acct.id}:event-bus/{name}"


def test_an_archive_keeps_matching_events_and_a_replay_sends_them_back(cloud, acct):
    ev = acct.events
    url, arn = acct.queue("q")
    archive = ev.create_archive(ArchiveName="orders", EventSourceArn=bus_arn(acct),
                                EventPattern=json.dumps({"source": ["shop"]}), Description="all orders")
    assert archive["ArchiveArn"] == f"arn:aws:events:us-east-1:{acct.id}:archive/orders" and archive["State"] == "ENABLED"
    start = now(cloud) - dt.timedelta(seconds=1)
    acct.put({"Source": "shop", "Detail": '{"n": 1}'}, {"Source": "shop", "Detail": '{"n": 2}'}, {"Source": "other"})
    end = now(cloud) + dt.timedelta(seconds=1)
    described = ev.describe_archive(ArchiveName="orders")
    assert (described["EventCount"], described["State"], described["RetentionDays"]) == (2, "ENABLED", 0)
    assert described["SizeBytes"] > 200 and described["Description"] == "all orders"
    assert [a["ArchiveName"] for a in ev.list_archives()["Archives"]] == ["orders"]

    acct.rule_to_queue("late", {"source": ["shop"]}, arn)  # created after the events were put
    replay = ev.start_replay(ReplayName="again", EventSourceArn=archive["ArchiveArn"], EventStartTime=start,
                             EventEndTime=end, Destination={"Arn": bus_arn(acct)})
    assert replay["State"] == "STARTING"
    cloud.advance(0)  # the replay runs on the scheduler
    bodies = acct.bodies(url)
    assert sorted(b["detail"]["n"] for b in bodies) == [1, 2]
    assert {b["replay-name"] for b in bodies} == {"again"}
    state = ev.describe_replay(ReplayName="again")
    assert state["State"] == "COMPLETED" and state["Destination"] == {"Arn": bus_arn(acct)}
    assert start <= state["EventLastReplayedTime"] <= end and "ReplayEndTime" in state
    assert ev.describe_archive(ArchiveName="orders")["EventCount"] == 2  # replayed events are not archived again
    assert [r["ReplayName"] for r in ev.list_replays(State="COMPLETED")["Replays"]] == ["again"]
    assert error(ev.cancel_replay, ReplayName="again") == {
        "Code": "IllegalStatusException", "Message": "Replay again is not in a valid state for this operation.",
        "Status": 400}


def test_a_replay_can_target_some_rules_only_and_a_time_window(cloud, acct):
    ev = acct.events
    url_a, arn_a = acct.queue("a")
    url_b, arn_b = acct.queue("b")
    archive = ev.create_archive(ArchiveName="all", EventSourceArn=bus_arn(acct))["ArchiveArn"]
    acct.put({"Source": "app", "Detail": '{"n": "early"}'})
    cloud.advance(600)
    middle = now(cloud)
    acct.put({"Source": "app", "Detail": '{"n": "late"}'})
    rule_a = ev.put_rule(Name="a", EventPattern='{"source": ["app"]}')["RuleArn"]
    ev.put_targets(Rule="a", Targets=[{"Id": "1", "Arn": arn_a}])
    acct.rule_to_queue("b", {"source": ["app"]}, arn_b)
    ev.start_replay(ReplayName="late-only", EventSourceArn=archive, EventStartTime=middle,
                    EventEndTime=middle + dt.timedelta(minutes=1), Destination={"Arn": bus_arn(acct), "FilterArns": [rule_a]})
    cloud.advance(0)
    assert [b["detail"]["n"] for b in acct.bodies(url_a)] == ["late"]
    assert acct.receive(url_b) == []


def test_archived_events_expire_after_the_retention(cloud, acct):
    ev = acct.events
    ev.create_archive(ArchiveName="short", EventSourceArn=bus_arn(acct), RetentionDays=1)
    acct.put({"Source": "app"})
    assert ev.describe_archive(ArchiveName="short")["EventCount"] == 1
    cloud.advance(days=1, seconds=60)
    gone = ev.describe_archive(ArchiveName="short")
    assert (gone["EventCount"], gone["SizeBytes"]) == (0, 0)
    ev.update_archive(ArchiveName="short", RetentionDays=0, Description="forever now")
    acct.put({"Source": "app"})
    cloud.advance(days=30)
    assert ev.describe_archive(ArchiveName="short")["EventCount"] == 1


def test_archive_and_replay_errors(cloud, acct):
    ev = acct.events
    ev.create_event_bus(Name="other")
    archive = ev.create_archive(ArchiveName="a", EventSourceArn=bus_arn(acct))["ArchiveArn"]
    assert error(ev.create_archive, ArchiveName="a", EventSourceArn=bus_arn(acct))["Message"] == "Archive a already exists."
    assert error(ev.create_archive, ArchiveName="b", EventSourceArn=bus_arn(acct, "nope"))["Message"] == (
        "Event bus nope does not exist.")
    assert error(ev.create_archive, ArchiveName="c", EventSourceArn=bus_arn(acct), EventPattern='{"source": "x"}')[
        "Code"] == "InvalidEventPatternException"
    assert error(ev.describe_archive, ArchiveName="zz")["Message"] == "Archive zz does not exist."
    t = now(cloud)
    window = {"EventStartTime": t - dt.timedelta(hours=1), "EventEndTime": t}
    assert error(ev.start_replay, ReplayName="r", EventSourceArn=archive, Destination={"Arn": bus_arn(acct, "other")},
                 **window)["Message"] == "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted."
    assert error(ev.start_replay, ReplayName="r", EventSourceArn=archive, Destination={"Arn": bus_arn(acct)},
                 EventStartTime=t, EventEndTime=t - dt.timedelta(hours=1))["Message"] == (
        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
    assert error(ev.start_replay, ReplayName="r", EventSourceArn=archive.replace("/a", "/zz"),
                 Destination={"Arn": bus_arn(acct)}, **window)["Message"] == (
        "Parameter EventSourceArn is not valid. Reason: Archive zz does not exist.")
    ev.start_replay(ReplayName="r", EventSourceArn=archive, Destination={"Arn": bus_arn(acct)}, **window)
    assert error(ev.start_replay, ReplayName="r", EventSourceArn=archive, Destination={"Arn": bus_arn(acct)},
                 **window)["Message"] == "Replay r already exists."
    assert error(ev.describe_replay, ReplayName="zz")["Message"] == "Replay zz does not exist."
    assert error(ev.list_archives, NamePrefix="a", State="ENABLED")["Code"] == "ValidationException"
    ev.delete_archive(ArchiveName="a")
    assert error(ev.delete_archive, ArchiveName="a")["Code"] == "ResourceNotFoundException"
