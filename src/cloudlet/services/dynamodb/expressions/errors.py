"""DynamoDB's wording for expression errors. Users match on these strings, so every message
an expression can produce is built here, from the facts AWS answers with."""

from __future__ import annotations

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb.errors import invalid


def expr_error(kind: str, message: str) -> ServiceError:
    """An error about one expression: ``kind`` is its parameter, e.g. ``ConditionExpression``."""
    return invalid(f"Invalid {kind}: {message}")


def syntax(kind: str, token: str, near: str) -> ServiceError:
    return expr_error(kind, f'Syntax error; token: "{token}", near: "{near}"')


def empty(kind: str) -> ServiceError:
    return expr_error(kind, "The expression can not be empty;")


def redundant_parens(kind: str) -> ServiceError:
    return expr_error(kind, "The expression has redundant parentheses;")


def bad_function(kind: str, name: str) -> ServiceError:
    return expr_error(kind, f"Invalid function name; function: {name}")


def misused_function(kind: str, name: str) -> ServiceError:
    return expr_error(kind, f"The function is not allowed to be used this way in an expression; function: {name}")


def reserved(kind: str, word: str) -> ServiceError:
    return expr_error(kind, f"Attribute name is a reserved keyword; reserved keyword: {word}")


def undefined_name(kind: str, ref: str) -> ServiceError:
    return expr_error(kind, f"An expression attribute name used in the document path is not defined; attribute name: {ref}")


def undefined_value(kind: str, ref: str) -> ServiceError:
    return expr_error(kind, f"An expression attribute value used in expression is not defined; attribute value: {ref}")


def operand_count(kind: str, name: str, count: int) -> ServiceError:
    return expr_error(
        kind,
        f"Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {count}",
    )


def operand_type(kind: str, name: str, type_: str) -> ServiceError:
    return expr_error(
        kind, f"Incorrect operand type for operator or function; operator or function: {name}, operand type: {type_}"
    )


def needs_path(kind: str, name: str) -> ServiceError:
    return expr_error(kind, f"Operator or function requires a document path; operator or function: {name}")


def not_distinct(kind: str, op: str, path: str) -> ServiceError:
    return expr_error(
        kind,
        "The first operand must be distinct from the remaining operands for this operator or function; "
        f"operator: {op}, first operand: {path}",
    )


def overlap(kind: str, one: str, two: str) -> ServiceError:
    return expr_error(
        kind,
        "Two document paths overlap with each other; must remove or rewrite one of these paths; "
        f"path one: {one}, path two: {two}",
    )


def conflict(kind: str, one: str, two: str) -> ServiceError:
    return expr_error(
        kind,
        "Two document paths conflict with each other; must remove or rewrite one of these paths; "
        f"path one: {one}, path two: {two}",
    )


# runtime errors of an update (the request was well formed, the item does not fit it)
def bad_path() -> ServiceError:
    return invalid("The document path provided in the update expression is invalid for update")


def missing_operand() -> ServiceError:
    return invalid("The provided expression refers to an attribute that does not exist in the item")


def wrong_operand_type() -> ServiceError:
    return invalid("An operand in the update expression has an incorrect data type")
