"""PartiQL: the parser's refusals in DynamoDB's words, then ExecuteStatement,
BatchExecuteStatement and ExecuteTransaction over HTTP."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.partiql import ast, literals, parser
from tests.services.dynamodb.helpers import create_table, unique

WF = "Statement wasn't well formed, can't be processed: "
LEFTOVER = WF + "Unexpected token after expression"


# the parser, directly --------------------------------------------------------------------
@pytest.mark.parametrize("statement, message", [
    ('SELECT * FROM "t" WHERE pk = 1 foo', LEFTOVER),
    ('SELECT * FROM "t" WHERE pk = 1 e5', LEFTOVER),
    ('SELECT * FROM "t" WHERE pk = 1)', LEFTOVER),
    ("INSERT INTO \"t\" VALUE {'pk': 1} foo", LEFTOVER),
    ("INSERT INTO \"t\" t VALUE {'pk': 'x'}", LEFTOVER),
    ('DELETE FROM "t" WHERE pk = 3 ORDER BY pk', LEFTOVER),
    ('SELECT * FROM "t" ORDER BY pk WHERE pk = 1', LEFTOVER),
    ('FROM "t" SET c = 1 WHERE pk = 1', LEFTOVER),
    ('SELECT * FROM "t" WHERE pk = 1e2147483648', WF),
    ('SELECT * FROM "t" WHERE pk = 1.5e-2147483647', WF),
    ('SELECT * FROM "t" WHERE pk = 1 # note', WF),
    ('SELECT * FROM "t" WHERE pk = 1 /* note', WF),
    ("SELECT * FROM \"t\" WHERE pk = 'open", WF),
    ('SELECT * FROM "t" t WHERE pk = 1', "Aliasing is not supported"),
    ('SELECT * FROM "t" AS t WHERE pk = 1', "Aliasing is not supported"),
    ('UPDATE "t" t SET a = 3 WHERE pk = 1', "Aliasing is not supported"),
    ('DELETE FROM "t" t WHERE pk = 1', "Aliasing is not supported"),
    ('SELECT * FROM "t" WHERE', WF + "Unexpected term"),
    ('SELECT * FROM "t" WHERE;', WF + "Unexpected term"),
    ('SELECT * FROM "t" WHERE NOT', WF + "Unexpected term"),
    ('SELECT * FROM "t" WHERE (', WF + "Unexpected term"),
    ("SELECT * FROM", WF + "Unexpected term"),
    ("", WF + "Unexpected term"),
    ('SELECT * FROM "t" WHERE pk = 1 AND', WF + "Missing right-hand side expression of infix operator"),
    ('SELECT * FROM "t" WHERE pk = 1 OR', WF + "Missing right-hand side expression of infix operator"),
    ('SELECT * FROM "t" WHERE ORDER BY pk', WF + "Unexpected keyword"),
    ('SELECT * FROM "t" WHERE pad = 1', WF + "Unexpected keyword"),
    ('SELECT * FROM "t" WHERE IS NULL', WF + "Unexpected operator"),
    ('SELECT * FROM "t" WHERE pk = LIKE', WF + "Unexpected operator"),
    ('SELECT * FROM "t" WHERE x IS FOO', WF + "Expected type name"),
    ("DELETE FROM", WF + "Expected identifier for simple path"),
    ("DELETE FROM WHERE pk = 'a'", WF + "Expected identifier for simple path"),
    ('SELECT * FROM "t" WHERE attribute_exists(m.inner)', WF + "Invalid path dot component"),
    ('SELECT attribute_exists(ss) FROM "t"', "Unexpected path component at 1:8:16"),
    ('SELECT m.z, z FROM "t"', "Duplicate identifiers in select clause: z"),
    ("UPSERT INTO t VALUE {'pk': 1}", WF + "Expected data manipulation"),
])
def test_refusals_in_dynamodbs_words(statement, message):
    with pytest.raises(ServiceError) as err:
        parser.parse(statement)
    assert (err.value.code, err.value.message) == ("ValidationException", message)


def test_forms_that_parse():
    p = parser.parse('-- first\nselect pk, "m"."k"[1] from "t"."i" /* c */ where pk in [1, ?] and "a b" is not missing;')
    stmt = p.statement
    assert isinstance(stmt, ast.Select) and (stmt.table, stmt.index) == ("t", "i") and p.params == 1
    assert [parser.output_name(x) for x in stmt.projection] == ["pk", "k[1]"]
    up = parser.parse("FROM t WHERE pk = ? SET a = a + 1, b = ? REMOVE c RETURNING MODIFIED NEW *").statement
    assert isinstance(up, ast.Update) and len(up.sets) == 2 and up.returning == "MODIFIED NEW"
    assert parser.parse("SELECT * FROM t WHERE pk = 'it''s'").statement.where.right.value == {"S": "it's"}


@pytest.mark.parametrize("text, where, expected", [
    ("7.31e6", "root", "7310000"), ("-.73e1", "root", "-7.3"), ("1.50", "root", "1.5"), ("0.000", "root", "0"),
    ("1E-130", "root", "0." + "0" * 129 + "1"),
])
def test_literal_numbers_in_dynamodbs_form(text, where, expected):
    assert literals.literal_number(text, where) == expected


@pytest.mark.parametrize("text, message", [
    ("1e126", literals.OVERFLOW + " under root.x"),
    ("1e-131", literals.UNDERFLOW + " under root.x"),
    ("1" * 39, literals.DIGITS + " under root.x"),
])
def test_literal_numbers_out_of_range(text, message):
    with pytest.raises(ServiceError) as err:
        literals.literal_number(text, "root.x")
    assert err.value.message == message


@pytest.mark.parametrize("param, message", [
    ({"N": "1e99999999999"}, literals.UNCONVERTIBLE + ": 1e99999999999"),
    ({"N": ""}, literals.UNCONVERTIBLE),
    ({"N": "1e2147483647"}, literals.UNDERFLOW),  # 32-bit arithmetic wraps round, as DynamoDB's does
    ({"L": [{"N": "1"}, {"N": "abc"}]}, literals.UNCONVERTIBLE + ": abc"),
    ({"NS": ["1", "1e2147483648"]}, literals.UNCONVERTIBLE + ": 1e2147483648"),
])
def test_parameter_numbers(param, message):
    with pytest.raises(ServiceError) as err:
        literals.check_parameters([param])
    assert err.value.message == message


def test_the_first_problem_in_document_order_is_reported():
    deep = {"S": "leaf"}
    for _ in range(40):
        deep = {"M": {"n": deep}}
    with pytest.raises(ServiceError) as err:
        literals.check_parameters([deep, {"N": "abc"}])
    assert err.value.message == literals.NEST
    with pytest.raises(ServiceError) as err:
        literals.check_parameters([{"N": "abc"}, deep])
    assert err.value.message == literals.UNCONVERTIBLE + ": abc"


# over HTTP ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def songs(ddb) -> str:
    """Keyed by artist (S) and n (N), with a global index on genre and a local one on year."""
    name = unique("pq")
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "artist", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "artist", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"},
                              {"AttributeName": "genre", "AttributeType": "S"},
                              {"AttributeName": "year", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-genre", "KeySchema": [{"AttributeName": "genre", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "by-year",
                                "KeySchema": [{"AttributeName": "artist", "KeyType": "HASH"},
                                              {"AttributeName": "year", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    for artist in ("acme", "zed"):
        for n in range(1, 6):
            ddb.put_item(TableName=name, Item={
                "artist": {"S": artist}, "n": {"N": str(n)}, "genre": {"S": "rock" if n % 2 else "jazz"},
                "year": {"N": str(2000 + n)}, "title": {"S": f"{artist} {n}"},
                "meta": {"M": {"plays": {"N": str(n * 10)}, "tags": {"L": [{"S": "a"}, {"S": f"t{n}"}]}}}})
    return name


@pytest.fixture()
def simple(ddb) -> str:
    name = unique("pq")
    create_table(ddb, name)
    return name


def run(ddb, statement: str, *params, **extra) -> dict:
    req = {"Statement": statement, **extra}
    if params:
        req["Parameters"] = list(params)
    return ddb.execute_statement(**req)


def error(ddb, statement: str, *params, **extra) -> dict:
    with pytest.raises(ClientError) as err:
        run(ddb, statement, *params, **extra)
    return err.value.response["Error"]


def stored(ddb, table: str, pk: str) -> dict | None:
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def test_select_by_key_filter_and_projection(ddb, songs):
    out = run(ddb, f'SELECT title, meta.tags[1], meta.plays FROM "{songs}" WHERE artist = ? AND meta.plays >= 30',
              {"S": "acme"})
    assert out["Items"] == [
        {"title": {"S": f"acme {n}"}, "tags[1]": {"S": f"t{n}"}, "plays": {"N": str(n * 10)}} for n in (3, 4, 5)]
    out = run(ddb, f'SELECT n FROM "{songs}" WHERE artist = \'zed\' AND n BETWEEN 2 AND 4 ORDER BY n DESC')
    assert [i["n"]["N"] for i in out["Items"]] == ["4", "3", "2"]
    out = run(ddb, f'SELECT artist, n FROM "{songs}" WHERE artist IN [\'zed\', \'acme\'] AND n = 1')
    assert out["Items"] == [{"artist": {"S": "zed"}, "n": {"N": "1"}}, {"artist": {"S": "acme"}, "n": {"N": "1"}}]


def test_select_scans_without_a_key_and_pages(ddb, songs):
    statement = f'SELECT artist, n FROM "{songs}" WHERE genre = \'jazz\' OR begins_with(title, ?)'
    seen, token, pages = [], None, 0
    while True:
        extra = {"Limit": 3, **({"NextToken": token} if token else {})}
        out = run(ddb, statement, {"S": "zed 5"}, **extra)
        pages += 1
        seen += [(i["artist"]["S"], i["n"]["N"]) for i in out["Items"]]
        token = out.get("NextToken")
        if token is None:
            break
        assert "LastEvaluatedKey" in out
    assert pages == 4  # 10 items read, 3 at a time: the filter does not count
    assert sorted(seen) == [("acme", "2"), ("acme", "4"), ("zed", "2"), ("zed", "4"), ("zed", "5")]
    first = run(ddb, statement, {"S": "zed 5"}, Limit=1)["NextToken"]
    assert error(ddb, statement, {"S": "other"}, NextToken=first)["Message"] == "The provided starting key is invalid"
    assert error(ddb, statement, {"S": "x"}, NextToken="not-a-token")["Message"] == "Invalid NextToken"


def test_select_through_an_index(ddb, songs):
    out = run(ddb, f'SELECT * FROM "{songs}"."by-genre" WHERE genre = \'jazz\'')
    assert sorted((i["artist"]["S"], i["n"]["N"]) for i in out["Items"]) == [
        ("acme", "2"), ("acme", "4"), ("zed", "2"), ("zed", "4")]
    assert set(out["Items"][0]) == {"artist", "n", "genre"}
    err = error(ddb, f'SELECT title FROM "{songs}"."by-genre" WHERE genre = \'jazz\'')
    assert err["Message"] == ("One or more parameter values were invalid: Global secondary index by-genre does not "
                              "project [title]")
    out = run(ddb, f'SELECT title FROM "{songs}"."by-year" WHERE artist = \'acme\' AND "year" > 2003',
              ConsistentRead=True)
    assert out["Items"] == [{"title": {"S": "acme 4"}}, {"title": {"S": "acme 5"}}]  # a local index reaches the table


def test_insert_and_duplicates(ddb, simple):
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'a', 'n': 7.31e2, 'ss': <<'x', 'y'>>, 'l': [1, 'two'], "
             "'m': {'deep': true}, 'nothing': null, 'p': ?}", {"B": b"\x01"})
    assert stored(ddb, simple, "a") == {
        "pk": {"S": "a"}, "n": {"N": "731"}, "ss": {"SS": ["x", "y"]}, "l": {"L": [{"N": "1"}, {"S": "two"}]},
        "m": {"M": {"deep": {"BOOL": True}}}, "nothing": {"NULL": True}, "p": {"B": b"\x01"}}
    err = error(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'a'}}")
    assert err == {"Code": "DuplicateItemException", "Message": "Duplicate primary key exists in table"}
    err = error(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'b', 'm': {{'x': 1e126}}}}")
    assert err["Message"] == literals.OVERFLOW + " under root.x"
    assert stored(ddb, simple, "b") is None


def test_update_set_remove_and_returning(ddb, simple):
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'u', 'n': 1, 'gone': 'x', 'ss': <<'a', 'b'>>}}")
    out = run(ddb, f'UPDATE "{simple}" SET n = n + ? SET m = {{\'k\': \'v\'}} REMOVE gone WHERE pk = ? '
                   'RETURNING ALL NEW *', {"N": "4"}, {"S": "u"})
    assert out["Items"] == [{"pk": {"S": "u"}, "n": {"N": "5"}, "m": {"M": {"k": {"S": "v"}}},
                             "ss": {"SS": ["a", "b"]}}]
    assert "gone" not in stored(ddb, simple, "u")
    run(ddb, f"UPDATE \"{simple}\" SET ss = set_add(ss, <<'c'>>) WHERE pk = 'u'")
    run(ddb, f"UPDATE \"{simple}\" SET ss = set_delete(ss, <<'a'>>) WHERE pk = 'u'")
    assert sorted(stored(ddb, simple, "u")["ss"]["SS"]) == ["b", "c"]
    out = run(ddb, f"FROM \"{simple}\" WHERE pk = 'u' AND n = 5 SET n = 6 RETURNING MODIFIED OLD *")
    assert out["Items"] == [{"n": {"N": "5"}}]
    err = error(ddb, f"UPDATE \"{simple}\" SET ss = set_add(ss, 'x') WHERE pk = 'u'")
    assert err["Message"] == "The second argument to SET_ADD must be a value with type SET at 1:{}:2".format(
        f"UPDATE \"{simple}\" SET ss = set_add(ss, 'x') WHERE pk = 'u'".index("set_add(") + 9)


def test_update_needs_an_item_and_its_whole_key(ddb, simple):
    err = error(ddb, f"UPDATE \"{simple}\" SET n = 1 WHERE pk = 'never'")
    assert err["Code"] == "ConditionalCheckFailedException"
    assert stored(ddb, simple, "never") is None
    err = error(ddb, f"UPDATE \"{simple}\" SET n = 1 WHERE n = 1")
    assert err["Message"] == "Where clause does not contain a mandatory equality on all key attributes"
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'c', 'n': 1}}")
    with pytest.raises(ClientError) as err:
        run(ddb, f"UPDATE \"{simple}\" SET n = 2 WHERE pk = 'c' AND attribute_exists(nope)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert err.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert err.value.response["Item"] == {"pk": {"S": "c"}, "n": {"N": "1"}}
    assert stored(ddb, simple, "c")["n"] == {"N": "1"}


def test_delete(ddb, simple):
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'd', 'n': 1}}")
    assert error(ddb, f"DELETE FROM \"{simple}\" WHERE pk = 'd' AND n = 2")["Code"] == "ConditionalCheckFailedException"
    out = run(ddb, f"DELETE FROM \"{simple}\" WHERE pk = 'd' RETURNING ALL OLD *")
    assert out["Items"] == [{"pk": {"S": "d"}, "n": {"N": "1"}}]
    assert stored(ddb, simple, "d") is None
    assert run(ddb, f"DELETE FROM \"{simple}\" WHERE pk = 'd'")["Items"] == []


def test_statement_errors(ddb, simple):
    assert error(ddb, f'SELECT * FROM "{simple}" WHERE pk = ?')["Message"] == (
        "Number of parameters in request and statement don't match.")
    assert error(ddb, f'SELECT * FROM "{simple}" WHERE pk = 1 foo')["Message"] == LEFTOVER
    assert error(ddb, f'SELECT * FROM "{unique()}"')["Code"] == "ResourceNotFoundException"
    assert error(ddb, f'SELECT * FROM "{simple}" WHERE pk = \'a\' AND size(?) > 1', {"BOOL": True})["Message"] == (
        "Incorrect operand type for operator or function; operator or function: size, operand type: BOOL")
    assert error(ddb, f'SELECT * FROM "{simple}" WHERE year = 1')["Message"] == WF + "Unexpected keyword"
    assert error(ddb, f'SELECT * FROM "{simple}" WHERE pk = \'a\' AND EXISTS(v)')["Message"].startswith(
        "Unrecognized function: exists at 1:")


def test_is_and_functions_filter(ddb, simple):
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'f', 'nul': null, 's': 'str', 'flag': true}}")
    def keys(cond: str) -> list:
        return [i["pk"]["S"] for i in run(ddb, f"SELECT pk FROM \"{simple}\" WHERE pk = 'f' AND {cond}")["Items"]]
    assert keys("nul IS NULL") == ["f"] and keys("s IS NULL") == [] and keys("nope IS NULL") == ["f"]
    assert keys("s IS NOT NULL") == ["f"] and keys("nope IS NOT MISSING") == []
    assert keys("flag IS BOOLEAN") == ["f"] and keys("s IS STRING") == ["f"] and keys("s IS INT") == []
    assert keys("attribute_exists(s) = true") == ["f"] and keys("attribute_exists(s) = false") == []
    assert keys("size(s) = 3 AND contains(s, 't')") == ["f"]


def test_batch_execute_statement(ddb, simple):
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'pk': 'b1'}}"},
        {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'pk': 'b1'}}"},
        {"Statement": f"UPDATE \"{simple}\" SET v = ? WHERE pk = ?", "Parameters": [{"N": "2"}, {"S": "b1"}]},
        {"Statement": f"SELECT * FROM \"{simple}\" WHERE"},
    ])
    assert out["Responses"] == [
        {"TableName": simple},
        {"TableName": simple, "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}},
        {"TableName": simple},
        {"Error": {"Code": "ValidationError", "Message": WF + "Unexpected term"}},
    ]
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT v FROM \"{simple}\" WHERE pk = 'b1'"},
        {"Statement": f"SELECT * FROM \"{simple}\" WHERE pk = 'none'"},
        {"Statement": f"SELECT * FROM \"{simple}\" WHERE v = 2"},
    ])
    assert out["Responses"] == [
        {"TableName": simple, "Item": {"v": {"N": "2"}}},
        {"TableName": simple},
        {"TableName": simple, "Error": {"Code": "ValidationError", "Message": (
            "Select statements within BatchExecuteStatement must specify the primary key in the where clause.")}},
    ]
    with pytest.raises(ClientError) as err:
        ddb.batch_execute_statement(Statements=[{"Statement": f"SELECT * FROM \"{simple}\" WHERE pk = 'b1'"},
                                                {"Statement": f"DELETE FROM \"{simple}\" WHERE pk = 'b1'"}])
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_execute_transaction_all_or_nothing(ddb, simple):
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 't1', 'n': 1}}")
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"UPDATE \"{simple}\" SET n = n + 1 WHERE pk = 't1'"},
        {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'pk': 't2'}}"},
    ])
    assert out["Responses"] == []
    assert stored(ddb, simple, "t1")["n"] == {"N": "2"} and stored(ddb, simple, "t2") is not None
    with pytest.raises(ClientError) as err:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'pk': 't3'}}"},
            {"Statement": f"UPDATE \"{simple}\" SET n = 9 WHERE pk = 'missing'"},
            {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'pk': 't2'}}"},
            {"Statement": f"EXISTS(SELECT * FROM \"{simple}\" WHERE pk = 't1' AND n = 5)"},
        ])
    assert err.value.response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed, DuplicateItem, ConditionalCheckFailed]")
    assert [r["Code"] for r in err.value.response["CancellationReasons"]] == [
        "None", "ConditionalCheckFailed", "DuplicateItem", "ConditionalCheckFailed"]
    assert stored(ddb, simple, "t3") is None
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT n FROM \"{simple}\" WHERE pk = ?", "Parameters": [{"S": "t1"}]},
        {"Statement": f"SELECT * FROM \"{simple}\" WHERE pk = 'nobody'"},
    ])
    assert out["Responses"] == [{"Item": {"n": {"N": "2"}}}, {}]


def test_execute_transaction_refusals(ddb, simple):
    def refused(*statements: str) -> str:
        with pytest.raises(ClientError) as err:
            ddb.execute_transaction(TransactStatements=[{"Statement": s} for s in statements])
        assert err.value.response["Error"]["Code"] == "ValidationException"
        return err.value.response["Error"]["Message"]

    assert refused(f"SELECT * FROM \"{simple}\" WHERE pk = 'a'", f"DELETE FROM \"{simple}\" WHERE pk = 'a'") == (
        "ExecuteTransaction API does not support both read and write operations in the same request.")
    assert refused(f"DELETE FROM \"{simple}\" WHERE pk = 'a'", f"UPDATE \"{simple}\" SET v = 1 WHERE pk = 'a'") == (
        "Transaction request cannot include multiple operations on one item")
    assert refused(f"SELECT * FROM \"{simple}\" WHERE pk = 'a' AND attribute_exists(v)") == (
        "Validation failed in TransactStatements[0]: Select statements within ExecuteTransaction must specify the "
        "primary key in the where clause.")
    assert refused(f"SELECT * FROM \"{simple}\" WHERE") == (
        f"Validation failed in TransactStatements[0]: {WF}Unexpected term")
    assert refused(f"EXISTS(SELECT * FROM \"{simple}\" WHERE pk = 'a')",
                   f"UPDATE \"{simple}\" SET v = 1 WHERE pk = 'b'") == (
        "Validation failed in TransactStatements[0]: EXISTS() must contain a single item read with additional "
        "condition")


def test_execute_transaction_client_token(ddb, simple):
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'pk': 'tok', 'n': 0}}")
    req = {"TransactStatements": [{"Statement": f"UPDATE \"{simple}\" SET n = n + 1 WHERE pk = 'tok'"}],
           "ClientRequestToken": uuid.uuid4().hex}
    ddb.execute_transaction(**req)
    ddb.execute_transaction(**req)
    assert stored(ddb, simple, "tok")["n"] == {"N": "1"}
    with pytest.raises(ClientError) as err:
        ddb.execute_transaction(**{**req, "TransactStatements": [
            {"Statement": f"UPDATE \"{simple}\" SET n = n + 2 WHERE pk = 'tok'"}]})
    assert err.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
