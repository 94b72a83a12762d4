"""rest-xml: REST locations plus an XML body (S3, Route 53, CloudFront, S3 Control).

Readers are compiled per shape over :mod:`cloudlet.protocol.xmlparse` elements. Names
are matched by local name, so namespaces and prefixes do not matter. A structure reads
its children by the members' ``locationName``; ``xmlAttribute`` members come from the
element's attributes; a list is a wrapper element of items (any item name accepted) or,
flattened, repeated elements with the member's name; maps are ``entry`` elements of
``key``/``value`` (renamable), or flattened, repeated elements holding key and value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import Shape

from cloudlet.protocol.decode.rest import RestDecoder
from cloudlet.protocol.decode.scalars import Malformed, Reader, read_present, text_reader_for
from cloudlet.protocol.model import ServiceModel
from cloudlet.protocol.xmlparse import Element, parse_xml

ElementReader = Callable[[Element], Any]

_SINGLE, _FLAT_LIST, _FLAT_MAP = 0, 1, 2


class XmlReaders:
    """`reader(shape)` returns a cached closure from an element to the member's value."""

    def __init__(self) -> None:
        self._structs: dict[str, ElementReader] = {}

    def reader(self, shape: Shape) -> ElementReader:
        kind = shape.type_name
        if kind == "structure" and not shape.is_document_type:
            cached = self._structs.get(shape.name)
            if cached is None:
                cached = self.structure(shape.members, self._structs, shape.name)
            return cached
        if kind == "list":
            item = self.reader(shape.member)
            return lambda el: [item(child) for child in el.children]
        if kind == "map":
            entry = self._entry(shape)
            return lambda el: dict(entry(child) for child in el.children)
        leaf = text_reader_for(shape)
        return lambda el: leaf(el.text)

    def _entry(self, shape: Shape) -> Callable[[Element], tuple[Any, Any]]:
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        key_read = self.reader(shape.key)
        value_read = self.reader(shape.value)

        def entry(el: Element) -> tuple[Any, Any]:
            key = value = None
            for child in el.children:
                if child.tag == key_name:
                    key = child
                elif child.tag == value_name:
                    value = child
            if key is None or value is None:
                raise Malformed(f"a map entry needs <{key_name}> and <{value_name}>")
            return key_read(key), value_read(value)

        return entry

    def structure(self, members: Mapping[str, Shape], cache: dict[str, ElementReader] | None = None, key: str = "") -> ElementReader:
        """A reader for an element holding `members` (a shape, or a request's body part)."""
        table: dict[str, tuple[str, Any, int]] = {}
        attrs: list[tuple[str, str, Reader]] = []

        def read(el: Element) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for child in el.children:
                entry = table.get(child.tag)
                if entry is None:
                    continue
                name, rd, how = entry
                try:
                    if how == _SINGLE:
                        out[name] = rd(child)
                    elif how == _FLAT_LIST:
                        out.setdefault(name, []).append(rd(child))
                    else:
                        k, v = rd(child)
                        out.setdefault(name, {})[k] = v
                except Malformed as err:
                    raise err.at(name) from None
            if attrs:
                read_present(attrs, el.attr, out)
            return out

        if cache is not None:
            cache[key] = read  # before the members: recursive shapes find it
        for name, member in members.items():
            ser = member.serialization
            wire = ser.get("name", name)
            local = wire.rpartition(":")[2]
            if ser.get("xmlAttribute"):
                attrs.append((wire, name, text_reader_for(member)))
            elif ser.get("flattened") and member.type_name == "list":
                table[local] = (name, self.reader(member.member), _FLAT_LIST)
            elif ser.get("flattened") and member.type_name == "map":
                table[local] = (name, self._entry(member), _FLAT_MAP)
            else:
                table[local] = (name, self.reader(member), _SINGLE)
        return read


class RestXmlDecoder(RestDecoder):
    protocol = "rest-xml"
    BAD_CODE = "InvalidArgument"
    NOT_ALLOWED_CODE = "MethodNotAllowed"

    def __init__(self, service: ServiceModel) -> None:
        super().__init__(service, XmlReaders(), parse_xml)
