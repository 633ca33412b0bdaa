"""Bad input at the native module's boundary: every array, offset, length, type, depth and limit
the bindings take from Python is checked before native code reads it, and a bad one raises a
Python exception that names the fault. Checks that crashed the process before (a stack overflow,
a read past an array) run in a subprocess, so that a crash fails the test instead of pytest."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from codeit import _interp
from codeit.dsl import functions as fn
from codeit.dsl import registry
from codeit.dsl.program import ProgramArrays, parse
from codeit.dsl.values import Status

from codeit.execute.limits import Limits
from codeit.execute import native  # a broken build must fail here, never skip

GRID = ((1, 2), (3, 4))
IDENTITY = parse("O = identity(I)\n").to_arrays()


def run_isolated(script: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``script`` in a fresh interpreter: a crash there is a return code here."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=timeout)


def nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = (value,)
    return value


# --- values --------------------------------------------------------------------------------------

DEEP_VALUES = """
    from codeit.execute import native

    def nested(depth):
        value = 1
        for _ in range(depth):
            value = (value,)
        return value

    class DeepKey:  # any object with an order_key is read as a function value's key
        def __init__(self, depth):
            self.depth = depth
        def order_key(self):
            key = (0, 1)
            for _ in range(self.depth):
                key = (1, (key,))
            return key

    interp = native.NativeInterpreter(threads=1)
    for depth in (1_000, 30_000, 50_000):
        for name, call in [("call_primitive", lambda v: native.call_primitive("identity", v)),
                           ("run_value", lambda v: interp.run_value("O = identity(I)", v))]:
            for what, value in [("tuple", nested(depth)), ("key", DeepKey(depth))]:
                try:
                    call(value)
                    print(name, what, depth, "accepted")
                except Exception as exc:
                    print(name, what, depth, type(exc).__name__, str(exc)[:80])
"""


def test_values_nested_past_the_depth_limit_raise_a_value_error_not_a_crash():
    proc = run_isolated(DEEP_VALUES)
    assert proc.returncode == 0, f"crashed with {proc.returncode}: {proc.stderr[-1500:]}"
    lines = proc.stdout.splitlines()
    assert len(lines) == 12, proc.stdout
    for line in lines:
        assert " ValueError a value nested more than 900 levels deep" in line, line


def test_a_value_at_the_depth_limit_still_converts():
    status, value, _ = native.call_primitive("identity", nested(898))
    assert status == Status.OK and value == nested(898)
    with pytest.raises(ValueError, match="nested more than 900 levels"):
        native.call_primitive("identity", nested(901))


def test_a_value_too_big_for_the_memory_cap_is_refused_by_name():
    big = tuple(range(100_000))  # 1.6 MB of native values
    with pytest.raises(ValueError, match="argument 0 does not fit the job's memory cap"):
        native.call_primitive("identity", big, limits=Limits(max_memory=1 << 20))
    with pytest.raises(ValueError, match="the input does not fit the job's memory cap"):
        native.NativeInterpreter(threads=1).run_value("O = identity(I)", big, limits=Limits(max_memory=1 << 20))


@pytest.mark.parametrize("value, error, message", [
    (2 ** 64, ValueError, "does not fit 64 bits"),
    ("text", TypeError, "not a DSL value: str"),
    ([1, 2], TypeError, "not a DSL value: list"),
    (1.5, TypeError, "not a DSL value: float"),
])
def test_what_is_no_dsl_value_is_refused_by_name(value, error, message):
    with pytest.raises(error, match=message):
        native.call_primitive("identity", (value,))


class Key:
    def __init__(self, key):
        self.key = key

    def order_key(self):
        return self.key


@pytest.mark.parametrize("key, error, message", [
    (5, TypeError, "an order key must be a tuple"),
    ((3,), TypeError, "an order key must be a tuple of at least 2"),
    ((9, 1), ValueError, "not an order key: category 9"),
    ((0, 2 ** 70), ValueError, "does not fit 64 bits"),
    ((3, (0, 999)), ValueError, "unknown primitive id 999"),
    ((3, (1, (3, (0, 1)))), ValueError, "must have 2 parts, got 1"),
    ((3, (4, (0, 1), (0, 1))), TypeError, "bound function part is not a function"),
    ((3, (6, (3, (0, 1)), "n")), TypeError, "power's count key must be a tuple"),
    ((3, (42, (0, 1))), ValueError, "unknown function key tag 42"),
])
def test_malformed_function_keys_are_refused_by_name(key, error, message):
    with pytest.raises(error, match=message):
        native.call_primitive("identity", Key(key))


def test_a_returned_function_too_deep_for_python_is_refused_by_name():
    # rbind(compose, increment) applied 2,000 times: compose(compose(... increment)) 2,000 deep.
    text = ("x1 = rbind(compose, increment)\nx2 = multiply(TEN, TEN)\nx3 = multiply(x2, TEN)\n"
            "x4 = multiply(x3, TWO)\nx5 = power(x1, x4)\nO = x5(increment)\n")
    with pytest.raises(ValueError, match="nested more than 900 levels"):
        native.NativeInterpreter(threads=1).run_value(text, GRID)


# --- programs ------------------------------------------------------------------------------------

def arrays(offsets, args=((0, 0),), callee=((3, registry.primitive("identity").id),) * 2):
    return (np.array(callee, dtype=np.int32), np.array(offsets, dtype=np.int32),
            np.array(args, dtype=np.int32).reshape(-1, 2))


OFFSETS_PAST_THE_ARGUMENTS = """
    import numpy as np
    from codeit import _interp
    callee = np.array([[3, 0], [3, 0]], dtype=np.int32)
    for offsets in ([0, 2 ** 31 - 1, 1], [0, 1 << 28, 1], [0, 5, 1]):
        try:
            _interp.ProgramSet([(callee, np.array(offsets, dtype=np.int32), np.array([[0, 0]], dtype=np.int32))])
            print("accepted")
        except ValueError as exc:
            print(exc)
"""


def test_arg_offsets_past_the_arguments_are_refused_before_any_read():
    proc = run_isolated(OFFSETS_PAST_THE_ARGUMENTS)
    assert proc.returncode == 0, f"crashed with {proc.returncode}: {proc.stderr[-1500:]}"
    assert proc.stdout.splitlines() == ["program 0: line 1: arg_offsets run past the 1 arguments"] * 3


PACKED_PAST_THE_ARGUMENTS = """
    from dataclasses import replace
    import numpy as np
    from codeit.execute.native import CompiledPrograms
    from codeit.execute.packing import pack_programs
    packed = pack_programs(["x1 = rot90(I)\\nO = hmirror(x1)\\n"] * 2)
    for counts in ([2 ** 31 - 1, 3 - 2 ** 31, 1, 1], [1 << 28, 2 - (1 << 28), 1, 1], [-1, 3, 1, 1], [5, 0, 1, 1]):
        bad = replace(packed, arg_count=np.array(counts, dtype=np.int32))
        try:
            CompiledPrograms([bad.program(0)])
            print("accepted")
        except ValueError as exc:
            print(exc)
"""


def test_packed_programs_with_corrupt_arg_counts_are_refused_before_any_read():
    # What a Ray worker unpacks (codeit.execute.packing) reaches the same checks.
    proc = run_isolated(PACKED_PAST_THE_ARGUMENTS)
    assert proc.returncode == 0, f"crashed with {proc.returncode}: {proc.stderr[-1500:]}"
    assert proc.stdout.splitlines() == ["program 0: line 1: arg_offsets run past the 2 arguments"] * 2 + [
        "program 0: line 1: arg_offsets decrease", "program 0: arg_offsets do not span the argument array"]


@pytest.mark.parametrize("offsets, message", [
    ([1, 1, 1, 1], "arg_offsets do not span the argument array"),
    ([0, 1, 0, 1], "line 2: arg_offsets decrease"),
    ([0, 1], r"arg_offsets must be int32\[n_lines \+ 1\]"),
])
def test_malformed_arg_offsets_are_refused_by_name(offsets, message):
    with pytest.raises(ValueError, match=message):
        _interp.ProgramSet([arrays(offsets, callee=((3, registry.primitive("identity").id),) * 3)])


@pytest.mark.parametrize("item, error, message", [
    ([np.zeros((1, 2), np.int32)] * 3, TypeError, "program 0: expected a tuple"),
    ((np.zeros((1, 2), np.int32),) * 2, TypeError, "program 0: expected a tuple"),
    ((np.zeros((1, 2), np.int64), np.zeros(2, np.int32), np.zeros((0, 2), np.int32)), TypeError,
     "program 0: callee must have dtype int32, got int64"),
    ((np.zeros((1, 2), np.int32), [0, 0], np.zeros((0, 2), np.int32)), TypeError,
     "program 0: arg_offsets must be a numpy array of int32, got list"),
    ((np.zeros((1, 2), np.int32), np.zeros(2, np.int32), np.zeros((4, 3), np.int32)[:, :2]), ValueError,
     "program 0: args must be C-contiguous"),
    ((np.zeros((1, 3), np.int32), np.zeros(2, np.int32), np.zeros((0, 2), np.int32)), ValueError,
     r"callee must be int32\[n_lines, 2\]"),
])
def test_program_arrays_of_the_wrong_type_or_shape_are_refused_by_name(item, error, message):
    with pytest.raises(error, match=message):
        _interp.ProgramSet([item])


@pytest.mark.parametrize("field, values, error, message", [
    ("arg_offsets", np.array([0, 2 ** 32 + 1], dtype=np.int64), ValueError, "arg_offsets holds values outside int32"),
    ("callee", np.array([[3, 2 ** 33]], dtype=np.int64), ValueError, "callee holds values outside int32"),
    ("args", np.array([[0.0, 0.5]]), TypeError, "args must hold integers, got dtype float64"),
])
def test_program_arrays_a_cast_would_change_are_refused(field, values, error, message):
    parts = {"callee": IDENTITY.callee, "arg_offsets": IDENTITY.arg_offsets, "args": IDENTITY.args, field: values}
    with pytest.raises(error, match=message):
        native.NativeInterpreter(threads=1).run_batch([ProgramArrays(**parts)], [GRID])


# --- batches -------------------------------------------------------------------------------------

def test_jobs_a_cast_would_change_are_refused():
    interp = native.NativeInterpreter(threads=1)
    with pytest.raises(ValueError, match="jobs holds values outside int32"):
        interp.run_batch(["O = identity(I)\n"], [GRID], np.array([[2 ** 32, 0]], dtype=np.int64))
    with pytest.raises(TypeError, match="jobs must hold integers"):
        interp.run_batch(["O = identity(I)\n"], [GRID], np.array([[0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"jobs must be rows of \(program index, grid index\)"):
        interp.run_batch(["O = identity(I)\n"], [GRID], np.zeros((2, 3), dtype=np.int32))


def test_batch_arrays_of_the_wrong_type_are_refused_by_name():
    pool = _interp.Pool(1)
    programs = _interp.ProgramSet([(IDENTITY.callee, IDENTITY.arg_offsets, IDENTITY.args)])
    data, shapes = native.pack_grids([GRID])
    limits = native.to_native(Limits())
    with pytest.raises(TypeError, match="grid_data must have dtype uint8, got int64"):
        pool.run_batch(programs, data.astype(np.int64), shapes, None, limits)
    with pytest.raises(TypeError, match="grid_shapes must have dtype int32"):
        pool.run_batch(programs, data, shapes.astype(np.float32), None, limits)
    with pytest.raises(TypeError, match="jobs must be a numpy array of int32, got list"):
        pool.run_batch(programs, data, shapes, [[0, 0]], limits)
    with pytest.raises(ValueError, match="grid_shapes must be int32"):
        pool.run_batch(programs, data, shapes[:0], None, limits)
    out = pool.run_batch(programs, data, shapes, np.zeros((0, 2), np.int32), limits)
    assert len(out["status"]) == 0


# --- limits and pools ----------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("time_limit", float("inf")), ("time_limit", float("nan")), ("time_limit", 0.0), ("time_limit", 1e7),
    ("max_steps", 0), ("max_value_size", -1), ("max_memory", 0), ("max_depth", 0), ("max_depth", 10 ** 6),
])
def test_native_limits_out_of_range_are_refused_by_name(field, value):
    limits = _interp.Limits()
    with pytest.raises(ValueError, match=f"Limits.{field} must be"):
        setattr(limits, field, value)


@pytest.mark.parametrize("field, value", [("time_limit", float("inf")), ("time_limit", 1e7), ("max_depth", 10 ** 6)])
def test_python_limits_out_of_range_are_refused_by_name(field, value):
    with pytest.raises(ValueError, match=f"Limits.{field} must be"):
        Limits(**{field: value})


def test_a_pool_of_absurd_size_is_refused_before_any_thread_starts():
    proc = run_isolated("""
        from codeit import _interp
        for threads in (10 ** 6, 0, -3):
            try:
                _interp.Pool(threads)
                print("accepted")
            except ValueError as exc:
                print(exc)
    """, timeout=60)
    assert proc.returncode == 0, f"crashed with {proc.returncode}: {proc.stderr[-1500:]}"
    assert [line.split(",")[0] for line in proc.stdout.splitlines()] == ["Pool threads must be in [1"] * 3


def test_the_deepest_call_nesting_allowed_fits_a_worker_threads_stack():
    # compose(compose(... increment)) 9,000 deep, called under the largest max_depth: 9,000
    # nested native calls on a pool's worker thread (and on the calling one), then a clean end.
    proc = run_isolated("""
        from codeit.execute import native
        from codeit.execute.limits import MAX_DEPTH, Limits
        text = ("x1 = rbind(compose, increment)\\nx2 = multiply(TEN, TEN)\\nx3 = multiply(x2, x2)\\n"
                "x4 = subtract(x3, 1000)\\nx5 = power(x1, x4)\\nx6 = x5(increment)\\nx7 = x6(ONE)\\n"
                "O = canvas(ZERO, UNITY)\\n").replace("1000", "x2")
        limits = Limits(max_depth=MAX_DEPTH, max_steps=10 ** 6, time_limit=20.0)
        r = native.NativeInterpreter(threads=2, limits=limits).run_batch([text] * 4, [((0,),)])
        print(r.status.tolist())
    """)
    assert proc.returncode == 0, f"crashed with {proc.returncode}: {proc.stderr[-1500:]}"
    assert proc.stdout.split() == ["[0,", "0,", "0,", "0]"]
