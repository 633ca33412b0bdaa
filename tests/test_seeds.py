"""Every seed program dsl/seeds/<task_id>.dsl parses and solves its ARC-AGI-1 training task."""

from pathlib import Path

import pytest

from codeit.dsl import registry
from codeit.dsl.interpreter import run_on_task
from codeit.dsl.program import parse

SEED_DIR = Path(registry.__file__).resolve().parent / "seeds"
SEED_FILES = sorted(SEED_DIR.glob("*.dsl"))


@pytest.fixture(scope="module")
def training_tasks():
    from codeit.tasks import load_tasks

    return {t.id: t for t in load_tasks("arc1/training")}


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_seed_solves_its_task(path, training_tasks):
    program = parse(path.read_text(encoding="utf-8"))
    task = training_tasks.get(path.stem)
    assert task is not None, f"{path.name}: no ARC-AGI-1 training task {path.stem}"
    result = run_on_task(program, task)
    failures = [
        f"{p.split} {p.index}: {p.result.status.name}"
        + (f" at line {p.result.error_line}: {p.result.error}" if not p.result.ok else ": output differs")
        for p in result.pairs if not p.matches
    ]
    assert not failures, f"{path.name}: " + "; ".join(failures)
