"""What a target receives: the event itself, a constant ``Input``, the part of the event an
``InputPath`` selects, or an ``InputTransformer``'s template filled in. Pure.

JSONPath is the subset AWS supports: ``$``, dot names (letters, digits, ``-``, ``_``,
``/``, ``:``, ``@``), ``['name']``, array indices ``[0]`` and wildcards ``*``/``[*]``
(a wildcard makes the result a list of what matched).

Input templates (EventBridge user guide, "Input transformation"):

* ``<name>`` is replaced by the value its InputPathsMap path selects. Inside a JSON
  string (between quotes) the value is written as text, unescaped (AWS does not escape
  what a path extracts); outside quotes in a JSON template it is written as JSON (a
  string gets its quotes); in a template that is not JSON (plain text) a string is
  written as text.
* A path that selects nothing defines no variable: ``<name>`` becomes ``null`` outside
  quotes and nothing inside them.
* Predefined: ``<aws.events.rule-arn>``, ``<aws.events.rule-name>``,
  ``<aws.events.event.ingestion-time>`` (ISO 8601), ``<aws.events.event>`` (the event
  without ``detail``) and ``<aws.events.event.json>`` (the whole event), the last two
  always as JSON.
* The JSON a target receives is minified.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

MISSING = object()
_SEGMENT = re.compile(r"\.([A-Za-z0-9_\-/:@$]+|\*)|\[(\d+|\*)\]|\['([^']*)'\]")
_PLACEHOLDER = re.compile(r"<([^<>\s\"]+)>")
PREDEFINED = frozenset(
    {"aws.events.rule-arn", "aws.events.rule-name", "aws.events.event", "aws.events.event.json",
     "aws.events.event.ingestion-time"}
)


class PathError(ValueError):
    """A path outside the supported JSONPath subset."""


def compile_path(path: str) -> list[tuple[str, Any]]:
    """Steps of a path: ("key", name), ("index", n) or ("any", None)."""
    if not path.startswith("$"):
        raise PathError(path)
    steps: list[tuple[str, Any]] = []
    pos = 1
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None:
            raise PathError(path)
        name, index, quoted = m.group(1), m.group(2), m.group(3)
        if name == "*" or index == "*":
            steps.append(("any", None))
        elif name is not None:
            steps.append(("key", name))
        elif index is not None:
            steps.append(("index", int(index)))
        else:
            steps.append(("key", quoted))
        pos = m.end()
    return steps


def select(doc: Any, path: str) -> Any:
    """The value at `path` in `doc`, a list when the path has a wildcard, or ``MISSING``."""
    steps = compile_path(path)
    values = [doc]
    wild = False
    for kind, arg in steps:
        nxt: list[Any] = []
        for v in values:
            if kind == "key" and isinstance(v, dict) and arg in v:
                nxt.append(v[arg])
            elif kind == "index" and isinstance(v, list) and -len(v) <= arg < len(v):
                nxt.append(v[arg])
            elif kind == "any":
                wild = True
                nxt.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [])
        values = nxt
    if wild:
        return values
    return values[0] if values else MISSING


def minified(value: Any) -> str:
    """Compact JSON, as targets receive it (orjson; the json module for what orjson
    refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render(target: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str, ingested: str) -> str:
    """The body a target receives for `event`."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        found = select(event, target["InputPath"])
        return "" if found is MISSING else minified(found)
    transformer = target.get("InputTransformer")
    if transformer:
        return fill(transformer, event, rule_arn, rule_name, ingested)
    return minified(event)


def fill(transformer: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str, ingested: str) -> str:
    values: dict[str, Any] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found = select(event, path)
        if found is not MISSING:
            values[name] = found
    raw = {  # written as JSON wherever they appear
        "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
        "aws.events.event.json": event,
    }
    text_vars = {"aws.events.rule-arn": rule_arn, "aws.events.rule-name": rule_name,
                 "aws.events.event.ingestion-time": ingested}
    template: str = transformer["InputTemplate"]
    is_json = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    pos = 0
    quoted = False
    for m in _PLACEHOLDER.finditer(template):
        chunk = template[pos:m.start()]
        quoted = _quote_state(chunk, quoted)
        out.append(chunk)
        name = m.group(1)
        if name in raw:
            out.append(minified(raw[name]))
        elif name in text_vars:
            value = text_vars[name]
            out.append(value if quoted or not is_json else minified(value))
        elif name in values:
            value = values[name]
            if isinstance(value, str) and (quoted or not is_json):
                out.append(value)
            else:
                out.append(minified(value))
        elif (transformer.get("InputPathsMap") or {}).get(name) is not None:
            out.append("" if quoted or not is_json else "null")
        else:
            out.append(m.group(0))  # not a variable: left as written
        pos = m.end()
    out.append(template[pos:])
    return "".join(out)


def _quote_state(chunk: str, quoted: bool) -> bool:
    """Whether we are inside a JSON string after `chunk` (escaped quotes don't count)."""
    escaped = False
    for ch in chunk:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    return quoted


def check_paths(transformer: dict[str, Any]) -> str | None:
    """The first InputPathsMap entry that is not a supported path or uses a reserved
    name, or None."""
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        if name in PREDEFINED:
            return name
        try:
            compile_path(path)
        except PathError:
            return name
    return None
