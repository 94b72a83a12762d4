"""The key encoding sorts bytewise exactly as DynamoDB orders key values."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cloudlet.services.dynamodb import keys

numbers = st.decimals(min_value=Decimal("-1e30"), max_value=Decimal("1e30"), allow_nan=False, places=None).filter(
    lambda d: len(d.normalize().as_tuple().digits) <= 38
)


@given(st.lists(numbers, min_size=2, max_size=20))
def test_numbers_sort_by_value(values):
    enc = sorted(values, key=lambda d: keys.encode({"N": str(d)}))
    assert [Decimal(v) for v in enc] == sorted(values)


def test_equal_numbers_encode_alike():
    assert keys.encode({"N": "1.0"}) == keys.encode({"N": "1"}) == keys.encode({"N": "1e0"})
    assert keys.encode({"N": "-0"}) == keys.encode({"N": "0"})


@given(st.lists(st.text(min_size=1), min_size=2, max_size=20))
def test_strings_sort_by_utf8_bytes(values):
    enc = sorted(values, key=lambda s: keys.encode({"S": s}))
    assert enc == sorted(values, key=lambda s: s.encode("utf-8"))


@given(st.lists(st.binary(min_size=1), min_size=2, max_size=20))
def test_binary_sorts_bytewise_and_prefixes_first(values):
    enc = sorted(values, key=lambda b: keys.encode({"B": b}))
    assert enc == sorted(values)


@given(st.text(min_size=1), st.text())
def test_begins_with_is_a_prefix_of_the_encoding(head, tail):
    assert keys.encode({"S": head + tail}).startswith(keys.prefix_of({"S": head}))


@given(st.integers(min_value=1, max_value=10**38 - 1))
def test_integer_fast_path_encodes_as_the_decimal_path(n):
    text = str(n)
    assert keys.encode_number(text) == keys.encode_number(text + ".0")  # ".0": the Decimal path
    assert keys.encode_number(text) == keys.encode_number(f"{n}e0")
