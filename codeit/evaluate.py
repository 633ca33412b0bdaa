"""Evaluation as in CodeIt: per task, up to 3 candidates by demo accuracy, then shortest program.

A task counts as solved when one of its selected candidates gets every test output right.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from codeit.relabel import Candidate

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
