"""The one line a command prints for bad input, and the exit status that goes with it.

A command refuses bad input by raising: its own :class:`CommandError`, or the error of the layer
that found the fault (a ``TaskError``, a ``ProgramError``, an ``OSError``, ...: the
:data:`INPUT_FAULTS`). ``codeit.cli`` catches them, prints :func:`error_line` on standard error and
exits with :data:`BAD_INPUT`; ``codeit --debug`` shows the traceback instead. The line names what
is bad (a file, a task, a program line) and the fault, and stays one readable line whatever the
input held: control characters are escaped, and an overlong piece (a 600 KB program line, a
name of a million characters) is cut.
"""

from __future__ import annotations

import re

from codeit.textfile import fault_of

BAD_INPUT = 2
"""The exit status of a command refused its input."""

MAX_PIECE = 200
"""Characters shown of one unbroken piece of a message (a program line, a name, a value)."""
MAX_LINE = 1000
"""Characters shown of the whole line."""
ELLIPSIS = "\u2026"


class CommandError(Exception):
    """A command refuses its input; ``str()`` names what is bad and why."""


INPUT_FAULTS: tuple[type[BaseException], ...] = (CommandError, ValueError, OSError)
"""What bad input raises. ValueError covers the loaders' own errors (TaskError, ProgramError,
SolverImportError, TextFileError, a configuration's ValueError); OSError a file that cannot be
read or written. (Input nested past a parser's recursion is caught where the file is known:
``codeit.textfile``.)"""


def describe_fault(exc: BaseException) -> str:
    """The words for one fault: an OSError as ``PATH: reason``, bytes that are not UTF-8 as where
    they are, anything else its message."""
    if isinstance(exc, UnicodeDecodeError):
        return fault_of(exc)
    if isinstance(exc, OSError) and exc.strerror:
        if exc.filename is None:
            return exc.strerror
        where = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
        return f"{where}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _escaped(text: str) -> str:
    # Control and other unprintable characters (a NUL, an escape sequence, a newline, a lone
    # surrogate from an undecodable file name) as Python writes them in a string literal.
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def one_line(text: str) -> str:
    """``text`` as one bounded, printable line: unprintable characters escaped, every unbroken
    piece cut at :data:`MAX_PIECE` characters and the whole at :data:`MAX_LINE`."""
    text = re.sub(r"\S{%d,}" % (MAX_PIECE + 1), lambda m: m.group()[:MAX_PIECE] + ELLIPSIS, _escaped(text))
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + ELLIPSIS


def error_line(command: str | None, exc: BaseException) -> str:
    """The line ``codeit COMMAND: FAULT`` for a fault that stopped a command."""
    return one_line(f"codeit {command}: {describe_fault(exc)}" if command else f"codeit: {describe_fault(exc)}")
