"""What rest-json and rest-xml share: URI labels, query string, headers, host labels.

The operation comes from :class:`RestRouter` (method + path template + literal query
parts). Each operation is compiled once into a plan: which label, query key and header
fill which member and how its text is coerced. Subclasses add the body: JSON or XML, or
a ``payload`` member that is the whole body.

Defaults per location follow the model: timestamps are HTTP dates in headers and ISO 8601
in query strings unless a trait says otherwise (we read any of the three forms); lists in
headers are comma-separated with ``"..."`` quoting; ``jsonvalue`` headers are base64 JSON;
a ``headers`` map collects every header with its prefix (S3 ``x-amz-meta-``); a query
string map collects every query key no other member or literal query part claims.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from botocore.model import Shape

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.decode.scalars import Malformed, Reader, bad_input, read_present, text_reader, text_reader_for
from cloudlet.protocol.decode.urlform import parse_pairs
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import OperationModel, ServiceModel
from cloudlet.protocol.rest_router import RestRouter, parse_template

Plan = Callable[[Request, dict[str, str]], dict[str, Any]]
BodyReader = Callable[[Request, dict[str, Any]], None]


class BodyReaders(Protocol):
    """Readers over one body format's parsed documents (JSON values, XML elements)."""

    def reader(self, shape: Shape) -> Reader: ...

    def structure(self, members: Mapping[str, Shape]) -> Reader: ...


_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD", "PATCH")
_HOST_LABEL = re.compile(r"\{([^}]+)\}")


def split_header_list(value: str) -> list[str]:
    """``a, "b,c", "d\\"e"`` -> ``["a", "b,c", 'd"e']``: the HTTP list form botocore writes."""
    if '"' not in value:
        return [item.strip() for item in value.split(",")]
    items: list[str] = []
    i, n = 0, len(value)
    while True:
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            i += 1
            buf: list[str] = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(value[i])
                i += 1
            if i >= n:
                raise Malformed("unterminated quoted string in a header list")
            items.append("".join(buf))
            i += 1
            while i < n and value[i] in " \t":
                i += 1
            if i < n and value[i] != ",":
                raise Malformed("text after a quoted string in a header list")
        else:
            end = value.find(",", i)
            end = n if end < 0 else end
            items.append(value[i:end].strip())
            i = end
        if i >= n:
            return items
        i += 1  # the comma


def _header_reader(member: Shape) -> Reader:
    if member.type_name == "list":
        item = text_reader_for(member.member)
        return lambda v: [item(x) for x in split_header_list(v)]
    if member.serialization.get("jsonvalue"):
        return text_reader(member.type_name, jsonvalue=True)
    return text_reader_for(member)


def _host_matcher(op: OperationModel) -> tuple[re.Pattern[str], list[tuple[str, str]]] | None:
    """A regex for the op's ``hostPrefix`` and its (group, member) pairs, if it has labels."""
    template = (op.endpoint or {}).get("hostPrefix")
    shape = op.input_shape
    if not template or shape is None or "{" not in template:
        return None
    parts: list[str] = []
    groups: list[tuple[str, str]] = []
    pos = 0
    for i, m in enumerate(_HOST_LABEL.finditer(template)):
        parts.append(re.escape(template[pos : m.start()]))
        label = m.group(1)
        if label in shape.members:
            group = f"g{i}"
            parts.append(f"(?P<{group}>[A-Za-z0-9.-]+?)")
            groups.append((group, label))
        else:
            parts.append("[A-Za-z0-9.-]+?")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts)), groups


def raw_payload_reader(name: str, member: Shape) -> BodyReader:
    """Blob and string payloads are the body itself. A large streaming blob stays a
    ``BodyStream`` (the handler reads it in pieces); the rest is read whole."""
    if member.type_name == "string":

        def read_text(req: Request, params: dict[str, Any]) -> None:
            body = req.body_bytes()
            if body:
                try:
                    params[name] = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise Malformed("the body is not UTF-8 text").at(name) from None

        return read_text

    streaming = bool(member.serialization.get("streaming"))

    def read_bytes(req: Request, params: dict[str, Any]) -> None:
        if req.stream is not None:
            params[name] = req.stream if streaming else req.stream.read_all()
        elif req.body:
            params[name] = bytes(req.body)

    return read_bytes


class RestDecoder:
    """Routing, the non-body locations and the body; a subclass names its body format:
    the readers for its parsed documents and the parser from bytes to one."""

    protocol = "rest"
    BAD_CODE = "SerializationException"
    NOT_ALLOWED_CODE = "MethodNotAllowedException"

    def __init__(self, service: ServiceModel, readers: BodyReaders, parse: Callable[[bytes], Any]) -> None:
        self.service = service
        self._router = RestRouter(service)
        self._plans: dict[str, Plan] = {}
        self._readers = readers
        self._parse = parse

    # -- the body ------------------------------------------------------------------------

    def body_reader(self, op: OperationModel, shape: Shape) -> BodyReader | None:
        """Reads the body into params (``None`` when the input has nothing in the body):
        the ``payload`` member is the whole body, else the members with no location are
        the document's children. A blank body is an absent one."""
        parse = self._parse
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = shape.members[payload]
            if member.type_name in ("blob", "string"):
                return raw_payload_reader(payload, member)
            structure = self._readers.reader(member)

            def read_payload(req: Request, params: dict[str, Any]) -> None:
                body = req.body_bytes()
                if body and not body.isspace():
                    try:
                        params[payload] = structure(parse(body))
                    except Malformed as err:
                        raise err.at(payload) from None

            return read_payload
        members = {n: m for n, m in shape.members.items() if "location" not in m.serialization}
        if not members:
            return None
        read = self._readers.structure(members)

        def read_body(req: Request, params: dict[str, Any]) -> None:
            body = req.body_bytes()
            if body and not body.isspace():
                params.update(read(parse(body)))

        return read_body

    # -- decoding ----------------------------------------------------------------------------

    def decode(self, req: Request) -> tuple[OperationModel, dict[str, Any]]:
        found = self._router.match(req.method, req.path, req.query, req.headers)
        if found is None:
            raise self._no_route(req)
        op, labels = found
        plan = self._plans.get(op.name)
        if plan is None:
            plan = self._plans[op.name] = self._compile(op)
        try:
            return op, plan(req, labels)
        except (Malformed, RecursionError) as err:
            raise bad_input(self.BAD_CODE, err, "Request body") from None

    def _no_route(self, req: Request) -> ServiceError:
        for method in _METHODS:
            if method != req.method.upper() and self._router.match(method, req.path, req.query, req.headers):
                return ServiceError(
                    self.NOT_ALLOWED_CODE, f"The method {req.method} is not allowed against this resource.", 405
                )
        return ServiceError("UnknownOperationException", f"No operation matches {req.method} {req.path}", 404)

    def _compile(self, op: OperationModel) -> Plan:
        shape = op.input_shape
        if shape is None:
            return lambda req, labels: {}
        uri: dict[str, tuple[str, Reader]] = {}
        query: dict[str, tuple[str, Reader, bool]] = {}
        query_map: tuple[str, Reader, bool] | None = None
        headers: list[tuple[str, str, Reader]] = []
        prefixes: list[tuple[str, str, Reader]] = []
        for name, member in shape.members.items():
            ser = member.serialization
            loc = ser.get("location")
            wire = ser.get("name", name)
            if loc == "uri":
                uri[wire] = (name, text_reader_for(member))
            elif loc == "querystring":
                if member.type_name == "map":
                    value = member.value
                    is_list = value.type_name == "list"
                    query_map = (name, text_reader_for(value.member if is_list else value), is_list)
                elif member.type_name == "list":
                    query[wire] = (name, text_reader_for(member.member), True)
                else:
                    query[wire] = (name, text_reader_for(member), False)
            elif loc == "header":
                headers.append((wire.lower(), name, _header_reader(member)))
            elif loc == "headers":
                prefixes.append((wire.lower(), name, text_reader_for(member.value)))
        explicit_headers = frozenset(h for h, _, _ in headers)
        claimed = frozenset(query) | frozenset(k for k, _ in parse_template(op.http.get("requestUri", "/")).query)
        host = _host_matcher(op)
        body = self.body_reader(op, shape)

        def plan(req: Request, labels: dict[str, str]) -> dict[str, Any]:
            params: dict[str, Any] = {}
            for label, value in labels.items():
                entry = uri.get(label)
                if entry is not None:
                    try:
                        params[entry[0]] = entry[1](value)
                    except Malformed as err:
                        raise err.at(entry[0]) from None
            if req.query and (query or query_map):
                _read_query(req.query, query, query_map, claimed, params)
            hdrs = req.headers
            if headers:
                read_present(headers, hdrs.get, params)
            for prefix, name, rd in prefixes:
                found = {k[len(prefix) :]: rd(v) for k, v in hdrs.items() if k.startswith(prefix) and k not in explicit_headers}
                if found:
                    params[name] = found
            if body is not None:
                body(req, params)
            if host is not None:
                _read_host(req.host, host, params)
            return params

        return plan


def _read_query(
    raw: str,
    named: dict[str, tuple[str, Reader, bool]],
    qmap: tuple[str, Reader, bool] | None,
    claimed: frozenset[str],
    params: dict[str, Any],
) -> None:
    pairs = parse_pairs(raw)
    collected: dict[str, Any] = {}
    for key, value in pairs:
        entry = named.get(key)
        if entry is not None:
            name, rd, is_list = entry
            try:
                if is_list:
                    params.setdefault(name, []).append(rd(value))
                elif name not in params:
                    params[name] = rd(value)
            except Malformed as err:
                raise err.at(name) from None
        elif qmap is not None and key not in claimed:
            name, rd, is_list = qmap
            if is_list:
                collected.setdefault(key, []).append(rd(value))
            else:
                collected.setdefault(key, rd(value))
    if collected and qmap is not None:
        params[qmap[0]] = collected


def _read_host(host: str, matcher: tuple[re.Pattern[str], list[tuple[str, str]]], params: dict[str, Any]) -> None:
    """Members bound by ``hostLabel`` are also in the body or a header; fill only gaps."""
    regex, groups = matcher
    if all(member in params for _, member in groups):
        return
    m = regex.match(host)
    if m is None:
        return
    for group, member in groups:
        if member not in params:
            params[member] = m.group(group)
