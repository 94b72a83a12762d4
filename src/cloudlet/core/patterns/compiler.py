"""The rule compiler: event-ruler's grammar, walked over the tokens."""

from __future__ import annotations

import re
from typing import Any, Callable

from cloudlet.core.patterns.common import EVENTBRIDGE, MAX_BRANCHES, _Invalid, _OR_RESERVED, _TOO_COMPLEX
from cloudlet.core.patterns.lexer import _Lexer
from cloudlet.core.patterns.values import _Field, _cidr, _comparable_text, _decimal, _exact_number, _ip, _range_test, _wildcard_regex

# ------------------------------------------------------------------------------------------
# The rule compiler: event-ruler's grammar, walked over the tokens
# ------------------------------------------------------------------------------------------

Branch = dict[str, "_Field"]  # one $or alternative: dotted field name -> its alternatives


class _Compiler:
    def __init__(self, text: str, dialect: str) -> None:
        self.lex = _Lexer(text)
        self.dialect = dialect
        self.limited = dialect == EVENTBRIDGE  # EventBridge's numeric range/precision limits

    def compile(self) -> list[Branch]:
        lex = self.lex
        if lex.next() != "{":
            raise lex.fail("Filter is not an object")
        rules: list[Branch] = []
        self.parse_object(rules, [], in_or=False)
        return rules

    # objects -----------------------------------------------------------------------------
    def parse_object(self, rules: list[Branch], path: list[str], in_or: bool) -> None:
        lex = self.lex
        present = False
        while lex.next() != "}":
            present = True
            name = lex.name
            if name == "$or":
                self.parse_or(rules, path)
                continue
            if in_or and name in _OR_RESERVED:
                raise lex.fail(f"{name} is Ruler reserved fieldName which cannot be used inside $or.")
            tok = lex.next()
            if tok == "{":
                self.parse_object(rules, [*path, name], in_or)
            elif tok == "[":
                self.write_rules(rules, ".".join([*path, name]))
            else:
                raise lex.fail(f'"{name}" must be an object or an array')
        if not present:
            raise lex.fail("Empty objects are not allowed")

    def parse_or(self, rules: list[Branch], path: list[str]) -> None:
        lex = self.lex
        current = [dict(r) for r in rules]
        rules.clear()
        if lex.next() != "[":
            raise lex.fail("It must be an Array followed with $or.")
        count = 0
        while lex.next() != "]":
            count += 1
            if lex.tok != "{":
                raise lex.fail("Only JSON object is allowed in array of $or relationship.")
            branch_rules = [dict(r) for r in current] or [{}]
            self.parse_object(branch_rules, path, in_or=True)
            rules.extend(branch_rules)
        if count < 2:
            raise lex.fail("There must have at least 2 Objects in $or relationship.")
        if len(rules) > MAX_BRANCHES:
            raise _Invalid(_TOO_COMPLEX)

    def write_rules(self, rules: list[Branch], name: str) -> None:
        lex = self.lex
        field = _Field()
        count = 0
        while lex.next() != "]":
            count += 1
            tok = lex.tok
            if tok == "{":
                self.match_expression(field)
            elif tok == "str":
                self.exact_string(field, lex.text())
            elif tok == "num":
                field.exact_num.add(_exact_number(lex.num_text))
            elif tok in ("true", "false", "null"):
                field.literals.append(lex.value)
            else:
                raise lex.fail("Match value must be String, number, true, false, or null")
        if not count:
            raise lex.fail("Empty arrays are not allowed")
        if not rules:
            rules.append({})
        for rule in rules:
            rule[name] = field

    @staticmethod
    def exact_string(field: _Field, text: str) -> None:
        field.exact_str.add(text)
        ip = _ip(text)
        if ip is not None:  # event-ruler turns IP literals into ranges: equal addresses match
            field.str_tests.append(lambda v: _ip(v) == ip)

    # match expressions -------------------------------------------------------------------
    def match_expression(self, field: _Field) -> None:
        lex = self.lex
        if lex.next() != "name":
            raise lex.fail("Match expression name not found")
        op = lex.name
        if op == "exactly":
            field.exact_str.add(self.string_operand("exact match pattern must be a string"))
            self.close_expression()
        elif op in ("prefix", "suffix"):
            self.prefix_suffix(field, op)
        elif op == "numeric":
            if lex.next() != "[":
                raise lex.fail("Value of numeric must be an array.")
            field.num_tests.append(self.numeric())
            if lex.next() != "}":
                raise lex.fail("Too many elements in numeric expression")
        elif op == "anything-but":
            self.anything_but(field)
        elif op == "exists":
            tok = lex.next()
            if tok not in ("true", "false"):
                raise lex.fail("exists match pattern must be either true or false.")
            if tok == "true":
                field.any_tests.append(_always)
            else:
                field.absent_ok = True
            self.close_expression()
        elif op == "cidr":
            if lex.next() != "str":
                raise lex.fail("prefix match pattern must be a string")
            field.str_tests.append(_cidr(lex.text()))  # event-ruler reports these without a location
            self.close_expression()
        elif op == "equals-ignore-case":
            text = self.string_operand("equals-ignore-case match pattern must be a string")
            field.str_tests.append(_ignore_case(text, "equals"))
            self.close_expression()
        elif op == "wildcard" and self.dialect == EVENTBRIDGE:
            text = self.string_operand("wildcard match pattern must be a string")
            try:
                regex = _wildcard_regex(text)
            except _Invalid as err:
                raise lex.fail(err.reason) from None
            field.str_tests.append(_fullmatch(regex))
            field.wildcards.append(text)
            self.close_expression()
        else:
            raise lex.fail(f"Unrecognized match type {op}")

    def string_operand(self, message: str) -> str:
        if self.lex.next() != "str":
            raise self.lex.fail(message)
        return self.lex.text()

    def close_expression(self) -> None:
        if self.lex.next() != "}":
            raise self.lex.fail("Only one key allowed in match expression")

    def prefix_suffix(self, field: _Field, op: str) -> None:
        lex = self.lex
        tok = lex.next()
        if tok == "{":
            title = op.capitalize()
            if lex.next() != "name":
                raise lex.fail(f"{title} expression name not found")
            if lex.name != "equals-ignore-case":
                raise lex.fail(f"Unsupported {op} pattern: {lex.name}")
            text = self.string_operand("equals-ignore-case match pattern must be a string")
            field.str_tests.append(_ignore_case(text, op))
            self.close_expression()
            self.close_expression()
            return
        if tok != "str":
            raise lex.fail(f"{op} match pattern must be a string")
        text = lex.text()
        field.str_tests.append(_starts(text) if op == "prefix" else _ends(text))
        self.close_expression()

    def numeric(self) -> Callable[[float], bool]:
        lex = self.lex
        if lex.next() != "str":
            raise lex.fail(f"Invalid member in numeric match: {lex.text()}")
        op = lex.text()
        tok = lex.next()
        try:
            if op == "=":
                if tok != "num":
                    raise lex.fail("Value of equals must be numeric")
                text = lex.num_text
                if lex.next() != "]":
                    raise lex.fail("Too many elements in numeric expression")
                value = self.number(text)
                return _range_test(value, False, value, False, self.limited)
            if op in (">=", ">"):
                if tok != "num":
                    raise lex.fail(f"Value of {op} must be numeric")
                bottom = lex.num_text
                tok = lex.next()
                if tok == "]":
                    return _range_test(self.number(bottom), op == ">", None, False, self.limited)
                return self.numeric_range(tok, bottom, op == ">")
            if op in ("<=", "<"):
                if tok != "num":
                    raise lex.fail(f"Value of {op} must be numeric")
                top = lex.num_text
                if lex.next() != "]":
                    raise lex.fail("Too many elements in numeric expression")
                return _range_test(None, False, self.number(top), op == "<", self.limited)
            raise lex.fail(f"Unrecognized numeric range operator: {op}")
        except _Invalid as err:
            if err.located:
                raise
            raise lex.fail(err.reason) from None

    def numeric_range(self, tok: str | None, bottom: str, open_bottom: bool) -> Callable[[float], bool]:
        lex = self.lex
        if tok != "str":
            raise lex.fail(f"Bad value in numeric range: {lex.text()}")
        op = lex.text()
        if op not in ("<", "<="):
            raise lex.fail(f"Bad numeric range operator: {op}")
        if lex.next() != "num":
            raise lex.fail(f"Value of {op} must be numeric")
        top = lex.num_text
        if lex.next() != "]":
            raise lex.fail("Too many terms in numeric range expression")
        lo, hi = self.number(bottom), self.number(top)
        if _decimal(bottom) >= _decimal(top):
            raise _Invalid("Bottom must be less than top")
        return _range_test(lo, open_bottom, hi, op == "<", self.limited)

    def number(self, text: str) -> float:
        if self.limited:
            return _comparable_text(text)
        return float(_decimal(text))

    def anything_but(self, field: _Field) -> None:
        lex = self.lex
        kind = "values"
        tok = lex.next()
        if tok == "{":
            if lex.next() != "name":
                raise lex.fail("Anything-But expression name not found")
            sub = lex.name
            allowed = {"equals-ignore-case", "prefix", "suffix"}
            if self.dialect == EVENTBRIDGE:
                allowed.add("wildcard")
            if sub not in allowed:
                raise lex.fail(f"Unsupported anything-but pattern: {sub}")
            kind = sub
            tok = lex.next()
        if tok not in ("[", "str", "num"):
            raise lex.fail("Value of anything-but must be an array or single string/number value.")
        if kind == "values":
            test = self.anything_but_values(tok)
        else:
            test = self.anything_but_set(tok, kind, field)
        field.any_tests.append(test)
        if lex.next() != "}":
            raise lex.fail("Too many elements in numeric expression")
        if kind != "values" and lex.next() != "}":
            raise lex.fail("Too many elements in numeric expression")

    def anything_but_values(self, tok: str | None) -> Callable[[Any], bool]:
        lex = self.lex
        strings: set[str] = set()
        numbers: set[float] = set()
        if tok == "[":
            while True:
                try:
                    tok = lex.next()
                    if tok == "]":
                        break
                    if tok == "str":
                        strings.add(lex.text())
                    elif tok == "num":
                        numbers.add(self.anything_but_number(lex.num_text))
                    else:
                        raise lex.fail("Inside anything but list, start|null|boolean is not supported.")
                except _Invalid as err:  # event-ruler re-reports these, location and all
                    raise lex.fail(err.reason) from None
            if bool(strings) == bool(numbers):
                raise lex.fail(
                    "Inside anything but list, either all values are number or string, mixed "
                    "type is not supported"
                )
        elif tok == "str":
            strings.add(lex.text())
        else:
            numbers.add(self.anything_but_number(lex.num_text))
        if strings:
            frozen = frozenset(strings)
            return lambda v: not (v.__class__ is str and v in frozen)
        nums = frozenset(numbers)
        return lambda v: not ((v.__class__ is int or v.__class__ is float) and v in nums)

    def anything_but_number(self, text: str) -> float:
        if self.limited:
            _comparable_text(text)
        return _exact_number(text)

    def anything_but_set(self, tok: str | None, kind: str, field: _Field) -> Callable[[Any], bool]:
        lex = self.lex
        if kind == "equals-ignore-case":
            type_error = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
        elif kind == "wildcard":
            type_error = "wildcard match pattern must be a string"
        else:
            type_error = "prefix/suffix match pattern must be a string"
        values: list[str] = []

        def take() -> None:
            if lex.tok != "str":
                raise lex.fail(type_error)
            text = lex.text()
            if kind in ("prefix", "suffix") and not text:
                raise lex.fail("Null prefix/suffix not allowed")
            values.append(text)

        if tok == "[":
            while True:
                try:
                    if lex.next() == "]":
                        break
                    take()
                except _Invalid as err:
                    raise lex.fail(err.reason) from None
        else:
            take()
        if kind == "equals-ignore-case":
            lowered = frozenset(v.lower() for v in values)
            uppered = frozenset(v.upper() for v in values)
            return lambda v: not (v.__class__ is str and (v.lower() in lowered or v.upper() in uppered))
        if kind == "prefix":
            prefixes = tuple(values)
            return lambda v: not (v.__class__ is str and v.startswith(prefixes))
        if kind == "suffix":
            suffixes = tuple(values)
            return lambda v: not (v.__class__ is str and v.endswith(suffixes))
        regexes = []
        for text in values:
            try:
                regexes.append(_wildcard_regex(text).fullmatch)
            except _Invalid as err:
                raise lex.fail(err.reason) from None
        field.wildcards.extend(values)
        return lambda v: not (v.__class__ is str and any(m(v) for m in regexes))


def _always(v: Any) -> bool:
    return True


def _starts(text: str) -> Callable[[str], bool]:
    return lambda v: v.startswith(text)


def _ends(text: str) -> Callable[[str], bool]:
    return lambda v: v.endswith(text)


def _fullmatch(regex: re.Pattern[str]) -> Callable[[str], bool]:
    match = regex.fullmatch
    return lambda v: match(v) is not None


def _ignore_case(text: str, how: str) -> Callable[[str], bool]:
    """Case-insensitive equals/prefix/suffix; a character matches its lower or upper case."""
    low, up = text.lower(), text.upper()
    if how == "equals":
        return lambda v: v.lower() == low or v.upper() == up
    if how == "prefix":
        return lambda v: v.lower().startswith(low) or v.upper().startswith(up)
    return lambda v: v.lower().endswith(low) or v.upper().endswith(up)


