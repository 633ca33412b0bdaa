"""Profiling a workload on the native interpreter: where the time of many runs goes.

A workload is programs and the jobs that run them (program, input grid): the programs of .dsl files
on their tasks, the experiences of a run's store on their stored inputs, or a set of mutants drawn
from the seeds on their seeds' tasks. :func:`profile_workload` runs it with the native profiling
counters on and keeps, per job, its outcome, its wall time, each program line's wall time and the
size of its output; :func:`summarize` turns that into plain data (outcomes with their share of the
run time, per-primitive calls and time overall and per outcome, histograms of run times and output
sizes, and the tree the flame-graph picture draws).

Times: a job's time is the wall time of ``run_program`` for it (its lines, plus setting up and
checking the output); a line's time is its callee's call, arguments' function values included; a
primitive's time is inclusive (a higher-order primitive's contains the calls it makes) and leaves
out the call that fails (a failure jumps out of it), which its line's time still holds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from codeit.dsl.program import Program
    from codeit.execute.native import CompiledPrograms, NativeInterpreter

OUTCOMES = ("ok", "timeout", "step limit", "size limit", "type error", "runtime error", "bad output")
"""Outcome names, indexed by ``dsl.values.Status`` code."""

RUN_TIME_EDGES_NS = (0, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000)
RUN_TIME_LABELS = ("<1us", "1-10us", "10-100us", "0.1-1ms", "1-10ms", "10-100ms", "0.1-1s", ">=1s")
CELL_EDGES = (1, 2, 5, 17, 65, 257, 901)
CELL_LABELS = ("1", "2-4", "5-16", "17-64", "65-256", "257-900")
SIZE_EDGES = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
SIZE_LABELS = ("1-9", "10-99", "100-999", "1k-10k", "10k-100k", "100k-1M", ">=1M")


@dataclass
class Workload:
    """Programs and the jobs that run them."""

    description: str
    programs: list[Program]
    names: list[str]
    """One label per program (its file, or its task and origin)."""
    grids: list
    """Input grids (arrays or tuples of tuples)."""
    jobs: np.ndarray
    """int32 [n, 2]: (program index, grid index)."""
    extra: dict = field(default_factory=dict)
    """Facts about how the workload was built (for the report)."""


# -- workloads ----------------------------------------------------------------------------------


class _Builder:
    """A workload under construction: each task's inputs are added once, the first time one of its
    programs is, and every program runs on all of them (demonstrations, then tests)."""

    def __init__(self) -> None:
        self.programs: list = []
        self.names: list[str] = []
        self.grids: list = []
        self.jobs: list[tuple[int, int]] = []
        self._inputs: dict[str, list[int]] = {}

    def add(self, program, name: str, task) -> None:
        if task.id not in self._inputs:
            self._inputs[task.id] = list(range(len(self.grids), len(self.grids) + len(task.pairs)))
            self.grids.extend(pair.input for pair in task.pairs)
        self.jobs.extend((len(self.programs), g) for g in self._inputs[task.id])
        self.programs.append(program)
        self.names.append(name)

    def workload(self, description: str, extra: dict | None = None) -> Workload:
        return Workload(description, self.programs, self.names, self.grids,
                        np.array(self.jobs, dtype=np.int32).reshape(-1, 2), extra or {})


def files_workload(files: Sequence[Path], tasks, task_id: str | None = None) -> Workload:
    """Each .dsl file on the inputs of its task: ``task_id``, else the task its file is named after.
    ``tasks``: a task set (``codeit.tasks.load_tasks``). A missing task or a program that does not
    parse raises ValueError naming the file."""
    from codeit.dsl.program import ProgramError, parse
    from codeit.textfile import read_text

    by_id = {t.id: t for t in tasks}
    built = _Builder()
    for path in files:
        tid = task_id or Path(path).stem
        task = by_id.get(tid)
        if task is None:
            raise ValueError(f"{path}: no task {tid!r} in {getattr(tasks, 'name', 'the task set')} "
                             "(use --task or --tasks)")
        try:
            program = parse(read_text(path))
        except ProgramError as exc:
            raise ValueError(f"{path}: {exc}") from None
        built.add(program, Path(path).name, task)
    return built.workload(f"{len(built.programs)} program files")


def run_workload(run_dir: Path, origins: Sequence[str] = (), limit: int = 0) -> Workload:
    """The experiences of a run folder's store (``experience.db``, opened read-only), each program on
    the inputs stored with it. ``origins``: keep only these (seed, mutation, policy, relabel);
    ``limit``: the first N experiences (by id) that are kept, 0 for all."""
    import sqlite3

    from codeit.buffer.codec import decode_grids
    from codeit.buffer.store import ORIGINS
    from codeit.dsl.program import ProgramError, parse

    db = Path(run_dir) / "experience.db"
    if not db.is_file():
        raise FileNotFoundError(f"{run_dir}: no experience.db (not a run folder)")
    bad = [o for o in origins if o not in ORIGINS]
    if bad:
        raise ValueError(f"origin {bad[0]!r} is not one of {', '.join(ORIGINS)}")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        sql = "SELECT id, task_id, origin, program, inputs_hash FROM experiences"
        params: list = []
        if origins:
            sql += f" WHERE origin IN ({', '.join('?' * len(origins))})"
            params.extend(origins)
        sql += " ORDER BY id"
        if limit > 0:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = conn.execute(sql, params).fetchall()
        inputs: dict[bytes, tuple[int, int]] = {}  # inputs hash -> (first grid index, count)
        grids: list = []
        programs, names, jobs = [], [], []
        by_origin: dict[str, int] = {}
        unparsed = 0
        for exp_id, task_id, origin, text, inputs_hash in rows:
            try:
                program = parse(text)
            except ProgramError:
                unparsed += 1
                continue
            key = bytes(inputs_hash)
            if key not in inputs:
                (blob,) = conn.execute("SELECT grids FROM grid_sets WHERE hash = ?", (inputs_hash,)).fetchone()
                decoded = decode_grids(blob)
                inputs[key] = (len(grids), len(decoded))
                grids.extend(decoded)
            first, count = inputs[key]
            jobs.extend((len(programs), first + j) for j in range(count))
            programs.append(program)
            names.append(f"{task_id} {origin} #{exp_id}")
            by_origin[origin] = by_origin.get(origin, 0) + 1
    finally:
        conn.close()
    what = ", ".join(f"{n} {o}" for o, n in sorted(by_origin.items()))
    return Workload(f"run {run_dir}: {len(programs)} experiences ({what or 'none'})", programs, names, grids,
                    np.array(jobs, dtype=np.int32).reshape(-1, 2),
                    {"origins": by_origin, "unparsed": unparsed})


def sampled_workload(run_dir: Path, limit: int = 0) -> Workload:
    """Every program a run's policy sampled (``samples/``, written when ``keep_samples`` is on), valid
    or not, each on the inputs of the search task it was sampled for (demonstrations and tests), as
    the run ran them. ``limit``: the first N samples, 0 for all. Texts that do not parse are counted
    and left out: the run never ran them either."""
    from codeit.dsl.program import ProgramError, parse
    from codeit.run.config import load_config
    from codeit.run.samples import SAMPLES_DIR, read_samples
    from codeit.tasks import load_tasks

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise FileNotFoundError(f"{run_dir}: no config.yaml (not a run folder)")
    steps = read_samples(run_dir)
    if not steps:
        raise FileNotFoundError(f"{run_dir}: no sampled programs in {SAMPLES_DIR}/ (a run made with keep_samples off, "
                                "or before it existed; --run without --sampled profiles its store)")
    by_id = {t.id: t for t in load_tasks(load_config(run_dir / "config.yaml").search_set).tasks}
    built = _Builder()
    sampled = unparsed = 0
    for step in steps:
        for entry in step["tasks"]:
            task = by_id.get(entry["id"])
            if task is None:
                raise ValueError(f"{run_dir}: sampled task {entry['id']!r} is not in the run's search set")
            for k, text in enumerate(entry["programs"]):
                if limit and sampled >= limit:
                    break
                sampled += 1
                try:
                    program = parse(text)
                except ProgramError:
                    unparsed += 1
                    continue
                built.add(program, f"{task.id} iteration {step['iteration']} #{k}", task)
    return built.workload(f"run {run_dir}: {len(built.programs)} sampled programs ({unparsed} of {sampled} did not "
                          "parse)", {"sampled": sampled, "unparsed": unparsed})


def mutant_workload(n: int, seed: int, seeds: Sequence, tasks: dict) -> Workload:
    """``n`` distinct mutants (``codeit.search.mutate.mutate``), each of a seed drawn uniformly,
    each on every input (demonstrations, then tests) of its seed's task: what the mutation search
    runs, before it keeps the mutants that run OK. Deterministic for a given ``seed``. Raises
    ValueError when the seeds give too few distinct mutants (100 draws a mutant, on average)."""
    from codeit.dsl.program import check, print_program
    from codeit.search.mutate import mutate

    if not seeds:
        raise ValueError("no seed programs to mutate")
    rng = np.random.default_rng(seed)
    static = [None] * len(seeds)
    seen = {print_program(s.program) for s in seeds}
    built = _Builder()
    drawn = failed = 0
    while len(built.programs) < n:
        k = int(rng.integers(len(seeds)))
        s = seeds[k]
        if static[k] is None:
            static[k] = check(s.program)
        mutant = mutate(s.program, rng, static=static[k])
        drawn += 1
        if drawn > 100 * (n + 10):
            raise ValueError(f"only {len(built.programs)} distinct mutants of {n} after {drawn - 1} draws "
                             "(too few seeds to mutate?)")
        if mutant is None:
            failed += 1
            continue
        text = print_program(mutant)
        if text in seen:
            continue
        seen.add(text)
        built.add(mutant, f"{s.task_id} mutant {len(built.programs) + 1}", tasks[s.task_id])
    return built.workload(f"{n} mutants of {len(seeds)} seeds (seed {seed})", {"draws": drawn, "failed_draws": failed})


# -- running ------------------------------------------------------------------------------------


@dataclass
class ProfileData:
    """A workload's profiled runs; times are means over ``reps`` repetitions."""

    reps: int
    threads: int
    wall_s: float
    """Mean wall seconds of one pass over the workload (all jobs, all threads)."""
    status: np.ndarray
    """uint8 [n]: outcome code of each job (its last repetition)."""
    unstable: int
    """Jobs whose outcome differed between repetitions (timeouts near the limit)."""
    steps: np.ndarray
    job_ns: np.ndarray
    """float64 [n]: wall nanoseconds of each job (its fastest repetition, or the mean: ``job_time``)."""
    line_ns: np.ndarray
    """float64 [n, longest program]: nanoseconds of each line of each job (from the same repetition)."""
    shapes: np.ndarray
    output_size: np.ndarray
    """int64 [n]: value_size of O (-1 when the program did not finish)."""
    prim_calls: np.ndarray
    prim_ns: np.ndarray
    prim_calls_by_status: np.ndarray
    """float64 [7, 160]: calls of each primitive made in jobs of each outcome (mean per pass)."""
    prim_ns_by_status: np.ndarray
    job_time: str = "mean"
    """How ``job_ns`` and ``line_ns`` combine repetitions: ``"min"`` (fastest) or ``"mean"``."""


def profile_workload(workload: Workload, interp: NativeInterpreter, reps: int = 1,
                     compiled: CompiledPrograms | None = None, job_time: str = "min") -> ProfileData:
    """Run every job of ``workload`` ``reps`` times with profiling on. ``job_time``: which
    repetition's times a job keeps, its fastest (``"min"``: the one least disturbed by other
    processes, whose preemptions land in whatever line is running) or their ``"mean"``; the
    per-primitive totals are always means."""
    if job_time not in ("min", "mean"):
        raise ValueError(f"job_time must be 'min' or 'mean', got {job_time!r}")
    compiled = compiled if compiled is not None else interp.compile(workload.programs)
    reps = max(1, int(reps))
    totals = None
    job_ns = line_ns = status = None
    unstable = np.zeros(len(workload.jobs), dtype=bool)
    wall = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        r = interp.run_batch(compiled, workload.grids, workload.jobs, profile=True)
        wall += time.perf_counter() - t0
        parts = [np.asarray(p, dtype=np.float64)
                 for p in (r.prim_calls, r.prim_nanos, r.prim_calls_by_status, r.prim_nanos_by_status)]
        totals = parts if totals is None else [a + p for a, p in zip(totals, parts)]
        jn, ln = r.job_nanos.astype(np.float64), r.line_nanos.astype(np.float64)
        if status is None:
            job_ns, line_ns = jn, ln
        elif job_time == "mean":
            job_ns, line_ns = job_ns + jn, line_ns + ln
        else:
            faster = jn < job_ns
            job_ns = np.where(faster, jn, job_ns)
            line_ns = np.where(faster[:, None], ln, line_ns)
        if status is not None:
            unstable |= status != r.status
        status = r.status
    if job_time == "mean":
        job_ns, line_ns = job_ns / reps, line_ns / reps
    calls, nanos, calls_s, nanos_s = (a / reps for a in totals)
    return ProfileData(reps, interp.threads, wall / reps, status.copy(), int(unstable.sum()), r.steps, job_ns, line_ns,
                       r.shapes, r.output_size, calls, nanos, calls_s, nanos_s, job_time)


# -- summaries ----------------------------------------------------------------------------------


def _histogram(values: np.ndarray, edges: Sequence[float], labels: Sequence[str]) -> list[dict]:
    """Counts of ``values`` in [edges[k], edges[k+1]) (the last bin open above)."""
    bounds = list(edges) + [np.inf] if len(labels) == len(edges) else list(edges)
    counts = np.histogram(values, bins=np.array(bounds, dtype=np.float64))[0] if len(values) else \
        np.zeros(len(labels), dtype=np.int64)
    return [{"bin": label, "from": float(bounds[k]), "to": float(bounds[k + 1]), "runs": int(c)}
            for k, (label, c) in enumerate(zip(labels, counts))]


def line_label(program: Program, k: int) -> str:
    """What line k calls: its primitive, or, for a function held in a variable, ``call of``
    the primitive that built it."""
    ref = program.lines[k].func
    if ref.kind == "prim":
        return str(ref.value)
    if ref.kind == "var":
        inner = program.lines[int(ref.value)].func
        return f"call of {inner.value}" if inner.kind == "prim" else "call of a function value"
    return f"call of {'I' if ref.kind == 'input' else ref.value}"


def flame_tree(workload: Workload, data: ProfileData, top_programs: int = 12) -> dict:
    """all runs -> outcome -> what a line calls -> program, each node ``{"name", "ns", "runs",
    "children"}`` with its time in nanoseconds (children never add up to more than their parent);
    an outcome's time outside its lines (setup, output check) is its ``(outside lines)`` child, and
    past the ``top_programs`` largest, a callee's programs are one ``(N other programs)`` child."""
    n_prog = len(workload.programs)
    labels: list[str] = []
    label_id: dict[str, int] = {}
    width = data.line_ns.shape[1] if data.line_ns.ndim == 2 else 0
    table = np.full((n_prog, max(width, 1)), -1, dtype=np.int64)
    for p, program in enumerate(workload.programs):
        for k in range(len(program.lines)):
            name = line_label(program, k)
            if name not in label_id:
                label_id[name] = len(labels)
                labels.append(name)
            table[p, k] = label_id[name]
    prog_of_job = workload.jobs[:, 0].astype(np.int64)
    root = {"name": "all runs", "ns": float(data.job_ns.sum()), "runs": len(data.status), "children": []}
    for s, outcome in enumerate(OUTCOMES):
        mask = data.status == s
        if not mask.any():
            continue
        node = {"name": outcome, "ns": float(data.job_ns[mask].sum()), "runs": int(mask.sum()), "children": []}
        root["children"].append(node)
        if width:
            lab = table[prog_of_job[mask], :width]
            t = data.line_ns[mask]
            progs = np.broadcast_to(prog_of_job[mask][:, None], lab.shape)
            keep = (lab >= 0) & (t > 0)
            keys = lab[keep] * n_prog + progs[keep]
            uniq, inverse = np.unique(keys, return_inverse=True)
            sums = np.bincount(inverse, weights=t[keep], minlength=len(uniq))
            by_label: dict[int, list[tuple[float, int]]] = {}
            for key, ns in zip(uniq.tolist(), sums.tolist()):
                by_label.setdefault(key // n_prog, []).append((ns, key % n_prog))
            children = []
            for lid, items in by_label.items():
                items.sort(key=lambda x: (-x[0], x[1]))
                total = sum(ns for ns, _ in items)
                kids = [{"name": workload.names[p], "ns": ns, "children": []} for ns, p in items[:top_programs]]
                rest = items[top_programs:]
                if rest:
                    kids.append({"name": f"({len(rest)} other programs)", "ns": sum(ns for ns, _ in rest),
                                 "children": []})
                children.append({"name": labels[lid], "ns": total, "children": kids})
            children.sort(key=lambda c: (-c["ns"], c["name"]))
            outside = node["ns"] - sum(c["ns"] for c in children)
            if outside > 0:
                children.append({"name": "(outside lines)", "ns": outside, "children": []})
            # Lines are timed inside the job: their sum can pass the job's time only by clock
            # rounding; scale so that children never outgrow their parent.
            over = sum(c["ns"] for c in children)
            if over > node["ns"] > 0:
                _scale(children, node["ns"] / over)
            node["children"] = children
    return root


def _scale(nodes: list[dict], factor: float) -> None:
    for node in nodes:
        node["ns"] *= factor
        _scale(node["children"], factor)


def summarize(workload: Workload, data: ProfileData, top_programs: int = 12) -> dict:
    """Everything the report shows, as plain data (what ``--json`` writes)."""
    from codeit.dsl import registry

    n = len(data.status)
    total = float(data.job_ns.sum())
    outcomes = []
    for s, name in enumerate(OUTCOMES):
        mask = data.status == s
        runs = int(mask.sum())
        ns = float(data.job_ns[mask].sum())
        outcomes.append({"outcome": name, "runs": runs, "run_share": runs / n if n else 0.0, "ns": ns,
                         "time_share": ns / total if total > 0 else 0.0,
                         "mean_us": ns / runs / 1e3 if runs else 0.0})
    primitives = []
    for k in np.argsort(-data.prim_ns, kind="stable"):
        if data.prim_calls[k] == 0:
            continue
        primitives.append({
            "name": registry.PRIMITIVES[k].name, "calls": float(data.prim_calls[k]), "ns": float(data.prim_ns[k]),
            "by_outcome": {OUTCOMES[s]: {"calls": float(data.prim_calls_by_status[s, k]),
                                         "ns": float(data.prim_ns_by_status[s, k])}
                           for s in range(len(OUTCOMES)) if data.prim_calls_by_status[s, k] > 0},
        })
    ok = data.status == 0
    cells = (data.shapes[ok, 0].astype(np.int64) * data.shapes[ok, 1])
    finished = data.output_size >= 0
    failed = ~ok
    return {
        "workload": {"description": workload.description, "programs": len(workload.programs), "runs": n,
                     "grids": len(workload.grids), **workload.extra},
        "native": {"threads": data.threads, "reps": data.reps, "job_time": data.job_time, "wall_s": data.wall_s,
                   "run_ns": total,
                   "unstable_outcomes": data.unstable},
        "outcomes": outcomes,
        "failed": {"runs": int(failed.sum()), "ns": float(data.job_ns[failed].sum()),
                   "time_share": float(data.job_ns[failed].sum()) / total if total > 0 else 0.0},
        "primitives": primitives,
        "histograms": {
            "run_time": _histogram(data.job_ns, RUN_TIME_EDGES_NS, RUN_TIME_LABELS),
            "output_cells": _histogram(cells, CELL_EDGES, CELL_LABELS),
            "output_value_size": _histogram(data.output_size[finished], SIZE_EDGES, SIZE_LABELS),
        },
        "flame": flame_tree(workload, data, top_programs),
    }


def histogram_lines(title: str, rows: list[dict], width: int = 40) -> list[str]:
    """A text histogram: one line per bin, with a bar scaled to the largest bin."""
    top = max((r["runs"] for r in rows), default=0)
    total = sum(r["runs"] for r in rows)
    out = [f"{title} ({total} runs)"]
    for r in rows:
        bar = "#" * (round(width * r["runs"] / top) if top else 0)
        share = r["runs"] / total if total else 0.0
        out.append(f"  {r['bin']:>10s} {r['runs']:9d} {share:7.1%}  {bar}")
    return out
