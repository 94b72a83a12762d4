"""The ``query`` and ``ec2`` protocols: ``Action=<Op>`` plus dotted form fields.

A form like ``Tags.member.1.Key=a&Tags.member.1.Value=b`` is first folded into a tree by
its dots (``{"Tags": {"member": {"1": {"Key": "a", ...}}}}``); readers compiled per shape
then walk that tree. Lists are ``Name.member.N`` (``member`` may be renamed by the list
member's ``locationName``) or, flattened, ``Name.N``; maps are ``Name.entry.N.key/value``
or flattened ``Name.N.key/value``. Every value is text, coerced by the leaf's type.

EC2 differs only in naming: ``queryName``, else the ``locationName`` capitalized, and
lists are always ``Name.N``.

Wire names can be overridden per structure member (``WIRE_NAMES``, keyed
``"Shape.Member"``): services that moved from query to JSON (SQS) still get requests
from old SDKs with the old names (``Attribute.1.Name``), which a small table maps back
onto the current model without touching the code; ``bare_items`` also lets those old
clients send a flattened list of one as a bare ``Name=value``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple
from botocore.model import Shape

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.decode.operations import OperationReaders
from cloudlet.protocol.decode.scalars import Malformed, Reader, bad_input, text_reader_for
from cloudlet.protocol.decode.urlform import parse_pairs
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import OperationModel, ServiceModel

INVALID_VALUE = "InvalidParameterValue"
MALFORMED = "MalformedQueryString"
MAX_KEY_DEPTH = 64


class Wire(NamedTuple):
    """How one structure member is spelled on the wire."""

    name: str  # the key segment under the parent
    flattened: bool = False  # lists/maps: no ``member``/``entry`` segment
    member: str = "member"  # lists: the item segment when not flattened
    key: str = "key"  # maps: the entry's key name
    value: str = "value"  # maps: the entry's value name


def unknown_action(action: str) -> ServiceError:
    return ServiceError("InvalidAction", f"The action {action} is not valid for this web service.", 400)


def form_pairs(req: Request) -> list[tuple[str, str]]:
    """The query string's fields, then the form body's (clients put Action in either)."""
    try:
        pairs = parse_pairs(req.query) if req.query else []
        if req.body:
            pairs.extend(parse_pairs(req.body.decode("utf-8")))
    except UnicodeDecodeError:
        raise bad_input(MALFORMED, "The form body is not UTF-8") from None
    except Malformed as err:
        raise bad_input(MALFORMED, f"Malformed form data: {err.message}") from None
    return pairs


def fold(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``{"A.b.1": v}`` -> ``{"A": {"b": {"1": v}}}``; a key both leaf and branch is a 400."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        if "." not in key:
            if type(root.get(key)) is dict:
                raise bad_input(MALFORMED, f"Conflicting parameters at {key}")
            root[key] = value
            continue
        parts = key.split(".")
        if len(parts) > MAX_KEY_DEPTH:
            raise bad_input(MALFORMED, f"Parameter name nested too deeply: {key[:100]}")
        node = root
        for part in parts[:-1]:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            elif type(nxt) is not dict:
                raise bad_input(MALFORMED, f"Conflicting parameters at {key}")
            node = nxt
        last = parts[-1]
        if type(node.get(last)) is dict:
            raise bad_input(MALFORMED, f"Conflicting parameters at {key}")
        node[last] = value
    return root


def _indexed(items: Any, read: Reader) -> list[Any]:
    """Items keyed ``"1"``, ``"2"``... in index order."""
    if type(items) is not dict:
        if items == "":
            return []
        raise Malformed("expected indexed list items")
    try:
        order = sorted(items, key=int)
    except ValueError:
        raise Malformed("list indexes must be numbers") from None
    return [read(items[i]) for i in order]


def _empty_value(shape: Shape) -> Any:
    """What a map value the form left out stands for: empty containers serialize to nothing."""
    kind = shape.type_name
    if kind == "structure":
        return {}
    if kind == "list":
        return []
    if kind == "map":
        return {}
    raise Malformed("map entry without a value")


class QueryDecoder:
    """Form fields to the input structure, readers compiled per shape on first use."""

    protocol = "query"
    #: ``"Shape.Member" -> {"name", "flattened", "member", "key", "value"}`` overrides.
    WIRE_NAMES: Mapping[str, Mapping[str, Any]] = {}

    def __init__(
        self,
        service: ServiceModel,
        wire_names: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        bare_items: bool = False,
    ) -> None:
        """`bare_items`: a flattened list may also come as one value without an index
        (``AttributeName=All``), as SQS's own query examples write it."""
        self.service = service
        self._overrides = self.WIRE_NAMES if wire_names is None else wire_names
        self._bare_items = bare_items
        self._structs: dict[str, Reader] = {}
        self._ops = OperationReaders(service, self.reader)

    # -- naming (EC2 overrides these) --------------------------------------------------

    def member_name(self, name: str, member: Shape) -> str:
        return str(member.serialization.get("name", name))

    def wire(self, parent: Shape, name: str, member: Shape) -> Wire:
        """The wire spelling of `parent.name`, from the model unless overridden."""
        ser = member.serialization
        flattened = bool(ser.get("flattened"))
        wire_name = self.member_name(name, member)
        item, key, value = "member", "key", "value"
        if member.type_name == "list":
            item_name = member.member.serialization.get("name")
            if flattened and item_name:
                wire_name = item_name  # a flattened list is spelled with its item's name
            item = item_name or "member"
        elif member.type_name == "map":
            key = self.member_name("key", member.key)
            value = self.member_name("value", member.value)
        found = Wire(wire_name, flattened, item, key, value)
        override = self._overrides.get(f"{parent.name}.{name}")
        if override:
            found = found._replace(**override)
        return found

    def shape_wire(self, shape: Shape) -> Wire:
        """Traits of a list/map reached through a list or map rather than a member."""
        return self.wire(shape, "", shape)

    # -- compilation -----------------------------------------------------------------------

    def reader(self, shape: Shape, wire: Wire | None = None) -> Reader:
        kind = shape.type_name
        if kind == "structure" and not shape.is_document_type:
            cached = self._structs.get(shape.name)
            return cached if cached is not None else self._structure(shape)
        if kind == "list":
            return self._list(shape, wire or self.shape_wire(shape))
        if kind == "map":
            return self._map(shape, wire or self.shape_wire(shape))
        leaf = text_reader_for(shape)

        def read(node: Any) -> Any:
            if type(node) is not str:
                raise Malformed("expected a single value")
            return leaf(node)

        return read

    def _structure(self, shape: Shape) -> Reader:
        table: dict[str, tuple[str, Reader]] = {}

        def read(node: Any) -> dict[str, Any]:
            if type(node) is not dict:
                if node == "":
                    return {}
                raise Malformed("expected a structure")
            out: dict[str, Any] = {}
            for key, sub in node.items():
                entry = table.get(key)
                if entry is None:
                    continue  # Action, Version and unknown fields
                name, rd = entry
                try:
                    out[name] = rd(sub)
                except Malformed as err:
                    raise err.at(name) from None
            return out

        self._structs[shape.name] = read  # before the members: recursive shapes find it
        for name, member in shape.members.items():
            wire = self.wire(shape, name, member)
            entry = (name, self.reader(member, wire))
            table[wire.name] = entry
            if member.type_name == "list":
                # an empty list is ``Name=`` under the member's own name, even when its
                # items are spelled with the item's name (flattened ``Item.1``)
                table.setdefault(self.member_name(name, member), entry)
        return read

    def _list(self, shape: Shape, wire: Wire) -> Reader:
        item = self.reader(shape.member)
        if wire.flattened:
            if self._bare_items:
                return lambda node: [item(node)] if type(node) is str and node else _indexed(node, item)
            return lambda node: _indexed(node, item)
        segment = wire.member

        def read(node: Any) -> list[Any]:
            if type(node) is not dict:
                return _indexed(node, item)
            items = node.get(segment)
            if items is None:
                if not node:
                    return []
                return _indexed(node, item)  # sent flattened anyway: accept it
            return _indexed(items, item)

        return read

    def _map(self, shape: Shape, wire: Wire) -> Reader:
        key_read = self.reader(shape.key)
        value_read = self.reader(shape.value)
        value_shape = shape.value
        key_name, value_name, flattened = wire.key, wire.value, wire.flattened

        def entry(e: Any) -> tuple[Any, Any]:
            if type(e) is not dict or key_name not in e:
                raise Malformed("map entry without a key")
            v = e.get(value_name)
            return key_read(e[key_name]), _empty_value(value_shape) if v is None else value_read(v)

        def read(node: Any) -> dict[Any, Any]:
            if type(node) is not dict:
                if node == "":
                    return {}
                raise Malformed("expected a map")
            entries = node if flattened else node.get("entry", node)
            return dict(_indexed(entries, entry))

        return read

    # -- decoding ----------------------------------------------------------------------------

    def decode(self, req: Request) -> tuple[OperationModel, dict[str, Any]]:
        tree = fold(form_pairs(req))
        action = tree.get("Action")
        if type(action) is not str or not action:
            raise ServiceError("MissingAction", "Missing Action", 400)
        entry = self._ops.get(action)
        if entry is None:
            if action not in self._ops.names:
                raise unknown_action(action)
            entry = self._ops.compile(action)
        op, reader = entry
        if reader is None:
            return op, {}
        try:
            return op, reader(tree)
        except Malformed as err:
            raise bad_input(INVALID_VALUE, err) from None
        except RecursionError as err:
            raise bad_input(MALFORMED, err, "Parameters") from None


class Ec2Decoder(QueryDecoder):
    """EC2's query dialect: its own member names, and every list is ``Name.N``."""

    protocol = "ec2"

    def member_name(self, name: str, member: Shape) -> str:
        ser = member.serialization
        query_name = ser.get("queryName")
        if query_name:
            return str(query_name)
        location_name = ser.get("name")
        if location_name:
            return str(location_name[0].upper() + location_name[1:])
        return name

    def wire(self, parent: Shape, name: str, member: Shape) -> Wire:
        found = super().wire(parent, name, member)
        if member.type_name == "list":
            wire_name = self.member_name(name, member) if name else ""
            found = found._replace(name=wire_name, flattened=True)
            override = self._overrides.get(f"{parent.name}.{name}")
            if override:
                found = found._replace(**override)
        return found
