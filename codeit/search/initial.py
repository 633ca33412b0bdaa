"""The initial buffer: seed programs on their own tasks, and mutants of them, before any sampling.

Each seed becomes an experience on its own task's demonstrations (demo accuracy 1, priority 1);
then ``n_mutants`` mutants are grown from the seeds (:func:`codeit.search.mutate.grow_mutants`)
and relabelled from their runs on their seed's task. Used by the run driver, once per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from codeit.buffer.store import Experience, ExperienceStore
from codeit.grids import pack
from codeit.relabel import relabel
from codeit.search.mutate import grow_mutants
from codeit.seeds import Seed, load_seeds
from codeit.tasks import Task, load_tasks


@dataclass
class InitialBuffer:
    """What :func:`build_initial_buffer` added."""

    seeds: int = 0
    """Seed experiences offered to the store (one per seed)."""
    mutants: int = 0
    """Relabelled mutant experiences offered to the store."""
    generated: int = 0
    """Mutants drawn (well-typed, before deduplication and running)."""
    kept: int = 0
    """Mutants that ran OK on every input of their task and were kept."""


BUILTIN = "builtin"
"""The name of the built-in seed library (``dsl/seeds``) in a list of seed folders."""


def load_seed_programs(seed_dirs: Sequence[str]) -> list[Seed]:
    """The seed programs of ``seed_dirs`` in order: folders of ``<task_id>.dsl`` programs (the
    built-in library as ``builtin``; an empty list is the built-in library alone).

    A task may have seeds from several folders (a built-in seed and an imported solver); the same
    program text for the same task is kept once, where it first appears.
    """
    seeds: list[Seed] = []
    seen: set[tuple[str, str]] = set()
    for folder in seed_dirs or [BUILTIN]:
        for seed in load_seeds(None if folder == BUILTIN else folder):
            key = (seed.task_id, seed.text.strip())
            if key not in seen:
                seen.add(key)
                seeds.append(seed)
    return seeds


def load_seed_set(seed_dirs: Sequence[str], seed_tasks: str) -> tuple[list[Seed], dict[str, Task]]:
    """The seed programs and the tasks they belong to.

    ``seed_dirs``: folders of ``.dsl`` programs (:func:`load_seed_programs`). ``seed_tasks``: the
    task set the seeds are programs for (a spec of :func:`codeit.tasks.load_tasks`). Seeds whose
    task is not in that set are left out.
    """
    tasks = {t.id: t for t in load_tasks(seed_tasks)}
    return [s for s in load_seed_programs(seed_dirs) if s.task_id in tasks], tasks


def seed_experience(seed: Seed, task: Task) -> Experience:
    """A seed as a training experience on its own task's demonstrations."""
    return Experience(
        task_id=seed.task_id,
        origin="seed",
        program=seed.text if seed.text.endswith("\n") else seed.text + "\n",
        inputs=[p.input for p in task.train],
        outputs=[p.output for p in task.train],
        demo_accuracy=1.0,
        priority=1.0,
        iteration=0,
    )


def build_initial_buffer(
    store: ExperienceStore,
    seeds: Sequence[Seed],
    tasks: dict[str, Task],
    executor,
    rng: np.random.Generator,
    n_mutants: int,
    progress: Callable[[int, int], None] | None = None,
) -> InitialBuffer:
    """Store every seed as an experience on its task, then ``n_mutants`` relabelled mutants.

    ``tasks`` maps each seed's task id to its task; ``progress(done, total)`` is called as mutants
    are kept. The seeds are stored before any mutant is drawn.
    """
    out = InitialBuffer()
    seed_rows = [seed_experience(s, tasks[s.task_id]) for s in seeds]
    store.add_experiences(seed_rows)
    out.seeds = len(seed_rows)
    if not n_mutants or not seeds:
        return out
    mutants, stats = grow_mutants(seeds, tasks, n_mutants, executor, rng, progress=progress)
    rows: list[Experience] = []
    for m in mutants:
        # A kept mutant ran OK on every input of its task: relabel from those runs.
        statuses = np.zeros(len(m.outputs), dtype=np.int32)
        r = relabel(tasks[m.task_id], [m.text], statuses, pack(m.outputs), origin="mutation", iteration=0)
        rows.extend(r.experiences)
    store.add_experiences(rows)
    out.mutants, out.generated, out.kept = len(rows), stats.generated, stats.kept
    return out
