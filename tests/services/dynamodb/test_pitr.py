"""Point-in-time recovery: a restore to any second of the window rebuilds the table as it
was then (over HTTP, with the cloudlet clock moved between writes), the window and its
errors answer as DynamoDB's do, the log folds into its base without changing any
restorable state, and backups and the log survive a restart."""

from __future__ import annotations

import datetime as dt
import random
import types

import pytest
from botocore.exceptions import ClientError

from cloudlet.core.context import Context
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.dynamodb import changes, history, storage, tables
from tests.cloud import Cloud
from tests.services.dynamodb.test_backups import by_g, code, item, make_table, scan_all, unique


def now_s(cloud) -> float:
    return dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00")).timestamp()


def enable(ddb, name: str, **spec) -> dict:
    out = ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, **spec})
    return out["ContinuousBackupsDescription"]


def restore(ddb, source: str, **when) -> str:
    target = unique("pitr-to")
    ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target, **when)
    return target


def test_restore_to_any_second_rebuilds_the_table_as_it_was(cloud, ddb):
    src = unique("pitr")
    make_table(ddb, src)
    ddb.put_item(TableName=src, Item=item("keep", 1, "green", "kept"))  # before PITR: in the base snapshot
    d = enable(ddb, src)["PointInTimeRecoveryDescription"]
    assert (d["PointInTimeRecoveryStatus"], d["RecoveryPeriodInDays"]) == ("ENABLED", 35)
    assert d["EarliestRestorableDateTime"] <= d["LatestRestorableDateTime"]
    t0 = now_s(cloud)
    ddb.put_item(TableName=src, Item=item("k", 1, "red", "v1"))
    cloud.advance(10)
    ddb.put_item(TableName=src, Item=item("k", 1, "blue", "v2"))
    cloud.advance(10)
    ddb.delete_item(TableName=src, Key={"pk": {"S": "k"}, "sk": {"N": "1"}})
    cloud.advance(10)

    at_v1 = restore(ddb, src, RestoreDateTime=t0 + 5)
    assert scan_all(ddb, at_v1) == {("keep", "1"): "kept", ("k", "1"): "v1"}
    assert by_g(ddb, at_v1, "red") == ["v1"] and by_g(ddb, at_v1, "blue") == []

    at_v2 = restore(ddb, src, RestoreDateTime=t0 + 15)
    assert scan_all(ddb, at_v2) == {("keep", "1"): "kept", ("k", "1"): "v2"}
    assert by_g(ddb, at_v2, "red") == [] and by_g(ddb, at_v2, "blue") == ["v2"]

    table_arn = ddb.describe_table(TableName=src)["Table"]["TableArn"]
    target = unique("pitr-to")
    desc = ddb.restore_table_to_point_in_time(SourceTableArn=table_arn, TargetTableName=target,
                                              RestoreDateTime=t0 + 25)["TableDescription"]
    assert desc["RestoreSummary"]["SourceTableArn"] == table_arn
    assert desc["RestoreSummary"]["RestoreDateTime"].timestamp() == int(t0 + 25)
    assert scan_all(ddb, target) == {("keep", "1"): "kept"}
    assert by_g(ddb, target, "green") == ["kept"]

    latest = restore(ddb, src, UseLatestRestorableTime=True)
    assert scan_all(ddb, latest) == {("keep", "1"): "kept"}
    # the restored table has no PITR of its own, as on AWS
    d = ddb.describe_continuous_backups(TableName=latest)["ContinuousBackupsDescription"]
    assert d == {"ContinuousBackupsStatus": "ENABLED",
                 "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}


def test_restore_times_outside_the_window_are_refused(cloud, ddb):
    src = unique("pitr-win")
    make_table(ddb, src)
    before = now_s(cloud)
    cloud.advance(5)
    d = enable(ddb, src)["PointInTimeRecoveryDescription"]
    for when in (before, now_s(cloud) + 100):
        with pytest.raises(ClientError) as err:
            restore(ddb, src, RestoreDateTime=when)
        assert code(err) == "InvalidRestoreTimeException"
        assert err.value.response["Error"]["Message"].startswith("RestoreDateTime must be between")
    # the window's own ends are restorable (boto3 sends whole seconds)
    restore(ddb, src, RestoreDateTime=d["EarliestRestorableDateTime"])
    restore(ddb, src, RestoreDateTime=d["LatestRestorableDateTime"])


def test_errors(ddb):
    off, missing = unique("pitr-off"), unique("pitr-missing")
    make_table(ddb, off)
    with pytest.raises(ClientError) as err:
        restore(ddb, off, UseLatestRestorableTime=True)
    assert code(err) == "PointInTimeRecoveryUnavailableException"
    assert err.value.response["Error"]["Message"] == f"Point in time recovery is not enabled for table '{off}'"
    for call in (lambda: restore(ddb, missing, UseLatestRestorableTime=True),
                 lambda: ddb.describe_continuous_backups(TableName=missing),
                 lambda: enable(ddb, missing)):
        with pytest.raises(ClientError) as err:
            call()
        assert code(err) == "TableNotFoundException"
        assert err.value.response["Error"]["Message"] == f"Table not found: {missing}"
    enable(ddb, off)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(SourceTableName=off, TargetTableName=off, UseLatestRestorableTime=True)
    assert code(err) == "TableAlreadyExistsException"
    with pytest.raises(ClientError) as err:
        enable(ddb, off, RecoveryPeriodInDays=36)
    assert code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(SourceTableName=off, TargetTableName=unique("pitr-x"))
    assert code(err) == "ValidationException"


def test_disabling_drops_the_window(cloud, ddb):
    src = unique("pitr-dis")
    make_table(ddb, src)
    enable(ddb, src)
    ddb.put_item(TableName=src, Item=item("a", 1, "red", "old"))
    written = now_s(cloud)
    cloud.advance(10)
    out = ddb.update_continuous_backups(TableName=src, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False})["ContinuousBackupsDescription"]
    assert out["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    with pytest.raises(ClientError) as err:
        restore(ddb, src, UseLatestRestorableTime=True)
    assert code(err) == "PointInTimeRecoveryUnavailableException"
    d = enable(ddb, src, RecoveryPeriodInDays=7)["PointInTimeRecoveryDescription"]
    assert d["RecoveryPeriodInDays"] == 7 and d["EarliestRestorableDateTime"].timestamp() > written + 5
    with pytest.raises(ClientError) as err:  # what the first window held is gone
        restore(ddb, src, RestoreDateTime=written + 1)
    assert code(err) == "InvalidRestoreTimeException"


def test_the_window_moves_with_the_recovery_period(cloud, ddb):
    src = unique("pitr-period")
    make_table(ddb, src)
    enable(ddb, src, RecoveryPeriodInDays=1)
    t0 = now_s(cloud)
    ddb.put_item(TableName=src, Item=item("a", 1, "red", "v1"))
    cloud.advance(days=3)
    ddb.put_item(TableName=src, Item=item("a", 1, "red", "v2"))  # folds what left the window into the base
    d = ddb.describe_continuous_backups(TableName=src)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    earliest = d["EarliestRestorableDateTime"].timestamp()
    assert abs(earliest - (d["LatestRestorableDateTime"].timestamp() - 86400)) < 1
    with pytest.raises(ClientError) as err:
        restore(ddb, src, RestoreDateTime=t0 + 86400)
    assert code(err) == "InvalidRestoreTimeException"
    assert scan_all(ddb, restore(ddb, src, RestoreDateTime=earliest + 1)) == {("a", "1"): "v1"}
    assert scan_all(ddb, restore(ddb, src, UseLatestRestorableTime=True)) == {("a", "1"): "v2"}
    # a longer period cannot bring back what was already let go
    d = enable(ddb, src, RecoveryPeriodInDays=35)["PointInTimeRecoveryDescription"]
    assert d["RecoveryPeriodInDays"] == 35 and d["EarliestRestorableDateTime"].timestamp() > t0 + 86400


def test_backups_and_the_log_survive_a_restart(tmp_path):
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        ddb = cloud.client("dynamodb")
        make_table(ddb, "restart")
        enable(ddb, "restart")
        ddb.put_item(TableName="restart", Item=item("a", 1, "red", "v1"))
        t1 = now_s(cloud)
        arn = ddb.create_backup(TableName="restart", BackupName="at-v1")["BackupDetails"]["BackupArn"]
        cloud.advance(10)
        ddb.put_item(TableName="restart", Item=item("a", 1, "red", "v2"))
    finally:
        cloud.stop()
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        ddb = cloud.client("dynamodb")
        ddb.restore_table_to_point_in_time(SourceTableName="restart", TargetTableName="at-v1", RestoreDateTime=t1 + 1)
        assert scan_all(ddb, "at-v1") == {("a", "1"): "v1"}
        ddb.restore_table_from_backup(BackupArn=arn, TargetTableName="from-backup")
        assert scan_all(ddb, "from-backup") == {("a", "1"): "v1"}
        assert by_g(ddb, "from-backup", "red") == ["v1"]
    finally:
        cloud.stop()


# the log itself, in process ----------------------------------------------------------------
def _context(gw: Gateway) -> Context:
    return Context(account="123456789012", region="us-east-1", principal_arn="arn:aws:iam::123456789012:root",
                   access_key="AKID", request_id="r", service="dynamodb", operation="Test", gateway=gw)


def _new_table(ctx: Context, name: str) -> None:
    tables.create_table(ctx, {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    })


def _restored(ctx: Context, source: str, until: float) -> dict:
    name = unique("t")
    _new_table(ctx, name)
    with ctx.tx() as t:
        src, target = storage.get_table(t, source), storage.get_table(t, name)
        history.replay(t, src, target, until)
        return {r.value["pk"]["S"]: r.value["v"]["N"] for r in t.scan("i", target["id"])}


def test_folding_the_log_keeps_every_restorable_state(monkeypatch):
    gw = Gateway(Config(ephemeral=True))
    ctx = _context(gw)
    fake = types.SimpleNamespace(now=1_000_000.0)
    real = history.clock
    monkeypatch.setattr(history, "clock", types.SimpleNamespace(time_s=lambda: fake.now, sequence=real.sequence))
    _new_table(ctx, "src")
    state: dict[str, str] = {}

    def write(key: str, value: str | None) -> None:
        with ctx.tx() as t:
            table = storage.get_table(t, "src")
            old = storage.get_item(t, table, {"pk": {"S": key}})
            new = None if value is None else {"pk": {"S": key}, "v": {"N": value}}
            if old is None and new is None:
                return
            storage.write_item(t, table, old, new)
            changes.record(ctx, t, table, old, new)
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value

    write("before", "0")
    with ctx.tx() as t:
        table = storage.get_table(t, "src")
        history.enable(t, table, 1, fake.now)
        storage.put_table(t, table)
    rng = random.Random(7)
    seen = []  # (time, state then)
    for i in range(60):  # three days of changes, one an hour
        fake.now += 3600
        write(f"k{rng.randrange(6)}", None if rng.random() < 0.3 else str(i))
        seen.append((fake.now, dict(state)))
    with ctx.tx() as t:
        table = storage.get_table(t, "src")
        logged = t.count(history.HISTORY, table["id"])
        earliest, _ = history.window(table, fake.now)
    assert 0 < logged < 60  # the writes past two days folded the oldest changes into the base
    assert earliest == fake.now - 86400 and table["pitr"]["base"] <= earliest
    for when, expected in seen:
        if when >= earliest:
            assert _restored(ctx, "src", when) == expected
            assert _restored(ctx, "src", when + 1800) == expected  # between two changes
    with ctx.tx() as t:  # folding everything leaves the present as the base
        table = storage.get_table(t, "src")
        history.fold(t, table, fake.now)
        assert t.count(history.HISTORY, table["id"]) == 0 and table["pitr"]["base"] == fake.now
        assert {r.value["pk"]["S"]: r.value["v"]["N"] for r in t.scan(history.BASE, table["id"])} == state
