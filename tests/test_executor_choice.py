"""One Limits carried whole to every backend; the executor in use is the one asked for, and a
native module that cannot load is an error with the rebuild command, never a silent fallback."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from codeit.dsl.program import parse
from codeit.dsl.values import Status
from codeit.execute import native
from codeit.execute.backends import make_executor
from codeit.execute.executor import cross_jobs
from codeit.execute.limits import Limits
from codeit.execute.reference import ReferenceExecutor

SEED = "dsl/seeds/007bbfb7.dsl"
GRID = np.array([[1, 2], [3, 4]])
DEEP = ("x1 = rbind(compose, increment)\nx2 = power(x1, FIVE)\nx3 = power(x2, FOUR)\nx4 = x3(increment)\n"
        "x5 = x4(ONE)\nO = canvas(ZERO, UNITY)\n")  # function values nested 20+ deep


def test_limits_are_keyword_only_and_checked():
    with pytest.raises(TypeError):
        Limits(1.0)  # noqa: the positional form that dropped fields before
    with pytest.raises(ValueError, match="max_depth"):
        Limits(max_depth=0)
    with pytest.raises(ValueError, match="time_limit"):
        Limits(time_limit=0)


def test_every_field_reaches_the_native_limits():
    limits = Limits(time_limit=0.5, max_steps=123, max_value_size=4567, max_memory=89 << 20, max_depth=12)
    lim = native.to_native(limits)
    for f in dataclasses.fields(Limits):
        assert getattr(lim, f.name) == pytest.approx(getattr(limits, f.name)), f.name
    assert make_executor("native", limits=limits, threads=1).limits == limits


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_max_depth_holds_in_both_interpreters(backend):
    program = parse(DEEP)
    jobs = cross_jobs(1, [0])
    shallow = make_executor(backend, limits=Limits(max_depth=8)).run([program], [GRID], jobs)
    deep = make_executor(backend, limits=Limits(max_depth=200)).run([program], [GRID], jobs)
    assert Status(int(shallow.status[0])) == Status.RUNTIME_ERROR
    assert Status(int(deep.status[0])) == Status.OK


def test_max_steps_holds_in_the_reference_executor():
    program = parse(open(SEED).read())
    r = ReferenceExecutor(limits=Limits(max_steps=2)).run([program], [GRID], cross_jobs(1, [0]))
    assert Status(int(r.status[0])) == Status.STEP_LIMIT


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="native, reference"):
        make_executor("auto")


def test_exec_names_the_executor_it_uses():
    proc = subprocess.run([sys.executable, "-m", "codeit.cli", "exec", SEED, "--task", "007bbfb7"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "executor: native" in proc.stderr


STALE = textwrap.dedent("""
    import sys, types
    import codeit._interp as real
    stale = types.ModuleType("codeit._interp")
    stale.__dict__.update(real.__dict__)
    stale.PRIMITIVES = list(reversed(real.PRIMITIVES))  # a build from another registry
    sys.modules["codeit._interp"] = stale
    import codeit
    codeit._interp = stale
    from codeit.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("executor", ["native", "reference"])
def test_a_stale_native_build_fails_with_the_rebuild_command(executor):
    proc = subprocess.run([sys.executable, "-c", STALE, "exec", SEED, "--task", "007bbfb7", "--executor", executor],
                          capture_output=True, text=True, timeout=120)
    if executor == "reference":  # asked for by name: the native module is not needed
        assert proc.returncode == 0, proc.stderr
        assert "executor: reference" in proc.stderr
        return
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "rebuild" in proc.stderr and "pip install" in proc.stderr
