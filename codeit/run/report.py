"""What a run leaves in its folder for people: metrics lines, a learning curve, solutions, an HTML page.

- ``metrics.jsonl``: one JSON object per meta-iteration. The rows live in the run's store (each
  committed with the run state that counts its iteration); the file is rewritten from them after
  each iteration and when a run is opened, through a temporary file and a rename, so it always
  holds exactly the committed rows, each once.
- ``learning_curve.png``: tasks solved (cumulative and policy-only) against programs sampled.
- ``solutions.json``: per solved task, its selected programs and their test outputs.
- ``report.html``: each solved task's demo and test grids beside its program.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from codeit.relabel import Candidate
from codeit.tasks import Task

# The ARC palette, colours 0..9.
PALETTE = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00", "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"]


def write_metrics(run_dir: Path, rows: list[dict]) -> Path:
    """Replace ``metrics.jsonl`` with ``rows`` atomically: a reader (or a kill) sees the old file or
    the new one, never a part."""
    path = Path(run_dir) / "metrics.jsonl"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.writelines(json.dumps(row, sort_keys=True) + "\n" for row in rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def append_metrics(run_dir: Path, record: dict) -> None:
    """Append one row to ``metrics.jsonl`` (for tools outside the run driver, which uses :func:`write_metrics`)."""
    with open(run_dir / "metrics.jsonl", "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def read_metrics(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


_PLOT_SKIPPED_NOTE = ("learning_curve.png skipped: matplotlib is not installed "
                      '(pip install -c constraints/cpu.txt -e ".[plot]")')
_plot_note_shown = False


def plot_learning_curve(run_dir: Path, metrics: list[dict]) -> Path | None:
    """Tasks solved against programs sampled; None when matplotlib is not installed (said once, on
    standard error)."""
    global _plot_note_shown
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if not _plot_note_shown:
            import sys

            print(_PLOT_SKIPPED_NOTE, file=sys.stderr)
            _plot_note_shown = True
        return None
    x = [m["programs_sampled_total"] for m in metrics]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(x, [m["solved_cumulative"] for m in metrics], marker="o", label="cumulative")
    ax.plot(x, [m["solved_policy"] for m in metrics], marker="s", label="policy only (this iteration)")
    ax.set_xlabel("programs sampled")
    ax.set_ylabel("tasks solved")
    ax.set_title("codeit learning curve")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = run_dir / "learning_curve.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def _grid_list(grid: np.ndarray | None) -> list | None:
    return None if grid is None else np.asarray(grid).tolist()


def write_solutions(run_dir: Path, selected: dict[str, list[Candidate]]) -> Path:
    """Every task with candidates: its selected programs, best first, and whether each is right."""
    out = {
        task_id: [
            {
                "program": c.program,
                "demo_accuracy": c.demo_accuracy,
                "test_correct": c.test_correct,
                "length": c.length,
                "test_outputs": [_grid_list(g) for g in c.test_outputs],
            }
            for c in cands
        ]
        for task_id, cands in sorted(selected.items())
    }
    path = run_dir / "solutions.json"
    path.write_text(json.dumps(out, indent=1))
    return path


def _grid_html(grid: np.ndarray | None) -> str:
    if grid is None:
        return '<div class="grid none">no output</div>'
    rows = []
    for row in np.asarray(grid):
        cells = "".join(f'<td style="background:{PALETTE[int(v) % 10]}"></td>' for v in row)
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="grid">{"".join(rows)}</table>'


def write_html(run_dir: Path, tasks: Iterable[Task], selected: dict[str, list[Candidate]], title: str) -> Path:
    """One section per solved task: demos, the test with the program's output, the program."""
    sections = []
    for task in tasks:
        right = [c for c in selected.get(task.id, []) if c.test_correct]
        if not right:
            continue
        best = right[0]
        demos = "".join(
            f'<div class="pair">{_grid_html(p.input)}<span>&rarr;</span>{_grid_html(p.output)}</div>' for p in task.train
        )
        tests = "".join(
            f'<div class="pair">{_grid_html(p.input)}<span>&rarr;</span>{_grid_html(out)}</div>'
            for p, out in zip(task.test, best.test_outputs)
        )
        sections.append(
            f'<section><h2>{html.escape(task.id)}</h2><h3>demos</h3>{demos}<h3>test (program output)</h3>{tests}'
            f"<pre>{html.escape(best.program)}</pre></section>"
        )
    body = "".join(sections) or "<p>No task solved yet.</p>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>
body{{font-family:sans-serif;margin:1em 2em}} section{{border-top:1px solid #ccc;padding:.5em 0}}
.pair{{display:inline-flex;align-items:center;gap:.4em;margin:.3em 1em .3em 0}}
table.grid{{border-collapse:collapse}} table.grid td{{width:10px;height:10px;border:1px solid #333;padding:0}}
pre{{background:#f4f4f4;padding:.5em}}</style></head><body><h1>{html.escape(title)}</h1>
<p>{len(sections)} solved task(s).</p>{body}</body></html>"""
    path = run_dir / "report.html"
    path.write_text(page)
    return path
