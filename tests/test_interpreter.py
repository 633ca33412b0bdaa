"""The reference interpreter: results, step counts, and every status code."""

import numpy as np
import pytest

from codeit.dsl import interpreter
from codeit.dsl.interpreter import RunResult, run, run_on_task
from codeit.dsl.program import parse
from codeit.dsl.values import Status

GRID = ((0, 0, 1), (0, 2, 2), (3, 0, 0))


GRID8 = tuple(tuple((i + j) % 3 for j in range(8)) for i in range(8))


def run_text(text, grid=GRID, **limits):
    return run(parse(text), grid, **limits)


def test_ok_run_gives_the_output_grid():
    r = run_text("x1 = rot90(I)\nO = hmirror(x1)")
    assert r == RunResult(Status.OK, ((0, 2, 1), (0, 2, 0), (3, 0, 0)), None, None, 2)
    assert r.ok


def test_numpy_and_tuple_inputs_give_the_same_result():
    program = parse("x1 = objects(I, T, F, T)\nx2 = argmax(x1, size)\nO = subgrid(x2, I)")
    a = run(program, np.array(GRID, dtype=np.uint8))
    b = run(program, GRID)
    assert a == b and a.ok and a.output == ((2, 2),)
    assert all(type(v) is int for row in a.output for v in row)


def test_bool_cells_are_reported_as_ints():
    r = run_text("O = canvas(T, UNITY)")
    assert r.ok and r.output == ((1,),) and type(r.output[0][0]) is int


def test_steps_count_every_primitive_application():
    # compose line: 1 step; calling the composition: size and first, 2 steps; fork: 3 + 1
    assert run_text("x1 = compose(size, first)\nx2 = x1(I)\nO = canvas(x2, UNITY)").steps == 1 + 2 + 1
    assert run_text("x1 = fork(add, height, width)\nx2 = x1(I)\nO = canvas(ONE, UNITY)").steps == 1 + 3 + 1
    # apply calls its function once per element
    assert run_text("x1 = apply(size, I)\nO = canvas(ONE, UNITY)").steps == 1 + 3 + 1


LOOP = """x1 = rbind(add, ONE)
x2 = multiply(TEN, TEN)
x3 = multiply(x2, x2)
x4 = multiply(x3, x3)
x5 = power(x1, x4)
x6 = x5(ZERO)
O = canvas(x6, UNITY)
"""


def test_step_limit():
    r = run_text(LOOP, max_steps=1000, time_limit=None)
    assert r.status == Status.STEP_LIMIT and r.error_line == 6 and r.steps == 1000
    assert r.output is None and "step" in r.error


def test_timeout():
    r = run_text(LOOP, max_steps=10**12, time_limit=0.05)
    assert r.status == Status.TIMEOUT and r.error_line == 6


def test_size_limit_on_a_line_result():
    r = run_text("x1 = asindices(I)\nO = fill(I, ONE, x1)", max_value_size=20)
    assert r.status == Status.SIZE_LIMIT and r.error_line == 1  # 9 pairs: size 28
    assert run_text("x1 = asindices(I)\nO = fill(I, ONE, x1)", max_value_size=28).ok


def test_size_limit_before_building():
    big = np.zeros((30, 30), dtype=np.uint8)
    r = run_text("x1 = asindices(I)\nx2 = product(x1, x1)\nO = fill(I, ONE, x2)", big)
    assert r.status == Status.SIZE_LIMIT and r.error_line == 2


def test_type_error():
    r = run_text("x1 = first(I)\nO = x1(I)")  # a row is not a function; the checker cannot know
    assert r.status == Status.TYPE_ERROR and r.error_line == 2 and r.error
    r = run_text("x1 = initset(size)\nx2 = first(x1)\nO = x2(I, I)")  # size called with 2
    assert r.status == Status.TYPE_ERROR and r.error_line == 3


def test_runtime_errors():
    r = run_text("x1 = divide(ONE, ZERO)\nO = canvas(x1, UNITY)")
    assert r.status == Status.RUNTIME_ERROR and r.error_line == 1 and "division" in r.error
    r = run_text("x1 = objects(I, T, F, T)\nx2 = sizefilter(x1, TEN)\nx3 = first(x2)\nO = subgrid(x3, I)")
    assert r.status == Status.RUNTIME_ERROR and r.error_line == 3


def test_error_line_is_the_source_line():
    r = run_text("# comment\n\nx1 = divide(ONE, ZERO)\n\nO = canvas(x1, UNITY)")
    assert r.error_line == 3


def test_recursion_error_is_a_runtime_error():
    deep = """x1 = multiply(TEN, TEN)
x2 = multiply(x1, TEN)
x3 = multiply(x2, FIVE)
x4 = power(initset, x3)
x5 = x4(ONE)
O = canvas(ZERO, UNITY)
"""
    r = run_text(deep, time_limit=5.0)
    assert r.status == Status.RUNTIME_ERROR and r.error_line == 5 and "Recursion" in r.error


def test_memory_error_is_caught(monkeypatch):
    def exhausted(value, limit=None):
        raise MemoryError("simulated")
    monkeypatch.setattr(interpreter, "value_size", exhausted)
    r = run_text("O = rot90(I)")
    assert r.status == Status.RUNTIME_ERROR and r.error_line == 1 and "MemoryError" in r.error


@pytest.mark.parametrize("text", [
    "O = size(I)",                         # an integer
    "O = asindices(I)",                    # a set
    "O = upscale(I, FOUR)",                # 32x32: too big
    "O = replace(I, ZERO, TEN)",           # a colour out of 0..9
    "O = crop(I, ORIGIN, ORIGIN)",         # empty
    "x1 = rbind(add, ONE)\nO = identity(x1)",  # a function
])
def test_bad_output(text):
    r = run_text(text, GRID8)
    assert r.status == Status.BAD_OUTPUT and r.output is None and r.error_line is None and "O is" in r.error


def test_bad_input_does_not_raise():
    r = run(parse("O = rot90(I)"), [[1, 2], [3]])
    assert r.status != Status.OK and r.error.startswith("input")
    r = run(parse("O = rot90(I)"), np.zeros((2, 2, 2)))
    assert r.status != Status.OK


def test_run_on_task_reports_every_pair():
    from codeit.tasks import load_task

    task = load_task("007bbfb7", "arc1/training")
    program = parse("""x1 = upscale(I, THREE)
x2 = hconcat(I, I)
x3 = hconcat(x2, I)
x4 = vconcat(x3, x3)
x5 = vconcat(x4, x3)
O = cellwise(x1, x5, ZERO)
""")
    result = run_on_task(program, task)
    assert result.task_id == "007bbfb7" and result.solved
    assert len(result.train) == len(task.train) and len(result.test) == len(task.test)
    assert all(p.matches for p in result.pairs)
    wrong = run_on_task(parse("O = rot90(I)"), task)
    assert not wrong.solved and not any(p.matches for p in wrong.pairs)
    assert all(p.result.ok for p in wrong.pairs)


def test_run_on_task_accepts_tuple_pairs():
    class T:
        id = "t"
        train = [(np.array([[1, 2]]), np.array([[2, 1]]))]
        test = [(np.array([[3, 4]]), None)]
    result = run_on_task(parse("O = vmirror(I)"), T)
    assert result.pairs[0].matches and result.pairs[1].expected is None and result.solved


# --- codeit exec --------------------------------------------------------------------------------

SEED_007 = "x1 = upscale(I, THREE)\nx2 = hconcat(I, I)\nx3 = hconcat(x2, I)\nx4 = vconcat(x3, x3)\nx5 = vconcat(x4, x3)\nO = cellwise(x1, x5, ZERO)\n"


def test_exec_solved_program_from_a_file(tmp_path, capsys):
    from codeit.cli import main

    path = tmp_path / "p.dsl"
    path.write_text(SEED_007)
    assert main(["exec", str(path), "--task", "007bbfb7", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "train 0: match" in out and "expected" in out and "produced" in out
    assert "(solved)" in out
    # the expected and produced grids stand side by side: a row of digits, twice
    assert any(len(line.split()) == 2 and line.split()[0] == line.split()[1] and line.split()[0].isdigit()
               for line in out.splitlines())


def test_exec_reports_mismatches_and_failures(capsys):
    from codeit.cli import main

    assert main(["exec", "O = rot90(I)", "--task", "007bbfb7", "--color", "never"]) == 1
    assert "MISMATCH" in capsys.readouterr().out
    assert main(["exec", "x1 = divide(ONE, ZERO)\nO = canvas(x1, UNITY)", "--task", "007bbfb7"]) == 1
    assert "RUNTIME_ERROR at line 1" in capsys.readouterr().out


def test_exec_bad_program_exits_2_naming_the_line(capsys):
    from codeit.cli import main

    assert main(["exec", "x1 = rot90(I)\nO = frob(x1)", "--task", "007bbfb7"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "unknown name 'frob'" in err


def test_exec_unknown_task_exits_2(capsys):
    from codeit.cli import main

    assert main(["exec", "O = rot90(I)", "--task", "00000000", "--tasks", "arc1/training"]) == 2
    assert "00000000" in capsys.readouterr().err
