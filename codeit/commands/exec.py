"""Run a DSL program on every pair of an ARC task and show expected and produced grids.

PROGRAM is a .dsl file, ``-`` for standard input, or the program text itself; an argument that
looks like a path (it ends in .dsl, .py or .txt, or holds a path separator and no ``=``) is read
as a file, and refused as "no such file" when there is none. The task is
looked up by id in ARC-AGI-1 training and evaluation (then ARC-AGI-2). The runs go through the
executor named by ``--executor`` (native by default); a failed run's message and line come from
the reference interpreter. Exit status: 0 when every pair matches, 1 when some pair does not,
2 when the program does not parse, the task is unknown or the executor cannot load.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from codeit.commands.errors import CommandError
from codeit.commands.executor_options import add_executor_arguments, executor_from_args, limits_from_args

# The interpreter, the executors and the parser are imported where they are used, so that building
# the command line costs nothing.
if TYPE_CHECKING:
    from codeit.dsl.interpreter import PairResult

# ANSI 256-colour backgrounds close to the ARC palette (0 black, 1 blue, 2 red, 3 green, ...).
_ARC_COLOURS = (16, 27, 196, 40, 226, 250, 201, 208, 51, 88)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", metavar="PROGRAM", help="a .dsl file, '-' for stdin, or the program text")
    parser.add_argument("--task", required=True, help="ARC task id, e.g. 007bbfb7")
    parser.add_argument("--tasks", default=None, help="task set or path to search instead (e.g. arc1/training)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the cells (default: when writing to a terminal)")
    parser.add_argument("--show-input", action="store_true", help="also show each pair's input grid")
    add_executor_arguments(parser)


PROGRAM_FILE_ENDINGS = (".dsl", ".py", ".txt")


def looks_like_a_path(program: str) -> bool:
    """Whether the PROGRAM argument names a file rather than holding program text: one line that
    ends like a program file, or that holds a path separator and no assignment."""
    if "\n" in program:
        return False
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return program.endswith(PROGRAM_FILE_ENDINGS) or ("=" not in program and any(s in program for s in separators))


def read_program_text(program: str) -> tuple[str, str]:
    """(text, where it came from) for the PROGRAM argument."""
    from codeit.textfile import decode, read_text

    if program == "-":
        return decode(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"
    if looks_like_a_path(program) or ("\n" not in program and "(" not in program and Path(program).is_file()):
        if not os.path.lexists(program):
            raise CommandError(f"{program}: no such file")
        return read_text(program), program
    return program, "<argument>"


def grid_rows(grid, colour: bool) -> list[str]:
    """One string per row: a digit per cell, or coloured cells."""
    if grid is None:
        return []
    rows = []
    for row in grid:
        if colour:
            rows.append("".join(f"\x1b[48;5;{_ARC_COLOURS[v % 10]}m{v}\x1b[0m" for v in row))
        else:
            rows.append("".join(str(v) for v in row))
    return rows


def side_by_side(columns: list[tuple[str, list[str], int]]) -> str:
    """Columns of (title, rows, visible width) printed next to each other."""
    widths = [max(len(title), width) for title, _, width in columns]
    height = max((len(rows) for _, rows, _ in columns), default=0)
    out = ["   ".join(title.ljust(w) for (title, _, _), w in zip(columns, widths))]
    for i in range(height):
        cells = []
        for (_, rows, width), w in zip(columns, widths):
            text = rows[i] if i < len(rows) else ""
            visible = width if i < len(rows) else 0
            cells.append(text + " " * (w - visible))
        out.append("   ".join(cells).rstrip())
    return "\n".join(out)


def describe_pair(pair: PairResult, grid_in, colour: bool, show_input: bool) -> str:
    from codeit.dsl.interpreter import as_grid

    result = pair.result
    if pair.matches:
        verdict = "match"
    elif result.ok:
        verdict = "MISMATCH" if pair.expected is not None else "no expected output"
    else:
        where = f" at line {result.error_line}" if result.error_line is not None else ""
        verdict = f"{result.status.name}{where}: {result.error}"
    header = f"{pair.split} {pair.index}: {verdict}  ({result.steps} steps)"
    columns = []
    if show_input:
        g = as_grid(grid_in)
        columns.append(("input", grid_rows(g, colour), len(g[0]) if g else 0))
    columns.append(("expected", grid_rows(pair.expected, colour), len(pair.expected[0]) if pair.expected else 0))
    out = result.output
    columns.append(("produced", grid_rows(out, colour), len(out[0]) if out else 0))
    return header + "\n" + side_by_side(columns)


def main(args: argparse.Namespace) -> int:
    from codeit.dsl.interpreter import PairResult, as_grid
    from codeit.dsl.program import ProgramError, parse
    from codeit.execute.backends import NativeUnavailableError
    from codeit.execute.executor import cross_jobs

    text, source = read_program_text(args.program)
    try:
        program = parse(text)
    except ProgramError as e:
        raise CommandError(f"{source}: {e}") from e
    from codeit.tasks import load_task

    try:
        task = load_task(args.task, args.tasks)
    except KeyError as e:
        raise CommandError(e.args[0]) from e
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    try:
        executor = executor_from_args(args)
    except NativeUnavailableError as e:
        raise CommandError(str(e)) from e
    pairs = [("train", i, p) for i, p in enumerate(task.train)] + [("test", i, p) for i, p in enumerate(task.test)]
    inputs = [p.input for _, _, p in pairs]
    result = executor.run([program], inputs, cross_jobs(1, range(len(inputs))))
    limits = limits_from_args(args)
    results = []
    for k, (split, i, pair) in enumerate(pairs):
        results.append(PairResult(split, i, pair_run(program, pair.input, result, k, limits),
                                  as_grid(pair.output) if pair.output is not None else None))
    for pair, grid_in in zip(results, inputs):
        print(describe_pair(pair, grid_in, colour, args.show_input))
        print()
    known = [p for p in results if p.expected is not None]
    n_match = sum(p.matches for p in known)
    solved = bool(known) and n_match == len(known)
    print(f"task {task.id}: {n_match}/{len(known)} pairs match" + (" (solved)" if solved else ""))
    return 0 if solved else 1


def pair_run(program, grid, result, k: int, limits):
    """Job k of the executor's result as a ``RunResult``; a failure carries the reference's message and line."""
    from codeit.dsl.interpreter import RunResult
    from codeit.dsl.values import Status
    from codeit.execute.reference import run_reference

    status = Status(int(result.status[k]))
    if status == Status.OK:
        out = result.outputs.grid(k)
        return RunResult(status, tuple(tuple(int(v) for v in row) for row in out), None, None, int(result.steps[k]))
    ref = run_reference(program, grid, limits)
    detail = ref.error if ref.status == status else f"(the reference ends with {ref.status.name}: {ref.error})"
    return RunResult(status, None, ref.error_line, detail, int(result.steps[k]))
