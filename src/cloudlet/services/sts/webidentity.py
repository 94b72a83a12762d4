"""OIDC ID tokens for AssumeRoleWithWebIdentity: JWT parsing and signature checks
(RS256/RS384/RS512, ES256/ES384) against the issuer's published keys.

AWS fetches an issuer's keys from ``<iss>/.well-known/openid-configuration`` → ``jwks_uri``.
cloudlet makes no network calls, so an issuer's JWKS is registered with cloudlet
(`register_jwks`, behind the admin API) and kept in STS's database, global partition,
keyed by issuer URL. The IAM OIDC provider (its client ids) is still looked up in IAM,
per account, as AWS does. Not a handler module.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cloudlet.core.errors import ServiceError

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway

JWKS = "jwks"  # record kind in the sts database, partition ("", "")

_RSA = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}
_EC = {"ES256": (hashes.SHA256, ec.SECP256R1, 32), "ES384": (hashes.SHA384, ec.SECP384R1, 48)}
_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1}


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidIdentityToken", message, 400)


@dataclass(frozen=True, slots=True)
class Token:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def issuer(self) -> str:
        return str(self.claims.get("iss", ""))


def normalize_issuer(iss: str) -> str:
    """Issuer URL as IAM names providers: https:// assumed, no trailing slash."""
    iss = iss.strip().rstrip("/")
    return iss if "://" in iss else "https://" + iss


def provider_path(iss: str) -> str:
    """The part of an issuer URL an OIDC provider ARN carries (host and path)."""
    return normalize_issuer(iss).split("://", 1)[1]


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse(text: str) -> Token:
    parts = text.strip().split(".")
    if len(parts) != 3:
        raise invalid("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid(
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
        ) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise invalid("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
    return Token(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def register_jwks(gateway: "Gateway", issuer: str, jwks: dict[str, Any]) -> int:
    """Register (replace) an issuer's signing keys; returns how many usable keys it has.
    Raises ValueError for a document that is not a JWKS."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError('a JWKS is {"keys": [...]} with at least one key')
    usable = 0
    for jwk in keys:
        try:
            _public_key(jwk)
            usable += 1
        except (ValueError, KeyError, TypeError, binascii.Error):
            continue
    if not usable:
        raise ValueError("none of the keys is an RSA or EC (P-256/P-384) public key")
    with gateway.db("sts").tx("", "") as t:
        t.put(JWKS, normalize_issuer(issuer), {"keys": keys})
    return usable


def registered_keys(gateway: "Gateway", issuer: str) -> list[dict[str, Any]]:
    with gateway.db("sts").tx("", "") as t:
        rec = t.get(JWKS, normalize_issuer(issuer))
    return list(rec.value["keys"]) if rec is not None else []


def _int(b64: str) -> int:
    return int.from_bytes(_b64(b64), "big")


def _public_key(jwk: dict[str, Any]) -> Any:
    kty = jwk.get("kty")
    if kty == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    if kty == "EC":
        curve = _CURVES[jwk["crv"]]
        return ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve()).public_key()
    raise ValueError(f"unsupported key type {kty}")


def verify_signature(token: Token, keys: list[dict[str, Any]]) -> None:
    """Raise InvalidIdentityToken unless one of `keys` signed the token."""
    alg = token.header.get("alg")
    if alg not in _RSA and alg not in _EC:
        raise invalid(f"Unsupported token signing algorithm: {alg}")  # wording unconfirmed
    kid = token.header.get("kid")
    candidates = [k for k in keys if kid is None or k.get("kid") == kid]
    if not candidates:
        raise invalid("Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
    for jwk in candidates:
        try:
            key = _public_key(jwk)
        except (ValueError, KeyError, TypeError, binascii.Error):
            continue
        try:
            if alg in _RSA and isinstance(key, rsa.RSAPublicKey):
                key.verify(token.signature, token.signing_input, padding.PKCS1v15(), _RSA[alg]())
                return
            if alg in _EC and isinstance(key, ec.EllipticCurvePublicKey):
                digest, curve, size = _EC[alg]
                if not isinstance(key.curve, curve) or len(token.signature) != 2 * size:
                    continue
                r = int.from_bytes(token.signature[:size], "big")
                s = int.from_bytes(token.signature[size:], "big")
                key.verify(encode_dss_signature(r, s), token.signing_input, ec.ECDSA(digest()))
                return
        except InvalidSignature:
            continue
    raise invalid("The web identity token signature could not be verified.")  # wording unconfirmed


def audiences(token: Token) -> list[str]:
    aud = token.claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []
