"""Rules and archives meeting events: compiled patterns (cached by their text, so a
pattern is parsed once per process, not once per event) and which rules an event matches."""

from __future__ import annotations

import logging
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
    """The enabled pattern rules (with targets) that `event` matches, in name order."""
    return [
        r for r in rules
        if r.get("targets") and r.get("state") in ENABLED and r.get("pattern") is not None and matches(r["pattern"], event)
    ]
