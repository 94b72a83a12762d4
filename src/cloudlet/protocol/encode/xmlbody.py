"""XML element writers for the query, ec2 and rest-xml encoders, compiled once per shape.

A writer is ``write(value, out, start, end)``: it appends the element for `value` to the
list `out`, where `start` is the opening tag without its closing ``>`` (so a structure
can add attributes) and `end` the closing tag. The parent decides the element's name,
because in AWS XML a name belongs to the member, not to the shape: ``locationName``,
``flattened`` lists repeating their item name in place, ``xmlNamespace`` declarations.

Text is built by joining strings; no DOM is built per response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import Shape

from cloudlet.protocol.encode.scalars import (
    XML_SPECIAL,
    b64,
    bool_text,
    float_text,
    json_text,
    text_timestamp,
    xml_attr,
    xml_text,
)

Writer = Callable[[Any, list[str], str, str], None]
MemberTable = dict[str, tuple[str, str, Writer]]
AttrList = list[tuple[str, str, Callable[[Any], str]]]


def ns_attr(ns: Any) -> str:
    """The declaration an ``xmlNamespace`` trait puts on its element (leading space included)."""
    if not ns:
        return ""
    if isinstance(ns, str):
        return f' xmlns="{xml_attr(ns)}"'
    uri = xml_attr(ns.get("uri", ""))
    prefix = ns.get("prefix")
    return f' xmlns:{prefix}="{uri}"' if prefix else f' xmlns="{uri}"'


class XmlWriters:
    """Compiles and caches element writers for one service's shapes.

    `list_member` is the item element of non-flattened lists without a modeled name
    (``member`` in query and rest-xml, ``item`` in ec2). `names` overrides wire names for
    services whose model lost them (SQS spoken over query): keys are
    ``"Structure.Member"``, ``"List.member"``, ``"Map.key"`` and ``"Map.value"``.
    """

    def __init__(self, *, list_member: str = "member", names: Mapping[str, str] | None = None) -> None:
        self._list_member = list_member
        self._names = dict(names or {})
        self._cache: dict[tuple[str, bool, str | None], Writer] = {}

    # public ----------------------------------------------------------------------
    def writer(self, shape: Shape) -> Writer:
        """The writer for `shape` as referenced here (member traits included)."""
        ser = shape.serialization
        key = (shape.name, bool(ser.get("flattened")), ser.get("timestampFormat"))
        found = self._cache.get(key)
        if found is not None:
            return found
        if shape.type_name in ("structure", "list", "map"):
            # Recursive shapes meet themselves while compiling: hand out a trampoline
            # that looks the finished writer up at call time.
            cache = self._cache
            self._cache[key] = lambda v, out, s, e: cache[key](v, out, s, e)
        fn = self._compile(shape)
        self._cache[key] = fn
        return fn

    def member_tag(self, parent: Shape, name: str, member: Shape) -> str:
        """The element name of `member` inside `parent` (botocore's reading rule)."""
        override = self._names.get(f"{parent.name}.{name}")
        if override:
            return override
        ser = member.serialization
        if member.type_name == "list" and ser.get("flattened"):
            item_name = member.member.serialization.get("name")
            if item_name:
                return str(item_name)
        return str(ser.get("name") or name)

    def members(self, shape: Shape, skip: Callable[[str, Shape], bool] | None = None) -> tuple[MemberTable, AttrList]:
        """Compiled children of a structure: ``{member: (start, end, writer)}`` and its
        attribute members ``[(member, attr_name, to_text)]``."""
        table: MemberTable = {}
        attrs: AttrList = []
        for name, member in shape.members.items():
            if skip is not None and skip(name, member):
                continue
            ser = member.serialization
            if ser.get("xmlAttribute"):
                attrs.append((name, ser.get("name") or name, self._text_fn(member)))
                continue
            tag = self.member_tag(shape, name, member)
            table[name] = ("<" + tag + ns_attr(ser.get("xmlNamespace")), f"</{tag}>", self.writer(member))
        return table, attrs

    # compilation -------------------------------------------------------------------
    def _compile(self, shape: Shape) -> Writer:
        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return _scalar(json_text)
            return self._structure(shape)
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if kind in ("string", "character"):
            return _write_string
        # numbers, booleans, timestamps and base64 never need escaping
        return _plain(self._text_fn(shape))

    def _text_fn(self, shape: Shape) -> Callable[[Any], str]:
        kind = shape.type_name
        if kind in ("string", "character"):
            return _as_str
        if kind == "boolean":
            return bool_text
        if kind in ("integer", "long", "short", "byte"):
            return _int_text
        if kind in ("float", "double"):
            return float_text
        if kind == "timestamp":
            return text_timestamp(shape.serialization.get("timestampFormat"), "iso8601")
        if kind == "blob":
            return b64
        return _as_str

    def _structure(self, shape: Shape) -> Writer:
        table, attrs = self.members(shape)

        def write(value: Any, out: list[str], start: str, end: str) -> None:
            out.append(start + ">")
            # write_members, inlined: this runs once per structure value, where the
            # extra call measured ~5% of a 100-object ListObjectsV2
            for k, v in value.items():
                m = table.get(k)
                if m is not None and v is not None:
                    m[2](v, out, m[0], m[1])
            out.append(end)

        if not attrs:
            return write

        def write_with_attrs(value: Any, out: list[str], start: str, end: str) -> None:
            # attribute members go into the start tag, which `write` then closes
            for name, attr, to_text in attrs:
                v = value.get(name)
                if v is not None:
                    start += f' {attr}="{xml_attr(to_text(v))}"'
            write(value, out, start, end)

        return write_with_attrs

    def _list(self, shape: Shape) -> Writer:
        item = shape.member
        item_write = self.writer(item)
        if shape.serialization.get("flattened"):

            def write_flat(value: Any, out: list[str], start: str, end: str) -> None:
                for v in value:
                    if v is not None:
                        item_write(v, out, start, end)

            return write_flat

        tag = self._names.get(f"{shape.name}.member") or item.serialization.get("name") or self._list_member
        istart = "<" + tag + ns_attr(item.serialization.get("xmlNamespace"))
        iend = f"</{tag}>"

        def write(value: Any, out: list[str], start: str, end: str) -> None:
            out.append(start + ">")
            for v in value:
                if v is not None:
                    item_write(v, out, istart, iend)
            out.append(end)

        return write

    def _map(self, shape: Shape) -> Writer:
        ktag = self._names.get(f"{shape.name}.key") or shape.key.serialization.get("name") or "key"
        vtag = self._names.get(f"{shape.name}.value") or shape.value.serialization.get("name") or "value"
        kstart, kend = "<" + ktag, f"</{ktag}>"
        vstart, vend = "<" + vtag, f"</{vtag}>"
        kwrite = self.writer(shape.key)
        vwrite = self.writer(shape.value)
        if shape.serialization.get("flattened"):

            def write_flat(value: Any, out: list[str], start: str, end: str) -> None:
                for k, v in value.items():
                    if v is None:
                        continue
                    out.append(start + ">")
                    kwrite(k, out, kstart, kend)
                    vwrite(v, out, vstart, vend)
                    out.append(end)

            return write_flat

        def write(value: Any, out: list[str], start: str, end: str) -> None:
            out.append(start + ">")
            for k, v in value.items():
                if v is None:
                    continue
                out.append("<entry>")
                kwrite(k, out, kstart, kend)
                vwrite(v, out, vstart, vend)
                out.append("</entry>")
            out.append(end)

        return write


def write_members(table: MemberTable, value: Mapping[str, Any], out: list[str]) -> None:
    """Append the element of each member of `value` that `table` writes (None is absent):
    the members of a response root or an error body (structures inline the same loop)."""
    for k, v in value.items():
        m = table.get(k)
        if m is not None and v is not None:
            m[2](v, out, m[0], m[1])


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _int_text(value: Any) -> str:
    return str(int(value))


def _scalar(to_text: Callable[[Any], str]) -> Writer:
    def write(value: Any, out: list[str], start: str, end: str) -> None:
        out.append(f"{start}>{xml_text(to_text(value))}{end}")

    return write


def _plain(to_text: Callable[[Any], str]) -> Writer:
    def write(value: Any, out: list[str], start: str, end: str) -> None:
        out.append(f"{start}>{to_text(value)}{end}")

    return write


def _write_string(value: Any, out: list[str], start: str, end: str) -> None:
    if value.__class__ is not str:
        value = str(value)
    if XML_SPECIAL.search(value) is not None:
        value = xml_text(value)
    out.append(f"{start}>{value}{end}")
