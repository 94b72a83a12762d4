"""DynamoDB value semantics: numbers, set rules, sizes, key values, order and equality."""

from __future__ import annotations

import decimal

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cloudlet.core.errors import ServiceError
from cloudlet.services.dynamodb import values as V

INVALID = "One or more parameter values were invalid: "


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(ServiceError) as info:
        fn(*args, **kwargs)
    assert info.value.code == "ValidationException" and info.value.status == 400
    return info.value.message


# numbers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, canonical",
    [
        ("1", "1"),
        ("1.0", "1"),
        ("01", "1"),
        ("1e2", "100"),
        ("1E+3", "1000"),
        ("-0", "0"),
        ("0.000", "0"),
        ("+7", "7"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1.50", "1.5"),
        ("-1.50", "-1.5"),
        ("0001.2000", "1.2"),
        ("123.456e1", "1234.56"),
        ("1e-5", "0.00001"),
        ("-12.3456", "-12.3456"),
        ("1" + "0" * 40, "1" + "0" * 40),
        ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("12345678901234567890123456789012345678.000", "12345678901234567890123456789012345678"),
    ],
)
def test_numbers_come_back_in_dynamodbs_form(text, canonical):
    assert V.canonical_number(text) == canonical


@pytest.mark.parametrize(
    "text, error",
    [
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("", "The parameter cannot be converted to a numeric value"),
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        ("Infinity", "The parameter cannot be converted to a numeric value: Infinity"),
        (" 1", "The parameter cannot be converted to a numeric value:  1"),
        ("1_000", "The parameter cannot be converted to a numeric value: 1_000"),
        ("0x10", "The parameter cannot be converted to a numeric value: 0x10"),
        ("1e", "The parameter cannot be converted to a numeric value: 1e"),
        ("123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
        ("-1.23456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
        ("1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("-1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
        ("-1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ],
)
def test_bad_numbers_get_dynamodbs_errors(text, error):
    assert message(V.canonical_number, text) == error


_EXACT = decimal.Context(prec=100)  # the default context's normalize() rounds to 28 digits
in_range = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: d.is_zero() or (len(d.normalize(_EXACT).as_tuple().digits) <= 38 and -130 <= d.adjusted() <= 125)
)


@given(in_range)
@example(Decimal("-0.00"))
@example(Decimal("1E+125"))
def test_canonical_numbers_keep_their_value_and_are_fixed_points(d):
    text = V.canonical_number(str(d))
    assert Decimal(text) == d
    assert V.canonical_number(text) == text
    assert "E" not in text and "e" not in text
    assert text == "0" or not text.rstrip("0").endswith(".")


# attribute values -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, error",
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        ({"X": "1"}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ),
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", ""]}, INVALID + "An string set may not have a empty string as a member"),
        ({"BS": [b"aa", b""]}, INVALID + "Binary sets may not contain null or empty values"),
        ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
        ({"BS": [b"b", b"b"]}, INVALID + "Input collection [Yg==, Yg==]of type BS contains duplicates."),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        ({"NS": ["1", "b", "a"]}, "The parameter cannot be converted to a numeric value: b"),
        ({"NS": ["1", ""]}, "The parameter cannot be converted to a numeric value"),
        ({"M": {"a": {"L": [{"N": "x"}]}}}, "The parameter cannot be converted to a numeric value: x"),
        ({"L": [{}]}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ],
)
def test_invalid_values(value, error):
    assert message(V.check_value, value) == error


def test_checking_canonicalises_numbers_everywhere_in_place():
    item = {
        "n": {"N": "1.0"},
        "ns": {"NS": ["01", "2.50"]},
        "m": {"M": {"x": {"N": "1e2"}, "l": {"L": [{"N": "-0"}]}}},
        "s": {"S": ""},  # empty strings are fine outside keys
        "nul": {"NULL": False},  # DynamoDB now stores NULL: false as NULL: true
    }
    assert V.check_item(item) == V.item_size(item)
    assert item == {
        "n": {"N": "1"},
        "ns": {"NS": ["1", "2.5"]},
        "m": {"M": {"x": {"N": "100"}, "l": {"L": [{"N": "0"}]}}},
        "s": {"S": ""},
        "nul": {"NULL": True},
    }


def test_nesting_is_limited_to_32_levels():
    def nested(depth):
        value = {"S": "x"}
        for _ in range(depth):
            value = {"L": [value]}
        return value

    V.check_value(nested(32))
    assert message(V.check_value, nested(33)) == "Nesting Levels have exceeded supported limits"


# sizes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, size",
    [
        ({"S": "hello"}, 5),
        ({"S": "héllo"}, 6),
        ({"S": ""}, 0),
        ({"B": b"\x00\x01\x02"}, 3),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"N": "0"}, 1),
        ({"N": "1"}, 2),
        ({"N": "-1"}, 2),
        ({"N": "12"}, 2),
        ({"N": "123"}, 3),
        ({"N": "12.3456"}, 4),  # 6 significant digits
        ({"N": "1" + "0" * 125}, 2),  # trailing zeroes do not count
        ({"N": "1" * 38}, 20),
        ({"N": "0.0001"}, 2),  # leading zeroes do not count
        ({"SS": ["ab", "c"]}, 3),
        ({"NS": ["1", "123"]}, 5),
        ({"BS": [b"ab", b"c"]}, 3),
        ({"L": []}, 3),
        ({"M": {}}, 3),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (2 + 1) + (2 + 1)),
        ({"M": {"ab": {"S": "c"}}}, 3 + (2 + 1 + 1)),
        ({"M": {"k": {"L": [{"BOOL": False}]}}}, 3 + (1 + (3 + 1 + 1) + 1)),
    ],
)
def test_value_sizes_follow_the_documented_arithmetic(value, size):
    assert V.value_size(value) == size


def test_item_size_counts_attribute_names():
    assert V.item_size({"a": {"S": "xyz"}, "bb": {"N": "12.3456"}, "ü": {"BOOL": True}}) == (1 + 3) + (2 + 4) + (2 + 1)


def test_the_400_kb_limit_is_inclusive():
    limit = 400 * 1024
    ok = {"k": {"S": "x"}, "b": {"S": "a" * (limit - 3)}}
    assert V.item_size(ok) == limit
    V.check_item(ok)
    big = {"k": {"S": "x"}, "b": {"S": "a" * (limit - 2)}}
    assert message(V.check_item, big) == "Item size has exceeded the maximum allowed size"
    assert message(V.check_item, big, update=True) == "Item size to update has exceeded the maximum allowed size"


# keys -------------------------------------------------------------------------------------
def test_key_values_cannot_be_empty():
    assert message(V.check_key_value, "pk", {"S": ""}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
        "empty string value. Key: pk"
    )
    assert message(V.check_key_value, "pk", {"B": b""}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
        "empty binary value. Key: pk"
    )
    assert message(V.check_key_value, "g", {"S": ""}, index="gsi1") == (
        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. "
        "The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gsi1, IndexKey: g"
    )
    assert "The update expression attempted to update a secondary index key" in message(
        V.check_key_value, "g", {"S": ""}, index="gsi1", update=True
    )
    V.check_key_value("pk", {"S": "x"})
    V.check_key_value("pk", {"N": "0"})


def test_key_size_limits():
    V.check_key_value("pk", {"S": "a" * 2048})
    assert message(V.check_key_value, "pk", {"S": "a" * 2049}) == (
        INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )
    V.check_key_value("sk", {"B": b"a" * 1024}, range_key=True)
    assert message(V.check_key_value, "sk", {"S": "a" * 1025}, range_key=True) == (
        INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )
    assert message(V.check_key_value, "g", {"S": "a" * 2049}, index="i") == (
        INVALID + "Size limit exceeded for Index Key g Actual Size: 2049 bytes Max Size: 2048 bytes IndexName: i"
    )


# order and equality -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "a, b, same",
    [
        ({"N": "1"}, {"N": "1.0"}, True),
        ({"N": "1"}, {"S": "1"}, False),
        ({"S": "a"}, {"S": "a"}, True),
        ({"B": b"a"}, {"B": bytearray(b"a")}, True),
        ({"SS": ["a", "b"]}, {"SS": ["b", "a"]}, True),
        ({"SS": ["a", "b"]}, {"SS": ["a", "b", "c"]}, False),
        ({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]}, True),
        ({"BS": [b"a", b"b"]}, {"BS": [b"b", b"a"]}, True),
        ({"N": "6"}, {"NS": ["6"]}, False),
        ({"L": [{"N": "1"}, {"S": "x"}]}, {"L": [{"N": "1.00"}, {"S": "x"}]}, True),
        ({"L": [{"N": "1"}, {"S": "x"}]}, {"L": [{"S": "x"}, {"N": "1"}]}, False),
        ({"M": {"a": {"SS": ["x", "y"]}}}, {"M": {"a": {"SS": ["y", "x"]}}}, True),
        ({"M": {"a": {"N": "1"}}}, {"M": {"a": {"N": "1"}, "b": {"N": "1"}}}, False),
        ({"BOOL": True}, {"BOOL": True}, True),
        ({"BOOL": True}, {"BOOL": False}, False),
        ({"NULL": True}, {"NULL": True}, True),
    ],
)
def test_equality(a, b, same):
    assert V.equal(a, b) is same
    assert V.equal(b, a) is same


@pytest.mark.parametrize(
    "a, b, order",
    [
        ({"N": "2"}, {"N": "10"}, -1),
        ({"N": "-5"}, {"N": "-0.5"}, -1),
        ({"N": "1.0"}, {"N": "1"}, 0),
        ({"S": "10"}, {"S": "2"}, -1),  # strings by bytes, not value
        ({"S": "Z"}, {"S": "a"}, -1),
        ({"S": "z"}, {"S": "é"}, -1),  # 0x7a < 0xc3 0xa9
        ({"S": "\uffff"}, {"S": "\U00010000"}, -1),  # UTF-8 order, not UTF-16
        ({"S": "ab"}, {"S": "abc"}, -1),
        ({"B": b"\x01"}, {"B": b"\xff"}, -1),  # unsigned bytes
        ({"B": b"\xd0"}, {"B": b"\xcf\xff"}, 1),
        ({"S": "1"}, {"N": "1"}, None),
        ({"BOOL": True}, {"BOOL": True}, None),
        ({"SS": ["a"]}, {"SS": ["a"]}, None),
    ],
)
def test_order(a, b, order):
    assert V.compare(a, b) == order
    if order is not None:
        assert V.compare(b, a) == -order


@given(st.text(), st.text())
def test_string_order_is_utf8_byte_order(a, b):
    expected = (a.encode() > b.encode()) - (a.encode() < b.encode())
    assert V.compare({"S": a}, {"S": b}) == expected


def test_show_prints_values_as_dynamodb_does():
    assert V.show({"S": "a"}) == "{S:a}"
    assert V.show({"N": "1"}) == "{N:1}"
    assert V.show({"B": b"a"}) == "{B:YQ==}"


def test_copy_value_detaches_maps_and_lists():
    original = {"M": {"l": {"L": [{"S": "a"}]}}}
    copy = V.copy_value(original)
    copy["M"]["l"]["L"].append({"S": "b"})
    assert original == {"M": {"l": {"L": [{"S": "a"}]}}}
