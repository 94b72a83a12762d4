"""EventBridge's pure parts called directly: schedule expressions, input transformation,
bus policies, the PutEvents entry checks, and how delivery failures are classified."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.core import schedules as schedule
from cloudlet.services.events import delivery, envelope, policy, transform

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, 12, 0, 30, tzinfo=UTC)  # a Monday


def fires(expression: str, n: int = 3, after: dt.datetime = T0) -> list[str]:
    parsed = schedule.parse(expression)
    assert parsed is not None, expression
    out, t = [], after
    for _ in range(n):
        t = parsed.next_after(t)
        out.append(t.strftime("%Y-%m-%d %H:%M %a"))
    return out


# -- schedules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(2 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 10 * * ? *)", "cron(0/15 * * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(15 10 ? * 6L 2019-2030)",
    "cron(0 0 L * ? *)", "cron(0 0 3W * ? *)", "cron(0 9 ? * 3#2 *)", "cron(5,35 14 * * ? *)", "cron(0 0 LW * ? *)",
    "cron(0/30 20-2 ? * MON-FRI *)", "cron(0 20 * * ? 2500)",
])
def test_valid_expressions_parse(expression):
    assert schedule.parse(expression) is not None


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(1 hours)", "rate(0 minutes)", "rate(-1 days)", "rate(1.5 hours)",
    "rate(1 week)", "rate(1day)", "rate( 1 day)", "every 5 minutes", "cron(0 10 * * *)", "cron(0 10 * * ? * *)",
    "cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(60 10 * * ? *)", "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)",
    "cron(0 0 ? 13 MON *)", "cron(0 0 ? * 8 *)", "cron(0 0 ? * 3#2,5#1 *)", "cron(0 0 3#2 * ? *)", "cron(0 0 ? * 2W *)",
    "cron(0/0 * * * ? *)", "cron(0 0 * * ? 1969)", "cron(x 0 * * ? *)", "cron(0 0 * JANUARY ? *)",
])
def test_invalid_expressions_are_refused(expression):
    assert schedule.parse(expression) is None


def test_rate_fires_a_period_apart():
    rate = schedule.parse("rate(5 minutes)")
    assert isinstance(rate, schedule.Rate) and rate.seconds == 300
    assert rate.next_after(T0) == T0 + dt.timedelta(minutes=5)


def test_cron_days_and_weekdays():
    assert fires("cron(0 10 * * ? *)") == ["2024-01-02 10:00 Tue", "2024-01-03 10:00 Wed", "2024-01-04 10:00 Thu"]
    assert fires("cron(0 18 ? * MON-FRI *)", 6) == [
        "2024-01-01 18:00 Mon", "2024-01-02 18:00 Tue", "2024-01-03 18:00 Wed", "2024-01-04 18:00 Thu",
        "2024-01-05 18:00 Fri", "2024-01-08 18:00 Mon",
    ]
    assert fires("cron(0/15 * * * ? *)") == ["2024-01-01 12:15 Mon", "2024-01-01 12:30 Mon", "2024-01-01 12:45 Mon"]


def test_cron_last_nearest_weekday_and_nth():
    assert fires("cron(15 10 ? * 6L 2019-2030)") == ["2024-01-26 10:15 Fri", "2024-02-23 10:15 Fri", "2024-03-29 10:15 Fri"]
    assert fires("cron(0 0 L * ? *)") == ["2024-01-31 00:00 Wed", "2024-02-29 00:00 Thu", "2024-03-31 00:00 Sun"]
    # Feb 3 2024 is a Saturday (-> Friday 2nd), Mar 3 a Sunday (-> Monday 4th)
    assert fires("cron(0 0 3W * ? *)") == ["2024-01-03 00:00 Wed", "2024-02-02 00:00 Fri", "2024-03-04 00:00 Mon"]
    assert fires("cron(0 0 LW * ? *)") == ["2024-01-31 00:00 Wed", "2024-02-29 00:00 Thu", "2024-03-29 00:00 Fri"]
    assert fires("cron(0 9 ? * 3#2 *)") == ["2024-01-09 09:00 Tue", "2024-02-13 09:00 Tue", "2024-03-12 09:00 Tue"]
    # June 1 2024 is a Saturday: the weekday nearest is Monday 3rd (W never leaves the month)
    assert fires("cron(0 0 1W * ? *)", 1, dt.datetime(2024, 5, 15, tzinfo=UTC)) == ["2024-06-03 00:00 Mon"]
    assert fires("cron(0 0 1W * ? *)", 1, dt.datetime(2024, 8, 31, tzinfo=UTC)) == ["2024-09-02 00:00 Mon"]


def test_cron_wrapping_range_and_year_end():
    assert fires("cron(0/30 20-2 ? * MON-FRI *)", 4, dt.datetime(2024, 1, 1, 23, 40, tzinfo=UTC)) == [
        "2024-01-02 00:00 Tue", "2024-01-02 00:30 Tue", "2024-01-02 01:00 Tue", "2024-01-02 01:30 Tue",
    ]
    assert fires("cron(0 0 1 1 ? *)", 2) == ["2025-01-01 00:00 Wed", "2026-01-01 00:00 Thu"]
    assert schedule.parse("cron(0 0 1 1 ? 2020)").next_after(T0) is None  # its only year has gone by


def test_cron_is_strictly_after_and_on_whole_minutes():
    cron = schedule.parse("cron(* * * * ? *)")
    at = dt.datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert cron.next_after(at) == at + dt.timedelta(minutes=1)
    assert cron.next_after(at + dt.timedelta(seconds=59, microseconds=1)) == at + dt.timedelta(minutes=1)


# -- input transformation ----------------------------------------------------------------------

EVENT = {
    "version": "0", "id": "e-1", "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "n": 7, "tags": [{"k": "a"}, {"k": "b"}]},
}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "n": "$.detail.n"}


def fill(template: str, paths: dict[str, str] = PATHS) -> str:
    return transform.fill({"InputPathsMap": paths, "InputTemplate": template}, EVENT, "arn:rule", "example",
                          "2015-11-11T21:29:55Z")


def test_paths_select_values_indices_and_wildcards():
    assert transform.select(EVENT, "$.detail.state") == "RUNNING"
    assert transform.select(EVENT, "$.resources[0]").endswith("i-abcd1111")
    assert transform.select(EVENT, "$.detail.tags[*].k") == ["a", "b"]
    assert transform.select(EVENT, "$.detail['instance-id']") == "i-0123456789"
    assert transform.select(EVENT, "$") is EVENT
    assert transform.select(EVENT, "$.detail.missing") is transform.MISSING
    with pytest.raises(transform.PathError):
        transform.compile_path("detail.state")


def test_templates_as_aws_documents_them():
    assert fill('"instance <instance> is in <state>"') == '"instance i-0123456789 is in RUNNING"'
    assert fill("<instance> is in state <state>") == "i-0123456789 is in state RUNNING"
    assert json.loads(fill('{"instance": <instance>, "state": <state>, "n": <n>}')) == {
        "instance": "i-0123456789", "state": "RUNNING", "n": 7}
    assert json.loads(fill('{"instance": <instance>, "state": "<state>", "status": "instance \\"<instance>\\" is in <state>"}')) == {
        "instance": "i-0123456789", "state": "RUNNING", "status": 'instance "i-0123456789" is in RUNNING'}
    assert json.loads(fill('{"instance": <instance>, "state": [9, <state>, true], "Transformed": "Yes"}')) == {
        "instance": "i-0123456789", "state": [9, "RUNNING", True], "Transformed": "Yes"}


def test_predefined_variables():
    out = json.loads(fill('{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", "event": <aws.events.event>, '
                          '"full": <aws.events.event.json>, "at": <aws.events.event.ingestion-time>}', {}))
    assert out["arn"] == "arn:rule" and out["name"] == "example" and out["at"] == "2015-11-11T21:29:55Z"
    assert out["full"] == EVENT
    assert out["event"] == {k: v for k, v in EVENT.items() if k != "detail"}
    assert fill('"<aws.events.rule-name> triggered"', {}) == '"example triggered"'


def test_a_path_that_selects_nothing_defines_no_value():
    paths = {**PATHS, "gone": "$.detail.nothing"}
    assert json.loads(fill('{"a": <gone>, "b": "x<gone>y"}', paths)) == {"a": None, "b": "xy"}


def test_render_picks_input_inputpath_or_the_event():
    assert transform.render({"Input": '{"fixed": true}'}, EVENT, "a", "r", "t") == '{"fixed": true}'
    assert transform.render({"InputPath": "$.detail.state"}, EVENT, "a", "r", "t") == '"RUNNING"'
    assert json.loads(transform.render({"InputPath": "$.detail"}, EVENT, "a", "r", "t")) == EVENT["detail"]
    whole = transform.render({}, EVENT, "a", "r", "t")
    assert json.loads(whole) == EVENT and " " not in whole.split('"detail-type"')[0]  # minified


def test_reserved_names_and_bad_paths_are_reported():
    assert transform.check_paths({"InputPathsMap": {"aws.events.rule-arn": "$.id"}}) == "aws.events.rule-arn"
    assert transform.check_paths({"InputPathsMap": {"x": "detail"}}) == "x"
    assert transform.check_paths({"InputPathsMap": {"x": "$.detail.a-b[3]"}}) is None


# -- bus policies ------------------------------------------------------------------------------

BUS = "arn:aws:events:us-east-1:222222222222:event-bus/shared"


def test_put_permission_statements_allow_the_named_account_only():
    doc = json.dumps({"Statement": [policy.statement("a", "111111111111", BUS, "aws", None)]})
    assert policy.allows(doc, "111111111111", "arn:aws:iam::111111111111:root", "events:PutEvents", BUS)
    assert not policy.allows(doc, "333333333333", "arn:aws:iam::333333333333:root", "events:PutEvents", BUS)
    assert not policy.allows(doc, "111111111111", "x", "events:PutEvents", BUS.replace("shared", "other"))
    assert not policy.allows(None, "111111111111", "x", "events:PutEvents", BUS)


def test_policy_wildcards_deny_and_conditions():
    everyone = {"Effect": "Allow", "Principal": "*", "Action": "events:*", "Resource": "arn:aws:events:*:222222222222:event-bus/*"}
    deny = {"Effect": "Deny", "Principal": {"AWS": ["333333333333"]}, "Action": "events:PutEvents", "Resource": BUS}
    doc = json.dumps({"Statement": [everyone, deny]})
    assert policy.allows(doc, "111111111111", "x", "events:PutEvents", BUS)
    assert not policy.allows(doc, "333333333333", "x", "events:PutEvents", BUS)
    org = policy.statement("org", "*", BUS, "aws", {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"})
    assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}
    assert not policy.allows(json.dumps({"Statement": [org]}), "111111111111", "x", "events:PutEvents", BUS)
    by_account = {**everyone, "Condition": {"StringEquals": {"aws:PrincipalAccount": "111111111111"}}}
    assert policy.allows(json.dumps({"Statement": by_account}), "111111111111", "x", "events:PutEvents", BUS)
    assert not policy.allows(json.dumps({"Statement": by_account}), "444444444444", "x", "events:PutEvents", BUS)


# -- entries and failures ----------------------------------------------------------------------


def test_entry_checks_in_aws_order():
    ok = {"Source": "app", "DetailType": "t", "Detail": "{}"}
    assert envelope.check(ok, service_caller=False) is None
    assert envelope.check({"DetailType": "t"}, service_caller=False)[1] == (
        "Parameter Source is not valid. Reason: Source is a required argument.")
    assert envelope.check({**ok, "Detail": "[1]"}, service_caller=False) == ("MalformedDetail", "Detail is malformed.")
    assert envelope.check({**ok, "Detail": "{"}, service_caller=False)[0] == "MalformedDetail"
    assert envelope.check({**ok, "Source": "aws.s3"}, service_caller=False)[0] == "NotAuthorizedForSourceException"
    assert envelope.check({**ok, "Source": "aws.s3"}, service_caller=True) is None


def test_entry_size_counts_as_aws_documents():
    entry = {"Source": "ab", "DetailType": "cd", "Detail": "{}", "Resources": ["xyz"], "Time": T0}
    assert envelope.size(entry) == 14 + 2 + 2 + 2 + 3
    assert envelope.too_large([{"Source": "s", "DetailType": "t", "Detail": "x" * 256 * 1024}])


def test_failures_are_classified_for_the_dead_letter_queue():
    assert delivery.classify(ServiceError("QueueDoesNotExist", "gone")) == delivery.Failure("NO_RESOURCE", "gone", False)
    assert delivery.classify(ServiceError("AccessDenied", "no", 403)).code == "NO_PERMISSIONS"
    assert delivery.classify(ServiceError("ThrottlingException", "slow")).retryable
    assert delivery.classify(ServiceError("InternalError", "oops", 500)) == delivery.Failure("INTERNAL_ERROR", "oops", True)
    assert not delivery.classify(ServiceError("NotImplemented", "later", 501)).retryable
    assert delivery.classify(ServiceError("InvalidParameterValue", "bad")).code == "INVALID_PARAMETER"


def test_backoff_grows_with_jitter_and_is_capped():
    for n in range(12):
        wait = delivery.backoff(n)
        assert min(480.0, 2.0 ** n) / 2 <= wait <= min(480.0, 2.0 ** n)
    assert delivery.backoff(500) <= delivery.BACKOFF_CAP_S
