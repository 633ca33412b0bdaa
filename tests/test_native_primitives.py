"""Every primitive, native versus reference, through the per-primitive entry point: the oracle's
own unit cases (tests/test_primitives.py), a seeded fuzz over a pool of edge-case values, and
the native tables against the registry."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from codeit.dsl import registry
from codeit.dsl.values import Status, order_key

from codeit.execute import native  # a broken build must fail here, never skip

from codeit.execute import fuzz  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
oracle_tests = importlib.import_module("test_primitives")


def _oracle_case_lists():
    """(name, args) of every case the oracle's tests parametrize with ``name, args``."""
    cases = [(name, args) for name, args, _ in oracle_tests.CASES]
    for obj in vars(oracle_tests).values():
        for mark in getattr(obj, "pytestmark", ()):
            if mark.name == "parametrize" and str(mark.args[0]).replace(" ", "").startswith("name,args"):
                cases.extend((c[0], c[1]) for c in mark.args[1])
    return cases


ORACLE_CASES = _oracle_case_lists()


def _describe(name, args, outcome):
    ref, nat = outcome
    return (f"{name}{args!r}: reference {ref.status.name} {ref.value!r} ({ref.steps} steps), "
            f"native {nat.status.name} {nat.value!r} ({nat.steps} steps)")


def test_native_tables_match_the_registry():
    from codeit import _interp

    assert [tuple(p) for p in _interp.PRIMITIVES] == [(p.name, p.arity) for p in registry.PRIMITIVES]
    assert list(_interp.CONSTANTS) == [c.name for c in registry.CONSTANTS]


@pytest.mark.parametrize("const", registry.CONSTANTS, ids=lambda c: c.name)
def test_native_constants_have_the_registry_values(const):
    run = native.NativeInterpreter(threads=1).run_value(f"O = identity({const.name})\n", ((0,),))
    assert run.status == Status.BAD_OUTPUT
    assert run.output == const.value and order_key(run.output) == order_key(const.value)


def test_oracle_cases_cover_every_primitive():
    builders = {"compose", "chain", "matcher", "rbind", "lbind", "power", "fork"}
    assert {p.name for p in registry.PRIMITIVES} - {n for n, _ in ORACLE_CASES} <= builders


@pytest.mark.parametrize("name, args", ORACLE_CASES, ids=[c[0] for c in ORACLE_CASES])
def test_oracle_case_native_matches_reference(name, args):
    outcome = fuzz.compare_primitive(name, args)
    assert outcome is None, _describe(name, args, outcome)


def test_function_builders_match_reference():
    f = registry.primitive
    size, inc, add, objects = f("size").function, f("increment").function, f("add").function, f("objects").function
    calls = [
        ("compose", (size, f("first").function)), ("chain", (inc, size, f("first").function)),
        ("matcher", (size, 2)), ("rbind", (add, 1)), ("lbind", (objects, ((1,),))), ("rbind", (inc, 1)),
        ("power", (inc, 1)), ("power", (inc, 5)), ("power", (5, 3)), ("fork", (add, size, size)),
        ("rbind", (5, 1)), ("power", (inc, 0)), ("power", (inc, True)),
    ]
    for name, args in calls:
        outcome = fuzz.compare_primitive(name, args)
        assert outcome is None, _describe(name, args, outcome)


def test_built_functions_are_called_with_the_reference_step_counts():
    f = registry.primitive
    inc, size, first, add = (f(n).function for n in ("increment", "size", "first", "add"))
    from codeit.dsl import functions as fn
    fns = [fn.Compose(inc, size), fn.Chain(inc, inc, size), fn.Fork(add, size, size), fn.Matcher(size, 2),
           fn.Power(inc, 7), fn.RightBind(add, 3), fn.LeftBind(add, 3), fn.Compose(5, size),
           fn.RightBind(f("objects").function, True)]
    for g in fns:
        for container in [(1, 2), ((1, 2), (3,)), frozenset({1, 2, 3})]:
            outcome = fuzz.compare_primitive("apply", (g, container))
            assert outcome is None, _describe("apply", (g, container), outcome)


FUZZ_SEED = 20240611
FUZZ_CALLS = 120


@pytest.fixture(scope="module")
def pool():
    return fuzz.value_pool(np.random.default_rng(FUZZ_SEED))


@pytest.mark.parametrize("spec", registry.PRIMITIVES, ids=lambda p: p.name)
def test_fuzzed_arguments_native_matches_reference(spec, pool):
    rng = np.random.default_rng([FUZZ_SEED, spec.id])
    bad = []
    for _ in range(FUZZ_CALLS):
        args = fuzz.random_args(rng, pool, spec.arity)
        outcome = fuzz.compare_primitive(spec.name, args)
        if outcome is not None:
            bad.append(_describe(spec.name, args, outcome))
    assert not bad, f"{len(bad)} of {FUZZ_CALLS} differ; first: {bad[0]}"


def test_the_fuzz_exercises_success_and_every_error_kind(pool):
    seen = set()
    rng = np.random.default_rng(FUZZ_SEED)
    for spec in registry.PRIMITIVES:
        for _ in range(20):
            seen.add(fuzz.native_call(spec.name, fuzz.random_args(rng, pool, spec.arity)).status)
    assert {Status.OK, Status.TYPE_ERROR, Status.RUNTIME_ERROR} <= seen


def test_ints_beyond_64_bits_are_a_size_fault():
    status, value, _ = native.call_primitive("multiply", 2 ** 40, 2 ** 40)
    assert status == Status.SIZE_LIMIT and value is None
    assert native.call_primitive("multiply", 2 ** 20, 2 ** 20)[:2] == (Status.OK, 2 ** 40)
