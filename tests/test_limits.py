"""Limits that hold for both interpreters: every run returns within twice its time limit, its
memory stays under ``Limits.max_memory``, and an int grown past 64 bits is a size fault, the same
in the native interpreter and the reference. Memory is measured in a subprocess (resident size
is a whole process's), so that one test's allocations cannot blur another's."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from codeit.dsl.interpreter import run as reference_run
from codeit.dsl.program import parse
from codeit.dsl.values import Status
from codeit.execute import adversarial
from codeit.execute.backends import make_executor
from codeit.execute.limits import Limits
from codeit.execute.reference import run_reference

from codeit.execute import native  # a broken build must fail here, never skip

GRID = ((1, 2, 0), (0, 1, 2), (2, 0, 1))


# --- ints past 64 bits ---------------------------------------------------------------------------

# TEN squared k times is 10**(2**k): 10**16 fits 64 bits, 10**32 does not (line 3, 4 steps in).
SQUARES = "x1 = fork(multiply, identity, identity)\nx2 = power(x1, FIVE)\nx3 = x2(TEN)\nO = canvas(x3, UNITY)\n"


def test_an_int_grown_past_64_bits_is_a_size_fault_in_both_interpreters():
    r = native.NativeInterpreter(threads=1).run_batch([SQUARES], [GRID])
    ref = reference_run(parse(SQUARES), GRID)
    assert Status(int(r.status[0])) == ref.status == Status.SIZE_LIMIT
    assert int(r.error_line[0]) + 1 == ref.error_line == 3
    assert int(r.steps[0]) == ref.steps == 2 + 5 * 3  # two lines, then five squarings of three steps
    assert "more than 64 bits" in ref.error


@pytest.mark.parametrize("name, args", [
    ("multiply", (2 ** 40, 2 ** 40)), ("multiply", ((2 ** 40, 1), 2 ** 40)), ("add", (2 ** 63 - 1, 1)),
    ("subtract", (-(2 ** 63), 1)), ("divide", (-(2 ** 63), -1)), ("invert", (-(2 ** 63),)),
    ("double", (2 ** 62,)), ("increment", ((0, 2 ** 63 - 1),)), ("decrement", (-(2 ** 63),)),
    ("crement", (2 ** 63 - 1,)),
])
def test_every_arithmetic_primitive_stops_at_64_bits_in_both(name, args):
    from codeit.execute import fuzz

    assert fuzz.reference_call(name, args).status == Status.SIZE_LIMIT
    assert fuzz.native_call(name, args).status == Status.SIZE_LIMIT


def test_arithmetic_within_64_bits_is_exact_in_both():
    from codeit.execute import fuzz

    for name, args, expected in [("multiply", (2 ** 31, 2 ** 31), 2 ** 62), ("add", (2 ** 63 - 2, 1), 2 ** 63 - 1),
                                 ("divide", (-(2 ** 63), 1), -(2 ** 63)), ("invert", (-(2 ** 63) + 1,), 2 ** 63 - 1)]:
        for outcome in (fuzz.reference_call(name, args), fuzz.native_call(name, args)):
            assert outcome.status == Status.OK and outcome.value == expected


# --- memory --------------------------------------------------------------------------------------

MEMORY_SCRIPT = """
    import resource, sys
    import numpy as np
    from codeit.execute.backends import make_executor
    from codeit.execute.limits import Limits
    from codeit.dsl.program import parse

    def peak():  # the most resident memory this process has had, in bytes
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    backend, cap, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    executor = make_executor(backend, limits=Limits(time_limit=20.0, max_steps=10 ** 9, max_memory=cap), threads=1)
    grid = np.arange(900).reshape(30, 30) % 10
    executor.run([parse("O = identity(I)")], [grid], np.array([[0, 0]]))  # every import and first touch done
    before = peak()
    result = executor.run([parse(text)], [grid], np.array([[0, 0]]))
    print(int(result.status[0]), peak() - before)
"""

ROTATIONS = "x1 = multiply(TEN, TEN)\nx2 = multiply(x1, x1)\nx3 = multiply(x2, x2)\nx4 = power(rot90, x3)\nO = x4(I)\n"
DOUBLINGS = "x1 = fork(combine, identity, identity)\nx2 = multiply(FOUR, TEN)\nx3 = power(x1, x2)\nO = x3(I)\n"


def grown_memory(backend: str, cap: int, text: str) -> tuple[Status, int]:
    """The status of ``text`` run alone in a fresh process, and how far it raised the process's
    peak resident memory."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(MEMORY_SCRIPT), backend, str(cap), text],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    status, grown = proc.stdout.split()
    return Status(int(status)), int(grown)


@pytest.mark.slow
@pytest.mark.parametrize("backend, text", [("native", ROTATIONS), ("native", DOUBLINGS), ("reference", DOUBLINGS)])
def test_a_job_that_allocates_without_end_stops_at_its_memory_cap(backend, text):
    cap = 64 << 20
    status, grown = grown_memory(backend, cap, text)
    assert status == Status.SIZE_LIMIT
    # The native arena stops at the cap. The reference samples: it sees a tuple just under the
    # cap, then the next doubling holds it and its double at once, at most three times the cap.
    assert grown <= (cap if backend == "native" else 3 * cap + (16 << 20))


def test_both_interpreters_are_given_the_memory_cap():
    limits = Limits(max_memory=5 << 20)
    assert native.to_native(limits).max_memory == 5 << 20
    # The reference samples its process's resident size: a run that holds far more than 5 MiB
    # for longer than a sample stops with SIZE_LIMIT.
    # 250,000 locations: some 36 MB of Python tuples and ints, in one step.
    text = ("x1 = multiply(TEN, TEN)\nx2 = multiply(x1, FIVE)\nx3 = astuple(x2, x2)\nx4 = canvas(ZERO, x3)\n"
            "x5 = asindices(x4)\nO = canvas(ZERO, UNITY)\n")
    assert run_reference(parse(text), GRID, limits).status == Status.SIZE_LIMIT
    assert run_reference(parse(text), GRID, Limits()).status == Status.OK


# --- time ----------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_every_adversarial_program_returns_within_twice_its_time_limit(backend):
    limits = Limits()
    slow = [run for run in adversarial.overruns(backend, limits) if run.ratio > 2]
    # A run descheduled on a busy machine can look late once: a real overrun is late again.
    late = [run for run in adversarial.overruns(backend, limits, [r.name for r in slow]) if run.ratio > 2]
    assert not late, "; ".join(f"{r.name}: {r.seconds:.2f} s ({r.status.name})" for r in late)


def test_adversarial_programs_return_within_twice_a_short_limit_natively():
    runs = list(adversarial.overruns("native", Limits(time_limit=0.2)))
    assert [run.name for run in runs] == list(adversarial.ADVERSARIAL)
    assert max(run.ratio for run in runs) < 2


def test_the_overrun_script_prints_the_worst_ratio(capsys):
    assert adversarial.main(["--backend", "native", "--search-limits"]) == 0
    out = capsys.readouterr().out
    assert "time limit 0.25 s" in out and "native    worst overrun" in out
