"""KeyConditionExpression and KeyConditions: shape checks before the table is known, key
schema checks after, and the range a Query reads."""

from __future__ import annotations

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.expressions import compile_key_condition, compile_request

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": v}  # noqa: E731


def kc(expr: str, values: dict, names: dict | None = None, hash_key: str = "pk", range_key: str | None = "sk", **kw):
    return compile_key_condition(expr, names, values, hash_key, range_key, **kw)


def error(expr: str, values: dict | None = None, names: dict | None = None, **bind) -> str:
    req = {"KeyConditionExpression": expr}
    if values:
        req["ExpressionAttributeValues"] = values
    if names:
        req["ExpressionAttributeNames"] = names
    with pytest.raises(ServiceError) as info:
        compile_request("Query", req, **bind)
    assert info.value.code == "ValidationException"
    return info.value.message


@pytest.mark.parametrize(
    "expr, values, op, range_values",
    [
        ("pk = :p", {":p": S("a")}, None, []),
        ("pk = :p AND sk = :s", {":p": S("a"), ":s": S("x")}, "=", [S("x")]),
        ("pk = :p AND sk < :s", {":p": S("a"), ":s": S("x")}, "<", [S("x")]),
        ("pk = :p AND sk <= :s", {":p": S("a"), ":s": S("x")}, "<=", [S("x")]),
        ("pk = :p AND sk > :s", {":p": S("a"), ":s": S("x")}, ">", [S("x")]),
        ("pk = :p AND sk >= :s", {":p": S("a"), ":s": S("x")}, ">=", [S("x")]),
        ("sk >= :s AND pk = :p", {":p": S("a"), ":s": S("x")}, ">=", [S("x")]),  # any order
        ("pk = :p AND :s <= sk", {":p": S("a"), ":s": S("x")}, ">=", [S("x")]),  # value first: flipped
        (":p = pk AND :s > sk", {":p": S("a"), ":s": S("x")}, "<", [S("x")]),
        ("pk = :p AND sk BETWEEN :a AND :b", {":p": S("a"), ":a": S("b"), ":b": S("c")}, "BETWEEN", [S("b"), S("c")]),
        ("pk = :p AND begins_with(sk, :s)", {":p": S("a"), ":s": S("pre")}, "begins_with", [S("pre")]),
        ("(pk = :p) AND (sk = :s)", {":p": S("a"), ":s": S("x")}, "=", [S("x")]),
        ("(pk = :p AND sk = :s)", {":p": S("a"), ":s": S("x")}, "=", [S("x")]),
        ("((pk = :p)) AND ((sk = :s))", {":p": S("a"), ":s": S("x")}, "=", [S("x")]),  # no redundancy check here
        ("pk = :p and sk = :s", {":p": S("a"), ":s": S("x")}, "=", [S("x")]),
    ],
)
def test_key_conditions(expr, values, op, range_values):
    cond = kc(expr, values)
    assert cond.hash_key == "pk" and cond.hash_value == S("a")
    assert cond.range_key == "sk" and cond.range_op == op and cond.range_values == range_values


def test_names_in_key_conditions():
    cond = kc("#p = :p AND #s < :s", {":p": N("1"), ":s": N("2")}, {"#p": "status", "#s": "size"}, "status", "size")
    assert (cond.hash_key, cond.range_op, cond.range_values) == ("status", "<", [N("2")])


def test_matches_mirrors_the_range():
    cond = kc("pk = :p AND sk BETWEEN :a AND :b", {":p": S("a"), ":a": N("1"), ":b": N("5")})
    assert cond.matches({"pk": S("a"), "sk": N("5")})
    assert not cond.matches({"pk": S("a"), "sk": N("5.5")})
    assert not cond.matches({"pk": S("b"), "sk": N("3")})
    prefix = kc("pk = :p AND begins_with(sk, :s)", {":p": S("a"), ":s": S("ab")})
    assert prefix.matches({"pk": S("a"), "sk": S("abc")})
    assert not prefix.matches({"pk": S("a"), "sk": S("b")})


# shape, checked before the table ------------------------------------------------------------
@pytest.mark.parametrize(
    "expr, word",
    [
        ("a > b and size(b) > c or a > c", "OR"),
        ("a in (b, size(c), d)", "IN"),
        ("attribute_exists(a)", "attribute_exists"),
        ("attribute_not_exists(a)", "attribute_not_exists"),
        ("contains(a.d, b)", "contains"),
        ("not a > b", "NOT"),
        ("a <> b", "<>"),
    ],
)
def test_invalid_operators(expr, word):
    assert error(expr) == f"Invalid operator used in KeyConditionExpression: {word}"


def test_attribute_type_gets_the_general_checks_first():
    assert error("attribute_type(a, :a)", {":a": N("1")}) == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: attribute_type, operand type: N"
    )
    assert error("attribute_type(a, :a)", {":a": S("S")}) == "Invalid operator used in KeyConditionExpression: attribute_type"


@pytest.mark.parametrize(
    "expr, message",
    [
        (":a between size(b) and size(a) and b > :b", "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"),
        ("begins_with(:a, b) and a > :b", "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"),
        ("size(b) > a AND a.b > b AND b > c", "KeyConditionExpressions cannot contain nested operations"),
        ("a > size(b.d)", "KeyConditionExpressions cannot contain nested operations"),
        ("a between size(b) and size(a)", "KeyConditionExpressions cannot contain nested operations"),
        ("b > a.b", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("b between c[1] and d", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("a between b and size(a)", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("begins_with(a, b)", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("b.d > a AND c.d > e.f", "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("a.d > c", "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("b[0] > a", "KeyConditionExpressions cannot have conditions on nested attributes"),
        (":b > :a AND a < :b", "Invalid condition in KeyConditionExpression: No key attribute specified"),
        ("b > :a AND b < :a and c = :a and d = :a", "KeyConditionExpressions must only contain one condition per key"),
        ("(a > :a and b > :a) and (b > :a and c > :a)", "KeyConditionExpressions must only contain one condition per key"),
        (":a = a and b = :a and :a = c", "Conditions can be of length 1 or 2 only"),
        ("(a > :a and b > :a) and (c > :a and d > :a) and (e > :a and f > :a)", "Conditions can be of length 1 or 2 only"),
    ],
)  # fmt: skip
def test_shape(expr, message):
    values = {k: v for k, v in {":a": S("1"), ":b": S("1")}.items() if k in expr}
    assert error(expr, values) == message


def test_between_bounds():
    assert error("a between :b and :a", {":a": S("a"), ":b": N("1")}) == (
        "Invalid KeyConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; "
        "lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"
    )
    assert error("a between :b and :a", {":a": S("a"), ":b": S("b")}) == (
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
        "lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"
    )


def test_begins_with_takes_strings_and_binaries():
    assert error("pk = :p AND begins_with(sk, :n)", {":p": S("a"), ":n": N("1")}) == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )


# against the key schema ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr, values, range_key, message",
    [
        ("sk = :v", {":v": S("x")}, "sk", "Query condition missed key schema element: pk"),
        ("attr1 = :v", {":v": S("x")}, "sk", "Query condition missed key schema element: pk"),
        ("z between :a and :b", {":a": N("1"), ":b": N("1")}, "sk", "Query condition missed key schema element: pk"),
        ("pk = :a and c = :b", {":a": S("b"), ":b": N("1")}, "sk", "Query condition missed key schema element: sk"),
        ("pk > :a", {":a": S("1")}, None, "Query key condition not supported"),
        ("begins_with(pk, :a)", {":a": S("1")}, None, "Query key condition not supported"),
        ("pk between :a and :a", {":a": S("1")}, None, "Query key condition not supported"),
        ("pk = :a AND sk = :a", {":a": S("1")}, None, "Query key condition not supported"),
        ("y = :a and z = :a", {":a": S("1")}, None, "Query key condition not supported"),
        ("pk < :a and sk = :a", {":a": S("1")}, "sk", "Query key condition not supported"),
    ],
)
def test_schema(expr, values, range_key, message):
    assert error(expr, values, hash_key="pk", range_key=range_key) == message


def test_value_types_must_match_the_schema():
    assert error(":a > pk", {":a": N("1")}, hash_key="pk", range_key=None, key_types={"pk": "S"}) == (
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    )
    assert error("pk = :p AND sk > :s", {":p": S("a"), ":s": S("1")}, hash_key="pk", range_key="sk", key_types={"pk": "S", "sk": "N"}) == (
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    )


def test_a_query_needs_a_key_condition():
    with pytest.raises(ServiceError) as info:
        compile_request("Query", {"FilterExpression": "a = :v", "ExpressionAttributeValues": {":v": S("x")}})
    assert info.value.message == "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."


def test_without_a_schema_only_the_shape_is_checked():
    compiled = compile_request("Query", {"KeyConditionExpression": "x = :v", "ExpressionAttributeValues": {":v": S("x")}})
    assert compiled.key_condition is None
    assert compiled.key_spec.conditions == [("x", "=", [S("x")])]
    with pytest.raises(ServiceError):
        compiled.key_spec.bind("pk", "sk")


# legacy KeyConditions --------------------------------------------------------------------------
def legacy(conditions: dict, hash_key: str = "a", range_key: str | None = "b"):
    return compile_request("Query", {"KeyConditions": conditions}, hash_key=hash_key, range_key=range_key)


def legacy_error(conditions: dict, **kw) -> str:
    with pytest.raises(ServiceError) as info:
        legacy(conditions, **kw)
    return info.value.message


def test_legacy_key_conditions():
    cond = legacy(
        {"a": {"ComparisonOperator": "EQ", "AttributeValueList": [S("x")]},
         "b": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("pre")]}}
    ).key_condition  # fmt: skip
    assert (cond.hash_value, cond.range_op, cond.range_values) == (S("x"), "begins_with", [S("pre")])
    cond = legacy(
        {"b": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N("1"), N("2")]},
         "a": {"ComparisonOperator": "EQ", "AttributeValueList": [S("x")]}}
    ).key_condition  # fmt: skip
    assert (cond.range_op, cond.range_values) == ("BETWEEN", [N("1"), N("2")])


@pytest.mark.parametrize(
    "conditions, message",
    [
        ({}, "Conditions can be of length 1 or 2 only"),
        ({"a": {"ComparisonOperator": "NULL"}, "b": {"ComparisonOperator": "NULL"}, "c": {"ComparisonOperator": "NULL"}},
         "Conditions can be of length 1 or 2 only"),
        ({"a": {"ComparisonOperator": "EQ"}}, "The attempted filter operation is not supported for the provided filter argument count"),
        ({"a": {"ComparisonOperator": "NULL", "AttributeValueList": [S("a")]}},
         "The attempted filter operation is not supported for the provided filter argument count"),
        ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [S("a")] * 3}},
         "The attempted filter operation is not supported for the provided filter argument count"),
        ({"a": {"ComparisonOperator": "LT", "AttributeValueList": [{"BOOL": True}]}},
         "One or more parameter values were invalid: ComparisonOperator LT is not valid for BOOL AttributeValue type"),
        ({"a": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [N("1")]}},
         "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
        ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [S("b"), N("1")]}},
         "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"),
        ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [S("b"), S("a")]}},
         "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"),
        ({"a": {"ComparisonOperator": "NE", "AttributeValueList": [N("1")]}}, "Attempted conditional constraint is not an indexable operation"),
        ({"a": {"ComparisonOperator": "EQ", "AttributeValueList": [S("x")]}, "b": {"ComparisonOperator": "NULL"}},
         "Attempted conditional constraint is not an indexable operation"),
        ({"a": {"ComparisonOperator": "LE", "AttributeValueList": [S("a")]}}, "Query key condition not supported"),
        ({"c": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}}, "Query condition missed key schema element: a"),
        ({"a": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}, "c": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}},
         "Query condition missed key schema element: b"),
    ],
)  # fmt: skip
def test_legacy_key_condition_errors(conditions, message):
    assert legacy_error(conditions) == message


def test_a_query_filter_cannot_name_the_key_attributes():
    req = {"KeyConditionExpression": "pk = :p", "FilterExpression": "sk > :s AND x = :s",
           "ExpressionAttributeValues": {":p": S("a"), ":s": S("b")}}  # fmt: skip
    with pytest.raises(ServiceError) as info:
        compile_request("Query", req, hash_key="pk", range_key="sk")
    assert info.value.message == "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    compile_request("Scan", {"FilterExpression": "sk > :s", "ExpressionAttributeValues": {":s": S("b")}})
