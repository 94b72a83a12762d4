"""PartiQL onto the expression language: a WHERE becomes ``ConditionExpression`` (or
``FilterExpression``) text and a SET/REMOVE an ``UpdateExpression``, every name and
value a placeholder (``#n0``, ``:v0``), so ``exprs`` compiles and evaluates them exactly
as it does for the item API.

PartiQL forms the expression language writes differently: ``IS MISSING`` is
``attribute_not_exists``, ``IS NULL`` holds for a NULL or a missing attribute (PartiQL's
rule), ``IS <type>`` is ``attribute_type``, ``f(x) = true`` is ``f(x)``, and
``SET s = set_add(s, <<...>>)`` / ``set_delete`` are ``ADD`` / ``DELETE``.
"""

from __future__ import annotations

from functools import reduce
from typing import Any, Callable

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.partiql import ast, literals
from cloudlet.services.dynamodb.errors import invalid

AttributeValue = dict[str, Any]
_CONDITIONS = frozenset({"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"})
_SETS = ("SS", "NS", "BS")


def unrecognized(call: ast.Call) -> ServiceError:
    return invalid(f"Unrecognized function: {call.name} at {call.token.at()}")


class Placeholders:
    """The names and values an expression refers to, each given once."""

    def __init__(self, params: list[AttributeValue]) -> None:
        self.params = params
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._by_name: dict[str, str] = {}

    def name(self, name: str) -> str:
        ref = self._by_name.get(name)
        if ref is None:
            ref = self._by_name[name] = f"#n{len(self._by_name)}"
            self.names[ref] = name
        return ref

    def value(self, value: AttributeValue) -> str:
        ref = f":v{len(self.values)}"
        self.values[ref] = value
        return ref

    def path(self, path: ast.Path) -> str:
        out = self.name(path.name)
        for step in path.steps[1:]:
            out += f"[{step}]" if isinstance(step, int) else "." + self.name(step)
        return out

    def bind(self, expr: ast.Expr) -> str:
        return self.value(literals.bind(expr, self.params))

    def into(self, spec: dict[str, Any]) -> dict[str, Any]:
        if self.names:
            spec["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            spec["ExpressionAttributeValues"] = dict(self.values)
        return spec


# conditions -------------------------------------------------------------------------------
def condition(expr: ast.Expr, ph: Placeholders) -> str:
    if isinstance(expr, ast.And):
        return f"({condition(expr.left, ph)} AND {condition(expr.right, ph)})"
    if isinstance(expr, ast.Or):
        return f"({condition(expr.left, ph)} OR {condition(expr.right, ph)})"
    if isinstance(expr, ast.Not):
        return f"(NOT {condition(expr.operand, ph)})"
    if isinstance(expr, ast.Compare):
        test = _boolean_test(expr, ph)
        if test is not None:
            return test
        return f"({operand(expr.left, ph)} {expr.op} {operand(expr.right, ph)})"
    if isinstance(expr, ast.Between):
        return f"({operand(expr.operand, ph)} BETWEEN {operand(expr.low, ph)} AND {operand(expr.high, ph)})"
    if isinstance(expr, ast.In):
        options = list(expr.options)
        if len(options) == 1 and isinstance(options[0], ast.Param):
            value = literals.bind(options[0], ph.params)
            if "L" in value:  # ``x IN ?`` with a list parameter: its members are the options
                refs = [ph.value(v) for v in value["L"]]
                return f"({operand(expr.operand, ph)} IN ({', '.join(refs)}))"
        refs = [operand(o, ph) for o in options]
        return f"({operand(expr.operand, ph)} IN ({', '.join(refs)}))"
    if isinstance(expr, ast.Is):
        return _is(expr, ph)
    if isinstance(expr, ast.Call):
        if expr.name in _CONDITIONS:
            return f"{expr.name}({', '.join(operand(a, ph) for a in expr.args)})"
        if expr.name == "size":
            raise invalid("Unsupported operation: size() is not a condition")
        raise unrecognized(expr)
    if isinstance(expr, ast.Path):  # a bare path is a test that it holds true
        return f"({ph.path(expr)} = {ph.value({'BOOL': True})})"
    raise invalid("Unsupported operation: a WHERE condition must be a comparison or a function")


def _boolean_test(expr: ast.Compare, ph: Placeholders) -> str | None:
    """``attribute_exists(x) = true`` and the like: a function compared with a boolean."""
    if expr.op not in ("=", "<>"):
        return None
    for fn, other in ((expr.left, expr.right), (expr.right, expr.left)):
        if isinstance(fn, ast.Call) and fn.name in _CONDITIONS and isinstance(other, ast.Literal) \
                and "BOOL" in other.value:
            test = condition(fn, ph)
            return test if other.value["BOOL"] == (expr.op == "=") else f"(NOT {test})"
    return None


def _is(expr: ast.Is, ph: Placeholders) -> str:
    if not isinstance(expr.operand, ast.Path):
        raise invalid("Operator or function requires a document path; operator or function: IS")
    p = ph.path(expr.operand)
    if expr.type == "MISSING":
        test = f"attribute_not_exists({p})"
    elif expr.type == "NULL":
        test = f"(attribute_not_exists({p}) OR attribute_type({p}, {ph.value({'S': 'NULL'})}))"
    elif expr.type == "SET":
        test = "(" + " OR ".join(f"attribute_type({p}, {ph.value({'S': k})})" for k in _SETS) + ")"
    else:
        test = f"attribute_type({p}, {ph.value({'S': expr.type})})"
    return f"(NOT {test})" if expr.negated else test


def operand(expr: ast.Expr, ph: Placeholders) -> str:
    if isinstance(expr, ast.Path):
        return ph.path(expr)
    if literals.is_value(expr):
        return ph.bind(expr)
    if isinstance(expr, ast.Call):
        if expr.name == "size" or expr.name in _CONDITIONS:
            return f"{expr.name}({', '.join(operand(a, ph) for a in expr.args)})"
        raise unrecognized(expr)
    if isinstance(expr, ast.Arith):
        raise invalid(f"Unsupported operation: arithmetic ({expr.op}) in a condition at {expr.token.at()}")
    return condition(expr, ph)


# updates ----------------------------------------------------------------------------------
def update_expression(sets: tuple[ast.Assign, ...], removes: tuple[ast.Path, ...], ph: Placeholders) -> str:
    clauses: dict[str, list[str]] = {"SET": [], "ADD": [], "DELETE": [], "REMOVE": []}
    for assign in sets:
        target = ph.path(assign.path)
        value = assign.value
        if isinstance(value, ast.Call) and value.name in ("set_add", "set_delete"):
            clause = "ADD" if value.name == "set_add" else "DELETE"
            clauses[clause].append(f"{target} {_set_argument(assign, value, ph)}")
        else:
            clauses["SET"].append(f"{target} = {_set_operand(value, ph)}")
    clauses["REMOVE"] = [ph.path(p) for p in removes]
    return " ".join(f"{k} {', '.join(v)}" for k, v in clauses.items() if v)


def _set_argument(assign: ast.Assign, call: ast.Call, ph: Placeholders) -> str:
    label = call.name.upper()
    if len(call.args) != 2:
        raise invalid(f"{label} must have exactly two arguments at {call.token.at()}")
    first, second = call.args
    if not isinstance(first, ast.Path) or first.steps != assign.path.steps:
        raise invalid(f"The first argument to {label} must equal the assignment value at {call.token.at()}")
    value = literals.bind(second, ph.params) if literals.is_value(second) else None
    if value is None or next(iter(value)) not in _SETS:
        raise invalid(f"The second argument to {label} must be a value with type SET at {first.token.at()}")
    return ph.value(value)


def _set_operand(expr: ast.Expr, ph: Placeholders) -> str:
    if isinstance(expr, ast.Arith):
        return f"{_set_operand(expr.left, ph)} {expr.op} {_set_operand(expr.right, ph)}"
    if isinstance(expr, ast.Call):
        if expr.name in ("list_append", "if_not_exists"):
            return f"{expr.name}({', '.join(_set_operand(a, ph) for a in expr.args)})"
        raise unrecognized(expr)
    if isinstance(expr, ast.Path):
        return ph.path(expr)
    return ph.bind(expr)


# keys -------------------------------------------------------------------------------------
def conjuncts(expr: ast.Expr | None) -> list[ast.Expr]:
    if expr is None:
        return []
    if isinstance(expr, ast.And):
        return conjuncts(expr.left) + conjuncts(expr.right)
    return [expr]


def join(parts: list[ast.Expr]) -> ast.Expr | None:
    return reduce(ast.And, parts) if parts else None


def key_equality(expr: ast.Expr, names: set[str]) -> tuple[str, ast.Expr] | None:
    """``k = value`` (either way round) for a key attribute `k`, or None."""
    if not isinstance(expr, ast.Compare) or expr.op != "=":
        return None
    for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
        if isinstance(side, ast.Path) and len(side.steps) == 1 and side.name in names and literals.is_value(other):
            return side.name, other
    return None


def split_key(where: ast.Expr | None, names: set[str]) -> tuple[dict[str, ast.Expr], ast.Expr | None]:
    """The WHERE's top-level equalities on the key attributes, and what is left of it."""
    keys: dict[str, ast.Expr] = {}
    rest: list[ast.Expr] = []
    for part in conjuncts(where):
        found = key_equality(part, names - set(keys))
        if found is None:
            rest.append(part)
        else:
            keys[found[0]] = found[1]
    return keys, join(rest)


def partitions(expr: ast.Expr | None, hash_key: str) -> list[ast.Expr] | None:
    """The partition key values a WHERE confines a read to (equality, IN, or an OR of
    such), or None when it reads every partition."""
    if expr is None:
        return None
    found = key_equality(expr, {hash_key})
    if found is not None:
        return [found[1]]
    if isinstance(expr, ast.In) and isinstance(expr.operand, ast.Path) and expr.operand.steps == (hash_key,) \
            and all(literals.is_value(o) for o in expr.options):
        return list(expr.options)
    if isinstance(expr, ast.And):
        left = partitions(expr.left, hash_key)
        return left if left is not None else partitions(expr.right, hash_key)
    if isinstance(expr, ast.Or):
        left, right = partitions(expr.left, hash_key), partitions(expr.right, hash_key)
        return None if left is None or right is None else left + right
    return None


def strip_prefix(compile: Callable[[dict[str, Any]], Any], spec: dict[str, Any]) -> Any:
    """Compile a translated expression; PartiQL reports its errors without the item
    API's ``Invalid ConditionExpression:`` prefix (the expression text is ours)."""
    try:
        return compile(spec)
    except ServiceError as err:
        if err.code == "ValidationException":
            for prefix in ("ConditionExpression", "FilterExpression", "UpdateExpression", "KeyConditionExpression"):
                head = f"Invalid {prefix}: "
                if err.message.startswith(head):
                    raise invalid(err.message[len(head):]) from None
        raise
