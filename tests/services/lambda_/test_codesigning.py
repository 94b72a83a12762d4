"""Code signing configs over HTTP: their life cycle and paging, a function's choice of one,
and what a config does to deployments of cloudlet's (always unsigned) packages."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.test_functions import ROLE, _account, _code, _create, _name, _zip

PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdef1234"


def _csc(lam, policy: str | None = None, **extra) -> dict:
    params = {"AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]}, **extra}
    if policy is not None:
        params["CodeSigningPolicies"] = {"UntrustedArtifactOnDeployment": policy}
    return lam.create_code_signing_config(**params)["CodeSigningConfig"]


def _refused(name: str) -> tuple[str, str, int]:
    return ("CodeVerificationFailedException",
            "Lambda cannot deploy the function. The function or layer might be signed using a signature that the "
            f"client is not configured to accept. Check the provided signature for {name}.", 400)


def test_create_get_update_delete(cloud):
    lam = cloud.client("lambda")
    csc = _csc(lam, Description="d", Tags={"team": "a"})
    assert re.fullmatch(r"csc-[0-9a-f]{17}", csc["CodeSigningConfigId"])
    arn = csc["CodeSigningConfigArn"]
    assert arn == f"arn:aws:lambda:us-east-1:000000000000:code-signing-config:{csc['CodeSigningConfigId']}"
    assert csc["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}  # the default
    assert csc["AllowedPublishers"] == {"SigningProfileVersionArns": [PROFILE]} and csc["Description"] == "d"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", csc["LastModified"])
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == csc
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"env": "x"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a", "env": "x"}

    out = lam.update_code_signing_config(CodeSigningConfigArn=arn,
                                         CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
    got = out["CodeSigningConfig"]
    assert got["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"} and got["Description"] == "d"
    other = PROFILE.replace("abcdef1234", "fedcba4321")
    got = lam.update_code_signing_config(CodeSigningConfigArn=arn, Description="e",
                                         AllowedPublishers={"SigningProfileVersionArns": [PROFILE, other]})
    got = got["CodeSigningConfig"]
    assert got["AllowedPublishers"]["SigningProfileVersionArns"] == [PROFILE, other] and got["Description"] == "e"
    assert got["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}  # kept

    lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    for call in (lam.get_code_signing_config, lam.delete_code_signing_config, lam.list_functions_by_code_signing_config):
        with pytest.raises(ClientError) as err:
            call(CodeSigningConfigArn=arn)
        assert _code(err) == ("ResourceNotFoundException",
                              f"The Lambda code signing configuration {arn} can not be found.", 404)


def test_input_checks(cloud):
    lam = cloud.client("lambda")
    with pytest.raises(ClientError) as err:
        _csc(lam, "Block")
    assert _code(err)[0::2] == ("ValidationException", 400)
    assert "untrustedArtifactOnDeployment" in _code(err)[1]
    with pytest.raises(ClientError) as err:  # at most 20 profiles
        lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PROFILE + str(i) for i in range(21)]})
    assert _code(err)[0::2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as err:
        lam.get_code_signing_config(CodeSigningConfigArn="arn:aws:lambda:us-east-1:000000000000:code-signing-config:nope")
    assert _code(err)[0::2] == ("ValidationException", 400)


def test_list_pages(cloud):
    account = _account()
    lam = cloud.client("lambda", key=account)
    made = [_csc(lam)["CodeSigningConfigArn"] for _ in range(5)]
    seen, marker = [], None
    while True:
        page = lam.list_code_signing_configs(MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["CodeSigningConfigs"]) <= 2
        seen += [c["CodeSigningConfigArn"] for c in page["CodeSigningConfigs"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert sorted(seen) == sorted(made)
    assert lam.get_paginator("list_code_signing_configs").paginate().build_full_result()["CodeSigningConfigs"]


def test_function_association(cloud):
    lam = cloud.client("lambda")
    name = _create(lam)["FunctionName"]
    # a function without a config answers an empty ARN, as AWS does
    none = lam.get_function_code_signing_config(FunctionName=name)
    assert (none["CodeSigningConfigArn"], none["FunctionName"]) == ("", name)
    arn = _csc(lam, "Enforce")["CodeSigningConfigArn"]
    # the config only judges the next deployment: unsigned code already there stays
    out = lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=arn)
    assert (out["CodeSigningConfigArn"], out["FunctionName"]) == (arn, name)
    got = lam.get_function_code_signing_config(FunctionName=f"arn:aws:lambda:us-east-1:000000000000:function:{name}")
    assert (got["CodeSigningConfigArn"], got["FunctionName"]) == (arn, name)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [
        f"arn:aws:lambda:us-east-1:000000000000:function:{name}"]
    assert "CodeSigningConfigArn" not in lam.get_function(FunctionName=name)["Configuration"]
    assert "SigningProfileVersionArn" not in lam.get_function_configuration(FunctionName=name)  # unsigned code

    with pytest.raises(ClientError) as err:  # in use
        lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert _code(err)[0::2] == ("ResourceConflictException", 409)
    lam.delete_function_code_signing_config(FunctionName=name)
    assert lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == ""
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    lam.delete_code_signing_config(CodeSigningConfigArn=arn)

    with pytest.raises(ClientError) as err:
        lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=arn)
    assert _code(err) == ("CodeSigningConfigNotFoundException",
                          "The code signing configuration cannot be found. Check that the provided configuration is "
                          f"not deleted: {arn}.", 404)
    with pytest.raises(ClientError) as err:
        lam.get_function_code_signing_config(FunctionName="fn-missing-" + name)
    assert _code(err)[0::2] == ("ResourceNotFoundException", 404)


def test_enforce_refuses_unsigned_code(cloud):
    lam = cloud.client("lambda")
    arn = _csc(lam, "Enforce")["CodeSigningConfigArn"]
    name = _name()
    with pytest.raises(ClientError) as err:
        _create(lam, name, CodeSigningConfigArn=arn)
    assert _code(err) == _refused(name)
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=name)
    assert _code(err)[0] == "ResourceNotFoundException"  # nothing was created

    # a function that got its config later: its next code is refused, the old code stays
    existing = _create(lam)
    lam.put_function_code_signing_config(FunctionName=existing["FunctionName"], CodeSigningConfigArn=arn)
    for dry_run in (True, False):
        with pytest.raises(ClientError) as err:
            lam.update_function_code(FunctionName=existing["FunctionName"], ZipFile=_zip({"app.py": "x = 1\n"}),
                                     DryRun=dry_run)
        assert _code(err) == _refused(existing["FunctionName"])
    assert lam.get_function_configuration(FunctionName=existing["FunctionName"])["CodeSha256"] == existing["CodeSha256"]


def test_enforce_refuses_unsigned_layers(cloud):
    lam = cloud.client("lambda")
    layer = lam.publish_layer_version(LayerName="l-" + _name(), Content={"ZipFile": _zip({"python/m.py": ""})})
    arn = _csc(lam, "Enforce")["CodeSigningConfigArn"]
    name = _create(lam)["FunctionName"]
    lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=arn)
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=name, Layers=[layer["LayerVersionArn"]])
    assert _code(err) == _refused(layer["LayerVersionArn"])
    lam.update_function_configuration(FunctionName=name, Timeout=9)  # a change without new code deploys


def test_warn_deploys_unsigned_code(cloud):
    lam = cloud.client("lambda")
    arn = _csc(lam, "Warn")["CodeSigningConfigArn"]
    out = _create(lam, CodeSigningConfigArn=arn)
    name = out["FunctionName"]
    assert lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == arn
    new = _zip({"app.py": "def handler(e, c):\n    return 2\n"})
    assert lam.update_function_code(FunctionName=name, ZipFile=new)["CodeSha256"] != out["CodeSha256"]
    # switching the config to Enforce stops the next deployment
    lam.update_code_signing_config(CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
    with pytest.raises(ClientError) as err:
        lam.update_function_code(FunctionName=name, ZipFile=_zip())
    assert _code(err) == _refused(name)
    lam.delete_function(FunctionName=name)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    lam.delete_code_signing_config(CodeSigningConfigArn=arn)  # no longer in use


def test_create_names_a_missing_config(cloud):
    lam = cloud.client("lambda")
    arn = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0"
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName=_name(), Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": _zip()}, CodeSigningConfigArn=arn)
    assert _code(err)[0::2] == ("CodeSigningConfigNotFoundException", 404)


def test_warn_counts_signature_validation_errors():
    """Warn's deployment lands in AWS/Lambda SignatureValidationErrors, per function and
    for the account; Enforce's refusal records nothing."""
    import datetime as dt

    from cloudlet.core import clock, metrics as core_metrics
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway
    from cloudlet.services.lambda_ import signing

    gw = Gateway(Config(ephemeral=True))
    acct, region = "123456789012", "us-east-1"
    warn = {"CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"}}
    signing.judge_unsigned(gw, acct, region, "f", warn)
    signing.judge_unsigned(gw, acct, region, "f", warn)
    signing.judge_unsigned(gw, acct, region, "f", None)  # no config: nothing to judge
    with pytest.raises(Exception) as err:
        signing.judge_unsigned(gw, acct, region, "f", {"CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"}})
    assert err.value.code == "CodeVerificationFailedException"
    now = clock.now()
    for dims in ({"FunctionName": "f"}, {}):
        (point,) = core_metrics.query(gw, acct, region, "AWS/Lambda", "SignatureValidationErrors", dims,
                                      now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5), 600)
        assert point.sum == 2
