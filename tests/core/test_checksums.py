"""S3 flexible checksums: botocore's own checksum classes and hashlib are the oracles."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import botocore.httpchecksum as bhc
import botocore.session
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cloudlet.core import checksums as ck
from cloudlet.core.errors import ServiceError

# botocore's implementation of each algorithm (MD5 is not one of its flexible checksums)
BOTOCORE: dict[str, Callable[[], bhc.BaseChecksum]] = {
    "CRC32": bhc.Crc32Checksum,
    "CRC32C": bhc.CrtCrc32cChecksum,
    "CRC64NVME": bhc.CrtCrc64NvmeChecksum,
    "SHA1": bhc.Sha1Checksum,
    "SHA256": bhc.Sha256Checksum,
    "SHA512": bhc.Sha512Checksum,
    "XXHASH64": bhc.CrtXxhash64Checksum,
    "XXHASH3": bhc.CrtXxhash3Checksum,
    "XXHASH128": bhc.CrtXxhash128Checksum,
}


def reference(alg: str, data: bytes) -> str:
    if alg == "MD5":
        return base64.b64encode(hashlib.md5(data).digest()).decode()
    c = BOTOCORE[alg]()
    c.update(data)
    return c.b64digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def error(fn: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        fn()
    return caught.value


# computing -------------------------------------------------------------------------------
def test_the_ten_algorithms_are_the_models():
    model = botocore.session.get_session().get_service_model("s3")
    assert sorted(ck.ALGORITHMS) == sorted(model.shape_for("ChecksumAlgorithm").enum)
    assert set(BOTOCORE) | {"MD5"} == set(ck.ALGORITHMS)


@pytest.mark.parametrize(
    ("alg", "value"),
    [  # the catalogued check values of "123456789" (CRC RevEng), and hashlib's
        ("CRC32", 0xCBF43926),
        ("CRC32C", 0xE3069283),
        ("CRC64NVME", 0xAE8B14860A799888),
    ],
)
def test_crc_check_values(alg, value):
    h = ck.Hasher(alg)
    h.update(b"123456789")
    assert h.digest() == value.to_bytes(ck.digest_size(alg), "big")


@pytest.mark.parametrize("alg", ["SHA1", "SHA256", "SHA512", "MD5"])
def test_hashes_are_hashlibs(alg):
    assert ck.compute(alg, b"abc") == b64(hashlib.new(alg.lower(), b"abc").digest())


@pytest.mark.parametrize("alg", ck.ALGORITHMS)
def test_empty_body(alg):
    assert ck.compute(alg, b"") == reference(alg, b"")
    assert len(ck.Hasher(alg).digest()) == ck.digest_size(alg)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=5000), cuts=st.lists(st.integers(0, 5000), max_size=6))
@example(data=b"x" * 4096, cuts=[1, 2, 4095])
def test_chunked_updates_equal_one_shot_and_botocore(data, cuts):
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    for alg in ck.ALGORITHMS:
        h = ck.Hasher(alg)
        for a, b in zip(bounds, bounds[1:]):
            h.update(data[a:b])
        assert h.b64() == ck.compute(alg, data) == reference(alg, data), alg


@pytest.mark.parametrize("alg", ck.ALGORITHMS)
def test_buffer_types_and_digest_mid_stream(alg):
    data = bytes(range(256)) * 40
    h = ck.Hasher(alg)
    h.update(bytearray(data[:1000]))
    assert h.b64() == reference(alg, data[:1000])  # a look mid-stream does not end it
    h.update(memoryview(data)[1000:])
    assert h.b64() == reference(alg, data)


def test_unknown_algorithm():
    for fn in (ck.Hasher, ck.digest_size, ck.header_name, ck.param_name):
        with pytest.raises(ValueError):
            fn("CRC16")


def test_bench_reports_every_algorithm():
    assert set(ck._bench(total=2 << 20, chunk=1 << 20)) == set(ck.ALGORITHMS)


# multipart -------------------------------------------------------------------------------
PARTS = st.lists(st.binary(max_size=3000), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None)
@given(parts=PARTS)
def test_composite_is_the_checksum_of_the_part_digests(parts):
    for alg in ck.ALGORITHMS:
        digests = [base64.b64decode(reference(alg, p)) for p in parts]
        want = reference(alg, b"".join(digests))
        assert ck.composite(alg, digests) == f"{want}-{len(parts)}"


def test_composite_sha256_by_hand():
    parts = [b"a" * 10, b"b" * 7]
    inner = b"".join(hashlib.sha256(p).digest() for p in parts)
    assert ck.composite("SHA256", [hashlib.sha256(p).digest() for p in parts]) == (
        b64(hashlib.sha256(inner).digest()) + "-2"
    )


@settings(max_examples=40, deadline=None)
@given(parts=PARTS)
@example(parts=[b"", b"abc", b""])
def test_full_object_combines_to_the_crc_of_the_whole(parts):
    for alg in ck.CRC_ALGORITHMS:
        pairs = [(base64.b64decode(reference(alg, p)), len(p)) for p in parts]
        assert ck.combine_full(alg, pairs) == reference(alg, b"".join(parts)), alg


def test_full_object_of_no_parts_is_the_empty_crc():
    for alg in ck.CRC_ALGORITHMS:
        assert ck.combine_full(alg, []) == reference(alg, b"")


# An independent reference for combining: multiply by x^(8·len) modulo the (reflected)
# polynomial, as zlib's crc32_combine does, for any width. The init/xorout of these CRCs
# cancel, so crc(A||B) = shift(crc(A), len(B)) ^ crc(B).
POLY = {"CRC32": (0xEDB88320, 32), "CRC32C": (0x82F63B78, 32), "CRC64NVME": (0x9A6C9329AC4BC9B5, 64)}


def _mulmod(a: int, b: int, poly: int, width: int) -> int:
    m, p = 1 << (width - 1), 0
    while m:
        if a & m:
            p ^= b
        m >>= 1
        b = (b >> 1) ^ poly if b & 1 else b >> 1
    return p


def _ref_combine(alg: str, crc1: int, crc2: int, len2: int) -> int:
    poly, width = POLY[alg]
    x_pow = 1 << (width - 2)  # x^1, then x^2, x^4, ... by squaring
    acc = 1 << (width - 1)  # x^0
    n = len2 * 8
    while n:
        if n & 1:
            acc = _mulmod(acc, x_pow, poly, width)
        x_pow = _mulmod(x_pow, x_pow, poly, width)
        n >>= 1
    return _mulmod(acc, crc1, poly, width) ^ crc2


@pytest.mark.parametrize("alg", ck.CRC_ALGORITHMS)
def test_reference_combine_agrees_with_the_data(alg):
    a, b = b"first part " * 50, b"second" * 33
    crc = lambda d: int.from_bytes(base64.b64decode(reference(alg, d)), "big")  # noqa: E731
    assert _ref_combine(alg, crc(a), crc(b), len(b)) == crc(a + b)


@pytest.mark.parametrize("alg", ck.CRC_ALGORITHMS)
@pytest.mark.parametrize("length", [5 << 30, (1 << 32) + 7, 10_000 * (5 << 30)])
def test_full_object_lengths_beyond_32_bits(alg, length):
    """S3 parts reach 5 GiB and objects 50 TB: no length may be truncated to 32 bits."""
    size = ck.digest_size(alg)
    d1, d2 = bytes(range(1, size + 1)), bytes(range(100, 100 + size))
    want = _ref_combine(alg, int.from_bytes(d1, "big"), int.from_bytes(d2, "big"), length)
    assert ck.combine_full(alg, [(d1, 3), (d2, length)]) == b64(want.to_bytes(size, "big"))


def test_combining_refuses_what_cannot_be_combined():
    with pytest.raises(ValueError):
        ck.combine_full("SHA256", [(bytes(32), 1)])
    with pytest.raises(ValueError):
        ck.combine_full("CRC32", [(bytes(8), 1)])
    with pytest.raises(ValueError):
        ck.composite("CRC32", [bytes(4), bytes(3)])


def test_multipart_type():
    assert ck.multipart_type(None, None) is None
    assert ck.multipart_type("CRC64NVME", None) == "FULL_OBJECT"
    for alg in ("CRC32", "CRC32C", "SHA1", "SHA256", "XXHASH3"):
        assert ck.multipart_type(alg, None) == "COMPOSITE"
    assert ck.multipart_type("CRC32", "FULL_OBJECT") == "FULL_OBJECT"
    assert ck.multipart_type("CRC32C", "COMPOSITE") == "COMPOSITE"
    err = error(lambda: ck.multipart_type("SHA256", "FULL_OBJECT"))
    assert (err.code, err.status) == ("InvalidRequest", 400)
    assert err.message == "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."
    err = error(lambda: ck.multipart_type("CRC64NVME", "COMPOSITE"))
    assert err.message == "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."
    err = error(lambda: ck.multipart_type(None, "COMPOSITE"))
    assert err.message == "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
    assert error(lambda: ck.multipart_type("CRC32", "PARTIAL")).message == (
        "Value for x-amz-checksum-type header is invalid."
    )


# names -----------------------------------------------------------------------------------
def test_names_are_the_models_members_and_headers():
    op = botocore.session.get_session().get_service_model("s3").operation_model("PutObject")
    members = op.input_shape.members
    for alg in ck.ALGORITHMS:
        member = members[ck.param_name(alg)]
        assert member.serialization == {"location": "header", "name": ck.header_name(alg)}
    assert ck.header_name("CRC64NVME") == "x-amz-checksum-crc64nvme"
    assert ck.param_name("CRC32C") == "ChecksumCRC32C"


def test_output_params():
    assert ck.output_params(None) == {}
    assert ck.output_params({"alg": "SHA1", "value": "v", "type": "COMPOSITE"}) == {
        "ChecksumSHA1": "v",
        "ChecksumType": "COMPOSITE",
    }


# checking --------------------------------------------------------------------------------
def test_check_accepts_a_match():
    v = ck.compute("CRC32", b"hello")
    ck.check("CRC32", v, v)


@pytest.mark.parametrize("alg", ck.ALGORITHMS)
def test_check_mismatch_is_bad_digest(alg):
    err = error(lambda: ck.check(alg, ck.compute(alg, b"sent"), ck.compute(alg, b"received")))
    assert (err.code, err.status) == ("BadDigest", 400)
    assert err.message == f"The {alg} you specified did not match the calculated checksum."


def test_complete_multipart_words_it_in_lower_case():
    a, b = ck.compute("SHA256", b"a"), ck.compute("SHA256", b"b")
    assert error(lambda: ck.check("SHA256", a, b, complete=True)).message == (
        "The sha256 you specified did not match the calculated checksum."
    )


@pytest.mark.parametrize(
    "bad",
    ["", "not base64!", "AAAAAA", "AAAAAAAAAAA=", "AAA=", "AAAA AA==", "AAAAAA==-1"],
)
def test_malformed_value_is_invalid_request(bad):
    """Wrong alphabet, missing padding, wrong digest width (8 bytes for a CRC32)."""
    err = error(lambda: ck.check("CRC32", bad, "AAAAAA=="))
    assert (err.code, err.status) == ("InvalidRequest", 400)
    assert err.message == "Value for x-amz-checksum-crc32 header is invalid."


def test_digests_are_compared_not_their_text():
    # "AAAAAB==" carries the same 4 bytes as "AAAAAA==" (the last 4 bits are padding)
    ck.check("CRC32", "AAAAAB==", "AAAAAA==")


def test_check_of_a_composite_value():
    parts = [ck.Hasher("SHA1").digest(), hashlib.sha1(b"x").digest()]
    value = ck.composite("SHA1", parts)
    ck.check("SHA1", value, value)
    ck.check("SHA1", value.rsplit("-", 1)[0], value)
    assert error(lambda: ck.check("SHA1", value[:-1] + "3", value)).code == "BadDigest"


def test_content_md5():
    body = b"some body"
    md5 = hashlib.md5(body).digest()
    ck.check_content_md5(b64(md5), md5)
    for bad in ("", "nope", b64(md5[:15]), md5.hex()):
        err = error(lambda: ck.check_content_md5(bad, md5))  # noqa: B023
        assert (err.code, err.status, err.message) == ("InvalidDigest", 400, "The Content-MD5 you specified was invalid.")
    other = hashlib.md5(b"other").digest()
    err = error(lambda: ck.check_content_md5(b64(other), md5))
    assert (err.code, err.status) == ("BadDigest", 400)
    assert err.message == "The Content-MD5 you specified did not match what we received."
    assert err.fields == {"CalculatedDigest": b64(md5), "ExpectedDigest": other.hex()}


# request parameters ----------------------------------------------------------------------
def test_from_params():
    v = ck.compute("CRC32C", b"x")
    assert ck.from_params({}) is None
    assert ck.from_params({"ChecksumCRC32C": v}) == ("CRC32C", v)
    assert ck.from_params({"ChecksumCRC32C": v, "ChecksumAlgorithm": "crc32c"}) == ("CRC32C", v)
    assert ck.from_params({"ChecksumAlgorithm": "SHA256"}) == ("SHA256", None)


def test_from_params_errors():
    crc32, sha1 = ck.compute("CRC32", b""), ck.compute("SHA1", b"")
    err = error(lambda: ck.from_params({"ChecksumCRC32": crc32, "ChecksumSHA1": sha1}))
    assert (err.code, err.message) == (
        "InvalidRequest",
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )
    err = error(lambda: ck.from_params({"ChecksumCRC32": crc32, "ChecksumAlgorithm": "SHA1"}))
    assert (err.code, err.message) == ("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
    err = error(lambda: ck.from_params({"ChecksumSHA256": sha1}))
    assert err.message == "Value for x-amz-checksum-sha256 header is invalid."
    err = error(lambda: ck.from_params({"ChecksumAlgorithm": "MD4"}))
    assert err.code == "InvalidRequest"
    assert err.message == (
        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
        "[CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]"
    )


def test_other_errors_wording():
    assert ck.missing_value().message == (
        "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* "
        "or x-amz-trailer headers were found."
    )
    err = ck.missing_part_checksum("SHA1", 1)
    assert (err.code, err.status) == ("InvalidRequest", 400)
    assert err.message == (
        "The upload was created using a sha1 checksum. The complete request must include the checksum "
        "for each part. It was missing for part 1 in the request."
    )
