"""The native batch API: job layouts, thread counts, packed outputs, compiled program reuse,
input validation with clear errors, profiling counters, value conversion, the executor adapter."""

import numpy as np
import pytest

from codeit.dsl import functions as fn
from codeit.dsl import registry
from codeit.dsl.interpreter import run as reference_run
from codeit.dsl.program import parse
from codeit.dsl.values import Status

from codeit.execute.limits import Limits
from codeit.execute import native  # a broken build must fail here, never skip

PROGRAMS = [
    "x1 = objects(I, T, F, T)\nx2 = argmax(x1, size)\nO = subgrid(x2, I)\n",
    "O = rot90(I)\n",
    "x1 = upscale(I, TWO)\nO = hconcat(x1, x1)\n",
    "O = size(I)\n",                      # BAD_OUTPUT
    "x1 = first(I)\nO = add(x1, x1)\n",    # TYPE_ERROR on line 2
    "x1 = divide(ONE, ZERO)\nO = canvas(x1, UNITY)\n",  # RUNTIME_ERROR on line 1
]
GRIDS = [
    np.array([[1, 1, 0], [0, 2, 2], [0, 2, 2]], dtype=np.uint8),
    np.array([[3]], dtype=np.uint8),
    np.array([[5, 0, 5, 5], [0, 0, 0, 5]], dtype=np.uint8),
]


def test_cross_product_and_explicit_jobs_agree_with_the_reference():
    interp = native.NativeInterpreter(threads=2)
    cross = interp.run_batch(PROGRAMS, GRIDS)
    assert cross.jobs.tolist() == [[p, g] for p in range(len(PROGRAMS)) for g in range(len(GRIDS))]
    jobs = cross.jobs[::-1].copy()
    explicit = interp.run_batch(PROGRAMS, GRIDS, jobs)
    assert explicit.status.tolist() == cross.status[::-1].tolist()
    assert np.array_equal(explicit.outputs, cross.outputs[::-1])
    for k, (p, g) in enumerate(cross.jobs):
        ref = reference_run(parse(PROGRAMS[p]), GRIDS[g])
        assert Status(int(cross.status[k])) == ref.status
        assert cross.output(k) == ref.output
        assert int(cross.steps[k]) == ref.steps
        line = int(cross.error_line[k])
        assert (line + 1 if line >= 0 else None) == ref.error_line


def test_outputs_are_packed_like_a_grid_batch():
    r = native.NativeInterpreter(threads=1).run_batch(PROGRAMS[:2], GRIDS[:1])
    batch = r.grids
    assert batch.data.shape == (2, 30, 30) and batch.data.dtype == np.uint8
    assert batch.shapes.tolist() == [[2, 1], [3, 3]]  # argmax ties go to the 0-colored object
    assert np.array_equal(batch.grid(1), np.rot90(GRIDS[0], -1))
    assert not batch.data[1, 3:].any() and not batch.data[1, :, 3:].any()
    failed = native.NativeInterpreter(threads=1).run_batch(PROGRAMS[3:], GRIDS[:1])
    assert failed.shapes.tolist() == [[0, 0]] * 3 and not failed.outputs.any()


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_results_do_not_depend_on_the_thread_count(threads):
    from codeit.dsl.generate import GeneratorConfig, random_program

    rng = np.random.default_rng(3)
    programs = [random_program(rng, GeneratorConfig(max_lines=10)) for _ in range(300)]
    grids = [rng.integers(0, 10, size=(int(rng.integers(1, 12)), int(rng.integers(1, 12)))) for _ in range(5)]
    one = native.NativeInterpreter(threads=1).run_batch(programs, grids)
    many = native.NativeInterpreter(threads=threads).run_batch(programs, grids)
    for field in ("status", "steps", "error_line", "shapes", "outputs"):
        assert np.array_equal(getattr(one, field), getattr(many, field)), field


def test_compiled_programs_are_reused_and_accept_every_program_form():
    interp = native.NativeInterpreter(threads=2)
    ir = parse(PROGRAMS[1])
    compiled = interp.compile([PROGRAMS[1], ir, ir.to_arrays()])
    assert len(compiled) == 3
    for _ in range(3):
        r = interp.run_batch(compiled, GRIDS)
        assert (r.status == 0).all()
        n = len(GRIDS)
        assert r.outputs[:n].tolist() == r.outputs[n:2 * n].tolist() == r.outputs[2 * n:].tolist()


def test_malformed_inputs_are_refused_with_the_fault_named():
    interp = native.NativeInterpreter(threads=1)
    arrays = parse(PROGRAMS[1]).to_arrays()
    bad = type(arrays)(callee=arrays.callee, arg_offsets=arrays.arg_offsets, args=np.array([[1, 3]], dtype=np.int32))
    with pytest.raises(ValueError, match="program 0: line 1: variable 3 is not defined by an earlier line"):
        interp.run_batch([bad], GRIDS)
    bad_prim = type(arrays)(callee=np.array([[3, 999]], dtype=np.int32), arg_offsets=arrays.arg_offsets, args=arrays.args)
    with pytest.raises(ValueError, match="unknown primitive id 999"):
        interp.run_batch([bad_prim], GRIDS)
    with pytest.raises(ValueError, match=r"job 1 = \(0, 7\) is out of range"):
        interp.run_batch(PROGRAMS[:1], GRIDS, [[0, 0], [0, 7]])
    with pytest.raises(ValueError, match="grid 0: shape"):
        interp.run_batch(PROGRAMS[:1], [np.zeros((31, 2), dtype=np.uint8)])


def test_limits_can_be_set_per_call():
    interp = native.NativeInterpreter(threads=1, limits=Limits(max_steps=1))
    assert int(interp.run_batch(PROGRAMS[:1], GRIDS[:1]).status[0]) == Status.STEP_LIMIT
    r = interp.run_batch(PROGRAMS[:1], GRIDS[:1], limits=Limits())
    assert int(r.status[0]) == Status.OK


def test_profile_counts_every_primitive_application():
    r = native.NativeInterpreter(threads=2).run_batch(PROGRAMS, GRIDS, profile=True)
    assert r.prim_calls.shape == (160,) and r.prim_nanos.shape == (160,)
    assert int(r.prim_calls.sum()) == int(r.steps.sum())
    objects = registry.primitive("objects").id
    assert r.prim_calls[objects] == len(GRIDS) and r.prim_nanos[objects] > 0
    plain = native.NativeInterpreter(threads=1).run_batch(PROGRAMS, GRIDS)
    assert plain.prim_calls is None


def test_values_cross_the_boundary_both_ways():
    from codeit.dsl import primitives as P

    status, value, steps = native.call_primitive("objects", ((1, 1, 0), (0, 1, 2)), True, False, False)
    assert status == Status.OK and steps == 1
    assert value == P.objects(((1, 1, 0), (0, 1, 2)), True, False, False)
    assert frozenset({(1, (0, 0)), (1, (0, 1)), (1, (1, 1))}) in value
    status, value, _ = native.call_primitive("rbind", registry.primitive("add").function, 1)
    assert value == fn.RightBind(registry.primitive("add").function, 1)
    status, value, _ = native.call_primitive("index", ((1,),), (5, 5))
    assert status == Status.OK and value is None
    assert native.call_primitive("equality", True, 1)[1] is True
    run = native.NativeInterpreter(threads=1).run_value("x1 = compose(size, first)\nO = x1(I)\n", ((1, 2), (3,)))
    assert run.status == Status.BAD_OUTPUT and run.output == 2 and run.steps == 3


def test_native_executor_implements_the_executor_interface():
    from codeit.execute.backends import make_executor
    from codeit.execute.executor import cross_jobs
    from codeit.execute.reference import ReferenceExecutor

    programs = [parse(p) for p in PROGRAMS]
    jobs = cross_jobs(len(programs), range(len(GRIDS)))
    executor = make_executor("native", limits=Limits(), threads=2)
    assert isinstance(executor, native.NativeExecutor)
    got = executor.run(programs, GRIDS, jobs)
    want = ReferenceExecutor(limits=Limits()).run(programs, GRIDS, jobs)
    assert got.status.tolist() == want.status.tolist()
    assert got.steps.tolist() == want.steps.tolist()
    assert np.array_equal(got.outputs.data, want.outputs.data) and np.array_equal(got.outputs.shapes, want.outputs.shapes)
