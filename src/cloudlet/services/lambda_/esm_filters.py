"""FilterCriteria of an event source mapping: which records reach the function.

AWS runs the EventBridge pattern language over each record as the function would see it,
with one twist: a record's data field (``body`` for SQS, ``data`` for Kinesis) is matched
as JSON when it parses as a JSON object, and as a plain string otherwise. Filters are
OR-ed: a record matching any filter is kept. Records matching none are dropped: for SQS
Lambda deletes them, for streams it checkpoints past them.

Compiled once per FilterCriteria text (mappings are re-read only when they change).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cloudlet.core.patterns import Matcher, PatternError, compile_pattern

#: the record member whose JSON text is matched as parsed JSON, per event source kind
DATA_FIELD = {"sqs": "body", "kinesis": "data"}


class Filters:
    """The compiled filters of one mapping (none: every record passes)."""

    __slots__ = ("_matchers", "_data_field")

    def __init__(self, matchers: tuple[Matcher, ...], data_field: str | None) -> None:
        self._matchers = matchers
        self._data_field = data_field

    def __bool__(self) -> bool:
        return bool(self._matchers)

    def matches(self, record: dict[str, Any]) -> bool:
        if not self._matchers:
            return True
        seen = record
        field = self._data_field
        if field is not None and isinstance(record.get(field), str):
            parsed = _as_json(record[field])
            if parsed is not None:
                seen = {**record, field: parsed}
        return any(m.matches(seen) for m in self._matchers)


def _as_json(text: str) -> Any:
    """The data as JSON when it is a JSON object or array (AWS matches other text as a string)."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def compile_filters(criteria: dict[str, Any] | None, source_kind: str) -> Filters:
    """FilterCriteria (``{"Filters": [{"Pattern": "<json>"}]}``) as compiled filters.

    Raises PatternError (its message is EventBridge's) for a pattern that is not valid;
    the control plane words it as Lambda's InvalidParameterValueException.
    """
    patterns = tuple(f.get("Pattern") or "" for f in ((criteria or {}).get("Filters") or []))
    return Filters(_compiled(patterns), DATA_FIELD.get(source_kind))


@lru_cache(maxsize=512)
def _compiled(patterns: tuple[str, ...]) -> tuple[Matcher, ...]:
    return tuple(compile_pattern(p) for p in patterns if p)


__all__ = ["DATA_FIELD", "Filters", "PatternError", "compile_filters"]
