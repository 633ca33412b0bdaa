"""Import a file of arc-dsl style solver functions into a seed folder.

The file is read as text (never imported or run as Python): each ``def solve_<task_id>(I):`` must
be a straight-line solver. Each becomes ``<out>/<task_id>.dsl`` in canonical program text; point
a run at the folder with the ``extra_seeds`` setting. Anything that is not a straight-line solver
is rejected with its line and nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a Python file of solve_<task_id>(I) functions, in arc-dsl's style")
    parser.add_argument("--out", default="imported_seeds", help="folder to write <task_id>.dsl files into")


def main(args: argparse.Namespace) -> int:
    from codeit.dsl.arcdsl_import import SolverImportError, import_solver_file
    from codeit.dsl.program import ProgramError, print_program

    try:
        programs = import_solver_file(args.file)
    except (SolverImportError, ProgramError, OSError) as exc:
        print(f"codeit import-solvers: {exc}")
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for task_id, program in sorted(programs.items()):
        (out / f"{task_id}.dsl").write_text(print_program(program))
    print(f"imported {len(programs)} solvers from {args.file} into {out}/")
    return 0
