"""ProjectionExpression and AttributesToGet: the parts of an item a read returns."""

from __future__ import annotations

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.expressions import compile_projection, compile_request
from cloudlet.services.dynamodb.expressions.paths import check_distinct, display

S = lambda v: {"S": v}  # noqa: E731
ITEM = {
    "pk": S("p"),
    "a": S("x"),
    "m": {"M": {"x": S("1"), "y": S("2"), "n": {"M": {"deep": S("d"), "oth": S("o")}}}},
    "l": {"L": [S("l0"), S("l1"), {"M": {"k": S("v"), "j": S("w")}}, S("l3")]},
}


def project(expr: str, names: dict | None = None, item: dict = ITEM) -> dict:
    return compile_projection(expr, names).apply(item)


@pytest.mark.parametrize(
    "expr, result",
    [
        ("a", {"a": S("x")}),
        ("a, pk", {"a": S("x"), "pk": S("p")}),
        ("absent", {}),
        ("a, absent", {"a": S("x")}),
        ("m.x", {"m": {"M": {"x": S("1")}}}),
        ("m.x, m.y", {"m": {"M": {"x": S("1"), "y": S("2")}}}),
        ("m.n.deep", {"m": {"M": {"n": {"M": {"deep": S("d")}}}}}),
        ("m.absent", {}),  # a map that keeps nothing is left out
        ("m.x.y", {}),  # through a string: nothing
        ("l[0]", {"l": {"L": [S("l0")]}}),
        ("l[3], l[1]", {"l": {"L": [S("l1"), S("l3")]}}),  # kept in list order, closed up
        ("l[9]", {}),
        ("l[2].k", {"l": {"L": [{"M": {"k": S("v")}}]}}),
        ("l[2].k, l[0], m.n.oth", {"l": {"L": [S("l0"), {"M": {"k": S("v")}}]}, "m": {"M": {"n": {"M": {"oth": S("o")}}}}}),
        ("l.x", {}),
        ("m[0]", {}),
    ],
)
def test_projection(expr, result):
    assert project(expr) == result


def test_names_in_projections():
    assert project("#s, #m.#x", {"#s": "a", "#m": "m", "#x": "x"}) == {"a": S("x"), "m": {"M": {"x": S("1")}}}
    assert project("#d", {"#d": "m.x"}, {"m.x": S("flat"), "m": {"M": {"x": S("nested")}}}) == {"m.x": S("flat")}


def test_projection_leaves_the_item_alone():
    item = {"m": {"M": {"x": S("1"), "y": S("2")}}}
    project("m.x", item=item)
    assert item == {"m": {"M": {"x": S("1"), "y": S("2")}}}


def test_names_lists_top_level_attributes():
    assert compile_projection("m.x, a, m.y, l[0]").names == ["m", "a", "l"]


@pytest.mark.parametrize(
    "expr, one, two, what",
    [
        ("a, a", "[a]", "[a]", "overlap"),
        ("a, a.b", "[a]", "[a, b]", "overlap"),
        ("a.b, a", "[a, b]", "[a]", "overlap"),
        ("a[0].b, a[0]", "[a, [0], b]", "[a, [0]]", "overlap"),
        ("a.b, a[0]", "[a, b]", "[a, [0]]", "conflict"),
        ("a[1], a.c.d", "[a, [1]]", "[a, c, d]", "conflict"),
    ],
)
def test_overlapping_and_conflicting_paths(expr, one, two, what):
    with pytest.raises(ServiceError) as info:
        compile_projection(expr)
    verb = "overlap with each other" if what == "overlap" else "conflict with each other"
    assert info.value.message == (
        f"Invalid ProjectionExpression: Two document paths {verb}; must remove or rewrite one of these paths; "
        f"path one: {one}, path two: {two}"
    )


def test_siblings_are_fine():
    compile_projection("a.b, a.c, l[0], l[1], l[2].x")
    check_distinct("ProjectionExpression", [("a", "b"), ("a", "c"), ("b",)])


def test_path_display():
    assert display(("a", "b", 0, "c", 10)) == "[a, b, [0], c, [10]]"


def test_attributes_to_get():
    compiled = compile_request("GetItem", {"Key": {}, "AttributesToGet": ["a", "m", "absent"]})
    assert compiled.projection.apply(ITEM) == {"a": S("x"), "m": ITEM["m"]}
    with pytest.raises(ServiceError) as info:
        compile_request("GetItem", {"Key": {}, "AttributesToGet": ["a", "a"]})
    assert info.value.message == "One or more parameter values were invalid: Duplicate value in attribute name: a"
    # a dotted name is one attribute here
    assert compile_request("GetItem", {"Key": {}, "AttributesToGet": ["m.x"]}).projection.apply({"m.x": S("1")}) == {
        "m.x": S("1")
    }


def test_undefined_and_unused_names():
    with pytest.raises(ServiceError) as info:
        compile_projection("#a")
    assert info.value.message == (
        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; "
        "attribute name: #a"
    )
    with pytest.raises(ServiceError) as info:
        compile_projection("a", {"#b": "b"})
    assert info.value.message == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
