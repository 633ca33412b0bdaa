"""Read arc-dsl style solver files (``def solve_<id>(I): ... return O``) into programs.

The file is read as text, line by line, and never imported or run as Python: each solver body
must be straight-line ``NAME = CALLEE(ARG, ...)`` assignments ending in ``return O``, which is
then parsed by ``program.parse``. Anything else (branches, loops, nested definitions, other
statements) is rejected with the file's line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codeit.dsl.program import Program, ProgramError, parse

_DEF = re.compile(r"def\s+solve_([0-9A-Za-z_]+)\s*\(\s*I\s*\)\s*(?:->\s*[A-Za-z_][A-Za-z0-9_]*\s*)?:\Z")
_IMPORT = re.compile(r"(?:from\s+[A-Za-z_][A-Za-z0-9_.]*\s+import\s+[A-Za-z_*][A-Za-z0-9_, ]*|import\s+[A-Za-z_][A-Za-z0-9_., ]*)\Z")
_RETURN = re.compile(r"return\s+O\Z")


class SolverImportError(ValueError):
    """A solver file line that is not part of a straight-line solver."""

    def __init__(self, path: str, line: int, reason: str, task_id: str | None = None):
        self.path = path
        """The file (or ``<text>``)."""
        self.line = line
        """1-based line number in the file."""
        self.reason = reason
        """What is wrong."""
        self.task_id = task_id
        """The solver being read, when inside one."""
        where = f"{path}:{line}"
        if task_id is not None:
            where += f" (solve_{task_id})"
        super().__init__(f"{where}: {reason}")


@dataclass
class SolverFile:
    """The solvers of one file: the programs that parsed, and the errors of those that did not."""

    programs: dict[str, Program] = field(default_factory=dict)
    """task id -> program, for every solver that is a well-formed program."""
    errors: dict[str, SolverImportError] = field(default_factory=dict)
    """task id (or ``line N`` outside any solver) -> why it was rejected."""


def _body_to_program(task_id: str, body: list[tuple[int, str]], path: str) -> Program:
    text = "\n".join(code for _, code in body) + "\n"
    try:
        parsed = parse(text)
    except ProgramError as e:
        file_line = body[e.line - 1][0] if 0 < e.line <= len(body) else (body[-1][0] if body else 0)
        raise SolverImportError(path, file_line, e.reason, task_id) from None
    return Program(parsed.lines, tuple(body[n - 1][0] for n in parsed.source_lines))


def read_solvers(text: str, path: str = "<text>") -> SolverFile:
    """Every solver of a file's text; each rejected solver is recorded, the others kept."""
    result = SolverFile()
    task_id: str | None = None
    body: list[tuple[int, str]] = []
    failed = False
    def_line = 0

    def fail(err: SolverImportError) -> None:
        nonlocal failed
        if not failed:
            result.errors[err.task_id or f"line {err.line}"] = err
        failed = True

    for number, raw in enumerate(text.splitlines(), start=1):
        code = raw.split("#", 1)[0].rstrip()
        if not code.strip():
            continue
        indented = code[0] in " \t"
        stripped = code.strip()
        if not indented:
            if task_id is not None:
                last = body[-1][0] if body else def_line
                fail(SolverImportError(path, last, "solver ends without 'return O'", task_id))
                task_id = None
            m = _DEF.match(stripped)
            if m:
                task_id, body, failed, def_line = m.group(1), [], False, number
                if task_id in result.programs or task_id in result.errors:
                    fail(SolverImportError(path, number, f"second solver for task {task_id}", task_id))
                continue
            if _IMPORT.match(stripped):
                continue
            result.errors[f"line {number}"] = SolverImportError(
                path, number, "not a solver definition 'def solve_<id>(I):' nor an import")
            continue
        if task_id is None:
            result.errors[f"line {number}"] = SolverImportError(path, number, "indented line outside a solver")
            continue
        if failed:
            continue
        if _RETURN.match(stripped):
            if not body:
                fail(SolverImportError(path, number, "solver has no assignments", task_id))
            else:
                try:
                    result.programs[task_id] = _body_to_program(task_id, body, path)
                except SolverImportError as e:
                    fail(e)
            task_id = None  # an indented line after the return is outside any solver
            continue
        first_word = stripped.split(None, 1)[0].rstrip(":")
        if first_word in ("if", "elif", "else", "for", "while", "with", "try", "except", "def",
                          "lambda", "return", "yield", "class", "global", "nonlocal", "pass",
                          "break", "continue", "assert", "del", "raise", "import", "from"):
            fail(SolverImportError(path, number, f"'{first_word}' statement: a solver must be straight-line assignments ending in 'return O'", task_id))
            continue
        body.append((number, stripped))
    if task_id is not None and not failed:
        last = body[-1][0] if body else def_line
        fail(SolverImportError(path, last, "solver ends without 'return O'", task_id))
    return result


def import_solvers(text: str, path: str = "<text>") -> dict[str, Program]:
    """{task_id: Program} of a solver file's text; raises the first ``SolverImportError``."""
    result = read_solvers(text, path)
    if result.errors:
        raise min(result.errors.values(), key=lambda e: e.line)
    return result.programs
