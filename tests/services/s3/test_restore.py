"""RestoreObject over HTTP, on the cloudlet clock: an archived version refuses GET until its
restore's tier has had its time, stays readable until the requested days are up, then
refuses again; with S3's statuses (202, 200, 409, 403) and its ObjectRestore events."""

from __future__ import annotations

import email.utils
import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.s3util import new_bucket

HOUR = 3600


def readable(s3: Any, name: str, key: str, **kw: Any) -> bool:
    try:
        s3.get_object(Bucket=name, Key=key, **kw)["Body"].read()
        return True
    except ClientError as err:
        assert err.response["Error"]["Code"] == "InvalidObjectState"
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        return False


def restore(s3: Any, name: str, key: str, days: int = 1, tier: str = "Standard", **kw: Any) -> int:
    out = s3.restore_object(Bucket=name, Key=key, RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": tier}},
                            **kw)
    return out["ResponseMetadata"]["HTTPStatusCode"]


def expiry_of(head: dict[str, Any]) -> float:
    header = head["Restore"]
    assert header.startswith('ongoing-request="false", expiry-date="')
    return email.utils.parsedate_to_datetime(header.split('expiry-date="')[1].rstrip('"')).timestamp()


def test_glacier_restore_standard_tier_on_the_clock(cloud: Any, s3: Any) -> None:
    name = new_bucket(s3, "restore")
    s3.put_object(Bucket=name, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    head = s3.head_object(Bucket=name, Key="cold")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    assert not readable(s3, name, "cold")
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "cold"})
    assert err.value.response["Error"]["Code"] == "InvalidObjectState"

    assert restore(s3, name, "cold", days=2) == 202
    assert s3.head_object(Bucket=name, Key="cold")["Restore"] == 'ongoing-request="true"'
    listed = s3.list_objects_v2(Bucket=name, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert listed["RestoreStatus"] == {"IsRestoreInProgress": True}
    assert "RestoreStatus" not in s3.list_objects_v2(Bucket=name)["Contents"][0]  # only when asked for
    with pytest.raises(ClientError) as err:
        restore(s3, name, "cold")
    assert err.value.response["Error"]["Code"] == "RestoreAlreadyInProgress"
    assert err.value.response["Error"]["Message"] == "Object restore is already in progress"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    cloud.advance(60)
    assert not readable(s3, name, "cold")  # Standard takes hours, not a minute
    cloud.advance(5 * HOUR)
    assert s3.get_object(Bucket=name, Key="cold")["Body"].read() == b"frozen"
    head = s3.head_object(Bucket=name, Key="cold")
    assert head["StorageClass"] == "GLACIER"  # the archive stays; the copy is temporary
    expiry = expiry_of(head)
    assert expiry % 86400 == 0  # rounded up to a midnight UTC
    s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "cold"})
    assert s3.head_object(Bucket=name, Key="copy").get("StorageClass") is None  # STANDARD

    cloud.advance(days=3)
    assert not readable(s3, name, "cold")
    assert "Restore" not in s3.head_object(Bucket=name, Key="cold")


def test_asking_again_once_restored_moves_the_expiry(cloud: Any, s3: Any) -> None:
    name = new_bucket(s3, "restore")
    s3.put_object(Bucket=name, Key="cold", Body=b"x", StorageClass="GLACIER")
    assert restore(s3, name, "cold", days=1, tier="Expedited") == 202
    cloud.advance(5 * 60)
    first = expiry_of(s3.head_object(Bucket=name, Key="cold"))
    assert restore(s3, name, "cold", days=10) == 200
    second = expiry_of(s3.head_object(Bucket=name, Key="cold"))
    assert second >= first + 8 * 86400
    cloud.advance(days=3)  # past the first expiry: the old job must not take the copy away
    assert readable(s3, name, "cold")
    cloud.advance(days=9)
    assert not readable(s3, name, "cold")


def test_deep_archive_tiers_and_versions(cloud: Any, s3: Any) -> None:
    name = new_bucket(s3, "restore", "Enabled")
    old = s3.put_object(Bucket=name, Key="k", Body=b"old", StorageClass="DEEP_ARCHIVE")["VersionId"]
    s3.put_object(Bucket=name, Key="k", Body=b"new")
    with pytest.raises(ClientError) as err:
        restore(s3, name, "k", tier="Expedited", VersionId=old)
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as err:
        restore(s3, name, "k")  # the current version is STANDARD
    assert err.value.response["Error"]["Code"] == "InvalidObjectState"
    assert err.value.response["Error"]["Message"] == "Restore is not allowed for the object's current storage class"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    tiered = s3.put_object(Bucket=name, Key="k", Body=b"t", StorageClass="INTELLIGENT_TIERING")["VersionId"]
    with pytest.raises(ClientError) as err:
        restore(s3, name, "k", VersionId=tiered)
    assert err.value.response["Error"]["Code"] == "ObjectAlreadyInActiveTierError"
    assert restore(s3, name, "k", tier="Standard", VersionId=old) == 202
    cloud.advance(11 * HOUR)
    assert not readable(s3, name, "k", VersionId=old)  # DEEP_ARCHIVE Standard: up to 12 hours
    cloud.advance(HOUR)
    assert readable(s3, name, "k", VersionId=old)


def test_restore_of_a_delete_marker_or_missing_key(s3: Any) -> None:
    name = new_bucket(s3, "restore", "Enabled")
    with pytest.raises(ClientError) as err:
        restore(s3, name, "missing")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"
    s3.put_object(Bucket=name, Key="k", Body=b"x", StorageClass="GLACIER")
    s3.delete_object(Bucket=name, Key="k")
    with pytest.raises(ClientError) as err:
        restore(s3, name, "k")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"


def test_restore_events_reach_a_queue(cloud: Any, s3: Any) -> None:
    sqs = cloud.client("sqs")
    name = new_bucket(s3, "restore")
    url = sqs.create_queue(QueueName=f"restore-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectRestore:*"]}]})
    except ClientError as err:
        if err.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("PutBucketNotificationConfiguration is not there yet")
        raise
    s3.put_object(Bucket=name, Key="cold", Body=b"x", StorageClass="GLACIER")
    restore(s3, name, "cold", days=1, tier="Expedited")
    cloud.advance(10 * 60)
    cloud.advance(days=2)
    records = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        for m in got:
            records += [r for r in json.loads(m["Body"]).get("Records", [])]
    by_name = {r["eventName"]: r for r in records}
    assert sorted(by_name) == ["ObjectRestore:Completed", "ObjectRestore:Delete", "ObjectRestore:Post"]
    assert by_name["ObjectRestore:Post"]["userIdentity"]["principalId"] != "s3.amazonaws.com"  # the requester
    assert by_name["ObjectRestore:Completed"]["userIdentity"]["principalId"] == "s3.amazonaws.com"
    data = by_name["ObjectRestore:Completed"]["glacierEventData"]["restoreEventData"]
    assert data["lifecycleRestoreStorageClass"] == "GLACIER"
    assert data["lifecycleRestorationExpiryTime"].endswith("T00:00:00.000Z")
