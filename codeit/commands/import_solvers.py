"""Import a file of arc-dsl style solver functions into a seed folder.

The file is read as text (never imported or run as Python): each ``def solve_<task_id>(I):`` must
be a straight-line solver. Each becomes ``<out>/<task_id>.dsl`` in canonical program text; a run
seeds from the folder through its ``seed_dirs`` setting (``--set 'seed_dirs=[builtin, OUT]'``: the
built-in library and the imported solvers), as does ``codeit pretrain``; ``codeit mutate`` takes
the folder as ``--seeds``.
Anything that is not a straight-line solver
is rejected with its line and nothing is written; so is an --out that is not a folder, and a
``<task_id>.dsl`` there that is a symbolic link or not a file (codeit never writes through a link).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from codeit.commands.errors import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a Python file of solve_<task_id>(I) functions, in arc-dsl's style")
    parser.add_argument("--out", default="imported_seeds", help="folder to write <task_id>.dsl files into")


def check_targets(out: Path, task_ids: list[str]) -> dict[str, Path]:
    """The file each solver is written to, once every one of them is safe to write."""
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out}: exists and is not a folder")
    targets = {task_id: out / f"{task_id}.dsl" for task_id in task_ids}
    for target in targets.values():
        if target.is_symlink():
            raise CommandError(f"{target}: is a symbolic link; codeit does not write through links (remove it first)")
        if target.exists() and not target.is_file():
            raise CommandError(f"{target}: exists and is not a file")
    return targets


def write_file(path: Path, text: str) -> None:
    """Write ``path``, never through a symbolic link: a link put there after check_targets makes
    the open fail (O_NOFOLLOW) instead of writing wherever it points."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def main(args: argparse.Namespace) -> int:
    from codeit.dsl.arcdsl_import import import_solvers
    from codeit.dsl.program import print_program
    from codeit.textfile import read_text

    programs = import_solvers(read_text(args.file), args.file)
    out = Path(args.out)
    targets = check_targets(out, sorted(programs))
    out.mkdir(parents=True, exist_ok=True)
    for task_id, target in targets.items():
        write_file(target, print_program(programs[task_id]))
    print(f"imported {len(programs)} solvers from {args.file} into {out}/; "
          f"seed a run with them: codeit run --set 'seed_dirs=[builtin, {out}]'")
    return 0
