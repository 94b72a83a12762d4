"""SQS queues: boto3 (JSON protocol) against a running cloudlet.

Each test gets a fresh account (a 12-digit access key is that account's root), so tests
sharing the session's server never see each other's queues. Timed effects move the
cloudlet clock (``cloud.advance``); nothing here sleeps.
"""

from __future__ import annotations

import itertools
import json
import os

import pytest
from botocore.exceptions import ClientError

_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def fresh_account() -> str:
    return f"7{next(_accounts) % 10**11:011d}"


def new_client(cloud):
    """An SQS client in an account of its own."""
    return cloud.client("sqs", key=fresh_account())


@pytest.fixture
def sqs(cloud):
    return new_client(cloud)


def error(call, *args, **kwargs) -> dict:
    """The error boto3 reports: ``Error`` plus the HTTP status."""
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    err = dict(exc.value.response["Error"])
    err["Status"] = exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return err


def attrs(sqs, url: str, *names: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names or ["All"]))["Attributes"]


# create, find, list ---------------------------------------------------------------------------


def test_queue_url_routes_back_to_cloudlet_and_names_account_and_queue(cloud, sqs):
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    account = url.rsplit("/", 2)[1]
    assert url == f"{cloud.endpoint}/{account}/orders"
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url
    assert attrs(sqs, url, "QueueArn")["QueueArn"] == f"arn:aws:sqs:us-east-1:{account}:orders"


def test_any_url_with_the_account_and_name_path_is_accepted(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    account = url.rsplit("/", 2)[1]
    aws_form = f"https://sqs.us-east-1.amazonaws.com/{account}/q"
    sqs.send_message(QueueUrl=aws_form, MessageBody="hi")
    assert attrs(sqs, url, "ApproximateNumberOfMessages") == {"ApproximateNumberOfMessages": "1"}


def test_creating_again_with_the_same_attributes_returns_the_url(sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    assert sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "60"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName="q")["QueueUrl"] == url  # no attributes named: nothing differs
    err = error(sqs.create_queue, QueueName="q", Attributes={"VisibilityTimeout": "61"})
    assert err["Code"] == "QueueAlreadyExists" and err["QueryErrorCode"] == "QueueNameExists"
    assert "VisibilityTimeout" in err["Message"] and err["Status"] == 400


def test_modeled_errors_keep_their_exception_class_and_report_the_legacy_code(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as exc:
        sqs.get_queue_url(QueueName="missing")
    e = exc.value.response["Error"]
    assert (e["Code"], e["QueryErrorCode"], e["Type"]) == (
        "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "Sender"
    )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    "name, attributes",
    [
        ("has.dot", {}),
        ("x" * 81, {}),
        ("", {}),
        ("plain", {"FifoQueue": "true"}),  # a FIFO queue's name must end in .fifo
        ("ends.fifo", {}),  # and a standard queue's must not
        ("y" * 76 + ".fifo", {"FifoQueue": "true"}),
    ],
)
def test_bad_queue_names_are_refused(sqs, name, attributes):
    err = error(sqs.create_queue, QueueName=name, Attributes=attributes)
    assert err["Code"] in ("InvalidParameterValue", "MissingParameter")


@pytest.mark.parametrize(
    "attribute, value, code",
    [
        ("VisibilityTimeout", "43201", "InvalidAttributeValue"),
        ("VisibilityTimeout", "soon", "InvalidAttributeValue"),
        ("DelaySeconds", "901", "InvalidAttributeValue"),
        ("MessageRetentionPeriod", "59", "InvalidAttributeValue"),
        ("MaximumMessageSize", "1048577", "InvalidAttributeValue"),
        ("ReceiveMessageWaitTimeSeconds", "21", "InvalidAttributeValue"),
        ("Policy", "{not json", "InvalidAttributeValue"),
        ("Color", "blue", "InvalidAttributeName"),
        ("QueueArn", "arn:aws:sqs:us-east-1:1:x", "InvalidAttributeName"),  # read-only
        ("ContentBasedDeduplication", "true", "InvalidAttributeName"),  # FIFO only
        ("FifoQueue", "false", "InvalidAttributeName"),  # even "false", on a standard queue (as AWS answers)
    ],
)
def test_attribute_values_are_checked(sqs, attribute, value, code):
    assert error(sqs.create_queue, QueueName="q", Attributes={attribute: value})["Code"] == code
    url = sqs.create_queue(QueueName="ok")["QueueUrl"]
    assert error(sqs.set_queue_attributes, QueueUrl=url, Attributes={attribute: value})["Code"] == code


def test_all_attributes_of_a_new_standard_queue(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    a = attrs(sqs, url)
    created = int(a.pop("CreatedTimestamp"))
    assert int(a.pop("LastModifiedTimestamp")) == created
    assert a.pop("QueueArn").endswith(":q")
    assert a == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "VisibilityTimeout": "30",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "true",
    }
    cloud.advance(10)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5", "KmsMasterKeyId": "alias/aws/sqs"})
    after = attrs(sqs, url)
    assert int(after["LastModifiedTimestamp"]) >= created + 10 and after["CreatedTimestamp"] == str(created)
    assert (after["VisibilityTimeout"], after["KmsMasterKeyId"], after["KmsDataKeyReusePeriodSeconds"]) == (
        "5", "alias/aws/sqs", "300"
    )
    assert after["SqsManagedSseEnabled"] == "false"  # one kind of server-side encryption at a time


def test_attribute_names_are_checked_and_none_asked_returns_none(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    assert error(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["Bogus"])["Code"] == "InvalidAttributeName"


def test_list_queues_by_prefix_and_in_pages(sqs):
    assert "QueueUrls" not in sqs.list_queues()
    for name in ("a1", "a2", "a3", "b1"):
        sqs.create_queue(QueueName=name)
    assert [u.rsplit("/", 1)[1] for u in sqs.list_queues(QueueNamePrefix="a")["QueueUrls"]] == ["a1", "a2", "a3"]
    first = sqs.list_queues(MaxResults=2)
    assert [u.rsplit("/", 1)[1] for u in first["QueueUrls"]] == ["a1", "a2"]
    rest = sqs.list_queues(MaxResults=2, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in rest["QueueUrls"]] == ["a3", "b1"] and "NextToken" not in rest
    assert "NextToken" not in sqs.list_queues()
    assert error(sqs.list_queues, NextToken="garbage!")["Code"] == "InvalidParameterValue"


def test_deleted_queue_is_gone_and_its_name_waits_60_seconds(cloud, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    err = error(sqs.create_queue, QueueName="q")
    assert err["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    assert err["QueryErrorCode"] == "QueueDeletedRecently"
    cloud.advance(61)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # nothing of the old queue survives


def test_a_malformed_queue_url_is_invalid_address(sqs):
    err = error(sqs.send_message, QueueUrl="not-a-url", MessageBody="x")
    assert (err["Code"], err["Status"]) == ("InvalidAddress", 404)


def test_accounts_and_regions_are_isolated(cloud):
    key = fresh_account()
    east, west = cloud.client("sqs", key=key), cloud.client("sqs", key=key, region="us-west-2")
    other = cloud.client("sqs", key=fresh_account())
    url = east.create_queue(QueueName="q")["QueueUrl"]
    with pytest.raises(west.exceptions.QueueDoesNotExist):
        west.get_queue_url(QueueName="q")
    with pytest.raises(other.exceptions.QueueDoesNotExist):
        other.send_message(QueueUrl=url, MessageBody="x")  # another account's queue, no policy


def test_another_account_gets_in_once_the_queue_policy_lets_it(cloud):
    owner, guest_key = cloud.client("sqs", key=fresh_account()), fresh_account()
    guest = cloud.client("sqs", key=guest_key)
    url = owner.create_queue(QueueName="shared")["QueueUrl"]
    owner_account = url.rsplit("/", 2)[1]
    with pytest.raises(guest.exceptions.QueueDoesNotExist):
        guest.get_queue_url(QueueName="shared", QueueOwnerAWSAccountId=owner_account)
    owner.add_permission(QueueUrl=url, Label="guest", AWSAccountIds=[guest_key], Actions=["SendMessage", "GetQueueUrl"])
    assert guest.get_queue_url(QueueName="shared", QueueOwnerAWSAccountId=owner_account)["QueueUrl"] == url
    guest.send_message(QueueUrl=url, MessageBody="from a friend")
    with pytest.raises(guest.exceptions.QueueDoesNotExist):
        guest.receive_message(QueueUrl=url)  # not granted
    owner.add_permission(QueueUrl=url, Label="all", AWSAccountIds=[guest_key], Actions=["*"])
    with pytest.raises(guest.exceptions.QueueDoesNotExist):
        guest.delete_queue(QueueUrl=url)  # never another account's, whatever the policy says
    (msg,) = owner.receive_message(QueueUrl=url, MessageSystemAttributeNames=["SenderId"])["Messages"]
    assert msg["Body"] == "from a friend" and msg["Attributes"]["SenderId"] == guest_key


# permissions and tags -----------------------------------------------------------------------


def test_add_and_remove_permission_edit_the_policy_document(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = attrs(sqs, url, "QueueArn")["QueueArn"]
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    sqs.add_permission(
        QueueUrl=url, Label="two", AWSAccountIds=["111111111111", "222222222222"], Actions=["ReceiveMessage", "*"]
    )
    policy = json.loads(attrs(sqs, url, "Policy")["Policy"])
    assert policy["Version"] == "2012-10-17" and policy["Id"] == f"{arn}/SQSDefaultPolicy"
    assert policy["Statement"] == [
        {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": "SQS:SendMessage", "Resource": arn},
        {"Sid": "two", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
         "Action": ["SQS:ReceiveMessage", "SQS:*"], "Resource": arn},
    ]
    err = error(sqs.add_permission, QueueUrl=url, Label="one", AWSAccountIds=["1"], Actions=["SendMessage"])
    assert err["Code"] == "InvalidParameterValue" and "Already exists" in err["Message"]
    assert error(sqs.remove_permission, QueueUrl=url, Label="nope")["Code"] == "InvalidParameterValue"
    sqs.remove_permission(QueueUrl=url, Label="one")
    assert [s["Sid"] for s in json.loads(attrs(sqs, url, "Policy")["Policy"])["Statement"]] == ["two"]
    sqs.remove_permission(QueueUrl=url, Label="two")
    assert "Policy" not in attrs(sqs, url)


def test_permission_limits(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    eight = ["SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
             "GetQueueUrl", "PurgeQueue", "ListDeadLetterSourceQueues"]
    err = error(sqs.add_permission, QueueUrl=url, Label="l", AWSAccountIds=["111111111111"], Actions=eight)
    assert (err["Code"], err["Status"]) == ("OverLimit", 403)
    for owner_only in ("CreateQueue", "TagQueue"):
        err = error(sqs.add_permission, QueueUrl=url, Label="l", AWSAccountIds=["111111111111"], Actions=[owner_only])
        assert err["Code"] == "InvalidParameterValue"


def test_tags_on_create_and_after(sqs):
    url = sqs.create_queue(QueueName="q", tags={"team": "a", "env": "dev"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost": "7"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod", "cost": "7"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env", "cost"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    err = error(sqs.tag_queue, QueueUrl=url, Tags={f"k{i}": "v" for i in range(51)})
    assert err["Code"] == "InvalidParameterValue"
