"""Layers over HTTP: publish, read, list, delete, permissions, and use by functions."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.test_functions import _code, _create, _zip


def _layer_name() -> str:
    return "layer-" + uuid.uuid4().hex[:10]


def test_publish_get_list_delete(cloud):
    lam = cloud.client("lambda", region="us-west-2")
    name = _layer_name()
    data = _zip({"python/helper.py": "X = 1\n"})
    v1 = lam.publish_layer_version(LayerName=name, Content={"ZipFile": data}, CompatibleRuntimes=["python3.12"],
                                   CompatibleArchitectures=["x86_64"], LicenseInfo="MIT", Description="one")
    arn = f"arn:aws:lambda:us-west-2:000000000000:layer:{name}"
    assert (v1["LayerArn"], v1["LayerVersionArn"], v1["Version"]) == (arn, f"{arn}:1", 1)
    assert v1["Content"]["CodeSize"] == len(data)
    with urllib.request.urlopen(v1["Content"]["Location"], timeout=5) as resp:
        assert resp.read() == data
    v2 = lam.publish_layer_version(LayerName=name, Content={"ZipFile": _zip({"nodejs/x.js": ""})},
                                   CompatibleRuntimes=["nodejs20.x"])
    assert v2["Version"] == 2
    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["Description"] == "one" and got["LicenseInfo"] == "MIT"
    assert lam.get_layer_version_by_arn(Arn=f"{arn}:2")["CompatibleRuntimes"] == ["nodejs20.x"]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [2, 1]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]] == [1]
    listed = {x["LayerName"]: x for x in lam.list_layers()["Layers"]}
    assert listed[name]["LatestMatchingVersion"]["Version"] == 2
    matching = {x["LayerName"]: x for x in lam.list_layers(CompatibleRuntime="python3.12")["Layers"]}
    assert matching[name]["LatestMatchingVersion"]["Version"] == 1
    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    lam.delete_layer_version(LayerName=name, VersionNumber=2)  # idempotent, as AWS
    with pytest.raises(ClientError) as err:
        lam.get_layer_version(LayerName=name, VersionNumber=2)
    assert _code(err)[0::2] == ("ResourceNotFoundException", 404)
    # numbers are never reused
    assert lam.publish_layer_version(LayerName=name, Content={"ZipFile": data})["Version"] == 3


def test_layer_permissions(cloud):
    lam = cloud.client("lambda")
    name = _layer_name()
    lam.publish_layer_version(LayerName=name, Content={"ZipFile": _zip()})
    with pytest.raises(ClientError) as err:
        lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert _code(err)[0] == "ResourceNotFoundException"
    out = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="share",
                                           Action="lambda:GetLayerVersion", Principal="111122223333")
    statement = json.loads(out["Statement"])
    assert statement == {"Sid": "share", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                         "Action": "lambda:GetLayerVersion",
                         "Resource": f"arn:aws:lambda:us-east-1:000000000000:layer:{name}:1"}
    with pytest.raises(ClientError) as err:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="share",
                                         Action="lambda:GetLayerVersion", Principal="*")
    assert _code(err)[0::2] == ("ResourceConflictException", 409)
    policy = json.loads(lam.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["share"]
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="share")
    with pytest.raises(ClientError) as err:
        lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="share")
    assert _code(err)[0] == "ResourceNotFoundException"


def test_functions_reference_layers(cloud):
    lam = cloud.client("lambda")
    name = _layer_name()
    layer = lam.publish_layer_version(LayerName=name, Content={"ZipFile": _zip({"python/a.py": "A = 1\n"})})
    fn = _create(lam, Layers=[layer["LayerVersionArn"]])
    assert fn["Layers"] == [{"Arn": layer["LayerVersionArn"], "CodeSize": layer["Content"]["CodeSize"]}]
    out = lam.update_function_configuration(FunctionName=fn["FunctionName"], Layers=[])
    assert "Layers" not in out
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=fn["FunctionName"],
                                          Layers=[layer["LayerVersionArn"], layer["LayerVersionArn"][:-1] + "9"])
    assert _code(err)[0] == "InvalidParameterValueException"
