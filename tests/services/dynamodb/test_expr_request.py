"""A request's expressions together: legacy and expression parameters not mixed, names and
values checked and all used, and DynamoDB's order between these checks."""

from __future__ import annotations

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.expressions import compile_request

S = lambda v: {"S": v}  # noqa: E731


def error(op: str, req: dict) -> str:
    with pytest.raises(ServiceError) as info:
        compile_request(op, {"TableName": "t", **req})
    assert info.value.code == "ValidationException" and info.value.status == 400
    return info.value.message


MIXED = "Can not use both expression and non-expression parameters in the same request: "


@pytest.mark.parametrize(
    "op, req, lists",
    [
        ("PutItem", {"Item": {}, "Expected": {"pk": {"Exists": False}}, "ConditionExpression": "attribute_not_exists(pk)"},
         "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"),
        ("UpdateItem", {"Key": {}, "Expected": {"a": {}}, "AttributeUpdates": {}, "ExpressionAttributeNames": {},
                        "ExpressionAttributeValues": {}, "ConditionExpression": "", "UpdateExpression": ""},
         "Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression, ConditionExpression}"),
        ("Scan", {"ScanFilter": {}, "AttributesToGet": ["a", "a"], "ConditionalOperator": "OR", "FilterExpression": "",
                  "ProjectionExpression": "", "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}},
         "Non-expression parameters: {AttributesToGet, ScanFilter, ConditionalOperator} Expression parameters: {ProjectionExpression, FilterExpression}"),
        ("GetItem", {"Key": {}, "AttributesToGet": ["a"], "ProjectionExpression": "a"},
         "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"),
        ("DeleteItem", {"Key": {}, "ConditionalOperator": "AND", "ConditionExpression": "a = b"},
         "Non-expression parameters: {ConditionalOperator} Expression parameters: {ConditionExpression}"),
    ],
)  # fmt: skip
def test_legacy_and_expression_parameters_do_not_mix(op, req, lists):
    assert error(op, req) == MIXED + lists


def test_names_and_values_only_with_expressions():
    legacy = {"Key": {}, "Expected": {"a": {}}}
    assert error("UpdateItem", {**legacy, "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}}) == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
    assert error("UpdateItem", {**legacy, "ExpressionAttributeValues": {}}) == (
        "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null"
    )
    assert error("Scan", {"ProjectionExpression": "a", "ExpressionAttributeValues": {":v": S("x")}}) == (
        "ExpressionAttributeValues can only be specified when using expressions: FilterExpression is null"
    )
    assert error("PutItem", {"Item": {}, "ExpressionAttributeValues": {":v": S("x")}}) == (
        "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"
    )
    assert error("UpdateItem", {"Key": {}, "ExpressionAttributeNames": {"#s": "status"}}) == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )


@pytest.mark.parametrize(
    "req, message",
    [
        ({"ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}}, "ExpressionAttributeNames must not be empty"),
        ({"ExpressionAttributeNames": {"a": "a"}, "ExpressionAttributeValues": {}},
         'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        ({"ExpressionAttributeNames": {"#a-b": "a"}}, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'),
        ({"ExpressionAttributeValues": {}}, "ExpressionAttributeValues must not be empty"),
        ({"ExpressionAttributeValues": {":b": {"a": ""}, "b": S("a")}}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"'),
        ({"ExpressionAttributeValues": {":b": {}}},
         "ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes for key :b"),
        ({"ExpressionAttributeValues": {":b": {"S": "a", "N": "1"}}},
         "ExpressionAttributeValues contains invalid value: Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes for key :b"),
        ({"ExpressionAttributeValues": {":b": {"SS": []}}},
         "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :b"),
        ({"ExpressionAttributeValues": {":b": {"SS": ["a", "a"]}}},
         "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: Input collection [a, a] contains duplicates. for key :b"),
        ({"ExpressionAttributeValues": {":b": {"N": "b"}}},
         "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value: b for key :b"),
        ({"ExpressionAttributeValues": {":b": {"NS": ["1", "1"]}}},
         "ExpressionAttributeValues contains invalid value: Input collection contains duplicates for key :b"),
    ],
)  # fmt: skip
def test_names_and_values_are_checked_before_the_expressions(req, message):
    # the expressions here are empty: the names and values are found wanting first
    assert error("Scan", {"FilterExpression": "", **req}) == message


def test_empty_strings_are_values_like_any_other():
    compiled = compile_request("Scan", {"FilterExpression": "a = :e", "ExpressionAttributeValues": {":e": S("")}})
    assert compiled.filter.matches({"a": S("")})


def test_values_are_canonicalised():
    compiled = compile_request("Scan", {"FilterExpression": "a = :n", "ExpressionAttributeValues": {":n": {"N": "1.50"}}})
    assert compiled.filter.matches({"a": {"N": "1.5"}})


def test_expressions_are_parsed_in_dynamodbs_order():
    assert error("Query", {"KeyConditionExpression": "", "FilterExpression": "", "ProjectionExpression": "",
                           "ExpressionAttributeValues": {":0": S("b")}}) == (
        "Invalid KeyConditionExpression: The expression can not be empty;"
    )  # fmt: skip
    assert error("Query", {"KeyConditionExpression": "a = :v", "FilterExpression": "", "ProjectionExpression": "",
                           "ExpressionAttributeValues": {":v": S("b")}}) == "Invalid FilterExpression: The expression can not be empty;"  # fmt: skip
    assert error("Scan", {"FilterExpression": "a > b", "ProjectionExpression": ""}) == (
        "Invalid ProjectionExpression: The expression can not be empty;"
    )
    assert error("UpdateItem", {"Key": {}, "ConditionExpression": "", "UpdateExpression": ""}) == (
        "Invalid UpdateExpression: The expression can not be empty;"
    )


def test_every_text_check_before_any_binding():
    # the filter's undefined value would be reported per expression; the projection's syntax error comes first
    assert error("Scan", {"FilterExpression": "a = :nope", "ProjectionExpression": "a,"}).startswith(
        "Invalid ProjectionExpression: Syntax error;"
    )


@pytest.mark.parametrize(
    "op, req, message",
    [
        ("Query", {"KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": S("val")},
                   "ExpressionAttributeNames": {"#unused": "someattr"}},
         "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"),
        ("UpdateItem", {"Key": {}, "UpdateExpression": "SET #s = :v", "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":v": S("x"), ":unused": S("y")}},
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"),
        ("UpdateItem", {"Key": {}, "UpdateExpression": "remove a set b = list_append(b, if_not_exists(a, :a))",
                        "ConditionExpression": "a = :b", "ExpressionAttributeValues": {":a": S("a"), ":b": S("a")},
                        "ExpressionAttributeNames": {"#a": "a", "#b": "b"}},
         "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"),
        ("UpdateItem", {"Key": {}, "UpdateExpression": "remove a", "ConditionExpression": "a = :b",
                        "ExpressionAttributeValues": {":a": S("a"), ":b": S("a"), ":c": S("a")}},
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :c}"),
        ("PutItem", {"Item": {}, "ConditionExpression": "attribute_not_exists(pk)", "ExpressionAttributeValues": {":v": S("x")}},
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"),
    ],
)  # fmt: skip
def test_unused_names_and_values(op, req, message):
    assert error(op, req) == message


def test_a_name_used_by_any_expression_of_the_request_is_used():
    compiled = compile_request(
        "Query",
        {
            "KeyConditionExpression": "#pk = :p",
            "FilterExpression": "#f > :n",
            "ProjectionExpression": "#pk, #x",
            "ExpressionAttributeNames": {"#pk": "pk", "#f": "f", "#x": "x"},
            "ExpressionAttributeValues": {":p": S("a"), ":n": {"N": "1"}},
        },
        hash_key="pk",
        range_key=None,
    )
    assert compiled.key_condition.hash_value == S("a")
    assert compiled.projection.apply({"pk": S("a"), "x": S("x"), "y": S("y")}) == {"pk": S("a"), "x": S("x")}


def test_undefined_names_per_expression():
    assert error("Query", {"KeyConditionExpression": "pk = :pk", "FilterExpression": "#missing = :fv",
                           "ExpressionAttributeValues": {":pk": S("val"), ":fv": S("x")}}) == (
        "Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"
    )  # fmt: skip


def test_compiled_expressions_without_values_are_shared():
    req = {"Key": {}, "ProjectionExpression": "#a, b", "ExpressionAttributeNames": {"#a": "a"}}
    first = compile_request("GetItem", req).projection
    assert compile_request("GetItem", dict(req)).projection is first
    other = compile_request("GetItem", {**req, "ExpressionAttributeNames": {"#a": "c"}}).projection
    assert other is not first and other.names == ["c", "b"]
    with pytest.raises(ServiceError):  # sharing does not skip the unused check
        compile_request("GetItem", {**req, "ExpressionAttributeNames": {"#a": "a", "#z": "z"}})


def test_transaction_condition_checks_and_batch_gets():
    c = compile_request("ConditionCheck", {"Key": {}, "ConditionExpression": "attribute_exists(pk)"}).condition
    assert c.matches({"pk": S("x")}) and not c.matches({})
    p = compile_request("BatchGetItem", {"Keys": [], "AttributesToGet": ["a"]}).projection
    assert p.apply({"a": S("1"), "b": S("2")}) == {"a": S("1")}


def test_nothing_to_compile():
    compiled = compile_request("GetItem", {"Key": {}})
    assert compiled.projection is None and compiled.condition is None
