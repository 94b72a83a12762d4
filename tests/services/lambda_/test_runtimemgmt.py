"""Runtime management configs over HTTP, and the runtime version a function reports."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.test_functions import _code, _create

FN_ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def _runtime_arn(config: dict) -> str:
    return config["RuntimeVersionConfig"]["RuntimeVersionArn"]


def test_runtime_version_in_configuration(cloud):
    lam = cloud.client("lambda")
    out = _create(lam)
    name = out["FunctionName"]
    arn = _runtime_arn(out)
    assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", arn)
    assert _runtime_arn(lam.get_function_configuration(FunctionName=name)) == arn
    assert _runtime_arn(lam.get_function(FunctionName=name)["Configuration"]) == arn
    assert _runtime_arn(_create(lam)) == arn  # one version per runtime: the same ARN for every function
    changed = lam.update_function_configuration(FunctionName=name, Runtime="python3.11")
    assert _runtime_arn(changed) != arn and re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}",
                                                         _runtime_arn(changed))
    assert _runtime_arn(lam.publish_version(FunctionName=name)) == _runtime_arn(changed)
    west = _create(cloud.client("lambda", region="eu-west-1"))
    assert _runtime_arn(west) == arn.replace("us-east-1", "eu-west-1")


def test_default_put_get_per_version(cloud):
    lam = cloud.client("lambda")
    out = _create(lam, Publish=True)
    name = out["FunctionName"]
    pinned = _runtime_arn(out)
    got = lam.get_runtime_management_config(FunctionName=name)
    assert (got["UpdateRuntimeOn"], got["FunctionArn"]) == ("Auto", FN_ARN + name) and "RuntimeVersionArn" not in got

    put = lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="FunctionUpdate")
    assert (put["UpdateRuntimeOn"], put["FunctionArn"]) == ("FunctionUpdate", FN_ARN + name)
    assert "RuntimeVersionArn" not in put
    assert lam.get_runtime_management_config(FunctionName=name, Qualifier="$LATEST")["UpdateRuntimeOn"] == "FunctionUpdate"
    # version 1 has its own, still the default
    assert lam.get_runtime_management_config(FunctionName=name, Qualifier="1")["UpdateRuntimeOn"] == "Auto"

    put = lam.put_runtime_management_config(FunctionName=name, Qualifier="1", UpdateRuntimeOn="Manual",
                                            RuntimeVersionArn=pinned)
    assert put == {**put, "UpdateRuntimeOn": "Manual", "FunctionArn": FN_ARN + name + ":1", "RuntimeVersionArn": pinned}
    got = lam.get_runtime_management_config(FunctionName=name, Qualifier="1")
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"], got["FunctionArn"]) == ("Manual", pinned, FN_ARN + name + ":1")
    assert lam.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "FunctionUpdate"

    # back to Auto drops the pin
    lam.put_runtime_management_config(FunctionName=name, Qualifier="1", UpdateRuntimeOn="Auto")
    assert "RuntimeVersionArn" not in lam.get_runtime_management_config(FunctionName=name, Qualifier="1")


def test_deleting_a_version_drops_its_config(cloud):
    lam = cloud.client("lambda")
    name = _create(lam, Publish=True)["FunctionName"]
    lam.put_runtime_management_config(FunctionName=name, Qualifier="1", UpdateRuntimeOn="FunctionUpdate")
    lam.delete_function(FunctionName=name, Qualifier="1")
    with pytest.raises(ClientError) as err:
        lam.get_runtime_management_config(FunctionName=name, Qualifier="1")
    assert _code(err)[0::2] == ("ResourceNotFoundException", 404)
    lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="FunctionUpdate")
    lam.delete_function(FunctionName=name)
    _create(lam, name)  # the same name again starts from the default
    assert lam.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Auto"


def test_errors(cloud):
    lam = cloud.client("lambda")
    out = _create(lam)
    name = out["FunctionName"]
    with pytest.raises(ClientError) as err:  # Manual needs the version it pins
        lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual")
    assert _code(err)[0::2] == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as err:  # and only Manual takes one
        lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Auto", RuntimeVersionArn=_runtime_arn(out))
    assert _code(err)[0::2] == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as err:  # a runtime version of another region
        lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual",
                                          RuntimeVersionArn=_runtime_arn(out).replace("us-east-1", "eu-west-1"))
    assert _code(err)[0::2] == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as err:
        lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Sometimes")
    assert _code(err)[0::2] == ("ValidationException", 400)
    assert lam.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Auto"  # nothing stored
    for call in (lambda: lam.get_runtime_management_config(FunctionName=name, Qualifier="7"),
                 lambda: lam.get_runtime_management_config(FunctionName=name + "-gone")):
        with pytest.raises(ClientError) as err:
            call()
        assert _code(err)[0::2] == ("ResourceNotFoundException", 404)
