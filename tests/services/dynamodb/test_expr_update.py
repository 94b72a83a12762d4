"""UpdateExpression and AttributeUpdates: what an update does to an item, and DynamoDB's
errors for updates that cannot be made."""

from __future__ import annotations

import copy

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.expressions import compile_request, compile_update
from cloudlet.services.dynamodb.expressions.update import attribute_updates

KEY = {"a": {"S": "k"}}
N = lambda v: {"N": v}  # noqa: E731
S = lambda v: {"S": v}  # noqa: E731
BAD_PATH = "The document path provided in the update expression is invalid for update"
MISSING = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"


def apply(expr: str, item: dict, values: dict | None = None, names: dict | None = None) -> dict:
    before = copy.deepcopy(item)
    new = compile_update(expr, names, values).apply(item)
    assert item == before, "the old item must not change"
    return new


def message(fn, *args) -> str:
    with pytest.raises(ServiceError) as info:
        fn(*args)
    assert info.value.code == "ValidationException"
    return info.value.message


def static_error(expr: str, values: dict | None = None, names: dict | None = None) -> str:
    return message(compile_update, expr, names, values)


def runtime_error(expr: str, item: dict, values: dict | None = None, names: dict | None = None) -> str:
    update = compile_update(expr, names, values)
    return message(update.apply, item)


# what updates do ------------------------------------------------------------------------------
def test_right_hand_sides_read_the_item_before_the_update():
    item = {"a": S("x"), "b": S("y")}
    assert apply("SET a = b, b = a", item) == {"a": S("y"), "b": S("x")}


def test_nested_updates_in_one_request():
    """Every operand reads the old item; list indexes past the end append, in index order."""
    item = {
        **KEY,
        "b": {"M": {"a": N("1"), "b": N("2"), "c": N("3")}},
        "c": {"L": [N("1"), N("3")]},
    }
    update = compile_update(
        "set b.c=((c[1])+(b.a)),b.a = a,c[1] = a, c[4] = b.a - b.b, c[2] = b.c add c[8] :b, c[6] :a",
        None,
        {":a": N("2"), ":b": {"SS": ["a"]}},
    )
    new = update.apply(item)
    assert new == {
        **KEY,
        "b": {"M": {"a": S("k"), "b": N("2"), "c": N("4")}},
        "c": {"L": [N("1"), S("k"), N("3"), N("-1"), N("2"), {"SS": ["a"]}]},
    }
    # ReturnValues UPDATED_NEW: the updated paths read from the new item
    assert update.updated(new) == {"b": {"M": {"a": S("k"), "c": N("4")}}, "c": {"L": [S("k"), N("3"), N("2")]}}
    assert update.updated(item) == {"b": {"M": {"a": N("1"), "c": N("3")}}, "c": {"L": [N("3")]}}


def test_set_creates_and_replaces():
    assert apply("SET n = :v", {}, {":v": N("1")}) == {"n": N("1")}
    assert apply("SET n = :v", {"n": S("old")}, {":v": N("1")}) == {"n": N("1")}
    assert apply("SET #p.child = :v", {"parent": {"M": {"keep": S("k")}}}, {":v": S("c")}, {"#p": "parent"}) == {
        "parent": {"M": {"keep": S("k"), "child": S("c")}}
    }
    assert apply("SET l[0] = :v", {"l": {"L": []}}, {":v": S("first")}) == {"l": {"L": [S("first")]}}
    assert apply("SET l[5] = :v", {"l": {"L": [S("a")]}}, {":v": S("z")}) == {"l": {"L": [S("a"), S("z")]}}
    assert apply("SET l[0] = :v", {"l": {"L": [S("a"), S("b")]}}, {":v": S("z")}) == {"l": {"L": [S("z"), S("b")]}}


def test_remove():
    item = {"a": S("x"), "m": {"M": {"gone": S("g"), "keep": S("k")}}, "l": {"L": [S("a"), S("b"), S("c"), S("d")]}}
    assert apply("REMOVE a", item) == {"m": item["m"], "l": item["l"]}
    assert apply("REMOVE absent", item) == item
    assert apply("REMOVE m.gone", item)["m"] == {"M": {"keep": S("k")}}
    assert apply("REMOVE m.absent", item)["m"] == item["m"]
    assert apply("REMOVE l[1]", item)["l"] == {"L": [S("a"), S("c"), S("d")]}
    # several indexes name elements of the list as it was
    assert apply("REMOVE l[0], l[2]", item)["l"] == {"L": [S("b"), S("d")]}
    assert apply("REMOVE l[3], l[9]", item)["l"] == {"L": [S("a"), S("b"), S("c")]}
    assert apply("SET l[1] = :v REMOVE l[0]", item, {":v": S("z")})["l"] == {"L": [S("z"), S("c"), S("d")]}


def test_add():
    assert apply("ADD n :v", {}, {":v": N("5")}) == {"n": N("5")}
    assert apply("ADD n :v", {"n": N("0.2")}, {":v": N("0.1")}) == {"n": N("0.3")}
    assert apply("ADD n :v", {"n": N("1")}, {":v": N("-3")}) == {"n": N("-2")}
    assert apply("ADD s :v", {"s": {"SS": ["a", "b"]}}, {":v": {"SS": ["b", "c", "d"]}}) == {"s": {"SS": ["a", "b", "c", "d"]}}
    assert apply("ADD s :v", {"s": {"NS": ["1", "2"]}}, {":v": {"NS": ["2.0", "3"]}}) == {"s": {"NS": ["1", "2", "3"]}}
    assert apply("ADD s :v", {"s": {"BS": [b"\x01\x02", b"\x02"]}}, {":v": {"BS": [b"\x02", b"\x01"]}}) == {
        "s": {"BS": [b"\x01\x02", b"\x02", b"\x01"]}
    }
    assert apply("ADD s :v", {}, {":v": {"SS": ["x"]}}) == {"s": {"SS": ["x"]}}
    assert apply("ADD m.n :v", {"m": {"M": {}}}, {":v": N("1")}) == {"m": {"M": {"n": N("1")}}}


def test_delete():
    item = {"s": {"NS": ["1", "2", "3"]}, "c": S("c")}
    assert apply("DELETE s :v", item, {":v": {"NS": ["1", "4"]}}) == {"s": {"NS": ["2", "3"]}, "c": S("c")}
    assert apply("DELETE s :v", item, {":v": {"NS": ["3", "2", "1"]}}) == {"c": S("c")}  # an empty set goes
    assert apply("DELETE absent :v", item, {":v": {"NS": ["1"]}}) == item


def test_nothing_but_the_key_when_nothing_exists():
    update = compile_update(
        "REMOVE b DELETE c :c ADD d :d, e :e SET f = :f",
        None,
        {":c": {"SS": ["a", "b"]}, ":d": N("5"), ":e": {"SS": ["a", "b"]}, ":f": {"L": [S("a"), N("1")]}},
    )
    new = update.apply(dict(KEY))
    assert new == {**KEY, "d": N("5"), "e": {"SS": ["a", "b"]}, "f": {"L": [S("a"), N("1")]}}
    assert update.updated(new) == {"d": N("5"), "e": {"SS": ["a", "b"]}, "f": {"L": [S("a"), N("1")]}}


def test_functions_and_arithmetic():
    assert apply("SET b = if_not_exists(b, a)", dict(KEY)) == {**KEY, "b": S("k")}
    assert apply("SET c = if_not_exists(c, :z) + :one", {}, {":z": N("0"), ":one": N("1")}) == {"c": N("1")}
    assert apply("SET c = if_not_exists(c, :z) + :one", {"c": N("41")}, {":z": N("0"), ":one": N("1")}) == {"c": N("42")}
    assert apply("SET l = list_append(l, :v)", {"l": {"L": [N("1")]}}, {":v": {"L": [N("2")]}}) == {"l": {"L": [N("1"), N("2")]}}
    assert apply("SET l = list_append(:v, l)", {"l": {"L": [N("1")]}}, {":v": {"L": [N("2")]}}) == {"l": {"L": [N("2"), N("1")]}}
    assert apply("SET l = list_append(if_not_exists(l, :e), :v)", {}, {":e": {"L": []}, ":v": {"L": [S("x")]}}) == {
        "l": {"L": [S("x")]}
    }
    assert apply("SET d = n - :v", {"n": N("1")}, {":v": N("0.000001")}) == {"n": N("1"), "d": N("0.999999")}
    big = "9" * 38
    assert apply("SET d = n + :v", {"n": N(big)}, {":v": N("0")})["d"] == N(big)
    assert apply("SET m.cnt = m.cnt + :inc", {"m": {"M": {"cnt": N("10")}}}, {":inc": N("5")}) == {
        "m": {"M": {"cnt": N("15")}}
    }


# runtime errors ----------------------------------------------------------------------------------
BASE = {**KEY, "b": S("k"), "c": {"M": {"1": S("a")}}, "d": {"L": [S("a"), S("b")]}}


@pytest.mark.parametrize(
    "expr",
    [
        "set b.a = :a, #1 = :a", "set b[1] = :a, #1 = :a", "set y.a = :a, #1 = :a", "set y[1] = :a, #1 = :a",
        "set c[1] = :a, #1 = :a", "set d.#1 = :a", "remove b.a set #1 = :a", "remove b[1] set #1 = :a",
        "remove y.a set #1 = :a", "remove y[1] set #1 = :a", "remove c[1] set #1 = :a", "remove d.#1 set #1 = :a",
        "delete b.a :a set #1 = :a", "delete b[1] :a set #1 = :a", "delete y.a :a set #1 = :a",
        "delete y[1] :a set #1 = :a", "delete c[1] :a set #1 = :a", "delete d.#1 :a", "add b.a :a set #1 = :a",
        "add b[1] :a set #1 = :a", "add y.a :a set #1 = :a", "add y[1] :a set #1 = :a", "add c[1] :a set #1 = :a",
        "add d.#1 :a", "set y.z.w = :a, #1 = :a",
    ],
)  # fmt: skip
def test_paths_that_lead_nowhere(expr):
    assert runtime_error(expr, BASE, {":a": {"SS": ["a"]}}, {"#1": "1"}) == BAD_PATH


@pytest.mark.parametrize(
    "expr, values, error",
    [
        ("set c = absent", None, MISSING),
        ("set e = list_append(absent, d)", None, MISSING),
        ("set e = absent + :v", {":v": N("1")}, MISSING),
        ("set e = b + :v", {":v": N("1")}, WRONG_TYPE),
        ("set e = :v - c", {":v": N("1")}, WRONG_TYPE),
        ("set e = list_append(d, b)", None, WRONG_TYPE),
        ("set e = list_append(d, if_not_exists(f, :v))", {":v": {"NS": ["1"]}}, WRONG_TYPE),
        ("add b :v", {":v": N("1")}, WRONG_TYPE),
        ("add d :v", {":v": {"SS": ["x"]}}, WRONG_TYPE),
        ("delete c :v", {":v": {"SS": ["x"]}}, WRONG_TYPE),
    ],
)
def test_operands_the_item_cannot_supply(expr, values, error):
    assert runtime_error(expr, BASE, values) == error


def test_set_types_must_match():
    item = {"ns": {"NS": ["1"]}, "ss": {"SS": ["1"]}}
    assert runtime_error("DELETE ns :v", item, {":v": {"SS": ["1"]}}) == WRONG_TYPE
    assert runtime_error("ADD ss :v", item, {":v": {"NS": ["1"]}}) == WRONG_TYPE
    assert runtime_error("ADD ns :v", item, {":v": N("1")}) == WRONG_TYPE


def test_arithmetic_results_obey_number_limits():
    assert runtime_error("ADD n :v", {"n": N("9.9999999999999999999999999999999999999E+125")}, {":v": N("1E+125")}) == (
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )
    assert runtime_error("SET n = n + :v", {"n": N("1E+37")}, {":v": N("0.1")}) == (
        "Attempting to store more than 38 significant digits in a Number"
    )


# errors found before the item is read -----------------------------------------------------------
@pytest.mark.parametrize(
    "expr, one, two",
    [
        ("set d[1] = a, d.b = a, c[1].a = a, #c = if_not_exists(a)", "[c, [1], a]", "[c]"),  # overlaps first
        ("set c.b.#c = a, c = a, #d = a", "[c, b, c]", "[c]"),
        ("set a = b remove a, #c, #d", "[a]", "[a]"),
        ("set #c[3].#d = a, #c[3] = a", "[c, [3], [3]]", "[c, [3]]"),
        ("remove c, #c.a, #d", "[c]", "[c, a]"),
        ("SET #v = :a, #v = :a", "[val]", "[val]"),
    ],
)
def test_overlapping_paths(expr, one, two):
    names = {k: v for k, v in {"#c": "c", "#d": "[3]", "#v": "val"}.items() if k in expr}
    values = {":a": N("1")} if ":a" in expr else None
    assert static_error(expr, values, names) == (
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
        f"paths; path one: {one}, path two: {two}"
    )


@pytest.mark.parametrize(
    "expr, one, two",
    [
        ("set #c[3].#d = a, #c.#d[3] = if_not_exists(a, b)", "[c, [3], [3]]", "[c, [3], [3]]"),
        ("remove a.#c set a[1] = #d", "[a, c]", "[a, [1]]"),
    ],
)
def test_conflicting_paths(expr, one, two):
    assert static_error(expr, None, {"#c": "c", "#d": "[3]"}) == (
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these "
        f"paths; path one: {one}, path two: {two}"
    )


@pytest.mark.parametrize(
    "expr, value, op, type_",
    [
        ("set b = list_append(:a, a), c = if_not_exists(a, :a) add a.b :a", S("a"), "ADD", "STRING"),  # ADD/DELETE first
        ("delete a.b :a", S("a"), "DELETE", "STRING"),
        ("add a.b :a", {"NULL": True}, "ADD", "NULL"),
        ("add a.b :a", {"BOOL": False}, "ADD", "BOOLEAN"),
        ("add a.b :a", {"B": b"a"}, "ADD", "BINARY"),
        ("add a.b :a", {"M": {}}, "ADD", "MAP"),
        ("add a.b :a", {"L": [N("1")]}, "ADD", "LIST"),
        ("delete a.b :a", N("1"), "DELETE", "NUMBER"),
    ],
)
def test_add_and_delete_value_types(expr, value, op, type_):
    assert static_error(expr, {":a": value}) == (
        f"Invalid UpdateExpression: Incorrect operand type for operator or function; operator: {op}, operand type: {type_}"
    )


VALUES = {
    ":a": S("a"), ":b": N("1"), ":c": {"B": b"a"}, ":d": {"BOOL": False}, ":e": {"NULL": True}, ":f": {"SS": ["a"]},
    ":g": {"NS": ["1"]}, ":h": {"BS": [b"a"]}, ":i": {"M": {}}, ":j": {"L": []},
}  # fmt: skip


@pytest.mark.parametrize(
    "expr, name, type_",
    [
        ("set a = list_append(:a, a)", "list_append", "S"),
        ("set a = list_append(a, :b)", "list_append", "N"),
        ("set a = list_append(:h, a)", "list_append", "BS"),
        ("set a = list_append(:i, a)", "list_append", "M"),
        ("set a = a + :a", "+", "S"),
        ("set a = :a + :c", "+", "S"),
        ("set a = :c + a", "+", "B"),
        ("set a = a + :d", "+", "BOOL"),
        ("set a = a - :e", "-", "NULL"),
        ("set a = a - :f", "-", "SS"),
        ("set a = a - :j", "-", "L"),
    ],
)
def test_function_and_arithmetic_operand_types(expr, name, type_):
    used = {k: v for k, v in VALUES.items() if k in expr}
    assert static_error(expr, used) == (
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator or function: {name}, operand type: {type_}"
    )


def test_function_operand_counts_and_paths():
    assert static_error("set a = if_not_exists(c)") == (
        "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
        "operator or function: if_not_exists, number of operands: 1"
    )
    assert static_error("set a = list_append(c)").endswith("operator or function: list_append, number of operands: 1")
    assert static_error("set a = if_not_exists(:a, c)", {":a": S("a")}) == (
        "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"
    )
    assert static_error("set a = if_not_exists(if_not_exists(a, b), c)").endswith("function: if_not_exists")


def test_undefined_placeholders():
    assert static_error("SET #c = if_not_exists(:c)", {":a": S("a")}, {"#a": "a"}) == (
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #c"
    )
    assert static_error("SET #a = if_not_exists(:c)", {":a": S("a")}, {"#a": "a"}) == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :c"
    )


# key attributes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr, values, keys, key",
    [
        ("add a.b :a", {":a": N("1")}, ("a", None), "a"),
        ("delete a :a", {":a": {"NS": ["1"]}}, ("a", None), "a"),
        ("remove d set b = :a, a = :a", {":a": N("1")}, ("a", None), "a"),
        ("delete b :a remove a", {":a": {"NS": ["1"]}}, ("a", None), "a"),
        ("set a = a.b + a[1]", None, ("a", None), "a"),
        ("set d[1] = :a add b.b :a", {":a": N("1")}, ("a", "b"), "b"),
    ],
)
def test_key_attributes_cannot_be_updated(expr, values, keys, key):
    update = compile_update(expr, None, values)
    assert message(update.check_keys, keys) == (
        f"One or more parameter values were invalid: Cannot update attribute {key}. This attribute is part of the key"
    )


def test_paths_into_index_keys_are_refused():
    for expr in ("add d.b :a", "set d[1] = :a", "set e = :a, f = d[1]"):
        update = compile_update(expr, None, {":a": N("1")})
        assert message(update.check_keys, ("a",), ("d",)) == (
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: d"
        )
    compile_update("set d = :a", None, {":a": N("1")}).check_keys(("a",), ("d",))


# legacy AttributeUpdates ---------------------------------------------------------------------------
def test_attribute_updates():
    item = {**KEY, "n": N("1"), "ss": {"SS": ["a", "b"]}, "l": {"L": [S("a")]}, "gone": S("x"), "ns": {"NS": ["1", "2", "3"]}}
    update = attribute_updates(
        {
            "p": {"Value": S("put")},  # PUT is the default
            "n": {"Action": "ADD", "Value": N("3")},
            "ss": {"Action": "ADD", "Value": {"SS": ["b", "c"]}},
            "l": {"Action": "ADD", "Value": {"L": [S("b")]}},  # ADD appends to lists here
            "gone": {"Action": "DELETE"},
            "ns": {"Action": "DELETE", "Value": {"NS": ["1", "4"]}},
            "new": {"Action": "ADD", "Value": N("7")},
        }
    )
    new = update.apply(item)
    assert new == {
        **KEY,
        "p": S("put"),
        "n": N("4"),
        "ss": {"SS": ["a", "b", "c"]},
        "l": {"L": [S("a"), S("b")]},
        "ns": {"NS": ["2", "3"]},
        "new": N("7"),
    }
    assert update.updated(item) == {"n": N("1"), "ss": item["ss"], "l": item["l"], "gone": S("x"), "ns": item["ns"]}


@pytest.mark.parametrize(
    "spec, error",
    [
        ({"x": {}}, "Only DELETE action is allowed when no attribute value is specified"),
        ({"x": {"Action": "ADD"}}, "Only DELETE action is allowed when no attribute value is specified"),
        ({"x": {"Action": "ADD", "Value": S("1")}}, "ADD action is not supported for the type S"),
        ({"x": {"Action": "ADD", "Value": {"M": {}}}}, "ADD action is not supported for the type M"),
        ({"x": {"Action": "DELETE", "Value": N("1")}}, "DELETE action with value is not supported for the type N"),
        ({"x": {"Action": "DELETE", "Value": {"L": []}}}, "DELETE action with value is not supported for the type L"),
    ],
)
def test_attribute_updates_validation(spec, error):
    assert message(attribute_updates, spec) == "One or more parameter values were invalid: " + error


def test_attribute_updates_type_mismatches():
    item = {"b": {"SS": ["1"]}, "c": N("1"), "d": {"NS": ["1"]}}
    for spec in (
        {"b": {"Action": "DELETE", "Value": {"NS": ["1"]}}},
        {"c": {"Action": "DELETE", "Value": {"NS": ["1"]}}},
        {"b": {"Action": "ADD", "Value": {"NS": ["1"]}}},
        {"d": {"Action": "ADD", "Value": N("1")}},
    ):
        assert message(attribute_updates(spec).apply, item) == "Type mismatch for attribute to update"


def test_update_item_request_puts_it_together():
    compiled = compile_request(
        "UpdateItem",
        {
            "Key": KEY,
            "UpdateExpression": "SET #c = if_not_exists(#c, :zero) + :one",
            "ConditionExpression": "attribute_not_exists(#c) OR #c < :max",
            "ExpressionAttributeNames": {"#c": "counter"},
            "ExpressionAttributeValues": {":zero": N("0"), ":one": N("1"), ":max": N("3")},
        },
    )
    item = dict(KEY)
    for expected in ("1", "2", "3"):
        assert compiled.condition.matches(item)
        item = compiled.update.apply(item)
        assert item["counter"] == N(expected)
    assert not compiled.condition.matches(item)


def test_updates_that_only_remove():
    assert compile_update("REMOVE a, b.c").only_removes
    assert compile_update("REMOVE a DELETE s :v", None, {":v": {"SS": ["x"]}}).only_removes
    assert not compile_update("REMOVE a SET b = :v", None, {":v": N("1")}).only_removes
    assert not compile_update("ADD n :v", None, {":v": N("1")}).only_removes
    assert attribute_updates({"a": {"Action": "DELETE"}, "s": {"Action": "DELETE", "Value": {"SS": ["x"]}}}).only_removes
    assert not attribute_updates({"a": {"Value": S("x")}}).only_removes
