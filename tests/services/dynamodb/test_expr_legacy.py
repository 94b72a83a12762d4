"""The legacy condition parameters: Expected (with ConditionalOperator), QueryFilter and
ScanFilter, with their own validation wording."""

from __future__ import annotations

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.expressions import compile_request

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": v}  # noqa: E731
PREFIX = "One or more parameter values were invalid: "
ITEM = {"a": S("abc"), "n": N("5"), "ss": {"SS": ["x", "y"]}, "l": {"L": [N("1"), S("z")]}, "b": {"B": b"\x01\x02"}}


def expected(spec: dict, operator: str | None = None):
    req = {"Item": {}, "Expected": spec}
    if operator:
        req["ConditionalOperator"] = operator
    return compile_request("PutItem", req).condition


def scan_filter(spec: dict, operator: str | None = None):
    req = {"ScanFilter": spec}
    if operator:
        req["ConditionalOperator"] = operator
    return compile_request("Scan", req).filter


def cond(op: str, *values) -> dict:
    out = {"ComparisonOperator": op}
    if values:
        out["AttributeValueList"] = list(values)
    return out


@pytest.mark.parametrize(
    "attr, condition, result",
    [
        ("n", cond("EQ", N("5.0")), True),
        ("n", cond("EQ", S("5")), False),
        ("n", cond("NE", S("5")), True),
        ("absent", cond("NE", S("5")), True),
        ("n", cond("LT", N("6")), True),
        ("n", cond("LE", N("5")), True),
        ("n", cond("GT", N("5")), False),
        ("n", cond("GE", N("5")), True),
        ("a", cond("GT", S("ab")), True),
        ("n", cond("LT", S("6")), False),
        ("absent", cond("NULL"), True),
        ("a", cond("NULL"), False),
        ("a", cond("NOT_NULL"), True),
        ("a", cond("CONTAINS", S("bc")), True),
        ("ss", cond("CONTAINS", S("y")), True),
        ("l", cond("CONTAINS", N("1")), True),
        ("b", cond("CONTAINS", {"B": b"\x02"}), True),
        ("ss", cond("NOT_CONTAINS", S("q")), True),
        ("ss", cond("NOT_CONTAINS", S("x")), False),
        ("a", cond("BEGINS_WITH", S("ab")), True),
        ("b", cond("BEGINS_WITH", {"B": b"\x01"}), True),
        ("n", cond("IN", N("1"), N("5")), True),
        ("n", cond("IN", N("1"), N("2")), False),
        ("n", cond("BETWEEN", N("5"), N("6")), True),
        ("a", cond("BETWEEN", S("b"), S("c")), False),
    ],
)
def test_filter_operators(attr, condition, result):
    assert scan_filter({attr: condition}).matches(ITEM) is result
    assert expected({attr: condition}).matches(ITEM) is result


def test_conditional_operator():
    spec = {"n": cond("EQ", N("5")), "a": cond("EQ", S("nope"))}
    assert scan_filter(spec).matches(ITEM) is False
    assert scan_filter(spec, "AND").matches(ITEM) is False
    assert scan_filter(spec, "OR").matches(ITEM) is True
    assert expected(spec, "OR").matches(ITEM) is True


def test_expected_value_and_exists():
    assert expected({"n": {"Value": N("5")}}).matches(ITEM)
    assert expected({"n": {"Value": N("5"), "Exists": True}}).matches(ITEM)
    assert not expected({"n": {"Value": N("6")}}).matches(ITEM)
    assert expected({"absent": {"Exists": False}}).matches(ITEM)
    assert not expected({"n": {"Exists": False}}).matches(ITEM)
    assert not expected({"n": {"Value": N("5")}}).matches({})
    assert expected({"n": {"ComparisonOperator": "GT", "Value": N("4")}}).matches(ITEM)  # Value as the one argument
    assert expected({"active": {"Value": {"BOOL": False}, "Exists": True}}).matches({"active": {"BOOL": False}})


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"a": {}}, "Value must be provided when Exists is null for Attribute: a"),
        ({"a": {"Exists": True}}, "Value must be provided when Exists is true for Attribute: a"),
        ({"a": {"Exists": False, "Value": S("a")}}, "Value cannot be used when Exists is false for Attribute: a"),
        ({"a": {"ComparisonOperator": "LT"}}, "Value or AttributeValueList must be used with ComparisonOperator: LT for Attribute: a"),
        ({"a": {"Exists": True, "ComparisonOperator": "LT"}}, "Exists and ComparisonOperator cannot be used together for Attribute: a"),
        ({"a": {"AttributeValueList": [S("a")], "Value": S("a"), "ComparisonOperator": "LT"}},
         "Value and AttributeValueList cannot be used together for Attribute: a"),
        ({"a": {"AttributeValueList": [S("a")]}}, "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
        ({"a": {"Exists": True, "AttributeValueList": [S("a")]}}, "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
        ({"a": {"AttributeValueList": [], "ComparisonOperator": "EQ"}}, "Invalid number of argument(s) for the EQ ComparisonOperator"),
        ({"a": {"AttributeValueList": [S("a")], "ComparisonOperator": "NULL"}}, "Invalid number of argument(s) for the NULL ComparisonOperator"),
        ({"a": {"AttributeValueList": [], "ComparisonOperator": "IN"}}, "Invalid number of argument(s) for the IN ComparisonOperator"),
        ({"a": {"AttributeValueList": [N("1"), N("10"), N("12")], "ComparisonOperator": "BETWEEN"}},
         "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        ({"a": {"Value": S("a"), "ComparisonOperator": "NULL"}}, "Invalid number of argument(s) for the NULL ComparisonOperator"),
        ({"a": {"Value": S("a"), "ComparisonOperator": "BETWEEN"}}, "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        ({"a": {"Value": {"SS": []}}}, "An string set  may not be empty"),
    ],
)  # fmt: skip
def test_expected_validation(spec, message):
    with pytest.raises(ServiceError) as info:
        expected(spec)
    assert info.value.message == PREFIX + message


@pytest.mark.parametrize("op", ["LT", "LE", "GT", "GE", "IN"])
@pytest.mark.parametrize("value", [{"BOOL": True}, {"NULL": True}, {"SS": ["a"]}, {"NS": ["1"]}, {"BS": [b"a"]}, {"M": {}}, {"L": []}])
def test_operators_accept_only_some_types(op, value):
    with pytest.raises(ServiceError) as info:
        scan_filter({"a": cond(op, value)})
    assert info.value.message == PREFIX + f"ComparisonOperator {op} is not valid for {next(iter(value))} AttributeValue type"


@pytest.mark.parametrize("op", ["CONTAINS", "NOT_CONTAINS"])
@pytest.mark.parametrize("value", [{"SS": ["a"]}, {"NS": ["1"]}, {"M": {}}, {"L": []}])
def test_contains_takes_scalars(op, value):
    with pytest.raises(ServiceError) as info:
        scan_filter({"a": cond(op, value)})
    assert info.value.message == PREFIX + f"ComparisonOperator {op} is not valid for {next(iter(value))} AttributeValue type"


@pytest.mark.parametrize(
    "spec",
    [
        {"a": {"ComparisonOperator": "EQ"}},
        {"a": cond("EQ", S("a"), S("a"))},
        {"a": cond("NOT_NULL", S("a"))},
        {"a": cond("BETWEEN", S("a"))},
        {"a": cond("CONTAINS")},
    ],
)
def test_filter_argument_counts(spec):
    with pytest.raises(ServiceError) as info:
        scan_filter(spec)
    op = spec["a"]["ComparisonOperator"]
    assert info.value.message == PREFIX + f"Invalid number of argument(s) for the {op} ComparisonOperator"


def test_filter_values_are_validated():
    with pytest.raises(ServiceError) as info:
        scan_filter({"a": cond("EQ", N("x"))})
    assert info.value.message == "The parameter cannot be converted to a numeric value: x"
    with pytest.raises(ServiceError) as info:
        scan_filter({"a": cond("EQ", {"S": "a", "N": "1"})})
    assert info.value.message.startswith("Supplied AttributeValue has more than one datatypes set")


def test_query_filter():
    compiled = compile_request(
        "Query",
        {"KeyConditions": {"a": cond("EQ", S("abc"))}, "QueryFilter": {"n": cond("GT", N("1"))}},
        hash_key="a",
        range_key=None,
    )
    assert compiled.filter.matches(ITEM)
    assert compiled.key_condition.hash_value == S("abc")
