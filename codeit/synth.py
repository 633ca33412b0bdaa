"""Tasks generated from the DSL: held-out sets a small policy can reach, and a disjoint corpus.

A synthetic task is a *generating program* (2 to 6 lines, never a single primitive call) applied
to REAL ARC inputs: the inputs of one ARC-AGI-1 training task, kept together (its train inputs
give the demonstration pairs, its test inputs the test pairs). Programs are drawn from two
sources in a configurable mix: typed random programs (``dsl/generate.py``) and CodeIt-style
mutants of the seed programs (``codeit.search.mutate``), a mutant usually on its seed's own task.

Candidates are run in bulk by the native executor: one call per batch of ``batch_size``
programs, each program on every input of ``sources_per_program`` source tasks (drawing a program
costs far more than running it), its task being the first of them on which it runs OK on every
input and its outputs are not trivial (``REASONS`` names every rejection):

- ``uniform``: some output grid is a single colour (an empty or blank answer included);
- ``identity``: the output equals the input on every demonstration pair;
- ``constant``: every demonstration pair has the same output whatever its input;
- ``one_call``: a single primitive call on ``I`` and constants gives the same outputs (a two-line
  program that is one call in disguise: ``rot90`` twice is ``rot180``; see ``one_call_programs``);
- ``duplicate_outputs`` / ``duplicate_program``: the outputs (all of them, as one hash) or the
  program text of a task already kept;
- ``excluded_outputs`` / ``excluded_program``: those of a task of an excluded set (a corpus
  excludes every held-out set, see ``generate_corpus``);
- ``solves_excluded``: run on the inputs of a task of an excluded set, the program gives that
  task's outputs (another text for a held-out behaviour: training on it would leak the task).

The generating program is kept as ground truth. Generation is deterministic: each batch of a
stream draws from its own ``numpy.random.default_rng([seed, stream, index])`` and acceptance runs
in a fixed order, so the same config gives byte-identical task files whether batches run here or
in worker processes (the step budget, not the wall-time one, is what ends a long run).

Named sets (``NAMED_SETS``) are what every command reaches as ``synth/NAME`` through
``codeit.tasks.load_tasks``: generated on first use into ``cache_root()/synth/NAME`` (override
the root with ``CODEIT_CACHE``), one ARC JSON file per task carrying its program under the extra
key ``"program"``, read back as ordinary ARC tasks. This module does not import ``codeit.tasks``
(which imports it): whoever needs source tasks passes them, or passes the loader.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from codeit.execute.limits import Limits

SYNTH_VERSION = 1
"""Bumped whenever a change to this module would change the tasks a config generates; a cached
named set written by another version is regenerated."""

SYNTH_LIMITS = Limits(time_limit=2.0, max_steps=20_000, max_value_size=200_000)
"""Limits of one generating run: a tight step budget (so that steps, which are deterministic,
end a long run well before the generous wall-time budget can), and search's size cap."""

REASONS = (
    "no_program", "length", "no_op_line", "duplicate_program", "excluded_program",
    "error", "uniform", "identity", "constant", "excluded_outputs", "solves_excluded", "one_call",
    "duplicate_outputs",
)
"""Why a candidate was not kept, in the order the checks run:
no_program (the mutator found no well-typed mutant), length (outside min_lines..max_lines after
dead lines are pruned), no_op_line (a line calls ``identity``), duplicate_program /
excluded_program (its text is a kept or an excluded task's), error (a run did not end OK on some
input), uniform, identity, constant, excluded_outputs, solves_excluded, one_call,
duplicate_outputs (module docstring); duplicate_program is also how the second of two tasks
sharing an 8-digit id ends."""

MANIFEST = "synth.manifest"
"""The file beside a set's task files that records its version, config and statistics (JSON,
named so that ``*.json`` globs over the folder see only tasks)."""


@dataclass(frozen=True)
class SynthConfig:
    """What to generate; together with the seed library and the source tasks it fixes the result."""

    n_tasks: int = 64
    """Tasks to keep."""
    seed: int = 0
    """Random seed: batch ``index`` of stream ``s`` (0 mutants, 1 random programs) draws from
    ``numpy.random.default_rng([seed, s, index])``."""
    min_lines: int = 2
    """Fewest lines of a generating program, after dead lines are pruned (2: never one call)."""
    max_lines: int = 6
    """Most lines of a generating program, after pruning."""
    mutant_share: float = 0.5
    """Share of the tasks (exactly ``round(n_tasks * mutant_share)``) whose program is a mutant of a
    seed program; the others' are typed random programs."""
    sources_per_program: int = 4
    """Source tasks each candidate program is tried on (drawn at random); its task is the first of
    them on which it passes every check (drawing a program costs far more than running it)."""
    mutant_own_task: float = 0.75
    """Chance that a mutant's first source task is its seed's own task (when that is a source
    task): a seed's program is written for its task, so its mutants often run well there."""
    p_chain: float = 0.9
    """Chance that a random program's line must use the line before it (``GeneratorConfig.p_chain``):
    fewer dead lines, so fewer programs prune down to one line."""
    max_seed_lines: int = 6
    """Seeds longer than this are not mutated (their mutants seldom prune down to max_lines: at 8,
    a quarter more candidates for the same tasks)."""
    source: str = "arc1/training"
    """Task set (a ``codeit.tasks`` spec) whose inputs the programs run on, one task at a time."""
    batch_size: int = 512
    """Candidates drawn, run and checked per executor call (part of the seeding: see ``seed``)."""
    max_candidates: int = 0
    """Give up after drawing this many candidates (0: 2,000 per task wanted)."""
    limits: Limits = SYNTH_LIMITS
    """Limits of each run (a run past one is an ``error``)."""

    def __post_init__(self) -> None:
        if self.n_tasks < 0:
            raise ValueError(f"SynthConfig.n_tasks must be >= 0, got {self.n_tasks}")
        if not 2 <= self.min_lines <= self.max_lines:
            raise ValueError(f"SynthConfig needs 2 <= min_lines <= max_lines, got {self.min_lines}, {self.max_lines}")
        for name in ("mutant_share", "mutant_own_task"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SynthConfig.{name} must be in [0, 1], got {getattr(self, name)}")
        if self.sources_per_program < 1:
            raise ValueError(f"SynthConfig.sources_per_program must be >= 1, got {self.sources_per_program}")
        if self.batch_size < 1:
            raise ValueError(f"SynthConfig.batch_size must be >= 1, got {self.batch_size}")

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict) -> "SynthConfig":
        data = dict(data)
        if isinstance(data.get("limits"), dict):
            data["limits"] = Limits(**data["limits"])
        return SynthConfig(**data)


@dataclass(frozen=True)
class SynthTask:
    """One generated task: its program, its source task's inputs and the outputs the program gives."""

    id: str
    """8 hex digits of the SHA-1 of the source task id and the program text."""
    program: str
    """The generating program's canonical text (the ground truth)."""
    source: str
    """Id of the ARC task whose inputs it runs on."""
    origin: str
    """``random`` (a typed random program) or ``mutant`` (a mutant of a seed program)."""
    inputs: tuple[np.ndarray, ...]
    """Every input: the source task's train inputs, then its test inputs."""
    outputs: tuple[np.ndarray, ...]
    """The program's output on each input."""
    n_train: int
    """How many of the pairs are demonstration pairs (the rest are tests)."""
    output_hash: int
    """``outputs_hash(outputs)``: what deduplication and exclusion compare."""

    def to_json(self) -> dict:
        """The ARC task object, with the program (and where it came from) as extra keys."""
        pairs = [{"input": i.tolist(), "output": o.tolist()} for i, o in zip(self.inputs, self.outputs)]
        return {"train": pairs[: self.n_train], "test": pairs[self.n_train:], "program": self.program,
                "source": self.source, "origin": self.origin}

    def dumps(self) -> str:
        """The task file's text (deterministic: compact JSON, one trailing newline)."""
        return json.dumps(self.to_json(), separators=(",", ":")) + "\n"


@dataclass
class SynthStats:
    """What one generation did."""

    candidates: int = 0
    """Candidate programs drawn."""
    run: int = 0
    """Candidates run (those that passed the checks made before running), each on
    ``sources_per_program`` source tasks."""
    kept: int = 0
    """Tasks kept."""
    rejected: Counter = field(default_factory=Counter)
    """Candidates not kept, by reason (``REASONS``)."""
    seconds: float = 0.0
    """Wall time of the generation."""

    def to_dict(self) -> dict:
        return {"candidates": self.candidates, "run": self.run, "kept": self.kept,
                "rejected": {r: int(self.rejected[r]) for r in REASONS if self.rejected[r]},
                "seconds": round(self.seconds, 3)}

    @staticmethod
    def from_dict(data: dict) -> "SynthStats":
        return SynthStats(data.get("candidates", 0), data.get("run", 0), data.get("kept", 0),
                          Counter(data.get("rejected", {})), data.get("seconds", 0.0))

    def summary(self) -> str:
        """One line: tasks kept, candidates, rejections by reason, speed."""
        secs = max(self.seconds, 1e-9)
        reasons = ", ".join(f"{r} {self.rejected[r]:,}" for r in REASONS if self.rejected[r]) or "none"
        return (f"kept {self.kept:,} tasks from {self.candidates:,} candidates ({self.run:,} run) in "
                f"{self.seconds:.1f} s ({self.kept / secs:,.0f} tasks/s, {self.candidates / secs:,.0f} "
                f"candidates/s); rejected: {reasons}")


@dataclass
class SynthResult:
    tasks: list[SynthTask]
    stats: SynthStats
    config: SynthConfig


@dataclass(frozen=True)
class Exclusion:
    """What generated tasks must keep away from (the tasks of held-out sets).

    A candidate is excluded when its program text is one of ``programs``, when its outputs hash
    to one of ``output_hashes``, or when it *solves* one of ``tasks``: run on that task's inputs,
    it gives that task's outputs (a different text for the same behaviour, ``solves_excluded``).
    """

    programs: frozenset = frozenset()
    """Program texts."""
    output_hashes: frozenset = frozenset()
    """``outputs_hash`` of each task's outputs."""
    tasks: tuple = ()
    """(inputs, output hash) of each task, for the behaviour check."""

    @staticmethod
    def of(tasks: Iterable[SynthTask]) -> "Exclusion":
        tasks = list(tasks)
        return Exclusion(frozenset(t.program for t in tasks), frozenset(t.output_hash for t in tasks),
                         tuple((t.inputs, t.output_hash) for t in tasks))

    def __or__(self, other: "Exclusion") -> "Exclusion":
        return Exclusion(self.programs | other.programs, self.output_hashes | other.output_hashes,
                         self.tasks + other.tasks)

    def __len__(self) -> int:
        return len(self.tasks)


# --- hashing and checks over packed outputs -----------------------------------------------------

def outputs_hash(outputs: Sequence[np.ndarray]) -> int:
    """One 64-bit hash of a task's output grids, in order (``codeit.grids`` kernels)."""
    from codeit.grids import grid_hashes, group_hashes, pack

    hashes = grid_hashes(pack(outputs))
    return int(group_hashes(hashes, np.array([0, len(hashes)], dtype=np.int64))[0])


def task_id(source: str, program: str) -> str:
    return hashlib.sha1(f"{source}\n{program}".encode()).hexdigest()[:8]


# --- one batch of candidates ---------------------------------------------------------------------

@dataclass
class _Sources:
    """The source tasks' inputs, packed once: task s has inputs ``start[s] : start[s] + n_inputs[s]``."""

    ids: list[str]
    inputs: list[tuple[np.ndarray, ...]]
    start: np.ndarray
    n_inputs: np.ndarray
    n_train: np.ndarray
    index: dict[str, int]
    flat: list[np.ndarray]


def _collect_sources(sources: Iterable) -> _Sources:
    ids, inputs, start, n_inputs, n_train, flat = [], [], [], [], [], []
    for task in sources:
        grids = tuple(np.ascontiguousarray(p.input, dtype=np.uint8) for p in (*task.train, *task.test))
        ids.append(task.id)
        inputs.append(grids)
        start.append(len(flat))
        n_inputs.append(len(grids))
        n_train.append(len(task.train))
        flat.extend(grids)
    if not ids:
        raise ValueError("no source tasks to take inputs from")
    return _Sources(ids, inputs, np.array(start, dtype=np.int64), np.array(n_inputs, dtype=np.int64),
                    np.array(n_train, dtype=np.int64), {t: k for k, t in enumerate(ids)}, flat)


def one_call_programs() -> list:
    """Every one-line program ``O = p(a, ...)`` whose arguments are ``I`` (at least once) and
    constants, for each primitive that may return a grid (``identity`` and ``branch`` aside: the
    identity and constant checks cover them). A generated task whose outputs one of these also
    gives on the same inputs is a single primitive call in disguise (``one_call``)."""
    import itertools

    from codeit.dsl import registry
    from codeit.dsl.program import INPUT, INPUT_INFO, Line, Program, Ref
    from codeit.dsl.types import GRID, is_compatible

    programs = []
    for spec in registry.PRIMITIVES:
        if spec.name in ("identity", "branch") or not is_compatible(spec.return_type, GRID):
            continue
        options = []
        for ptype in spec.param_types:
            refs = [INPUT] if is_compatible(INPUT_INFO.type, ptype) else []
            refs += [Ref("const", c.name) for c in registry.CONSTANTS if is_compatible(c.type, ptype)]
            options.append(refs)
        for args in itertools.product(*options):
            if INPUT in args:
                programs.append(Program((Line(Ref("prim", spec.name), tuple(args)),)))
    return programs


@dataclass
class _Survivor:
    """A candidate that passed every check a batch can make on its own."""

    text: str
    source: int
    outputs: tuple[np.ndarray, ...]
    output_hash: int


@dataclass
class _ChunkOut:
    candidates: int = 0
    run: int = 0
    rejected: Counter = field(default_factory=Counter)
    survivors: list[_Survivor] = field(default_factory=list)


def _has_no_op_line(program) -> bool:
    return any(line.func.kind == "prim" and line.func.value == "identity" for line in program.lines)


STREAMS = ("mutant", "random")
"""The two candidate streams; a task's ``origin`` is the stream it came from."""


class _Chunker:
    """Draws batch ``index`` of a stream from ``default_rng([seed, stream, index])``, runs it, checks it.

    A pure function of (config, seeds, sources, exclusion, stream, index): the same in this
    process and in a worker process, which makes the result independent of the number of workers.
    """

    def __init__(self, config: SynthConfig, seeds: Sequence, sources: _Sources, exclusion: Exclusion,
                 executor):
        from codeit.dsl.generate import GeneratorConfig
        from codeit.grids import pack
        from codeit.search.mutate import MutationConfig

        self.config = config
        self.src = sources
        self.exclusion = exclusion
        self.executor = executor
        self.native = executor.name == "native"
        self.grids = pack(sources.flat)
        self.generator = GeneratorConfig(min_lines=config.min_lines, max_lines=config.max_lines,
                                         p_chain=config.p_chain)
        self.mutation = MutationConfig(generator=self.generator)
        self.seeds = usable_seeds(seeds, config)
        self.seed_source = [sources.index.get(s.task_id, -1) for s in self.seeds]
        self._one_call = None
        self._one_call_hashes: dict[int, frozenset] = {}
        ex_inputs = [g for inputs, _ in exclusion.tasks for g in inputs]
        self.ex_flat = ex_inputs
        self.ex_grids = pack(ex_inputs) if ex_inputs else None
        self.ex_starts = np.cumsum([0] + [len(inputs) for inputs, _ in exclusion.tasks]).astype(np.int64)
        self.ex_hashes = np.array([h for _, h in exclusion.tasks], dtype=np.uint64)

    def draw(self, rng: np.random.Generator, stream: int):
        """(program, source task indices to try in order, rejection reason or None): one candidate."""
        from codeit.dsl.generate import random_program
        from codeit.search.mutate import mutate, prune

        cfg = self.config
        n_sources = len(self.src.ids)
        sources = rng.integers(n_sources, size=cfg.sources_per_program)
        if STREAMS[stream] == "mutant":
            k = int(rng.integers(len(self.seeds)))
            program = mutate(self.seeds[k].program, rng, self.mutation)
            own = self.seed_source[k]
            if own >= 0 and rng.random() < cfg.mutant_own_task:
                sources[0] = own
            if program is None:
                return None, sources, "no_program"
        else:
            program = prune(random_program(rng, self.generator))
        if not cfg.min_lines <= len(program.lines) <= cfg.max_lines:
            return None, sources, "length"
        if _has_no_op_line(program):
            return None, sources, "no_op_line"
        return program, sources, None

    def _run(self, programs, run_program: np.ndarray, run_source: np.ndarray):
        """Run ``k`` is ``programs[run_program[k]]`` on every input of source ``run_source[k]``;
        its jobs are ``job_start[k]:job_start[k + 1]``."""
        src = self.src
        n_in = src.n_inputs[run_source]
        job_start = np.zeros(len(run_source) + 1, dtype=np.int64)
        np.cumsum(n_in, out=job_start[1:])
        job_run = np.repeat(np.arange(len(run_source), dtype=np.int64), n_in)
        offset = np.arange(int(job_start[-1]), dtype=np.int64) - job_start[:-1][job_run]
        job_grid = src.start[run_source][job_run] + offset
        grids = self.grids if self.native else src.flat
        result = self.executor.run(programs, grids, np.stack([run_program[job_run], job_grid], axis=1))
        return result, job_start, job_run, offset, job_grid

    def solves_excluded(self, programs: list) -> np.ndarray:
        """Per program: does it give some excluded task's outputs on that task's inputs (bool)."""
        from codeit.execute.executor import cross_jobs
        from codeit.grids import grid_hashes, group_hashes

        found = np.zeros(len(programs), dtype=bool)
        if self.ex_grids is None or not programs:
            return found
        n_grids = len(self.ex_flat)
        n_tasks = len(self.ex_hashes)
        per_call = max(1, 32768 // n_grids)
        grids = self.ex_grids if self.native else self.ex_flat
        for lo in range(0, len(programs), per_call):
            part = programs[lo: lo + per_call]
            result = self.executor.run(part, grids, cross_jobs(len(part), np.arange(n_grids)))
            bounds = (np.arange(len(part), dtype=np.int64)[:, None] * n_grids + self.ex_starts[None, :-1]).ravel()
            group_starts = np.append(bounds, len(part) * n_grids)
            ok = np.add.reduceat((result.status != 0).astype(np.int64), bounds) == 0
            same = group_hashes(grid_hashes(result.outputs), group_starts) == np.tile(self.ex_hashes, len(part))
            found[lo: lo + len(part)] = (ok & same).reshape(len(part), n_tasks).any(axis=1)
        return found

    def one_call_hashes(self, source: int) -> frozenset:
        """Output hashes of every one-call program that runs OK on all of a source task's inputs."""
        from codeit.grids import grid_hashes, group_hashes

        if source not in self._one_call_hashes:
            if self._one_call is None:
                programs = one_call_programs()
                if self.native:
                    from codeit.execute.native import CompiledPrograms

                    programs = CompiledPrograms(programs)
                self._one_call = programs
            n = len(self._one_call)
            result, job_start, _, _, _ = self._run(self._one_call, np.arange(n, dtype=np.int64),
                                                   np.full(n, source, dtype=np.int64))
            ok = np.add.reduceat((result.status != 0).astype(np.int64), job_start[:-1]) == 0
            hashes = group_hashes(grid_hashes(result.outputs), job_start)
            self._one_call_hashes[source] = frozenset(int(h) for h in hashes[ok])
        return self._one_call_hashes[source]

    def __call__(self, stream: int, index: int) -> _ChunkOut:
        from codeit.dsl.program import print_program
        from codeit.grids import exact_match, grid_hashes, group_hashes, single_colour

        cfg = self.config
        out = _ChunkOut()
        rng = np.random.default_rng([cfg.seed, stream, index])
        programs, texts, tries = [], [], []
        for _ in range(cfg.batch_size):
            out.candidates += 1
            program, sources, reason = self.draw(rng, stream)
            if reason is None:
                text = print_program(program)
                if text in self.exclusion.programs:
                    reason = "excluded_program"
            if reason is not None:
                out.rejected[reason] += 1
                continue
            programs.append(program)
            texts.append(text)
            tries.append(sources)
        if not programs:
            return out
        out.run = len(programs)
        n_tries = cfg.sources_per_program
        run_program = np.repeat(np.arange(len(programs), dtype=np.int64), n_tries)
        run_source = np.concatenate(tries).astype(np.int64)
        result, job_start, job_run, offset, job_grid = self._run(programs, run_program, run_source)

        # Per run (one program on one source task's inputs): the checks, vectorized.
        grids = result.outputs
        starts = job_start[:-1]
        n_train = self.src.n_train[run_source]
        is_train = offset < n_train[job_run]
        failed = np.add.reduceat((result.status != 0).astype(np.int64), starts) > 0
        uniform = np.add.reduceat(single_colour(grids).astype(np.int64), starts) > 0
        same_as_input = exact_match(grids, self.grids, job_grid) & is_train
        identity = np.add.reduceat(same_as_input.astype(np.int64), starts) == n_train
        hashes = grid_hashes(grids)
        differs = (hashes != hashes[starts][job_run]) & is_train
        constant = np.add.reduceat(differs.astype(np.int64), starts) == 0
        run_hashes = group_hashes(hashes, job_start)
        excluded = np.array([int(h) in self.exclusion.output_hashes for h in run_hashes], dtype=bool)
        stage = np.select([failed, uniform, identity, constant, excluded], [0, 1, 2, 3, 4], default=5)
        stage = stage.reshape(len(programs), n_tries)
        # Behaviour: does a program that got that far on some source solve an excluded task?
        far = np.flatnonzero((stage == 5).any(axis=1))
        solver = np.zeros(len(programs), dtype=bool)
        solver[far] = self.solves_excluded([programs[k] for k in far])
        names = ("error", "uniform", "identity", "constant", "excluded_outputs")
        for k in range(len(programs)):
            reason = names[int(stage[k].max())] if stage[k].max() < 5 else None
            if reason is None and solver[k]:
                reason = "solves_excluded"
            if reason is None:
                reason = "one_call"
                for j in np.flatnonzero(stage[k] == 5):
                    r = k * n_tries + int(j)
                    h = int(run_hashes[r])
                    if h in self.one_call_hashes(int(run_source[r])):
                        continue
                    outputs = tuple(grids.grid(g).copy() for g in range(int(job_start[r]), int(job_start[r + 1])))
                    out.survivors.append(_Survivor(texts[k], int(run_source[r]), outputs, h))
                    reason = None
                    break
            if reason is not None:
                out.rejected[reason] += 1
        return out


# --- worker processes ---------------------------------------------------------------------------

_WORKER: _Chunker | None = None


def _worker_init(config: SynthConfig, seeds, sources: _Sources, exclusion: Exclusion) -> None:
    global _WORKER
    from codeit.execute.backends import make_executor

    _WORKER = _Chunker(config, seeds, sources, exclusion, make_executor("native", limits=config.limits, threads=1))


def _worker_batch(stream: int, index: int) -> _ChunkOut:
    return _WORKER(stream, index)


class _Batches:
    """Batches by (stream, index): computed on demand here, or by worker processes ahead of need."""

    def __init__(self, config: SynthConfig, seeds, src: _Sources, exclusion: Exclusion, executor, workers: int):
        self.workers = workers
        self.pending: dict[tuple[int, int], Any] = {}
        if workers <= 1:
            self.chunker = _Chunker(config, seeds, src, exclusion, executor)
            self.pool = None
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_worker_init, initargs=(config, seeds, src, exclusion))

    def prefetch(self, keys: Iterable[tuple[int, int]]) -> None:
        if self.pool is None:
            return
        for key in keys:
            if key not in self.pending:
                self.pending[key] = self.pool.submit(_worker_batch, *key)

    def get(self, stream: int, index: int) -> _ChunkOut:
        if self.pool is None:
            return self.chunker(stream, index)
        self.prefetch([(stream, index)])
        return self.pending.pop((stream, index)).result()

    def close(self) -> None:
        if self.pool is not None:
            for future in self.pending.values():
                future.cancel()
            self.pool.shutdown(wait=True, cancel_futures=True)


# --- generation ---------------------------------------------------------------------------------

def usable_seeds(seeds: Iterable, config: SynthConfig) -> list:
    """The seeds a config mutates: those of at most ``max_seed_lines`` lines."""
    return [s for s in seeds if len(s.program.lines) <= config.max_seed_lines]


def default_workers(n_tasks: int) -> int:
    """Worker processes for a generation of ``n_tasks``: none below 1,000 tasks (starting them
    costs more than they save), else one per core, at most 8."""
    if n_tasks < 1000:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def generate(
    config: SynthConfig,
    sources: Iterable,
    *,
    seeds: Sequence | None = None,
    exclusion: Exclusion | None = None,
    executor=None,
    workers: int = 0,
    progress: Callable[[int, int, SynthStats], None] | None = None,
) -> SynthResult:
    """Generate ``config.n_tasks`` tasks on the inputs of ``sources`` (tasks with ``.id``,
    ``.train``, ``.test``, each pair an ``.input``), disjoint from ``exclusion``.

    ``round(n_tasks * mutant_share)`` tasks come from the mutant stream, the rest from the random
    one; batches of the two streams are taken in turn while both still need tasks, and the
    survivors of a batch are accepted in draw order (no repeated program text or outputs).
    ``seeds``: the programs to mutate (each a ``.task_id`` and ``.program``; default: the seed
    library; with none usable, every task is a random program). ``executor``: default
    ``make_executor("native", limits=config.limits)``. ``workers``: processes drawing and running
    batches (0: ``default_workers``; with another executor than native everything runs here); the
    tasks do not depend on it. Fewer tasks come back only when ``max_candidates`` (checked after
    every batch) runs out. ``progress(kept, wanted, stats)`` follows every batch.
    """
    from codeit.execute.backends import make_executor

    t0 = time.perf_counter()
    src = _collect_sources(sources)
    if seeds is None:
        from codeit.seeds import load_seeds

        seeds = load_seeds()
    seeds = usable_seeds(seeds, config)
    exclusion = exclusion or Exclusion()
    workers = workers or default_workers(config.n_tasks)
    if executor is not None and executor.name != "native":
        workers = 1
    if workers <= 1 and executor is None:
        executor = make_executor("native", limits=config.limits)
    n_mutants = round(config.n_tasks * config.mutant_share) if seeds else 0
    quota = [n_mutants, config.n_tasks - n_mutants]
    count = [0, 0]
    next_index = [0, 0]
    max_candidates = config.max_candidates or 2000 * max(config.n_tasks, 1)
    stats = SynthStats()
    kept: list[SynthTask] = []
    kept_texts: set[str] = set()
    kept_hashes: set[int] = set()
    kept_ids: set[str] = set()
    batches = _Batches(config, seeds, src, exclusion, executor, workers)
    try:
        while len(kept) < config.n_tasks and stats.candidates < max_candidates:
            for stream in (0, 1):
                if count[stream] >= quota[stream] or stats.candidates >= max_candidates:
                    continue
                ahead = 2 * workers
                batches.prefetch((st, next_index[st] + j) for j in range(ahead) for st in (0, 1)
                                 if count[st] < quota[st])
                batch = batches.get(stream, next_index[stream])
                next_index[stream] += 1
                stats.candidates += batch.candidates
                stats.run += batch.run
                stats.rejected.update(batch.rejected)
                for s in batch.survivors:
                    if count[stream] >= quota[stream]:
                        break
                    tid = task_id(src.ids[s.source], s.text)
                    if s.text in kept_texts:
                        stats.rejected["duplicate_program"] += 1
                    elif s.output_hash in kept_hashes:
                        stats.rejected["duplicate_outputs"] += 1
                    elif tid in kept_ids:  # two tasks with one 8-digit id: keep the first
                        stats.rejected["duplicate_program"] += 1
                    else:
                        kept.append(SynthTask(tid, s.text, src.ids[s.source], STREAMS[stream],
                                              src.inputs[s.source], s.outputs, int(src.n_train[s.source]),
                                              s.output_hash))
                        kept_texts.add(s.text)
                        kept_hashes.add(s.output_hash)
                        kept_ids.add(tid)
                        count[stream] += 1
                stats.kept = len(kept)
                stats.seconds = time.perf_counter() - t0
                if progress is not None:
                    progress(len(kept), config.n_tasks, stats)
    finally:
        batches.close()
    stats.kept = len(kept)
    stats.seconds = time.perf_counter() - t0
    return SynthResult(kept, stats, config)


# --- task files ---------------------------------------------------------------------------------

def read_task_file(path: str | Path) -> SynthTask:
    """A task file written by this module (its ``program`` key included) as a SynthTask."""
    path = Path(path)
    data = json.loads(path.read_text())
    if "program" not in data:
        raise ValueError(f"{path}: not a generated task (no 'program' key)")
    pairs = list(data["train"]) + list(data["test"])
    inputs = tuple(np.array(p["input"], dtype=np.uint8) for p in pairs)
    outputs = tuple(np.array(p["output"], dtype=np.uint8) for p in pairs)
    return SynthTask(path.stem, data["program"], data.get("source", ""), data.get("origin", ""), inputs,
                     outputs, len(data["train"]), outputs_hash(outputs))


def read_manifest(folder: str | Path) -> dict | None:
    """The manifest of a generated set's folder, or None when there is none (or it is unreadable)."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def read_set(folder: str | Path) -> list[SynthTask]:
    """Every task of a generated set's folder, in the manifest's order (else by file name)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is not None:
        paths = [folder / f"{tid}.json" for tid in manifest["tasks"]]
    else:
        paths = sorted(folder.glob("*.json"))
    return [read_task_file(p) for p in paths]


def write_set(folder: str | Path, tasks: Sequence[SynthTask], manifest: dict) -> Path:
    """Write one ``<id>.json`` per task and the manifest (``manifest_of``) into ``folder``.

    Task files of an earlier generation recorded by the folder's manifest are removed first; a
    folder holding other ``.json`` files is refused (ValueError), so nothing else is mixed in.
    """
    folder = Path(folder)
    if folder.exists():
        old = read_manifest(folder)
        listed = {f"{tid}.json" for tid in (old or {}).get("tasks", [])}
        foreign = sorted(p.name for p in folder.glob("*.json") if p.name not in listed)
        if foreign:
            raise ValueError(f"{folder} holds .json files that are not a generated set's "
                             f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}): choose another folder")
        for fname in listed:
            (folder / fname).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        (folder / f"{task.id}.json").write_text(task.dumps())
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return folder


def manifest_of(result: SynthResult, *, name: str = "", exclude: Sequence[str] = ()) -> dict:
    """The manifest of a generated set: version, config key and config, excluded sets, statistics,
    and the task ids in generation order."""
    return {"synth_version": SYNTH_VERSION, "name": name, "key": config_key(result.config, exclude),
            "config": result.config.to_dict(), "exclude": list(exclude), "stats": result.stats.to_dict(),
            "tasks": [t.id for t in result.tasks]}


def config_key(config: SynthConfig, exclude: Sequence[str] = ()) -> str:
    """What a set was generated from: this module's version, the config, and the excluded sets
    (a registered one by its own key, so that a set excluding a changed held-out set is stale)."""
    excluded = {name: config_key(NAMED_SETS[name].config, NAMED_SETS[name].exclude) if name in NAMED_SETS else name
                for name in exclude}
    text = json.dumps({"synth_version": SYNTH_VERSION, "config": config.to_dict(), "exclude": excluded},
                      sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# --- named sets and the cache -------------------------------------------------------------------

@dataclass(frozen=True)
class NamedSet:
    """A task set every command can name as ``synth/NAME``."""

    config: SynthConfig
    exclude: tuple[str, ...] = ()
    """Named sets it is kept disjoint from (by program text, outputs and behaviour)."""
    description: str = ""


HELDOUT_SETS = ("heldout",)
"""The held-out sets: a corpus (``generate_corpus``, ``synth/pretrain``) excludes all of them."""

NAMED_SETS: dict[str, NamedSet] = {
    "heldout": NamedSet(SynthConfig(n_tasks=64, seed=20240214), (),
                        "64 held-out tasks (half seed mutants, half random programs) for showing learning"),
    "pretrain": NamedSet(SynthConfig(n_tasks=10_000, seed=1), HELDOUT_SETS,
                         "10,000-task pretraining corpus, disjoint from every held-out set"),
}
"""The registered sets; any other ``synth/NAME`` is one a user wrote with ``codeit synth --name``."""


def cache_root() -> Path:
    """Where generated sets are cached: ``$CODEIT_CACHE``, else ``$XDG_CACHE_HOME/codeit``, else
    ``~/.cache/codeit``."""
    if os.environ.get("CODEIT_CACHE"):
        return Path(os.environ["CODEIT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "codeit"


def set_folder(name: str, cache: str | Path | None = None) -> Path:
    """The cache folder of ``synth/NAME``."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad synthetic set name {name!r}")
    return Path(cache if cache is not None else cache_root()) / "synth" / name


def is_current(folder: Path, key: str | None) -> bool:
    """Whether a folder holds a complete set written by this version (with that config key)."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("synth_version") != SYNTH_VERSION:
        return False
    if key is not None and manifest.get("key") != key:
        return False
    return all((folder / f"{tid}.json").is_file() for tid in manifest.get("tasks", []))


def _say(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)


def ensure_set(name: str, load_source: Callable[[str], Iterable], *, cache: str | Path | None = None,
               force: bool = False, workers: int = 0, progress=None) -> Path:
    """The folder of ``synth/NAME``, generated first when it is missing or stale.

    ``load_source(spec)`` gives the source tasks (``codeit.tasks.load_tasks``: passed in, since
    that module imports this one). A registered set (``NAMED_SETS``) is regenerated when its
    cached copy was made from another config or version (or with ``force``); a set a user wrote
    (``codeit synth --name``) must exist. The sets it excludes are made ready first.
    """
    folder = set_folder(name, cache)
    named = NAMED_SETS.get(name)
    if named is None:
        if is_current(folder, None):
            return folder
        known = ", ".join(f"synth/{n}" for n in NAMED_SETS)
        raise ValueError(f"no synthetic task set synth/{name} in {folder.parent}: the registered ones are "
                         f"{known}; write one with: codeit synth --name {name} --n N")
    key = config_key(named.config, named.exclude)
    if not force and is_current(folder, key):
        return folder
    exclusion = exclusion_of(named.exclude, load_source, cache=cache)
    _say(f"codeit: generating synth/{name} ({named.config.n_tasks:,} tasks) into {folder}")
    result = generate(named.config, load_source(named.config.source), exclusion=exclusion, workers=workers,
                      progress=progress)
    if len(result.tasks) < named.config.n_tasks:
        raise RuntimeError(f"synth/{name}: only {len(result.tasks)} of {named.config.n_tasks} tasks after "
                           f"{result.stats.candidates:,} candidates")
    _say(f"codeit: synth/{name}: {result.stats.summary()}")
    return _publish(folder, result.tasks, manifest_of(result, name=name, exclude=named.exclude))


def _publish(folder: Path, tasks: Sequence[SynthTask], manifest: dict) -> Path:
    """Write a set into a fresh sibling folder, then move it into place (readers never see half)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    write_set(tmp, tasks, manifest)
    stale = folder.parent / f".{folder.name}.stale-{os.getpid()}"
    try:
        os.replace(folder, stale)
    except FileNotFoundError:
        pass
    shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, folder)
    except OSError:  # another process published it in between: theirs is the same set
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def exclusion_of(names: Iterable[str], load_source: Callable[[str], Iterable], *,
                 cache: str | Path | None = None) -> Exclusion:
    """The union of the exclusions of named sets (each made ready in the cache first)."""
    exclusion = Exclusion()
    for name in names:
        exclusion = exclusion | Exclusion.of(read_set(ensure_set(name, load_source, cache=cache)))
    return exclusion


def generate_corpus(config: SynthConfig, load_source: Callable[[str], Iterable], *,
                    heldout: Sequence[str] = HELDOUT_SETS, cache: str | Path | None = None,
                    workers: int = 0, progress=None, seeds: Sequence | None = None) -> SynthResult:
    """A pretraining or initial corpus: ``generate`` with every task of the ``heldout`` sets
    excluded by program text, by outputs and by behaviour (no corpus program solves a held-out
    task). ``seeds``: the programs to mutate (default: the seed library)."""
    exclusion = exclusion_of(heldout, load_source, cache=cache)
    return generate(config, load_source(config.source), seeds=seeds, exclusion=exclusion, workers=workers,
                    progress=progress)


def write_named(name: str, result: SynthResult, *, exclude: Sequence[str] = (),
                cache: str | Path | None = None) -> Path:
    """Store a user's set as ``synth/NAME`` in the cache (not a registered name)."""
    if name in NAMED_SETS:
        raise ValueError(f"synth/{name} is a registered set; it is generated from its own config")
    return _publish(set_folder(name, cache), result.tasks, manifest_of(result, name=name, exclude=exclude))
