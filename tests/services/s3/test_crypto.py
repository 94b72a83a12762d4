"""S3 encryption at rest: the segmented stream, key wrapping, SSE-S3 and SSE-C records,
and SSE-C's request validation with S3's codes and wording."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import random
import struct
from typing import Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cloudlet.core.errors import ServiceError
from cloudlet.core.store import BlobFiles, ServiceDB
from cloudlet.services.s3 import crypto
from cloudlet.services.s3.crypto import HEADER, SEGMENT, TAG, IntegrityError

KEY = bytes(range(32))
SIZES = [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT, 3 * SEGMENT + 7, 5 * (1 << 20) + 3]


def body(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def sealed(plain: bytes, key: bytes = KEY, chunk: int = 10_000) -> bytes:
    return b"".join(crypto.seal(key, (plain[i : i + chunk] for i in range(0, len(plain), chunk))))


def read(blob: bytes, size: int, start: int = 0, end: int | None = None, key: bytes = KEY, chunk: int = 1 << 20) -> bytes:
    end = size - 1 if end is None else end
    return b"".join(crypto.open_range(io.BytesIO(blob), key, size, start, end, chunk))


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_and_size(size: int) -> None:
    plain = body(size)
    blob = sealed(plain)
    assert len(blob) == crypto.ciphertext_size(size)
    assert read(blob, size) == plain
    if size >= 32:  # the body really is encrypted: no run of the plaintext survives
        assert plain[:32] not in blob and plain[-32:] not in blob
    whole = sealed(plain, chunk=max(size, 1))  # the body in one update
    assert len(whole) == len(blob) and read(whole, size) == plain


def test_ciphertext_size_formula() -> None:
    assert crypto.ciphertext_size(0) == HEADER + TAG
    assert crypto.ciphertext_size(1) == HEADER + 1 + TAG
    assert crypto.ciphertext_size(SEGMENT) == HEADER + SEGMENT + TAG  # no empty trailing segment
    assert crypto.ciphertext_size(SEGMENT + 1) == HEADER + SEGMENT + 1 + 2 * TAG
    with pytest.raises(ValueError):
        crypto.ciphertext_size(-1)


@pytest.mark.parametrize("chunk", [1, 7, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 1 << 20])
def test_output_does_not_depend_on_how_input_is_chunked(chunk: int) -> None:
    plain = body(3 * SEGMENT + 5 if chunk > 1 else SEGMENT + 3)
    blob = sealed(plain, chunk=chunk)
    assert read(blob, len(plain)) == plain
    assert len(blob) == crypto.ciphertext_size(len(plain))


def test_sealer_holds_back_at_most_one_segment() -> None:
    sealer = crypto.Sealer(KEY)
    out = sealer.update(b"x" * SEGMENT)  # full, but it might be the last: held back
    assert out == sealer.header and len(out) == HEADER
    out = sealer.update(b"y")  # now the first segment is known not to be last
    assert len(out) == SEGMENT + TAG
    out = sealer.update(b"z" * (3 * SEGMENT))
    assert len(out) == 3 * (SEGMENT + TAG)  # 1 + 3*SEGMENT pending: three sealed, 1 byte held
    assert len(sealer.finish()) == 1 + TAG
    assert sealer.plain_size == 4 * SEGMENT + 1
    with pytest.raises(ValueError):
        sealer.update(b"more")
    with pytest.raises(ValueError):
        sealer.finish()


def test_one_update_of_whole_segments_keeps_the_last_for_finish() -> None:
    sealer = crypto.Sealer(KEY)
    assert len(sealer.update(b"x" * 2 * SEGMENT)) == HEADER + SEGMENT + TAG
    assert len(sealer.finish()) == SEGMENT + TAG  # the final segment is full, not an empty extra


def test_empty_body_without_update_still_has_header_and_tag() -> None:
    sealer = crypto.Sealer(KEY)
    blob = sealer.finish()
    assert len(blob) == HEADER + TAG and blob[:HEADER] == sealer.header
    assert read(blob, 0, 0, -1) == b""


def test_update_accepts_memoryview_and_bytearray() -> None:
    plain = body(2 * SEGMENT + 9)
    sealer = crypto.Sealer(KEY)
    blob = sealer.update(memoryview(plain)[:SEGMENT + 4]) + sealer.update(bytearray(plain[SEGMENT + 4 :]))
    blob += sealer.finish()
    assert read(blob, len(plain)) == plain


def test_two_seals_of_one_body_differ() -> None:
    plain = body(1000)
    a, b = sealed(plain), sealed(plain)
    assert a != b  # a fresh prefix per stream: one data key can seal many parts safely
    assert read(a, 1000) == read(b, 1000) == plain


# --- ranges ----------------------------------------------------------------------------------

RANGE_SIZE = 4 * SEGMENT + 123
RANGE_PLAIN = body(RANGE_SIZE, seed=7)
RANGE_BLOB = sealed(RANGE_PLAIN)
EDGES = sorted({0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT - 1, 2 * SEGMENT, 4 * SEGMENT - 1,
                4 * SEGMENT, RANGE_SIZE - 2, RANGE_SIZE - 1})


@pytest.mark.parametrize("start", EDGES)
def test_every_range_shape_at_segment_edges(start: int) -> None:
    for end in EDGES:
        if end >= start:
            assert read(RANGE_BLOB, RANGE_SIZE, start, end) == RANGE_PLAIN[start : end + 1], (start, end)


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, RANGE_SIZE - 1),
    length=st.integers(1, RANGE_SIZE),
    chunk=st.sampled_from([1, SEGMENT, 2 * SEGMENT + 5, 1 << 20]),
)
@example(start=RANGE_SIZE - 1, length=1, chunk=1)  # one byte of the final, short segment
@example(start=SEGMENT - 1, length=2, chunk=1)  # two bytes straddling a boundary, one segment a read
def test_random_ranges_and_batch_sizes(start: int, length: int, chunk: int) -> None:
    end = min(start + length, RANGE_SIZE) - 1
    assert read(RANGE_BLOB, RANGE_SIZE, start, end, chunk=chunk) == RANGE_PLAIN[start : end + 1]


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = super().readinto(buffer)
        self.bytes_read += n
        return n


def test_range_reads_only_the_segments_it_covers() -> None:
    f = CountingReader(RANGE_BLOB)
    got = b"".join(crypto.open_range(f, KEY, RANGE_SIZE, 2 * SEGMENT + 10, 2 * SEGMENT + 20))
    assert got == RANGE_PLAIN[2 * SEGMENT + 10 : 2 * SEGMENT + 21]
    assert f.bytes_read == HEADER + SEGMENT + TAG


def test_pieces_follow_the_chunk_size() -> None:
    pieces = list(crypto.open_range(io.BytesIO(RANGE_BLOB), KEY, RANGE_SIZE, 0, RANGE_SIZE - 1, chunk=2 * SEGMENT))
    assert [len(p) for p in pieces] == [2 * SEGMENT, 2 * SEGMENT, 123]


@pytest.mark.parametrize("start,end", [(-1, 3), (5, 4), (0, RANGE_SIZE), (RANGE_SIZE, RANGE_SIZE)])
def test_out_of_bounds_ranges_are_refused(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        crypto.open_range(io.BytesIO(RANGE_BLOB), KEY, RANGE_SIZE, start, end)


def test_empty_body_range_must_be_the_empty_whole() -> None:
    blob = sealed(b"")
    with pytest.raises(ValueError):
        crypto.open_range(io.BytesIO(blob), KEY, 0, 0, 0)


# --- tampering -------------------------------------------------------------------------------

SIZE3 = 3 * SEGMENT  # three full segments: swaps keep every length the same
PLAIN3 = body(SIZE3, seed=3)
BLOB3 = sealed(PLAIN3)
STRIDE = SEGMENT + TAG


def seg(blob: bytes, i: int) -> bytes:
    return blob[HEADER + i * STRIDE : HEADER + (i + 1) * STRIDE]


def with_segs(blob: bytes, order: list[int]) -> bytes:
    return blob[:HEADER] + b"".join(seg(blob, i) for i in order)


def fails(blob: bytes, size: int, start: int = 0, end: int | None = None, key: bytes = KEY) -> str:
    with pytest.raises(IntegrityError) as err:
        read(blob, size, start, end, key)
    return str(err.value)


@pytest.mark.parametrize("offset", [HEADER, HEADER + 5, HEADER + SEGMENT + 3, HEADER + STRIDE - 1, len(BLOB3) - 1])
def test_a_flipped_bit_anywhere_is_detected(offset: int) -> None:
    bad = bytearray(BLOB3)
    bad[offset] ^= 0x01
    fails(bytes(bad), SIZE3)


def test_a_changed_header_prefix_fails_every_segment() -> None:
    bad = bytearray(BLOB3)
    bad[3] ^= 0x80
    assert "segment 0" in fails(bytes(bad), SIZE3)
    assert "segment 2" in fails(bytes(bad), SIZE3, 2 * SEGMENT, SIZE3 - 1)


def test_unknown_format_byte() -> None:
    assert "format" in fails(b"\x02" + BLOB3[1:], SIZE3)


def test_swapped_segments_are_detected() -> None:
    swapped = with_segs(BLOB3, [1, 0, 2])
    assert "segment 0" in fails(swapped, SIZE3)
    # even a range that only touches a moved segment fails
    fails(swapped, SIZE3, SEGMENT + 1, SEGMENT + 2)


def test_a_segment_from_another_stream_under_the_same_key_is_detected() -> None:
    other = sealed(PLAIN3)  # same key and plaintext, another prefix
    spliced = BLOB3[:HEADER] + seg(BLOB3, 0) + seg(other, 1) + seg(BLOB3, 2)
    assert "segment 1" in fails(spliced, SIZE3)


def test_truncation_at_a_segment_boundary_is_detected() -> None:
    cut = with_segs(BLOB3, [0, 1])
    assert "segment 1" in fails(cut, 2 * SEGMENT)  # record shrunk too: segment 1 was not the last
    assert "truncated" in fails(cut, SIZE3)  # record intact: the read comes up short


def test_a_dropped_middle_segment_is_detected() -> None:
    fails(with_segs(BLOB3, [0, 2]), 2 * SEGMENT)


def test_a_duplicated_final_segment_is_detected() -> None:
    fails(with_segs(BLOB3, [0, 2, 2]), SIZE3)


def test_truncation_inside_the_final_segment_is_detected() -> None:
    plain = body(SEGMENT + 100)
    blob = sealed(plain)
    assert "truncated" in fails(blob[:-1], len(plain))
    fails(blob[:-1], len(plain) - 1)  # record agrees with the cut: the tag no longer matches
    fails(blob, len(plain) - 1)  # the record claims a shorter body than was sealed
    fails(blob + b"\x00", len(plain) + 1)  # or a longer one


def test_empty_body_swapped_for_a_final_segment_of_another_empty_body() -> None:
    a, b = sealed(b""), sealed(b"")
    fails(a[:HEADER] + b[HEADER:], 0, 0, -1)


def test_wrong_data_key_is_detected_even_for_an_empty_body() -> None:
    other = bytes(32)
    fails(BLOB3, SIZE3, key=other)
    fails(sealed(b""), 0, 0, -1, key=other)


def test_segments_are_plain_aes_gcm_with_the_documented_nonce() -> None:
    """The format is what the module doc says: a reader in another language can open it."""
    plain = body(SEGMENT + 1)
    blob = sealed(plain)
    prefix = blob[1:HEADER]
    aead = AESGCM(KEY)
    first = aead.decrypt(prefix + struct.pack(">IB", 0, 0), seg(blob, 0), None)
    last = aead.decrypt(prefix + struct.pack(">IB", 1, 1), blob[HEADER + STRIDE :], None)
    assert blob[0] == 1 and first + last == plain


class Trickle(io.BytesIO):
    """A reader that returns at most 1000 bytes a call, as sockets and pipes may."""

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        with memoryview(buffer) as view:
            return super().readinto(view[:1000])


def test_short_reads_are_retried_not_taken_for_truncation() -> None:
    got = b"".join(crypto.open_range(Trickle(RANGE_BLOB), KEY, RANGE_SIZE, 5, RANGE_SIZE - 5))
    assert got == RANGE_PLAIN[5 : RANGE_SIZE - 4]


def test_open_streams_from_a_real_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = body(3 * SEGMENT + 11)
    path = tmp_path / "blob"
    path.write_bytes(sealed(plain))
    with open(path, "rb") as f:
        assert b"".join(crypto.open_range(f, KEY, len(plain), SEGMENT - 5, 2 * SEGMENT + 5)) == plain[
            SEGMENT - 5 : 2 * SEGMENT + 6
        ]
        pieces = list(crypto.open_range(f, KEY, len(plain), 0, len(plain) - 1, chunk=SEGMENT))
        assert b"".join(pieces) == plain and len(pieces) == 4  # pieces are fresh bytes, not a reused buffer


def test_keys_must_be_256_bits() -> None:
    with pytest.raises(ValueError):
        crypto.Sealer(b"short")
    with pytest.raises(ValueError):
        crypto.open_range(io.BytesIO(BLOB3), bytes(16), SIZE3, 0, 1)


# --- data keys, master keys, SSE records --------------------------------------------------------


def test_wrap_and_unwrap() -> None:
    master = os.urandom(32)
    key, wrapped = crypto.new_data_key(master)
    assert len(key) == 32 and key not in wrapped
    assert crypto.unwrap(master, wrapped) == key
    assert crypto.new_data_key(master)[0] != key
    with pytest.raises(IntegrityError):
        crypto.unwrap(os.urandom(32), wrapped)
    with pytest.raises(IntegrityError):
        crypto.unwrap(master, wrapped[:-1] + bytes([wrapped[-1] ^ 1]))


@pytest.fixture()
def db() -> Iterator[ServiceDB]:
    d = ServiceDB("s3", None, BlobFiles(None, False), False)
    yield d
    d.close()


def test_master_key_is_created_once_per_account(db: ServiceDB) -> None:
    with db.tx("", "") as tx:
        a = crypto.master_key(tx, "111111111111")
        assert crypto.master_key(tx, "111111111111") == a
        b = crypto.master_key(tx, "222222222222")
    assert len(a) == 32 and a != b
    with db.tx("", "") as tx:
        assert crypto.master_key(tx, "111111111111") == a
        assert tx.get("mk", "111111111111") is not None


def test_sse_s3_record_opens_under_its_accounts_master_key(db: ServiceDB) -> None:
    plain = body(SEGMENT + 9)
    with db.tx("", "") as tx:
        key, record = crypto.new_sse_s3(tx, "111111111111")
        blob_id = tx.put_blob(crypto.seal(key, [plain]))
    assert record["alg"] == "AES256" and record["mk"] == "111111111111"
    assert crypto.response_fields(record) == {"ServerSideEncryption": "AES256"}
    with db.tx("", "") as tx:
        opened = crypto.data_key(tx, record, None)
        assert opened == key
        with tx.open_blob(blob_id) as f:
            assert b"".join(crypto.open_range(f, opened, len(plain), 0, len(plain) - 1)) == plain
        with pytest.raises(ServiceError) as err:  # SSE-C headers on an SSE-S3 object
            crypto.data_key(tx, record, os.urandom(32))
        assert (err.value.code, err.value.status) == ("InvalidRequest", 400)
        assert err.value.message == "The encryption parameters are not applicable to this object."


def test_sse_s3_record_without_its_master_key_is_an_integrity_error(db: ServiceDB) -> None:
    with db.tx("", "") as tx:
        _, record = crypto.new_sse_s3(tx, "111111111111")
        tx.delete("mk", "111111111111")
        with pytest.raises(IntegrityError):
            crypto.data_key(tx, record, None)


def test_unencrypted_body_has_no_key(db: ServiceDB) -> None:
    with db.tx("", "") as tx:
        assert crypto.data_key(tx, None, None) is None
        with pytest.raises(ServiceError) as err:
            crypto.data_key(tx, None, os.urandom(32))
    assert err.value.code == "InvalidRequest"
    assert crypto.response_fields(None) == {}


def test_sse_c_record_keeps_no_customer_key(db: ServiceDB) -> None:
    customer = os.urandom(32)
    key, record = crypto.new_sse_c(customer)
    assert customer not in repr(record).encode() and customer not in b"".join(
        v for v in (record["wrapped"], record["customer"]["salt"], record["customer"]["hmac"])
    )
    assert crypto.is_customer(record) and not crypto.is_customer(None)
    assert crypto.check_customer_key(record, customer)
    assert not crypto.check_customer_key(record, os.urandom(32))
    assert not crypto.check_customer_key({"alg": "AES256", "mk": "1", "wrapped": b""}, customer)
    with db.tx("", "") as tx:
        assert crypto.data_key(tx, record, customer) == key
        with pytest.raises(ServiceError) as missing:
            crypto.data_key(tx, record, None)
        with pytest.raises(ServiceError) as wrong:
            crypto.data_key(tx, record, os.urandom(32))
    assert (missing.value.code, missing.value.status) == ("InvalidRequest", 400)
    assert missing.value.message == (
        "The object was stored using a form of Server Side Encryption. "
        "The correct parameters must be provided to retrieve the object."
    )
    assert (wrong.value.code, wrong.value.status) == ("AccessDenied", 403)
    assert wrong.value.message == (
        "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key."
    )
    md5 = base64.b64encode(hashlib.md5(customer).digest()).decode()
    assert crypto.response_fields(record, customer) == {"SSECustomerAlgorithm": "AES256", "SSECustomerKeyMD5": md5}
    assert crypto.response_fields(record) == {"SSECustomerAlgorithm": "AES256"}


def test_two_sse_c_records_of_one_key_use_different_salts() -> None:
    customer = os.urandom(32)
    a, b = crypto.new_sse_c(customer)[1], crypto.new_sse_c(customer)[1]
    assert a["customer"]["hmac"] != b["customer"]["hmac"]
    assert crypto.check_customer_key(a, customer) and crypto.check_customer_key(b, customer)


def test_sse_c_record_with_a_corrupted_wrapped_key(db: ServiceDB) -> None:
    customer = os.urandom(32)
    _, record = crypto.new_sse_c(customer)
    record["wrapped"] = bytes(40)
    with db.tx("", "") as tx, pytest.raises(IntegrityError):
        crypto.data_key(tx, record, customer)  # the HMAC matched: corruption, not a wrong key


# --- SSE-C request validation --------------------------------------------------------------------

CUSTOMER = bytes(range(100, 132))
CUSTOMER_B64 = base64.b64encode(CUSTOMER).decode()
CUSTOMER_MD5 = base64.b64encode(hashlib.md5(CUSTOMER).digest()).decode()
# the fixed pair S3's compatibility suites use, so the MD5 computation is checked against a known value
KNOWN_B64, KNOWN_MD5 = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=", "DWygnHRtgiJ77HCm+1rvHw=="


def test_valid_customer_key() -> None:
    assert crypto.customer_key("AES256", CUSTOMER_B64, CUSTOMER_MD5) == CUSTOMER
    assert crypto.customer_key("AES256", KNOWN_B64, KNOWN_MD5) == base64.b64decode(KNOWN_B64)
    assert crypto.key_md5(base64.b64decode(KNOWN_B64)) == KNOWN_MD5
    assert crypto.customer_key("AES256", CUSTOMER_B64, None) == CUSTOMER  # MD5 is optional
    assert crypto.customer_key(None, None, None) is None


SHORT = os.urandom(24)
SHORT_B64 = base64.b64encode(SHORT).decode()
SHORT_MD5 = base64.b64encode(hashlib.md5(SHORT).digest()).decode()
NO_ALG = "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
NO_KEY = "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
BAD_KEY = "The secret key was invalid for the specified algorithm."
BAD_MD5 = "The calculated MD5 hash of the key did not match the hash that was provided."
MD5_ENCODING = "The MD5 hash of the secret key was improperly encoded. The MD5 hash must be Base64 encoded."


@pytest.mark.parametrize(
    "alg,key,md5,code,message",
    [
        (None, CUSTOMER_B64, CUSTOMER_MD5, "InvalidArgument", NO_ALG),
        (None, None, CUSTOMER_MD5, "InvalidArgument", NO_ALG),
        ("AES128", CUSTOMER_B64, CUSTOMER_MD5, "InvalidEncryptionAlgorithmError",
         "The Encryption request you specified is not valid. Supported value: AES256."),
        ("aes256", CUSTOMER_B64, CUSTOMER_MD5, "InvalidEncryptionAlgorithmError",
         "The Encryption request you specified is not valid. Supported value: AES256."),
        ("AES256", None, CUSTOMER_MD5, "InvalidArgument", NO_KEY),
        ("AES256", None, None, "InvalidArgument", NO_KEY),
        ("AES256", "not base64!", CUSTOMER_MD5, "InvalidArgument", BAD_KEY),
        ("AES256", SHORT_B64, SHORT_MD5, "InvalidArgument", BAD_KEY),  # right MD5, wrong length
        ("AES256", SHORT_B64, CUSTOMER_MD5, "InvalidArgument", BAD_MD5),  # MD5 is checked before length
        ("AES256", CUSTOMER_B64, KNOWN_MD5, "InvalidArgument", BAD_MD5),
        ("AES256", CUSTOMER_B64, CUSTOMER_MD5[:-4], "InvalidArgument", BAD_MD5),
        ("AES256", CUSTOMER_B64, "AAAAAAAAA=", "InvalidArgument", MD5_ENCODING),
        # a key sent base64-encoded twice (a classic client mistake) is 44 bytes
        ("AES256", base64.b64encode(CUSTOMER_B64.encode()).decode(), None, "InvalidArgument", BAD_KEY),
    ],
)
def test_customer_key_errors(alg: str | None, key: str | None, md5: str | None, code: str, message: str) -> None:
    with pytest.raises(ServiceError) as err:
        crypto.customer_key(alg, key, md5)
    assert (err.value.code, err.value.status, err.value.message) == (code, 400, message)
    assert err.value.fields["ArgumentName"] == "x-amz-server-side-encryption"


def test_other_sse_errors() -> None:
    err = crypto.incompatible_encryption("AES256")
    assert (err.code, err.status, err.fields["ArgumentValue"]) == ("InvalidArgument", 400, "AES256")
    assert crypto.part_encryption_mismatch().code == "InvalidRequest"
    assert crypto.part_key_mismatch().message == "The provided encryption parameters did not match the ones used originally."
