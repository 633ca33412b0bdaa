"""Hindsight relabeling: a program's realized outputs on a task's demo inputs become a new task.

The executor runs each program on every input of its task, demos first, then tests (jobs are
program-major: program p, input k is job ``p * n_inputs + k``). From those results this module
builds, per valid program, an experience: the demo inputs with the outputs the program really
produced, labelled with the program; its priority is the share of the real demos it solves
exactly. A valid program that solves at least one demo is also a candidate solution, scored on
the tests (CodeIt ranks candidates by demo accuracy, so partial ones can still be picked).
All scoring and hashing runs through the numba kernels of :mod:`codeit.grids`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codeit.buffer.store import Experience
from codeit.grids import GridBatch, exact_match, grid_hashes, group_hashes, pack
from codeit.tasks import Task

STATUS_OK = 0


@dataclass(frozen=True)
class Candidate:
    """A program scored on its task: demo accuracy, and whether it gets every test output right."""

    task_id: str
    program: str
    demo_accuracy: float
    test_correct: bool
    length: int
    test_outputs: tuple[np.ndarray | None, ...]


@dataclass(frozen=True)
class Relabeling:
    """What one task's batch of programs yields."""

    experiences: list[Experience]
    """One per valid program with new outputs; priority = demo accuracy."""
    hashes: list[int]
    """The output hash of each experience (what deduplication compares)."""
    candidates: list[Candidate]
    valid: np.ndarray  # bool [P]: ran OK on every demo input
    demo_accuracy: np.ndarray  # float32 [P]


def program_length(text: str) -> int:
    """Number of program lines: the tie-breaker "shortest" of CodeIt's candidate selection."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def task_targets(task: Task) -> GridBatch:
    """The known outputs of a task, demos then tests, packed (a test with no answer is empty)."""
    return pack([p.output for p in task.pairs])


def relabel(
    task: Task,
    programs: list[str],
    statuses: np.ndarray,
    outputs: GridBatch,
    *,
    seen_hashes: set[int] | None = None,
    with_experiences: bool = True,
    origin: str = "policy",
    iteration: int = 0,
) -> Relabeling:
    """Relabel one task's programs from their runs on all of the task's inputs (demos, then tests).

    Experiences are deduplicated by output hash (within this batch, and against ``seen_hashes``,
    which is updated): of programs realizing the same outputs the shortest is kept.
    ``with_experiences=False`` scores candidates only (the mutation baseline needs no more).
    """
    n_demo, n_test = len(task.train), len(task.test)
    n_inputs = n_demo + n_test
    n_prog = len(programs)
    if statuses.shape != (n_prog * n_inputs,) or len(outputs) != n_prog * n_inputs:
        raise ValueError(
            f"task {task.id}: expected {n_prog * n_inputs} job results ({n_prog} programs x {n_inputs} inputs), "
            f"got {statuses.shape[0]} statuses and {len(outputs)} outputs"
        )
    targets = task_targets(task)
    target_index = np.tile(np.arange(n_inputs), n_prog)
    correct = exact_match(outputs, targets, target_index).reshape(n_prog, n_inputs)
    ok = (statuses == STATUS_OK).reshape(n_prog, n_inputs)
    valid = ok[:, :n_demo].all(axis=1)
    demo_accuracy = correct[:, :n_demo].mean(axis=1).astype(np.float32)

    lengths = [program_length(p) for p in programs]
    experiences, hashes = [], []
    if with_experiences:
        experiences, hashes = _experiences(
            task, programs, outputs, valid, demo_accuracy, lengths, seen_hashes, origin, iteration
        )

    candidates = []
    has_answers = all(pair.output is not None for pair in task.test)
    for p in np.flatnonzero(valid & (demo_accuracy > 0)):
        base = p * n_inputs + n_demo
        test_outputs = tuple(
            outputs.grid(base + k).copy() if ok[p, n_demo + k] else None for k in range(n_test)
        )
        candidates.append(
            Candidate(
                task_id=task.id,
                program=programs[p],
                demo_accuracy=float(demo_accuracy[p]),
                test_correct=bool(has_answers and correct[p, n_demo:].all()),
                length=lengths[p],
                test_outputs=test_outputs,
            )
        )
    return Relabeling(experiences, hashes, candidates, valid, demo_accuracy)


def _experiences(task, programs, outputs, valid, demo_accuracy, lengths, seen_hashes, origin, iteration):
    """One experience per valid program, deduplicated by the hash of its demo outputs."""
    n_demo = len(task.train)
    n_inputs = n_demo + len(task.test)
    n_prog = len(programs)
    demo_jobs = (np.arange(n_prog)[:, None] * n_inputs + np.arange(n_demo)[None, :]).reshape(-1)
    hashes = grid_hashes(GridBatch(outputs.data[demo_jobs], outputs.shapes[demo_jobs]))
    per_program = group_hashes(hashes, np.arange(0, n_prog * n_demo + 1, n_demo))

    seen = seen_hashes if seen_hashes is not None else set()
    experiences, kept_hashes = [], []
    for p in sorted(np.flatnonzero(valid), key=lambda p: (lengths[p], p)):
        h = int(per_program[p])
        if h in seen:
            continue
        seen.add(h)
        base = p * n_inputs
        experiences.append(
            Experience(
                task_id=task.id,
                origin=origin,
                program=programs[p],
                inputs=tuple(pair.input for pair in task.train),
                outputs=tuple(outputs.grid(base + k).copy() for k in range(n_demo)),
                demo_accuracy=float(demo_accuracy[p]),
                priority=float(demo_accuracy[p]),
                iteration=iteration,
            )
        )
        kept_hashes.append(h)
    return experiences, kept_hashes
