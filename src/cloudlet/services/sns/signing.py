"""Message signatures: one RSA key and self-signed certificate per installation.

AWS signs every message it sends to an HTTP/S endpoint or an SQS queue (unless raw)
with the key of a certificate served at ``SigningCertURL``; receivers verify the
signature before they trust the message. cloudlet does the same with its own key,
made on first use and kept in SNS's database (so it survives restarts and a reset
makes a new one), and serves the certificate at ``/_cloudlet/sns/cert.pem`` on its own
port: an SDK's message validator pointed at that URL verifies cloudlet's messages.

The string signed is AWS's canonical form: for each field the message has, in the
documented order, the name, a newline, the value and a newline. SignatureVersion 1
signs it with SHA1withRSA, 2 with SHA256withRSA (PKCS#1 v1.5), base64-encoded.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import TYPE_CHECKING, Any, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from cloudlet.core.store import ServiceDB

KIND = "signing"
KEY = "rsa"
SCOPE = ("", "")
CERT_PATH = "/_cloudlet/sns/cert.pem"

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")

_keys: dict[bytes, rsa.RSAPrivateKey] = {}  # key PEM -> loaded key (loading costs ~1 ms)


def canonical(message: Mapping[str, Any]) -> bytes:
    """The bytes AWS signs for a message of this ``Type`` (fields absent are skipped)."""
    fields = NOTIFICATION_FIELDS if message.get("Type") == "Notification" else CONFIRMATION_FIELDS
    parts = []
    for name in fields:
        value = message.get(name)
        if value is not None:
            parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode("utf-8")


def _make(now: dt.datetime) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cloudlet"),
            x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return {
        "key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "cert": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }


def material(db: "ServiceDB", now: dt.datetime) -> dict[str, str]:
    """The installation's key and certificate (PEM), made and stored on first use."""
    with db.tx(*SCOPE) as tx:  # holds the database's lock: two first uses cannot make two keys
        rec = tx.get(KIND, KEY)
        if rec is not None:
            return rec.value
        made = _make(now)
        tx.put(KIND, KEY, made)
        return made


def sign(db: "ServiceDB", message: Mapping[str, Any], version: str, now: dt.datetime) -> str:
    """The base64 signature of `message` (``SignatureVersion`` "1" or "2")."""
    pem = material(db, now)["key"].encode()
    key = _keys.get(pem)
    if key is None:
        loaded = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        key = _keys[pem] = loaded
    digest = hashes.SHA256() if version == "2" else hashes.SHA1()
    return base64.b64encode(key.sign(canonical(message), padding.PKCS1v15(), digest)).decode()


def certificate_pem(db: "ServiceDB", now: dt.datetime) -> str:
    return material(db, now)["cert"]
