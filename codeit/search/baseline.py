"""CodeIt's mutation baseline: mutate the seeds, run every mutant on every search task, count solved.

Mutants are grown in chunks (valid on their own seed's task, see ``codeit.search.mutate``), then each
chunk runs on every input of every search task in one executor call; a task's candidates are its
top 3 programs by demo accuracy, then shortest; a task is solved when one of them gets every test
output right. After every chunk the folder holds the state to resume from:

- ``mutants.jsonl``: every mutant kept, in order (task of its seed, program text);
- ``state.json``: mutants evaluated, the random generator's state, each task's selected candidates;
- ``solved.csv``: tasks solved against mutants generated, at 9,600, 19,200, 38,400, ... (and the end).
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from codeit.dsl.program import parse
from codeit.run.scoreboard import Scoreboard
from codeit.execute.executor import Executor, cross_jobs
from codeit.grids import GridBatch
from codeit.search.mutate import MutationConfig, Mutant, grow_mutants
from codeit.relabel import Candidate, relabel
from codeit.tasks import Task

FIRST_REPORT = 9_600


@dataclass(frozen=True)
class BaselineResult:
    mutants: int
    solved: list[str]
    rows: list[dict]
    seconds: float


def report_points(total: int, first: int = FIRST_REPORT) -> list[int]:
    """Mutant counts at which tasks solved are reported: first, doubling, and the total."""
    points, n = [], first
    while n < total:
        points.append(n)
        n *= 2
    return points + [total]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _candidate_json(c: Candidate) -> dict:
    return {"task_id": c.task_id, "program": c.program, "demo_accuracy": c.demo_accuracy,
            "test_correct": c.test_correct, "length": c.length}


def _candidate_from_json(d: dict) -> Candidate:
    return Candidate(d["task_id"], d["program"], d["demo_accuracy"], d["test_correct"], d["length"], ())


class SearchSet:
    """The search tasks' inputs packed once; slices per task for scoring."""

    def __init__(self, tasks: list[Task]):
        self.tasks = tasks
        self.grids = [pair.input for task in tasks for pair in task.pairs]
        self.starts = np.cumsum([0] + [len(t.pairs) for t in tasks])

    def score(self, programs: list, texts: list[str], executor: Executor, board: Scoreboard,
              chunk: int = 64) -> list[Candidate]:
        """Run ``programs`` on every search input (``chunk`` programs per call) and add their candidates."""
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


def run_baseline(
    seeds: list,
    seed_tasks: dict[str, Task],
    search_tasks: list[Task],
    n_mutants: int,
    out_dir: Path,
    executor: Executor,
    *,
    seed: int = 0,
    chunk: int = 64,
    config: MutationConfig = MutationConfig(),
    progress: Callable[[int, int, int], None] | None = None,
) -> BaselineResult:
    """Run (or resume, from ``out_dir``) the baseline up to ``n_mutants`` mutants."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mutants_path, state_path, csv_path = out_dir / "mutants.jsonl", out_dir / "state.json", out_dir / "solved.csv"
    rng = np.random.default_rng(seed)
    board = Scoreboard()
    evaluated, elapsed = 0, 0.0
    rows: list[dict] = []
    if state_path.exists():
        state = json.loads(state_path.read_text())
        rng.bit_generator.state = state["rng"]
        evaluated, elapsed, rows = state["evaluated"], state["seconds"], state["rows"]
        board.add(_candidate_from_json(d) for d in state["candidates"])
    # Mutants past the last saved state were written but not scored: drop them, the generator's
    # saved state regrows the same ones.
    kept: list[Mutant] = []
    if mutants_path.exists():
        for line in mutants_path.read_text().splitlines()[:evaluated]:
            d = json.loads(line)
            kept.append(Mutant(d["task_id"], parse(d["program"]), d["program"]))
    _atomic_write(mutants_path, "".join(json.dumps({"task_id": m.task_id, "program": m.text}) + "\n" for m in kept))
    seen = {m.text for m in kept}
    search = SearchSet(search_tasks)
    points = [p for p in report_points(n_mutants) if p > evaluated]
    started = time.perf_counter() - elapsed
    while evaluated < n_mutants:
        want = min(chunk, n_mutants - evaluated)
        new, _ = grow_mutants(seeds, seed_tasks, want, executor, rng, config, batch_size=max(want, 64), seen=seen)
        if not new:
            raise RuntimeError("no valid mutant could be grown from the seeds")
        search.score([m.program for m in new], [m.text for m in new], executor, board)
        with open(mutants_path, "a") as f:
            for m in new:
                f.write(json.dumps({"task_id": m.task_id, "program": m.text}) + "\n")
        evaluated += len(new)
        elapsed = time.perf_counter() - started
        while points and evaluated >= points[0]:
            rows.append({"mutants": points.pop(0), "tasks_solved": len(board.solved()), "seconds": round(elapsed, 1)})
        candidates = [c for t in search_tasks for c in board.selected(t.id)]
        _atomic_write(
            state_path,
            json.dumps({"evaluated": evaluated, "seconds": elapsed, "rng": rng.bit_generator.state,
                        "rows": rows, "candidates": [_candidate_json(c) for c in candidates]}),
        )
        with open(csv_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["mutants", "tasks_solved", "seconds"])
            writer.writeheader()
            writer.writerows(rows)
        if progress is not None:
            progress(evaluated, n_mutants, len(board.solved()))
    return BaselineResult(evaluated, board.solved(), rows, time.perf_counter() - started)
