import numpy as np
import pytest

from codeit.run.scoreboard import Scoreboard, select, solved_tasks
from codeit.grids import pack
from codeit.relabel import Candidate, relabel
from codeit.tasks import Pair, Task


def g(*rows):
    return np.array(rows, dtype=np.uint8)


TASK = Task(
    "t1",
    train=(Pair(g([1, 0]), g([0, 1])), Pair(g([2, 0]), g([0, 2]))),
    test=(Pair(g([3, 0]), g([0, 3])),),
)

MIRROR = "O = vmirror(I)"
IDENTITY = "O = identity(I)"
LONG_MIRROR = "x1 = vmirror(I)\nx2 = vmirror(x1)\nO = vmirror(x2)"
FAILS = "O = crash(I)"


def results(per_program):
    """Flatten per-program lists of (status, grid) over the task's 3 inputs."""
    statuses = np.array([s for prog in per_program for s, _ in prog], dtype=np.int32)
    outputs = pack([grid for prog in per_program for _, grid in prog])
    return statuses, outputs


def test_priorities_are_demo_accuracy_and_outputs_are_realized():
    programs = [MIRROR, IDENTITY, FAILS]
    statuses, outputs = results(
        [
            [(0, g([0, 1])), (0, g([0, 2])), (0, g([0, 3]))],
            [(0, g([1, 0])), (0, g([2, 0])), (0, g([3, 0]))],
            [(5, None), (5, None), (5, None)],
        ]
    )
    r = relabel(TASK, programs, statuses, outputs)
    assert r.valid.tolist() == [True, True, False]
    assert r.demo_accuracy.tolist() == [1.0, 0.0, 0.0]
    by_program = {e.program: e for e in r.experiences}
    assert set(by_program) == {MIRROR, IDENTITY}
    assert by_program[MIRROR].demo_accuracy == 1.0 == by_program[MIRROR].priority
    assert by_program[IDENTITY].priority == 0.0 and by_program[IDENTITY].origin == "policy"
    assert [o.tolist() for o in by_program[IDENTITY].outputs] == [[[1, 0]], [[2, 0]]]
    assert [c.program for c in r.candidates] == [MIRROR]
    assert r.candidates[0].test_correct


def test_duplicate_outputs_keep_the_shortest_program_and_respect_seen():
    programs = [LONG_MIRROR, MIRROR]
    runs = [(0, g([0, 1])), (0, g([0, 2])), (0, g([0, 3]))]
    statuses, outputs = results([runs, runs])
    seen = set()
    r = relabel(TASK, programs, statuses, outputs, seen_hashes=seen)
    assert [e.program for e in r.experiences] == [MIRROR]
    again = relabel(TASK, programs, statuses, outputs, seen_hashes=seen)
    assert again.experiences == []


def test_a_program_failing_one_demo_is_not_relabeled():
    statuses, outputs = results([[(0, g([0, 1])), (6, None), (0, g([0, 3]))]])
    r = relabel(TASK, [MIRROR], statuses, outputs)
    assert r.experiences == [] and r.candidates == []


def test_result_count_mismatch_names_the_task():
    statuses, outputs = results([[(0, g([0, 1]))]])
    with pytest.raises(ValueError, match="task t1: expected 3 job results"):
        relabel(TASK, [MIRROR], statuses, outputs)


def cand(task, program, acc, correct, length):
    return Candidate(task, program, acc, correct, length, ())


def test_selection_is_top3_by_accuracy_then_length():
    cs = [
        cand("a", "p1", 1.0, False, 5),
        cand("a", "p2", 1.0, False, 3),
        cand("a", "p3", 1.0, False, 4),
        cand("a", "p4", 1.0, True, 6),  # right, but ranked 4th: not selected
        cand("b", "q1", 0.5, True, 2),
        cand("b", "q2", 1.0, False, 9),
    ]
    assert [c.program for c in select(cs)["a"]] == ["p2", "p3", "p1"]
    assert solved_tasks(cs) == ["b"]
    board = Scoreboard()
    board.add(cs[:3])
    board.add(cs[3:])
    assert board.solved() == ["b"]
    board.add([cand("a", "p0", 1.0, True, 1)])
    assert board.solved() == ["a", "b"]
    assert [c.program for c in board.selected("a")] == ["p0", "p2", "p3"]
