"""A request's ExpressionAttributeNames and ExpressionAttributeValues, checked as DynamoDB
checks them, and which of them the request's expressions used: one request's several
expressions together decide what is unused."""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.expressions import errors

_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+\Z")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+\Z")


class Usage:
    """Names and values of one request. ``None`` means the parameter was absent."""

    __slots__ = ("names", "values", "used_names", "used_values")

    def __init__(self, names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        if names is not None:
            if not names:
                raise errors.invalid("ExpressionAttributeNames must not be empty")
            for key in names:
                if not _NAME_KEY.match(key):
                    raise errors.invalid(f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"')
        if values is not None:
            if not values:
                raise errors.invalid("ExpressionAttributeValues must not be empty")
            for key in values:
                if not _VALUE_KEY.match(key):
                    raise errors.invalid(f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"')
            for key, value in values.items():
                try:
                    V.check_value(value)
                except ServiceError as err:
                    raise errors.invalid(
                        f"ExpressionAttributeValues contains invalid value: {err.message} for key {key}"
                    ) from None
        self.names = names or {}
        self.values = values or {}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    def name(self, ref: str, kind: str) -> str:
        try:
            name = self.names[ref]
        except KeyError:
            raise errors.undefined_name(kind, ref) from None
        self.used_names.add(ref)
        return name

    def value(self, ref: str, kind: str) -> dict[str, Any]:
        try:
            value: dict[str, Any] = self.values[ref]
        except KeyError:
            raise errors.undefined_value(kind, ref) from None
        self.used_values.add(ref)
        return value

    def resolve(self, refs: list[str], kind: str) -> None:
        """Every placeholder of one expression, in order of appearance: the first undefined
        one is the error."""
        for ref in refs:
            if ref[0] == "#":
                self.name(ref, kind)
            else:
                self.value(ref, kind)

    def check_unused(self) -> None:
        unused = [k for k in self.names if k not in self.used_names]
        if unused:
            raise errors.invalid(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + ", ".join(unused) + "}"
            )
        unused = [k for k in self.values if k not in self.used_values]
        if unused:
            raise errors.invalid(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + ", ".join(unused) + "}"
            )
