"""Condition and filter expressions: DynamoDB's evaluation semantics, and the checks made
once names and values are bound."""

from __future__ import annotations

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.expressions import compile_condition, compile_request

ITEM = {
    "pk": {"S": "p1"},
    "n": {"N": "5"},
    "neg": {"N": "-2.5"},
    "s": {"S": "hello"},
    "u": {"S": "héllo😀"},
    "blank": {"S": ""},
    "b": {"B": b"\x01\x02\x03"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"x", b"y"]},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
    "m": {"M": {"x": {"N": "1"}, "nest": {"M": {"deep": {"S": "d"}}}, "arr": {"L": [{"N": "7"}]}}},
}


def matches(expr: str, values: dict | None = None, names: dict | None = None, item: dict = ITEM) -> bool:
    return compile_condition(expr, names, values).matches(item)


def error(expr: str, values: dict | None = None, names: dict | None = None, kind: str = "FilterExpression") -> str:
    with pytest.raises(ServiceError) as info:
        compile_condition(expr, names, values, kind=kind)
    assert info.value.code == "ValidationException"
    return info.value.message


N = lambda v: {"N": v}  # noqa: E731
S = lambda v: {"S": v}  # noqa: E731


@pytest.mark.parametrize(
    "expr, values, result",
    [
        # equality: by value for numbers, never across types
        ("n = :v", {":v": N("5.0")}, True),
        ("n = :v", {":v": S("5")}, False),
        ("n <> :v", {":v": S("5")}, True),
        ("n <> :v", {":v": N("5")}, False),
        ("absent = :v", {":v": N("5")}, False),
        ("absent <> :v", {":v": N("5")}, True),  # <> is the negation of =
        (":v = n", {":v": N("5")}, True),
        ("blank = :v", {":v": S("")}, True),
        ("z = :v", {":v": {"NULL": True}}, True),
        ("t = :v", {":v": {"BOOL": True}}, True),
        ("t = :v", {":v": {"BOOL": False}}, False),
        ("ss = :v", {":v": {"SS": ["b", "a"]}}, True),  # sets without order
        ("ns = :v", {":v": {"NS": ["2.50", "1"]}}, True),
        ("bs = :v", {":v": {"BS": [b"y", b"x"]}}, True),
        ("l = :v", {":v": {"L": [S("a"), N("1.0"), {"M": {"k": S("v")}}]}}, True),
        ("l = :v", {":v": {"L": [N("1"), S("a"), {"M": {"k": S("v")}}]}}, False),
        ("m.x = :v", {":v": N("1")}, True),
        ("m.nest.deep = :v", {":v": S("d")}, True),
        ("m.arr[0] = :v", {":v": N("7")}, True),
        ("l[2].k = :v", {":v": S("v")}, True),
        ("l[9] = :v", {":v": S("a")}, False),
        ("s.x = :v", {":v": S("a")}, False),  # a path through a string leads nowhere
        # order: numbers by value, strings and binaries by bytes, across types false
        ("n < :v", {":v": N("10")}, True),
        ("neg < :v", {":v": N("-2")}, True),
        ("n < :v", {":v": S("9")}, False),
        ("n >= :v", {":v": N("5")}, True),
        ("n > :v", {":v": N("5")}, False),
        ("s < :v", {":v": S("help")}, True),
        ("s <= :v", {":v": S("hello")}, True),
        ("s > :v", {":v": S("Hello")}, True),  # lower case sorts after upper case
        ("b < :v", {":v": {"B": b"\x01\x02\x04"}}, True),
        ("b > :v", {":v": {"B": b"\x01\x02"}}, True),
        ("absent < :v", {":v": N("1")}, False),
        ("t < :v", {":v": {"BOOL": True}}, False),
        (":v < n", {":v": N("4")}, True),
        ("n < neg", None, False),
        ("neg < n", None, True),
        # BETWEEN is inclusive
        ("n BETWEEN :a AND :b", {":a": N("5"), ":b": N("5")}, True),
        ("n BETWEEN :a AND :b", {":a": N("1"), ":b": N("4.99")}, False),
        ("s BETWEEN :a AND :b", {":a": S("h"), ":b": S("i")}, True),
        ("n BETWEEN :a AND :b", {":a": S("1"), ":b": S("9")}, False),
        ("absent BETWEEN :a AND :b", {":a": N("1"), ":b": N("9")}, False),
        # IN
        ("n IN (:a, :b)", {":a": N("1"), ":b": N("5")}, True),
        ("n IN (:a)", {":a": S("5")}, False),
        ("ss IN (:a)", {":a": {"SS": ["b", "a"]}}, True),
        ("absent IN (:a)", {":a": N("1")}, False),
        ("n IN (neg, :a)", {":a": N("5")}, True),
        # functions
        ("attribute_exists(pk)", None, True),
        ("attribute_exists(absent)", None, False),
        ("attribute_not_exists(absent)", None, True),
        ("attribute_exists(m.nest.deep)", None, True),
        ("attribute_exists(l[2].k)", None, True),
        ("attribute_exists(l[3])", None, False),
        ("attribute_exists(s.x)", None, False),
        ("attribute_type(ss, :t)", {":t": S("SS")}, True),
        ("attribute_type(n, :t)", {":t": S("S")}, False),
        ("attribute_type(z, :t)", {":t": S("NULL")}, True),
        ("attribute_type(absent, :t)", {":t": S("S")}, False),
        ("begins_with(s, :p)", {":p": S("he")}, True),
        ("begins_with(s, :p)", {":p": S("hello!")}, False),
        ("begins_with(s, :p)", {":p": S("")}, True),
        ("begins_with(b, :p)", {":p": {"B": b"\x01\x02"}}, True),
        ("begins_with(b, :p)", {":p": S("a")}, False),
        ("begins_with(n, :p)", {":p": S("5")}, False),
        ("begins_with(absent, :p)", {":p": S("a")}, False),
        ("contains(s, :v)", {":v": S("ell")}, True),
        ("contains(s, :v)", {":v": S("xyz")}, False),
        ("contains(ss, :v)", {":v": S("a")}, True),
        ("contains(ss, :v)", {":v": S("c")}, False),
        ("contains(ns, :v)", {":v": N("2.50")}, True),
        ("contains(ns, :v)", {":v": S("1")}, False),
        ("contains(bs, :v)", {":v": {"B": b"x"}}, True),
        ("contains(b, :v)", {":v": {"B": b"\x02\x03"}}, True),
        ("contains(l, :v)", {":v": {"M": {"k": S("v")}}}, True),
        ("contains(l, :v)", {":v": N("1.0")}, True),
        ("contains(l, :v)", {":v": S("v")}, False),
        ("contains(n, :v)", {":v": N("5")}, False),
        ("contains(absent, :v)", {":v": S("a")}, False),
        ("contains(s, m.nest.deep)", None, False),
        ("contains(:v, s)", {":v": S("say hello!")}, True),
        # size: characters of a string (as Java counts them), bytes, elements
        ("size(s) = :v", {":v": N("5")}, True),
        ("size(u) = :v", {":v": N("7")}, True),  # é is one, the emoji two (UTF-16)
        ("size(blank) = :v", {":v": N("0")}, True),
        ("size(b) = :v", {":v": N("3")}, True),
        ("size(ss) = :v", {":v": N("2")}, True),
        ("size(l) = :v", {":v": N("3")}, True),
        ("size(m) = :v", {":v": N("3")}, True),
        ("size(m.arr) < :v", {":v": N("2")}, True),
        ("size(n) >= :v", {":v": N("0")}, False),  # numbers have no size
        ("size(t) >= :v", {":v": N("0")}, False),
        ("size(absent) >= :v", {":v": N("0")}, False),
        ("size(s) > size(ss)", None, True),
        ("size(:v) = :w", {":v": S("abc"), ":w": N("3")}, True),
        # logic and DynamoDB's precedence: NOT, then AND, then OR
        ("NOT n = :v", {":v": N("5")}, False),
        ("NOT absent = :v", {":v": N("5")}, True),
        ("n = :a OR n = :b AND n = :c", {":a": N("5"), ":b": N("1"), ":c": N("2")}, True),
        ("(n = :a OR n = :b) AND n = :c", {":a": N("5"), ":b": N("1"), ":c": N("2")}, False),
        ("NOT n = :a AND n = :b", {":a": N("1"), ":b": N("5")}, True),
        ("NOT (n = :a AND n = :b)", {":a": N("5"), ":b": N("5")}, False),
        ("n = :a AND NOT NOT s = :b", {":a": N("5"), ":b": S("hello")}, True),
    ],
)
def test_evaluation(expr, values, result):
    assert matches(expr, values) is result


def test_names_stand_for_attributes_and_map_keys():
    names = {"#a": "m", "#b": "nest", "#dot": "a.b"}
    item = {"m": {"M": {"nest": {"N": "1"}}}, "a.b": {"S": "flat"}}
    assert matches("#a.#b = :v AND #dot = :w", {":v": N("1"), ":w": S("flat")}, names, item)
    assert not matches("a.b = :w", {":w": S("flat")}, None, item)  # a dotted path is nested


def test_conditions_on_no_item():
    assert matches("attribute_not_exists(pk)", item={})
    assert not matches("attribute_exists(pk)", item={})
    assert not matches("n = :v", {":v": N("1")}, item={})
    assert matches("n <> :v", {":v": N("1")}, item={})


# checks after binding, in DynamoDB's order ------------------------------------------------------
@pytest.mark.parametrize(
    "expr, ref",
    [
        ("attribute_exists(#Pictures.RearView, :a) and a=a", "#Pictures"),  # before the operand count
        ("begins_with(Pictures.#RearView)", "#RearView"),
        ("(#P between :lo and :hi) and (#PC in (:cat1, :cat2))", "#P"),
        ("#4g > a", "#4g"),
        ("(a)between(b.c[45].#d)and(:a)", "#d"),
    ],
)
def test_undefined_names(expr, ref):
    assert error(expr) == (
        f"Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: {ref}"
    )


@pytest.mark.parametrize("expr, ref", [("begins_with(:hello, #a, #b)", ":hello"), (":a < :b", ":a"), (":_ > a", ":_")])
def test_undefined_values_in_order_of_appearance(expr, ref):
    assert error(expr) == (
        f"Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: {ref}"
    )


@pytest.mark.parametrize(
    "expr, name, count",
    [
        ("attribute_exists(things, a) and a=a", "attribute_exists", 2),
        ("attribute_not_exists(things, b)", "attribute_not_exists", 2),
        ("attribute_type(things)", "attribute_type", 1),
        ("begins_with(things)", "begins_with", 1),
        ("begins_with(things, size(a), b)", "begins_with", 3),  # before size's result type
        ("contains(things)", "contains", 1),
        ("size(things, a) > b", "size", 2),
        ("attribute_exists()", "attribute_exists", 0),
    ],
)
def test_operand_counts(expr, name, count):
    assert error(expr) == (
        "Invalid FilterExpression: Incorrect number of operands for operator or function; "
        f"operator or function: {name}, number of operands: {count}"
    )


@pytest.mark.parametrize(
    "expr, value, name, type_",
    [
        ("attribute_type(a, size(a)) and a=a and a=:a", N("1"), "attribute_type", "N"),
        ("attribute_type(a, :a)", {"BOOL": True}, "attribute_type", "BOOL"),
        ("attribute_type(a, :a)", {"SS": ["1"]}, "attribute_type", "SS"),
        ("begins_with(a, size(a)) and a=:a", N("1"), "begins_with", "N"),
        ("begins_with(a, :a)", N("1"), "begins_with", "N"),
        ("begins_with(a, :a)", {"L": []}, "begins_with", "L"),
        ("begins_with(:a, a)", {"NS": ["1"]}, "begins_with", "NS"),
        ("size(size(a)) > :a", N("1"), "size", "N"),
        ("attribute_not_exists(size(:a))", N("1"), "size", "N"),  # the inner function first
        ("size(:a) > a", {"BOOL": True}, "size", "BOOL"),
        ("size(:a) > a", {"NULL": True}, "size", "NULL"),
    ],
)
def test_operand_types(expr, value, name, type_):
    assert error(expr, {":a": value}) == (
        f"Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: {name}, operand type: {type_}"
    )


def test_attribute_type_names():
    assert error("attribute_type(a, :a)", {":a": S("1")}) == (
        "Invalid FilterExpression: Invalid attribute type name found; type: 1, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
    )
    for t in ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"):
        compile_condition("attribute_type(a, :t)", None, {":t": S(t)})


@pytest.mark.parametrize(
    "expr, name",
    [("attribute_exists(:a) and a=a", "attribute_exists"), ("attribute_not_exists(size(:a))", "attribute_not_exists"),
     ("attribute_type(:a, :a)", "attribute_type")],
)  # fmt: skip
def test_functions_that_need_a_path(expr, name):
    assert error(expr, {":a": S("1")}) == (
        f"Invalid FilterExpression: Operator or function requires a document path; operator or function: {name}"
    )


@pytest.mark.parametrize(
    "expr, op, path",
    [
        ("a = a AND #a = b AND :views > a", "=", "[a]"),
        ("#a <> a", "<>", "[a]"),
        ("a > #a", ">", "[a]"),
        ("((a=a) OR (a=a))", "=", "[a]"),
        ("contains(ab.bc[1].a, ab.bc[1].#a)", "contains", "[ab, bc, [1], a]"),
        ("attribute_type(ab.bc[1].#a, ab.bc[1].a)", "attribute_type", "[ab, bc, [1], a]"),
        ("begins_with(ab.bc[1].a, ab.bc[1].#a)", "begins_with", "[ab, bc, [1], a]"),
        ("a BETWEEN b AND a", "BETWEEN", "[a]"),
        ("a IN (b, #a)", "IN", "[a]"),
    ],
)
def test_operands_must_be_distinct(expr, op, path):
    values = {":views": S("x")} if ":views" in expr else None
    names = {"#a": "a"} if "#a" in expr else None
    assert error(expr, values, names) == (
        "Invalid FilterExpression: The first operand must be distinct from the remaining operands for this operator "
        f"or function; operator: {op}, first operand: {path}"
    )


def test_equal_values_are_not_a_distinctness_problem():
    assert compile_condition(":a > :a", None, {":a": N("1")}).matches({}) is False


def test_between_bounds():
    assert error("a BETWEEN :a AND :b", {":a": N("1"), ":b": S("a")}, kind="ConditionExpression") == (
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; "
        "lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"
    )
    assert error("a BETWEEN :a AND :b", {":a": S("b"), ":b": S("a")}) == (
        "Invalid FilterExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
        "lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"
    )
    assert error("a BETWEEN :a AND :b", {":a": N("10"), ":b": N("9")}).endswith("{N:10}, upper bound operand: AttributeValue: {N:9}")


def test_in_takes_at_most_100_operands():
    values = {f":v{i}": N(str(i)) for i in range(101)}
    refs = ", ".join(values)
    assert error(f"a IN ({refs})", values) == (
        "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101"
    )
    del values[":v100"]
    assert compile_condition(f"a IN ({', '.join(values)})", None, values).matches({"a": N("99")})


def test_at_most_300_operators():
    values = {":v": N("1")}
    ok = " AND ".join(["a = :v"] * 150)  # 150 comparisons + 149 ANDs
    compile_condition(ok, None, values)
    too_many = " AND ".join(["a = :v"] * 151)
    assert error(too_many, values) == "Invalid FilterExpression: The expression contains too many operators; operator count: 301"


def test_nested_paths_into_key_attributes_are_refused():
    cond = compile_request(
        "Scan", {"FilterExpression": "attribute_exists(a.b.c) and #a = b", "ExpressionAttributeNames": {"#a": "a"}}
    ).filter
    with pytest.raises(ServiceError) as info:
        cond.check_keys(("a", None))
    assert info.value.message == (
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: a"
    )
    with pytest.raises(ServiceError) as info:
        compile_condition("attribute_exists(g[0])").check_keys(("pk",), ("g",))
    assert info.value.message.endswith("are not allowed: IndexKey: g")
    compile_condition("a = b").check_keys(("a", "b"))  # plain key attributes are fine
