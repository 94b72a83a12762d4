"""Bucket configurations over HTTP: public access block, ownership controls, logging,
request payment, acceleration, default encryption, tagging (bucket and object), and the
id-keyed inventory/metrics/analytics/Intelligent-Tiering configurations."""

from __future__ import annotations

import uuid

import pytest

from tests.s3util import new_bucket, refusal

DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": False}]}


def _out(resp: dict) -> dict:
    resp.pop("ResponseMetadata", None)
    return resp


# public access block and ownership -------------------------------------------------------
def test_public_access_block(s3):
    b = new_bucket(s3, "cfg")
    everything = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                  "RestrictPublicBuckets": True}
    assert s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"] == everything  # the default
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    assert s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"] == {
        **{k: False for k in everything}, "BlockPublicAcls": True}
    s3.delete_public_access_block(Bucket=b)
    assert refusal(s3.get_public_access_block, Bucket=b) == (
        "NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found")
    assert refusal(s3.get_public_access_block, Bucket=f"{b}-none")[:2] == ("NoSuchBucket", 404)


def test_ownership_controls(s3):
    b = new_bucket(s3, "cfg")
    rules = lambda mode: {"Rules": [{"ObjectOwnership": mode}]}  # noqa: E731
    assert s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"] == rules("BucketOwnerEnforced")
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls=rules("BucketOwnerPreferred"))
    assert s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"] == rules("BucketOwnerPreferred")
    assert refusal(s3.put_bucket_ownership_controls, Bucket=b, OwnershipControls=rules("Nobody"))[:2] == ("MalformedXML", 400)
    s3.delete_bucket_ownership_controls(Bucket=b)
    assert refusal(s3.get_bucket_ownership_controls, Bucket=b) == (
        "OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found")


# logging, request payment, acceleration ------------------------------------------------------
def test_logging(s3, cloud):
    b, target = new_bucket(s3, "cfg"), new_bucket(s3, "logs")
    assert _out(s3.get_bucket_logging(Bucket=b)) == {}
    enabled = {"TargetBucket": target, "TargetPrefix": f"{b}/"}
    s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={"LoggingEnabled": enabled})
    assert _out(s3.get_bucket_logging(Bucket=b)) == {"LoggingEnabled": enabled}
    s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={})
    assert _out(s3.get_bucket_logging(Bucket=b)) == {}
    missing = {"TargetBucket": f"{target}-none", "TargetPrefix": ""}
    assert refusal(s3.put_bucket_logging, Bucket=b, BucketLoggingStatus={"LoggingEnabled": missing}) == (
        "InvalidTargetBucketForLogging", 400, "The target bucket for logging does not exist")
    theirs = new_bucket(cloud.client("s3", key="111111111111"), "theirs")
    code, status, message = refusal(s3.put_bucket_logging, Bucket=b, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": theirs, "TargetPrefix": ""}})
    assert (code, status) == ("InvalidTargetBucketForLogging", 400) and "owner" in message
    west = cloud.client("s3", region="eu-west-1")
    far = f"far-{uuid.uuid4().hex[:12]}"
    west.create_bucket(Bucket=far, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert refusal(s3.put_bucket_logging, Bucket=b, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": far, "TargetPrefix": ""}})[:2] == ("CrossLocationLoggingProhibitted", 403)


def test_request_payment(s3):
    b = new_bucket(s3, "cfg")
    assert s3.get_bucket_request_payment(Bucket=b)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=b, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=b)["Payer"] == "Requester"
    assert refusal(s3.put_bucket_request_payment, Bucket=b,
                RequestPaymentConfiguration={"Payer": "Someone"})[:2] == ("MalformedXML", 400)


def test_accelerate(s3):
    b = new_bucket(s3, "cfg")
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=b)
    s3.put_bucket_accelerate_configuration(Bucket=b, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=b)["Status"] == "Enabled"
    s3.put_bucket_accelerate_configuration(Bucket=b, AccelerateConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_accelerate_configuration(Bucket=b)["Status"] == "Suspended"
    dotted = f"dot.{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=dotted)
    assert refusal(s3.put_bucket_accelerate_configuration, Bucket=dotted, AccelerateConfiguration={"Status": "Enabled"}) == (
        "InvalidRequest", 400, "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names")


# default encryption ----------------------------------------------------------------------
def test_encryption_defaults_to_sse_s3(s3):
    b = new_bucket(s3, "cfg")
    assert s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"] == DEFAULT_ENCRYPTION
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/k"},
                      "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=kms)
    assert s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"] == kms
    s3.delete_bucket_encryption(Bucket=b)
    assert s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"] == DEFAULT_ENCRYPTION
    bad = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]}
    assert refusal(s3.put_bucket_encryption, Bucket=b, ServerSideEncryptionConfiguration=bad)[:2] == ("InvalidArgument", 400)
    assert refusal(s3.put_bucket_encryption, Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "ROT13"}}]})[:2] == ("MalformedXML", 400)


def test_default_encryption_applies_to_new_objects(s3):
    b = new_bucket(s3, "cfg")
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    assert s3.head_object(Bucket=b, Key="k")["ServerSideEncryption"] == "AES256"


# tagging ---------------------------------------------------------------------------------
def test_bucket_tagging(s3):
    b = new_bucket(s3, "cfg")
    assert refusal(s3.get_bucket_tagging, Bucket=b) == ("NoSuchTagSet", 404, "The TagSet does not exist")
    tags = [{"Key": "team", "Value": "data"}, {"Key": "cost-centre", "Value": "42"}]
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=b)["TagSet"] == tags
    assert refusal(s3.put_bucket_tagging, Bucket=b, Tagging={"TagSet": tags + [tags[0]]}) == (
        "InvalidTag", 400, "Cannot provide multiple Tags with the same key")
    assert refusal(s3.put_bucket_tagging, Bucket=b, Tagging={"TagSet": [{"Key": "aws:x", "Value": "y"}]})[:2] == (
        "InvalidTag", 400)
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert refusal(s3.put_bucket_tagging, Bucket=b, Tagging={"TagSet": many}) == (
        "BadRequest", 400, "Bucket tag count cannot be greater than 50")
    assert s3.get_bucket_tagging(Bucket=b)["TagSet"] == tags  # refused puts changed nothing
    s3.delete_bucket_tagging(Bucket=b)
    assert refusal(s3.get_bucket_tagging, Bucket=b)[0] == "NoSuchTagSet"


def test_create_bucket_tags_are_bucket_tags(s3):
    name = f"cfg-{uuid.uuid4().hex[:12]}"
    tags = [{"Key": "made", "Value": "at-create"}]
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"Tags": tags})
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == tags


def test_object_tagging_with_versions(s3):
    b = new_bucket(s3, "cfg")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"1", Tagging="a=1")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"2")["VersionId"]
    assert s3.get_object_tagging(Bucket=b, Key="k", VersionId=v1)["TagSet"] == [{"Key": "a", "Value": "1"}]
    out = s3.put_object_tagging(Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "b", "Value": "2"}]})
    assert out["VersionId"] == v2
    got = s3.get_object_tagging(Bucket=b, Key="k")
    assert (got["VersionId"], got["TagSet"]) == (v2, [{"Key": "b", "Value": "2"}])
    assert s3.head_object(Bucket=b, Key="k")["TagCount"] == 1
    assert s3.delete_object_tagging(Bucket=b, Key="k", VersionId=v1)["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=b, Key="k", VersionId=v1)["TagSet"] == []
    assert s3.get_object_tagging(Bucket=b, Key="k")["TagSet"] == [{"Key": "b", "Value": "2"}]
    eleven = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    assert refusal(s3.put_object_tagging, Bucket=b, Key="k", Tagging={"TagSet": eleven}) == (
        "BadRequest", 400, "Object tags cannot be greater than 10")
    assert refusal(s3.put_object_tagging, Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "aws:x", "Value": "y"}]})[:2] == (
        "InvalidTag", 400)
    assert refusal(s3.get_object_tagging, Bucket=b, Key="nothing")[:2] == ("NoSuchKey", 404)
    s3.delete_object(Bucket=b, Key="k")
    assert refusal(s3.get_object_tagging, Bucket=b, Key="k")[:2] == ("NoSuchKey", 404)


def test_object_tagging_keeps_the_object(s3):
    b = new_bucket(s3, "cfg")
    s3.put_object(Bucket=b, Key="k", Body=b"body")
    before = s3.head_object(Bucket=b, Key="k")
    s3.put_object_tagging(Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})
    after = s3.head_object(Bucket=b, Key="k")
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])
    assert "VersionId" not in s3.get_object_tagging(Bucket=b, Key="k")
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"body"


# configurations by id --------------------------------------------------------------------
def _inventory(config_id: str, dest: str) -> dict:
    return {"Id": config_id, "IsEnabled": True, "IncludedObjectVersions": "Current",
            "Schedule": {"Frequency": "Weekly"}, "OptionalFields": ["Size", "ETag"],
            "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{dest}", "Format": "CSV", "Prefix": "inv"}}}


CONFIGS = {
    "inventory": ("put_bucket_inventory_configuration", "get_bucket_inventory_configuration",
                  "delete_bucket_inventory_configuration", "list_bucket_inventory_configurations",
                  "InventoryConfiguration", "InventoryConfigurationList"),
    "metrics": ("put_bucket_metrics_configuration", "get_bucket_metrics_configuration",
                "delete_bucket_metrics_configuration", "list_bucket_metrics_configurations",
                "MetricsConfiguration", "MetricsConfigurationList"),
    "analytics": ("put_bucket_analytics_configuration", "get_bucket_analytics_configuration",
                  "delete_bucket_analytics_configuration", "list_bucket_analytics_configurations",
                  "AnalyticsConfiguration", "AnalyticsConfigurationList"),
    "tiering": ("put_bucket_intelligent_tiering_configuration", "get_bucket_intelligent_tiering_configuration",
                "delete_bucket_intelligent_tiering_configuration", "list_bucket_intelligent_tiering_configurations",
                "IntelligentTieringConfiguration", "IntelligentTieringConfigurationList"),
}


def _config(family: str, config_id: str, bucket: str) -> dict:
    if family == "inventory":
        return _inventory(config_id, bucket)
    if family == "metrics":
        return {"Id": config_id, "Filter": {"Prefix": "docs/"}}
    if family == "analytics":
        return {"Id": config_id, "Filter": {"Tag": {"Key": "k", "Value": "v"}},
                "StorageClassAnalysis": {"DataExport": {"OutputSchemaVersion": "V_1", "Destination": {
                    "S3BucketDestination": {"Format": "CSV", "Bucket": f"arn:aws:s3:::{bucket}"}}}}}
    return {"Id": config_id, "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}


@pytest.mark.parametrize("family", CONFIGS)
def test_configurations_by_id(s3, family):
    put, get, delete, list_, member, list_member = (getattr(s3, n) if i < 4 else n for i, n in enumerate(CONFIGS[family]))
    b = new_bucket(s3, "cfg")
    assert refusal(get, Bucket=b, Id="a") == ("NoSuchConfiguration", 404, "The specified configuration does not exist.")
    assert refusal(delete, Bucket=b, Id="a")[:2] == ("NoSuchConfiguration", 404)
    assert _out(list_(Bucket=b)) == {"IsTruncated": False}
    for config_id in ("b", "a"):
        put(Bucket=b, Id=config_id, **{member: _config(family, config_id, b)})
    assert get(Bucket=b, Id="a")[member] == _config(family, "a", b)
    listed = list_(Bucket=b)
    assert [c["Id"] for c in listed[list_member]] == ["a", "b"] and listed["IsTruncated"] is False
    delete(Bucket=b, Id="a")
    assert [c["Id"] for c in list_(Bucket=b)[list_member]] == ["b"]


def test_configuration_listings_page_by_100(s3):
    b = new_bucket(s3, "cfg")
    for i in range(101):
        s3.put_bucket_metrics_configuration(Bucket=b, Id=f"m{i:03d}", MetricsConfiguration={"Id": f"m{i:03d}"})
    first = s3.list_bucket_metrics_configurations(Bucket=b)
    assert len(first["MetricsConfigurationList"]) == 100 and first["IsTruncated"] is True
    token = first["NextContinuationToken"]
    second = s3.list_bucket_metrics_configurations(Bucket=b, ContinuationToken=token)
    assert [c["Id"] for c in second["MetricsConfigurationList"]] == ["m100"]
    assert second["IsTruncated"] is False and second["ContinuationToken"] == token
    assert "NextContinuationToken" not in second


def test_inventory_configurations_are_checked(s3):
    b = new_bucket(s3, "cfg")
    bad = _inventory("x", b)
    bad["Destination"]["S3BucketDestination"]["Format"] = "XLS"
    assert refusal(s3.put_bucket_inventory_configuration, Bucket=b, Id="x",
                InventoryConfiguration=bad)[:2] == ("MalformedXML", 400)


def test_delete_bucket_drops_its_configurations(s3):
    b = new_bucket(s3, "cfg")
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.put_bucket_metrics_configuration(Bucket=b, Id="m", MetricsConfiguration={"Id": "m"})
    s3.delete_bucket(Bucket=b)
    s3.create_bucket(Bucket=b)
    assert refusal(s3.get_bucket_tagging, Bucket=b)[0] == "NoSuchTagSet"
    assert refusal(s3.get_bucket_metrics_configuration, Bucket=b, Id="m")[0] == "NoSuchConfiguration"
