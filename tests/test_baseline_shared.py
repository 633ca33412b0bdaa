"""The mutation baseline's shared scoring (native/interp/search.hpp) against the straightforward one,
the curve it reports, and resuming it after a kill."""

import io
import json

import numpy as np
import pytest
from codeit.dsl.program import parse, print_program

from codeit.commands.mutate import Progress
from codeit.execute.limits import SEARCH_LIMITS, Limits
from codeit.execute.native import NativeExecutor
from codeit.run.scoreboard import Scoreboard
from codeit.search.baseline import (
    SearchSet,
    SharedScorer,
    _group_by_seed,
    report_points,
    run_baseline,
    union_program,
)
from codeit.search.mutate import grow_mutants
from codeit.tasks import load_tasks


class Seed:
    def __init__(self, task_id, text):
        self.task_id, self.program = task_id, parse(text)


SEEDS = [Seed("67a3c6ac", "O = vmirror(I)"), Seed("68b16354", "O = hmirror(I)"), Seed("6150a2bd", "O = rot180(I)"),
         Seed("3c9b0459", "x1 = rot90(I)\nx2 = vmirror(x1)\nx3 = hmirror(x2)\nO = rot270(x3)")]
SEARCH = ("68b16354", "3c9b0459", "74dd1130", "67a3c6ac", "6150a2bd", "9dfd6313", "a416b8f3", "c8f0f002")


@pytest.fixture(scope="module")
def training():
    return {t.id: t for t in load_tasks("arc1/training")}


def candidates(board, tasks):
    return [(c.task_id, c.program, c.demo_accuracy, c.test_correct, c.length)
            for t in tasks for c in board.selected(t.id)]


def both_ways(texts_by_seed, tasks, limits=SEARCH_LIMITS):
    """Boards of the straightforward and the shared scoring of the same programs."""
    search = SearchSet(tasks)
    groups = [[(parse(t), print_program(parse(t))) for t in texts] for texts in texts_by_seed]
    plain, shared = Scoreboard(), Scoreboard()
    members = [m for g in groups for m in g]
    search.score([p for p, _ in members], [t for _, t in members], NativeExecutor(limits=limits, threads=2), plain)
    scorer = SharedScorer(limits, 2)
    search.score_shared(groups, scorer, shared)
    return plain, shared, scorer


def test_union_program_shares_lines_and_each_member_reads_back(training):
    a = parse("x1 = rot90(I)\nx2 = vmirror(x1)\nO = hmirror(x2)")
    b = parse("x1 = rot90(I)\nx2 = vmirror(x1)\nO = dmirror(x2)")
    c = parse("x1 = rot180(I)\nx2 = vmirror(x1)\nO = hmirror(x2)")
    union, members = union_program([a, b, c])
    # a: 3 lines; b shares two of them; c shares none (its first line differs, so do the others).
    assert len(union.lines) == 3 + 1 + 3
    assert members[0] == [0, 1, 2] and members[1] == [0, 1, 3] and members[2] == [4, 5, 6]
    from codeit.dsl.program import Line, Program, Ref

    for program, ids in zip([a, b, c], members):
        position = {node: k for k, node in enumerate(ids)}
        rebuilt = Program(tuple(
            Line(union.lines[n].func, tuple(Ref("var", position[r.value]) if r.kind == "var" else r
                                            for r in union.lines[n].args)) for n in ids))
        assert print_program(rebuilt) == print_program(program)


def test_shared_scoring_selects_the_same_candidates(training):
    tasks = [training[t] for t in SEARCH]
    texts = [
        ["O = vmirror(I)", "O = hmirror(I)", "O = rot90(I)", "O = dmirror(I)", "x1 = rot90(I)\nO = rot90(x1)"],
        ["x1 = rot90(I)\nx2 = vmirror(x1)\nO = hmirror(x2)", "x1 = rot90(I)\nx2 = vmirror(x1)\nO = rot270(x2)",
         "x1 = rot90(I)\nx2 = hmirror(x1)\nO = rot270(x2)", "x1 = rot90(I)\nx2 = vmirror(x1)\nO = cmirror(x2)"],
        # Failing programs: an empty grid (a bad output) on every input, errors on some.
        ["O = crop(I, ORIGIN, ORIGIN)", "x1 = first(I)\nO = vmirror(x1)",
         "x1 = objects(I, T, F, T)\nx2 = first(x1)\nO = subgrid(x2, I)"],
    ]
    plain, shared, scorer = both_ways(texts, tasks)
    assert plain.solved() == shared.solved() and len(shared.solved()) >= 4
    assert candidates(plain, tasks) == candidates(shared, tasks)
    # The always-failing program ran once per task (its first demonstration), not on every input.
    n_inputs = sum(len(t.pairs) for t in tasks)
    assert scorer.runs.sum() < sum(len(g) for g in texts) * n_inputs
    assert scorer.runs[6] >= len(tasks)  # BAD_OUTPUT: at least the crop program on each task


def test_a_shared_line_still_counts_toward_each_programs_step_budget(training):
    tasks = [training["3c9b0459"], training["6150a2bd"]]
    # Four one-step lines: within 4 steps it solves 3c9b0459, within 3 it is a step-limit failure,
    # though each of its lines alone takes one step (and the shorter program shares them).
    long = "x1 = rot90(I)\nx2 = rot90(x1)\nx3 = vmirror(x2)\nO = vmirror(x3)"
    short = "x1 = rot90(I)\nO = rot90(x1)"
    for steps, solved_by_long in ((4, True), (3, False)):
        limits = Limits(time_limit=1.0, max_steps=steps)
        plain, shared, scorer = both_ways([[short, long]], tasks, limits)
        assert candidates(plain, tasks) == candidates(shared, tasks)
        long_text = print_program(parse(long))
        assert any(c.program == long_text for t in tasks for c in shared.selected(t.id)) == solved_by_long
        assert (scorer.runs[2] > 0) == (not solved_by_long)  # STEP_LIMIT


def test_run_search_refuses_a_member_that_reads_a_node_it_does_not_list(training):
    from codeit.execute.native import CompiledPrograms, _interp, to_native

    search = SearchSet([training["68b16354"]])
    union, _ = union_program([parse("x1 = rot90(I)\nO = vmirror(x1)")])
    compiled = CompiledPrograms([union])
    pool = _interp.Pool(1)
    args = search.packed()

    def call(member_offsets, node_offsets, nodes):
        return pool.run_search(compiled.native, np.array(member_offsets, np.int32), np.array(node_offsets, np.int32),
                               np.array(nodes, np.int32), *args, to_native(SEARCH_LIMITS))

    ok = call([0, 1], [0, 2], [0, 1])
    assert ok["valid"].shape == (1, 1) and ok["demos_right"][0, 0] == 0
    with pytest.raises(ValueError, match="does not list before it"):
        call([0, 1], [0, 1], [1])
    with pytest.raises(ValueError, match="is not a line of group"):
        call([0, 1], [0, 2], [0, 7])
    with pytest.raises(ValueError, match="no nodes"):
        call([0, 1], [0, 0], [])
    with pytest.raises(ValueError, match="node_offsets"):
        call([0, 1], [0, 5], [0, 1])
    with pytest.raises(TypeError, match="int32"):
        pool.run_search(compiled.native, np.array([0, 1], np.int64), np.array([0, 2], np.int32),
                        np.array([0, 1], np.int32), *args, to_native(SEARCH_LIMITS))


def test_grown_mutants_score_the_same_both_ways(training):
    seeds = [Seed("67a3c6ac", "O = vmirror(I)"),
             Seed("3c9b0459", "x1 = rot90(I)\nx2 = vmirror(x1)\nx3 = hmirror(x2)\nO = rot270(x3)")]
    mutants, _ = grow_mutants(seeds, training, 60, NativeExecutor(limits=SEARCH_LIMITS, threads=1),
                              np.random.default_rng(4), batch_size=64, with_outputs=False)
    assert all(m.outputs == () for m in mutants)
    tasks = [training[t] for t in SEARCH]
    search = SearchSet(tasks)
    plain, shared = Scoreboard(), Scoreboard()
    search.score([m.program for m in mutants], [m.text for m in mutants], NativeExecutor(limits=SEARCH_LIMITS), plain)
    search.score_shared(_group_by_seed(mutants), SharedScorer(SEARCH_LIMITS, 2), shared)
    assert candidates(plain, tasks) == candidates(shared, tasks)


def test_report_points_are_codeits_budgets():
    assert report_points(1_430_400) == [9_600, 19_200, 38_400, 76_800, 278_400, 604_800, 979_200, 1_430_400]
    assert report_points(100_000) == [9_600, 19_200, 38_400, 76_800, 100_000]


class Killed(Exception):
    pass


def test_a_killed_run_resumes_to_the_same_curve(tmp_path, training):
    search = [training[t] for t in ("68b16354", "3c9b0459", "74dd1130")]
    executor = NativeExecutor(limits=SEARCH_LIMITS, threads=1)
    straight = run_baseline(SEEDS, training, search, 30, tmp_path / "a", executor, chunk=7, seed=2)

    def kill_after_two_blocks(done, total, solved):
        if done >= 14:
            raise Killed

    with pytest.raises(Killed):
        run_baseline(SEEDS, training, search, 30, tmp_path / "b", executor, chunk=7, seed=2,
                     progress=kill_after_two_blocks)
    assert json.loads((tmp_path / "b" / "state.json").read_text())["evaluated"] == 14
    resumed = run_baseline(SEEDS, training, search, 30, tmp_path / "b", executor, chunk=7, seed=2)
    assert resumed.solved == straight.solved and resumed.mutants == 30
    for name in ("mutants.jsonl",):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    curve = (tmp_path / "b" / "curve.csv").read_text().splitlines()
    assert curve[0] == "mutants,tasks_solved,solved_all_demos,solved_partial_demos,seconds,tasks"
    assert curve[1].startswith("0,") and curve[-1].startswith("30,")
    last = curve[-1].split(",")
    assert int(last[1]) == len(straight.solved) == int(last[2]) + int(last[3])
    assert sorted(h.split(":")[0] for h in last[5].split()) == straight.solved
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["mutants_scored"] == 30 and summary["mutants_valid"] >= 30
    assert summary["mutants_drawn"] >= summary["mutants_valid"] + summary["mutants_duplicate"] - 1
    assert sum(summary["run_outcomes"].values()) == summary["program_runs"] > 0


def test_progress_in_a_log_is_plain_lines_without_carriage_returns():
    log = io.StringIO()
    progress = Progress(1000, stream=log)
    for done in range(100, 1001, 100):
        progress(done, 1000, 3)
    progress.close()
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 2 and lines[-1].startswith("mutation baseline: 1,000/1,000 mutants (100.0%), 3 solved")
