"""SecureString values, encrypted at rest: AES-256-GCM under one master key per account.

The key is a record in the SSM store (region ``""``: the account's, not a region's),
made on first use inside the caller's transaction, so a key and the first value
encrypted with it commit together. The ciphertext is what GetParameter returns without
``WithDecryption`` (base64, as AWS returns its KMS ciphertext blob) and what the
store holds; the plaintext exists only on the way in and, when asked for, on the way
out. The AAD binds a ciphertext to its parameter and KeyId, so one cannot be moved
under another name and decrypt.

KeyId is recorded, not used to pick a key: KMS keys arrive with the KMS service.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cloudlet.core.store import Tx

KEY_KIND = "master-key"
KEY_NAME = "ssm"
_FORMAT = b"\x01"  # a leading format byte leaves room for another scheme later
_NONCE = 12


def master_key(tx: Tx) -> bytes:
    """The account's key; created (in `tx`'s transaction) when the account has none."""
    rec = tx.get(KEY_KIND, KEY_NAME)
    if rec is not None:
        return bytes(rec.value["key"])
    key = AESGCM.generate_key(bit_length=256)
    tx.put(KEY_KIND, KEY_NAME, {"key": key, "algorithm": "AES-256-GCM"}, expect=0)
    return key


def existing_key(tx: Tx) -> bytes | None:
    """The account's key for reading; None if nothing was ever encrypted."""
    rec = tx.get(KEY_KIND, KEY_NAME)
    return None if rec is None else bytes(rec.value["key"])


def _aad(name: str, key_id: str) -> bytes:
    return f"ssm:parameter:{name}:{key_id}".encode()


def encrypt(key: bytes, name: str, key_id: str, plaintext: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), _aad(name, key_id))
    return base64.b64encode(_FORMAT + nonce + sealed).decode("ascii")


def decrypt(key: bytes, name: str, key_id: str, ciphertext: str) -> str:
    """The plaintext; ValueError if the ciphertext was not made for this name and key."""
    blob = base64.b64decode(ciphertext)
    if blob[:1] != _FORMAT:
        raise ValueError("unknown SecureString ciphertext format")
    nonce, sealed = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, _aad(name, key_id)).decode("utf-8")
    except InvalidTag:
        raise ValueError("SecureString ciphertext does not verify under this account's key") from None
