"""Aliases over HTTP: life cycle, routing weights and their validation."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.test_functions import _code, _create


def _published(lam, versions: int = 2) -> str:
    name = _create(lam, Publish=True)["FunctionName"]
    for i in range(1, versions):
        lam.update_function_configuration(FunctionName=name, Description=f"v{i + 1}")
        lam.publish_version(FunctionName=name)
    return name


def test_alias_life_cycle(cloud):
    lam = cloud.client("lambda")
    name = _published(lam)
    out = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"
    assert out["AliasArn"] == arn and out["FunctionVersion"] == "1" and out["RevisionId"]
    assert lam.get_alias(FunctionName=name, Name="live")["Description"] == "prod"
    with pytest.raises(ClientError) as err:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert _code(err) == ("ResourceConflictException", f"Alias already exists: {arn}", 409)
    updated = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert updated["FunctionVersion"] == "2" and updated["RevisionId"] != out["RevisionId"]
    with pytest.raises(ClientError) as err:
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion="1", RevisionId=out["RevisionId"])
    assert _code(err)[0] == "PreconditionFailedException"
    lam.create_alias(FunctionName=name, Name="dev", FunctionVersion="$LATEST")
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["dev", "live"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]] == ["live"]
    # reading the function through the alias shows the version it points to
    conf = lam.get_function_configuration(FunctionName=name, Qualifier="live")
    assert conf["Version"] == "2" and conf["FunctionArn"] == arn
    lam.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(ClientError) as err:
        lam.get_alias(FunctionName=name, Name="live")
    assert _code(err) == ("ResourceNotFoundException", f"Alias not found: {arn}", 404)


def test_alias_to_a_missing_version(cloud):
    lam = cloud.client("lambda")
    name = _published(lam, 1)
    with pytest.raises(ClientError) as err:
        lam.create_alias(FunctionName=name, Name="x", FunctionVersion="7")
    assert _code(err) == ("ResourceNotFoundException",
                          f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:7", 404)


def test_routing_weights_are_validated(cloud):
    lam = cloud.client("lambda")
    name = _published(lam, 3)
    out = lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                           RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    assert out["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    bad = [
        ("1", {"1": 0.5}),                 # the primary itself
        ("1", {"2": 0.1, "3": 0.1}),       # more than one additional version
        ("$LATEST", {"2": 0.5}),           # $LATEST cannot split traffic
        ("1", {"9": 0.5}),                 # a version that does not exist
    ]
    for primary, weights in bad:
        with pytest.raises(ClientError) as err:
            lam.create_alias(FunctionName=name, Name="bad", FunctionVersion=primary,
                             RoutingConfig={"AdditionalVersionWeights": weights})
        assert _code(err)[0] in ("InvalidParameterValueException", "ResourceNotFoundException"), weights
    with pytest.raises(ClientError) as err:
        lam.create_alias(FunctionName=name, Name="bad", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})
    assert _code(err)[0] == "ValidationException"
    # deleting a version an alias routes to is refused
    with pytest.raises(ClientError) as err:
        lam.delete_function(FunctionName=name, Qualifier="2")
    assert _code(err)[0::2] == ("ResourceConflictException", 409)
    cleared = lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in cleared
    lam.delete_function(FunctionName=name, Qualifier="2")
