"""Evaluation as in CodeIt: per task, up to 3 candidates by demo accuracy, then shortest program.

A task counts as solved when one of its selected candidates gets every test output right.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from codeit.relabel import Candidate, program_length

TOP_K = 3


def rank_key(c: Candidate) -> tuple:
    return (-c.demo_accuracy, c.length, c.program)


def select(candidates: Iterable[Candidate], k: int = TOP_K) -> dict[str, list[Candidate]]:
    """The top-k distinct programs per task, best first."""
    by_task: dict[str, dict[str, Candidate]] = defaultdict(dict)
    for c in candidates:
        by_task[c.task_id].setdefault(c.program, c)
    return {t: sorted(cs.values(), key=rank_key)[:k] for t, cs in by_task.items()}


@dataclass
class Scoreboard:
    """Candidates seen so far, kept to the best few per task, and the tasks they solve."""

    k: int = TOP_K

    def __post_init__(self) -> None:
        self._best: dict[str, list[Candidate]] = {}

    def add(self, candidates: Iterable[Candidate]) -> None:
        incoming: dict[str, list[Candidate]] = defaultdict(list)
        for c in candidates:
            incoming[c.task_id].append(c)
        for t, cs in incoming.items():
            self._best[t] = select(cs + self._best.get(t, []), self.k)[t]

    def selected(self, task_id: str) -> list[Candidate]:
        return list(self._best.get(task_id, []))

    def solved(self) -> list[str]:
        return sorted(t for t, cs in self._best.items() if any(c.test_correct for c in cs))


def solved_tasks(candidates: Iterable[Candidate], k: int = TOP_K) -> list[str]:
    """Task ids solved by their top-k candidates."""
    return sorted(t for t, cs in select(candidates, k).items() if any(c.test_correct for c in cs))


def to_solution(c: Candidate, iteration: int):
    """A candidate as the store's Solution row (a failed test run is stored as an empty grid)."""
    from codeit.buffer.store import Solution

    outputs = [g if g is not None else np.zeros((0, 0), np.uint8) for g in c.test_outputs]
    return Solution(c.task_id, c.program, outputs, c.demo_accuracy, iteration)


def from_solutions(solutions, tasks_by_id: dict, iteration: int | None = None) -> list[Candidate]:
    """Stored Solution rows (of one iteration, or all) as candidates, re-scored against the tasks' answers."""
    out = []
    for s in solutions:
        if iteration is not None and s.iteration != iteration:
            continue
        task = tasks_by_id.get(s.task_id)
        if task is None:
            continue
        outputs = tuple(np.asarray(g, dtype=np.uint8) if np.size(g) else None for g in s.test_outputs)
        correct = len(outputs) == len(task.test) and all(
            p.output is not None and g is not None and np.array_equal(g, p.output) for g, p in zip(outputs, task.test)
        )
        out.append(Candidate(s.task_id, s.program, s.demo_accuracy, bool(correct), program_length(s.program), outputs))
    return out
