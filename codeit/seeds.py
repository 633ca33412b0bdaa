"""The seed library: verified programs for ARC-AGI-1 training tasks, one ``dsl/seeds/<task_id>.dsl`` each.

They start the buffer (as experiences on their own tasks) and are what mutation grows from.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

from codeit.dsl.program import Program, ProgramError, parse
from codeit.textfile import read_text



@dataclass(frozen=True)
class Seed:
    task_id: str
    text: str
    program: Program
    path: Path


def seed_dir() -> Path:
    """The folder of the installed seed programs (``codeit.dsl`` maps the top-level ``dsl/``)."""
    import codeit.dsl

    return Path(codeit.dsl.__file__).resolve().parent / "seeds"


def load_seeds(folder: str | Path | None = None) -> list[Seed]:
    """Every ``*.dsl`` file of a folder, parsed, sorted by task id.

    A program that does not parse raises ProgramError naming the file and the line; a file that is
    not UTF-8 text raises TextFileError naming it, and a folder that is not there
    NotADirectoryError (rather than an empty library).
    """
    folder = Path(folder) if folder is not None else seed_dir()
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "no such seed folder", str(folder))
    seeds = []
    for path in sorted(folder.glob("*.dsl")):
        text = read_text(path)
        try:
            program = parse(text)
        except ProgramError as exc:
            raise ProgramError(exc.line, f"{path}: {exc.reason}") from None
        seeds.append(Seed(path.stem, text, program, path))
    return seeds
