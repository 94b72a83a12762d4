"""A stored item's encoding bounds its DynamoDB size, so PutItem may skip sizing the item it
replaces when the new one is at least as large (capacity.write_units' `old_bound`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlet.core.store import encode
from cloudlet.services.dynamodb import capacity, values

names = st.text(min_size=1, max_size=6)
digits = st.integers(-10**38 + 1, 10**38 - 1).map(lambda n: {"N": str(n)}) | st.sampled_from(
    ["0", "0.5", "-1.25E+20", "9.99E-100", "00012", "1e3"]).map(lambda n: {"N": n})
scalars = st.one_of(
    st.text(max_size=40).map(lambda s: {"S": s}),
    digits,
    st.binary(max_size=40).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.sets(st.text(min_size=1, max_size=8), min_size=1, max_size=4).map(lambda s: {"SS": sorted(s)}),
    st.sets(st.integers(-999, 999), min_size=1, max_size=4).map(lambda s: {"NS": [str(n) for n in s]}),
    st.sets(st.binary(min_size=1, max_size=8), min_size=1, max_size=4).map(lambda s: {"BS": sorted(s)}),
)
attribute_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4).map(lambda v: {"L": v}),
                            st.dictionaries(names, inner, max_size=4).map(lambda v: {"M": v})),
    max_leaves=12,
)
items = st.dictionaries(names, attribute_values, min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(items)
def test_the_stored_encoding_is_never_shorter_than_the_item_size(item):
    assert len(encode(item)) >= values.item_size(item)


@settings(max_examples=300, deadline=None)
@given(items, items)
def test_write_units_with_the_bound_equal_the_units_without_it(old, new):
    assert capacity.write_units(old, new, old_bound=len(encode(old))) == capacity.write_units(old, new)


def test_a_large_old_item_still_counts():
    old = {"pk": {"S": "k"}, "blob": {"S": "x" * 5000}}
    new = {"pk": {"S": "k"}}
    assert capacity.write_units(old, new, old_bound=len(encode(old))) == 5.0


@settings(max_examples=300, deadline=None)
@given(items)
def test_check_item_sizes_in_its_one_pass_what_item_size_counts(item):
    import copy

    from cloudlet.core.errors import ServiceError

    checked = copy.deepcopy(item)
    try:
        size = values.check_item(checked)
    except ServiceError:  # empty sets, duplicate numbers...: refused before any size matters
        return
    assert size == values.item_size(checked)
