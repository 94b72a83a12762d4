"""Object bodies encrypted at rest: a segmented AES-256-GCM stream, data keys, SSE-S3 and SSE-C.

Every encrypted body is one blob in this format (version 1)::

    header  = 0x01 || prefix(7 random bytes)                       8 bytes
    segment = AES-256-GCM(data_key, nonce_i, plaintext_i) || tag    len(plaintext_i) + 16
    nonce_i = prefix || i (4 bytes, big endian) || last (1 byte: 1 on the final segment)

The plaintext is cut into 64 KiB segments; the final one holds 1..64 KiB (0 only for an
empty body, which still has its one authenticated segment). Because the nonce carries the
segment's index and whether it is the last, a reordered, swapped, dropped, duplicated or
truncated segment fails authentication, and so does a body moved under another header.
A range GET reads and authenticates only the segments it covers; nothing ever holds more
than one read batch, so 5 GiB objects stream in flat memory. The header lives in the
blob, so the object's record only needs the plaintext size and the wrapped data key.

Keys: each object (or multipart upload) gets a random 256-bit data key, stored wrapped
(AES-256-GCM with a random nonce) under either the account's master key (SSE-S3; a record in the S3
database, kind ``mk``) or the customer's key (SSE-C; the server keeps only the wrapped
data key and a salted HMAC of the customer key, as S3 documents, never the key itself).
One data key may seal several streams (the parts of an upload): each stream draws its own
random prefix. SSE-KMS fits the same record: KMS's GenerateDataKey returns the plaintext
key and the blob to store as ``wrapped``.

The SSE record kept in a version's ``"sse"``:
    SSE-S3: {"alg": "AES256", "mk": account, "wrapped": bytes}
    SSE-C:  {"alg": "AES256", "customer": {"salt": bytes, "hmac": bytes}, "wrapped": bytes}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from typing import Any, BinaryIO, Iterable, Iterator, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx

SEGMENT = 64 * 1024
TAG = 16
HEADER = 8
KEY_SIZE = 32
AES256 = "AES256"
MASTER_KIND = "mk"

_VERSION = b"\x01"
_PREFIX = HEADER - len(_VERSION)
_NONCE = struct.Struct(">7sIB")  # prefix, segment index, last-segment flag
_MAX_SEGMENTS = 1 << 32  # the index is 4 bytes: 256 TiB, far above S3's 5 TiB objects
_SSE_HEADER = "x-amz-server-side-encryption"


class IntegrityError(Exception):
    """A body or wrapped key that does not authenticate: tampered with, truncated,
    reordered, or opened with another key than it was sealed with."""


def _check_key(key: bytes, what: str = "data key") -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"the {what} must be {KEY_SIZE} bytes, got {len(key)}")


# --- the segmented stream -----------------------------------------------------------------


class Sealer:
    """Encrypts one body as it arrives: feed `update` with chunks of any size and write
    what it returns, then what `finish` returns. The first output starts with the header.

    Up to one segment of plaintext is held back, because a full segment can only be
    sealed once we know whether more follows (the final segment is flagged).
    """

    __slots__ = ("_aead", "_prefix", "_index", "_pending", "_started", "_done", "plain_size")

    def __init__(self, data_key: bytes) -> None:
        _check_key(data_key)
        self._aead = AESGCM(data_key)
        self._prefix = os.urandom(_PREFIX)
        self._index = 0
        self._pending = bytearray()
        self._started = False
        self._done = False
        self.plain_size = 0

    @property
    def header(self) -> bytes:
        return _VERSION + self._prefix

    def _seal(self, plain: Any, last: bool) -> bytes:
        if self._index >= _MAX_SEGMENTS:
            raise ValueError("body too large for one sealed stream")
        nonce = _NONCE.pack(self._prefix, self._index, last)
        self._index += 1
        return self._aead.encrypt(nonce, plain, None)

    def update(self, chunk: bytes | bytearray | memoryview) -> bytes:
        """Ciphertext for every segment that is complete and known not to be the last."""
        if self._done:
            raise ValueError("update() after finish()")
        size = len(chunk)
        self.plain_size += size
        out: list[bytes] = []
        if not self._started:
            self._started = True
            out.append(self.header)
        pending = self._pending
        if len(pending) + size <= SEGMENT:
            pending += chunk
            return b"".join(out)
        with memoryview(chunk) as view:
            if pending:  # complete the held segment: data follows it, so it is not the last
                take = SEGMENT - len(pending)
                pending += view[:take]
                out.append(self._seal(pending, last=False))
                pending.clear()
                view = view[take:]
            # seal straight from the caller's buffer; keep back the last 1..SEGMENT bytes
            full = (len(view) - 1) // SEGMENT
            for i in range(full):
                out.append(self._seal(view[i * SEGMENT : (i + 1) * SEGMENT], last=False))
            pending += view[full * SEGMENT :]
        return b"".join(out)

    def finish(self) -> bytes:
        """The rest of the stream: the final segment (empty for an empty body)."""
        if self._done:
            raise ValueError("finish() called twice")
        self._done = True
        head = b"" if self._started else self.header
        self._started = True
        last = self._seal(self._pending, last=True)
        self._pending = bytearray()
        return head + last


def seal(data_key: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The sealed stream of `chunks`, lazily: hand it to ``tx.put_blob``."""
    sealer = Sealer(data_key)
    for chunk in chunks:
        out = sealer.update(chunk)
        if out:
            yield out
    yield sealer.finish()


def _segments(plain_size: int) -> int:
    return max(1, -(-plain_size // SEGMENT))


def ciphertext_size(plain_size: int) -> int:
    """Bytes on disk for a body of `plain_size` bytes."""
    if plain_size < 0:
        raise ValueError("negative size")
    return HEADER + plain_size + TAG * _segments(plain_size)


class Readable(Protocol):
    """What `open_range` needs of a file: a blob opened ``rb``, or an in-memory buffer."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def readinto(self, buffer: Any, /) -> int | None: ...


def _fill(f: Readable, view: memoryview, what: str) -> None:
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            raise IntegrityError(f"sealed body is truncated: {what} has {got} of {len(view)} bytes")
        got += n


def open_range(
    f: Readable | BinaryIO,
    data_key: bytes,
    plain_size: int,
    start: int,
    end_inclusive: int,
    chunk: int = 1 << 20,
) -> Iterator[bytes]:
    """The plaintext bytes ``start..end_inclusive`` of a sealed body, in pieces of about
    `chunk` bytes. Only the segments the range covers are read, each authenticated
    before any of its bytes is yielded; a failure raises IntegrityError.

    `plain_size` comes from the object's record: the segment count and the final
    segment's flag are checked against it. For an empty body pass ``0, -1`` (the whole,
    empty body): its one segment is still authenticated, so a wrong key is caught.
    """
    _check_key(data_key)
    if plain_size < 0:
        raise ValueError("negative size")
    if plain_size == 0:
        if (start, end_inclusive) != (0, -1):
            raise ValueError("an empty body has no bytes to range over; pass 0, -1")
    elif not 0 <= start <= end_inclusive < plain_size:
        raise ValueError(f"range {start}-{end_inclusive} is outside a body of {plain_size} bytes")
    return _open(f, AESGCM(data_key), plain_size, start, end_inclusive, max(1, chunk // SEGMENT))


def _open(f: Any, aead: AESGCM, plain_size: int, start: int, end: int, batch: int) -> Iterator[bytes]:
    f.seek(0)
    header = bytearray(HEADER)
    _fill(f, memoryview(header), "the header")
    if header[:1] != _VERSION:
        raise IntegrityError(f"unknown sealed body format {header[0]:#04x}")
    prefix = bytes(header[1:])
    final = _segments(plain_size) - 1
    final_plain = plain_size - final * SEGMENT
    first, last = start // SEGMENT, max(end, 0) // SEGMENT
    stride = SEGMENT + TAG
    batch = min(batch, last - first + 1)
    # Reused buffers: fresh megabyte allocations per batch cost more than the AES itself.
    sealed, plain = memoryview(bytearray(batch * stride)), memoryview(bytearray(batch * SEGMENT))
    f.seek(HEADER + first * stride)
    for lo in range(first, last + 1, batch):
        hi = min(lo + batch, last + 1)  # segments lo..hi-1 in this read
        short = SEGMENT - final_plain if hi - 1 == final else 0
        _fill(f, sealed[: (hi - lo) * stride - short], f"segments {lo}-{hi - 1}")
        for i in range(lo, hi):
            size = final_plain if i == final else SEGMENT
            at, to = (i - lo) * stride, (i - lo) * SEGMENT
            nonce = _NONCE.pack(prefix, i, i == final)
            try:
                aead.decrypt_into(nonce, sealed[at : at + size + TAG], None, plain[to : to + size])
            except InvalidTag:
                raise IntegrityError(
                    f"segment {i} of a sealed body failed authentication "
                    "(tampered, reordered, truncated, or the wrong key)"
                ) from None
        base = lo * SEGMENT  # trim to the range only where it starts and ends
        out = plain[max(start - base, 0) : min(end - base + 1, (hi - lo) * SEGMENT)]
        if out:
            yield bytes(out)


# --- data keys and master keys ------------------------------------------------------------


_WRAP_AAD = b"cloudlet-s3-data-key"


def new_data_key(master: bytes) -> tuple[bytes, bytes]:
    """A fresh random data key and the same key wrapped under `master`: AES-256-GCM with
    a random nonce (``nonce || ciphertext || tag``, 60 bytes). GCM rather than RFC 3394
    key wrap because cryptography's key wrap runs its rounds in Python (~35 µs a call,
    on every small PUT and GET), while one GCM call is ~2 µs."""
    _check_key(master, "wrapping key")
    key = os.urandom(KEY_SIZE)
    nonce = os.urandom(12)
    return key, nonce + AESGCM(master).encrypt(nonce, key, _WRAP_AAD)


def unwrap(master: bytes, wrapped: bytes) -> bytes:
    """The data key inside `wrapped`; IntegrityError if `master` did not wrap it."""
    _check_key(master, "wrapping key")
    wrapped = bytes(wrapped)
    try:
        key = AESGCM(master).decrypt(wrapped[:12], wrapped[12:], _WRAP_AAD)
    except (InvalidTag, ValueError):
        raise IntegrityError("the wrapped data key does not open under this key") from None
    _check_key(key)
    return key


def master_key(tx: Tx, account: str) -> bytes:
    """The account's SSE-S3 master key, created in `tx` on first use (so it commits with
    the first object it protects). `tx` is on the S3 database's global scope."""
    rec = tx.get(MASTER_KIND, account)
    if rec is not None:
        return bytes(rec.value["key"])
    key = AESGCM.generate_key(bit_length=256)
    tx.put(MASTER_KIND, account, {"key": key, "alg": "AES-256"}, expect=0)
    return key


# --- SSE records --------------------------------------------------------------------------


def new_sse_s3(tx: Tx, account: str) -> tuple[bytes, dict[str, Any]]:
    """A data key for a new SSE-S3 body, and the record to keep in the version's "sse"."""
    key, wrapped = new_data_key(master_key(tx, account))
    return key, {"alg": AES256, "mk": account, "wrapped": wrapped}


def new_sse_c(customer: bytes) -> tuple[bytes, dict[str, Any]]:
    """A data key for a new SSE-C body, wrapped under the customer's key. The key is
    recognised later by a salted HMAC; it is never stored."""
    _check_key(customer, "customer key")
    key, wrapped = new_data_key(customer)
    salt = os.urandom(16)
    mac = hmac.new(salt, customer, hashlib.sha256).digest()
    return key, {"alg": AES256, "customer": {"salt": salt, "hmac": mac}, "wrapped": wrapped}


def is_customer(sse: dict[str, Any] | None) -> bool:
    return sse is not None and "customer" in sse


def check_customer_key(sse: dict[str, Any] | None, key: bytes) -> bool:
    """Whether `key` is the customer key the body was sealed with."""
    if not is_customer(sse):
        return False
    assert sse is not None
    c = sse["customer"]
    return hmac.compare_digest(hmac.new(bytes(c["salt"]), key, hashlib.sha256).digest(), bytes(c["hmac"]))


def data_key(tx: Tx, sse: dict[str, Any] | None, customer: bytes | None) -> bytes | None:
    """The data key that opens a stored body, or the S3 error its reader gets: an SSE-C
    body needs its customer key, and any other body refuses one. None for a body stored
    unencrypted (``sse`` None). A record that cannot be opened is IntegrityError."""
    if is_customer(sse):
        assert sse is not None
        if customer is None:
            raise customer_key_required()
        if not check_customer_key(sse, customer):
            raise wrong_customer_key()
        return unwrap(customer, sse["wrapped"])
    if customer is not None:
        raise customer_key_not_applicable()
    if sse is None:
        return None
    rec = tx.get(MASTER_KIND, sse["mk"])
    if rec is None:
        raise IntegrityError(f"the master key of account {sse['mk']} is missing")
    return unwrap(bytes(rec.value["key"]), sse["wrapped"])


def key_md5(key: bytes) -> str:
    """The base64 MD5 S3 echoes in ``x-amz-server-side-encryption-customer-key-MD5``."""
    return base64.b64encode(hashlib.md5(key).digest()).decode("ascii")


def response_fields(sse: dict[str, Any] | None, customer: bytes | None = None) -> dict[str, str]:
    """The encryption members of an object operation's output: ``ServerSideEncryption``
    for SSE-S3; the algorithm and key MD5 for SSE-C (never ``ServerSideEncryption``)."""
    if not sse:
        return {}
    if is_customer(sse):
        out = {"SSECustomerAlgorithm": AES256}
        if customer is not None:
            out["SSECustomerKeyMD5"] = key_md5(customer)
        return out
    return {"ServerSideEncryption": sse["alg"]}


# --- SSE-C request validation ---------------------------------------------------------------


def customer_key(algorithm: str | None, key_b64: str | None, md5_b64: str | None) -> bytes | None:
    """The customer key of SSE-C's three request headers (or their copy-source twins),
    checked in the order S3 checks them; None when none is sent.

    S3 checks the MD5 before the key's length (a 24-byte key with a wrong MD5 gets the
    MD5 message). A missing MD5 is accepted: clients always send it (botocore computes
    it), and S3 is reported to serve a GET without it.
    """
    if algorithm is None and key_b64 is None and md5_b64 is None:
        return None
    if algorithm is None:
        raise _invalid_argument(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide a valid encryption algorithm."
        )
    if algorithm != AES256:
        raise ServiceError(
            "InvalidEncryptionAlgorithmError",
            "The Encryption request you specified is not valid. Supported value: AES256.",
            400,
            fields={"ArgumentName": _SSE_HEADER, "ArgumentValue": algorithm},
        )
    if key_b64 is None:
        raise _invalid_argument(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide an appropriate secret key."
        )
    key = _b64(key_b64)
    if key is None:
        raise _invalid_key()
    if md5_b64 is not None:
        digest = _b64(md5_b64)
        if digest is None:
            raise _invalid_argument(
                "The MD5 hash of the secret key was improperly encoded. The MD5 hash must be Base64 encoded."
            )
        if not hmac.compare_digest(digest, hashlib.md5(key).digest()):
            raise _invalid_argument("The calculated MD5 hash of the key did not match the hash that was provided.")
    if len(key) != KEY_SIZE:
        raise _invalid_key()
    return key


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _invalid_argument(message: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument", message, 400, fields={"ArgumentName": _SSE_HEADER, "ArgumentValue": "null"}
    )


def _invalid_key() -> ServiceError:
    return _invalid_argument("The secret key was invalid for the specified algorithm.")


def customer_key_required() -> ServiceError:
    """An SSE-C object read (GET, HEAD, copy source) without its key."""
    return ServiceError(
        "InvalidRequest",
        "The object was stored using a form of Server Side Encryption. "
        "The correct parameters must be provided to retrieve the object.",
        400,
    )


def wrong_customer_key() -> ServiceError:
    """An SSE-C object read with another key than it was written with."""
    return ServiceError(
        "AccessDenied",
        "Requests specifying Server Side Encryption with Customer provided keys must "
        "provide the correct secret key.",
        403,
    )


def customer_key_not_applicable() -> ServiceError:
    """SSE-C headers on a read of an object that is not SSE-C."""
    return ServiceError("InvalidRequest", "The encryption parameters are not applicable to this object.", 400)


def incompatible_encryption(value: str) -> ServiceError:
    """SSE-C headers together with ``x-amz-server-side-encryption`` on a write."""
    return ServiceError(
        "InvalidArgument",
        "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
        400,
        fields={"ArgumentName": _SSE_HEADER, "ArgumentValue": value},
    )


def part_encryption_mismatch() -> ServiceError:
    """UploadPart with SSE-C on an upload created without it, or the reverse."""
    return ServiceError(
        "InvalidRequest",
        "The multipart upload initiate requested encryption. Subsequent part requests must "
        "include the appropriate encryption parameters.",
        400,
    )


def part_key_mismatch() -> ServiceError:
    """UploadPart with another customer key than the upload was created with."""
    return ServiceError(
        "InvalidRequest", "The provided encryption parameters did not match the ones used originally.", 400
    )
