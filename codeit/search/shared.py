"""Shared scoring of many related programs on the native interpreter (``native/interp/search.hpp``).

Programs come in groups; a group is one "union" program whose lines are the distinct lines of its
members (:func:`union_program`), each member the list of its lines in that program, so a line that
several members have (the same callee on the same arguments, variables compared by the lines they
point to) is computed once per input grid for all of them. A member stops at its first failed
demonstration; test inputs run only for members that can be candidates.

Two users:

- the mutation baseline (``codeit.search.baseline``): the mutants of one seed are a group, and
  every group is scored on every search task;
- ``codeit eval`` (:func:`shared_step`): the programs sampled for one task are that task's groups,
  each scored on its own task only (``group_tasks``); each task's best candidates then run on the
  test inputs through the executor, so that their test outputs can be stored. It finds exactly the
  candidates that :func:`codeit.search.step.search_step` would select (``tests/test_eval.py``,
  ``bench/eval.py`` check it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from codeit.dsl import registry
from codeit.dsl.program import Line, Program, ProgramArrays, Ref
from codeit.execute.executor import Executor
from codeit.execute.limits import Limits
from codeit.grids import pack
from codeit.relabel import Candidate, program_length
from codeit.run.scoreboard import TOP_K, rank_key
from codeit.search.step import StepResult, canonical_samples
from codeit.tasks import Task


def union_program(members: list[Program]) -> tuple[Program, list[list[int]]]:
    """The distinct lines of ``members`` as one program (a line reading variables reads the lines
    that define them), and each member as its list of line indices in that program.

    Two lines are one when they apply the same callee to the same arguments, variables being
    compared by the line they point to: so a mutant's lines above its mutated line, and those
    below that do not depend on it, are its seed's lines, computed once per input for all; and
    sampled programs that begin alike compute their common beginning once."""
    index: dict[tuple, int] = {}
    lines: list[Line] = []
    member_lines: list[list[int]] = []
    for program in members:
        ids: list[int] = []
        for line in program.lines:
            func = Ref("var", ids[line.func.value]) if line.func.kind == "var" else line.func
            args = tuple(Ref("var", ids[a.value]) if a.kind == "var" else a for a in line.args)
            key = (func, args)
            k = index.get(key)
            if k is None:
                k = index[key] = len(lines)
                lines.append(Line(func, args))
            ids.append(k)
        member_lines.append(ids)
    return Program(tuple(lines)), member_lines


def _code(ref: Ref, codes: dict) -> tuple[int, int]:
    """A non-variable ref as ``ProgramArrays``' (kind code, id) row (``Program.to_arrays``' codes)."""
    key = (ref.kind, ref.value)
    code = codes.get(key)
    if code is None:
        if ref.kind == "input":
            code = (0, 0)
        elif ref.kind == "const":
            code = (2, registry.constant(str(ref.value)).id)
        elif ref.kind == "prim":
            code = (3, registry.primitive(str(ref.value)).id)
        else:
            raise ValueError(f"not a constant, primitive or the input: {ref}")
        codes[key] = code
    return code


def union_arrays(members: list[Program]) -> tuple[ProgramArrays, list[list[int]]]:
    """:func:`union_program` straight to the integer form the native interpreter compiles (the
    same lines, in the same order), without building the union's IR."""
    index: dict[tuple, int] = {}
    codes: dict = {}
    callee: list[tuple[int, int]] = []
    offsets = [0]
    flat: list[tuple[int, int]] = []
    member_lines: list[list[int]] = []
    for program in members:
        ids: list[int] = []
        for line in program.lines:
            f = line.func
            fc = (1, ids[f.value]) if f.kind == "var" else _code(f, codes)
            ac = tuple((1, ids[a.value]) if a.kind == "var" else _code(a, codes) for a in line.args)
            key = (fc, ac)
            k = index.get(key)
            if k is None:
                k = index[key] = len(callee)
                callee.append(fc)
                flat.extend(ac)
                offsets.append(len(flat))
            ids.append(k)
        member_lines.append(ids)
    return (ProgramArrays(callee=np.array(callee, np.int32).reshape(-1, 2), arg_offsets=np.array(offsets, np.int32),
                          args=np.array(flat, np.int32).reshape(-1, 2)), member_lines)


class Packed(Protocol):
    def packed(self) -> tuple: ...


def pack_tasks(tasks: Sequence[Task], with_tests: bool = True) -> tuple:
    """(input data, input shapes, target data, target shapes, task offsets, demos per task) of
    ``tasks`` for ``run_search``; ``with_tests=False`` hides the test answers (0 x 0), so that no
    test input is run."""
    from codeit.execute.native import pack_grids

    data, shapes = pack_grids([pair.input for task in tasks for pair in task.pairs])
    targets = pack([pair.output if (with_tests or k < len(task.train)) else None
                    for task in tasks for k, pair in enumerate(task.pairs)])
    offsets = np.cumsum([0] + [len(t.pairs) for t in tasks]).astype(np.int32)
    return (data, shapes, targets.data, targets.shapes, offsets, np.array([len(t.train) for t in tasks], np.int32))


class SharedScorer:
    """The native interpreter's shared scoring of program groups, on a pool of ``threads`` workers
    (``pool``: run on that native pool instead, e.g. a ``NativeExecutor``'s, one call at a time)."""

    def __init__(self, limits: Limits, threads: int, pool=None):
        from codeit.execute import native

        self._native = native
        self.limits = limits
        self.threads = threads
        self._pool = pool if pool is not None else native.new_pool(threads)
        self.runs = np.zeros(8, dtype=np.int64)
        """Program runs made, by status (dsl.values.Status)."""
        self.nodes = 0
        """Lines computed (a line shared by several programs counts once per input)."""

    def run(self, groups: list[list[tuple[Program, str]]], search: Packed) -> tuple[np.ndarray, ...]:
        """Per (member, task), members in group order: valid, demos right, tests right; every
        group on every task of ``search`` (a ``SearchSet``)."""
        return self.run_packed([[p for p, _ in group] for group in groups], search.packed())

    def run_packed(self, groups: list[list[Program]], packed: tuple,
                   group_tasks: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """As :meth:`run` on packed tasks (:func:`pack_tasks`); with ``group_tasks``, group g runs on
        task ``group_tasks[g]`` alone (the rows of its members are 0 for the other tasks)."""
        unions, member_offsets, node_offsets, nodes = [], [0], [0], []
        for group in groups:
            union, member_lines = union_arrays(group)
            unions.append(union)
            for ids in member_lines:
                nodes.extend(ids)
                node_offsets.append(len(nodes))
            member_offsets.append(member_offsets[-1] + len(group))
        compiled = self._native.CompiledPrograms(unions)
        data, shapes, target_data, target_shapes, task_offsets, task_demos = packed
        out = self._pool.run_search(compiled.native, np.array(member_offsets, np.int32),
                                    np.array(node_offsets, np.int32), np.array(nodes, np.int32),
                                    data, shapes, target_data, target_shapes, task_offsets, task_demos,
                                    self._native.to_native(self.limits),
                                    None if group_tasks is None else np.asarray(group_tasks, np.int32))
        self.runs += out["runs"]
        self.nodes += int(out["nodes"])
        return out["valid"], out["demos_right"], out["test_correct"]


def group_size(n_programs: int, threads: int) -> int:
    """Members per group: all of a task's programs in one group while there are about 4 groups a
    worker, else fewer (each group is one job of the pool; a larger group shares more lines)."""
    return max(8, math.ceil(n_programs / (4 * max(1, threads))))


def task_groups(keys: list[str], size: int) -> list[list[str]]:
    """A task's distinct programs (canonical texts) in groups of up to ``size``: sorted, so that
    programs beginning with the same lines (the same text, variables being numbered in order) are
    neighbours, then cut into equal runs."""
    keys = sorted(keys)
    if not keys:
        return []
    n = math.ceil(len(keys) / size)
    step = math.ceil(len(keys) / n)
    return [keys[k : k + step] for k in range(0, len(keys), step)]


def shared_step(tasks: list[Task], samples: list[list[str]], scorer: SharedScorer, executor: Executor,
                *, top_k: int = TOP_K, group: int | None = None) -> StepResult:
    """``codeit eval``'s search step on the shared scorer: the candidates ``search_step`` would
    select, fewer runs.

    ``samples[k]`` (program texts) are parsed and deduplicated as ``search_step`` does; a task's
    distinct programs are its groups (:func:`task_groups`), each run on its task's demonstrations
    only, a program stopping at its first failed one. Of each task's candidates (valid, at least one
    demonstration right) its ``top_k`` by ``rank_key`` (the most any later selection can take from
    this step) run on the task's test inputs through ``executor``, and are returned with their test
    outputs. The stats count every sample, duplicates included: ``valid_samples`` those valid,
    ``valid_accuracy_sum`` (and ``demo_accuracy_sum``) the demo accuracy of the valid ones (a
    program that fails a demonstration counts 0: it is not run past it). ``group``: members per
    group (default :func:`group_size`)."""
    result = StepResult()
    stats = result.stats
    started = time.perf_counter()
    per_task = []
    for task, texts in zip(tasks, samples):
        stats.sampled += len(texts)
        canonical, programs = canonical_samples(texts)
        stats.parsed += sum(c is not None for c in canonical)
        per_task.append((canonical, programs))
    size = group or group_size(sum(len(p) for _, p in per_task), scorer.threads)
    groups: list[list[Program]] = []
    group_tasks: list[int] = []
    member_keys: list[tuple[int, str]] = []
    for t, (_, programs) in enumerate(per_task):
        for keys in task_groups(list(programs), size):
            groups.append([programs[k] for k in keys])
            group_tasks.append(t)
            member_keys.extend((t, k) for k in keys)
    prepared = time.perf_counter()
    runs_before = int(scorer.runs.sum())
    if groups:
        valid, right, _ = scorer.run_packed(groups, pack_tasks(tasks, with_tests=False), np.array(group_tasks, np.int32))
    stats.runs += int(scorer.runs.sum()) - runs_before
    stats.execute_seconds += time.perf_counter() - prepared

    best: list[list[Candidate]] = [[] for _ in tasks]
    accuracy: list[dict[str, float]] = [{} for _ in tasks]
    for m, (t, key) in enumerate(member_keys):
        if not valid[m, t]:
            continue
        acc = float(np.float32(right[m, t] / len(tasks[t].train)))
        accuracy[t][key] = acc
        stats.valid += 1
        if right[m, t] > 0:
            best[t].append(Candidate(tasks[t].id, key, acc, False, program_length(key), ()))
    for t, (canonical, _) in enumerate(per_task):
        ok = [c for c in canonical if c is not None and c in accuracy[t]]
        stats.valid_samples += len(ok)
        stats.valid_accuracy_sum += float(sum(accuracy[t][c] for c in ok))
        best[t] = sorted(best[t], key=rank_key)[:top_k]
    stats.demo_accuracy_sum = stats.valid_accuracy_sum
    stats.relabel_seconds += prepared - started
    result.candidates = _with_tests(tasks, best, [p for _, p in per_task], executor, stats)
    return result


def _with_tests(tasks: list[Task], best: list[list[Candidate]], programs: list[dict[str, Program]],
                executor: Executor, stats) -> list[Candidate]:
    """``best[t]`` run on task t's test inputs: with their test outputs (None where a run failed)
    and whether they are all right (as ``relabel`` decides it)."""
    chosen = [(t, c) for t in range(len(tasks)) for c in best[t]]
    if not chosen:
        return []
    by_task_first: dict[int, int] = {}
    grids = []
    for t in sorted({t for t, _ in chosen}):
        by_task_first[t] = len(grids)
        grids.extend(pair.input for pair in tasks[t].test)
    jobs = [(k, by_task_first[t] + j) for k, (t, _) in enumerate(chosen) for j in range(len(tasks[t].test))]
    started = time.perf_counter()
    if jobs:
        run = executor.run([programs[t][c.program] for t, c in chosen], grids, np.asarray(jobs, dtype=np.int64))
    stats.execute_seconds += time.perf_counter() - started
    stats.runs += len(jobs)
    out, at = [], 0
    for t, c in chosen:
        task = tasks[t]
        outputs, right = [], True
        for pair in task.test:
            ok = int(run.status[at]) == 0
            grid = run.outputs.grid(at).copy() if ok else None
            outputs.append(grid)
            right = right and ok and pair.output is not None and np.array_equal(grid, np.asarray(pair.output))
            at += 1
        has_answers = all(pair.output is not None for pair in task.test)
        out.append(Candidate(c.task_id, c.program, c.demo_accuracy, bool(has_answers and right), c.length,
                             tuple(outputs)))
    return out
