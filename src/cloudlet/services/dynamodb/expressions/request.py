"""A whole request's expressions and legacy parameters, compiled in DynamoDB's order of
checks: expression and legacy parameters not mixed; names and values only with expressions;
the names and values themselves; every expression's text (syntax and the other text checks);
then each expression bound to the names and values; then nothing left unused.
"""

from __future__ import annotations

from typing import Any, Callable

from cloudlet.services.dynamodb.expressions import errors, legacy
from cloudlet.services.dynamodb.expressions.evaluate import Condition, bind_condition
from cloudlet.services.dynamodb.expressions.keycond import KeyCondition, KeySpec, bind_key_condition, key_conditions
from cloudlet.services.dynamodb.expressions.parser import Parsed, parse_condition, parse_projection, parse_update
from cloudlet.services.dynamodb.expressions.projection import Projection, bind_projection
from cloudlet.services.dynamodb.expressions.update import Update, attribute_updates, bind_update
from cloudlet.services.dynamodb.expressions.usage import Usage

# per operation: legacy parameters, expression parameters (both in the order DynamoDB lists
# them when they are mixed), the expressions that may use values, the order of parsing
_OPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "PutItem": (("Expected", "ConditionalOperator"), ("ConditionExpression",), ("ConditionExpression",),
                ("ConditionExpression",)),
    "DeleteItem": (("Expected", "ConditionalOperator"), ("ConditionExpression",), ("ConditionExpression",),
                   ("ConditionExpression",)),
    "UpdateItem": (("AttributeUpdates", "Expected", "ConditionalOperator"), ("UpdateExpression", "ConditionExpression"),
                   ("UpdateExpression", "ConditionExpression"), ("UpdateExpression", "ConditionExpression")),
    "GetItem": (("AttributesToGet",), ("ProjectionExpression",), (), ("ProjectionExpression",)),
    "Query": (("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
              ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
              ("KeyConditionExpression", "FilterExpression"),
              ("KeyConditionExpression", "FilterExpression", "ProjectionExpression")),
    "Scan": (("AttributesToGet", "ScanFilter", "ConditionalOperator"), ("ProjectionExpression", "FilterExpression"),
             ("FilterExpression",), ("FilterExpression", "ProjectionExpression")),
    "ConditionCheck": ((), ("ConditionExpression",), ("ConditionExpression",), ("ConditionExpression",)),
}  # fmt: skip
_OPS["BatchGetItem"] = _OPS["TransactGetItem"] = _OPS["GetItem"]
# every parameter that makes a request more than a plain one (nothing to compile), per op
_PARAMS = {op: frozenset((*spec[0], *spec[1], "ExpressionAttributeNames", "ExpressionAttributeValues"))
           for op, spec in _OPS.items()}


class Compiled:
    """A request's compiled parts; each is None when the request has none."""

    __slots__ = ("condition", "filter", "update", "projection", "key_spec", "key_condition")

    def __init__(self) -> None:
        self.condition: Condition | None = None
        self.filter: Condition | None = None
        self.update: Update | None = None
        self.projection: Projection | None = None
        self.key_spec: KeySpec | None = None
        self.key_condition: KeyCondition | None = None


# Bound expressions that use no values depend only on their text and the names they use,
# so they are shared between requests (GetItem's projection, attribute_not_exists(pk)).
_BOUND: dict[tuple[Any, ...], Any] = {}


def _bind(parsed: Parsed, usage: Usage, bind: Callable[[Parsed, Usage], Any]) -> Any:
    refs = parsed.refs
    if any(r[0] == ":" for r in refs):
        return bind(parsed, usage)
    usage.resolve(refs, parsed.kind)
    key = (parsed, tuple([usage.names[r] for r in refs]))
    hit = _BOUND.get(key)
    if hit is None:
        hit = bind(parsed, usage)
        if len(_BOUND) >= 4096:
            _BOUND.clear()
        _BOUND[key] = hit
    return hit


def _braces(params: list[str]) -> str:
    return "{" + ", ".join(params) + "}"


def _parse(param: str, text: str) -> Parsed:
    if param == "UpdateExpression":
        return parse_update(text)
    if param == "ProjectionExpression":
        return parse_projection(text)
    return parse_condition(text, param, param != "KeyConditionExpression")


def compile_request(
    op: str,
    req: dict[str, Any],
    *,
    hash_key: str | None = None,
    range_key: str | None = None,
    key_types: dict[str, str] | None = None,
) -> Compiled:
    """Compile the expression and legacy parameters of one `op` request (``PutItem``,
    ``DeleteItem``, ``UpdateItem``, ``GetItem``, ``Query``, ``Scan``, ``ConditionCheck``,
    ``BatchGetItem``/``TransactGetItem`` per table or item). For a Query, `hash_key` and
    `range_key` (of the table or index read) bind the key condition; without them only its
    shape is checked and ``key_spec.bind`` is left to the caller."""
    if op != "Query" and _PARAMS[op].isdisjoint(req):
        return Compiled()  # the common PutItem / GetItem: no expression, no legacy parameter
    legacy_params, expr_params, value_params, parse_order = _OPS[op]
    get = req.get
    expr_used = [p for p in expr_params if get(p) is not None]
    legacy_used = [p for p in legacy_params if get(p) is not None]
    if legacy_used and expr_used:
        raise errors.invalid(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {_braces(legacy_used)} Expression parameters: {_braces(expr_used)}"
        )
    if op == "Query" and req.get("KeyConditions") is None and req.get("KeyConditionExpression") is None:
        raise errors.invalid("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
    names, values = get("ExpressionAttributeNames"), get("ExpressionAttributeValues")
    if names is not None and not expr_used:
        raise errors.invalid("ExpressionAttributeNames can only be specified when using expressions")
    if values is not None and not any(get(p) is not None for p in value_params):
        null = list(value_params)
        verb = "is" if len(null) == 1 else "are"
        suffix = f": {' and '.join(null)} {verb} null" if null else ""
        raise errors.invalid("ExpressionAttributeValues can only be specified when using expressions" + suffix)
    out = Compiled()
    if expr_used:
        usage = Usage(names, values)
        parsed = [(p, _parse(p, req[p])) for p in parse_order if get(p) is not None]
        for param, tree in parsed:
            if param == "UpdateExpression":
                out.update = _bind(tree, usage, bind_update)
            elif param == "ProjectionExpression":
                out.projection = _bind(tree, usage, bind_projection)
            elif param == "KeyConditionExpression":
                out.key_spec = bind_key_condition(tree, usage)
            elif param == "FilterExpression":
                out.filter = _bind(tree, usage, bind_condition)
            else:
                out.condition = _bind(tree, usage, bind_condition)
        usage.check_unused()
    else:
        _legacy(op, req, out)
    if out.key_spec is not None and hash_key is not None:
        out.key_condition = out.key_spec.bind(hash_key, range_key, key_types)
        if out.filter is not None and expr_used:
            # DynamoDB: "A filter expression cannot contain partition key or sort key attributes"
            for path in out.filter.paths:
                if path[0] == hash_key or path[0] == range_key:
                    raise errors.invalid(
                        f"Filter Expression can only contain non-primary key attributes: Primary key attribute: {path[0]}"
                    )
    return out


def _legacy(op: str, req: dict[str, Any], out: Compiled) -> None:
    operator = req.get("ConditionalOperator")
    if req.get("KeyConditions") is not None:
        out.key_spec = key_conditions(req["KeyConditions"])
    if req.get("AttributeUpdates") is not None:
        out.update = attribute_updates(req["AttributeUpdates"])
    if req.get("Expected") is not None:
        out.condition = legacy.expected_condition(req["Expected"], operator)
    flt = req.get("QueryFilter") if op == "Query" else req.get("ScanFilter") if op == "Scan" else None
    if flt:
        out.filter = legacy.filter_condition(flt, operator)
    if req.get("AttributesToGet") is not None:
        out.projection = legacy.attributes_to_get(req["AttributesToGet"])
