"""Function values and the per-run Budget: structure, arity, order keys, step and time limits."""

import threading
import time

import pytest

from codeit.dsl import functions as fn
from codeit.dsl import primitives as P
from codeit.dsl.values import (
    DSLTypeError,
    SizeLimitExceeded,
    StepLimitExceeded,
    TimeLimitExceeded,
    order_key,
)


def prim(name):
    return fn.Primitive(name, getattr(P, name))


SIZE, FIRST, INCREMENT, ADD, FILL, OBJECTS = (
    prim("size"), prim("first"), prim("increment"), prim("add"), prim("fill"), prim("objects"))


# --- Budget --------------------------------------------------------------------------------------

def test_budget_allows_exactly_max_steps():
    budget = fn.Budget(max_steps=3)
    for _ in range(3):
        budget.tick()
    assert budget.steps == 3
    with pytest.raises(StepLimitExceeded):
        budget.tick()
    assert budget.steps == 3


def test_budget_deadline():
    budget = fn.Budget(deadline=time.perf_counter() - 1.0)
    with pytest.raises(TimeLimitExceeded):
        budget.tick()
    fn.Budget(deadline=time.perf_counter() + 60.0).tick()


def test_budget_check_elements():
    budget = fn.Budget(max_value_size=10)
    budget.check_elements(10)
    with pytest.raises(SizeLimitExceeded):
        budget.check_elements(11)


def test_budget_defaults_are_the_contracts():
    budget = fn.Budget()
    assert (budget.max_steps, budget.deadline, budget.max_value_size, budget.steps) == (100_000, None, 1_000_000, 0)


def test_active_installs_and_restores_per_thread():
    outer, inner = fn.Budget(), fn.Budget()
    assert fn.current_budget() is None
    with fn.active(outer):
        assert fn.current_budget() is outer
        with fn.active(inner):
            assert fn.current_budget() is inner
        assert fn.current_budget() is outer
        seen = []
        thread = threading.Thread(target=lambda: seen.append(fn.current_budget()))
        thread.start()
        thread.join()
        assert seen == [None]
    assert fn.current_budget() is None


def test_active_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with fn.active(fn.Budget()):
            1 // 0
    assert fn.current_budget() is None


def test_check_elements_without_a_budget_is_unlimited():
    fn.check_elements(10**12)
    with fn.active(fn.Budget(max_value_size=5)):
        with pytest.raises(SizeLimitExceeded):
            fn.check_elements(6)


# --- Primitive -----------------------------------------------------------------------------------

def test_primitive_call_takes_one_step():
    budget = fn.Budget()
    with fn.active(budget):
        assert SIZE((1, 2, 3)) == 3
    assert budget.steps == 1


def test_primitive_without_budget_runs_unlimited():
    assert INCREMENT(1) == 2


def test_primitive_wrong_argument_count_is_a_type_error():
    with pytest.raises(DSLTypeError, match="size takes 1 arguments, got 2"):
        SIZE((1,), (2,))


def test_primitive_equality_hash_and_arity():
    assert prim("size") == SIZE and hash(prim("size")) == hash(SIZE)
    assert SIZE != FIRST
    assert SIZE.arity == 1 and FILL.arity == 3 and OBJECTS.arity == 4
    assert repr(SIZE) == "size"


def test_primitive_order_key_is_its_catalogue_row():
    ids = fn.primitive_ids()
    assert len(ids) == 160
    assert order_key(SIZE) == (3, (0, ids["size"]))
    assert ids["identity"] == 0
    assert sorted([SIZE, prim("identity"), ADD], key=order_key) == [prim("identity"), ADD, SIZE]


# --- composite values ----------------------------------------------------------------------------

def test_compose_applies_inner_then_outer_with_two_steps():
    budget = fn.Budget()
    f = fn.Compose(SIZE, FIRST)
    with fn.active(budget):
        assert f(((1, 2, 3), (4,))) == 3
    assert budget.steps == 2


def test_chain_and_fork_step_counts():
    budget = fn.Budget()
    with fn.active(budget):
        assert fn.Chain(INCREMENT, INCREMENT, INCREMENT)(0) == 3
        assert budget.steps == 3
        assert fn.Fork(ADD, INCREMENT, INCREMENT)(1) == 4
        assert budget.steps == 6


def test_fork_evaluates_a_before_b():
    calls = []
    first_arg = fn.Primitive("tracked_a", lambda x: calls.append("a") or x)
    second_arg = fn.Primitive("tracked_b", lambda x: calls.append("b") or x)
    fn.Fork(ADD, first_arg, second_arg)(1)
    assert calls == ["a", "b"]


def test_matcher():
    assert fn.Matcher(SIZE, 2)((7, 8)) is True
    assert fn.Matcher(SIZE, 2)((7,)) is False


def test_binds_and_their_arity_follow_arc_dsl():
    assert fn.RightBind(ADD, 10)(1) == 11
    assert fn.LeftBind(prim("subtract"), 10)(1) == 9
    assert fn.RightBind(ADD, 10).arity == 1
    assert fn.RightBind(FILL, frozenset({(0, 0)})).arity == 2
    assert fn.LeftBind(OBJECTS, ((1,),)).arity == 3
    # arc-dsl turns a 1-parameter (or 4-parameter) function into a 3-parameter lambda.
    assert fn.RightBind(SIZE, 1).arity == 3
    assert fn.RightBind(fn.Compose(SIZE, FIRST), 1).arity == 3
    assert fn.RightBind(fn.RightBind(FILL, frozenset()), 3).arity == 1


def test_bind_with_wrong_argument_count_is_a_type_error():
    with pytest.raises(DSLTypeError):
        fn.RightBind(ADD, 1)(1, 2)
    with pytest.raises(TypeError):
        fn.RightBind(SIZE, 1)(1, 2, 3)  # size gets 4 arguments, as in arc-dsl


def test_fill_rbind_lbind_partial_application():
    grid = ((0, 0), (0, 0))
    paint_one = fn.RightBind(fn.LeftBind(FILL, grid), frozenset({(1, 1)}))
    assert paint_one(5) == ((0, 0), (0, 5))


def test_power_applies_n_times_and_counts_n_steps():
    budget = fn.Budget()
    with fn.active(budget):
        assert fn.Power(INCREMENT, 5)(0) == 5
    assert budget.steps == 5


def test_step_limit_stops_a_composite_midway():
    budget = fn.Budget(max_steps=3)
    with fn.active(budget):
        with pytest.raises(StepLimitExceeded):
            fn.Power(INCREMENT, 10)(0)
    assert budget.steps == 3


def test_calling_a_non_function_part_is_a_type_error():
    with pytest.raises(TypeError):
        fn.Compose(5, SIZE)((1,))


def test_function_values_are_structural_and_hashable():
    a = fn.Fork(ADD, fn.Compose(SIZE, FIRST), fn.RightBind(ADD, 1))
    b = fn.Fork(prim("add"), fn.Compose(prim("size"), prim("first")), fn.RightBind(prim("add"), 1))
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert fn.Compose(SIZE, FIRST) != fn.Chain(SIZE, FIRST, FIRST)
    assert fn.LeftBind(ADD, 1) != fn.RightBind(ADD, 1)
    assert fn.Power(SIZE, 2) != fn.Compose(SIZE, SIZE)


def test_composite_order_keys_have_kind_tags():
    keys = [order_key(v) for v in (
        SIZE, fn.Compose(SIZE, SIZE), fn.Chain(SIZE, SIZE, SIZE), fn.Matcher(SIZE, 1),
        fn.RightBind(ADD, 1), fn.LeftBind(ADD, 1), fn.Power(SIZE, 2), fn.Fork(ADD, SIZE, SIZE))]
    assert [k[1][0] for k in keys] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert keys == sorted(keys)
    assert order_key(fn.RightBind(ADD, 1)) < order_key(fn.RightBind(ADD, 2))
    assert order_key(fn.Power(SIZE, 2)) == (3, (6, order_key(SIZE), (0, 2)))


def test_arity_of_rejects_non_functions():
    assert fn.arity_of(ADD, "rbind") == 2
    with pytest.raises(DSLTypeError, match="rbind"):
        fn.arity_of(5, "rbind")
