"""On-demand backups over HTTP: a backup is the table as it was, restores rebuild its
indexes into a new table, and listing, describing and deleting answer as DynamoDB does."""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.dynamodb import backups, history, pitr, storage, tables

ARN = re.compile(r"^arn:aws:dynamodb:us-east-1:\d{12}:table/([^/]+)/backup/\d{14}-[0-9a-f]{8}$")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_table(ddb, name: str, **extra) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def item(pk: str, sk: int, g: str, v: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "g": {"S": g}, "v": {"S": v}}


def scan_all(ddb, name: str) -> dict:
    got = {}
    for it in ddb.scan(TableName=name)["Items"]:
        got[(it["pk"]["S"], it["sk"]["N"])] = it["v"]["S"]
    return got


def by_g(ddb, name: str, g: str) -> list:
    out = ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": g}})
    return sorted(i["v"]["S"] for i in out["Items"])


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def test_backup_then_modify_then_restore_gives_the_old_table(ddb):
    src, dst = unique("bk-src"), unique("bk-dst")
    make_table(ddb, src)
    for it in (item("a", 1, "red", "a1"), item("a", 2, "blue", "a2"), item("b", 1, "red", "b1")):
        ddb.put_item(TableName=src, Item=it)
    details = ddb.create_backup(TableName=src, BackupName="before")["BackupDetails"]
    assert ARN.match(details["BackupArn"]).group(1) == src
    assert (details["BackupName"], details["BackupStatus"], details["BackupType"]) == ("before", "AVAILABLE", "USER")
    assert details["BackupSizeBytes"] > 0
    arn = details["BackupArn"]

    ddb.put_item(TableName=src, Item=item("a", 1, "blue", "a1-changed"))
    ddb.delete_item(TableName=src, Key={"pk": {"S": "b"}, "sk": {"N": "1"}})
    ddb.put_item(TableName=src, Item=item("c", 9, "red", "c9"))

    desc = ddb.restore_table_from_backup(TargetTableName=dst, BackupArn=arn)["TableDescription"]
    assert desc["TableName"] == dst and desc["RestoreSummary"]["SourceBackupArn"] == arn
    assert desc["RestoreSummary"]["SourceTableArn"].endswith(f":table/{src}")
    assert [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]] == ["by-g"]
    assert scan_all(ddb, dst) == {("a", "1"): "a1", ("a", "2"): "a2", ("b", "1"): "b1"}
    assert by_g(ddb, dst, "red") == ["a1", "b1"]  # the index is rebuilt from the backed-up items
    assert by_g(ddb, dst, "blue") == ["a2"]
    assert scan_all(ddb, src) == {("a", "1"): "a1-changed", ("a", "2"): "a2", ("c", "9"): "c9"}
    # the restored table is a table of its own
    ddb.put_item(TableName=dst, Item=item("z", 1, "red", "z1"))
    assert by_g(ddb, dst, "red") == ["a1", "b1", "z1"] and by_g(ddb, src, "red") == ["c9"]


def test_describe_backup_names_the_source_table_and_its_features(ddb):
    src = unique("bk-desc")
    make_table(ddb, src)
    ddb.update_time_to_live(TableName=src, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb.put_item(TableName=src, Item=item("a", 1, "red", "x" * 100))
    table = ddb.describe_table(TableName=src)["Table"]
    arn = ddb.create_backup(TableName=table["TableArn"], BackupName="by-arn")["BackupDetails"]["BackupArn"]
    d = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    assert d["BackupDetails"]["BackupArn"] == arn and d["BackupDetails"]["BackupName"] == "by-arn"
    s = d["SourceTableDetails"]
    assert (s["TableName"], s["TableId"], s["TableArn"]) == (src, table["TableId"], table["TableArn"])
    assert (s["ItemCount"], s["BillingMode"]) == (1, "PAY_PER_REQUEST")
    assert s["TableSizeBytes"] == d["BackupDetails"]["BackupSizeBytes"] > 100
    assert s["KeySchema"] == table["KeySchema"]
    f = d["SourceTableFeatureDetails"]
    assert [g["IndexName"] for g in f["GlobalSecondaryIndexes"]] == ["by-g"]
    assert f["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}


def test_list_backups_filters_and_pages(cloud, ddb):
    one, two = unique("bk-list"), unique("bk-list")
    make_table(ddb, one)
    make_table(ddb, two)
    first = ddb.create_backup(TableName=one, BackupName="bk1")["BackupDetails"]
    cloud.advance(5)
    arns = [first["BackupArn"]]
    for i in (2, 3):  # a second apart: listings are in creation order
        arns.append(ddb.create_backup(TableName=one, BackupName=f"bk{i}")["BackupDetails"]["BackupArn"])
        cloud.advance(1)
    other = ddb.create_backup(TableName=two, BackupName="other")["BackupDetails"]["BackupArn"]

    listed = ddb.list_backups(TableName=one)["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == arns
    assert {b["TableName"] for b in listed} == {one} and {b["BackupType"] for b in listed} == {"USER"}
    assert other in {b["BackupArn"] for b in ddb.list_backups()["BackupSummaries"]}

    pages, start = [], {}
    while True:
        page = ddb.list_backups(TableName=one, Limit=2, **start)
        pages.append([b["BackupArn"] for b in page["BackupSummaries"]])
        if "LastEvaluatedBackupArn" not in page:
            break
        start = {"ExclusiveStartBackupArn": page["LastEvaluatedBackupArn"]}
    assert pages == [arns[:2], arns[2:]]

    created = first["BackupCreationDateTime"]
    later = ddb.list_backups(TableName=one, TimeRangeLowerBound=created.replace(microsecond=0).timestamp() + 2)
    assert [b["BackupArn"] for b in later["BackupSummaries"]] == arns[1:]
    earlier = ddb.list_backups(TableName=one, TimeRangeUpperBound=created.timestamp() + 2)
    assert [b["BackupArn"] for b in earlier["BackupSummaries"]] == arns[:1]
    assert ddb.list_backups(TableName=one, BackupType="SYSTEM")["BackupSummaries"] == []
    assert len(ddb.list_backups(TableName=one, BackupType="ALL")["BackupSummaries"]) == 3


def test_delete_backup(ddb):
    src = unique("bk-del")
    make_table(ddb, src)
    arn = ddb.create_backup(TableName=src, BackupName="gone")["BackupDetails"]["BackupArn"]
    d = ddb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert d["BackupDetails"]["BackupStatus"] == "DELETED"
    for call in (lambda: ddb.describe_backup(BackupArn=arn), lambda: ddb.delete_backup(BackupArn=arn),
                 lambda: ddb.restore_table_from_backup(TargetTableName=unique("never"), BackupArn=arn)):
        with pytest.raises(ClientError) as err:
            call()
        assert code(err) == "BackupNotFoundException"
        assert err.value.response["Error"]["Message"] == f"Backup not found: {arn}"
    assert arn not in {b["BackupArn"] for b in ddb.list_backups(TableName=src)["BackupSummaries"]}


def test_errors(ddb):
    missing = unique("bk-missing")
    with pytest.raises(ClientError) as err:
        ddb.create_backup(TableName=missing, BackupName="x-backup")
    assert code(err) == "TableNotFoundException"
    assert err.value.response["Error"]["Message"] == f"Table not found: {missing}"
    src = unique("bk-err")
    make_table(ddb, src)
    arn = ddb.create_backup(TableName=src, BackupName="x-backup")["BackupDetails"]["BackupArn"]
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=src, BackupArn=arn)
    assert code(err) == "TableAlreadyExistsException"
    assert err.value.response["Error"]["Message"] == f"Table already exists: {src}"


def test_restore_with_overrides_and_after_the_table_is_gone(ddb):
    src, dst = unique("bk-ovr"), unique("bk-ovr-dst")
    make_table(ddb, src)
    ddb.put_item(TableName=src, Item=item("a", 1, "red", "a1"))
    arn = ddb.create_backup(TableName=src, BackupName="ovr")["BackupDetails"]["BackupArn"]
    ddb.delete_table(TableName=src)
    desc = ddb.restore_table_from_backup(
        TargetTableName=dst, BackupArn=arn, BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        GlobalSecondaryIndexOverride=[],
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS"},
    )["TableDescription"]
    assert "GlobalSecondaryIndexes" not in desc
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert desc["SSEDescription"]["Status"] == "ENABLED"
    assert [a["AttributeName"] for a in desc["AttributeDefinitions"]] == ["pk", "sk"]  # g is no index key now
    assert scan_all(ddb, dst) == {("a", "1"): "a1"}
    with pytest.raises(ClientError):
        by_g(ddb, dst, "red")
    with pytest.raises(ClientError) as err:  # on-demand takes no provisioned capacity, as in CreateTable
        ddb.restore_table_from_backup(TargetTableName=unique("bk-bad"), BackupArn=arn,
                                      ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert code(err) == "ValidationException"


def test_a_deleted_table_with_pitr_leaves_a_system_backup(monkeypatch):
    """In process: ``history.on_table_deleted`` is DeleteTable's hook."""
    gw = Gateway(Config(ephemeral=True))
    ctx = Context(account="123456789012", region="us-east-1", principal_arn="arn:aws:iam::123456789012:root",
                  access_key="AKID", request_id="r", service="dynamodb", operation="Test", gateway=gw)
    now = [1_800_000_000.0]
    monkeypatch.setattr(clock, "time_s", lambda: now[0])
    for name in ("with-pitr", "without"):
        tables.create_table(ctx, {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                                  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
        with ctx.tx() as t:
            storage.write_item(t, storage.get_table(t, name), None, {"pk": {"S": "a"}, "v": {"S": name}})
    pitr.update_continuous_backups(ctx, {"TableName": "with-pitr",
                                         "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})
    for name in ("with-pitr", "without"):
        with ctx.tx() as t:
            table = storage.get_table(t, name)
            history.on_table_deleted(ctx, t, table)
            t.delete("t", name)
            storage.drop_table_records(t, table)
            assert t.count(history.HISTORY, table["id"]) == t.count(history.BASE, table["id"]) == 0
    assert backups.list_backups(ctx, {})["BackupSummaries"] == []  # USER backups only, by default
    (b,) = backups.list_backups(ctx, {"BackupType": "ALL"})["BackupSummaries"]
    assert (b["BackupName"], b["BackupType"], b["TableName"]) == ("with-pitr$DeletedTableBackup", "SYSTEM", "with-pitr")
    assert b["BackupExpiryDateTime"].timestamp() == now[0] + 35 * 86400
    backups.restore_table_from_backup(ctx, {"BackupArn": b["BackupArn"], "TargetTableName": "back"})
    with ctx.tx() as t:
        assert [r.value["v"]["S"] for r in t.scan("i", storage.get_table(t, "back")["id"])] == ["with-pitr"]
    with pytest.raises(ServiceError) as err:
        backups.delete_backup(ctx, {"BackupArn": b["BackupArn"]})
    assert err.value.code == "ValidationException"
    now[0] += 35 * 86400  # kept 35 days, then gone with its items
    with pytest.raises(ServiceError) as err:
        backups.describe_backup(ctx, {"BackupArn": b["BackupArn"]})
    assert err.value.code == "BackupNotFoundException"
    assert backups.list_backups(ctx, {"BackupType": "ALL"})["BackupSummaries"] == []
    with ctx.tx() as t:
        assert t.count(history.BACKUP) == t.count(history.BACKUP_ITEMS) == 0
