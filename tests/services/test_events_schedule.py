"""Scheduled rules on the cloudlet clock: rate and cron rules fire when the clock moves,
once per missed firing, each event stamped with its own time. Nothing here sleeps."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.cloud import Cloud
from tests.services.test_events import Account


@pytest.fixture
def acct(cloud):
    """An account whose scheduled rules are removed afterwards, so later clock jumps in
    the session do not keep firing them."""
    a = Account(cloud)
    yield a
    for rule in a.events.list_rules()["Rules"]:
        ids = [t["Id"] for t in a.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
        if ids:
            a.events.remove_targets(Rule=rule["Name"], Ids=ids)
        a.events.delete_rule(Name=rule["Name"])


def scheduled(acct: Account, name: str, expression: str, **rule) -> tuple[str, str]:
    url, arn = acct.queue(name)
    rule_arn = acct.events.put_rule(Name=name, ScheduleExpression=expression, **rule)["RuleArn"]
    acct.events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    return url, rule_arn


def times(bodies: list[dict]) -> list[dt.datetime]:
    return sorted(dt.datetime.strptime(b["time"], "%Y-%m-%dT%H:%M:%SZ") for b in bodies)


def test_a_rate_rule_fires_once_per_period_each_with_its_own_time(cloud, acct):
    url, rule_arn = scheduled(acct, "daily", "rate(1 day)")
    assert acct.receive(url) == []
    cloud.advance(days=3)
    bodies = acct.bodies(url)
    assert len(bodies) == 3
    for b in bodies:
        assert (b["source"], b["detail-type"], b["resources"], b["detail"], b["account"]) == (
            "aws.events", "Scheduled Event", [rule_arn], {}, acct.id)
    got = times(bodies)
    assert [later - earlier for earlier, later in zip(got, got[1:])] == [dt.timedelta(days=1)] * 2
    assert len({b["id"] for b in bodies}) == 3


def test_a_disabled_rule_does_not_fire_and_enabling_starts_it_again(cloud, acct):
    url, _ = scheduled(acct, "hourly", "rate(1 hour)", State="DISABLED")
    cloud.advance(3 * 3600)
    assert acct.receive(url) == []
    acct.events.enable_rule(Name="hourly")
    cloud.advance(2 * 3600 + 60)
    assert len(acct.receive(url)) == 2
    acct.events.disable_rule(Name="hourly")
    cloud.advance(3 * 3600)
    assert acct.receive(url) == []


def test_a_cron_rule_fires_at_its_minutes_in_utc(cloud, acct):
    url, _ = scheduled(acct, "half-hourly", "cron(0/30 * * * ? *)")
    cloud.advance(2 * 3600)
    got = times(acct.bodies(url))
    assert len(got) == 4
    assert {(t.minute, t.second) for t in got} <= {(0, 0), (30, 0)}
    assert [later - earlier for earlier, later in zip(got, got[1:])] == [dt.timedelta(minutes=30)] * 3


def test_a_daily_cron_rule_over_several_days(cloud, acct):
    url, _ = scheduled(acct, "noon", "cron(0 12 * * ? *)")
    cloud.advance(days=2)
    got = times(acct.bodies(url))
    assert len(got) == 2 and all((t.hour, t.minute, t.second) == (12, 0, 0) for t in got)
    assert got[1] - got[0] == dt.timedelta(days=1)


def test_changing_the_schedule_replaces_it_and_deleting_the_rule_stops_it(cloud, acct):
    url, _ = scheduled(acct, "changing", "rate(1 day)")
    acct.events.put_rule(Name="changing", ScheduleExpression="rate(6 hours)")
    cloud.advance(days=1)
    assert len(acct.receive(url)) == 4
    acct.events.remove_targets(Rule="changing", Ids=["q"])
    acct.events.delete_rule(Name="changing")
    cloud.advance(days=1)
    assert acct.receive(url) == []


def test_a_scheduled_rule_with_an_input_transformer(cloud, acct):
    url, arn = acct.queue("t")
    acct.events.put_rule(Name="tick", ScheduleExpression="rate(1 day)")
    acct.events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"at": "$.time"}, "InputTemplate": '{"tick": <at>, "by": <aws.events.rule-name>}'}}])
    cloud.advance(days=1)
    (body,) = [json.loads(m["Body"]) for m in acct.receive(url)]
    assert body["by"] == "tick" and body["tick"].endswith("Z")


def test_scheduled_rules_and_archives_survive_a_restart(tmp_path):
    first = Cloud("--data-dir", str(tmp_path))
    try:
        acct = Account(first)
        url, _ = scheduled(acct, "daily", "rate(1 day)")
        acct.events.create_archive(ArchiveName="kept", EventSourceArn=f"arn:aws:events:us-east-1:{acct.id}:event-bus/default")
        acct.put({"Source": "app"})
    finally:
        first.stop()
    second = Cloud("--data-dir", str(tmp_path))
    try:
        again = Account(second, acct.id)
        second.advance(days=2)
        assert len(again.receive(url)) == 2
        assert again.events.describe_archive(ArchiveName="kept")["EventCount"] == 1
    finally:
        second.stop()
