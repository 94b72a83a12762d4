"""Rules and archives meeting events: compiled patterns (cached by their text, so a
pattern is parsed once per process, not once per event) and which rules an event matches."""

from __future__ import annotations

import heapq
import json
import logging
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from cloudlet.core.patterns import Matcher, PatternError, compile_pattern
from cloudlet.services.events import errors

log = logging.getLogger("cloudlet.events")

ENABLED = frozenset({"ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"})


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Matcher | None:
    try:
        return compile_pattern(text, dialect="eventbridge")
    except PatternError as err:  # stored before the engine grew stricter: it matches nothing
        log.warning("event pattern no longer compiles (%s): %s", err, text)
        return None


def check(text: str) -> None:
    """InvalidEventPatternException in AWS's words unless `text` is a valid pattern."""
    try:
        compile_pattern(text, dialect="eventbridge")
    except PatternError as err:
        raise errors.invalid_pattern(str(err)) from None


def matches(text: str | None, event: dict[str, Any]) -> bool:
    """Whether an event meets a pattern; no pattern (an archive without one) takes every event."""
    if text is None:
        return True
    matcher = _compiled(text)
    return matcher is not None and matcher.matches(event)


def rules_for(rules: list[dict[str, Any]], event: dict[str, Any]) -> list[dict[str, Any]]:
    """The enabled pattern rules (with targets) that `event` matches, in name order.

    Most patterns pin `source` to a few exact strings; those rules are indexed by them, so
    an event is only tried against the rules for its source and the rules that do not pin
    one, not against every rule on the bus.
    """
    by_source, unpinned = _index(rules)
    pinned = by_source.get(event.get("source"), ()) if isinstance(event.get("source"), str) else ()
    candidates = heapq.merge(pinned, unpinned, key=_name) if pinned and unpinned else (pinned or unpinned)
    return [r for r in candidates if matches(r["pattern"], event)]


def _name(rule: dict[str, Any]) -> str:
    return rule["name"]


Index = tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]
_INDEXES: "OrderedDict[int, tuple[list[dict[str, Any]], Index]]" = OrderedDict()
_INDEXES_MAX = 256


def _index(rules: list[dict[str, Any]]) -> Index:
    """The source index of a rules list, built once per list (storage keeps a bus's decoded
    list until its rules change; the entry holds the list, so its id cannot be reused)."""
    hit = _INDEXES.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    by_source: dict[str, list[dict[str, Any]]] = {}
    unpinned: list[dict[str, Any]] = []
    for r in rules:
        if not (r.get("targets") and r.get("state") in ENABLED and r.get("pattern") is not None):
            continue
        sources = _sources(r["pattern"])
        if sources is None:
            unpinned.append(r)
        else:
            for src in sources:
                by_source.setdefault(src, []).append(r)
    index = (by_source, unpinned)
    _INDEXES[id(rules)] = (rules, index)
    if len(_INDEXES) > _INDEXES_MAX:
        _INDEXES.popitem(last=False)
    return index


@lru_cache(maxsize=4096)
def _sources(text: str) -> frozenset[str] | None:
    """The exact `source` values a pattern requires, or None if it does not pin plain strings."""
    try:
        pattern = json.loads(text)
    except ValueError:
        return None
    if not isinstance(pattern, dict) or "$or" in pattern:
        return None
    values = pattern.get("source")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        return None
    return frozenset(values)
