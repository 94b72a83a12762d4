"""The filter pattern language (pure): terms, JSON and space-delimited patterns."""

from __future__ import annotations

import pytest

from cloudlet.services.logs.filterpattern import PatternError, compile_pattern


def matches(pattern: str, *messages: str) -> list[bool]:
    m = compile_pattern(pattern)
    return [m(x) for x in messages]


def test_empty_pattern_matches_everything():
    assert matches("", "x", "{}") == [True, True]
    assert matches("   ", "x") == [True]


def test_terms_are_case_sensitive_substrings_and_all_required():
    assert matches("ERROR", "[ERROR] boom", "error boom", "ERRORS") == [True, False, True]
    assert matches("ERROR timeout", "ERROR timeout after 3s", "ERROR only", "timeout only") == [True, False, False]


def test_quoted_phrase_keeps_its_spaces():
    assert matches('"connection reset"', "a connection reset here", "connection  reset", "reset connection") == [
        True, False, False]
    assert matches(r'"say \"hi\""', 'they say "hi" now', "say hi") == [True, False]


def test_optional_terms_match_any():
    assert matches("?ERROR ?WARN", "ERROR x", "WARN y", "INFO z") == [True, True, False]
    # plain terms still all required alongside the optional ones
    assert matches("db ?ERROR ?WARN", "db ERROR", "db INFO", "api ERROR") == [True, False, False]


def test_excluded_terms():
    assert matches("ERROR -Retry", "ERROR final", "ERROR Retry 2", "INFO") == [True, False, False]
    assert matches('-"health check"', "GET /", "GET /health check") == [True, False]


def test_regex_terms():
    assert matches("%ERR[0-9]+%", "code ERR42", "code ERR") == [True, False]


def test_json_string_equality_and_wildcards():
    assert matches('{ $.level = "ERROR" }', '{"level": "ERROR"}', '{"level": "INFO"}', "ERROR", "[1]") == [
        True, False, False, False]
    assert matches('{ $.user.name = "ali*" }', '{"user": {"name": "alice"}}', '{"user": {"name": "bob"}}') == [
        True, False]
    assert matches('{ $.level != "ERROR" }', '{"level": "INFO"}', '{"level": "ERROR"}', '{"other": 1}') == [
        True, False, False]


def test_json_numbers_compare_as_numbers():
    msgs = ['{"latency": 150}', '{"latency": 100}', '{"latency": 99.5}', '{"latency": "slow"}', '{}']
    assert matches("{ $.latency > 100 }", *msgs) == [True, False, False, False, False]
    assert matches("{ $.latency >= 100 }", *msgs) == [True, True, False, False, False]
    assert matches("{ $.latency < 100 }", *msgs) == [False, False, True, False, False]
    assert matches("{ $.latency = 100 }", *msgs) == [False, True, False, False, False]
    assert matches("{ $.latency = 1.5e2 }", *msgs) == [True, False, False, False, False]


def test_json_and_or_parentheses():
    p = '{ ($.level = "ERROR" && $.latency > 100) || $.fatal IS TRUE }'
    assert matches(p, '{"level":"ERROR","latency":200}', '{"level":"ERROR","latency":50}',
                   '{"fatal":true}', '{"fatal":"true"}') == [True, False, True, False]


def test_json_arrays_null_and_exists():
    assert matches('{ $.tags[1] = "b" }', '{"tags":["a","b"]}', '{"tags":["b"]}') == [True, False]
    assert matches("{ $.x IS NULL }", '{"x": null}', '{}', '{"x": 0}') == [True, False, False]
    assert matches("{ $.x NOT EXISTS }", '{}', '{"x": null}') == [True, False]
    assert matches("{ $.ok IS FALSE }", '{"ok": false}', '{"ok": 0}') == [True, False]


def test_json_regex_values():
    assert matches("{ $.path = %^/api/% }", '{"path": "/api/v1"}', '{"path": "/web"}') == [True, False]


def test_space_delimited_fields_and_conditions():
    p = "[ip, user, method, path, status = 404, size > 1000]"
    assert matches(p, "1.2.3.4 bob GET /x 404 2000", "1.2.3.4 bob GET /x 404 20",
                   "1.2.3.4 bob GET /x 200 2000", "1.2.3.4 bob GET /x 404") == [True, False, False, False]


def test_space_delimited_ellipsis_quotes_and_brackets():
    p = "[ip, ..., status = 5*, size]"
    assert matches(p, "1.1.1.1 - - [10/Oct/2000:13:55:36] \"GET / HTTP/1.0\" 503 12", "1.1.1.1 200 1") == [True, False]
    # a quoted or bracketed field is one field
    assert matches('[a, b = "GET / HTTP/1.0", c]', 'x "GET / HTTP/1.0" y') == [True]
    assert matches("[a, b]", "x y", "x y z") == [True, False]


def test_space_delimited_or_within_a_field():
    p = "[ip, status = 404 || status = 500, size]"
    assert matches(p, "a 404 1", "a 500 1", "a 200 1") == [True, True, False]


@pytest.mark.parametrize("bad", ['{ $.level = }', "{ $.a > abc }", "{ level = 1 }", "{ $.a = 1", '"open', "[a, , b]"])
def test_malformed_patterns_are_refused(bad):
    with pytest.raises(PatternError):
        compile_pattern(bad)
