"""Hard limits of the native interpreter: programs built to blow up end with SIZE_LIMIT,
STEP_LIMIT or TIMEOUT inside their budget (and, where the reference can answer, with its
status); deep recursion fails like Python's RecursionError; random well-formed programs under
random limits never crash the process (run in a subprocess, so a crash fails the test)."""

import subprocess
import sys
import textwrap
import time

import pytest

from codeit.dsl.interpreter import run as reference_run
from codeit.dsl.program import parse
from codeit.dsl.values import Status

from codeit.execute.limits import Limits
from codeit.execute import native  # a broken build must fail here, never skip

GRID3 = ((1, 2, 0), (0, 1, 2), (2, 0, 1))
GRID30 = tuple(tuple((i * j) % 10 for j in range(30)) for i in range(30))

# 10**2, 10**4, 10**8 from the constants.
POWERS = "x1 = multiply(TEN, TEN)\nx2 = multiply(x1, x1)\nx3 = multiply(x2, x2)\n"

BLOW_UPS = {
    "repeated upscaling": ("x1 = upscale(I, TEN)\nx2 = upscale(x1, TEN)\nx3 = upscale(x2, TEN)\nO = upscale(x3, TEN)\n",
                           Status.SIZE_LIMIT, 2),
    "huge product": (POWERS + "x4 = interval(ZERO, x2, ONE)\nO = product(x4, x4)\n", Status.SIZE_LIMIT, 4),
    "long interval": (POWERS + "O = interval(ZERO, x3, ONE)\n", Status.SIZE_LIMIT, 3),
    "huge canvas": (POWERS + "x4 = astuple(x2, x2)\nO = canvas(ZERO, x4)\n", Status.SIZE_LIMIT, 4),
    "huge repeat": (POWERS + "O = repeat(I, x3)\n", Status.SIZE_LIMIT, 3),
    "huge hupscale": (POWERS + "O = hupscale(I, x3)\n", Status.SIZE_LIMIT, 3),
    "huge vupscale": (POWERS + "O = vupscale(I, x3)\n", Status.SIZE_LIMIT, 3),
    "huge prapply": (POWERS + "x4 = interval(ZERO, x2, ONE)\nO = prapply(astuple, x4, x4)\n", Status.SIZE_LIMIT, 4),
    "huge backdrop": (POWERS + "x4 = astuple(x2, x2)\nx5 = initset(x4)\nx6 = insert(ORIGIN, x5)\nO = backdrop(x6)\n",
                      Status.SIZE_LIMIT, 6),
    "deep power": (POWERS + "x4 = power(increment, x3)\nO = x4(ZERO)\n", Status.STEP_LIMIT, 4),
    "power of a power": (POWERS + "x4 = power(increment, x3)\nx5 = power(x4, x3)\nO = x5(ONE)\n",
                         Status.STEP_LIMIT, 5),
}


@pytest.mark.parametrize("name", list(BLOW_UPS))
def test_blow_ups_stop_at_their_limit_like_the_reference(name):
    text, status, line = BLOW_UPS[name]
    limits = Limits(time_limit=10.0)
    t0 = time.perf_counter()
    r = native.NativeInterpreter(threads=1, limits=limits).run_batch([text], [GRID3])
    elapsed = time.perf_counter() - t0
    assert Status(int(r.status[0])) == status and int(r.error_line[0]) == line
    assert elapsed < 5.0  # stopped by its limit, not by running to completion
    if status == Status.STEP_LIMIT:
        assert int(r.steps[0]) == limits.max_steps
    ref = reference_run(parse(text), GRID3, max_steps=limits.max_steps, time_limit=10.0)
    assert ref.status == status and ref.error_line == line + 1 and ref.steps == int(r.steps[0])


def test_a_long_loop_inside_one_primitive_times_out():
    # manhattan of two 10,000-cell patches: 10**8 distances in one step.
    text = "x1 = multiply(TEN, TEN)\nx2 = astuple(x1, x1)\nx3 = canvas(ZERO, x2)\nx4 = asindices(x3)\nO = manhattan(x4, x4)\n"
    t0 = time.perf_counter()
    r = native.NativeInterpreter(threads=1).run_batch([text], [GRID3], limits=Limits(time_limit=0.05))
    assert Status(int(r.status[0])) == Status.TIMEOUT and int(r.error_line[0]) == 4
    assert time.perf_counter() - t0 < 5.0


def test_many_cheap_steps_time_out():
    text = POWERS + "x4 = power(increment, x3)\nO = x4(ZERO)\n"
    limits = Limits(time_limit=0.05, max_steps=10 ** 9)
    t0 = time.perf_counter()
    r = native.NativeInterpreter(threads=1).run_batch([text], [GRID3], limits=limits)
    assert Status(int(r.status[0])) == Status.TIMEOUT and int(r.error_line[0]) == 4
    assert 0 < int(r.steps[0]) < 10 ** 8
    assert time.perf_counter() - t0 < 5.0


def test_the_step_budget_counts_every_primitive_application():
    text = "x1 = power(increment, FIVE)\nx2 = x1(ZERO)\nO = canvas(x2, UNITY)\n"
    for max_steps, status in [(7, Status.OK), (6, Status.STEP_LIMIT), (2, Status.STEP_LIMIT)]:
        r = native.NativeInterpreter(threads=1).run_batch([text], [GRID3], limits=Limits(max_steps=max_steps))
        assert Status(int(r.status[0])) == status
        ref = reference_run(parse(text), GRID3, max_steps=max_steps)
        assert ref.status == status and ref.steps == int(r.steps[0])


def test_a_job_past_its_memory_cap_ends_with_size_limit():
    # 1,000 canvases of a million cells: each within the size cap, a gigabyte together.
    text = POWERS + "x4 = multiply(x1, TEN)\nx5 = astuple(x4, x4)\nx6 = repeat(x5, x4)\nx7 = lbind(canvas, ZERO)\nO = apply(x7, x6)\n"
    r = native.NativeInterpreter(threads=1).run_batch([text], [GRID3],
                                                     limits=Limits(time_limit=10.0, max_memory=64 << 20))
    assert Status(int(r.status[0])) == Status.SIZE_LIMIT and int(r.error_line[0]) == 7


def test_deep_function_nesting_fails_like_a_recursion_error():
    text = ("x1 = rbind(compose, increment)\nx2 = multiply(TEN, TEN)\nx3 = multiply(x2, TEN)\n"
            "x4 = multiply(x3, TWO)\nx5 = power(x1, x4)\nx6 = x5(increment)\nx7 = x6(ONE)\nO = canvas(x7, UNITY)\n")
    r = native.NativeInterpreter(threads=1).run_batch([text], [GRID3])
    ref = reference_run(parse(text), GRID3)
    assert ref.status == Status.RUNTIME_ERROR == Status(int(r.status[0]))
    assert ref.error_line == int(r.error_line[0]) + 1 == 7


def test_deeply_nested_values_fail_like_a_recursion_error():
    text = "x1 = multiply(TEN, TEN)\nx2 = multiply(x1, TEN)\nx3 = power(initset, x2)\nx4 = x3(ONE)\nO = identity(I)\n"
    r = native.NativeInterpreter(threads=1).run_batch([text], [GRID3])
    ref = reference_run(parse(text), GRID3)
    assert ref.status == Status.RUNTIME_ERROR == Status(int(r.status[0]))
    assert ref.error_line == int(r.error_line[0]) + 1 == 4


CRASH_SCRIPT = textwrap.dedent("""
    import os, resource, sys
    if "asan" not in os.environ.get("LD_PRELOAD", ""):  # ASan reserves terabytes of address space
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
    import numpy as np
    from codeit.dsl.generate import GeneratorConfig, random_program
    from codeit.execute.limits import Limits
    from codeit.execute.native import NativeInterpreter
    rng = np.random.default_rng(int(sys.argv[1]))
    grids = [rng.integers(0, 10, size=(int(rng.integers(1, 31)), int(rng.integers(1, 31)))) for _ in range(24)]
    config = GeneratorConfig(max_lines=20, p_call_variable=0.4, p_constant=0.5)
    interp = NativeInterpreter(threads=3)
    total = 0
    for batch in range(6):
        programs = [random_program(rng, config) for _ in range(400)]
        limits = Limits(max_steps=int(rng.choice([50, 2000, 100000])), time_limit=float(rng.choice([0.01, 0.2])),
                        max_value_size=int(rng.choice([100, 5000, 1000000])),
                        max_memory=int(rng.choice([1 << 20, 64 << 20])))
        r = interp.run_batch(programs, grids, limits=limits)
        assert set(np.unique(r.status).tolist()) <= set(range(7))
        assert ((r.status == 0) == (r.shapes[:, 0] > 0)).all()
        total += len(r)
    print("ran", total)
""")


@pytest.mark.slow
def test_random_programs_under_random_limits_never_crash_the_process():
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, "7"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ran 57600" in proc.stdout
