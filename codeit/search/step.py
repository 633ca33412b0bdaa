"""One search step: sampled program texts for some tasks -> parsed, run in bulk, relabeled, scored.

Shared by the self-improvement loop, ``codeit eval`` and the cluster backends: sampling is the
caller's; everything after it is here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from codeit.buffer.store import Experience
from codeit.dsl.program import Program, ProgramError, parse, print_program
from codeit.execute.executor import Executor
from codeit.grids import GridBatch
from codeit.relabel import Candidate, relabel
from codeit.tasks import Task


@dataclass
class StepStats:
    """Counts and timings of search steps (they add up over an iteration)."""

    sampled: int = 0
    """Program texts received."""
    parsed: int = 0
    """Texts that parse and type-check."""
    valid: int = 0
    """Parsed programs that ran OK on every demo input."""
    valid_samples: int = 0
    """Texts received whose program ran OK on every demo input (duplicates counted each time)."""
    demo_accuracy_sum: float = 0.0
    """Sum of demo accuracy over parsed programs (failed runs count 0; under the shared scorer,
    which stops a program at its first failed demo, a program failing any demo counts 0)."""
    valid_accuracy_sum: float = 0.0
    """Sum of demo accuracy over the valid samples (a program failing any demo counts 0)."""
    experiences: int = 0
    """New relabeled experiences (after output-hash deduplication)."""
    runs: int = 0
    """(program, grid) jobs executed."""
    execute_seconds: float = 0.0
    relabel_seconds: float = 0.0

    def add(self, other: "StepStats") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def parse_rate(self) -> float:
        return self.parsed / self.sampled if self.sampled else 0.0

    @property
    def mean_demo_accuracy(self) -> float:
        return self.demo_accuracy_sum / self.parsed if self.parsed else 0.0

    @property
    def valid_rate(self) -> float:
        """Share of the texts received that run to a valid grid on every demo input."""
        return self.valid_samples / self.sampled if self.sampled else 0.0

    @property
    def mean_valid_accuracy(self) -> float:
        """Mean demo accuracy over parsed samples, a program failing any demo counting 0."""
        return self.valid_accuracy_sum / self.parsed if self.parsed else 0.0


@dataclass
class StepResult:
    experiences: list[Experience] = field(default_factory=list)
    hashes: list[int] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    stats: StepStats = field(default_factory=StepStats)


def canonical_samples(texts: list[str]) -> tuple[list[str | None], dict[str, Program]]:
    """Each text's canonical form (None where it does not parse), and the distinct programs."""
    canonical: list[str | None] = []
    programs: dict[str, Program] = {}
    for text in texts:
        try:
            program = parse(text)
        except ProgramError:
            canonical.append(None)
            continue
        key = print_program(program)
        canonical.append(key)
        programs.setdefault(key, program)
    return canonical, programs


def search_step(
    tasks: list[Task],
    samples: list[list[str]],
    executor: Executor,
    *,
    origin: str = "policy",
    iteration: int = 0,
    seen_hashes: dict[str, set[int]] | None = None,
    relabel_experiences: bool = True,
) -> StepResult:
    """Parse, run (one executor call for all tasks), relabel and score ``samples[k]`` for ``tasks[k]``."""
    result = StepResult()
    stats = result.stats
    per_task = []
    all_programs: list[Program] = []
    grids: list[np.ndarray] = []
    jobs: list[tuple[int, int]] = []
    for task, texts in zip(tasks, samples):
        stats.sampled += len(texts)
        # Duplicate texts are one program, run once.
        canonical, programs = canonical_samples(texts)
        stats.parsed += sum(c is not None for c in canonical)
        first_program, first_grid = len(all_programs), len(grids)
        all_programs.extend(programs.values())
        grids.extend(pair.input for pair in task.pairs)
        start = len(jobs)
        n_inputs = len(task.pairs)
        for p in range(len(programs)):
            jobs.extend((first_program + p, first_grid + j) for j in range(n_inputs))
        per_task.append((task, list(programs), start, len(jobs), canonical))
    started = time.perf_counter()
    if jobs:
        run = executor.run(all_programs, grids, np.asarray(jobs, dtype=np.int64))
    stats.execute_seconds += time.perf_counter() - started
    stats.runs += len(jobs)
    started = time.perf_counter()
    for task, distinct, a, b, canonical in per_task:
        if not distinct:
            continue
        outputs = GridBatch(run.outputs.data[a:b], run.outputs.shapes[a:b])
        seen = None
        if seen_hashes is not None:
            seen = seen_hashes.setdefault(task.id, set())
        r = relabel(task, distinct, run.status[a:b], outputs, seen_hashes=seen,
                    with_experiences=relabel_experiences, origin=origin, iteration=iteration)
        # Accuracy per sample, duplicates included, so the mean describes what the policy wrote.
        accuracy = dict(zip(distinct, r.demo_accuracy))
        valid = dict(zip(distinct, r.valid))
        stats.demo_accuracy_sum += float(sum(accuracy[c] for c in canonical if c is not None))
        stats.valid_samples += sum(bool(valid[c]) for c in canonical if c is not None)
        stats.valid_accuracy_sum += float(sum(accuracy[c] for c in canonical if c is not None and valid[c]))
        stats.valid += int(r.valid.sum())
        stats.experiences += len(r.experiences)
        result.experiences.extend(r.experiences)
        result.hashes.extend(r.hashes)
        result.candidates.extend(r.candidates)
    stats.relabel_seconds += time.perf_counter() - started
    return result

