"""Export to S3 and import from S3 over HTTP: an export writes the table as it was at the
export time (from the PITR log) as gzip'd DynamoDB JSON with its manifests, readable with
the S3 client; an import loads DynamoDB JSON or CSV into a new table, counts bad lines,
and reads an export back; the errors answer as DynamoDB's do."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from botocore.exceptions import ClientError

from tests.services.dynamodb.helpers import code, create_table, key_schema, message, unique


def now_s(cloud) -> float:
    return dt.datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def s3(cloud):
    return cloud.client("s3")


@pytest.fixture(scope="module")
def bucket(s3):
    name = unique("ddb-exports")
    s3.create_bucket(Bucket=name)
    return name


KEYS = key_schema(sk="N")


def make_table(ddb, name: str, pitr: bool = True) -> str:
    arn = create_table(ddb, name, sk="N")["TableArn"]
    if pitr:
        ddb.update_continuous_backups(TableName=name,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return arn


RICH = {"pk": {"S": "rich"}, "sk": {"N": "1"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01", b"\x02"]},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "-2.5"]}, "n": {"N": "12.5"}, "t": {"BOOL": True},
        "z": {"NULL": True}, "l": {"L": [{"S": "x"}, {"N": "1"}]}, "m": {"M": {"in": {"S": "side"}}}}


def scan(ddb, name: str) -> dict[tuple[str, str], dict]:
    out, start = {}, None
    while True:
        page = ddb.scan(TableName=name, **({"ExclusiveStartKey": start} if start else {}))
        for i in page["Items"]:
            out[(i["pk"]["S"], i["sk"]["N"])] = i
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def normal(item: dict) -> dict:
    """An item with its sets sorted, to compare regardless of set order."""
    return {k: ({t: sorted(v)} if t in ("SS", "NS", "BS") else {t: v}) for k, (t, v) in
            ((k, next(iter(v.items()))) for k, v in item.items())}


def export(cloud, ddb, arn: str, bucket: str, **extra) -> dict:
    out = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, **extra)["ExportDescription"]
    assert out["ExportStatus"] == "IN_PROGRESS"
    cloud.advance(seconds=1)
    return ddb.describe_export(ExportArn=out["ExportArn"])["ExportDescription"]


def get_json(s3, bucket: str, key: str):
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def exported_items(s3, bucket: str, desc: dict) -> list[dict]:
    summary = get_json(s3, bucket, desc["ExportManifest"])
    lines = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read().splitlines()
    items = []
    for entry in map(json.loads, lines):
        data = gzip.decompress(s3.get_object(Bucket=bucket, Key=entry["dataFileS3Key"])["Body"].read())
        got = [json.loads(line)["Item"] for line in data.splitlines()]
        assert len(got) == entry["itemCount"]
        items += got
    return items


def test_an_export_writes_the_table_as_it_was_at_the_export_time(cloud, ddb, s3, bucket):
    name = unique()
    arn = make_table(ddb, name)
    ddb.put_item(TableName=name, Item=RICH)
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "sk": {"N": "2"}, "v": {"S": "old"}})
    cloud.advance(10)
    at = now_s(cloud)
    cloud.advance(10)
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "sk": {"N": "2"}, "v": {"S": "new"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "later"}, "sk": {"N": "3"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "rich"}, "sk": {"N": "1"}})

    desc = export(cloud, ddb, arn, bucket, ExportTime=at, S3Prefix="nightly")
    assert desc["ExportStatus"] == "COMPLETED"
    assert desc["ItemCount"] == 2
    assert desc["BilledSizeBytes"] > 0
    assert desc["ExportFormat"] == "DYNAMODB_JSON" and desc["S3SseAlgorithm"] == "AES256"
    export_id = desc["ExportArn"].rsplit("/", 1)[1]
    assert desc["ExportArn"] == f"{arn}/export/{export_id}"
    base = f"nightly/AWSDynamoDB/{export_id}/"
    assert desc["ExportManifest"] == base + "manifest-summary.json"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=base)["Contents"]}
    assert {base + k for k in ("_started", "manifest-summary.json", "manifest-files.json")} <= keys
    assert any(k.startswith(base + "data/") and k.endswith(".json.gz") for k in keys)

    summary = get_json(s3, bucket, desc["ExportManifest"])
    assert summary["exportArn"] == desc["ExportArn"] and summary["tableArn"] == arn
    assert (summary["itemCount"], summary["outputFormat"], summary["s3Prefix"]) == (2, "DYNAMODB_JSON", "nightly")
    # the items as they were at the export time: binaries base64, numbers as strings
    items = sorted(exported_items(s3, bucket, desc), key=lambda i: i["pk"]["S"])
    assert items[0] == {"pk": {"S": "k"}, "sk": {"N": "2"}, "v": {"S": "old"}}
    assert items[1]["b"] == {"B": "AP8="} and sorted(items[1]["bs"]["BS"]) == ["AQ==", "Ag=="]
    assert items[1]["m"] == {"M": {"in": {"S": "side"}}} and items[1]["z"] == {"NULL": True}

    # without an ExportTime the export is of now
    latest = sorted(exported_items(s3, bucket, export(cloud, ddb, arn, bucket)), key=lambda i: i["pk"]["S"])
    assert [(i["pk"]["S"], i.get("v")) for i in latest] == [("k", {"S": "new"}), ("later", None)]


def test_an_empty_table_exports_an_empty_file(cloud, ddb, s3, bucket):
    name = unique()
    arn = make_table(ddb, name)
    desc = export(cloud, ddb, arn, bucket)
    assert (desc["ExportStatus"], desc["ItemCount"], desc["BilledSizeBytes"]) == ("COMPLETED", 0, 0)
    assert exported_items(s3, bucket, desc) == []


def test_an_ion_export_writes_ion_text(cloud, ddb, s3, bucket):
    name = unique()
    arn = make_table(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "600"}, "ss": {"SS": ["x"]}})
    desc = export(cloud, ddb, arn, bucket, ExportFormat="ION")
    assert desc["ExportFormat"] == "ION"
    files = get_json(s3, bucket, desc["ExportManifest"])["manifestFilesS3Key"]
    (entry,) = map(json.loads, s3.get_object(Bucket=bucket, Key=files)["Body"].read().splitlines())
    assert entry["dataFileS3Key"].endswith(".ion.gz")
    data = gzip.decompress(s3.get_object(Bucket=bucket, Key=entry["dataFileS3Key"])["Body"].read())
    assert data == b'$ion_1_0 {Item:{pk:"a",sk:6d2,ss:$dynamodb_SS::["x"]}}\n'


def test_an_export_to_a_missing_bucket_fails_later(cloud, ddb):
    name = unique()
    arn = make_table(ddb, name)
    desc = export(cloud, ddb, arn, unique("no-such-bucket"))
    assert desc["ExportStatus"] == "FAILED"
    assert desc["FailureCode"] == "S3NoSuchBucket"
    assert "ItemCount" not in desc and "ExportManifest" not in desc


def test_export_errors(cloud, ddb, bucket):
    name = unique()
    arn = make_table(ddb, name, pitr=False)
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)
    assert code(exc) == "PointInTimeRecoveryUnavailableException"
    assert message(exc) == f"Point in time recovery is not enabled for table '{name}'"
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn + "-missing", S3Bucket=bucket)
    assert (code(exc), message(exc)) == ("TableNotFoundException", f"Table not found: {arn}-missing")
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=name, S3Bucket=bucket)
    assert message(exc) == "One or more parameter values were invalid: tableArn is not a valid ARN"
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=now_s(cloud) + 3600)
    assert (code(exc), message(exc)) == ("InvalidExportTimeException", "Export Time is invalid")
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=now_s(cloud) - 3600)
    assert code(exc) == "InvalidExportTimeException"  # before PITR was enabled
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3SseKmsKeyId="alias/x")
    assert message(exc) == "Invalid Request: KMS Key Id is not supported for this encryption type"
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT")
    assert message(exc) == ("Invalid Request: Incremental Export Specification expected when export type is set "
                            "as Incremental Export")


def test_a_client_token_makes_an_export_idempotent(cloud, ddb, bucket):
    name = unique()
    arn = make_table(ddb, name)
    first = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ClientToken="tok-" + name)
    again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ClientToken="tok-" + name)
    assert again["ExportDescription"]["ExportArn"] == first["ExportDescription"]["ExportArn"]
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="other", ClientToken="tok-" + name)
    assert (code(exc), message(exc)) == ("ExportConflictException",
                                         "Export conflict: Duplicate request detected with conflicting parameters")


def test_list_and_describe_exports(cloud, ddb, bucket):
    name = unique()
    arn = make_table(ddb, name)
    arns = [export(cloud, ddb, arn, bucket)["ExportArn"] for _ in range(3)]
    listed = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert [s["ExportArn"] for s in listed] == arns[::-1]  # newest first
    assert listed[0] == {"ExportArn": arns[2], "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"}
    page = ddb.list_exports(TableArn=arn, MaxResults=2)
    rest = ddb.list_exports(TableArn=arn, MaxResults=2, NextToken=page["NextToken"])
    assert [s["ExportArn"] for s in page["ExportSummaries"] + rest["ExportSummaries"]] == arns[::-1]
    assert "NextToken" not in rest
    with pytest.raises(ClientError) as exc:
        ddb.list_exports(NextToken="00" * 40)
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ddb.describe_export(ExportArn=arn)
    assert (code(exc), message(exc)) == ("ValidationException", "Invalid Export ARN")
    with pytest.raises(ClientError) as exc:
        ddb.describe_export(ExportArn=f"{arn}/export/01234567890123-deadbeef")
    assert code(exc) == "ExportNotFoundException"
    # exports outlive their table, but are no longer listed under its ARN
    ddb.delete_table(TableName=name)
    assert ddb.describe_export(ExportArn=arns[0])["ExportDescription"]["ExportStatus"] == "COMPLETED"
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []


# imports -------------------------------------------------------------------------------------
def import_table(cloud, ddb, bucket: str, prefix: str, name: str, fmt: str = "DYNAMODB_JSON", **extra) -> dict:
    out = ddb.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": prefix}, InputFormat=fmt,
        TableCreationParameters={"TableName": name, "BillingMode": "PAY_PER_REQUEST", **KEYS}, **extra,
    )["ImportTableDescription"]
    assert out["ImportStatus"] == "IN_PROGRESS"
    assert (out["ProcessedItemCount"], out["ImportedItemCount"], out["ErrorCount"]) == (0, 0, 0)
    assert "EndTime" not in out
    cloud.advance(seconds=1)
    return ddb.describe_import(ImportArn=out["ImportArn"])["ImportTableDescription"]


def test_import_from_csv(cloud, ddb, s3, bucket):
    prefix = unique("csv") + "/"
    s3.put_object(Bucket=bucket, Key=prefix + "a.csv", Body=b"pk,sk,color,size\nx,1,red,10\ny,2,blue,\n")
    s3.put_object(Bucket=bucket, Key=prefix + "b.csv.gz", Body=gzip.compress(b"pk,sk,color\nz,3,green\n"))
    name = unique("csv")
    desc = import_table(cloud, ddb, bucket, prefix + "a", name, fmt="CSV")
    assert desc["ImportStatus"] == "COMPLETED"
    assert (desc["ProcessedItemCount"], desc["ImportedItemCount"], desc["ErrorCount"]) == (2, 2, 0)
    assert desc["ProcessedSizeBytes"] == len(b"pk,sk,color,size\nx,1,red,10\ny,2,blue,\n")
    assert desc["TableId"] == ddb.describe_table(TableName=name)["Table"]["TableId"]
    # keys take their declared types; every other column is a String
    assert scan(ddb, name) == {
        ("x", "1"): {"pk": {"S": "x"}, "sk": {"N": "1"}, "color": {"S": "red"}, "size": {"S": "10"}},
        ("y", "2"): {"pk": {"S": "y"}, "sk": {"N": "2"}, "color": {"S": "blue"}, "size": {"S": ""}},
    }
    # a header list and a delimiter; the first line is then data
    s3.put_object(Bucket=bucket, Key=prefix + "semi.csv", Body=b"q;7;tall\nr;8;short\n")
    other = unique("csv")
    desc = import_table(cloud, ddb, bucket, prefix + "semi", other, fmt="CSV",
                        InputFormatOptions={"Csv": {"Delimiter": ";", "HeaderList": ["pk", "sk", "h"]}})
    assert desc["ImportedItemCount"] == 2
    assert scan(ddb, other)[("q", "7")]["h"] == {"S": "tall"}
    gz = unique("csv")
    desc = import_table(cloud, ddb, bucket, prefix + "b", gz, fmt="CSV", InputCompressionType="GZIP")
    assert list(scan(ddb, gz)) == [("z", "3")]


def test_bad_lines_are_counted_and_fail_the_import_but_keep_the_table(cloud, ddb, s3, bucket):
    prefix = unique("bad") + "/"
    good = [json.dumps({"Item": {"pk": {"S": f"g{i}"}, "sk": {"N": str(i)}}}) for i in range(3)]
    s3.put_object(Bucket=bucket, Key=prefix + "0-good.json", Body=("\n".join(good) + "\n\n   \n").encode())
    s3.put_object(Bucket=bucket, Key=prefix + "1-bad.json",
                  Body=b'{"Item": {"pk": {"S": "h"}, "sk": {"N": "1"}}}\n{"Item": {"sk": {"N": "2"}}}\n'
                       b'{"Item": {"pk": {"S": "never"}, "sk": {"N": "3"}}}\n')
    s3.put_object(Bucket=bucket, Key=prefix + "2-bad.json", Body=b'{"NotAnItem": {}}\n')
    s3.put_object(Bucket=bucket, Key=prefix + "3-bad.json", Body=b'{"Item": {"pk": {"S": "x"}, "sk": {"S": "1"}}}\n')
    s3.put_object(Bucket=bucket, Key=prefix + "4-bad.json", Body=b'{"Item": \n')
    name = unique("bad")
    desc = import_table(cloud, ddb, bucket, prefix, name)
    assert desc["ImportStatus"] == "FAILED"
    assert desc["FailureCode"] == "ItemValidationError"
    # the first bad line ends its object: "never" is not read
    assert (desc["ProcessedItemCount"], desc["ImportedItemCount"], desc["ErrorCount"]) == (8, 4, 4)
    assert sorted(k for k, _ in scan(ddb, name)) == ["g0", "g1", "g2", "h"]


def test_an_export_imports_back_into_a_new_table(cloud, ddb, s3, bucket):
    name = unique()
    arn = make_table(ddb, name)
    ddb.put_item(TableName=name, Item=RICH)
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{i}"}, "sk": {"N": str(i)}, "v": {"N": str(i * 1.5)}})
    desc = export(cloud, ddb, arn, bucket, S3Prefix="roundtrip")
    data = desc["ExportManifest"].rsplit("/", 1)[0] + "/data/"
    copy = unique("copy")
    imp = import_table(cloud, ddb, bucket, data, copy, InputCompressionType="GZIP")
    assert imp["ImportStatus"] == "COMPLETED"
    assert imp["ImportedItemCount"] == 6
    assert {k: normal(v) for k, v in scan(ddb, copy).items()} == {k: normal(v) for k, v in scan(ddb, name).items()}


def test_import_errors(cloud, ddb, s3, bucket):
    name = unique("imp")
    make_table(ddb, name, pitr=False)
    with pytest.raises(ClientError) as exc:
        import_table(cloud, ddb, bucket, "x/", name)
    assert (code(exc), message(exc)) == ("ResourceInUseException", f"Table already exists: {name}")
    with pytest.raises(ClientError) as exc:
        import_table(cloud, ddb, bucket, "x/", unique("imp"), InputFormatOptions={"Csv": {"Delimiter": ","}})
    assert message(exc) == "Invalid Request: Unsupported InputFormatOptions for the given input format: DYNAMODB_JSON."
    with pytest.raises(ClientError) as exc:  # CreateTable's own checks
        ddb.import_table(S3BucketSource={"S3Bucket": bucket}, InputFormat="CSV", TableCreationParameters={
            "TableName": unique("imp"), "BillingMode": "PAY_PER_REQUEST", "KeySchema": KEYS["KeySchema"],
            "AttributeDefinitions": KEYS["AttributeDefinitions"][:1]})
    assert code(exc) == "ValidationException"
    missing = unique("imp")
    desc = import_table(cloud, ddb, unique("no-such-bucket"), "", missing)
    assert (desc["ImportStatus"], desc["FailureCode"]) == ("FAILED", "S3NoSuchBucket")
    with pytest.raises(ClientError) as exc:  # the import created no table
        ddb.describe_table(TableName=missing)
    assert code(exc) == "ResourceNotFoundException"
    empty = unique("imp")
    desc = import_table(cloud, ddb, bucket, unique("nothing-here"), empty)
    assert (desc["ImportStatus"], desc["ImportedItemCount"]) == ("COMPLETED", 0)
    assert ddb.describe_table(TableName=empty)["Table"]["TableStatus"] == "ACTIVE"


def test_an_import_token_conflicts_only_for_another_table(cloud, ddb, bucket):
    token = "tok-" + unique()
    params = {"S3BucketSource": {"S3Bucket": bucket, "S3KeyPrefix": "none/"}, "InputFormat": "DYNAMODB_JSON",
              "ClientToken": token}
    first = ddb.import_table(TableCreationParameters={"TableName": unique("tok"), "BillingMode": "PAY_PER_REQUEST",
                                                      **KEYS}, **params)["ImportTableDescription"]
    with pytest.raises(ClientError) as exc:
        ddb.import_table(TableCreationParameters={"TableName": unique("tok"), "BillingMode": "PAY_PER_REQUEST",
                                                  **KEYS}, **params)
    assert code(exc) == "ImportConflictException"
    cloud.advance(seconds=1)
    listed = ddb.list_imports(TableArn=first["TableArn"])["ImportSummaryList"]
    assert [(s["ImportArn"], s["ImportStatus"]) for s in listed] == [(first["ImportArn"], "COMPLETED")]
    assert set(listed[0]) == {"ImportArn", "ImportStatus", "TableArn", "S3BucketSource", "InputFormat",
                              "StartTime", "EndTime"}
    with pytest.raises(ClientError) as exc:
        ddb.describe_import(ImportArn=first["TableArn"] + "/import/01234567890123-deadbeef")
    assert code(exc) == "ImportNotFoundException"
    with pytest.raises(ClientError) as exc:
        ddb.describe_import(ImportArn=first["TableArn"])
    assert (code(exc), message(exc)) == ("ValidationException", "Invalid Import ARN")
