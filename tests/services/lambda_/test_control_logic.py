"""Logic of the control plane, called in process: zip checks and unpacking, FunctionName
forms, and ``spec.resolve`` (alias routing, the SandboxSpec, execution-role credentials)."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import zipfile

import pytest

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.lambda_ import code, names, spec
from tests.services.lambda_.test_functions import ROLE, _zip


def _ctx(gw: Gateway, account: str = "000000000000") -> Context:
    return Context(account=account, region="us-east-1", principal_arn=f"arn:aws:iam::{account}:root",
                   access_key="test", request_id="r", service="lambda", operation="x", gateway=gw)


def _zip_with_modes(entries: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, data)
    return buf.getvalue()


def test_unpacking_keeps_modes_and_comes_back_after_loss(tmp_path):
    gw = Gateway(Config(data_dir=str(tmp_path)))
    data = _zip_with_modes([("bootstrap", b"#!/bin/sh\necho hi\n", 0o100755), ("lib/data.txt", b"x", 0o100644)])
    pkg = code.check(data, operation="CreateFunction", direct=True)
    with gw.db("lambda").tx("000000000000", "us-east-1") as t:
        code.keep(t, pkg)
    path = code.tree(gw, pkg.sha_hex, data=data)
    assert path == os.path.join(str(tmp_path), "lambda", "code", pkg.sha_hex)
    assert stat.S_IMODE(os.stat(os.path.join(path, "bootstrap")).st_mode) == 0o755
    assert open(os.path.join(path, "lib", "data.txt")).read() == "x"
    shutil.rmtree(path)  # e.g. a cleaned data dir: unpacked again from the stored blob
    assert code.tree(gw, pkg.sha_hex) == path and os.path.exists(os.path.join(path, "bootstrap"))


def test_zip_refcounts_drop_the_blob_with_the_last_reference():
    gw = Gateway(Config(ephemeral=True))
    db = gw.db("lambda")
    pkg = code.check(_zip(), operation="CreateFunction", direct=True)
    with db.tx("a", "r") as t:
        code.keep(t, pkg)
        code.share(t, pkg.sha_hex)
    with db.tx("a", "r") as t:
        code.release(t, pkg.sha_hex)
    assert code.read_zip(db, pkg.sha_hex) == pkg.data
    with db.tx("a", "r") as t:
        code.release(t, pkg.sha_hex)
    assert code.read_zip(db, pkg.sha_hex) is None and db.blob_ids() == set()


@pytest.mark.parametrize("name", ["../evil.py", "/etc/passwd", "a/../../b"])
def test_unsafe_paths_are_refused(name):
    data = _zip_with_modes([(name, b"x", 0o100644)])
    with pytest.raises(ServiceError) as err:
        code.check(data, operation="CreateFunction", direct=True)
    assert err.value.message == code.UNZIP_ERROR


def test_symlinks_stay_inside_the_package(tmp_path):
    inside = _zip_with_modes([("lib/real.py", b"x", 0o100644), ("lib/alias.py", b"real.py", 0o120777),
                              ("up.py", b"lib/real.py", 0o120777)])
    pkg = code.check(inside, operation="CreateFunction", direct=True)
    gw = Gateway(Config(data_dir=str(tmp_path)))
    path = code.tree(gw, pkg.sha_hex, data=inside)
    assert open(os.path.join(path, "lib", "alias.py")).read() == "x"
    for target in (b"/etc/passwd", b"../../x", b"../lib/../../x"):
        with pytest.raises(ServiceError):
            code.check(_zip_with_modes([("lib/a.py", target, 0o120777)]), operation="CreateFunction", direct=True)


def test_unzipped_size_limit():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("zeros", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(code.MAX_UNZIPPED // len(chunk) + 1):
                f.write(chunk)
    with pytest.raises(ServiceError) as err:
        code.check(buf.getvalue(), operation="CreateFunction", direct=False)
    assert err.value.message == "Unzipped size must be smaller than 262144000 bytes"


def test_function_name_forms():
    p = names.parse
    assert p("f", "1", "us-east-1") == names.FunctionRef("1", "us-east-1", "f", None)
    assert p("f:live", "1", "us-east-1").qualifier == "live"
    assert p("123456789012:function:f:3", "1", "us-east-1") == names.FunctionRef("123456789012", "us-east-1", "f", "3")
    ref = p("arn:aws:lambda:us-east-1:123456789012:function:f", "1", "us-east-1", "$LATEST")
    assert (ref.account, ref.name, ref.qualifier) == ("123456789012", "f", "$LATEST")
    for bad in [("arn:aws:lambda:eu-west-1:123456789012:function:f", None), ("f:1", "2"), ("a:b:c:d:e", None)]:
        with pytest.raises(ServiceError) as err:
            p(bad[0], "1", "us-east-1", bad[1])
        assert err.value.code == "InvalidParameterValueException"


def test_resolve_routes_by_weight_and_builds_the_sandbox_spec():
    gw = Gateway(Config(ephemeral=True))
    ctx = _ctx(gw)
    lam = ctx.aws("lambda")
    layer = lam.publish_layer_version(LayerName="deps", Content={"ZipFile": _zip({"python/dep.py": "D = 1\n"})})
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": _zip()}, Environment={"Variables": {"STAGE": "one"}},
                        Layers=[layer["LayerVersionArn"]], Timeout=7, MemorySize=256, Publish=True,
                        DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"})
    lam.update_function_configuration(FunctionName="f", Environment={"Variables": {"STAGE": "two"}})
    lam.publish_version(FunctionName="f")
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    lam.put_function_event_invoke_config(FunctionName="f", Qualifier="live", MaximumRetryAttempts=0)
    lam.put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=5)

    low = spec.resolve(ctx, "f", "live", pick=0.1)
    high = spec.resolve(ctx, "f:live", pick=0.5)
    assert (low.version, high.version) == ("2", "1")
    assert low.alias == high.alias == "live"
    assert high.invoked_arn == "arn:aws:lambda:us-east-1:000000000000:function:f:live"
    assert high.function_arn == "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert high.event_invoke_config == {"MaximumRetryAttempts": 0,
                                        "DestinationConfig": {"OnSuccess": {}, "OnFailure": {}}}
    assert high.reserved_concurrency == 5
    assert high.dead_letter_arn == "arn:aws:sqs:us-east-1:000000000000:dlq"
    s = high.spec
    assert (s.runtime, s.handler, s.memory_mb, s.timeout_s, s.version) == ("python3.12", "app.handler", 256, 7, "1")
    assert s.environment == (("STAGE", "one"),) and low.spec.environment == (("STAGE", "two"),)
    assert os.path.exists(os.path.join(s.code_dir, "app.py"))
    assert len(s.layer_dirs) == 1 and os.path.exists(os.path.join(s.layer_dirs[0], "python", "dep.py"))
    assert s.log_group == "/aws/lambda/f" and s.key != low.spec.key
    latest = spec.resolve(ctx, "f")
    assert latest.version == "$LATEST" and latest.invoked_arn == latest.function_arn and latest.event_invoke_config is None
    assert spec.resolve_arn(gw, "arn:aws:lambda:us-east-1:000000000000:function:f:2").version == "2"
    with pytest.raises(ServiceError) as err:
        spec.resolve(ctx, "nope")
    assert err.value.message == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    # no such role: the account's root credentials, which the gateway accepts
    assert s.credentials() == ("000000000000", "test", "")
    # a deleted layer version keeps working for the functions that use it (its zip is held)
    lam.delete_layer_version(LayerName="deps", VersionNumber=1)
    shutil.rmtree(s.layer_dirs[0])
    again = spec.resolve(ctx, "f", "1").spec
    assert os.path.exists(os.path.join(again.layer_dirs[0], "python", "dep.py"))


def test_credentials_assume_the_execution_role_when_it_exists():
    gw = Gateway(Config(ephemeral=True))
    ctx = _ctx(gw)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = ctx.aws("iam", region="us-east-1").create_role(RoleName="exec", AssumeRolePolicyDocument=json.dumps(trust))
    ctx.aws("lambda").create_function(FunctionName="g", Runtime="python3.12", Role=role["Role"]["Arn"],
                                      Handler="app.handler", Code={"ZipFile": _zip()})
    key, secret, token = spec.resolve(ctx, "g").spec.credentials()
    assert key.startswith("ASIA") and secret and token
    ident = gw.credentials.lookup(key)
    assert ident is not None and ":assumed-role/exec/g" in ident.arn


def test_no_zip_outlives_its_last_user():
    """Versions, code updates and layers share zips by reference: once the function and
    the layer are gone, no blob is left."""
    gw = Gateway(Config(ephemeral=True))
    lam = _ctx(gw).aws("lambda")
    layer = lam.publish_layer_version(LayerName="l", Content={"ZipFile": _zip({"python/l.py": ""})})
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": _zip()}, Layers=[layer["LayerVersionArn"]], Publish=True)
    lam.update_function_code(FunctionName="f", ZipFile=_zip({"app.py": "x = 2\n"}), Publish=True)
    lam.update_function_configuration(FunctionName="f", Layers=[])
    lam.delete_layer_version(LayerName="l", VersionNumber=1)
    assert len(gw.db("lambda").blob_ids()) == 3  # two function zips, and the layer's (held by versions)
    lam.delete_function(FunctionName="f", Qualifier="1")
    lam.delete_function(FunctionName="f")
    assert gw.db("lambda").blob_ids() == set()
