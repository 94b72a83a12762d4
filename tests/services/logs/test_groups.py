"""Log groups and streams over HTTP with boto3: life cycle, describe/paging, tags, errors."""

from __future__ import annotations

import pytest

from tests.services.logs.helpers import error, logs_client


@pytest.fixture
def logs(cloud):
    return logs_client(cloud)


def account_of(logs) -> str:
    return logs._request_signer._credentials.access_key


def test_create_describe_delete_group(logs):
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    [g] = logs.describe_log_groups()["logGroups"]
    acct = account_of(logs)
    assert g["logGroupName"] == "/aws/lambda/orders"
    assert g["arn"] == f"arn:aws:logs:us-east-1:{acct}:log-group:/aws/lambda/orders:*"
    assert g["logGroupArn"] == f"arn:aws:logs:us-east-1:{acct}:log-group:/aws/lambda/orders"
    assert g["metricFilterCount"] == 0 and g["storedBytes"] == 0 and g["logGroupClass"] == "STANDARD"
    assert g["creationTime"] > 1_600_000_000_000 and "retentionInDays" not in g
    logs.delete_log_group(logGroupName="/aws/lambda/orders")
    assert logs.describe_log_groups()["logGroups"] == []


def test_group_errors(logs):
    logs.create_log_group(logGroupName="g")
    assert error(logs.create_log_group, logGroupName="g") == {
        "Code": "ResourceAlreadyExistsException", "Message": "The specified log group already exists", "Status": 400}
    err = error(logs.create_log_group, logGroupName="has space")
    assert err["Code"] == "InvalidParameterException" and "regular expression pattern" in err["Message"]
    assert error(logs.create_log_group, logGroupName="x" * 513)["Code"] == "InvalidParameterException"
    err = error(logs.create_log_group, logGroupName="c", logGroupClass="GLACIER")
    assert err["Message"] == ("1 validation error detected: Value 'GLACIER' at 'logGroupClass' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]")
    logs.create_log_group(logGroupName="ia", logGroupClass="INFREQUENT_ACCESS")
    [ia] = logs.describe_log_groups(logGroupClass="INFREQUENT_ACCESS")["logGroups"]
    assert ia["logGroupName"] == "ia" and ia["logGroupClass"] == "INFREQUENT_ACCESS"
    assert error(logs.delete_log_group, logGroupName="nope") == {
        "Code": "ResourceNotFoundException", "Message": "The specified log group does not exist.", "Status": 400}
    assert error(logs.create_log_stream, logGroupName="nope", logStreamName="s")["Code"] == "ResourceNotFoundException"


def test_describe_groups_prefix_pattern_and_paging(logs):
    names = [f"/app/{i:02d}" for i in range(7)] + ["/other/a", "/other/b-app"]
    for n in names:
        logs.create_log_group(logGroupName=n)
    got = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"]]
    assert got == names[:7]
    pattern = logs.describe_log_groups(logGroupNamePattern="app")["logGroups"]
    assert [g["logGroupName"] for g in pattern] == names[:7] + ["/other/b-app"]
    assert set(pattern[0]) == {"logGroupName", "creationTime", "arn"}  # AWS's short form for patterns
    pages = logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 3})
    sizes, seen = [], []
    for page in pages:
        sizes.append(len(page["logGroups"]))
        seen += [g["logGroupName"] for g in page["logGroups"]]
    assert seen == sorted(names) and sizes == [3, 3, 3]
    err = error(logs.describe_log_groups, logGroupNamePrefix="/a", logGroupNamePattern="a")
    assert err["Code"] == "InvalidParameterException"
    assert error(logs.describe_log_groups, nextToken="garbage!")["Code"] == "InvalidParameterException"


def test_retention_policy_values(logs):
    logs.create_log_group(logGroupName="r")
    logs.put_retention_policy(logGroupName="r", retentionInDays=30)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 30
    err = error(logs.put_retention_policy, logGroupName="r", retentionInDays=2)
    assert err["Code"] == "InvalidParameterException"
    assert "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30" in err["Message"]
    logs.delete_retention_policy(logGroupName="r")
    assert "retentionInDays" not in logs.describe_log_groups()["logGroups"][0]
    assert error(logs.put_retention_policy, logGroupName="nope", retentionInDays=1)["Code"] == "ResourceNotFoundException"


def test_tags_both_apis(logs):
    logs.create_log_group(logGroupName="t", tags={"team": "a"})
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a"}
    logs.tag_resource(resourceArn=arn, tags={"env": "prod"})
    logs.tag_log_group(logGroupName="t", tags={"cost": "1"})
    assert logs.list_tags_log_group(logGroupName="t")["tags"] == {"team": "a", "env": "prod", "cost": "1"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    logs.untag_log_group(logGroupName="t", tags=["cost"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}
    missing = arn.replace(":log-group:t", ":log-group:missing")
    assert error(logs.list_tags_for_resource, resourceArn=missing)["Code"] == "ResourceNotFoundException"
    many = {f"k{i}": "v" for i in range(50)}
    assert error(logs.tag_resource, resourceArn=arn, tags=many)["Code"] == "TooManyTagsException"


def test_streams_describe_order_and_paging(logs, cloud):
    from tests.services.logs.helpers import server_ms

    logs.create_log_group(logGroupName="s")
    for name in ["b", "a", "d", "c"]:
        logs.create_log_stream(logGroupName="s", logStreamName=name)
    assert error(logs.create_log_stream, logGroupName="s", logStreamName="a") == {
        "Code": "ResourceAlreadyExistsException", "Message": "The specified log stream already exists", "Status": 400}
    now = server_ms(cloud)
    for offset, name in [(3, "a"), (1, "d"), (2, "b")]:
        logs.put_log_events(logGroupName="s", logStreamName=name, logEvents=[{"timestamp": now - 1000 + offset, "message": name}])

    def names(**kw):
        return [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="s", **kw)["logStreams"]]

    assert names() == ["a", "b", "c", "d"]
    assert names(descending=True) == ["d", "c", "b", "a"]
    assert names(orderBy="LastEventTime") == ["c", "d", "b", "a"]
    assert names(orderBy="LastEventTime", descending=True) == ["a", "b", "d", "c"]
    assert names(logStreamNamePrefix="c") == ["c"]
    pages = logs.get_paginator("describe_log_streams").paginate(
        logGroupName="s", orderBy="LastEventTime", descending=True, PaginationConfig={"PageSize": 3})
    assert [s["logStreamName"] for p in pages for s in p["logStreams"]] == ["a", "b", "d", "c"]
    a = logs.describe_log_streams(logGroupName="s", logStreamNamePrefix="a")["logStreams"][0]
    assert a["firstEventTimestamp"] == a["lastEventTimestamp"] == now - 997
    assert a["lastIngestionTime"] >= now and a["storedBytes"] == 0
    assert a["arn"].endswith(":log-group:s:log-stream:a")
    err = error(logs.describe_log_streams, logGroupName="s", orderBy="LastEventTime", logStreamNamePrefix="a")
    assert err["Code"] == "InvalidParameterException"
    assert error(logs.describe_log_streams, logGroupName="s", orderBy="Size")["Code"] == "InvalidParameterException"
    logs.delete_log_stream(logGroupName="s", logStreamName="a")
    assert names() == ["b", "c", "d"]
    assert error(logs.delete_log_stream, logGroupName="s", logStreamName="a")["Message"] == (
        "The specified log stream does not exist.")


def test_log_group_identifier_accepts_name_or_arn(logs):
    logs.create_log_group(logGroupName="ident")
    logs.create_log_stream(logGroupName="ident", logStreamName="x")
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    for ident in ("ident", arn):
        assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupIdentifier=ident)["logStreams"]] == ["x"]
    err = error(logs.describe_log_streams, logGroupName="ident", logGroupIdentifier=arn)
    assert err["Code"] == "InvalidParameterException"


def test_deleting_a_group_removes_its_streams_and_events(logs, cloud):
    from tests.services.logs.helpers import server_ms

    logs.create_log_group(logGroupName="gone")
    logs.create_log_stream(logGroupName="gone", logStreamName="s")
    logs.put_log_events(logGroupName="gone", logStreamName="s", logEvents=[{"timestamp": server_ms(cloud), "message": "old"}])
    logs.delete_log_group(logGroupName="gone")
    logs.create_log_group(logGroupName="gone")
    logs.create_log_stream(logGroupName="gone", logStreamName="s")
    assert logs.get_log_events(logGroupName="gone", logStreamName="s")["events"] == []
    assert logs.filter_log_events(logGroupName="gone")["events"] == []


def test_deletion_protection(logs):
    logs.create_log_group(logGroupName="keep", deletionProtectionEnabled=True)
    assert logs.describe_log_groups()["logGroups"][0]["deletionProtectionEnabled"] is True
    assert error(logs.delete_log_group, logGroupName="keep")["Code"] == "ValidationException"
    logs.put_log_group_deletion_protection(logGroupIdentifier="keep", deletionProtectionEnabled=False)
    logs.delete_log_group(logGroupName="keep")
    assert logs.describe_log_groups()["logGroups"] == []


def test_list_log_groups_patterns_tags_and_paging(logs):
    for name, tags in [("/aws/lambda/a", {"team": "x"}), ("/aws/lambda/b", {"team": "y"}),
                       ("/svc/discovery", {}), ("/svc/other", {"team": "x"})]:
        logs.create_log_group(logGroupName=name, **({"tags": tags} if tags else {}))

    def names(**kw):
        return [g["logGroupName"] for g in logs.list_log_groups(**kw)["logGroups"]]

    assert names(logGroupNamePattern="^/aws/lambda|discovery") == ["/aws/lambda/a", "/aws/lambda/b", "/svc/discovery"]
    assert names(logGroupNamePattern="^lambda") == []
    assert names(logGroupTags=[{"key": "team", "values": ["x"]}]) == ["/aws/lambda/a", "/svc/other"]
    assert names(logGroupTags=[{"key": "team"}]) == ["/aws/lambda/a", "/aws/lambda/b", "/svc/other"]
    first = logs.list_log_groups(limit=3)
    assert len(first["logGroups"]) == 3 and set(first["logGroups"][0]) == {"logGroupName", "logGroupArn", "logGroupClass"}
    rest = logs.list_log_groups(limit=3, nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == ["/svc/other"] and "nextToken" not in rest
