"""The value model: canonical order keys, ordered(), value_size, kind predicates, run statuses."""

import random

import pytest
from hypothesis import given, settings, strategies as st

from codeit.dsl import functions as fn
from codeit.dsl.values import (
    DSLRuntimeError,
    DSLTypeError,
    SizeLimitExceeded,
    Status,
    StepLimitExceeded,
    TimeLimitExceeded,
    canonical_max,
    canonical_min,
    comparable_keys,
    is_grid,
    is_valid_arc_grid,
    order_key,
    ordered,
    status_of_exception,
    value_size,
)


def _full_sort(container):
    return tuple(sorted(container, key=order_key))


# --- order_key -----------------------------------------------------------------------------------

def test_order_key_of_ints_bools_tuples_and_sets():
    assert order_key(5) == (0, 5)
    assert order_key(True) == (0, 1) == order_key(1)
    assert order_key(-3) < order_key(0) < order_key((0,)) < order_key(frozenset())
    assert order_key((1, 2)) == (1, ((0, 1), (0, 2)))
    assert order_key(frozenset({3, 1})) == (2, ((0, 1), (0, 3)))


def test_order_key_of_none_sorts_first():
    assert order_key(None) < order_key(-10**9)


def test_cells_sort_by_color_then_row_then_column():
    cells = [(2, (0, 0)), (1, (5, 5)), (1, (0, 7)), (1, (0, 3))]
    assert sorted(cells, key=order_key) == [(1, (0, 3)), (1, (0, 7)), (1, (5, 5)), (2, (0, 0))]


def test_tuples_compare_like_python_shorter_prefix_first():
    assert order_key((1, 2)) < order_key((1, 2, 0)) < order_key((1, 3))


def test_frozensets_compare_by_their_sorted_elements():
    a, b, c = frozenset({1, 5}), frozenset({1, 2, 9}), frozenset({0})
    assert sorted([a, b, c], key=order_key) == [c, b, a]
    assert order_key(frozenset()) < order_key(frozenset({0}))


def test_order_key_of_a_function_value_is_tag_three_and_structural():
    size = fn.Primitive("size", lambda c: len(c))
    first = fn.Primitive("first", lambda c: c)
    k1 = order_key(fn.Compose(size, first))
    assert k1[0] == 3
    assert k1 == order_key(fn.Compose(size, first))
    assert order_key(frozenset({1})) < k1


def test_order_key_rejects_non_dsl_values():
    with pytest.raises(DSLTypeError):
        order_key("text")


# --- ordered and the fast paths --------------------------------------------------------------------

def test_ordered_keeps_a_tuple_as_it_is():
    t = (3, 1, 2, 1)
    assert ordered(t) is t


def test_ordered_sorts_a_frozenset_canonically():
    assert ordered(frozenset({(1, (0, 0)), (0, (1, 1)), (0, (0, 5))})) == ((0, (0, 5)), (0, (1, 1)), (1, (0, 0)))
    assert ordered(frozenset({frozenset({1, 2}), frozenset({0, 5}), frozenset()})) == (
        frozenset(), frozenset({0, 5}), frozenset({1, 2}))


def test_ordered_handles_mixed_kinds_without_raising():
    assert ordered(frozenset({1, (0, 1), None, frozenset({2})})) == (None, 1, (0, 1), frozenset({2}))
    # int against tuple deep inside: Python's < would raise; the canonical key says int first.
    assert ordered(frozenset({(0, (1, 2)), (0, 5)})) == ((0, 5), (0, (1, 2)))


def test_ordered_of_frozensets_is_not_pythons_subset_order():
    # Python's sorted() would treat {5} and {1, 2} as incomparable and keep input order.
    sets = frozenset({frozenset({5}), frozenset({1, 2}), frozenset({1})})
    assert ordered(sets) == (frozenset({1}), frozenset({1, 2}), frozenset({5}))


def test_ordered_rejects_non_containers():
    with pytest.raises(DSLTypeError):
        ordered(5)


def test_canonical_min_and_max():
    items = frozenset({(2, (0, 0)), (1, (3, 3)), (1, (0, 9))})
    assert canonical_min(items) == (1, (0, 9))
    assert canonical_max(items) == (2, (0, 0))
    mixed = frozenset({frozenset({(0, 1)}), frozenset({(0, 0), (5, 5)})})
    assert canonical_min(mixed) == frozenset({(0, 0), (5, 5)})


def test_comparable_keys_keep_ints_and_key_others():
    assert comparable_keys([3, True, 0]) == [3, True, 0]
    assert comparable_keys([(0, 1), 2]) == [order_key((0, 1)), order_key(2)]


_leaf = st.one_of(st.integers(-3, 3), st.booleans())
_values = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.tuples(children, children),
        st.lists(children, max_size=3).map(tuple),
        st.frozensets(children, max_size=3),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.frozensets(_values, max_size=8))
def test_ordered_agrees_with_the_full_key_sort(items):
    assert ordered(items) == _full_sort(items)
    if items:
        assert canonical_min(items) == _full_sort(items)[0]
        assert canonical_max(items) == _full_sort(items)[-1]


@settings(max_examples=200, deadline=None)
@given(st.frozensets(st.tuples(st.integers(0, 9), st.tuples(st.integers(-2, 5), st.integers(-2, 5))), max_size=12))
def test_ordered_objects_agree_with_the_full_key_sort(obj):
    assert ordered(obj) == _full_sort(obj)


def test_ordered_sets_of_objects_agree_with_the_full_key_sort():
    rng = random.Random(7)
    for _ in range(200):
        objs = frozenset(
            frozenset((rng.randrange(3), (rng.randrange(4), rng.randrange(4))) for _ in range(rng.randint(0, 4)))
            for _ in range(rng.randint(0, 6)))
        assert ordered(objs) == _full_sort(objs)


# --- value_size ----------------------------------------------------------------------------------

def test_value_size_of_the_documented_examples():
    assert value_size(7) == 1
    assert value_size(True) == 1
    assert value_size(None) == 1
    assert value_size((1, 2)) == 3
    assert value_size((1, (2, 3))) == 5
    assert value_size(tuple((0,) * 30 for _ in range(30))) == 931
    assert value_size(frozenset({(1, (2, 3)), (0, (0, 0))})) == 11
    assert value_size(()) == 1
    assert value_size(fn.Primitive("size", lambda c: len(c))) == 1


def test_value_size_with_a_limit_stops_early_above_it():
    grid = tuple((0,) * 30 for _ in range(30))
    assert value_size(grid, limit=931) == 931
    assert value_size(grid, limit=930) > 930
    shared = (((1,) * 1000,) * 1000,) * 1000  # 10**9 counted, a few kB in memory
    assert value_size(shared, limit=10**6) > 10**6


@settings(max_examples=200, deadline=None)
@given(_values, st.integers(0, 40))
def test_value_size_with_a_limit_is_exact_up_to_it(v, limit):
    n = value_size(v)
    bounded = value_size(v, limit=limit)
    assert bounded == n if n <= limit else bounded > limit


# --- kind predicates -----------------------------------------------------------------------------

def test_is_grid():
    assert is_grid(((1, 2), (3, 4)))
    assert is_grid(())
    assert is_grid(((), ()))
    assert not is_grid(((1, 2), (3,)))
    assert not is_grid(frozenset({(1, 2)}))
    assert not is_grid(((1, (2, 3)),))
    assert not is_grid((1, 2))


def test_is_valid_arc_grid():
    assert is_valid_arc_grid(((0, 9), (5, 5)))
    assert is_valid_arc_grid(((1,),))
    assert not is_valid_arc_grid(())
    assert not is_valid_arc_grid(((),))
    assert not is_valid_arc_grid(((1, 10),))
    assert not is_valid_arc_grid(((1, -1),))
    assert not is_valid_arc_grid(((1, 2), (3,)))
    assert not is_valid_arc_grid(((None,),))
    assert not is_valid_arc_grid(tuple((0,) * 31 for _ in range(2)))
    assert not is_valid_arc_grid(tuple((0,) for _ in range(31)))
    assert is_valid_arc_grid(tuple((0,) * 30 for _ in range(30)))


# --- statuses ------------------------------------------------------------------------------------

def test_status_codes_are_the_contracts_integers():
    assert [s.value for s in Status] == [0, 1, 2, 3, 4, 5, 6]
    assert [s.name for s in Status] == [
        "OK", "TIMEOUT", "STEP_LIMIT", "SIZE_LIMIT", "TYPE_ERROR", "RUNTIME_ERROR", "BAD_OUTPUT"]


@pytest.mark.parametrize("exc, status", [
    (TimeLimitExceeded(), Status.TIMEOUT),
    (StepLimitExceeded(), Status.STEP_LIMIT),
    (SizeLimitExceeded(), Status.SIZE_LIMIT),
    (DSLTypeError(), Status.TYPE_ERROR),
    (TypeError(), Status.TYPE_ERROR),
    (AttributeError(), Status.TYPE_ERROR),
    (DSLRuntimeError(), Status.RUNTIME_ERROR),
    (ValueError(), Status.RUNTIME_ERROR),
    (IndexError(), Status.RUNTIME_ERROR),
    (ZeroDivisionError(), Status.RUNTIME_ERROR),
    (StopIteration(), Status.RUNTIME_ERROR),
    (RecursionError(), Status.RUNTIME_ERROR),
    (KeyError(), Status.RUNTIME_ERROR),
])
def test_status_of_exception(exc, status):
    assert status_of_exception(exc) is status
