"""Safe XML parsing for request bodies: no DTDs, so no entity expansion of any kind.

AWS's XML APIs (S3, Route 53, CloudFront) never need a document type declaration, and a
DTD is where billion-laughs and external-entity attacks live, so any ``<!DOCTYPE`` is
refused outright (a 400, like AWS's ``MalformedXML``) before expat could define an entity.
An undeclared entity reference is then a plain parse error.

The tree is deliberately small: element local names (namespace prefixes dropped, as the
decoders match by the model's names), raw attributes, children and the text directly
inside. It is built by expat with three callbacks and a depth guard.
"""

from __future__ import annotations

from xml.parsers import expat

from cloudlet.core.errors import ServiceError

__all__ = ["Element", "parse_xml", "MAX_DEPTH"]

MAX_DEPTH = 100


class Element:
    """One XML element: `tag` is the local name; `attrs` keep their raw (prefixed) names."""

    __slots__ = ("tag", "attrs", "children", "text")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Element] = []
        self.text = ""

    def attr(self, name: str) -> str | None:
        """An attribute by its qualified name, else by local name (any prefix)."""
        value = self.attrs.get(name)
        if value is not None or not self.attrs:
            return value
        local = name.rpartition(":")[2]
        for key, val in self.attrs.items():
            if key.rpartition(":")[2] == local and not key.startswith("xmlns"):
                return val
        return None

    def __repr__(self) -> str:  # for test failures
        return f"<{self.tag} {self.attrs} {self.children!r} {self.text!r}>"


class _Refused(Exception):
    pass


def _malformed(message: str) -> ServiceError:
    return ServiceError(
        "MalformedXML",
        f"The XML you provided was not well-formed or did not validate against our published schema: {message}",
        400,
    )


def parse_xml(data: bytes, max_depth: int = MAX_DEPTH) -> Element:
    """Parse a request body; any XML problem (or a DTD) raises a 400 ``ServiceError``."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    roots: list[Element] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if len(stack) >= max_depth:
            raise _Refused(f"nesting deeper than {max_depth} elements")
        el = Element(name.rpartition(":")[2], attrs)
        if stack:
            stack[-1].children.append(el)
        else:
            roots.append(el)
        stack.append(el)

    def end(name: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].text += text

    def refuse_dtd(*args: object) -> None:
        raise _Refused("document type declarations are not allowed")

    def refuse_entity(*args: object) -> int:
        raise _Refused("entities are not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity
    try:
        parser.Parse(data, True)
    except _Refused as err:
        raise _malformed(str(err)) from None
    except expat.ExpatError as err:
        raise _malformed(expat.ErrorString(err.code) if err.code else str(err)) from None
    except (ValueError, TypeError, RecursionError, MemoryError) as err:
        raise _malformed(type(err).__name__) from None
    if not roots:
        raise _malformed("no root element")
    return roots[0]
