"""Properties over generated items: what SET writes, a projection and a condition read back;
paths read what projections keep; REMOVE on lists matches Python's list deletion; equality
and order behave as relations should."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.expressions import compile_condition, compile_projection, compile_update
from cloudlet.services.dynamodb.expressions.paths import get

numbers = st.decimals(min_value=Decimal("-1e20"), max_value=Decimal("1e20"), places=6, allow_nan=False).map(
    lambda d: V.canonical_number(str(d))
)
texts = st.text(max_size=8)
blobs = st.binary(min_size=1, max_size=6)
scalars = st.one_of(
    texts.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.binary(max_size=6).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=4, unique=True).map(lambda v: {"NS": v}),
    st.lists(blobs, min_size=1, max_size=4, unique=True).map(lambda v: {"BS": v}),
)
attribute_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=4).map(lambda v: {"M": v}),
    ),
    max_leaves=12,
)
items = st.dictionaries(st.text(min_size=1, max_size=6), attribute_values, min_size=1, max_size=5)


def placeholders(item: dict) -> tuple[dict, dict, list[str]]:
    names = {f"#n{i}": name for i, name in enumerate(item)}
    values = {f":v{i}": value for i, value in enumerate(item.values())}
    return names, values, list(names)


@settings(max_examples=150, deadline=None)
@given(items)
def test_set_then_read_back(item):
    names, values, refs = placeholders(item)
    update = compile_update("SET " + ", ".join(f"{n} = :v{i}" for i, n in enumerate(refs)), names, values)
    written = update.apply({})
    assert written == item
    assert update.updated(written) == item
    assert compile_projection(", ".join(refs), names).apply(written) == item
    cond = compile_condition(" AND ".join(f"{n} = :v{i}" for i, n in enumerate(refs)), names, values)
    assert cond.matches(written)
    assert compile_condition(" OR ".join(f"{n} <> :v{i}" for i, n in enumerate(refs)), names, values).matches(written) is False


def paths_of(value: dict, prefix: tuple) -> list[tuple]:
    out = [prefix]
    (kind, v), = value.items()
    if kind == "M":
        for k, child in v.items():
            out += paths_of(child, prefix + (k,))
    elif kind == "L":
        for i, child in enumerate(v):
            out += paths_of(child, prefix + (i,))
    return out


@settings(max_examples=150, deadline=None)
@given(items, st.data())
def test_a_projected_path_reads_the_same(item, data):
    all_paths = [p for name, value in item.items() for p in paths_of(value, (name,))]
    path = data.draw(st.sampled_from(all_paths))
    names = {f"#p{i}": e for i, e in enumerate(path) if isinstance(e, str)}
    text = "".join(f"[{e}]" if isinstance(e, int) else (f".#p{i}" if i else f"#p{i}") for i, e in enumerate(path))
    projected = compile_projection(text, names).apply(item)
    (kind, _), = get(item, path).items()
    empty_container = kind in ("M", "L") and not get(item, path)[kind]
    if not empty_container:
        # a projected list keeps only the selected element, so it is at index 0
        closed_up = tuple(0 if isinstance(e, int) else e for e in path)
        assert get(projected, closed_up) == get(item, path)
    assert compile_condition(f"attribute_exists({text})", names).matches(item)


@settings(max_examples=200, deadline=None)
@given(st.lists(numbers, max_size=8), st.sets(st.integers(min_value=0, max_value=10), min_size=1, max_size=4))
def test_remove_list_elements_like_python(elements, indexes):
    item = {"l": {"L": [{"N": n} for n in elements]}}
    before = copy.deepcopy(item)
    new = compile_update("REMOVE " + ", ".join(f"l[{i}]" for i in sorted(indexes))).apply(item)
    assert new["l"]["L"] == [{"N": n} for i, n in enumerate(elements) if i not in indexes]
    assert item == before


@settings(max_examples=200, deadline=None)
@given(attribute_values, attribute_values)
def test_equality_and_order_are_consistent(a, b):
    assert V.equal(a, a)
    assert V.equal(a, b) == V.equal(b, a)
    c = V.compare(a, b)
    if c is not None:
        assert V.compare(b, a) == -c
        assert (c == 0) == V.equal(a, b)
    checked = V.check_value(copy.deepcopy(a))
    assert checked == a  # generated values are already canonical
    assert V.value_size(a) >= 0


@settings(max_examples=100, deadline=None)
@given(numbers, numbers)
def test_add_is_decimal_addition(x, y):
    new = compile_update("ADD n :v", None, {":v": {"N": y}}).apply({"n": {"N": x}})
    assert Decimal(new["n"]["N"]) == Decimal(x) + Decimal(y)
    assert new["n"]["N"] == V.canonical_number(new["n"]["N"])
