"""SSM Parameter Store: boto3 against a running cloudlet, and the pure rules directly.

Each behaviour test gets a fresh account (a 12-digit access key is that account's
root), so tests sharing the session's server never see each other's parameters.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import os

import pytest
from botocore.exceptions import ClientError

from cloudlet.core.errors import ServiceError
from cloudlet.services.ssm import crypto, model
from tests.cloud import Cloud

_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def fresh_account() -> str:
    return f"9{next(_accounts) % 10**11:011d}"


@pytest.fixture
def ssm(cloud):
    return cloud.client("ssm", key=fresh_account())


def error(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    e = exc_info.value.response["Error"]
    return e["Code"], e["Message"]


def fails(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    return error(exc)


def names(params: list[dict]) -> list[str]:
    return [p["Name"] for p in params]


# put and get -----------------------------------------------------------------------------
def test_put_then_get_returns_the_shape_aws_returns(ssm):
    out = ssm.put_parameter(Name="/app/url", Value="https://x", Type="String")
    assert (out["Version"], out["Tier"]) == (1, "Standard")
    p = ssm.get_parameter(Name="/app/url")["Parameter"]
    assert p["Name"] == "/app/url" and p["Value"] == "https://x" and p["Type"] == "String"
    assert p["Version"] == 1 and p["DataType"] == "text" and "Selector" not in p
    assert p["ARN"].startswith("arn:aws:ssm:us-east-1:9") and p["ARN"].endswith(":parameter/app/url")
    assert isinstance(p["LastModifiedDate"], dt.datetime)


def test_name_without_leading_slash_has_an_arn_without_one(ssm):
    ssm.put_parameter(Name="plain", Value="v", Type="String")
    assert ssm.get_parameter(Name="plain")["Parameter"]["ARN"].endswith(":parameter/plain")


def test_existing_parameter_needs_overwrite(ssm):
    ssm.put_parameter(Name="/a", Value="1", Type="String")
    assert fails(ssm.put_parameter, Name="/a", Value="2", Type="String") == (
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    )
    assert ssm.get_parameter(Name="/a")["Parameter"]["Value"] == "1"


def test_overwrite_makes_a_new_version_and_keeps_what_it_leaves_out(ssm):
    ssm.put_parameter(Name="/a", Value="1", Type="String", Description="the a", AllowedPattern=r"\d+")
    assert ssm.put_parameter(Name="/a", Value="2", Overwrite=True)["Version"] == 2
    assert ssm.put_parameter(Name="/a", Value="3", Overwrite=True, Description="new")["Version"] == 3
    meta = ssm.describe_parameters()["Parameters"][0]
    assert (meta["Version"], meta["Type"], meta["Description"], meta["AllowedPattern"]) == (3, "String", "new", r"\d+")
    assert ssm.get_parameter(Name="/a")["Parameter"]["Value"] == "3"


def test_type_is_required_to_create_and_must_be_a_known_type(ssm):
    assert fails(ssm.put_parameter, Name="/t", Value="v") == (
        "ValidationException", "A parameter type is required when you create a parameter."
    )
    code, msg = fails(ssm.put_parameter, Name="/t", Value="v", Type="Strng")
    assert code == "ValidationException"
    assert msg == ("1 validation error detected: Value 'Strng' at 'type' failed to satisfy constraint: "
                   "Member must satisfy enum value set: [String, StringList, SecureString]")


def test_empty_value_is_refused(ssm):
    assert fails(ssm.put_parameter, Name="/e", Value="", Type="String") == (
        "ValidationException",
        "1 validation error detected: Value at 'value' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )


def test_tags_and_overwrite_cannot_be_combined(ssm):
    code, msg = fails(ssm.put_parameter, Name="/t", Value="v", Type="String", Overwrite=True,
                      Tags=[{"Key": "k", "Value": "v"}])
    assert code == "ValidationException"
    assert msg.startswith("Invalid request: tags and overwrite can't be used together.")


@pytest.mark.parametrize("name,code,start", [
    ("awsome", "ValidationException", 'Parameter name: can\'t be prefixed with "aws" or "ssm"'),
    ("/SSMthing", "ValidationException", 'Parameter name: can\'t be prefixed with "aws" or "ssm"'),
    ("/ssm/x", "ValidationException", 'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed'),
    ("/aws/x", "AccessDeniedException", "No access to reserved parameter name: /aws/x."),
    ("a/b", "ValidationException", 'Parameter name: can\'t be prefixed with "ssm"'),
    ("/a b", "ValidationException", 'Parameter name: can\'t be prefixed with "ssm"'),
    ("/a//b", "ValidationException", 'Parameter name: can\'t be prefixed with "ssm"'),
    ("/a@b", "ValidationException", 'Parameter name: can\'t be prefixed with "ssm"'),
    ("/" + "/".join("l" * 16), "HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels."),
])
def test_invalid_names_get_aws_errors(ssm, name, code, start):
    got_code, msg = fails(ssm.put_parameter, Name=name, Value="v", Type="String")
    assert got_code == code and msg.startswith(start)


def test_fifteen_levels_and_surrounding_spaces_are_fine(ssm):
    deep = "/" + "/".join(f"l{i}" for i in range(15))
    assert ssm.put_parameter(Name=deep, Value="v", Type="String")["Version"] == 1
    ssm.put_parameter(Name="  /padded  ", Value="v", Type="String")
    assert ssm.get_parameter(Name="/padded")["Parameter"]["Name"] == "/padded"


def test_get_missing_parameter_is_parameter_not_found_with_aws_empty_message(ssm):
    assert fails(ssm.get_parameter, Name="/missing") == ("ParameterNotFound", "")


def test_policies_are_not_implemented_rather_than_ignored(ssm):
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/p", Value="v", Type="String", Tier="Advanced",
                          Policies='[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00Z"}}]')
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error(exc)[0] == "NotImplemented"
    assert fails(ssm.get_parameter, Name="/p")[0] == "ParameterNotFound"


# allowed pattern, tiers, data types --------------------------------------------------------
def test_allowed_pattern_must_match_the_whole_value_also_on_overwrite(ssm):
    ssm.put_parameter(Name="/n", Value="1234", Type="String", AllowedPattern=r"\d{1,4}")
    assert fails(ssm.put_parameter, Name="/n", Value="10000", Overwrite=True) == (
        "ParameterPatternMismatchException", r"Parameter value, cannot be validated against allowedPattern: \d{1,4}"
    )
    assert fails(ssm.put_parameter, Name="/m", Value="x", Type="String", AllowedPattern="(")[0] == (
        "InvalidAllowedPatternException"
    )
    assert ssm.get_parameter(Name="/n")["Parameter"]["Version"] == 1


def test_standard_tier_holds_4_kb_advanced_8_kb(ssm):
    big, huge = "x" * 5000, "x" * 8193
    code, msg = fails(ssm.put_parameter, Name="/big", Value=big, Type="String")
    assert code == "ValidationException"
    assert msg.startswith("Standard tier parameters support a maximum parameter value of 4096 characters.")
    assert ssm.put_parameter(Name="/big", Value=big, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    assert fails(ssm.put_parameter, Name="/huge", Value=huge, Type="String", Tier="Advanced")[0] == "ValidationException"
    assert ssm.put_parameter(Name="/edge", Value="y" * 4096, Type="String")["Tier"] == "Standard"


def test_intelligent_tiering_picks_the_tier_the_value_needs(ssm):
    assert ssm.put_parameter(Name="/s", Value="small", Type="String", Tier="Intelligent-Tiering")["Tier"] == "Standard"
    assert ssm.put_parameter(Name="/l", Value="x" * 5000, Type="String", Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    tiers = {p["Name"]: p["Tier"] for p in ssm.describe_parameters()["Parameters"]}
    assert tiers == {"/s": "Standard", "/l": "Advanced"}


def test_advanced_parameter_cannot_go_back_to_standard(ssm):
    ssm.put_parameter(Name="/adv", Value="v", Type="String", Tier="Advanced")
    code, msg = fails(ssm.put_parameter, Name="/adv", Value="w", Overwrite=True, Tier="Standard")
    assert code == "ValidationException" and "can't downgrade" in msg
    assert ssm.put_parameter(Name="/adv", Value="w", Overwrite=True)["Tier"] == "Advanced"


def test_ec2_image_data_type_checks_the_ami_id_format(ssm):
    ssm.put_parameter(Name="/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    assert ssm.get_parameter(Name="/ami")["Parameter"]["DataType"] == "aws:ec2:image"
    assert fails(ssm.put_parameter, Name="/ami2", Value="not-an-ami", Type="String",
                 DataType="aws:ec2:image")[0] == "ValidationException"
    assert fails(ssm.put_parameter, Name="/t", Value="v", Type="String", DataType="Text") == (
        "ValidationException", "The following data type is not supported: Text (Data type names are all lowercase.)"
    )


# versions ---------------------------------------------------------------------------------
def test_only_the_100_newest_versions_are_kept(ssm):
    for i in range(101):
        ssm.put_parameter(Name="/v", Value=str(i), Type="String", Overwrite=True)
    history = ssm.get_parameter_history(Name="/v", MaxResults=50)
    versions = [p["Version"] for p in history["Parameters"]]
    page2 = ssm.get_parameter_history(Name="/v", MaxResults=50, NextToken=history["NextToken"])
    versions += [p["Version"] for p in page2["Parameters"]]
    assert versions == list(range(2, 102)) and "NextToken" not in page2
    assert fails(ssm.get_parameter, Name="/v:1")[0] == "ParameterVersionNotFound"


def test_a_label_on_the_oldest_version_stops_the_101st(ssm):
    for i in range(100):
        ssm.put_parameter(Name="/v", Value=str(i), Type="String", Overwrite=True)
    ssm.label_parameter_version(Name="/v", ParameterVersion=1, Labels=["golden"])
    assert fails(ssm.put_parameter, Name="/v", Value="x", Overwrite=True) == (
        "ParameterMaxVersionLimitExceeded",
        "You attempted to create a new version of /v by calling the PutParameter API with the overwrite flag. "
        "Version 1, the oldest version, can't be deleted because it has a label associated with it. Move the "
        "label to another version of the parameter, and try again.",
    )
    ssm.label_parameter_version(Name="/v", ParameterVersion=50, Labels=["golden"])
    assert ssm.put_parameter(Name="/v", Value="x", Overwrite=True)["Version"] == 101
    assert ssm.get_parameter(Name="/v:golden")["Parameter"]["Version"] == 50


def test_history_lists_versions_oldest_first_with_labels_and_user(ssm):
    ssm.put_parameter(Name="/h", Value="a", Type="String", Description="first")
    ssm.put_parameter(Name="/h", Value="b", Overwrite=True)
    ssm.label_parameter_version(Name="/h", ParameterVersion=1, Labels=["old"])
    hist = ssm.get_parameter_history(Name="/h")["Parameters"]
    assert [(p["Version"], p["Value"], p["Labels"]) for p in hist] == [(1, "a", ["old"]), (2, "b", [])]
    assert all(p["LastModifiedUser"].startswith("arn:aws:iam::9") and p["Description"] == "first" for p in hist)
    assert fails(ssm.get_parameter_history, Name="/none") == ("ParameterNotFound", "")


# selectors ----------------------------------------------------------------------------------
def test_selectors_pick_a_version_by_number_or_label(ssm):
    for v in ("one", "two", "three"):
        ssm.put_parameter(Name="/s", Value=v, Type="String", Overwrite=True)
    ssm.label_parameter_version(Name="/s", ParameterVersion=2, Labels=["stable"])
    by_number = ssm.get_parameter(Name="/s:1")["Parameter"]
    assert (by_number["Value"], by_number["Version"], by_number["Selector"], by_number["Name"]) == ("one", 1, ":1", "/s")
    by_label = ssm.get_parameter(Name="/s:stable")["Parameter"]
    assert (by_label["Value"], by_label["Version"], by_label["Selector"]) == ("two", 2, ":stable")
    assert fails(ssm.get_parameter, Name="/s:9") == (
        "ParameterVersionNotFound", "Systems Manager could not find version 9 of /s. Verify the version and try again."
    )
    assert fails(ssm.get_parameter, Name="/s:nolabel")[0] == "ParameterVersionNotFound"


def test_get_parameters_lists_what_does_not_resolve(ssm):
    ssm.put_parameter(Name="/g1", Value="1", Type="String")
    ssm.put_parameter(Name="/g1", Value="2", Type="String", Overwrite=True)
    ssm.put_parameter(Name="/g2", Value="x", Type="String")
    out = ssm.get_parameters(Names=["/g1", "/g1:1", "/g2", "/g2", "/nope", "/g1:7", "/g2:nolabel"])
    assert [(p["Name"], p["Value"], p.get("Selector")) for p in out["Parameters"]] == [
        ("/g1", "2", None), ("/g1", "1", ":1"), ("/g2", "x", None)
    ]
    assert out["InvalidParameters"] == ["/nope", "/g1:7", "/g2:nolabel"]


def test_a_parameter_can_be_read_by_its_arn(ssm):
    ssm.put_parameter(Name="/by/arn", Value="v", Type="String")
    arn = ssm.get_parameter(Name="/by/arn")["Parameter"]["ARN"]
    assert ssm.get_parameter(Name=arn)["Parameter"]["Value"] == "v"
    assert ssm.get_parameter(Name=arn + ":1")["Parameter"]["Version"] == 1


# paths ---------------------------------------------------------------------------------------
@pytest.fixture
def tree(ssm):
    for name, ptype in [("/app/a", "String"), ("/app/b", "StringList"), ("/app/sub/c", "String"),
                        ("/app/sub/deep/d", "SecureString"), ("/other/e", "String"), ("/top", "String"),
                        ("root", "String")]:
        ssm.put_parameter(Name=name, Value="v1,v2" if ptype == "StringList" else "v", Type=ptype)
    return ssm


def all_by_path(ssm, **kwargs) -> list[str]:
    return [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(**kwargs)
            for p in page["Parameters"]]


def test_one_level_versus_recursive(tree):
    assert all_by_path(tree, Path="/app") == ["/app/a", "/app/b"]
    assert all_by_path(tree, Path="/app/", Recursive=True) == ["/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d"]
    assert all_by_path(tree, Path="/app/sub") == ["/app/sub/c"]
    assert sorted(all_by_path(tree, Path="/")) == ["/top", "root"]
    assert len(all_by_path(tree, Path="/", Recursive=True)) == 7
    assert all_by_path(tree, Path="/app/a") == []


def test_by_path_filters_and_their_errors(tree):
    sec = tree.get_parameters_by_path(Path="/app", Recursive=True,
                                      ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])
    assert names(sec["Parameters"]) == ["/app/sub/deep/d"]
    by_key = tree.get_parameters_by_path(Path="/", Recursive=True,
                                         ParameterFilters=[{"Key": "KeyId", "Values": ["alias/aws/ssm"]}])
    assert names(by_key["Parameters"]) == ["/app/sub/deep/d"]
    begins = tree.get_parameters_by_path(Path="/app", ParameterFilters=[
        {"Key": "Type", "Option": "BeginsWith", "Values": ["String"]}])
    assert names(begins["Parameters"]) == ["/app/a", "/app/b"]
    assert fails(tree.get_parameters_by_path, Path="/app", ParameterFilters=[{"Key": "Name", "Values": ["x"]}]) == (
        "InvalidFilterKey", "The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId]."
    )
    assert fails(tree.get_parameters_by_path, Path="/app", ParameterFilters=[
        {"Key": "Label", "Option": "BeginsWith", "Values": ["x"]}])[0] == "InvalidFilterOption"


def test_by_path_label_filter_returns_the_labelled_version(tree):
    tree.put_parameter(Name="/app/a", Value="new", Overwrite=True)
    tree.label_parameter_version(Name="/app/a", ParameterVersion=1, Labels=["prod"])
    got = tree.get_parameters_by_path(Path="/app", ParameterFilters=[{"Key": "Label", "Values": ["prod"]}])
    assert [(p["Name"], p["Version"], p["Value"]) for p in got["Parameters"]] == [("/app/a", 1, "v")]


def test_by_path_rejects_a_path_that_is_not_one(ssm):
    code, msg = fails(ssm.get_parameters_by_path, Path="app")
    assert code == "ValidationException"
    assert msg.startswith("The parameter doesn't meet the parameter name requirements.")


def test_by_path_pages_cover_everything_once(ssm):
    for i in range(23):
        ssm.put_parameter(Name=f"/p/n{i:02d}", Value=str(i), Type="String")
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = ssm.get_parameters_by_path(Path="/p", MaxResults=5, **kwargs)
        assert 0 < len(page["Parameters"]) <= 5
        seen += names(page["Parameters"])
        pages += 1
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == [f"/p/n{i:02d}" for i in range(23)] and pages == 5
    assert fails(ssm.get_parameters_by_path, Path="/p", NextToken="garbage")[0] == "InvalidNextToken"


def test_secure_string_values_in_a_path_are_ciphertext_until_decrypted(ssm):
    ssm.put_parameter(Name="/sec/k", Value="hunter2", Type="SecureString")
    raw = ssm.get_parameters_by_path(Path="/sec")["Parameters"][0]["Value"]
    assert raw != "hunter2"
    assert ssm.get_parameters_by_path(Path="/sec", WithDecryption=True)["Parameters"][0]["Value"] == "hunter2"


# describe ------------------------------------------------------------------------------------
def described(ssm, **kwargs) -> list[str]:
    return [p["Name"] for page in ssm.get_paginator("describe_parameters").paginate(**kwargs)
            for p in page["Parameters"]]


def test_describe_parameter_filters(tree):
    tree.put_parameter(Name="/app/adv", Value="v", Type="String", Tier="Advanced")
    tree.add_tags_to_resource(ResourceType="Parameter", ResourceId="/app/a", Tags=[{"Key": "team", "Value": "core"}])
    pf = lambda *f: described(tree, ParameterFilters=list(f))  # noqa: E731
    assert pf({"Key": "Name", "Values": ["/app/a"]}) == ["/app/a"]
    assert pf({"Key": "Name", "Values": ["root"]}) == ["root"]
    assert pf({"Key": "Name", "Option": "BeginsWith", "Values": ["/app/s"]}) == ["/app/sub/c", "/app/sub/deep/d"]
    assert pf({"Key": "Name", "Option": "Contains", "Values": ["deep"]}) == ["/app/sub/deep/d"]
    assert pf({"Key": "Type", "Values": ["StringList"]}) == ["/app/b"]
    assert pf({"Key": "KeyId", "Values": ["alias/aws/ssm"]}) == ["/app/sub/deep/d"]
    assert pf({"Key": "Tier", "Values": ["Advanced"]}) == ["/app/adv"]
    assert pf({"Key": "DataType", "Values": ["text"]}) == described(tree)
    assert pf({"Key": "Path", "Values": ["/app/sub"]}) == ["/app/sub/c"]
    assert pf({"Key": "Path", "Option": "Recursive", "Values": ["/app/sub"]}) == ["/app/sub/c", "/app/sub/deep/d"]
    assert pf({"Key": "tag:team", "Values": ["core"]}) == ["/app/a"]
    assert pf({"Key": "tag:team"}) == ["/app/a"]
    assert pf({"Key": "Path", "Option": "Recursive", "Values": ["/app"]},
              {"Key": "Type", "Values": ["String"]}) == ["/app/a", "/app/adv", "/app/sub/c"]


def test_describe_filter_errors(ssm):
    assert fails(ssm.describe_parameters, ParameterFilters=[{"Key": "Label", "Values": ["x"]}]) == (
        "InvalidFilterKey",
        "The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier].",
    )
    assert fails(ssm.describe_parameters, ParameterFilters=[{"Key": "Type", "Option": "Contains",
                                                              "Values": ["String"]}])[0] == "InvalidFilterOption"
    assert fails(ssm.describe_parameters, ParameterFilters=[{"Key": "Path", "Option": "Equals",
                                                              "Values": ["/a"]}])[0] == "InvalidFilterOption"
    assert fails(ssm.describe_parameters, ParameterFilters=[{"Key": "Name"}]) == (
        "InvalidFilterValue", "The following filter values are missing : null for filter key Name."
    )
    assert fails(ssm.describe_parameters, ParameterFilters=[{"Key": "Type", "Values": ["Nope"]}])[0] == (
        "InvalidFilterValue"
    )
    assert fails(ssm.describe_parameters, Filters=[{"Key": "Name", "Values": ["a"]}],
                 ParameterFilters=[{"Key": "Name", "Values": ["a"]}]) == (
        "ValidationException", "You can use either Filters or ParameterFilters in a single request."
    )
    assert fails(ssm.describe_parameters, ParameterFilters=[{"Key": "Type", "Values": ["String"]},
                                                            {"Key": "Type", "Values": ["String"]}])[0] == (
        "InvalidFilterKey"
    )


def test_describe_legacy_filters_and_pages(ssm):
    for i in range(12):
        ssm.put_parameter(Name=f"param-{i:02d}", Value="v", Type="SecureString" if i % 4 == 0 else "String")
    first = ssm.describe_parameters()
    assert len(first["Parameters"]) == 10 and "NextToken" in first
    rest = ssm.describe_parameters(NextToken=first["NextToken"])
    assert names(first["Parameters"] + rest["Parameters"]) == [f"param-{i:02d}" for i in range(12)]
    assert "NextToken" not in rest
    legacy = described(ssm, Filters=[{"Key": "Type", "Values": ["SecureString"]}])
    assert legacy == ["param-00", "param-04", "param-08"]
    assert described(ssm, Filters=[{"Key": "Name", "Values": ["param-1"]}]) == ["param-10", "param-11"]


def test_describe_metadata_has_no_value_but_the_key_user_and_tier(ssm):
    ssm.put_parameter(Name="/k", Value="v", Type="SecureString", KeyId="alias/custom", Description="d")
    meta = ssm.describe_parameters()["Parameters"][0]
    assert "Value" not in meta
    assert (meta["KeyId"], meta["Description"], meta["Tier"], meta["Version"]) == ("alias/custom", "d", "Standard", 1)
    assert meta["LastModifiedUser"].endswith(":root") and meta["ARN"].endswith(":parameter/k")
    assert ssm.describe_parameters(Shared=True)["Parameters"] == []


# delete ---------------------------------------------------------------------------------------
def test_delete_and_recreate_starts_over(ssm):
    ssm.put_parameter(Name="/d", Value="1", Type="String")
    ssm.put_parameter(Name="/d", Value="2", Type="String", Overwrite=True)
    ssm.delete_parameter(Name="/d")
    assert fails(ssm.delete_parameter, Name="/d") == ("ParameterNotFound", "")
    assert ssm.put_parameter(Name="/d", Value="3", Type="String")["Version"] == 1


def test_delete_parameters_reports_deleted_and_invalid(ssm):
    for n in ("/x1", "/x2"):
        ssm.put_parameter(Name=n, Value="v", Type="String")
    out = ssm.delete_parameters(Names=["/x1", "/nope", "/x2"])
    assert (out["DeletedParameters"], out["InvalidParameters"]) == (["/x1", "/x2"], ["/nope"])
    assert ssm.describe_parameters()["Parameters"] == []


# labels ---------------------------------------------------------------------------------------
def test_labels_move_between_versions_and_bad_ones_are_listed(ssm):
    ssm.put_parameter(Name="/l", Value="1", Type="String")
    ssm.put_parameter(Name="/l", Value="2", Type="String", Overwrite=True)
    out = ssm.label_parameter_version(Name="/l", ParameterVersion=1,
                                      Labels=["prod", "1st", "awsy", "SSMx", "has/slash", "ok.v-1_"])
    assert (out["ParameterVersion"], out["InvalidLabels"]) == (1, ["1st", "awsy", "SSMx", "has/slash"])
    assert ssm.label_parameter_version(Name="/l", Labels=["prod"])["ParameterVersion"] == 2  # latest by default
    labels = {p["Version"]: p["Labels"] for p in ssm.get_parameter_history(Name="/l")["Parameters"]}
    assert labels == {1: ["ok.v-1_"], 2: ["prod"]}


def test_label_limits_and_errors(ssm):
    ssm.put_parameter(Name="/l", Value="1", Type="String")
    ssm.label_parameter_version(Name="/l", Labels=[f"l{i}" for i in range(10)])
    code, msg = fails(ssm.label_parameter_version, Name="/l", Labels=["eleven"])
    assert code == "ParameterVersionLabelLimitExceeded" and msg.startswith("A parameter version can have maximum 10")
    assert fails(ssm.label_parameter_version, Name="/l", ParameterVersion=5, Labels=["x"])[0] == (
        "ParameterVersionNotFound"
    )
    assert fails(ssm.label_parameter_version, Name="/none", Labels=["x"])[0] == "ParameterNotFound"


def test_unlabel_reports_removed_and_invalid(ssm):
    ssm.put_parameter(Name="/u", Value="1", Type="String")
    ssm.label_parameter_version(Name="/u", ParameterVersion=1, Labels=["a", "b"])
    out = ssm.unlabel_parameter_version(Name="/u", ParameterVersion=1, Labels=["a", "zzz"])
    assert (out["RemovedLabels"], out["InvalidLabels"]) == (["a"], ["zzz"])
    assert ssm.get_parameter_history(Name="/u")["Parameters"][0]["Labels"] == ["b"]
    assert fails(ssm.get_parameter, Name="/u:a")[0] == "ParameterVersionNotFound"
    assert fails(ssm.unlabel_parameter_version, Name="/u", ParameterVersion=3, Labels=["b"])[0] == (
        "ParameterVersionNotFound"
    )


# tags ------------------------------------------------------------------------------------------
def test_tags_from_put_and_from_the_tag_operations(ssm):
    ssm.put_parameter(Name="/t", Value="v", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/t",
                             Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "prod"}])
    listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/t")["TagList"]
    assert listed == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a"}]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/t", TagKeys=["env", "absent"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/t")["TagList"] == [
        {"Key": "team", "Value": "a"}
    ]
    ssm.put_parameter(Name="/t", Value="w", Type="String", Overwrite=True)
    assert len(ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/t")["TagList"]) == 1


def test_tag_errors(ssm):
    assert fails(ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId="/none")[0] == "InvalidResourceId"
    ssm.put_parameter(Name="/t", Value="v", Type="String")
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert fails(ssm.add_tags_to_resource, ResourceType="Parameter", ResourceId="/t", Tags=too_many)[0] == (
        "TooManyTagsError"
    )
    with pytest.raises(ClientError) as exc:
        ssm.list_tags_for_resource(ResourceType="Document", ResourceId="doc")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


# SecureString -----------------------------------------------------------------------------------
def test_secure_string_is_ciphertext_without_decryption(ssm):
    ssm.put_parameter(Name="/s", Value="p@ssw0rd", Type="SecureString")
    raw = ssm.get_parameter(Name="/s")["Parameter"]["Value"]
    assert raw != "p@ssw0rd" and b"p@ssw0rd" not in base64.b64decode(raw)
    assert ssm.get_parameter(Name="/s")["Parameter"]["Value"] == raw  # the stored ciphertext, not re-encrypted
    assert ssm.get_parameter(Name="/s", WithDecryption=True)["Parameter"]["Value"] == "p@ssw0rd"
    got = ssm.get_parameters(Names=["/s"], WithDecryption=True)["Parameters"][0]["Value"]
    assert got == "p@ssw0rd"
    ssm.put_parameter(Name="/s", Value="n3w", Overwrite=True)
    hist = ssm.get_parameter_history(Name="/s", WithDecryption=True)["Parameters"]
    assert [(p["Value"], p["KeyId"]) for p in hist] == [("p@ssw0rd", "alias/aws/ssm"), ("n3w", "alias/aws/ssm")]
    assert all(p["Value"] not in ("p@ssw0rd", "n3w") for p in ssm.get_parameter_history(Name="/s")["Parameters"])


def test_key_id_is_for_secure_strings_only(ssm):
    assert fails(ssm.put_parameter, Name="/k", Value="v", Type="String", KeyId="alias/mine")[0] == (
        "ValidationException"
    )


# isolation ---------------------------------------------------------------------------------------
def test_accounts_and_regions_never_see_each_others_parameters(cloud):
    scopes = [("111111111111", "us-east-1"), ("111111111111", "eu-west-1"),
              ("222222222222", "us-east-1"), ("222222222222", "eu-west-1")]
    name = f"/iso/{fresh_account()}"
    clients = {s: cloud.client("ssm", key=s[0], region=s[1]) for s in scopes}
    for (account, region), c in clients.items():
        c.put_parameter(Name=name, Value=f"{account}@{region}", Type="SecureString")
    for (account, region), c in clients.items():
        p = c.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert p["Value"] == f"{account}@{region}"
        assert p["ARN"] == f"arn:aws:ssm:{region}:{account}:parameter{name}"
        assert p["Version"] == 1
        assert described(c, ParameterFilters=[{"Key": "Name", "Values": [name]}]) == [name]
    clients[("111111111111", "us-east-1")].delete_parameter(Name=name)
    for scope, c in clients.items():
        expected = [] if scope == ("111111111111", "us-east-1") else [name]
        assert names(c.get_parameters(Names=[name])["Parameters"]) == expected
    other = cloud.client("ssm", key="111111111111", region="us-west-2")
    assert fails(other.get_parameter, Name=name) == ("ParameterNotFound", "")


# durability ---------------------------------------------------------------------------------------
def test_restart_on_the_same_data_directory_serves_everything(tmp_path):
    first = Cloud("--data-dir", str(tmp_path))
    try:
        first.advance(days=30)
        ssm = first.client("ssm", key="111111111111")
        ssm.put_parameter(Name="/keep/plain", Value="1", Type="String", Description="d",
                          Tags=[{"Key": "k", "Value": "v"}])
        ssm.put_parameter(Name="/keep/plain", Value="2", Type="String", Overwrite=True)
        ssm.put_parameter(Name="/keep/secret", Value="s3", Type="SecureString")
        ssm.label_parameter_version(Name="/keep/plain", ParameterVersion=1, Labels=["prod"])
        modified = ssm.get_parameter(Name="/keep/plain")["Parameter"]["LastModifiedDate"]
        assert modified > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=29)  # the cloudlet clock, moved
        before = ssm.get_parameter_history(Name="/keep/plain")["Parameters"]
        cipher = ssm.get_parameter(Name="/keep/secret")["Parameter"]["Value"]
    finally:
        first.proc.kill()  # no clean shutdown: acknowledged writes must already be on disk
        first.proc.wait()
        first.stop()
    second = Cloud("--data-dir", str(tmp_path))
    try:
        ssm = second.client("ssm", key="111111111111")
        assert ssm.get_parameter_history(Name="/keep/plain")["Parameters"] == before
        assert ssm.get_parameter(Name="/keep/plain:prod")["Parameter"]["Value"] == "1"
        assert ssm.get_parameter(Name="/keep/secret")["Parameter"]["Value"] == cipher
        assert ssm.get_parameter(Name="/keep/secret", WithDecryption=True)["Parameter"]["Value"] == "s3"
        assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/keep/plain")["TagList"] == [
            {"Key": "k", "Value": "v"}
        ]
        assert ssm.put_parameter(Name="/keep/plain", Value="3", Type="String", Overwrite=True)["Version"] == 3
    finally:
        second.stop()


# the rules, directly ---------------------------------------------------------------------------------
def code_of(fn, *args) -> str:
    with pytest.raises(ServiceError) as exc:
        fn(*args)
    return exc.value.code


@pytest.mark.parametrize("name", ["a", "/a", "/a/b-c_d.e", "A9", "/" + "/".join("x" * 15), "x" * 1011])
def test_valid_names(name):
    assert model.check_new_name(name) == name


@pytest.mark.parametrize("name,code", [
    ("", "ValidationException"), ("a/", "ValidationException"), ("/a/", "ValidationException"),
    ("/a:b", "ValidationException"), ("x" * 1012, "ValidationException"), ("ssm", "ValidationException"),
    ("/Aws/x", "AccessDeniedException"), ("/" + "/".join("x" * 16), "HierarchyLevelLimitExceededException"),
])
def test_invalid_names(name, code):
    assert code_of(model.check_new_name, name) == code


def test_references_and_selectors():
    assert model.parse_reference("/a") == model.Reference("/a")
    assert model.parse_reference("/a:12") == model.Reference("/a", version=12)
    assert model.parse_reference("/a:prod").selector == ":prod"
    assert model.parse_reference(" /a:3 ").selector == ":3"
    assert code_of(model.parse_reference, "/a:") == "ValidationException"
    assert code_of(model.parse_reference, "/a:1:2") == "ValidationException"
    assert model.parse_arn("arn:aws:ssm:eu-west-1:123456789012:parameter/x/y:3") == ("eu-west-1", "123456789012", "x/y:3")
    assert model.parse_arn("arn:aws:s3:::bucket") is None


@pytest.mark.parametrize("label,ok", [
    ("prod", True), ("Prod.v1-2_x", True), ("x" * 100, True), ("x" * 101, False), ("1st", False),
    ("aws-x", False), ("SSM", False), ("a/b", False), ("a b", False), ("", False), ("awkward", True),
])
def test_label_rules(label, ok):
    assert model.label_ok(label) is ok


def test_paths_and_parents():
    assert model.parent("/a/b/c") == "/a/b" and model.parent("/c") == "/" and model.parent("c") == "/"
    assert model.check_path("/a/b/") == "/a/b" and model.check_path("/") == "/"
    for bad in ("a", "/a//b", "/a b", ""):
        assert code_of(model.check_path, bad) == "ValidationException"
    assert model.in_path("/a/b", "/a", False) and not model.in_path("/a/b/c", "/a", False)
    assert model.in_path("/a/b/c", "/a", True) and not model.in_path("/ab/c", "/a", True)
    assert model.in_path("c", "/", False) and model.in_path("c", "/", True)
    assert model.scan_prefix("/") == "" and model.scan_prefix("/a") == "/a/"


def test_tier_choice_at_its_edges():
    S, A = model.STANDARD_MAX, model.ADVANCED_MAX
    assert model.choose_tier(None, None, S, False) == "Standard"
    assert code_of(model.choose_tier, None, None, S + 1, False) == "ValidationException"
    assert model.choose_tier("Intelligent-Tiering", None, S, False) == "Standard"
    assert model.choose_tier("Intelligent-Tiering", None, S + 1, False) == "Advanced"
    assert model.choose_tier("Intelligent-Tiering", None, 1, True) == "Advanced"  # standard quota used up
    assert model.choose_tier("Intelligent-Tiering", "Advanced", 1, False) == "Advanced"
    assert model.choose_tier(None, "Advanced", 1, False) == "Advanced"
    assert code_of(model.choose_tier, "Standard", "Advanced", 1, False) == "ValidationException"
    assert model.choose_tier("Advanced", None, A, False) == "Advanced"
    assert code_of(model.choose_tier, "Advanced", None, A + 1, False) == "ValidationException"
    assert model.value_size("é" * 3000) == 6000  # bytes, not characters


def test_data_types():
    model.check_data_type("text", None, "StringList", "anything")
    model.check_data_type("aws:ec2:image", None, "String", "ami-12345678")
    model.check_data_type("aws:ec2:image", None, "String", "ami-0123456789abcdef0")
    assert code_of(model.check_data_type, "aws:ec2:image", None, "String", "ami-123") == "ValidationException"
    assert code_of(model.check_data_type, "aws:ec2:image", None, "SecureString", "ami-12345678") == "ValidationException"
    assert code_of(model.check_data_type, "text", "aws:ec2:image", "String", "x") == "ValidationException"
    assert code_of(model.check_data_type, "aws:ssm:integration", None, "String", "x") == "NotImplemented"


def test_filters_parse_and_match():
    facts = model.Facts(name="db", type="SecureString", key_id="alias/aws/ssm", tier="Standard",
                        data_type="text", labels=frozenset({"prod"}), tags={"team": "core"})
    f = model.describe_filters([{"Key": "Name", "Values": ["/db"]}, {"Key": "Path", "Values": ["/"]}])
    assert model.matches(f, facts)
    assert model.matches(model.describe_filters([{"Key": "tag:team", "Option": "BeginsWith", "Values": ["co"]}]), facts)
    assert not model.matches(model.describe_filters([{"Key": "tag:other"}]), facts)
    assert model.matches(model.by_path_filters([{"Key": "Label", "Values": ["prod", "x"]}]), facts)
    assert not model.matches(model.describe_filters([{"Key": "Type", "Values": ["String"]}]), facts)
    assert code_of(model.describe_filters, [{"Key": "Path", "Values": ["/aws/x"]}]) == "ValidationException"
    assert code_of(model.by_path_filters, [{"Key": "tag:team", "Values": ["x"]}]) == "InvalidFilterKey"
    assert code_of(model.describe_filters, [{"Key": "Bogus", "Values": ["x"]}]) == "InvalidFilterKey"


def test_page_tokens_round_trip_and_refuse_tampering():
    token = model.make_token("DescribeParameters", "/a/b")
    assert model.read_token("DescribeParameters", token, str) == "/a/b"
    assert model.read_token("DescribeParameters", None, str) is None
    assert code_of(model.read_token, "GetParametersByPath", token, str) == "InvalidNextToken"
    assert code_of(model.read_token, "DescribeParameters", token, int) == "InvalidNextToken"
    assert code_of(model.read_token, "DescribeParameters", "!!!", str) == "InvalidNextToken"


def test_allowed_pattern_is_a_full_match():
    model.check_allowed_pattern(r"\d{1,4}", "1234")
    assert code_of(model.check_allowed_pattern, r"\d{1,4}", "12345") == "ParameterPatternMismatchException"
    assert code_of(model.check_allowed_pattern, "[", "x") == "InvalidAllowedPatternException"


def test_ciphertext_is_bound_to_key_name_and_key_id():
    key, other = os.urandom(32), os.urandom(32)
    blob = crypto.encrypt(key, "/a", "alias/aws/ssm", "secret")
    assert crypto.decrypt(key, "/a", "alias/aws/ssm", blob) == "secret"
    assert blob != crypto.encrypt(key, "/a", "alias/aws/ssm", "secret")  # a fresh nonce each time
    for args in ((other, "/a", "alias/aws/ssm"), (key, "/b", "alias/aws/ssm"), (key, "/a", "alias/other")):
        with pytest.raises(ValueError):
            crypto.decrypt(*args, blob)


def test_iam_resources_are_parameter_arns_without_selectors():
    from types import SimpleNamespace

    from cloudlet.services.ssm import resources

    ctx = SimpleNamespace(partition="aws", region="eu-west-1", account="123456789012")
    base = "arn:aws:ssm:eu-west-1:123456789012:parameter"
    assert list(resources(ctx, "GetParameter", {"Name": "/app/db:3"})) == [f"{base}/app/db"]
    assert list(resources(ctx, "GetParameters", {"Names": ["a", f"{base}/b:prod"]})) == [f"{base}/a", f"{base}/b"]
    assert list(resources(ctx, "GetParametersByPath", {"Path": "/app/"})) == [f"{base}/app"]
    assert list(resources(ctx, "AddTagsToResource", {"ResourceType": "Parameter", "ResourceId": "/x"})) == [f"{base}/x"]
    assert list(resources(ctx, "DescribeParameters", {})) == ["*"]
