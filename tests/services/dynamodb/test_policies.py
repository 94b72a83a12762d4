"""Resource-based policies over HTTP: put, get and delete on a table's and a stream's ARN,
revision ids and ExpectedRevisionId, the document checks and the ARN errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.services.dynamodb.helpers import code, create_table, message, unique

ACCOUNT = "123456789012"


def policy(action: str = "dynamodb:GetItem", resource: str = "*", **statement) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": [action],
        "Resource": resource, **statement}]})


@pytest.fixture
def table(ddb) -> tuple[str, str, str]:
    """A table with a stream: its name, ARN and stream ARN."""
    name = unique("rp")
    d = create_table(ddb, name, stream="KEYS_ONLY")
    return name, d["TableArn"], d["LatestStreamArn"]


def test_policy_round_trip_and_revisions(ddb, table):
    name, arn, _ = table
    with pytest.raises(ClientError) as exc:
        ddb.get_resource_policy(ResourceArn=arn)
    assert (code(exc), message(exc)) == ("PolicyNotFoundException",
                                         f"Resource-based policy not found for the provided ResourceArn: {arn}")
    first = ddb.put_resource_policy(ResourceArn=arn, Policy=policy())["RevisionId"]
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert got["RevisionId"] == first
    assert json.loads(got["Policy"])["Statement"][0]["Action"] == ["dynamodb:GetItem"]
    # the same policy again changes nothing; another one is a later revision
    assert ddb.put_resource_policy(ResourceArn=arn, Policy=policy())["RevisionId"] == first
    second = ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:PutItem"),
                                     ExpectedRevisionId=first)["RevisionId"]
    assert int(second) > int(first)
    with pytest.raises(ClientError) as exc:
        ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:Query"), ExpectedRevisionId=first)
    assert code(exc) == "PolicyNotFoundException"
    assert message(exc) == ("Resource-based policy not found for the provided ResourceArn: Requested update for "
                            f"policy with revision id {first}, but the policy associated to target table {name} "
                            f"has revision id {second}.")
    with pytest.raises(ClientError) as exc:
        ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:Query"), ExpectedRevisionId="NO_POLICY")
    assert message(exc) == ("Resource-based policy not found for the provided ResourceArn: Requested policy update "
                            f"expecting none to be present for table {name}, but a policy exists with revision id "
                            f"{second}.")
    with pytest.raises(ClientError) as exc:
        ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=first)
    assert code(exc) == "PolicyNotFoundException"
    assert ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=second)["RevisionId"] == second
    with pytest.raises(ClientError) as exc:
        ddb.get_resource_policy(ResourceArn=arn)
    assert code(exc) == "PolicyNotFoundException"
    with pytest.raises(ClientError) as exc:
        ddb.delete_resource_policy(ResourceArn=arn)
    assert code(exc) == "PolicyNotFoundException"
    third = ddb.put_resource_policy(ResourceArn=arn, Policy=policy(), ExpectedRevisionId="NO_POLICY")["RevisionId"]
    assert ddb.get_resource_policy(ResourceArn=arn)["RevisionId"] == third


def test_a_stream_has_its_own_policy(ddb, table):
    name, arn, stream_arn = table
    ddb.put_resource_policy(ResourceArn=stream_arn, Policy=policy("dynamodb:GetRecords", stream_arn))
    assert "GetRecords" in ddb.get_resource_policy(ResourceArn=stream_arn)["Policy"]
    with pytest.raises(ClientError) as exc:
        ddb.get_resource_policy(ResourceArn=arn)
    assert code(exc) == "PolicyNotFoundException"
    with pytest.raises(ClientError) as exc:
        ddb.get_resource_policy(ResourceArn=f"{arn}/stream/2000-01-01T00:00:00.000")
    assert (code(exc), message(exc)) == (
        "ResourceNotFoundException", f"Requested resource not found: Stream: 2000-01-01T00:00:00.000 not found for "
                                     f"Table: {name}")


def test_a_recreated_table_starts_without_its_predecessors_policy(ddb, table):
    name, arn, _ = table
    ddb.put_resource_policy(ResourceArn=arn, Policy=policy())
    ddb.delete_table(TableName=name)
    with pytest.raises(ClientError) as exc:
        ddb.get_resource_policy(ResourceArn=arn)
    assert (code(exc), message(exc)) == ("ResourceNotFoundException",
                                         f"Requested resource not found: Table: {name} not found")
    create_table(ddb, name)
    with pytest.raises(ClientError) as exc:
        ddb.get_resource_policy(ResourceArn=arn)
    assert code(exc) == "PolicyNotFoundException"


@pytest.mark.parametrize("arn_of,expected", [
    (lambda name, arn: name, "One or more parameter values were invalid: ARNs must start with 'arn:': {name}"),
    (lambda name, arn: ":".join(arn.split(":")[:4] + ["210987654321"] + arn.split(":")[5:]),
     "This action is only supported by accounts that match the resource owner\u2019s account."),
    (lambda name, arn: arn.replace("us-east-1", "eu-west-1"),
     "One or more parameter values were invalid: Invalid resource Arn: {arn_eu}"),
    (lambda name, arn: arn + "/index/by-x",
     "One or more parameter values were invalid: Invalid resource arn provided, only table or stream is accepted. "
     "Provided resource arn: {arn}/index/by-x"),
    (lambda name, arn: arn + "/backup/01234567890123-abcdefgh",
     "One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: "
     "{arn}/backup/01234567890123-abcdefgh"),
])
def test_arn_errors(ddb, table, arn_of, expected):
    name, arn, _ = table
    bad = arn_of(name, arn)
    for call in (lambda: ddb.get_resource_policy(ResourceArn=bad),
                 lambda: ddb.put_resource_policy(ResourceArn=bad, Policy=policy()),
                 lambda: ddb.delete_resource_policy(ResourceArn=bad)):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "ValidationException"
        assert message(exc) == expected.format(name=name, arn=arn, arn_eu=arn.replace("us-east-1", "eu-west-1"))


def test_missing_table(ddb, table):
    name, arn, _ = table
    with pytest.raises(ClientError) as exc:
        ddb.put_resource_policy(ResourceArn=arn + "x", Policy=policy())
    assert (code(exc), message(exc)) == ("ResourceNotFoundException",
                                         f"Requested resource not found: Table: {name}x not found")


@pytest.mark.parametrize("document,expected", [
    ("{not json", "Invalid policy document: This policy contains invalid Json"),
    (json.dumps({"Version": "2012-10-17", "Statement": []}),
     "Invalid policy document: Could not parse the policy: Statement is empty!"),
    (json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "dynamodb:GetItem"}]}),
     "Invalid policy document: Missing required field Resource"),
    (json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "a", "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "dynamodb:GetItem", "Resource": "*"},
        {"Sid": "a", "Effect": "Deny", "Principal": {"AWS": ACCOUNT}, "Action": "dynamodb:PutItem", "Resource": "*"},
    ]}), "Invalid policy document: The Statement Ids in the policy are not unique"),
])
def test_invalid_documents(ddb, table, document, expected):
    _, arn, _ = table
    with pytest.raises(ClientError) as exc:
        ddb.put_resource_policy(ResourceArn=arn, Policy=document)
    assert (code(exc), message(exc)) == ("ValidationException",
                                         "One or more parameter values were invalid: " + expected)


def test_public_and_oversized_policies_are_refused(ddb, table):
    _, arn, _ = table
    public = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"}]})
    with pytest.raises(ClientError) as exc:
        ddb.put_resource_policy(ResourceArn=arn, Policy=public)
    assert message(exc).startswith("Resource-based policy grants unbounded access")
    # a condition narrows it: allowed
    narrowed = json.loads(public)
    narrowed["Statement"][0]["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}
    ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(narrowed))
    big = policy(Sid="x" * 21000)
    with pytest.raises(ClientError) as exc:
        ddb.put_resource_policy(ResourceArn=arn, Policy=big)
    assert message(exc) == "One or more parameter values were invalid: Maximum policy size of 20480 bytes exceeded"
