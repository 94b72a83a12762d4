"""Find the REST operation a request is for, from the model's ``http`` traits.

Every rest-json / rest-xml operation states ``method`` and ``requestUri`` (which may carry
literal query parts: ``/{Bucket}?lifecycle``, ``/{Bucket}?list-type=2``,
``/{Bucket}/{Key+}?uploads``). We compile them once per service and match each request
with one regex per HTTP method: the distinct path templates become the alternatives of
one pattern, most specific first, and each alternative ends in an empty marker group so
``m.lastindex`` says which template matched without a Python loop over templates.

Several operations can share one path template; they are told apart, in this order, by
the literal query parts of their ``requestUri`` (hard conditions), by the query keys and
headers their input marks as required (``ListParts`` needs ``uploadId``, ``CopyObject``
needs ``x-amz-copy-source``), by optional query keys only one of them has
(``ListDirectoryBuckets``' ``max-directory-buckets``), and lastly non-deprecated first
(``GetBucketLifecycleConfiguration`` over ``GetBucketLifecycle``). A template whose
operations all fail their literal conditions yields to the next template that matches.

S3 quirks handled here: ``/{Bucket}`` also matches ``/{Bucket}/`` (any template matches
with or without a trailing slash), greedy ``{Key+}`` labels keep their ``/`` and may hold
``//`` or ``..``, and labels are percent-decoded but ``+`` stays a plus: a path is not a
form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from cloudlet.protocol.model import OperationModel, ServiceModel

__all__ = ["RestRouter", "Template", "parse_template"]

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed ``requestUri``: the path pattern and its literal query conditions."""

    path: str
    regex: str  # without anchors; labels are positional groups in `labels` order
    labels: tuple[tuple[str, bool], ...]  # (name, greedy)
    query: tuple[tuple[str, str | None], ...]  # (key, value or None for "present")
    literal_chars: int


def parse_template(uri: str) -> Template:
    """Split a ``requestUri`` into a path regex and the query conditions it implies."""
    path, _, qs = uri.partition("?")
    parts: list[str] = []
    labels: list[tuple[str, bool]] = []
    literal = 0
    pos = 0
    for m in _LABEL.finditer(path):
        text = path[pos : m.start()]
        parts.append(re.escape(text))
        literal += len(text)
        name = m.group(1)
        greedy = name.endswith("+")
        if greedy:
            name = name[:-1]
        labels.append((name, greedy))
        parts.append("(.+)" if greedy else "([^/]+)")
        pos = m.end()
    tail = path[pos:]
    literal += len(tail.rstrip("/"))
    tail = tail.rstrip("/")
    parts.append(re.escape(tail))
    # Any template matches with or without one trailing slash (S3 sends both
    # "/bucket" and "/bucket/"; "/" itself stays "/").
    regex = "".join(parts) + "/?" if path != "/" else "/"
    query: list[tuple[str, str | None]] = []
    if qs:
        for item in qs.split("&"):
            if not item:
                continue
            key, eq, value = item.partition("=")
            query.append((key, value if eq else None))
    return Template(path, regex, tuple(labels), tuple(query), literal)


@dataclass(slots=True)
class _Candidate:
    op: OperationModel
    query: tuple[tuple[str, str | None], ...]  # hard: from the requestUri
    required_query: tuple[str, ...]  # soft: required querystring members
    required_headers: tuple[str, ...]  # soft: required header members (lower-case)
    hint_keys: frozenset[str]  # optional query keys no rival has
    rivals: tuple["_Candidate", ...]  # same hard+soft conditions: need a hint to win


@dataclass(slots=True)
class _Group:
    """One distinct path template and the operations that share it."""

    labels: tuple[tuple[str, bool], ...]
    first_group: int  # index of its first label group in the combined regex
    candidates: list[_Candidate]
    literal_chars: int
    trailing_slash: bool  # the template itself ends in "/" ("/agents/{agentId}/")


@dataclass(slots=True)
class _MethodTable:
    regex: re.Pattern[str]
    groups_by_marker: dict[int, _Group]
    groups: list[_Group]  # in specificity order, for the (rare) fall-through
    singles: list[re.Pattern[str]]  # each group's own regex, same order


def _parse_query(query: str) -> dict[str, str]:
    """Raw query string -> {key: value}; only keys and values that could matter."""
    out: dict[str, str] = {}
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if "%" in key or "+" in key:
            key = unquote(key.replace("+", " "))
        if "%" in value or "+" in value:
            value = unquote(value.replace("+", " "))
        out.setdefault(key, value)
    return out


def _input_traits(op: OperationModel) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """(required query keys, required headers, all query keys) of an operation's input."""
    shape = op.input_shape
    if shape is None:
        return (), (), frozenset()
    required = set(shape.required_members)
    rq: list[str] = []
    rh: list[str] = []
    allq: set[str] = set()
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "querystring":
            if member.type_name == "map":
                continue
            allq.add(wire)
            if name in required:
                rq.append(wire)
        elif loc == "header" and name in required:
            rh.append(wire.lower())
    return tuple(rq), tuple(rh), frozenset(allq)


class RestRouter:
    """Matches (method, raw path, raw query) to an operation of one REST service."""

    def __init__(self, service: ServiceModel) -> None:
        self.service = service
        by_method: dict[str, dict[str, tuple[Template, list[OperationModel]]]] = {}
        for name in service.operation_names:
            op = service.operation_model(name)
            http = op.http
            method = http.get("method", "POST").upper()
            tpl = parse_template(http.get("requestUri", "/"))
            templates = by_method.setdefault(method, {})
            key = tpl.regex
            if key in templates:
                templates[key][1].append(op)
            else:
                templates[key] = (tpl, [op])
        self._tables: dict[str, _MethodTable] = {
            method: self._compile(list(templates.values())) for method, templates in by_method.items()
        }

    @staticmethod
    def _compile(entries: list[tuple[Template, list[OperationModel]]]) -> _MethodTable:
        def path_rank(entry: tuple[Template, list[OperationModel]]) -> tuple[int, int, int, str]:
            tpl = entry[0]
            greedy = sum(1 for _, g in tpl.labels if g)
            return (-tpl.literal_chars, greedy, len(tpl.labels), tpl.path)

        entries.sort(key=path_rank)
        alternatives: list[str] = []
        groups_by_marker: dict[int, _Group] = {}
        groups: list[_Group] = []
        singles: list[re.Pattern[str]] = []
        next_group = 1
        for tpl, ops in entries:
            candidates: list[_Candidate] = []
            traits = {}
            for op in ops:
                # The same template can carry different literal query parts per op.
                op_tpl = parse_template(op.http.get("requestUri", "/"))
                rq, rh, allq = _input_traits(op)
                traits[op.name] = allq
                candidates.append(_Candidate(op, op_tpl.query, rq, rh, frozenset(), ()))
            candidates.sort(
                key=lambda c: (
                    -len(c.query),
                    -len(c.required_query),
                    -len(c.required_headers),
                    bool(c.op.deprecated),
                    c.op.name,
                )
            )
            _link_rivals(candidates, traits)
            group = _Group(
                tpl.labels, next_group, candidates, tpl.literal_chars, tpl.path != "/" and tpl.path.endswith("/")
            )
            marker = next_group + len(tpl.labels)
            next_group = marker + 1
            alternatives.append(f"(?:{tpl.regex}())")
            groups_by_marker[marker] = group
            groups.append(group)
            singles.append(re.compile(tpl.regex, re.DOTALL))
        regex = re.compile("|".join(alternatives), re.DOTALL)
        return _MethodTable(regex, groups_by_marker, groups, singles)

    def match(
        self, method: str, path: str, query: str, headers: Mapping[str, str] | None = None
    ) -> tuple[OperationModel, dict[str, str]] | None:
        """The operation and its percent-decoded URI labels, or None if nothing matches.

        `path` is raw (percent-encoded) and `query` the raw query string. `headers`
        (lower-case names), when given, separates operations that differ only by a required
        header (S3 ``CopyObject`` vs ``PutObject``); without them the one needing no header
        wins.
        """
        hit = self._match(method, path, query, headers)
        if hit is None:
            return None
        group, cand, m, first = hit
        return cand.op, _labels(group.labels, m, first)

    def match_scored(
        self, method: str, path: str, query: str, headers: Mapping[str, str] | None = None
    ) -> tuple[OperationModel, dict[str, str], int] | None:
        """`match` plus how specifically it matched, to compare routers of several services.

        More literal path characters and literal query conditions score higher, and so
        does a trailing slash that agrees with the template (bedrock-agent's
        ``/agents/{agentId}/`` against bedrock-agent-runtime's ``/agents/{sessionId}``).
        """
        hit = self._match(method, path, query, headers)
        if hit is None:
            return None
        group, cand, m, first = hit
        slash_agrees = path.endswith("/") == group.trailing_slash
        score = 1000 * len(cand.query) + 2 * group.literal_chars + int(slash_agrees)
        return cand.op, _labels(group.labels, m, first), score

    def _match(
        self, method: str, path: str, query: str, headers: Mapping[str, str] | None
    ) -> tuple[_Group, _Candidate, re.Match[str], int] | None:
        table = self._tables.get(method.upper())
        if table is None:
            return None
        m = table.regex.fullmatch(path)
        if m is None:
            return None
        group = table.groups_by_marker[m.lastindex]  # type: ignore[index]
        qd = _parse_query(query) if query else {}
        cand = _choose(group, qd, headers)
        if cand is not None:
            return group, cand, m, group.first_group
        # Every operation of that template failed its literal query conditions: try the
        # less specific templates after it (rare: overlapping templates in one service).
        start = table.groups.index(group) + 1
        for g, single in zip(table.groups[start:], table.singles[start:]):
            sm = single.fullmatch(path)
            if sm is None:
                continue
            cand = _choose(g, qd, headers)
            if cand is not None:
                return g, cand, sm, 1
        return None


def _link_rivals(candidates: list[_Candidate], traits: dict[str, frozenset[str]]) -> None:
    """Give each operation the rivals it ties with and its exclusive optional query keys."""
    by_conditions: dict[tuple[object, ...], list[_Candidate]] = {}
    for c in candidates:
        key = (c.query, frozenset(c.required_query), frozenset(c.required_headers))
        by_conditions.setdefault(key, []).append(c)
    for tied in by_conditions.values():
        if len(tied) < 2:
            continue
        for c in tied:
            others: set[str] = set()
            for o in tied:
                if o is not c:
                    others |= traits[o.op.name]
            c.hint_keys = traits[c.op.name] - others
        for c in tied:
            c.rivals = tuple(o for o in tied if o is not c and o.hint_keys)


def _literal_ok(c: _Candidate, qd: dict[str, str]) -> bool:
    for key, value in c.query:
        got = qd.get(key)
        if got is None or (value is not None and got != value):
            return False
    return True


def _choose(group: _Group, qd: dict[str, str], headers: Mapping[str, str] | None) -> _Candidate | None:
    candidates = group.candidates
    if len(candidates) == 1:
        c = candidates[0]
        return c if not c.query or _literal_ok(c, qd) else None
    fallback: _Candidate | None = None
    literal: _Candidate | None = None  # matched a literal query part (``?attributes``), lacks a header
    for c in candidates:
        if c.query and not _literal_ok(c, qd):
            continue
        if fallback is None:
            fallback = c
        if any(k not in qd for k in c.required_query):
            continue
        if c.required_headers and (headers is None or any(h not in headers for h in c.required_headers)):
            if c.query and literal is None:
                literal = c
            continue
        if literal is not None and not c.query:
            # the request named the operation in its query string: keep it, and let its own
            # validation say which header is missing, rather than serve another operation
            return literal
        if c.rivals and not any(k in qd for k in c.hint_keys):
            for r in c.rivals:
                if any(k in qd for k in r.hint_keys):
                    return r
        return c
    return literal or fallback


def _labels(labels: tuple[tuple[str, bool], ...], m: re.Match[str], first: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, (name, _greedy) in enumerate(labels):
        value = m.group(first + i)
        out[name] = unquote(value) if "%" in value else value
    return out
