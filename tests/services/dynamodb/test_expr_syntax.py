"""Checks DynamoDB makes on an expression's text: syntax errors (with the quoted source
around the bad token), redundant parentheses, function names, functions used in the wrong
place, reserved words, and update sections used twice."""

from __future__ import annotations

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.expressions import compile_request
from cloudlet.services.dynamodb.expressions.lexer import tokenize
from cloudlet.services.dynamodb.expressions.reserved import RESERVED


def error(op: str, **req) -> str:
    with pytest.raises(ServiceError) as info:
        compile_request(op, {"TableName": "t", **req})
    assert info.value.code == "ValidationException"
    return info.value.message


def filter_error(expr: str, **req) -> str:
    return error("Scan", FilterExpression=expr, **req)


def update_error(expr: str, **req) -> str:
    return error("UpdateItem", Key={}, UpdateExpression=expr, **req)


# syntax: token and "near" as DynamoDB quotes them ------------------------------------------
@pytest.mark.parametrize(
    "expr, token, near",
    [
        ("a > 4", "4", "> 4"),  # literals are not allowed
        ("things are not gonna be ok", "are", "things are not"),
        ("a-b", "-", "a-b"),  # captured from AWS: near is the source, spacing kept
        ("attribute_exists(car_id) AND NOT #h", "<EOF>", "#h"),  # at the end: the last token
        ("()", ")", "()"),
        ("a > between", "between", "> between"),
        ("attribute_exists(Pictures-RearView)", "-", "Pictures-RearView"),
        ('attribute_exists("Pictures.RearView")', '"', '("Pictures'),
        ("attribute_exists(asdf[a])", "a", "[a]"),
        ("a in (b,c,)", ")", ",)"),
        ("#$.b > a", "#", "#$"),
        ("ü > a", "ü", "ü >"),
        ("size(a).b > a", ".", ").b"),
        ("(size(a))[0] > a", "[", ")[0"),
        ("a > :things.stuff", ".", ":things.stuff"),
        ("a = :v AND", "<EOF>", "AND"),
        ("a = :v b", "b", ":v b"),
        ("a", "<EOF>", "a"),  # a path alone is not a condition
        ("(a)", "<EOF>", ")"),
        ("NOT a", "<EOF>", "a"),
        ("a = b = c", "=", "b = c"),
        ("(a = b) = c", "=", ") = c"),
    ],
)
def test_condition_syntax_errors(expr, token, near):
    assert filter_error(expr) == f'Invalid FilterExpression: Syntax error; token: "{token}", near: "{near}"'


@pytest.mark.parametrize(
    "expr, token, near",
    [
        ("ADD hits : incr", ":", "hits : incr"),  # captured from AWS
        ("INVALID SYNTAX HERE", "INVALID", "INVALID SYNTAX"),  # captured from AWS
        ("set count = count + 1", "1", "+ 1"),
        ("SET #as, #b = :v", ",", "#as, #b"),
        ("set a", "<EOF>", "a"),
        ("set a=set", "set", "=set"),
        ("remove a = b", "=", "a = b"),
        ("delete a b", "b", "a b"),
        ("add a if_not_exists(b)", "if_not_exists", "a if_not_exists("),
        ("set :a = b", ":a", "set :a ="),
        ("set a = b / c", "/", "b / c"),
        ("set a = b + c + d", "+", "c + d"),
        ("set a = (b.c).d + e", ".", ").d"),
        ("SET if_not_exists(a, b) = a", "(", "if_not_exists(a"),
        ("set (a = (b + c))", "(", "set (a"),
        ("SET a = if_not_exists(a, 100)", "100", ", 100)"),
    ],
)
def test_update_syntax_errors(expr, token, near):
    assert update_error(expr) == f'Invalid UpdateExpression: Syntax error; token: "{token}", near: "{near}"'


@pytest.mark.parametrize("expr", ["a, b c", "a.", "a[x]", "a[1.5]", ":v", "a,,b", "size(a)"])
def test_projection_syntax_errors(expr):
    assert error("GetItem", Key={}, ProjectionExpression=expr).startswith("Invalid ProjectionExpression: Syntax error; ")


@pytest.mark.parametrize(
    "expr",
    [
        "a = :v",
        "a <> :v",
        "a < :v AND b <= :v OR c > :v AND NOT d >= :v",
        "(a)between(b.c)and(:v)",  # parenthesised operands, no spaces needed
        "a IN (:v, b, c.d[1])",
        "attribute_exists((a)) OR begins_with((#n), :v)",
        "size(a) > :v",
        "(a = :v) AND (b = :v)",
        "(a = :v AND (b = :v))",
        "a = :v and not b = :v or c = :v",  # keywords in any case
        "  a\t=\n:v  ",
        "#n[0].b[10][2].c = :v",
    ],
)
def test_valid_condition_syntax(expr):
    compile_request(
        "Scan",
        {
            "FilterExpression": expr,
            **({"ExpressionAttributeNames": {"#n": "n"}} if "#n" in expr else {}),
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        },
    )


@pytest.mark.parametrize(
    "expr",
    [
        "SET a = :v",
        "set a = (b + :v)",
        "set b.c=((c[1])+(b.a))",
        "SET a = if_not_exists(a, :v) + :v",
        "SET a = if_not_exists(a, if_not_exists(b, :v))",
        "SET a = list_append(a, :l), b = a - :v REMOVE c, d[2] ADD e :v DELETE f :s",
        "remove a",
        "ADD #e :v,#d :v DELETE #c :s REMOVE #b SET #f = :v",
    ],
)
def test_valid_update_syntax(expr):
    names = {k: k[1:] for k in ("#b", "#c", "#d", "#e", "#f") if k in expr}
    vals = {k: v for k, v in {":v": {"N": "1"}, ":l": {"L": []}, ":s": {"SS": ["x"]}}.items() if k in expr}
    req = {"Key": {}, "UpdateExpression": expr}
    if names:
        req["ExpressionAttributeNames"] = names
    if vals:
        req["ExpressionAttributeValues"] = vals
    compile_request("UpdateItem", req)


def test_empty_expressions():
    assert filter_error("") == "Invalid FilterExpression: The expression can not be empty;"
    assert update_error("") == "Invalid UpdateExpression: The expression can not be empty;"
    assert error("PutItem", Item={}, ConditionExpression="") == "Invalid ConditionExpression: The expression can not be empty;"
    assert error("GetItem", Key={}, ProjectionExpression="") == "Invalid ProjectionExpression: The expression can not be empty;"
    assert error("Query", KeyConditionExpression="") == "Invalid KeyConditionExpression: The expression can not be empty;"


# parentheses ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr",
    [
        "((attribute_not_exists(pk)))",
        "a=a and a > ((views))",
        "(a)between(((b.c)).d)and(c)",  # found before the syntax of what follows
        "a > whatever((:things), ((a)))",  # before the unknown function
        "a=a AND ((a=a AND a=a)) AND a=a",
        "a=a OR ((a=a OR (a=a OR a=a)))",
    ],
)
def test_redundant_parentheses(expr):
    assert filter_error(expr) == "Invalid FilterExpression: The expression has redundant parentheses;"


def test_parentheses_that_are_not_redundant():
    ok = {"ExpressionAttributeNames": {"#s": "status"}}
    compile_request("PutItem", {"ConditionExpression": "(attribute_not_exists(pk)) AND (attribute_not_exists(#s))", **ok})
    compile_request("PutItem", {"ConditionExpression": "(attribute_not_exists(pk) AND attribute_not_exists(#s))", **ok})
    compile_request("PutItem", {"ConditionExpression": "(attribute_not_exists(pk) AND (attribute_not_exists(#s)))", **ok})
    compile_request("PutItem", {"ConditionExpression": "size((a)) > size(b)"})  # call parentheses are not a group


# functions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr, name",
    [
        ("a=a and whatever((:things)) > a", "whatever"),
        ("attRIbute_exIsts((views), #a)", "attRIbute_exIsts"),  # names are case-sensitive
        ("Size(a) > b", "Size"),
    ],
)
def test_unknown_functions(expr, name):
    assert filter_error(expr) == f"Invalid FilterExpression: Invalid function name; function: {name}"


def test_unknown_function_in_update_comes_before_repeated_sections():
    assert update_error("set #c = if_not_exist(:c) set c = d") == (
        "Invalid UpdateExpression: Invalid function name; function: if_not_exist"
    )


@pytest.mark.parametrize(
    "expr, name",
    [
        ("a=a and attribute_exists((views), (#a)) > b", "attribute_exists"),
        ("attribute_not_exists(things) > b", "attribute_not_exists"),
        ("attribute_type(things, :a) > b", "attribute_type"),
        ("begins_with(things, a) > b", "begins_with"),
        ("contains(:things, c) > b", "contains"),
        ("size(contains(a, b)) > a", "contains"),
        ("size(things)", "size"),
        ("a between b and attribute_exists(things)", "attribute_exists"),
        ("a in (b, attribute_exists(things))", "attribute_exists"),
        ("if_not_exists(a, b) = c", "if_not_exists"),
        ("list_append(a, b)", "list_append"),
    ],
)
def test_functions_used_in_the_wrong_place(expr, name):
    assert filter_error(expr) == (
        f"Invalid FilterExpression: The function is not allowed to be used this way in an expression; function: {name}"
    )


@pytest.mark.parametrize("expr, name", [("SET a = size(b)", "size"), ("SET a = begins_with(b, c)", "begins_with")])
def test_condition_functions_in_updates(expr, name):
    assert update_error(expr) == (
        f"Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: {name}"
    )


# reserved words -------------------------------------------------------------------------
def test_the_reserved_word_list_is_complete():
    assert len(RESERVED) == 573
    assert {"STATUS", "NAME", "DATA", "COUNT", "VALUE", "TTL", "ZONE", "ABORT"} <= RESERVED


@pytest.mark.parametrize(
    "expr, word",
    [
        ("status = :v", "status"),
        ("attribute_exists(views, #a)", "views"),  # before the undefined #a and the operand count
        (":a < abOrT", "abOrT"),  # original spelling, before the undefined :a
        ("a.name = :v", "name"),  # nested names too
        ("a = :v AND b[1].Data = :v", "Data"),
    ],
)
def test_reserved_words_in_conditions(expr, word):
    assert filter_error(expr) == f"Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: {word}"


def test_reserved_words_in_updates_and_projections():
    assert update_error(" set #c = :c set abOrt = true ") == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: abOrt"
    )
    assert update_error(" remove Absolute ") == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Absolute"
    )
    assert error("GetItem", Key={}, ProjectionExpression="a, size") == (
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: size"
    )


def test_placeholders_may_stand_for_reserved_words():
    c = compile_request(
        "PutItem",
        {"ConditionExpression": "#s = :v", "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":v": {"S": "on"}}},
    ).condition
    assert c.matches({"status": {"S": "on"}})


@pytest.mark.parametrize(
    "expr, section",
    [
        ("set a = #c set c = :d", "SET"),  # before the undefined #c and :d
        ("remove #d set a = b remove e", "REMOVE"),
        ("add #d :e set a = b add e :f", "ADD"),
        ("delete #d :e set a = b delete #e :f", "DELETE"),
    ],
)
def test_each_update_section_once(expr, section):
    assert update_error(expr) == (
        f'Invalid UpdateExpression: The "{section}" section can only be used once in an update expression;'
    )


def test_lexer_offsets():
    toks = tokenize("#a.b[10] <= :v")
    assert [(t.kind, t.text, t.start) for t in toks] == [
        ("NAMEREF", "#a", 0),
        ("OP", ".", 2),
        ("NAME", "b", 3),
        ("OP", "[", 4),
        ("NUMBER", "10", 5),
        ("OP", "]", 7),
        ("OP", "<=", 9),
        ("VALREF", ":v", 12),
        ("EOF", "<EOF>", 14),
    ]
