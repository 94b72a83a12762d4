"""Functions over HTTP with boto3: create (inline zip and S3), read, update, publish,
delete, list, account settings, waiters, and the errors AWS answers."""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.request
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def _zip(files: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in (files or {"app.py": "def handler(event, context):\n    return event\n"}).items():
            z.writestr(name, text)
    return buf.getvalue()


def _name() -> str:
    return "fn-" + uuid.uuid4().hex[:12]


def _account() -> str:
    """A fresh account (a 12-digit key id is that account's root): counts and listings
    that no other test of the shared server touches."""
    return str(uuid.uuid4().int)[:12].rjust(12, "1")


def _create(lam, name: str | None = None, **extra):
    name = name or _name()
    params = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
              "Code": {"ZipFile": _zip()}, **extra}
    return lam.create_function(**params)


def _code(err: pytest.ExceptionInfo) -> tuple[str, str, int]:
    e = err.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_create_from_inline_zip_reports_pending_then_active(cloud):
    lam = cloud.client("lambda")
    data = _zip()
    name = _name()
    out = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": data}, Description="d", Timeout=30, MemorySize=256,
                              Environment={"Variables": {"STAGE": "test"}}, Tags={"team": "a"})
    assert out["State"] == "Pending" and out["StateReasonCode"] == "Creating"
    assert out["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert out["CodeSize"] == len(data)
    assert out["Version"] == "$LATEST" and out["PackageType"] == "Zip"
    assert out["LastModified"].endswith("+0000") and len(out["LastModified"]) == 28
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    got = lam.get_function(FunctionName=name)
    conf = got["Configuration"]
    assert conf["State"] == "Active" and conf["LastUpdateStatus"] == "Successful"
    assert (conf["Timeout"], conf["MemorySize"], conf["Description"]) == (30, 256, "d")
    assert conf["Environment"] == {"Variables": {"STAGE": "test"}}
    assert conf["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert got["Tags"] == {"team": "a"}
    assert got["Code"]["RepositoryType"] == "S3"
    with urllib.request.urlopen(got["Code"]["Location"], timeout=5) as resp:
        assert resp.read() == data
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == conf["RevisionId"]


def test_create_from_s3_object(cloud):
    s3 = cloud.client("s3")
    lam = cloud.client("lambda")
    bucket = "code-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    data = _zip({"main.py": "def h(e, c):\n    return 1\n"})
    s3.put_object(Bucket=bucket, Key="pkg.zip", Body=data)
    name = _name()
    out = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="main.h",
                              Code={"S3Bucket": bucket, "S3Key": "pkg.zip"})
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName=_name(), Runtime="python3.12", Role=ROLE, Handler="main.h",
                            Code={"S3Bucket": bucket, "S3Key": "missing.zip"})
    code, message, status = _code(err)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Error occurred while GetObject. S3 Error Code: NoSuchKey.")


def test_update_code_and_configuration_then_updated_waiter(cloud):
    lam = cloud.client("lambda")
    created = _create(lam)
    name = created["FunctionName"]
    new = _zip({"app.py": "def handler(e, c):\n    return 2\n"})
    out = lam.update_function_code(FunctionName=name, ZipFile=new)
    assert out["LastUpdateStatus"] == "InProgress"
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(new).digest()).decode()
    assert out["RevisionId"] != created["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    out = lam.update_function_configuration(FunctionName=name, Timeout=60, Handler="app.other",
                                            Environment={"Variables": {"KEY1": "v"}})
    assert out["LastUpdateStatus"] == "InProgress"
    conf = lam.get_function_configuration(FunctionName=name)
    assert (conf["Timeout"], conf["Handler"], conf["LastUpdateStatus"]) == (60, "app.other", "Successful")
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=name, Timeout=5, RevisionId=created["RevisionId"])
    assert _code(err)[0::2] == ("PreconditionFailedException", 412)


def test_publish_versions_only_when_something_changed(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    v1 = lam.publish_version(FunctionName=name, Description="first")
    assert v1["Version"] == "1" and v1["FunctionArn"].endswith(f":{name}:1") and v1["Description"] == "first"
    assert lam.publish_version(FunctionName=name)["Version"] == "1"  # nothing changed
    lam.update_function_configuration(FunctionName=name, MemorySize=512)
    v2 = lam.publish_version(FunctionName=name)
    assert v2["Version"] == "2" and v2["MemorySize"] == 512
    with pytest.raises(ClientError) as err:
        lam.publish_version(FunctionName=name, CodeSha256="wrong")
    assert _code(err)[0] == "InvalidParameterValueException"
    listed = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"].rsplit(":", 1)[1] for v in listed] == ["$LATEST", "1", "2"]
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["MemorySize"] == 128
    lam.delete_function(FunctionName=name, Qualifier="1")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2"]
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=name, Qualifier="1")
    assert _code(err) == ("ResourceNotFoundException",
                          f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:1", 404)
    with pytest.raises(ClientError) as err:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert _code(err)[0] == "InvalidParameterValueException"


def test_create_with_publish_and_function_name_forms(cloud):
    lam = cloud.client("lambda")
    name = _name()
    out = _create(lam, name, Publish=True)
    assert out["Version"] == "1"
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert lam.get_function(FunctionName=arn)["Configuration"]["FunctionName"] == name
    assert lam.get_function(FunctionName=f"000000000000:function:{name}")["Configuration"]["Version"] == "$LATEST"
    assert lam.get_function(FunctionName=f"{name}:1")["Configuration"]["Version"] == "1"
    assert lam.get_function(FunctionName=f"{arn}:1")["Configuration"]["FunctionArn"] == f"{arn}:1"
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=f"{name}:1", Qualifier="2")
    assert _code(err)[0] == "InvalidParameterValueException"


def test_list_functions_pages_and_all_versions(cloud):
    lam = cloud.client("lambda", key=_account())
    names = sorted(_name() for _ in range(3))
    for n in names:
        _create(lam, n, Publish=True)
    seen, marker = [], None
    while True:
        page = lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == names
    every = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in every] == [(n, v) for n in names for v in ("$LATEST", "1")]


def test_delete_function_removes_everything(cloud):
    lam = cloud.client("lambda")
    name = _create(lam, Publish=True)["FunctionName"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.delete_function(FunctionName=name)
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=name)
    assert _code(err) == ("ResourceNotFoundException",
                          f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}", 404)
    _create(lam, name)  # the name is free again, with no old alias
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]


def test_errors_for_bad_input(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    with pytest.raises(ClientError) as err:
        _create(lam, name)
    assert _code(err) == ("ResourceConflictException", f"Function already exist: {name}", 409)
    with pytest.raises(ClientError) as err:
        _create(lam, Code={"ZipFile": b"not a zip"})
    assert _code(err) == ("InvalidParameterValueException",
                          "Could not unzip uploaded file. Please check your file, then try to upload again.", 400)
    with pytest.raises(ClientError) as err:
        _create(lam, PackageType="Image", Code={"ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/x:1"})
    assert _code(err)[0] == "InvalidParameterValueException" and "zip" in _code(err)[1]
    with pytest.raises(ClientError) as err:
        _create(lam, Runtime="python3.7")
    assert _code(err)[1].startswith("The runtime parameter of python3.7 is no longer supported")
    with pytest.raises(ClientError) as err:
        _create(lam, Timeout=901)
    assert _code(err)[0] == "ValidationException"
    with pytest.raises(ClientError) as err:
        _create(lam, MemorySize=10241)
    assert _code(err)[0] == "ValidationException"
    with pytest.raises(ClientError) as err:
        _create(lam, Environment={"Variables": {"BIG": "x" * 4100}})
    assert _code(err)[0] == "InvalidParameterValueException" and "4KB" in _code(err)[1]
    with pytest.raises(ClientError) as err:
        _create(lam, Environment={"Variables": {"AWS_REGION": "x"}})
    assert "reserved keys" in _code(err)[1]
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName=_name(), Role=ROLE, Code={"ZipFile": _zip()})
    assert _code(err)[1] == "Runtime and Handler are mandatory parameters for functions created with deployment packages."
    with pytest.raises(ClientError) as err:
        _create(lam, Layers=["arn:aws:lambda:us-east-1:000000000000:layer:nope:1"])
    assert _code(err) == ("InvalidParameterValueException",
                          "Layer version arn:aws:lambda:us-east-1:000000000000:layer:nope:1 does not exist.", 400)
    with pytest.raises(ClientError) as err:
        _create(lam, Layers=[f"arn:aws:lambda:us-east-1:000000000000:layer:l{i}:1" for i in range(6)])
    assert _code(err)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        lam.get_function_configuration(FunctionName="no-such-function")
    assert _code(err) == ("ResourceNotFoundException",
                          "Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-function", 404)
    assert err.value.response.get("Type") == "User"  # a modeled member of the error shape


def test_zip_over_the_direct_upload_limit_is_refused(cloud):
    lam = cloud.client("lambda")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("blob.bin", bytes(50 * 1024 * 1024 + 1))
    with pytest.raises(ClientError) as err:
        _create(lam, Code={"ZipFile": buf.getvalue()})
    assert _code(err)[0::2] == ("RequestTooLargeException", 413)


def test_account_settings_count_functions_and_reservations(cloud):
    account = _account()
    lam = cloud.client("lambda", key=account)
    before = lam.get_account_settings()
    assert before["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert before["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
    created = _create(lam, Role=f"arn:aws:iam::{account}:role/r")
    lam.put_function_concurrency(FunctionName=created["FunctionName"], ReservedConcurrentExecutions=50)
    after = lam.get_account_settings()
    assert after["AccountUsage"] == {"TotalCodeSize": created["CodeSize"], "FunctionCount": 1}
    assert after["AccountLimit"]["UnreservedConcurrentExecutions"] == 950


def test_functions_survive_a_crash(tmp_path):
    """An acknowledged CreateFunction is on disk: after kill -9 the function, its versions
    and its code are all there."""
    from tests.cloud import Cloud

    data_dir = str(tmp_path / "data")
    c = Cloud("--data-dir", data_dir)
    try:
        lam = c.client("lambda")
        data = _zip({"app.py": "def handler(e, c):\n    return 'kept'\n"})
        lam.create_function(FunctionName="kept", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": data}, Publish=True)
        c.kill()
        c = Cloud("--data-dir", data_dir)
        lam = c.client("lambda")
        got = lam.get_function(FunctionName="kept", Qualifier="1")
        assert got["Configuration"]["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
        with urllib.request.urlopen(got["Code"]["Location"], timeout=5) as resp:
            assert resp.read() == data
    finally:
        c.kill()


def test_update_code_from_s3_dry_run_and_publish(cloud):
    s3 = cloud.client("s3")
    lam = cloud.client("lambda")
    bucket = "code-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    created = _create(lam)
    name = created["FunctionName"]
    data = _zip({"app.py": "def handler(e, c):\n    return 3\n"})
    s3.put_object(Bucket=bucket, Key="v3.zip", Body=data)
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    dry = lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="v3.zip", DryRun=True)
    assert dry["CodeSha256"] == sha
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == created["CodeSha256"]  # unchanged
    out = lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="v3.zip", Publish=True)
    assert (out["Version"], out["CodeSha256"]) == ("1", sha)
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == sha
    with pytest.raises(ClientError) as err:
        lam.update_function_code(FunctionName=name, ZipFile=b"PK\x03\x04 broken")
    assert _code(err)[0] == "InvalidParameterValueException"
