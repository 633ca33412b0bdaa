"""Properties over generated programs: text round trips, runs never raise, static types are sound."""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from codeit.dsl import registry
from codeit.dsl.constants import CONSTANTS
from codeit.dsl.functions import Budget, FunctionValue, active
from codeit.dsl.generate import GeneratorConfig, random_program
from codeit.dsl.interpreter import run
from codeit.dsl.program import Program, ProgramError, check, parse, print_program
from codeit.dsl.types import shape_of_value
from codeit.dsl.values import Status, is_valid_arc_grid

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def grids(draw):
    h = draw(st.integers(1, 12))
    w = draw(st.integers(1, 12))
    colours = draw(st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True))
    cells = draw(st.lists(st.sampled_from(colours), min_size=h * w, max_size=h * w))
    return np.array(cells, dtype=np.uint8).reshape(h, w)


def program_from(seed: int) -> Program:
    return random_program(np.random.default_rng(seed), GeneratorConfig(max_lines=10))


@SETTINGS
@given(seeds)
def test_print_parse_round_trip(seed):
    program = program_from(seed)
    text = print_program(program)
    assert parse(text) == program
    assert print_program(parse(text)) == text
    assert Program.from_arrays(program.to_arrays()) == program


@SETTINGS
@given(seeds)
def test_generated_programs_are_well_formed(seed):
    program = program_from(seed)
    assert 1 <= len(program.lines) <= 10
    check(program)


@SETTINGS
@given(seeds, grids())
def test_run_never_raises_and_results_are_consistent(seed, grid):
    program = program_from(seed)
    result = run(program, grid, max_steps=5_000, time_limit=0.1, max_value_size=100_000)
    assert isinstance(result.status, Status)
    assert result.steps <= 5_000
    if result.status == Status.OK:
        assert is_valid_arc_grid(result.output) and result.error is None
    else:
        assert result.output is None and result.error
    if result.error_line is not None:
        assert 1 <= result.error_line <= len(program.lines)


def _value(ref, grid, values):
    if ref.kind == "var":
        return values[ref.value]
    if ref.kind == "input":
        return grid
    if ref.kind == "const":
        return CONSTANTS[ref.value]
    return registry.primitive(ref.value).function


@SETTINGS
@given(seeds, grids())
def test_static_types_hold_for_runtime_values(seed, grid):
    """A primitive given values of the shapes its parameters accept returns a value of the shape
    the checker inferred for its line (and function values have the inferred arity).

    Checking stops at the first line whose arguments are outside their parameters' shapes (the
    checker lets through what merely might be wrong; what such a call returns is not typed),
    and at the first higher-order call, whose inner calls may be ill-typed in the same way.
    """
    program = program_from(seed)
    infos = check(program)
    g = tuple(tuple(int(v) for v in row) for row in grid)
    values = []
    with active(Budget(max_steps=5_000, max_value_size=100_000)):
        for line, info in zip(program.lines, infos):
            if line.func.kind != "prim":
                return
            spec = registry.primitive(line.func.value)
            args = [_value(a, g, values) for a in line.args]
            if not all(shape_of_value(a) & t.shapes for a, t in zip(args, spec.annotated_param_types)):
                return
            if spec.takes_callable and not spec.returns_callable:
                return  # what apply, valmax, ... return depends on calls this test does not type
            try:
                value = spec.function(*args)
            except Exception:
                return  # the run fails here; nothing later to compare
            assert shape_of_value(value) & info.type.shapes, (print_program(program), line, info, value)
            if isinstance(value, FunctionValue) and info.arity is not None:
                assert value.arity == info.arity, (print_program(program), line)
            values.append(value)


@SETTINGS
@given(st.lists(st.sampled_from(list("xIO1 =(),.*#\n'\"[]") + ["size", "fill", "ONE", "x1", "rbind", "O = "]),
               max_size=40).map("".join))
def test_parse_raises_only_program_errors(text):
    try:
        program = parse(text)
    except ProgramError as e:
        assert e.line >= 1 and e.reason
    else:
        check(program)
