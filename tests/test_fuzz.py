"""Property-based fuzzing of both interpreters (hypothesis): random DSL values into every
primitive, random programs (typed and untyped) on random grids, and arbitrary ``ProgramArrays``
into the compiler. Nothing crashes, nothing runs past twice its time limit, and the native
interpreter and the reference agree on every outcome (``codeit.execute.fuzz`` and
``codeit.execute.align`` set aside the known reference behaviours).

The budget is small by default (a few seconds); ``CODEIT_FUZZ_EXAMPLES=N`` runs N examples per
property, and ``--hypothesis-show-statistics`` counts them. ``.ci/run`` also runs this file
against a build of the native module under AddressSanitizer and UBSan.
"""

from __future__ import annotations

import os
import time

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from codeit.dsl import functions as fn
from codeit.dsl import registry
from codeit.dsl.constants import CONSTANTS
from codeit.dsl.generate import GeneratorConfig, random_program
from codeit.dsl.program import INPUT, Line, Program, ProgramArrays, Ref
from codeit.dsl.values import Status

from codeit.execute import native  # a broken build must fail here, never skip
from codeit.execute import fuzz
from codeit.execute.align import align
from codeit.execute.limits import Limits

EXAMPLES = int(os.environ.get("CODEIT_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="CODEIT_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PROGRAM_LIMITS = Limits(time_limit=0.5, max_steps=5_000, max_value_size=50_000, max_memory=32 << 20)
PRIMITIVE_LIMITS = Limits(max_steps=2_000, time_limit=2.0)  # fuzz.reference_call's and native_call's
INTERPRETER = native.NativeInterpreter(threads=1, limits=PROGRAM_LIMITS)


def within_twice(started: float, time_limit: float) -> bool:
    """Whether a call that began at ``started`` returned within twice its time limit (with 50 ms
    for what surrounds the run: conversions, the comparison itself)."""
    return time.perf_counter() - started <= 2 * time_limit + 0.05


# --- values --------------------------------------------------------------------------------------

POOL = fuzz.value_pool(np.random.default_rng(20240611))
PRIMITIVE_VALUES = [spec.function for spec in registry.PRIMITIVES]

ints = st.one_of(st.integers(-3, 12), st.integers(-(2 ** 63), 2 ** 63 - 1),
                 st.sampled_from([2 ** 31 - 1, -(2 ** 31), 2 ** 62, 2 ** 63 - 1, -(2 ** 63)]))
leaves = st.one_of(ints, st.booleans(), st.none(), st.sampled_from(PRIMITIVE_VALUES))


def containers(children: st.SearchStrategy) -> st.SearchStrategy:
    functions = st.sampled_from(PRIMITIVE_VALUES)
    return st.one_of(
        st.lists(children, max_size=4).map(tuple),
        st.frozensets(children, max_size=4),
        st.tuples(st.integers(-2, 12), st.tuples(st.integers(-2, 31), st.integers(-2, 31))),
        st.builds(fn.Compose, children, children),
        st.builds(fn.Chain, children, children, children),
        st.builds(fn.Fork, children, children, children),
        st.builds(fn.Matcher, children, children),
        st.builds(fn.RightBind, functions, children),
        st.builds(fn.LeftBind, functions, children),
        st.builds(fn.Power, children, st.integers(2, 6)),
    )


@st.composite
def grids(draw, max_side: int = 8) -> tuple:
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    colours = draw(st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True))
    cells = draw(st.lists(st.sampled_from(colours), min_size=h * w, max_size=h * w))
    return tuple(tuple(cells[i * w:(i + 1) * w]) for i in range(h))


values = st.one_of(st.sampled_from(POOL), grids(), st.recursive(leaves, containers, max_leaves=10))


@FUZZ
@given(spec=st.sampled_from(registry.PRIMITIVES), data=st.data())
def test_every_primitive_agrees_on_random_values(spec, data):
    args = tuple(data.draw(values, label=f"argument {k}") for k in range(spec.arity))
    started = time.perf_counter()
    outcome = fuzz.compare_primitive(spec.name, args)
    assert within_twice(started, 2 * PRIMITIVE_LIMITS.time_limit)  # two interpreters, one after the other
    assert outcome is None, f"{spec.name}{args!r}: reference {outcome[0]}, native {outcome[1]}"


# --- programs ------------------------------------------------------------------------------------

def refs_before(line: int) -> st.SearchStrategy:
    """Any name line ``line`` may use: the input, an earlier variable, a constant, a primitive."""
    options = [st.just(INPUT), st.sampled_from([Ref("const", c.name) for c in registry.CONSTANTS]),
               st.sampled_from([Ref("prim", p.name) for p in registry.PRIMITIVES])]
    if line > 0:
        options.append(st.integers(0, line - 1).map(lambda k: Ref("var", k)))
    return st.one_of(*options)


@st.composite
def untyped_programs(draw, max_lines: int = 8) -> Program:
    """Well-formed but not type-checked programs: any callee (a constant, the input, a
    primitive with any argument count), any arguments; mostly the error paths."""
    lines = []
    for k in range(draw(st.integers(1, max_lines))):
        callee = draw(refs_before(k))
        if callee.kind == "prim" and draw(st.booleans()):
            n_args = registry.primitive(str(callee.value)).arity
        else:
            n_args = draw(st.integers(0, 4))
        lines.append(Line(callee, tuple(draw(refs_before(k)) for _ in range(n_args))))
    return Program(tuple(lines))


seeds = st.integers(min_value=0, max_value=2 ** 32 - 1)
typed_programs = st.builds(
    lambda seed, chained: random_program(np.random.default_rng(seed), GeneratorConfig(
        max_lines=10, p_call_variable=0.3, p_chain=0.7 if chained else 0.0)),
    seeds, st.booleans())


def assert_aligned(programs, grids_, limits=PROGRAM_LIMITS):
    started = time.perf_counter()
    result = align(programs, grids_, limits=limits, interpreter=INTERPRETER)
    # Two interpreters over every job, each within twice its limit.
    assert within_twice(started, 2 * limits.time_limit * len(result.reference))
    assert not result.mismatches, "\n".join(m.describe(programs) for m in result.mismatches)


@FUZZ
@given(program=st.one_of(typed_programs, untyped_programs()), grid=grids(max_side=12))
def test_random_programs_agree_on_random_grids(program, grid):
    assert_aligned([program], [grid])


@FUZZ
@given(program=st.one_of(typed_programs, untyped_programs()), grid=grids(max_side=12),
       limits=st.builds(Limits, time_limit=st.sampled_from([0.01, 0.2]), max_steps=st.integers(1, 300),
                        max_value_size=st.integers(1, 3_000), max_memory=st.just(32 << 20)))
def test_random_programs_agree_under_tight_limits(program, grid, limits):
    assert_aligned([program], [grid], limits)


# --- program arrays ------------------------------------------------------------------------------

KIND_IDS = st.one_of(
    st.tuples(st.just(0), st.sampled_from([0, 0, 0, 1, -1])),  # the input (id 0), or a bad id
    st.tuples(st.just(1), st.integers(-2, 9)),  # a variable: earlier, later or negative
    st.tuples(st.just(2), st.integers(-1, len(CONSTANTS))),
    st.tuples(st.just(3), st.integers(-1, len(registry.PRIMITIVES))),
    st.tuples(st.integers(-3, 7), st.integers(-5, 200)),
)


@st.composite
def program_arrays(draw) -> ProgramArrays:
    """Arrays in the layout of ``ProgramArrays``: mostly nearly right, often subtly wrong (ids
    out of range, offsets that decrease, run past the arguments or do not start at 0)."""
    n_lines = draw(st.integers(0, 6))
    callee = np.array(draw(st.lists(KIND_IDS, min_size=n_lines, max_size=n_lines)), dtype=np.int32).reshape(-1, 2)
    counts = draw(st.lists(st.integers(0, 4), min_size=n_lines, max_size=n_lines))
    offsets = np.zeros(n_lines + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    n_args = int(offsets[-1])
    if draw(st.integers(0, 3)) == 0:  # now and then, offsets that are anything at all
        offsets = np.array(draw(st.lists(st.integers(-2 ** 31, 2 ** 31 - 1) | st.integers(-2, n_args + 2),
                                         min_size=n_lines + 1, max_size=n_lines + 1)))
    args = np.array(draw(st.lists(KIND_IDS, min_size=n_args, max_size=n_args)), dtype=np.int32).reshape(-1, 2)
    return ProgramArrays(callee=callee, arg_offsets=offsets.astype(np.int32), args=args)


@FUZZ
@given(arrays=program_arrays(), grid=grids(max_side=6))
def test_any_program_arrays_compile_or_are_refused_and_runs_agree(arrays, grid):
    try:
        compiled = INTERPRETER.compile([arrays])
    except ValueError as exc:
        assert str(exc).startswith("program 0: ")
        return
    program = Program.from_arrays(arrays)
    assert compiled.programs == (None,) and len(compiled) == 1
    assert_aligned([program], [grid])


@FUZZ
@given(callee=hnp.arrays(np.int32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)),
       offsets=hnp.arrays(np.int32, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)),
       args=hnp.arrays(np.int32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
def test_arrays_of_any_shape_are_refused_with_a_value_error(callee, offsets, args):
    try:
        INTERPRETER.compile([ProgramArrays(callee=callee, arg_offsets=offsets, args=args)])
    except ValueError as exc:
        assert "program 0: " in str(exc) or "reshape" in str(exc)


# --- values as a program's input -----------------------------------------------------------------

@FUZZ
@given(program=st.one_of(typed_programs, untyped_programs()), value=values)
def test_any_value_as_input_runs_to_a_status(program, value):
    started = time.perf_counter()
    run = INTERPRETER.run_value(program, value)
    assert within_twice(started, PROGRAM_LIMITS.time_limit)
    assert isinstance(run.status, Status) and run.steps <= PROGRAM_LIMITS.max_steps
    if run.status not in (Status.OK, Status.BAD_OUTPUT):
        assert run.output is None
