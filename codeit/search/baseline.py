"""CodeIt's mutation baseline: mutate the seeds, run every mutant on every search task, count solved.

Mutants are grown in blocks (valid on their own seed's task, see ``codeit.search.mutate``); every
valid mutant drawn is kept (those past a block wait in the state for the next one). A block is
scored on every search task: with the native interpreter through :class:`SharedScorer` (the
mutants of one seed share the lines they have in common, a task stops at a mutant's first failed
demonstration, tests run only for candidates), otherwise every mutant on every input
(:meth:`SearchSet.score`); the two give the same candidates (``bench/mutate.py`` checks it).
A task's candidates are its top 3 programs by demo accuracy, then shortest; a task is solved
when one of them gets every test output right. Seeds are not candidates: they are scored apart,
as budget 0, to show what the mutants add. After every block the folder holds the state to resume from:

- ``mutants.jsonl``: every mutant scored, in order (task of its seed, program text);
- ``state.json``: mutants scored, mutants drawn but not yet scored, the random generator's state,
  each task's selected candidates, the counters of ``summary.json``;
- ``solved.csv``: tasks solved against mutants scored (mutants, tasks_solved, seconds);
- ``curve.csv``: the same rows at CodeIt's budgets with the tasks solved and how (``id:all`` when
  the solving candidate gets every demonstration right, ``id:partial`` otherwise), seeds as 0;
- ``summary.json``: wall time, mutants drawn/valid/duplicate, program runs and their outcomes.
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from codeit.dsl.program import Program, parse
from codeit.dsl.values import Status
from codeit.run.scoreboard import Scoreboard
from codeit.execute.executor import Executor, cross_jobs
from codeit.grids import GridBatch, pack
from codeit.search.mutate import MutationConfig, Mutant, grow_mutants
from codeit.search.shared import SharedScorer, union_program  # noqa: F401 (union_program: re-exported)
from codeit.relabel import Candidate, relabel
from codeit.tasks import Task

BUDGETS = (9_600, 19_200, 38_400, 76_800, 278_400, 604_800, 979_200, 1_430_400)
"""CodeIt's mutation budgets (its mutation baseline's table)."""

AUTHORS_DEPTH1 = (28, 32, 35, 40, 41, 43, 42, 42)
"""Tasks solved at each of ``BUDGETS`` by CodeIt's depth-1 mutation baseline on ARC-AGI-1 evaluation."""

OUTCOMES = {"ok": Status.OK, "error": (Status.TYPE_ERROR, Status.RUNTIME_ERROR, Status.BAD_OUTPUT),
            "step": Status.STEP_LIMIT, "time": Status.TIMEOUT, "size": Status.SIZE_LIMIT}


@dataclass(frozen=True)
class BaselineResult:
    mutants: int
    solved: list[str]
    rows: list[dict]
    seconds: float
    summary: dict = field(default_factory=dict)


def report_points(total: int, budgets: tuple[int, ...] = BUDGETS) -> list[int]:
    """Mutant counts at which tasks solved are reported: CodeIt's budgets below ``total``, then ``total``."""
    return [b for b in budgets if b < total] + [total]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _candidate_json(c: Candidate) -> dict:
    return {"task_id": c.task_id, "program": c.program, "demo_accuracy": c.demo_accuracy,
            "test_correct": c.test_correct, "length": c.length}


def _candidate_from_json(d: dict) -> Candidate:
    return Candidate(d["task_id"], d["program"], d["demo_accuracy"], d["test_correct"], d["length"], ())


def solved_how(board: Scoreboard) -> list[str]:
    """Each solved task as ``id:all`` (its solving candidate gets every demonstration right) or ``id:partial``."""
    out = []
    for task_id in board.solved():
        c = next(c for c in board.selected(task_id) if c.test_correct)
        out.append(f"{task_id}:{'all' if c.demo_accuracy == 1.0 else 'partial'}")
    return out


def curve_row(mutants: int, board: Scoreboard, seconds: float) -> dict:
    how = solved_how(board)
    return {"mutants": mutants, "tasks_solved": len(how), "solved_all_demos": sum(h.endswith(":all") for h in how),
            "solved_partial_demos": sum(h.endswith(":partial") for h in how), "seconds": round(seconds, 1),
            "tasks": " ".join(how)}


def outcome_counts(runs_by_status: np.ndarray) -> dict[str, int]:
    """Program runs by outcome (ok, error, step, time, size limits) from counts by status code."""
    out = {}
    for name, codes in OUTCOMES.items():
        codes = codes if isinstance(codes, tuple) else (codes,)
        out[name] = int(sum(int(runs_by_status[int(c)]) for c in codes))
    return out


class SearchSet:
    """The search tasks' inputs (and known outputs) packed once; scores programs on every task."""

    def __init__(self, tasks: list[Task]):
        self.tasks = tasks
        self.grids = [pair.input for task in tasks for pair in task.pairs]
        self.starts = np.cumsum([0] + [len(t.pairs) for t in tasks])
        self._packed: tuple | None = None

    def score(self, programs: list, texts: list[str], executor: Executor, board: Scoreboard,
              chunk: int = 64) -> list[Candidate]:
        """Run ``programs`` on every search input (``chunk`` programs per call) and add their candidates.

        The straightforward evaluation: every program on every input, then each task's slice
        relabelled. :meth:`score_shared` gives the same candidates with far fewer runs."""
        n_grids = len(self.grids)
        found: list[Candidate] = []
        for c0 in range(0, len(programs), chunk):
            part, part_texts = programs[c0 : c0 + chunk], texts[c0 : c0 + chunk]
            result = executor.run(part, self.grids, cross_jobs(len(part), np.arange(n_grids)))
            for k, task in enumerate(self.tasks):
                a, b = int(self.starts[k]), int(self.starts[k + 1])
                index = (np.arange(len(part))[:, None] * n_grids + np.arange(a, b)[None, :]).reshape(-1)
                outputs = GridBatch(result.outputs.data[index], result.outputs.shapes[index])
                r = relabel(task, part_texts, result.status[index], outputs, with_experiences=False)
                found.extend(r.candidates)
        board.add(found)
        return found

    def packed(self) -> tuple:
        """(input data, input shapes, target data, target shapes, task offsets, demos per task) for the native side."""
        if self._packed is None:
            from codeit.execute.native import pack_grids

            data, shapes = pack_grids(self.grids)
            targets = pack([pair.output for task in self.tasks for pair in task.pairs])
            self._packed = (data, shapes, targets.data, targets.shapes,
                            self.starts.astype(np.int32), np.array([len(t.train) for t in self.tasks], np.int32))
        return self._packed

    def score_shared(self, groups: list[list[tuple[Program, str]]], scorer: SharedScorer,
                     board: Scoreboard) -> list[Candidate]:
        """Score groups of related programs (each group the mutants of one seed: (program, text))
        with shared work (``native/interp/search.hpp``), and add their candidates.

        Exactly the candidates :meth:`score` finds, without the test outputs (the baseline
        needs only whether they are right)."""
        members = [m for group in groups for m in group]
        valid, right, test = scorer.run(groups, self)
        n_demo = np.array([len(t.train) for t in self.tasks], dtype=np.float64)
        found = []
        for m, t in zip(*np.nonzero(valid.astype(bool) & (right > 0))):
            program, text = members[m]
            task = self.tasks[t]
            found.append(Candidate(task.id, text, float(np.float32(right[m, t] / n_demo[t])), bool(test[m, t]),
                                   len(program.lines), ()))
        board.add(found)
        return found


def _group_by_seed(mutants: list[Mutant]) -> list[list[tuple[Program, str]]]:
    groups: dict[str, list[tuple[Program, str]]] = {}
    for m in mutants:
        groups.setdefault(m.task_id, []).append((m.program, m.text))
    return list(groups.values())


def score_block(mutants: list[Mutant], search: SearchSet, executor: Executor, board: Scoreboard,
                scorer: SharedScorer | None) -> list[Candidate]:
    """Score one block of mutants on the search set: shared when a scorer is given, else straightforward."""
    if scorer is not None:
        return search.score_shared(_group_by_seed(mutants), scorer, board)
    return search.score([m.program for m in mutants], [m.text for m in mutants], executor, board)


def run_baseline(
    seeds: list,
    seed_tasks: dict[str, Task],
    search_tasks: list[Task],
    n_mutants: int,
    out_dir: Path,
    executor: Executor,
    *,
    seed: int = 0,
    chunk: int = 9_600,
    config: MutationConfig = MutationConfig(),
    progress: Callable[[int, int, int], None] | None = None,
    shared: bool | None = None,
) -> BaselineResult:
    """Run (or resume, from ``out_dir``) the baseline up to ``n_mutants`` mutants, ``chunk`` a block.

    ``shared``: score through :class:`SharedScorer` (default: when the executor is native, or Ray: then on
    its actors)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mutants_path, state_path = out_dir / "mutants.jsonl", out_dir / "state.json"
    rng = np.random.default_rng(seed)
    board = Scoreboard()
    evaluated, elapsed = 0, 0.0
    rows: list[dict] = []
    curve: list[dict] = []
    pending: list[Mutant] = []
    counts = {"drawn": 0, "duplicates": 0, "run_on_seed_task": 0, "valid": 0, "runs": [0] * 8, "nodes": 0,
              "scoring_seconds": 0.0, "growing_seconds": 0.0}
    if state_path.exists():
        state = json.loads(state_path.read_text())
        rng.bit_generator.state = state["rng"]
        evaluated, elapsed, rows = state["evaluated"], state["seconds"], state["rows"]
        curve = state.get("curve", [])
        pending = [Mutant(d["task_id"], parse(d["program"]), d["program"]) for d in state.get("pending", [])]
        counts.update(state.get("counts", {}))
        board.add(_candidate_from_json(d) for d in state["candidates"])
    # Mutants past the last saved state were written but not scored: drop them, the generator's
    # saved state (and the pending list) regrows the same ones.
    kept: list[dict] = []
    if mutants_path.exists():
        kept = [json.loads(line) for line in mutants_path.read_text().splitlines()[:evaluated]]
    _atomic_write(mutants_path, "".join(json.dumps({"task_id": d["task_id"], "program": d["program"]}) + "\n"
                                        for d in kept))
    seen = {d["program"] for d in kept} | {m.text for m in pending}
    search = SearchSet(search_tasks)
    use_shared = executor.name in ("native", "ray") if shared is None else shared
    scorer = None
    if use_shared:
        # The Ray executor scores on its actors (codeit.execute.ray.RayShardedScorer), the same candidates.
        sharded = getattr(executor, "sharded_scorer", None)
        scorer = sharded() if sharded is not None else SharedScorer(executor.limits, getattr(executor, "threads", 1))
    if not curve:
        # Budget 0: the seeds themselves, scored apart (they are not the mutants' candidates).
        seeds_board = Scoreboard()
        from codeit.dsl.program import print_program

        seed_mutants = [Mutant(s.task_id, s.program, print_program(s.program)) for s in seeds]
        if seed_mutants:
            score_block(seed_mutants, search, executor, seeds_board, scorer)
        if scorer is not None:
            scorer.runs[:] = 0
            scorer.nodes = 0
        curve.append(curve_row(0, seeds_board, 0.0))
    points = [p for p in report_points(n_mutants) if p > evaluated]
    started = time.perf_counter() - elapsed

    def save() -> None:
        candidates = [c for t in search_tasks for c in board.selected(t.id)]
        _atomic_write(state_path, json.dumps({
            "evaluated": evaluated, "seconds": elapsed, "rng": rng.bit_generator.state, "rows": rows,
            "curve": curve, "pending": [{"task_id": m.task_id, "program": m.text} for m in pending], "counts": counts,
            "candidates": [_candidate_json(c) for c in candidates]}))
        with open(out_dir / "solved.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["mutants", "tasks_solved", "seconds"])
            writer.writeheader()
            writer.writerows(rows)
        with open(out_dir / "curve.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(curve[0]))
            writer.writeheader()
            writer.writerows(curve)
        _atomic_write(out_dir / "summary.json", json.dumps(baseline_summary(
            evaluated, elapsed, counts, len(search.grids), executor, use_shared), indent=1) + "\n")

    while evaluated < n_mutants:
        want = min(chunk, points[0] - evaluated)
        if len(pending) < want:
            t0 = time.perf_counter()
            new, stats = grow_mutants(seeds, seed_tasks, want - len(pending), executor, rng, config,
                                      batch_size=max(want - len(pending), 64), seen=seen, keep_extra=True,
                                      with_outputs=False)
            if not new:
                raise RuntimeError("no valid mutant could be grown from the seeds")
            pending.extend(new)
            counts["drawn"] += stats.generated
            counts["duplicates"] += stats.duplicates
            counts["run_on_seed_task"] += stats.run
            counts["valid"] += stats.kept
            counts["growing_seconds"] += time.perf_counter() - t0
        block, pending = pending[:want], pending[want:]
        t0 = time.perf_counter()
        score_block(block, search, executor, board, scorer)
        counts["scoring_seconds"] += time.perf_counter() - t0
        if scorer is not None:
            counts["runs"] = [a + int(b) for a, b in zip(counts["runs"], scorer.runs)]
            counts["nodes"] += scorer.nodes
            scorer.runs[:] = 0
            scorer.nodes = 0
        with open(mutants_path, "a") as f:
            f.writelines(json.dumps({"task_id": m.task_id, "program": m.text}) + "\n" for m in block)
        evaluated += len(block)
        elapsed = time.perf_counter() - started
        while points and evaluated >= points[0]:
            point = points.pop(0)
            rows.append({"mutants": point, "tasks_solved": len(board.solved()), "seconds": round(elapsed, 1)})
            curve.append(curve_row(point, board, elapsed))
        save()
        if progress is not None:
            progress(evaluated, n_mutants, len(board.solved()))
    save()
    return BaselineResult(evaluated, board.solved(), rows, time.perf_counter() - started,
                          baseline_summary(evaluated, elapsed, counts, len(search.grids), executor, use_shared))


def baseline_summary(evaluated: int, seconds: float, counts: dict, n_inputs: int, executor: Executor,
                     shared: bool) -> dict:
    """What a baseline run did: mutants, program runs and their outcomes, rates."""
    runs = int(sum(counts["runs"]))
    return {
        "mutants_scored": evaluated,
        "wall_seconds": round(seconds, 1),
        "mutants_per_s": round(evaluated / seconds, 1) if seconds > 0 else None,
        "mutants_drawn": counts["drawn"],
        "mutants_valid": counts["valid"],
        "mutants_duplicate": counts["duplicates"],
        "mutants_run_on_seed_task": counts["run_on_seed_task"],
        "scoring": "shared (native/interp/search.hpp)" if shared else "every mutant on every input",
        "program_runs": runs if shared else evaluated * n_inputs,
        "program_runs_per_s": round((runs if shared else evaluated * n_inputs) / seconds) if seconds > 0 else None,
        "program_runs_per_scoring_s": round((runs if shared else evaluated * n_inputs) / counts["scoring_seconds"])
        if counts["scoring_seconds"] > 0 else None,
        "program_runs_without_sharing": evaluated * n_inputs,
        "run_outcomes": outcome_counts(np.array(counts["runs"])) if shared else None,
        "lines_computed": counts["nodes"] if shared else None,
        "growing_seconds": round(counts["growing_seconds"], 1),
        "scoring_seconds": round(counts["scoring_seconds"], 1),
        "seeds_scored": "apart, as budget 0 in curve.csv (not the mutants' candidates)",
        "executor": executor.name,
    }
