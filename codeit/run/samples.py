"""A run's sampled programs, kept whole: every program the policy wrote, valid or not.

The experience store keeps what a run learns from (programs that ran to a valid grid); profiling
the execution hot path wants what the run actually executed, failures included. A run with
``keep_samples`` on writes each step of tasks to ``samples/iter_NNN/step_SSSS.json.gz``, before
the step is stored, whole or not at all.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import TYPE_CHECKING

from codeit.atomic import write_atomically

if TYPE_CHECKING:
    from codeit.tasks import Task


SAMPLES_DIR = "samples"
"""In a run folder: every sampled program, one ``iter_NNN/step_SSSS.json.gz`` per step of tasks."""


def write_samples(run_dir: Path, iteration: int, start: int, tasks: list[Task], samples: list[list[str]]) -> Path:
    """One step's sampled programs, as ``{"iteration", "start", "tasks": [{"id", "programs"}]}``. A step
    sampled again after a stop draws the same programs (its seed is fixed) and rewrites the same file."""
    path = Path(run_dir) / SAMPLES_DIR / f"iter_{iteration:03d}" / f"step_{start:04d}.json.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"iteration": iteration, "start": start,
            "tasks": [{"id": t.id, "programs": list(p)} for t, p in zip(tasks, samples)]}
    write_atomically(path, lambda tmp: tmp.write_bytes(gzip.compress(json.dumps(data).encode(), compresslevel=6)))
    return path


def read_samples(run_dir: Path) -> list[dict]:
    """Every step file ``write_samples`` left in a run folder, in order of iteration and step."""
    out = []
    for path in sorted((Path(run_dir) / SAMPLES_DIR).glob("iter_*/step_*.json.gz")):
        try:
            out.append(json.loads(gzip.decompress(path.read_bytes())))
        except (OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path}: not a samples file ({type(exc).__name__}: {exc})") from None
    return out
