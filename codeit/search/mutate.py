"""Type-directed program mutation, as in CodeIt.

Pick one line of a program, then (probabilities are settings):

- replace one argument (``p_replace_argument``, 0.5); a share of those (``p_insert_variable``,
  0.5) instead insert a new typed variable before the line and pass it as that argument;
- replace the function (``p_replace_function``, 0.25) by a primitive of the same arity whose
  parameters accept the current arguments and whose result can stand where the old one did;
- regenerate the line's right-hand side (``p_regenerate_line``, 0.25) as a new call whose result
  can stand where the old one did.

Types come from the static checker, with polymorphic ones settled by running the program once on
the task's first input (``runtime_infos``). Every mutant passes ``program.check``; lines that no
longer reach ``O`` are pruned, so a mutant is as short as it can be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Sequence

import numpy as np

from codeit.dsl import registry
from codeit.dsl.functions import FunctionValue
from codeit.dsl.generate import GeneratorConfig, fill_parameter
from codeit.dsl.program import CheckFailure, Line, Program, Ref, ValueInfo, check, infer_line
from codeit.dsl.types import ANY, CALLABLE, is_compatible, type_of_value


@dataclass(frozen=True)
class MutationConfig:
    """CodeIt's mutation operator probabilities."""

    p_replace_argument: float = 0.5
    """Chance of replacing one argument of the chosen line."""
    p_insert_variable: float = 0.5
    """Of argument replacements, the share that insert a new typed variable before the line instead."""
    p_replace_function: float = 0.25
    """Chance of replacing the chosen line's function."""
    p_regenerate_line: float = 0.25
    """Chance of regenerating the chosen line's right-hand side."""
    max_tries: int = 20
    """Attempts at one well-typed mutant before giving up (mutate returns None)."""
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    """How new arguments and lines are drawn."""

    def __post_init__(self) -> None:
        total = self.p_replace_argument + self.p_replace_function + self.p_regenerate_line
        if not np.isclose(total, 1.0):
            raise ValueError(f"mutation probabilities must sum to 1, got {total}")


def runtime_infos(program: Program, static: tuple[ValueInfo, ...], values: list | None) -> tuple[ValueInfo, ...]:
    """Static infos, with ``Any`` ones replaced by the type of the value seen on a real input."""
    if values is None:
        return static
    settled = []
    for info, value in zip(static, values):
        if info.type == ANY and value is not None:
            if isinstance(value, FunctionValue):
                info = ValueInfo(CALLABLE, value.arity, info.returns)
            else:
                info = ValueInfo(type_of_value(value))
        settled.append(info)
    return tuple(settled)


def _shift(ref: Ref, at: int) -> Ref:
    """A ref after a line is inserted at index ``at``: later variables move down by one."""
    if ref.kind == "var" and int(ref.value) >= at:
        return Ref("var", int(ref.value) + 1)
    return ref


def insert_line(program: Program, at: int, line: Line) -> Program:
    """The program with ``line`` inserted before line ``at`` (refs renumbered)."""
    lines = list(program.lines[:at]) + [line]
    for old in program.lines[at:]:
        lines.append(Line(_shift(old.func, at), tuple(_shift(a, at) for a in old.args)))
    return Program(tuple(lines))


def prune(program: Program) -> Program:
    """Drop lines whose value never reaches the last line (``O``)."""
    n = len(program.lines)
    live = [False] * n
    live[n - 1] = True
    for k in range(n - 1, -1, -1):
        if live[k]:
            line = program.lines[k]
            for ref in (line.func, *line.args):
                if ref.kind == "var":
                    live[int(ref.value)] = True
    if all(live):
        return program  # most mutants: nothing to drop
    new_index = {}
    lines = []
    for k, line in enumerate(program.lines):
        if not live[k]:
            continue
        new_index[k] = len(lines)

        def remap(ref: Ref) -> Ref:
            return Ref("var", new_index[int(ref.value)]) if ref.kind == "var" else ref

        lines.append(Line(remap(line.func), tuple(remap(a) for a in line.args)))
    return Program(tuple(lines))


def _replace_line(program: Program, at: int, line: Line) -> Program:
    lines = list(program.lines)
    lines[at] = line
    return Program(tuple(lines))


def _param_types(line: Line, infos: tuple[ValueInfo, ...]):
    if line.func.kind == "prim":
        return registry.primitive(str(line.func.value)).param_types
    return (ANY,) * len(line.args)


@cache
def _returning(want):
    """The primitives whose result can stand where a ``want``-typed value stood (asked per mutant:
    computed once per type)."""
    return tuple(p for p in registry.PRIMITIVES if is_compatible(p.return_type, want))


@cache
def _swaps(name: str, want) -> tuple:
    """The primitives that may replace primitive ``name`` on a line whose value stood where a
    ``want``-typed value did: same arity, a compatible result."""
    old = registry.primitive(name)
    return tuple(Ref("prim", p.name) for p in registry.PRIMITIVES
                 if p.name != old.name and p.arity == old.arity and is_compatible(p.return_type, want))


def draw_call(rng: np.random.Generator, infos: list[ValueInfo], want: ValueInfo, config: GeneratorConfig,
              tries: int = 30) -> tuple[Line, ValueInfo] | None:
    """A new primitive call over ``infos`` whose result can stand where a ``want`` value stood."""
    candidates = _returning(want.type)
    for _ in range(tries):
        spec = candidates[int(rng.integers(len(candidates)))]
        args = []
        for ptype in spec.param_types:
            ref = fill_parameter(rng, ptype, infos, config)
            if ref is None:
                break
            args.append(ref)
        else:
            line = Line(Ref("prim", spec.name), tuple(args))
            try:
                info = infer_line(line, infos)
            except CheckFailure:
                continue
            if is_compatible(info.type, want.type):
                return line, info
    return None


def _replace_argument(rng, program, infos, at, config) -> Program | None:
    line = program.lines[at]
    if not line.args:
        return None
    pos = int(rng.integers(len(line.args)))
    ptype = _param_types(line, infos)[pos]
    before = list(infos[:at])
    if rng.random() < config.p_insert_variable:
        drawn = draw_call(rng, before, ValueInfo(ptype), config.generator)
        if drawn is None:
            return None
        widened = insert_line(program, at, drawn[0])
        target = widened.lines[at + 1]
        args = list(target.args)
        args[pos] = Ref("var", at)
        return _replace_line(widened, at + 1, Line(target.func, tuple(args)))
    ref = fill_parameter(rng, ptype, before, config.generator)
    if ref is None or ref == line.args[pos]:
        return None
    args = list(line.args)
    args[pos] = ref
    return _replace_line(program, at, Line(line.func, tuple(args)))


def _replace_function(rng, program, infos, at, config) -> Program | None:
    line = program.lines[at]
    before = list(infos[:at])
    if line.func.kind == "prim":
        options = _swaps(str(line.func.value), infos[at].type)
    else:
        options = [
            Ref("var", k)
            for k, info in enumerate(before)
            if k != int(line.func.value) and info.may_be_function and info.arity in (None, len(line.args))
        ]
    for k in rng.permutation(len(options)):
        candidate = Line(options[k], line.args)
        try:
            infer_line(candidate, before)
        except CheckFailure:
            continue
        return _replace_line(program, at, candidate)
    return None


def _regenerate_line(rng, program, infos, at, config) -> Program | None:
    drawn = draw_call(rng, list(infos[:at]), infos[at], config.generator)
    if drawn is None or drawn[0] == program.lines[at]:
        return None
    return _replace_line(program, at, drawn[0])


def mutate(
    program: Program,
    rng: np.random.Generator,
    config: MutationConfig = MutationConfig(),
    values: list | None = None,
    static: tuple[ValueInfo, ...] | None = None,
) -> Program | None:
    """One well-typed mutant of ``program`` (pruned), or None after ``max_tries`` failed attempts.

    ``values``: the program's variable values on a real input, when known, to settle
    polymorphic types (see ``runtime_infos``). ``static``: ``check(program)``, when the caller
    has it (a seed mutated many times is checked once).
    """
    static = static if static is not None else check(program)
    infos = runtime_infos(program, static, values)
    operators = (_replace_argument, _replace_function, _regenerate_line)
    weights = np.array([config.p_replace_argument, config.p_replace_function, config.p_regenerate_line])
    for _ in range(config.max_tries):
        at = int(rng.integers(len(program.lines)))
        op = operators[int(rng.choice(3, p=weights / weights.sum()))]
        mutant = op(rng, program, infos, at, config)
        if mutant is None:
            continue
        mutant = prune(mutant)
        if mutant == program:
            continue
        if not _well_typed(mutant, program, static):
            continue
        return mutant
    return None


def _well_typed(mutant: Program, parent: Program, parent_infos: tuple[ValueInfo, ...]) -> bool:
    """Whether ``check(mutant)`` passes: the lines it shares with its parent from the top have the
    parent's infos (a line's info depends only on it and the lines above), so only the rest are
    inferred."""
    same = 0
    for a, b in zip(mutant.lines, parent.lines):
        if a != b:
            break
        same += 1
    infos = list(parent_infos[:same])
    try:
        for line in mutant.lines[same:]:
            infos.append(infer_line(line, infos))
    except CheckFailure:
        return False
    return True


@dataclass(frozen=True)
class Mutant:
    """A mutant that runs on every input of its seed's task, giving valid grids, and is not the identity."""

    task_id: str
    """The task of the seed it grew from (its runs there make its relabeled experience)."""
    program: Program
    text: str
    outputs: tuple = ()
    """Its output on every input of that task, demos then tests (empty when not kept from a run)."""


@dataclass
class MutationStats:
    generated: int = 0
    """Well-typed mutants drawn (duplicates included)."""
    duplicates: int = 0
    """Drawn mutants already seen (or equal to a seed)."""
    run: int = 0
    """Distinct mutants run on their task."""
    kept: int = 0
    """Mutants that passed every check."""


def grow_mutants(
    seeds: Sequence,
    tasks: dict,
    n_wanted: int,
    executor,
    rng: np.random.Generator,
    config: MutationConfig = MutationConfig(),
    *,
    batch_size: int = 256,
    seen: set[str] | None = None,
    progress=None,
    max_rounds: int = 1000,
    keep_extra: bool = False,
    with_outputs: bool = True,
) -> tuple[list[Mutant], MutationStats]:
    """Mutate seeds (drawn uniformly; each seed a ``.task_id`` and ``.program``) until ``n_wanted`` are kept.

    A mutant is kept when it runs OK on every train and test input of its seed's task (so its
    outputs are valid grids) and is not the identity on all of them. ``seen`` (program texts)
    deduplicates across calls; seeds themselves count as seen. ``keep_extra``: return every mutant
    kept, also past ``n_wanted`` (the last batch's overshoot; they are in ``seen`` either way).
    ``with_outputs=False`` leaves ``Mutant.outputs`` empty.
    """
    from codeit.dsl.program import print_program

    seen = seen if seen is not None else set()
    seen.update(print_program(s.program) for s in seeds)
    static = [check(s.program) for s in seeds]
    stats = MutationStats()
    kept: list[Mutant] = []
    for _ in range(max_rounds):
        if len(kept) >= n_wanted:
            break
        batch: list[tuple[str, Program, str]] = []
        while len(batch) < batch_size:
            k = int(rng.integers(len(seeds)))
            seed = seeds[k]
            mutant = mutate(seed.program, rng, config, static=static[k])
            if mutant is None:
                continue
            stats.generated += 1
            text = print_program(mutant)
            if text in seen:
                stats.duplicates += 1
                continue
            seen.add(text)
            batch.append((seed.task_id, mutant, text))
        by_task: dict[str, list[int]] = {}
        for k, (task_id, _, _) in enumerate(batch):
            by_task.setdefault(task_id, []).append(k)
        grids, jobs, spans = [], [], []
        for task_id, members in by_task.items():
            task = tasks[task_id]
            base = len(grids)
            grids.extend(pair.input for pair in task.pairs)
            n_in = len(task.pairs)
            for k in members:
                spans.append((k, task_id, len(jobs), n_in))
                jobs.extend((k, base + j) for j in range(n_in))
        result = executor.run([m for _, m, _ in batch], grids, np.array(jobs, dtype=np.int64).reshape(-1, 2))
        stats.run += len(batch)
        for k, task_id, start, n_in in spans:
            if not (result.status[start : start + n_in] == 0).all():
                continue
            task = tasks[task_id]
            identity = all(
                np.array_equal(result.outputs.grid(start + j), pair.input) for j, pair in enumerate(task.pairs)
            )
            if identity:
                continue
            outputs = tuple(result.outputs.grid(start + j).copy() for j in range(n_in)) if with_outputs else ()
            kept.append(Mutant(task_id, batch[k][1], batch[k][2], outputs))
        stats.kept = len(kept)
        if progress is not None:
            progress(min(len(kept), n_wanted), n_wanted)
    return (kept if keep_extra else kept[:n_wanted]), stats
