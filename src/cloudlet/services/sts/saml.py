"""SAML 2.0 responses for AssumeRoleWithSAML: parsed with defusedxml (no entities, no
DTDs), the assertion's subject, audience, validity window and AWS attributes read out.

The XML signature is NOT verified against the provider's metadata certificate yet
(exclusive C14N + XML-DSig is not in the standard library); see the STS report.
Not a handler module.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from cloudlet.core.errors import ServiceError

_P = "{urn:oasis:names:tc:SAML:2.0:protocol}"
_A = "{urn:oasis:names:tc:SAML:2.0:assertion}"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
_FORMATS = {
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent": "persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient": "transient",
}


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidIdentityToken", message, 400)


@dataclass
class Assertion:
    issuer: str = ""
    subject: str = ""
    subject_format: str = ""
    audiences: list[str] = field(default_factory=list)
    not_before: dt.datetime | None = None
    not_on_or_after: dt.datetime | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def subject_type(self) -> str:
        return _FORMATS.get(self.subject_format, self.subject_format or "unspecified")

    def roles(self) -> list[tuple[str, str]]:
        """(role ARN, provider ARN) pairs of the Role attribute (either order in a value)."""
        pairs = []
        for value in self.attributes.get(ATTR + "Role", []):
            parts = [p.strip() for p in value.split(",")]
            if len(parts) != 2:
                continue
            role = next((p for p in parts if ":role/" in p), None)
            provider = next((p for p in parts if ":saml-provider/" in p), None)
            if role and provider:
                pairs.append((role, provider))
        return pairs


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    except ValueError:
        raise invalid(f"Invalid SAML timestamp: {text}") from None  # wording unconfirmed


def parse(encoded: str) -> Assertion:
    try:
        xml = base64.b64decode(encoded, validate=False)
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except (binascii.Error, ValueError, ElementTree.ParseError, DefusedXmlException):
        raise invalid("Invalid base64 SAML response or malformed XML") from None  # wording unconfirmed
    assertion = root if root.tag == _A + "Assertion" else root.find(_A + "Assertion")
    if assertion is None:
        raise invalid("SAML response contains no Assertion")  # wording unconfirmed
    out = Assertion()
    issuer = assertion.find(_A + "Issuer")
    if issuer is None:
        issuer = root.find(_A + "Issuer")
    out.issuer = (issuer.text or "").strip() if issuer is not None else ""
    name_id = assertion.find(f"{_A}Subject/{_A}NameID")
    if name_id is not None:
        out.subject = (name_id.text or "").strip()
        out.subject_format = name_id.get("Format", "")
    conditions = assertion.find(_A + "Conditions")
    if conditions is not None:
        out.not_before = _time(conditions.get("NotBefore"))
        out.not_on_or_after = _time(conditions.get("NotOnOrAfter"))
        out.audiences = [(a.text or "").strip() for a in conditions.iter(_A + "Audience")]
    for attr in assertion.iter(_A + "Attribute"):
        values = [(v.text or "").strip() for v in attr.findall(_A + "AttributeValue")]
        out.attributes.setdefault(attr.get("Name", ""), []).extend(values)
    return out
